package pdfgen_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/kms"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/sign/cms"
)

// fakeSteps records the step events a handler reports.
type fakeSteps struct{ got []posluha.TaskRequest }

func (f *fakeSteps) Entered(_ context.Context, req *posluha.TaskRequest) error {
	f.got = append(f.got, *req)
	return nil
}

// TestStepEvents: rendering a document reports the step once with the
// application, service and step; an invalid task reports nothing.
func TestStepEvents(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "seal"},
		NotBefore: issued.AddDate(-1, 0, 0), NotAfter: issued.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	seal, err := kms.NewSeal(kms.NewLocal(key), cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	steps := &fakeSteps{}
	h := pdfgen.New(pdfgen.Deps{Templates: os.DirFS("../../statemachines"), Blobs: blob.NewMemory(), Seal: seal,
		Verifier: cms.NewVerifier(pool), VerifyURL: "https://posluha.example/verify/", Now: func() time.Time { return issued }, Steps: steps})
	ctx := context.Background()
	if _, err := h.Handle(ctx, certificateTask()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, posluha.TaskRequest{Step: "certificate"}); posluha.ErrorName(err) != posluha.ErrTaskInvalid {
		t.Fatalf("no application = %v", err)
	}
	want := certificateTask()
	if len(steps.got) != 1 || steps.got[0].ApplicationID != want.ApplicationID || steps.got[0].Service != "e-propyska" || steps.got[0].Step != "certificate" {
		t.Fatalf("step events %+v, want one for %s e-propyska certificate", steps.got, want.ApplicationID)
	}
}
