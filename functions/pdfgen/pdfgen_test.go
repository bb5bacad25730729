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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/kms"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/sign/cms"
)

type fixture struct {
	h     *pdfgen.Handler
	blobs *blob.Memory
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Послуга: електронна печатка", Organization: []string{"Posluha"}},
		NotBefore: issued.AddDate(-1, 0, 0), NotAfter: issued.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	seal, err := kms.NewSeal(kms.NewLocal(key), cert)
	if err != nil {
		tb.Fatal(err)
	}
	seal.Now = func() time.Time { return issued }
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	f := &fixture{blobs: blob.NewMemory()}
	f.h = pdfgen.New(pdfgen.Deps{Templates: os.DirFS("../../statemachines"), Blobs: f.blobs, Seal: seal, Verifier: cms.NewVerifier(pool),
		VerifyURL: "https://posluha.example/verify/", Now: func() time.Time { return issued }})
	return f
}

func certificateTask() posluha.TaskRequest {
	return posluha.TaskRequest{ApplicationID: "0f8fad5b-d9cb-469f-a165-70867728950e", Service: "e-propyska", Step: "certificate",
		Arguments: map[string]any{"template": "certificate", "fields": certificatePage().Fields}}
}

func TestIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out, err := f.h.Handle(ctx, certificateTask())
	if err != nil {
		t.Fatal(err)
	}
	d := out.Document
	if !regexp.MustCompile(`^e-propyska/2026/11/26/0f8fad5b-d9cb-469f-a165-70867728950e/certificate\.pdf$`).MatchString(d.Key) {
		t.Errorf("key = %s", d.Key)
	}
	if !regexp.MustCompile(`^EP-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(d.Number) || len(d.SHA256) != 64 {
		t.Errorf("document = %+v", d)
	}
	info, err := f.blobs.Head(ctx, d.Key)
	if err != nil || info.Metadata["sha256"] != d.SHA256 || info.ContentType != "application/pdf" {
		t.Fatalf("stored %+v, %v", info, err)
	}
	again, err := f.h.Handle(ctx, certificateTask())
	if err != nil || again.Document != d {
		t.Fatalf("retry = %+v, %v; want the same document", again.Document, err)
	}

	v, err := f.h.Verify(ctx, strings.ToLower(d.Number))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Found || !v.Genuine || v.Seal == nil || !v.Seal.Valid || v.Seal.Organization != "Posluha" {
		t.Fatalf("verify = %+v seal %+v", v, v.Seal)
	}
	for _, n := range []string{"EP-0000-0000-0000", "garbage", ""} {
		if v, err := f.h.Verify(ctx, n); err != nil || v.Found {
			t.Errorf("Verify(%q) = %+v, %v", n, v, err)
		}
	}
	// a changed file is not genuine
	f.blobs.Put(ctx, d.Key, []byte("%PDF-1.4 forged"), "application/pdf", nil)
	if v, _ := f.h.Verify(ctx, d.Number); v.Genuine || v.Seal.Valid {
		t.Errorf("forged document verified: %+v %+v", v, v.Seal)
	}
	url, err := f.h.DownloadURL(ctx, d.Key, 5*time.Minute)
	if err != nil || !strings.Contains(url, "certificate.pdf") {
		t.Errorf("DownloadURL = %s, %v", url, err)
	}
}

func TestHandleErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"no template", map[string]any{}, posluha.ErrTaskInvalid},
		{"unknown template", map[string]any{"template": "nope"}, posluha.ErrDocumentTemplate},
		{"path in template", map[string]any{"template": "../e-propyska/service"}, posluha.ErrDocumentTemplate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := certificateTask()
			req.Arguments = tc.args
			if _, err := f.h.Handle(context.Background(), req); posluha.ErrorName(err) != tc.want {
				t.Fatalf("Handle = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"ok", "title: T\ntable:\n  rows: [[a, b], [c, d]]\n", ""},
		{"no title", "paragraphs: [x]\n", posluha.ErrDocumentTemplate},
		{"unknown key", "title: T\ncolour: red\n", posluha.ErrDocumentTemplate},
		{"ragged table", "title: T\ntable:\n  header: [a, b]\n  rows: [[a]]\n", posluha.ErrDocumentTemplate},
		{"bad yaml", "title: [\n", posluha.ErrDocumentTemplate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pdfgen.ParseTemplate([]byte(tc.yaml))
			if got := posluha.ErrorName(err); got != tc.want {
				t.Fatalf("ParseTemplate = %v, want %q", err, tc.want)
			}
		})
	}
	// every service's document templates parse
	for _, svc := range []struct{ service, id string }{{"e-propyska", "certificate"}, {"fop-registration", "extract"}} {
		mustTemplate(t, svc.service, svc.id)
	}
}

func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	req := certificateTask()
	cpu := cpuTime()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req.ApplicationID = big.NewInt(int64(i)).String()
		if _, err := f.h.Handle(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportPerCore(b, cpu, "docs")
}
