package lambdaerr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/posluha/posluha"
)

// invoke runs h through aws-lambda-go's own handler and returns the error
// type and message the runtime would report to Step Functions.
func invoke(t *testing.T, h func(context.Context, json.RawMessage) (string, error)) (string, string) {
	t.Helper()
	_, err := lambda.NewHandler(h).Invoke(context.Background(), []byte(`{}`))
	if err == nil {
		return "", ""
	}
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive.Type, ive.Message
	}
	// The runtime names any other error by its Go type.
	return fmt.Sprintf("%T", err), err.Error()
}

func TestConvertNames(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	tests := []struct {
		name     string
		err      error
		wantType string
		wantMsg  string
	}{
		{"named", posluha.Errorf(posluha.ErrRegistryUnavailable, "registry down"), "Registry.Unavailable", "registry down"},
		{"wrapped named", fmt.Errorf("read owner: %w", posluha.Errorf(posluha.ErrRegistryNotFound, "no such owner")), "Registry.NotFound", "no such owner"},
		{"plain", errors.New("dial tcp 10.0.0.1: secret detail"), "Internal", "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := Handler(log, func(context.Context, json.RawMessage) (string, error) { return "", tc.err })
			typ, msg := invoke(t, h)
			if typ != tc.wantType || msg != tc.wantMsg {
				t.Errorf("Invoke = (%q, %q), want (%q, %q)", typ, msg, tc.wantType, tc.wantMsg)
			}
		})
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("internal error details not logged: %s", logs.String())
	}
}

func TestUnconvertedNamedErrorLosesItsName(t *testing.T) {
	// Documents why Convert exists: without it the runtime reports the Go type name.
	h := func(context.Context, json.RawMessage) (string, error) {
		return "", posluha.Errorf(posluha.ErrRegistryUnavailable, "down")
	}
	_, err := lambda.NewHandler(h).Invoke(context.Background(), []byte(`{}`))
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		t.Fatalf("runtime kept a name for a plain error: %v", ive)
	}
	if Convert(context.Background(), nil, nil) != nil {
		t.Fatal("Convert(nil) != nil")
	}
}
