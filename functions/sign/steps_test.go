package sign_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/functions/sign/cms"
)

// fakeSteps records the step events a handler reports.
type fakeSteps struct{ got []posluha.TaskRequest }

func (f *fakeSteps) Entered(_ context.Context, req *posluha.TaskRequest) error {
	f.got = append(f.got, *req)
	return nil
}

// TestStepEvents: opening a signing request reports the step once with the
// application, service and step; a task without its token reports nothing.
func TestStepEvents(t *testing.T) {
	pool := x509.NewCertPool()
	pool.AddCert(mustCA(t).cert)
	steps := &fakeSteps{}
	h := sign.New(sign.Deps{Store: sign.NewMemory(), Blobs: blob.NewMemory(), Tasks: &tasks{}, Verifier: cms.NewVerifier(pool),
		Now: func() time.Time { return t0 }, Steps: steps})
	ctx := context.Background()
	if _, err := h.Handle(ctx, consentTask("1111111111", "tok-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, consentTask("1111111111", "")); posluha.ErrorName(err) != posluha.ErrTaskInvalid {
		t.Fatalf("no token = %v", err)
	}
	if len(steps.got) != 1 || steps.got[0].ApplicationID != "app-1" || steps.got[0].Service != "e-propyska" || steps.got[0].Step != "co_owner_consent" {
		t.Fatalf("step events %+v, want one for app-1 e-propyska co_owner_consent", steps.got)
	}
}
