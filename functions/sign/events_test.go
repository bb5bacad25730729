package sign_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/events/eventstest"
)

// TestEvents decodes every events/sign/*.json strictly, checks it
// round-trips through posluha.TaskRequest, and invokes the handler through
// aws-lambda-go as the runtime would.
func TestEvents(t *testing.T) {
	want := map[string]string{
		"co-owner-consent.json": "",
		"signed-document.json":  "",
		"no-task-token.json":    posluha.ErrTaskInvalid,
		"bad-signer.json":       posluha.ErrTaskInvalid,
	}
	files, err := filepath.Glob("../../events/sign/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	f := newFixture(t)
	f.blobs.Put(context.Background(), "e-propyska/2026/11/26/01JDQ8Z5K3M7V2X9C4B6N8P0RW/certificate.pdf", []byte("%PDF-1.4"), "application/pdf", nil)
	h := lambda.NewHandler(f.h.Lambda())
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			wantErr, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", name)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			eventstest.RoundTrip[posluha.TaskRequest](t, data)
			out, err := h.Invoke(context.Background(), data)
			var ive messages.InvokeResponse_Error
			got := ""
			if errors.As(err, &ive) {
				got = ive.Type
			} else if err != nil {
				t.Fatalf("error %v is not an InvokeResponse_Error", err)
			}
			if got != wantErr {
				t.Fatalf("Invoke = %s, %q; want error %q", out, got, wantErr)
			}
		})
	}
}
