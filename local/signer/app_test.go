package signer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/functions/sign/cms"
	"github.com/posluha/posluha/local/signer"
)

func TestCLISignsVerifiably(t *testing.T) {
	dir := t.TempDir()
	doc := sha256.Sum256([]byte("згода"))
	var out bytes.Buffer
	if err := signer.RunCLI(context.Background(), []string{"--dir", dir, "--tax", "1234567890", "--hash", hex.EncodeToString(doc[:])}, &out); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := signer.Open(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.NewVerifier(ca.Pool()).Verify(der, doc[:], cms.Window{})
	if err != nil {
		t.Fatal(err)
	}
	if !sign.SignerMatches(cms.SubjectSerialNumber(sd.Signers[0].Certificate), "1234567890") {
		t.Errorf("signer = %q", cms.SubjectSerialNumber(sd.Signers[0].Certificate))
	}
	// the same citizen keeps the same certificate
	out.Reset()
	if err := signer.RunCLI(context.Background(), []string{"--dir", dir, "--tax", "1234567890", "--hash", hex.EncodeToString(doc[:])}, &out); err != nil {
		t.Fatal(err)
	}
	der2, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(out.String()))
	sd2, _ := cms.Parse(der2)
	if !sd2.Signers[0].Certificate.Equal(sd.Signers[0].Certificate) {
		t.Error("a second signature used a new certificate")
	}
	for _, args := range [][]string{{"--dir", dir, "--tax", "12", "--hash", hex.EncodeToString(doc[:])}, {"--dir", dir, "--tax", "1234567890", "--hash", "zz"}} {
		if err := signer.RunCLI(context.Background(), args, &out); err == nil {
			t.Errorf("RunCLI(%v) succeeded", args)
		}
	}
}

func TestEnv(t *testing.T) {
	dir := t.TempDir()
	env, err := signer.Env(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	again, err := signer.Env(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(env["SEAL_CERT_FILE"])
	b, _ := os.ReadFile(again["SEAL_CERT_FILE"])
	if !bytes.Equal(a, b) || env["TRUSTED_CA_FILE"] != filepath.Join(dir, "ca.pem") {
		t.Fatalf("Env not stable: %v %v", env, again)
	}
	if fi, _ := os.Stat(env["SEAL_KEY_FILE"]); fi.Mode().Perm() != 0o600 {
		t.Errorf("seal key mode %v", fi.Mode())
	}
}

func TestQRPage(t *testing.T) {
	h := signer.QRPage("posluha://sign")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sign?request=abc123", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<svg") || !strings.Contains(rec.Body.String(), "posluha://sign?request=abc123") {
		t.Fatalf("page = %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sign?request=%3Cscript%3E", nil))
	if rec.Code != 400 {
		t.Errorf("bad id = %d", rec.Code)
	}
}
