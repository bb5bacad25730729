package signer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/local/s3"
	"github.com/posluha/posluha/local/signer"
)

// fakeSFN answers SendTaskSuccess like the Step Functions JSON API.
type fakeSFN struct {
	mu   sync.Mutex
	done map[string]string
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ TaskToken, Output string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SendTaskSuccess") {
		http.Error(w, `{"__type":"InvalidRequest"}`, 400)
		return
	}
	f.mu.Lock()
	f.done[in.TaskToken] = in.Output
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	io.WriteString(w, "{}")
}

func writePEM(t *testing.T, file, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRoundTrip issues a certificate PDF into the local S3 store, has two
// co-owners sign it with the simulated app, checks every .p7s with openssl
// (Debian package openssl) and downloads the PDF through a presigned URL.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	dir := t.TempDir()
	ca, err := signer.Open(filepath.Join(dir, "ca"), now)
	if err != nil {
		t.Fatal(err)
	}
	sealKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealCert, err := ca.Seal("Posluha", sealKey.Public(), signer.Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := signer.MarshalKey(sealKey)
	os.WriteFile(filepath.Join(dir, "seal.key"), keyPEM, 0o600)
	writePEM(t, filepath.Join(dir, "seal.pem"), "CERTIFICATE", sealCert.Raw)

	store, err := s3.New(filepath.Join(dir, "s3"), s3.Options{Buckets: []string{"documents"}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sfn := &fakeSFN{done: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.") {
			sfn.ServeHTTP(w, r)
			return
		}
		store.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	env := map[string]string{
		"DOCUMENTS_BUCKET": "documents", "S3_PATH_STYLE": "true",
		"SEAL_CERT_FILE": filepath.Join(dir, "seal.pem"), "SEAL_KEY_FILE": filepath.Join(dir, "seal.key"),
		"TRUSTED_CA_FILE": filepath.Join(dir, "ca", "ca.pem"), "TEMPLATES_DIR": "../../statemachines",
		"SIGN_DB": filepath.Join(dir, "sign.db"), "VERIFY_URL": "http://127.0.0.1/verify/",
	}
	// a citizen whose certificate was revoked an hour ago
	revoked, err := ca.Citizen("3456789012", "Відкликаний", signer.ECDSA, signer.Validity{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	crl, err := ca.CRL(now.Add(-time.Hour), revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ca.crl"), crl, 0o600)
	env["TRUSTED_CRL_FILE"] = filepath.Join(dir, "ca.crl")
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)
	pdf, err := pdfgen.Wire(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	signing, err := sign.Wire(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}

	out, err := pdf.Handle(ctx, posluha.TaskRequest{ApplicationID: "app-42", Service: "e-propyska", Step: "certificate",
		Arguments: map[string]any{"template": "certificate", "fields": map[string]any{"name": "Коваленко Ірина", "address": "м. Львів, пл. Ринок, 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := out.Document

	owners := []string{"1234567890", "2345678901"}
	var sigKeys []string
	for i, tax := range owners {
		token := "token-" + tax
		opened, err := signing.Handle(ctx, posluha.TaskRequest{ApplicationID: "app-42", Service: "e-propyska", Step: "co_owner_sign", TaskToken: token,
			Arguments: map[string]any{"signer": tax, "document": map[string]any{"key": doc.Key, "sha256": doc.SHA256, "number": doc.Number}}})
		if err != nil {
			t.Fatal(err)
		}
		if opened.Hash != doc.SHA256 {
			t.Fatalf("request hash %s, document %s", opened.Hash, doc.SHA256)
		}
		alg := signer.ECDSA
		if i == 1 {
			alg = signer.RSA
		}
		citizen, err := ca.Citizen(tax, "Співвласник "+tax, alg, signer.Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		view, err := signing.View(ctx, opened.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		p7s, err := citizen.SignHash(ctx, view.Hash, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sig, err := signing.Submit(ctx, opened.RequestID, p7s)
		if err != nil {
			t.Fatalf("co-owner %d: %v", i, err)
		}
		if sfn.done[token] == "" {
			t.Fatalf("task %s not completed", token)
		}
		sigKeys = append(sigKeys, sig.Key)
	}

	// the revoked citizen is turned away with a specific reason
	opened, err := signing.Handle(ctx, posluha.TaskRequest{ApplicationID: "app-42", Service: "e-propyska", Step: "co_owner_sign", TaskToken: "token-revoked",
		Arguments: map[string]any{"signer": "3456789012", "document": map[string]any{"key": doc.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := revoked.SignHash(ctx, opened.Hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rej *sign.RejectedError
	if _, err := signing.Submit(ctx, opened.RequestID, bad); !errors.As(err, &rej) || rej.Reason != sign.ReasonRevoked {
		t.Fatalf("revoked certificate: %v", err)
	}

	// download through the presigned URL
	url, err := pdf.DownloadURL(ctx, doc.Key, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if sum := sha256.Sum256(body); resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != doc.SHA256 {
		t.Fatalf("presigned download: %d, %d bytes", resp.StatusCode, len(body))
	}

	v, err := pdf.Verify(ctx, doc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Genuine || len(v.Signatures) != 2 || !v.Signatures[0].Valid || !v.Signatures[1].Valid {
		t.Fatalf("verify = %+v", v)
	}
	if js, _ := json.Marshal(v); strings.Contains(string(js), owners[0]) || strings.Contains(string(js), "Коваленко") {
		t.Fatalf("public verification leaks personal data: %s", js)
	}

	// an independent check of every signature
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (Debian package openssl)")
	}
	pdfFile := filepath.Join(dir, "certificate.pdf")
	os.WriteFile(pdfFile, body, 0o600)
	for _, k := range append(sigKeys, doc.Seal) {
		u, err := pdf.DownloadURL(ctx, k, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		sresp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := io.ReadAll(sresp.Body)
		sresp.Body.Close()
		f := filepath.Join(dir, filepath.Base(k))
		os.WriteFile(f, der, 0o600)
		cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f, "-content", pdfFile,
			"-CAfile", filepath.Join(dir, "ca", "ca.pem"), "-purpose", "any", "-out", os.DevNull)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("openssl cms -verify %s: %v\n%s", k, err, out)
		}
	}
}
