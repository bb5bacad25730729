package feel

import (
	"errors"
	"testing"
)

var translateCases = []struct{ feel, want string }{}

func expectError(t *testing.T, src, want string) {
	t.Helper()
	_, err := Translate(src)
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("Translate(%q) = %v, want error %q", src, err, want)
		return
	}
	if got := e.Error(); got != want {
		t.Errorf("Translate(%q) error = %q, want %q", src, got, want)
	}
}
