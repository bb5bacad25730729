package pdfgen_test

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

// TestEvents decodes every events/pdfgen/*.json strictly, checks it
// round-trips through posluha.TaskRequest, and invokes the handler through
// aws-lambda-go as the runtime would.
func TestEvents(t *testing.T) {
	want := map[string]string{
		"certificate.json":      "",
		"extract.json":          "",
		"unknown-template.json": posluha.ErrDocumentTemplate,
	}
	files, err := filepath.Glob("../../events/pdfgen/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	f := newFixture(t)
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
