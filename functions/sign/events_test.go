package sign_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

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
	f := newFixture(t)
	f.blobs.Put(context.Background(), "e-propyska/2026/11/26/01JDQ8Z5K3M7V2X9C4B6N8P0RW/certificate.pdf", []byte("%PDF-1.4"), "application/pdf", nil)
	eventstest.InvokeTasks(t, "../../events/sign/*.json", lambda.NewHandler(f.h.Lambda()), want)
}
