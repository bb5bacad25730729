package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/functions/sign/cms"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// ca is a minimal test CA (local/signer is the full one; functions do not
// import local/).
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func mustCA(tb testing.TB) *ca {
	tb.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: t0.AddDate(-3, 0, 0), NotAfter: t0.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		tb.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{cert: c, key: k}
}

type citizen struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (c *ca) citizen(tb testing.TB, tax string, rsaKey bool, nb, na time.Time) *citizen {
	tb.Helper()
	var key crypto.Signer
	if rsaKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: n, Subject: pkix.Name{CommonName: "Співвласник", SerialNumber: "TINUA-" + tax},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &citizen{cert: cert, key: key}
}

func (c *citizen) sign(tb testing.TB, hashHex string, at time.Time) []byte {
	tb.Helper()
	d, _ := hex.DecodeString(hashHex)
	der, err := cms.Sign(context.Background(), d, cms.CryptoSigner{Signer: c.key}, c.cert, nil, at)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// tasks records SendTaskSuccess calls.
type tasks struct {
	mu   sync.Mutex
	done map[string]string
	err  error
}

func (f *tasks) SendTaskSuccess(_ context.Context, token, output string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.done == nil {
		f.done = map[string]string{}
	}
	f.done[token] = output
	return nil
}

type fixture struct {
	h     *sign.Handler
	blobs *blob.Memory
	tasks *tasks
	now   *time.Time
	ca    *ca
}

func newFixture(tb testing.TB) *fixture {
	now := t0
	f := &fixture{blobs: blob.NewMemory(), tasks: &tasks{}, now: &now, ca: mustCA(tb)}
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.cert)
	f.h = sign.New(sign.Deps{Store: sign.NewMemory(), Blobs: f.blobs, Tasks: f.tasks, Verifier: cms.NewVerifier(pool),
		Now: func() time.Time { return *f.now }})
	return f
}

func consentTask(signer, token string) posluha.TaskRequest {
	return posluha.TaskRequest{ApplicationID: "app-1", Service: "e-propyska", Step: "co_owner_consent", TaskToken: token,
		Arguments: map[string]any{"document": "consent", "signer": signer, "signerName": "Олена Петренко", "address": "м. Київ, вул. Хрещатик, 1"}}
}

func TestTwoCoOwnersSignInAnyOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owners := []struct{ tax, token string }{{"1111111111", "tok-1"}, {"2222222222", "tok-2"}}
	var opened []sign.Opened
	for _, o := range owners {
		op, err := f.h.Handle(ctx, consentTask(o.tax, o.token))
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, op)
	}
	if opened[0].RequestID == opened[1].RequestID || opened[0].Hash == opened[1].Hash {
		t.Fatal("co-owners share a request")
	}
	// the second co-owner signs first
	for i := len(owners) - 1; i >= 0; i-- {
		c := f.ca.citizen(t, owners[i].tax, i == 0, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
		*f.now = f.now.Add(time.Hour)
		v, err := f.h.View(ctx, opened[i].RequestID)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := f.h.Submit(ctx, opened[i].RequestID, c.sign(t, v.Hash, *f.now))
		if err != nil {
			t.Fatalf("owner %d: %v", i, err)
		}
		var out struct{ Signature sign.Signature }
		if err := json.Unmarshal([]byte(f.tasks.done[owners[i].token]), &out); err != nil {
			t.Fatalf("task output %q: %v", f.tasks.done[owners[i].token], err)
		}
		if out.Signature.Signer != owners[i].tax || out.Signature.Key != sig.Key || !strings.HasSuffix(sig.Key, ".p7s") {
			t.Errorf("output %+v, signature %+v", out.Signature, sig)
		}
		if _, _, err := f.blobs.Get(ctx, sig.Key); err != nil {
			t.Errorf(".p7s not stored: %v", err)
		}
		text, _, err := f.blobs.Get(ctx, sig.DocumentKey)
		if err != nil || !strings.Contains(string(text), "надаю згоду") {
			t.Errorf("consent text %q, %v", text, err)
		}
	}
	if len(f.tasks.done) != 2 {
		t.Fatalf("tasks done = %v", f.tasks.done)
	}
}

func TestRejectedSignatures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	op, err := f.h.Handle(ctx, consentTask("1111111111", "tok"))
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	*f.now = at
	valid := [2]time.Time{t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0)}
	owner := f.ca.citizen(t, "1111111111", false, valid[0], valid[1])
	other := f.ca.citizen(t, "3333333333", false, valid[0], valid[1])
	expired := f.ca.citizen(t, "1111111111", false, t0.AddDate(-2, 0, 0), t0.AddDate(-1, 0, 0))
	stranger := mustCA(t).citizen(t, "1111111111", false, valid[0], valid[1])
	wrongHash := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		der    []byte
		reason string
	}{
		{"wrong signer", other.sign(t, op.Hash, at), sign.ReasonWrongSigner},
		{"wrong hash", owner.sign(t, wrongHash, at), sign.ReasonWrongDocument},
		{"expired certificate", expired.sign(t, op.Hash, at), sign.ReasonCertificateExpired},
		{"untrusted CA", stranger.sign(t, op.Hash, at), sign.ReasonUntrusted},
		{"garbage", []byte("not a signature"), sign.ReasonMalformed},
		{"empty", nil, sign.ReasonMalformed},
		{"signed before the request", owner.sign(t, op.Hash, t0.Add(-time.Hour)), sign.ReasonSigningTime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.h.Submit(ctx, op.RequestID, tc.der)
			var rej *sign.RejectedError
			if !errors.As(err, &rej) || rej.Reason != tc.reason {
				t.Fatalf("Submit = %v, want reason %s", err, tc.reason)
			}
			if posluha.ErrorName(err) != posluha.ErrSignatureInvalid {
				t.Errorf("name = %s", posluha.ErrorName(err))
			}
		})
	}
	if len(f.tasks.done) != 0 {
		t.Fatal("a rejected signature completed the task")
	}
	// the signer may try again
	good := owner.sign(t, op.Hash, at)
	if _, err := f.h.Submit(ctx, op.RequestID, good); err != nil {
		t.Fatalf("good signature after rejections: %v", err)
	}
	if _, err := f.h.Submit(ctx, op.RequestID, good); err != nil {
		t.Errorf("same signature again = %v, want ok", err)
	}
	if _, err := f.h.Submit(ctx, op.RequestID, owner.sign(t, op.Hash, at)); posluha.ErrorName(err) != posluha.ErrApplicationConflict {
		t.Errorf("another signature = %v, want Application.Conflict", err)
	}
	if _, err := f.h.Submit(ctx, "nope", good); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("unknown request = %v", err)
	}
	// a retried task for the signed request is answered at once
	if _, err := f.h.Handle(ctx, consentTask("1111111111", "tok-retry")); err != nil {
		t.Fatal(err)
	}
	if f.tasks.done["tok-retry"] == "" {
		t.Error("retried task for a signed request was not answered")
	}
}

