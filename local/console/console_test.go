package console

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/scenario"
	"github.com/posluha/posluha/query/value"
)

const payDefinition = `{
  "StartAt": "Submitted",
  "States": {
    "Submitted": {"Type": "Pass", "Comment": "bpmn:submitted", "Next": "Pay"},
    "Pay": {"Type": "Task", "Comment": "bpmn:pay", "Resource": "arn:aws:lambda:local:000000000000:function:pay", "End": true}
  }
}`

// env is the console on an engine with a MemStore behind the bus feed,
// a local OIDC provider and a fake payment Lambda.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	eng     *engine.Engine
	bus     *bus.Bus
	proj    *Projection
	audit   *Audit
	idp     *oidc.Provider
	machine string
	support string
}

func newEnv(t *testing.T, pay func(in map[string]any) (any, error)) *env {
	t.Helper()
	inv := engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		raw, _ := json.Marshal(c.Input)
		var in map[string]any
		json.Unmarshal(raw, &in)
		return pay(in)
	})
	return newEnvWith(t, "lockdown-payout", payDefinition, inv, nil)
}

// newEnvWith deploys definition as machine name; diagram, when set, serves
// the BPMN diagrams.
func newEnvWith(t *testing.T, name, definition string, inv engine.Invoker, diagram func(context.Context, string) ([]byte, error), opts ...func(*support.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{t: t}
	b, err := bus.Open(filepath.Join(dir, "bus.db"), bus.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e.bus = b
	t.Cleanup(func() { b.Close() })
	feed := bus.NewFeed(engine.NewMemStore(), b)
	e.proj = mustProjection(t)
	b.Subscribe("console", e.proj.Apply)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.eng = engine.New(engine.Config{Store: feed, Invoker: inv, Region: "local", Account: "000000000000"})
	if err := e.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.eng.Close() })
	sm, err := e.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: name, Definition: definition})
	if err != nil {
		t.Fatal(err)
	}
	e.machine = sm.ARN
	if e.audit, err = OpenAudit(filepath.Join(dir, "audit.jsonl")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.audit.Close() })

	if e.idp, err = oidc.New(oidc.Options{Support: []string{"staff-7"}}); err != nil {
		t.Fatal(err)
	}
	idpSrv := httptest.NewServer(e.idp.Handler())
	t.Cleanup(idpSrv.Close)
	e.idp.SetIssuer(idpSrv.URL)
	kid, pub := e.idp.PublicKey()
	verifier := gateway.New(nil, gateway.Options{Issuer: idpSrv.URL, Audience: e.idp.Audience(),
		Keys: func(context.Context) (map[string]*rsa.PublicKey, error) {
			return map[string]*rsa.PublicKey{kid: pub}, nil
		}})
	mux := http.NewServeMux()
	deps := support.Deps{
		Projection: e.proj, Audit: e.audit, Verifier: verifier, Issuer: idpSrv.URL,
		Executions: &EngineExecutions{Engine: e.eng}, Sync: b.Sync,
		Diagram: diagram, BPMNJS: BPMNJS(scenario.NodeModules(".")),
	}
	for _, o := range opts {
		o(&deps)
	}
	support.Mount(mux, deps)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	if e.support, err = e.idp.SupportToken("staff-7"); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs an application's execution until it stops or parks and the
// projection has seen it.
func (e *env) start(id, input string) *engine.Execution {
	e.t.Helper()
	ctx := context.Background()
	x, err := e.eng.StartExecution(ctx, engine.StartInput{MachineARN: e.machine, Name: id, Input: input})
	if err != nil {
		e.t.Fatal(err)
	}
	if x, err = e.eng.AwaitSettled(ctx, x.ARN); err != nil {
		e.t.Fatal(err)
	}
	if err := e.bus.Sync(ctx); err != nil {
		e.t.Fatal(err)
	}
	return x
}

