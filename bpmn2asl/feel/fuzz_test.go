package feel

import (
	"errors"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzTranslate: Translate never panics, errors are positioned inside the
// source, and every translation has balanced brackets and quotes (the
// semantic test compiles a sample of outputs with jsonata itself).
func FuzzTranslate(f *testing.F) {
	for _, c := range semCases {
		f.Add(c.feel)
	}
	for _, c := range translateCases {
		f.Add(c.feel)
	}
	for _, s := range []string{"x in ]1..2[", "xs[a][b].c", `{"a": [1, {b: x}]}`, "if if a then b else c then 1 else 2", "- - -1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Translate(%q) hangs", src)) })
		defer watchdog.Stop()
		got, err := Translate(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Translate(%q) error %T is not *Error", src, err)
			}
			if e.Offset < 0 || e.Offset > len(src) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("Translate(%q) error position %+v out of range", src, e)
			}
			return
		}
		if msg := balanced(got); msg != "" {
			t.Fatalf("Translate(%q) = %s: %s", src, got, msg)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Translate(%q) = %q: invalid UTF-8", src, got)
		}
		if _, err := Names(src); err != nil {
			t.Fatalf("Names(%q) failed where Translate succeeded: %v", src, err)
		}
	})
}
