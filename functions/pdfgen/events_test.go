package pdfgen_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

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
	f := newFixture(t)
	eventstest.InvokeTasks(t, "../../events/pdfgen/*.json", lambda.NewHandler(f.h.Lambda()), want)
}