func (e *env) do(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t, func(map[string]any) (any, error) { return map[string]any{}, nil })
	citizen, _ := e.idp.TokenFor("1234567890", "Тарас Шевченко", "1990-03-09")
	partner, _ := e.idp.PartnerToken("bank")
	foreign, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "support"}).SignedString([]byte("k"))
	routes := []struct{ method, path string }{
		{"GET", "/console/"},
		{"GET", "/console/api/services"},
		{"GET", "/console/api/failed"},
		{"GET", "/console/api/search?q=app-1"},
		{"GET", "/console/api/applications/app-1"},
		{"POST", "/console/api/applications/app-1/redrive"},
		{"POST", "/console/api/applications/app-1/cancel"},
		{"GET", "/console/api/audit"},
	}
	tokens := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"forged token", foreign, http.StatusUnauthorized},
		{"citizen", citizen, http.StatusForbidden},
		{"partner", partner, http.StatusForbidden},
	}
	for _, r := range routes {
		for _, tk := range tokens {
			t.Run(tk.name+" "+r.method+" "+r.path, func(t *testing.T) {
				if got, _ := e.do(r.method, r.path, tk.token, nil); got != tk.want {
					t.Errorf("status %d, want %d", got, tk.want)
				}
			})
		}
	}
	e.start("app-1", `{"applicationId":"app-1"}`)
	for _, r := range routes[:5] {
		if got, body := e.do(r.method, r.path, e.support, nil); got != http.StatusOK {
			t.Errorf("support %s %s: %d %v", r.method, r.path, got, body)
		}
	}
	// The page without a session is the sign-in page, answered with 401.
	resp, err := http.Get(e.srv.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(page), `id="sign-in"`) {
		t.Errorf("page without a session: %d", resp.StatusCode)
	}
}

