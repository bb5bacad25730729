// Package stacktest runs the public services end to end through the whole
// local stack, as citizens use them: sign in at the OIDC provider (the
// device flow the simulated Diia app approves), apply over HTTP through the
// API gateway, and watch the application until the BPMN process — compiled,
// deployed and run by the engine, calling the real Lambdas, the simulated
// Trembita registries and the S3-compatible store — has finished.
package stacktest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/signer"
	"github.com/posluha/posluha/local/stack"
)

// openStack starts the whole stack on loopback ports chosen by the OS, with
// the services of the repository's statemachines/ folder.
func openStack(t *testing.T) *stack.Stack {
	s, _ := openStackIn(t, t.TempDir())
	return s
}

func openStackIn(t *testing.T, data string) (*stack.Stack, string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	services := filepath.Join(filepath.Dir(file), "..", "..", "statemachines")
	s, err := stack.Open(context.Background(), stack.Config{
		DataDir: data, Addr: "127.0.0.1:0", RegistriesAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0",
		StateMachines: services, ResumeParked: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if n := len(s.Deployer.Services()); n < 3 {
		t.Fatalf("%d services deployed, want the three demo services", n)
	}
	return s, data
}

// testWriter sends the stack's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// citizen is a signed-in citizen talking to the API.
type citizen struct {
	t     *testing.T
	api   string
	token string
	registries.Citizen
}

// signIn logs a test citizen in through the OIDC device flow: the portal
// shows a QR, the simulated Diia app approves it with the citizen's tax
// number, the portal polls for the token.
func signIn(t *testing.T, s *stack.Stack, c registries.Citizen) *citizen {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token, err := oidc.DeviceLogin(ctx, http.DefaultClient, s.OIDC.Issuer(), c.TaxNumber)
	if err != nil {
		t.Fatalf("sign in %s: %v", c.TaxNumber, err)
	}
	return &citizen{t: t, api: s.URLs()["api"], token: token, Citizen: c}
}

func (c *citizen) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", c.TaxNumber, time.Now().UnixNano()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 && resp.StatusCode < 400 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusTooManyRequests {
		c.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

type application struct {
	ID            string `json:"applicationId"`
	Status        string `json:"status"`
	StatusHistory []struct {
		Status, Step, Reason string
	} `json:"statusHistory"`
}

// apply submits an application and returns its id.
func (c *citizen) apply(service string, form map[string]any) string {
	c.t.Helper()
	var a application
	if code := c.do("POST", "/applications", map[string]any{"service": service, "form": form}, &a); code != http.StatusAccepted {
		c.t.Fatalf("apply for %s: %d", service, code)
	}
	return a.ID
}

// await polls the application until its status is final (or want).
func (c *citizen) await(id string, want ...string) application {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var a application
		switch code := c.do("GET", "/applications/"+id, nil, &a); code {
		case http.StatusOK:
		case http.StatusTooManyRequests: // the per-citizen rate limit: poll slower
			time.Sleep(time.Second)
			continue
		default:
			c.t.Fatalf("GET application %s: %d", id, code)
		}
		for _, w := range want {
			if a.Status == w {
				return a
			}
		}
		switch a.Status {
		case "done", "rejected", "failed", "cancelled":
			return a
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("application %s still %s: %+v", id, a.Status, a.StatusHistory)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *citizen) notifications() string {
	c.t.Helper()
	var out json.RawMessage
	c.do("GET", "/notifications", nil, &out)
	return string(out)
}

func citizenNamed(t *testing.T, last string) registries.Citizen {
	for _, c := range registries.Citizens() {
		if c.LastName == last {
			return c
		}
	}
	t.Fatalf("no test citizen %s", last)
	return registries.Citizen{}
}

// TestLockdownPayout: an eligible sole proprietor is paid once and told so;
// one who is not eligible is rejected; nobody sees another's application.
func TestLockdownPayout(t *testing.T) {
	s := openStack(t)
	fop := signIn(t, s, citizenNamed(t, "Мельник")) // FOP, group 2
	id := fop.apply("lockdown-payout", map[string]any{"iban": "UA213223130000026007233566001"})
	a := fop.await(id)
	if a.Status != "done" {
		t.Fatalf("payout ended %s: %+v", a.Status, a.StatusHistory)
	}
	if n := s.Registries.EffectivePayments(); n != 1 {
		t.Errorf("treasury made %d payments, want 1", n)
	}
	if n := fop.notifications(); !strings.Contains(n, id) {
		t.Errorf("no notification about %s: %s", id, n)
	}

	other := signIn(t, s, citizenNamed(t, "Бондаренко")) // FOP, group 3: not eligible
	if code := other.do("GET", "/applications/"+id, nil, nil); code != http.StatusNotFound {
		t.Errorf("another citizen reads the application: %d, want 404", code)
	}
	rid := other.apply("lockdown-payout", map[string]any{"iban": "UA213223130000026007233566002"})
	if r := other.await(rid); r.Status != "rejected" {
		t.Fatalf("group 3 ended %s, want rejected", r.Status)
	}
	if n := s.Registries.EffectivePayments(); n != 1 {
		t.Errorf("treasury made %d payments after a rejection, want 1", n)
	}
}

// TestPayoutSurvivesTreasuryOutage: the treasury is down when the payment
// is due; the write parks and completes once it is back, paying once.
func TestPayoutSurvivesTreasuryOutage(t *testing.T) {
	s := openStack(t)
	s.Registries.SetDown("treasury", true)
	fop := signIn(t, s, citizenNamed(t, "Мельник"))
	id := fop.apply("lockdown-payout", map[string]any{"iban": "UA213223130000026007233566001"})
	// The payment outlives its retries and parks (parkOnOutage in the BPMN).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		parked, err := s.EventWrite.Parked(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the payment never parked; application: %+v", fop.await(id))
		}
	}
	if n := s.Registries.EffectivePayments(); n != 0 {
		t.Fatalf("%d payments during the outage", n)
	}
	s.Registries.SetDown("treasury", false)
	if a := fop.await(id); a.Status != "done" {
		t.Fatalf("after the outage: %s %+v", a.Status, a.StatusHistory)
	}
	if n := s.Registries.EffectivePayments(); n != 1 {
		t.Errorf("treasury made %d payments, want exactly 1", n)
	}
}

// TestFOPRegistration: a citizen registers as a sole proprietor; the
// extract is a PDF in the S3-compatible store, downloadable through a
// short-lived presigned link.
func TestFOPRegistration(t *testing.T) {
	s := openStack(t)
	c := signIn(t, s, citizenNamed(t, "Шевченко")) // not yet a FOP
	id := c.apply("fop-registration", map[string]any{"kved": "62.01", "group": 2})
	if a := c.await(id); a.Status != "done" {
		t.Fatalf("FOP registration ended %s: %+v", a.Status, a.StatusHistory)
	}
	var docs struct {
		Items []struct {
			Number, URL string
		} `json:"items"`
	}
	if code := c.do("GET", "/applications/"+id+"/documents", nil, &docs); code != http.StatusOK || len(docs.Items) != 1 {
		t.Fatalf("documents: %d %+v", code, docs)
	}
	resp, err := http.Get(docs.Items[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("download: %d, %d bytes starting %q", resp.StatusCode, len(pdf), pdf[:min(len(pdf), 8)])
	}
	// Anyone can check the extract by its number (the QR code on it):
	// genuine, and nothing personal in the answer.
	resp, err = http.Get(strings.Replace(s.URLs()["verify"], "{number}", docs.Items[0].Number, 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"genuine":true`) || strings.Contains(string(body), c.TaxNumber) || strings.Contains(string(body), c.LastName) {
		t.Fatalf("public verification: %d %s", resp.StatusCode, body)
	}
	// Applying again while registered: the tax service says so, rejected.
	again := c.apply("fop-registration", map[string]any{"kved": "62.01", "group": 2})
	if a := c.await(again); a.Status != "rejected" {
		t.Fatalf("second registration ended %s, want rejected", a.Status)
	}
}

// TestEPropyska: one of two co-owners applies to register at the flat;
// both sign their consent through the simulated signing app (a forged
// signature is refused and the owner may try again), the military and
// migration registries are written, the certificate PDF and the signatures
// are in the S3-compatible store, the status is done and the citizen is
// notified.
func TestEPropyska(t *testing.T) {
	ctx := context.Background()
	s, data := openStackIn(t, t.TempDir())
	applicant := signIn(t, s, citizenNamed(t, "Шевченко"))
	coOwner := signIn(t, s, citizenNamed(t, "Олійник"))
	id := applicant.apply("e-propyska", map[string]any{"reestrNum": "1852963280000", "tck": "Печерський РТЦК та СП"})

	ca, err := signer.Open(filepath.Join(data, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	app := &signer.App{CA: ca, Dir: t.TempDir()}
	for i, who := range []*citizen{coOwner, applicant} {
		// The signing request the owner's app opens from its deeplink.
		rid := sign.RequestID(id, "co_owner_consent", who.TaxNumber)
		var hash string
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			v, err := s.Sign.View(ctx, rid)
			if err == nil {
				hash = v.Hash
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no signing request for %s: %v (application %+v)", who.LastName, err, applicant.await(id, "processing", "waiting"))
			}
		}
		if i == 0 {
			// Signed by somebody else's key: refused, the request stays open.
			forged, err := app.Sign(ctx, applicant.TaxNumber, hash)
			if err != nil {
				t.Fatal(err)
			}
			if code := who.do("POST", "/applications/"+id+"/signatures",
				map[string]any{"requestId": rid, "signature": base64.StdEncoding.EncodeToString(forged)}, nil); code != http.StatusUnprocessableEntity {
				t.Fatalf("forged signature: %d, want 422", code)
			}
		}
		der, err := app.Sign(ctx, who.TaxNumber, hash)
		if err != nil {
			t.Fatal(err)
		}
		if code := who.do("POST", "/applications/"+id+"/signatures",
			map[string]any{"requestId": rid, "signature": base64.StdEncoding.EncodeToString(der)}, nil); code != http.StatusAccepted {
			t.Fatalf("%s's signature: %d, want 202", who.LastName, code)
		}
	}
	a := applicant.await(id)
	if a.Status != "done" {
		t.Fatalf("e-Propyska ended %s: %+v", a.Status, a.StatusHistory)
	}
	for _, reg := range []string{"military", "migration"} {
		if st := s.Registries.Stats(reg); st.Requests == 0 {
			t.Errorf("registry %s was not called: %+v", reg, st)
		}
	}
	var docs struct {
		Items []struct {
			Number, URL string
			Signatures  []string
		} `json:"items"`
	}
	if code := applicant.do("GET", "/applications/"+id+"/documents", nil, &docs); code != http.StatusOK || len(docs.Items) != 1 {
		t.Fatalf("documents: %d %+v", code, docs)
	}
	resp, err := http.Get(docs.Items[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("certificate download: %d, %d bytes", resp.StatusCode, len(pdf))
	}
	// The owners' detached signatures are stored next to the documents.
	objects := listObjects(t, s)
	p7s := 0
	for _, k := range objects {
		if strings.HasSuffix(k, ".p7s") && strings.Contains(k, id) {
			p7s++
		}
	}
	if p7s < 3 { // two owners' consents and the e-seal of the certificate
		t.Errorf("signatures in S3 for %s: %d, want ≥ 3 (objects: %v)", id, p7s, objects)
	}
	if n := applicant.notifications(); !strings.Contains(n, id) {
		t.Errorf("no notification about %s: %s", id, n)
	}
}

// listObjects lists the documents bucket through the S3 protocol.
func listObjects(t *testing.T, s *stack.Stack) []string {
	t.Helper()
	c := awss3.NewFromConfig(s.AWSConfig(), func(o *awss3.Options) { o.UsePathStyle = true })
	out, err := c.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: awssdk.String("documents")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, awssdk.ToString(o.Key))
	}
	return keys
}