func TestRetriedTaskKeepsRequest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	op, err := f.h.Handle(ctx, consentTask("1111111111", "tok-1"))
	if err != nil {
		t.Fatal(err)
	}
	owner := f.ca.citizen(t, "1111111111", false, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	der := owner.sign(t, op.Hash, t0.Add(time.Minute)) // signed on the phone…
	*f.now = t0.Add(10 * time.Minute)
	again, err := f.h.Handle(ctx, consentTask("1111111111", "tok-2")) // …while the task was retried
	if err != nil || again.RequestID != op.RequestID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	if _, err := f.h.Submit(ctx, op.RequestID, der); err != nil {
		t.Fatalf("signature made before the retry: %v", err)
	}
	if f.tasks.done["tok-2"] == "" || f.tasks.done["tok-1"] != "" {
		t.Errorf("answered %v, want the retried task's token", f.tasks.done)
	}
}

func TestDeadline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	op, err := f.h.Handle(ctx, consentTask("1111111111", "tok"))
	if err != nil {
		t.Fatal(err)
	}
	*f.now = t0.Add(31 * 24 * time.Hour)
	owner := f.ca.citizen(t, "1111111111", false, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	if _, err := f.h.Submit(ctx, op.RequestID, owner.sign(t, op.Hash, *f.now)); posluha.ErrorName(err) != posluha.ErrSignatureExpired {
		t.Fatalf("after the deadline = %v, want Signature.Expired", err)
	}
	// the process stopped waiting (BPMN timer fired): the token is gone
	*f.now = t0.Add(time.Hour)
	f.tasks.err = posluha.Errorf(posluha.ErrSignatureExpired, "gone")
	if _, err := f.h.Submit(ctx, op.RequestID, owner.sign(t, op.Hash, *f.now)); posluha.ErrorName(err) != posluha.ErrSignatureExpired {
		t.Fatalf("token gone = %v, want Signature.Expired", err)
	}
	if v, _ := f.h.View(ctx, op.RequestID); v.Status != sign.StatusExpired {
		t.Errorf("status = %s, want expired", v.Status)
	}
}

func TestHandleInvalid(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		req  posluha.TaskRequest
	}{
		{"no token", consentTask("1111111111", "")},
		{"bad signer", consentTask("12AB", "tok")},
		{"no application", posluha.TaskRequest{Step: "s", TaskToken: "t"}},
		{"document without key", posluha.TaskRequest{ApplicationID: "a", Step: "s", TaskToken: "t", Arguments: map[string]any{"signer": "1111111111", "document": map[string]any{}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.h.Handle(context.Background(), tc.req); posluha.ErrorName(err) != posluha.ErrTaskInvalid {
				t.Fatalf("Handle = %v, want Task.Invalid", err)
			}
		})
	}
}

func TestStoredDocument(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pdf := []byte("%PDF-1.4 certificate")
	key := "e-propyska/2026/11/26/app-1/certificate.pdf"
	f.blobs.Put(ctx, key, pdf, "application/pdf", nil)
	req := consentTask("1111111111", "tok")
	req.Arguments["document"] = map[string]any{"key": key, "number": "EP-1"}
	op, err := f.h.Handle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	owner := f.ca.citizen(t, "1111111111", false, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	sig, err := f.h.Submit(ctx, op.RequestID, owner.sign(t, op.Hash, t0))
	if err != nil {
		t.Fatal(err)
	}
	if want := "e-propyska/2026/11/26/app-1/certificate." + op.RequestID + ".p7s"; sig.Key != want {
		t.Errorf("key = %s, want %s", sig.Key, want)
	}
	req.Arguments["document"] = map[string]any{"key": key, "sha256": strings.Repeat("0", 64)}
	if _, err := f.h.Handle(ctx, req); posluha.ErrorName(err) != posluha.ErrTaskInvalid {
		t.Errorf("changed document = %v", err)
	}
}

func BenchmarkSubmit(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	owner := f.ca.citizen(b, "1111111111", false, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := consentTask("1111111111", "tok")
		req.ApplicationID = "app-" + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)})
		op, err := f.h.Handle(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.h.Submit(ctx, op.RequestID, owner.sign(b, op.Hash, t0)); err != nil {
			b.Fatal(err)
		}
	}
}