// TestSignIn runs the device flow through the console: support gets a
// cookie session, a citizen gets 403 and none.
func TestSignIn(t *testing.T) {
	e := newEnv(t, func(map[string]any) (any, error) { return map[string]any{}, nil })
	ctx := context.Background()
	login := func(who string) *http.Response {
		resp, err := http.Post(e.srv.URL+"/console/login", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var d oidc.DeviceAuthorization
		json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err := oidc.Approve(ctx, http.DefaultClient, d.VerificationURIComplete, who); err != nil {
			t.Fatal(err)
		}
		resp, err = http.PostForm(e.srv.URL+"/console/login/token", url.Values{"device_code": {d.DeviceCode}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := login("staff-7")
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "posluha_console" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusOK || session == nil || !session.HttpOnly {
		t.Fatalf("support sign-in: %d, cookie %v", resp.StatusCode, session)
	}
	get := func(method, path string, hdr bool) int {
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		req.AddCookie(session)
		if hdr {
			req.Header.Set("X-Console", "1")
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if got := get("GET", "/console/api/services", false); got != http.StatusOK {
		t.Errorf("cookie session GET: %d", got)
	}
	if got := get("POST", "/console/api/applications/none/redrive", false); got != http.StatusForbidden {
		t.Errorf("cookie POST without X-Console: %d, want 403", got)
	}
	if got := get("POST", "/console/api/applications/none/redrive", true); got != http.StatusNotFound {
		t.Errorf("cookie POST with X-Console: %d, want 404", got)
	}
	resp = login(registries.Citizens()[0].TaxNumber)
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("citizen sign-in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	entries, _ := e.audit.List(context.Background(), "", 0)
	if len(entries) != 1 || entries[0].Action != support.ActionSignedIn || entries[0].Actor != "staff-7" {
		t.Errorf("audit after sign-ins: %+v", entries)
	}
}

// TestRedriveThroughEngine: the payment fails once; support redrives it
// from the console and it succeeds; the audit log has who, what, before
// and after.
func TestRedriveThroughEngine(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, func(map[string]any) (any, error) {
		if calls.Add(1) == 1 {
			return nil, &engine.Failure{Name: "Treasury.Unavailable", Cause: "maintenance window"}
		}
		return map[string]any{"paymentId": "P-1"}, nil
	})
	x := e.start("app-1", `{"applicationId":"app-1","service":"lockdown-payout","citizen":{"taxNumber":"1234567890"}}`)
	if x.Status != engine.StatusFailed {
		t.Fatalf("status %s, want FAILED", x.Status)
	}
	code, list := e.do("GET", "/console/api/failed", e.support, nil)
	apps, _ := list["applications"].([]any)
	if code != 200 || len(apps) != 1 {
		t.Fatalf("failed list: %d %v", code, list)
	}
	first := apps[0].(map[string]any)
	if first["failedStep"] != "pay" || first["error"] != "Treasury.Unavailable" || first["citizen"] != "******7890" {
		t.Errorf("failed entry %v", first)
	}
	code, found := e.do("GET", "/console/api/search?q=1234567890", e.support, nil)
	if hits, _ := found["applications"].([]any); code != 200 || len(hits) != 1 {
		t.Errorf("search by citizen: %d %v", code, found)
	}
	if code, _ := e.do("GET", "/console/api/stuck?olderThan=soon", e.support, nil); code != http.StatusBadRequest {
		t.Errorf("stuck with a bad duration: %d", code)
	}
	if all, _ := e.audit.List(context.Background(), "", 0); len(all) != 1 || all[0].Action != support.ActionView || all[0].Reason != "search by citizen" {
		t.Errorf("search by citizen not audited: %+v", all)
	}
	code, d := e.do("GET", "/console/api/applications/app-1", e.support, nil)
	if code != 200 || d["stepData"] == nil || d["citizen"] != "1234567890" {
		t.Fatalf("detail: %d %v", code, d)
	}
	code, res := e.do("POST", "/console/api/applications/app-1/redrive", e.support, map[string]any{"reason": "treasury is back"})
	if code != 200 {
		t.Fatalf("redrive: %d %v", code, res)
	}
	if x, _ = e.eng.AwaitSettled(context.Background(), x.ARN); x.Status != engine.StatusSucceeded {
		t.Fatalf("after redrive: %s", x.Status)
	}
	e.bus.Sync(context.Background())
	a, _ := e.proj.Get(context.Background(), "app-1")
	if a.Status != "SUCCEEDED" || a.RedriveCount != 1 {
		t.Errorf("projection after redrive: %s, %d redrives", a.Status, a.RedriveCount)
	}
	entries, _ := e.audit.List(context.Background(), "app-1", 0)
	if len(entries) != 2 || entries[0].Action != support.ActionRedrive || entries[1].Action != support.ActionView {
		t.Fatalf("audit: %+v", entries)
	}
	r := entries[0]
	if r.Actor != "staff-7" || r.Reason != "treasury is back" || r.Outcome != "ok" ||
		!strings.Contains(string(r.Before), `"FAILED"`) || !strings.Contains(string(r.After), `"redriveCount":1`) {
		t.Errorf("redrive entry %+v (before %s, after %s)", r, r.Before, r.After)
	}
	// A second redrive of a finished execution is refused, and audited.
	if code, _ := e.do("POST", "/console/api/applications/app-1/redrive", e.support, nil); code != http.StatusConflict {
		t.Errorf("redrive of SUCCEEDED: %d, want 409", code)
	}
	entries, _ = e.audit.List(context.Background(), "app-1", 1)
	if entries[0].Outcome == "ok" {
		t.Errorf("refused redrive audited as ok: %+v", entries[0])
	}
}

// TestResend: the payment refuses a bad account; support fixes the step's
// input and the execution continues with it.
func TestResend(t *testing.T) {
	e := newEnv(t, func(in map[string]any) (any, error) {
		if in["account"] != "UA213223130000026007233566001" {
			return nil, &engine.Failure{Name: "Payment.BadAccount", Cause: "no such account"}
		}
		return map[string]any{"paymentId": "P-2"}, nil
	})
	x := e.start("app-2", `{"applicationId":"app-2","account":"UA00"}`)
	if x.Status != engine.StatusFailed {
		t.Fatalf("status %s", x.Status)
	}
	tests := []struct {
		name string
		body map[string]any
		want int
	}{
		{"input not JSON", map[string]any{"input": json.RawMessage(`{`)}, http.StatusBadRequest},
		{"variables not an object", map[string]any{"input": map[string]any{}, "variables": []int{1}}, http.StatusBadRequest},
		{"unknown field", map[string]any{"input": map[string]any{}, "extra": 1}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := e.do("POST", "/console/api/applications/app-2/resend", e.support, tc.body); code != tc.want {
				t.Errorf("status %d (%v), want %d", code, body, tc.want)
			}
		})
	}
	fixed := map[string]any{"applicationId": "app-2", "account": "UA213223130000026007233566001"}
	code, res := e.do("POST", "/console/api/applications/app-2/resend", e.support, map[string]any{"input": fixed, "variables": map[string]any{}, "reason": "typo in IBAN"})
	if code != 200 {
		t.Fatalf("resend: %d %v", code, res)
	}
	if x, _ = e.eng.AwaitSettled(context.Background(), x.ARN); x.Status != engine.StatusSucceeded {
		t.Fatalf("after resend: %s", x.Status)
	}
	entries, _ := e.audit.List(context.Background(), "app-2", 1)
	r := entries[0]
	if r.Action != support.ActionResend || !strings.Contains(string(r.Before), `"UA00"`) || !strings.Contains(string(r.After), "UA2132231300") {
		t.Errorf("resend entry: %+v (before %s after %s)", r, r.Before, r.After)
	}
}

// TestCancel: cancelling needs a reason; the execution is aborted with it.
func TestCancel(t *testing.T) {
	apps := &fakeApplications{m: map[string]*posluha.Application{
		"app-3": {ID: "app-3", Status: posluha.StatusWaiting, Step: "await_owner"},
	}}
	e := newEnvWith(t, "lockdown-payout", payDefinition, engine.InvokerFunc(func(context.Context, *engine.Call) (any, error) {
		return nil, nil // a callback task: it parks until its token is answered
	}), nil, func(d *support.Deps) { d.Applications = apps })
	ctx := context.Background()
	// A definition that parks on a token so the execution stays RUNNING.
	sm, err := e.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "e-propyska", Definition: `{"QueryLanguage":"JSONata","StartAt":"Wait","States":{"Wait":{"Type":"Task","Comment":"bpmn:await_owner","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Arguments":{"FunctionName":"f","Payload":{}},"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: "app-3", Input: `{"applicationId":"app-3","service":"e-propyska"}`})
	if err != nil {
		t.Fatal(err)
	}
	e.eng.AwaitSettled(ctx, x.ARN)
	e.bus.Sync(ctx)
	if a, _ := e.proj.Get(context.Background(), "app-3"); a == nil || a.Status != "RUNNING" || len(a.Steps) != 1 || a.Steps[0] != "await_owner" {
		t.Fatalf("projection before cancel: %+v", a)
	}
	if code, _ := e.do("POST", "/console/api/applications/app-3/cancel", e.support, map[string]any{}); code != http.StatusBadRequest {
		t.Errorf("cancel without a reason: %d, want 400", code)
	}
	if code, res := e.do("POST", "/console/api/applications/app-3/cancel", e.support, map[string]any{"reason": "duplicate application"}); code != 200 {
		t.Fatalf("cancel: %d %v", code, res)
	}
	got, _ := e.eng.DescribeExecution(ctx, x.ARN)
	if got.Status != engine.StatusAborted || got.Cause != "duplicate application" || got.Error != "Support.Cancelled" {
		t.Errorf("execution after cancel: %s %s %s", got.Status, got.Error, got.Cause)
	}
	entries, _ := e.audit.List(context.Background(), "app-3", 0)
	if len(entries) != 2 || entries[0].Action != support.ActionCancel || entries[0].Outcome != "ok" || entries[1].Outcome == "ok" {
		t.Errorf("audit: %+v", entries)
	}
	a, _ := e.proj.Get(context.Background(), "app-3")
	if a.Status != "ABORTED" {
		t.Errorf("projection after cancel: %s", a.Status)
	}
	rec := apps.m["app-3"]
	if rec.Status != posluha.StatusCancelled || rec.StatusHistory[len(rec.StatusHistory)-1].Reason != "duplicate application" {
		t.Errorf("application record after cancel: %+v", rec)
	}
}

func TestAuditChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{support.ActionView, support.ActionRedrive, support.ActionCancel} {
		if _, err := a.Append(context.Background(), support.Entry{Actor: "s", Action: act, ApplicationID: "x", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	if a, err = OpenAudit(path); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	a.Close()
	b, _ := os.ReadFile(path)
	tampered := bytes.Replace(b, []byte(`"redrive"`), []byte(`"view"`), 1)
	if err := os.WriteFile(path, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAudit(path); err == nil || !strings.Contains(err.Error(), "chain broken") {
		t.Errorf("tampered log opened: %v", err)
	}
}

// TestLocalRestart: the projection and the bus survive a restart of the
// local parts, and executions saved while the bus was down come through.
func TestLocalRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := engine.NewMemStore()
	run := func(id string) {
		l, err := OpenLocal(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		feed := l.Feed(store)
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
		eng := engine.New(engine.Config{Store: feed, Invoker: engine.InvokerFunc(func(context.Context, *engine.Call) (any, error) { return val(map[string]any{}), nil })})
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		sm, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "lockdown-payout", Definition: payDefinition})
		if err != nil {
			t.Fatal(err)
		}
		x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: id, Input: `{}`})
		if err != nil {
			t.Fatal(err)
		}
		eng.AwaitSettled(ctx, x.ARN)
		if err := l.Bus.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run("app-a")
	run("app-b")
	// A lost projection is rebuilt from the engine's store at the next start.
	if err := os.Remove(filepath.Join(dir, "console.db")); err != nil {
		t.Fatal(err)
	}
	run("app-c")
	p, err := OpenProjection(filepath.Join(dir, "console.db"), ProjectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	counts, _ := p.StatusCounts(context.Background())
	if counts["lockdown-payout"]["SUCCEEDED"] != 3 {
		t.Errorf("after three runs and a rebuild: %v", counts)
	}
}

// TestResendVariables: in compiled (JSONata) services the data lives in
// variables; fixing a variable and resending reaches the task.
func TestResendVariables(t *testing.T) {
	const def = `{"QueryLanguage":"JSONata","StartAt":"Submitted","States":{
	  "Submitted":{"Type":"Pass","Comment":"bpmn:submitted","Assign":{"account":"{% $states.input.account %}"},"Next":"Pay"},
	  "Pay":{"Type":"Task","Comment":"bpmn:pay","Resource":"arn:aws:lambda:local:000000000000:function:pay","Arguments":{"account":"{% $account %}"},"End":true}}}`
	inv := engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		in, _ := c.Input.(*value.Object)
		acc, _ := in.Get("account")
		if acc != "UA21" {
			return nil, &engine.Failure{Name: "Payment.BadAccount", Cause: "no such account"}
		}
		return val(map[string]any{"paymentId": "P-3"}), nil
	})
	e := newEnvWith(t, "lockdown-payout", def, inv, nil)
	x := e.start("app-4", `{"applicationId":"app-4","account":"UA00"}`)
	if x.Status != engine.StatusFailed {
		t.Fatalf("status %s", x.Status)
	}
	code, d := e.do("GET", "/console/api/applications/app-4", e.support, nil)
	sd, _ := d["stepData"].(map[string]any)
	vars, _ := sd["variables"].(map[string]any)
	if code != 200 || vars["account"] != "UA00" || sd["state"] != "Pay" {
		t.Fatalf("step data: %d %v", code, d)
	}
	vars["account"] = "UA21"
	code, res := e.do("POST", "/console/api/applications/app-4/resend", e.support, map[string]any{
		"thread": sd["thread"], "input": sd["input"], "variables": vars, "reason": "account from the registry"})
	if code != 200 {
		t.Fatalf("resend: %d %v", code, res)
	}
	if x, _ = e.eng.AwaitSettled(context.Background(), x.ARN); x.Status != engine.StatusSucceeded {
		t.Fatalf("after resend: %s", x.Status)
	}
	// Resending once more is refused: nothing failed any more.
	if code, _ := e.do("POST", "/console/api/applications/app-4/resend", e.support, map[string]any{"input": map[string]any{}}); code != http.StatusConflict {
		t.Errorf("second resend: %d, want 409", code)
	}
}

// fakeApplications keeps application records in a map; only Update is
// used by the console.
type fakeApplications struct {
	posluha.Applications
	mu sync.Mutex
	m  map[string]*posluha.Application
}

func (f *fakeApplications) Update(_ context.Context, id string, fn func(*posluha.Application) error) (*posluha.Application, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.m[id]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "no application %s", id)
	}
	c := *a
	if err := fn(&c); err != nil {
		return nil, err
	}
	f.m[id] = &c
	return &c, nil
}
