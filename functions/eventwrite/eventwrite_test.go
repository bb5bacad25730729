package eventwrite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/connectors"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	localddb "github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/outbox"
	"github.com/posluha/posluha/local/registries"
)

// fakeSFN is a func-field fake of SFN that also records the calls.
type fakeSFN struct {
	SuccessFn func(token, output string) error
	FailureFn func(token, name, cause string) error

	mu       sync.Mutex
	success  []sfnCall
	failures []sfnCall
}

type sfnCall struct{ Token, Output, Name, Cause string }

func (f *fakeSFN) SendTaskSuccess(_ context.Context, token, output string) error {
	if f.SuccessFn != nil {
		if err := f.SuccessFn(token, output); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.success = append(f.success, sfnCall{Token: token, Output: output})
	return nil
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, token, name, cause string) error {
	if f.FailureFn != nil {
		if err := f.FailureFn(token, name, cause); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, sfnCall{Token: token, Name: name, Cause: cause})
	return nil
}

func (f *fakeSFN) calls() (success, failures []sfnCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sfnCall(nil), f.success...), append([]sfnCall(nil), f.failures...)
}

// env is a handler on local/dynamodb and local/registries, both on
// loopback ports.
type env struct {
	h      *Handler
	deps   Deps
	sim    *registries.Sim
	sfn    *fakeSFN
	outbox *outbox.Outbox
	db     *dynamodb.Client
	logs   *bytes.Buffer
	getenv func(string) string
}

const (
	taxNumber = "3111412139" // a seeded test citizen of the simulator
	iban      = "UA213223130000026007233566001"
)

var now0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// mustEnv starts the stores and the simulator and returns a handler
// wired to them.
func mustEnv(t testing.TB) *env {
	t.Helper()
	srv, err := localddb.New(t.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	dbs := httptest.NewServer(srv.Handler())
	sim := registries.New(registries.Options{Seed: 1})
	regs := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		regs.Close()
		dbs.Close()
		srv.Close()
	})
	db := dynamodb.New(dynamodb.Options{
		Region: "eu-central-1", BaseEndpoint: aws.String(dbs.URL), HTTPClient: dbs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1,
	})
	tables := dynamo.DefaultTables
	if err := dynamo.CreateTables(context.Background(), db, tables); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		switch k {
		case "POSLUHA_REGISTRY_URL":
			return regs.URL
		case "POSLUHA_USR_URL":
			return regs.URL + "/rest/usr"
		case "POSLUHA_NOTIFY_URL":
			return regs.URL + "/rest/notify"
		}
		return ""
	}
	ts, err := connector.LoadFS(connectors.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	set, err := connector.New(ts, connector.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	clock := now0
	var clockMu sync.Mutex
	e := &env{sim: sim, sfn: &fakeSFN{}, outbox: outbox.New(), db: db, logs: &logs, getenv: getenv}
	e.deps = Deps{
		Applications:  dynamo.NewApplications(db, tables.Applications),
		Notifications: dynamo.NewNotifications(db, tables.Notifications),
		Awaits:        dynamo.NewAwaits(db, tables.Awaits),
		Effects:       dynamo.NewEffects(db, tables.Effects),
		Parking:       dynamo.NewParkedWrites(db, tables.Parked),
		Connectors:    set,
		Outbox:        e.outbox,
		SFN:           e.sfn,
		Log:           slog.New(slog.NewJSONHandler(&logs, nil)),
		Now: func() time.Time {
			clockMu.Lock()
			defer clockMu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		},
	}
	e.h = New(e.deps)
	return e
}

// mustApp stores an application in status submitted.
func (e *env) mustApp(t testing.TB, id, service string) {
	t.Helper()
	a := &posluha.Application{ID: id, Service: service, Citizen: taxNumber, Created: now0,
		Form: map[string]any{"iban": iban}}
	if err := e.deps.Applications.Create(context.Background(), a, false); err != nil {
		t.Fatal(err)
	}
}

// invoke runs a payload through aws-lambda-go as the runtime would and
// returns the output or the error type Step Functions would match.
func (e *env) invoke(t testing.TB, payload string) (string, string) {
	t.Helper()
	out, err := lambda.NewHandler(e.h.Lambda()).Invoke(context.Background(), []byte(payload))
	if err != nil {
		var ive messages.InvokeResponse_Error
		if errors.As(err, &ive) {
			return "", ive.Type
		}
		t.Fatalf("runtime error %T: %v", err, err)
	}
	return string(out), ""
}

func task(app, step, action string, attempt int, extra map[string]any) string {
	m := map[string]any{"applicationId": app, "service": "lockdown-payout", "step": step, "attempt": attempt, "action": action}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (e *env) noPersonalData(t *testing.T) {
	t.Helper()
	for _, secret := range []string{taxNumber, iban, "Шевченко"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs hold personal data %q:\n%s", secret, e.logs.String())
		}
	}
}

func TestStatus(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	e.mustApp(t, "app-1", "lockdown-payout")
	processing := map[string]any{"arguments": map[string]any{"status": "processing"}}
	for attempt := range 3 { // the first try and two retries
		out, errType := e.invoke(t, task("app-1", "status_processing", "status", attempt, processing))
		if errType != "" || out != `{"status":"processing"}` {
			t.Fatalf("attempt %d = %s, %s", attempt, out, errType)
		}
	}
	done := map[string]any{"arguments": map[string]any{"status": "done", "template": "payout-sent"}}
	for attempt := range 2 {
		if out, errType := e.invoke(t, task("app-1", "notify_done", "status", attempt, done)); errType != "" {
			t.Fatalf("done attempt %d = %s, %s", attempt, out, errType)
		}
	}
	a, err := e.deps.Applications.Get(ctx, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != posluha.StatusDone || len(a.StatusHistory) != 2 ||
		a.StatusHistory[0].Step != "status_processing" || a.StatusHistory[1].Step != "notify_done" {
		t.Fatalf("history = %+v, want one entry per step", a.StatusHistory)
	}
	inbox, _ := e.deps.Notifications.List(ctx, taxNumber, 10)
	if len(inbox) != 1 || inbox[0].ID != "app-1/notify_done" || inbox[0].Title.UK != "Допомогу перераховано" ||
		!strings.Contains(inbox[0].Body.EN, "app-1") {
		t.Errorf("inbox = %+v, want one payout-sent notification", inbox)
	}
	if sent := e.outbox.Messages("", ""); len(sent) != 1 {
		t.Errorf("outbox has %d messages, want 1", len(sent))
	}

	// A process without a processing status step (lockdown-payout) goes
	// straight to done: through processing at the same step.
	e.mustApp(t, "app-3", "lockdown-payout")
	if out, errType := e.invoke(t, task("app-3", "notify_paid", "status", 0, done)); errType != "" {
		t.Fatalf("submitted → done = %s, %q", out, errType)
	}
	if a, _ := e.deps.Applications.Get(ctx, "app-3"); a.Status != posluha.StatusDone || len(a.StatusHistory) != 2 ||
		a.StatusHistory[0].Status != posluha.StatusProcessing || a.StatusHistory[0].Step != "notify_paid" {
		t.Errorf("submitted → done history = %+v", a.StatusHistory)
	}

	rejected := map[string]any{"arguments": map[string]any{"status": "rejected", "reason": "not-eligible"}}
	e.mustApp(t, "app-2", "lockdown-payout")
	if _, errType := e.invoke(t, task("app-2", "reject", "status", 0, rejected)); errType != "" {
		t.Fatal(errType)
	}
	if a, _ := e.deps.Applications.Get(ctx, "app-2"); a.StatusHistory[0].Reason != "not-eligible" {
		t.Errorf("reason = %+v", a.StatusHistory)
	}

	tests := []struct {
		name, payload, errType string
	}{
		{"out of done", task("app-1", "again", "status", 0, processing), "Application.Conflict"},
		{"unknown application", task("nope", "s", "status", 0, processing), "Application.NotFound"},
		{"bad status", task("app-1", "s", "status", 0, map[string]any{"arguments": map[string]any{"status": "finished"}}), "Task.Invalid"},
		{"status not a string", task("app-1", "s", "status", 0, map[string]any{"arguments": map[string]any{"status": 1}}), "Task.Invalid"},
		{"no status", task("app-1", "s", "status", 0, nil), "Task.Invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out, errType := e.invoke(t, tc.payload); errType != tc.errType {
				t.Errorf("= %s, %q; want %q", out, errType, tc.errType)
			}
		})
	}
	e.noPersonalData(t)
}

// TestStatusRecordsDocuments: the document a document.pdf task made is
// recorded on the application once, however often the step runs.
func TestStatusRecordsDocuments(t *testing.T) {
	e := mustEnv(t)
	e.mustApp(t, "app-d", "fop-registration")
	doc := map[string]any{"number": "FOP-1", "key": "fop-registration/2026/11/26/app-d/extract.pdf", "sha256": "ab"}
	done := map[string]any{"arguments": map[string]any{"status": "done", "document": doc}}
	for attempt := range 2 {
		if out, errType := e.invoke(t, task("app-d", "notify_done", "status", attempt, done)); errType != "" {
			t.Fatalf("attempt %d = %s, %s", attempt, out, errType)
		}
	}
	a, err := e.deps.Applications.Get(context.Background(), "app-d")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Documents) != 1 || a.Documents[0].Number != "FOP-1" || a.Documents[0].Key != doc["key"] {
		t.Fatalf("documents = %+v, want the one document once", a.Documents)
	}
	bad := map[string]any{"arguments": map[string]any{"status": "done", "document": map[string]any{"number": "X"}}}
	if _, errType := e.invoke(t, task("app-d", "notify_done", "status", 0, bad)); errType != "Task.Invalid" {
		t.Fatalf("document without key = %q, want Task.Invalid", errType)
	}
}

func TestNotify(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	e.mustApp(t, "app-1", "e-propyska")
	for attempt := range 3 {
		out, errType := e.invoke(t, task("app-1", "notify_delay", "notify", attempt,
			map[string]any{"arguments": map[string]any{"template": "registry-delay"}}))
		if errType != "" || out != `{"notificationId":"app-1/notify_delay"}` {
			t.Fatalf("attempt %d = %s, %s", attempt, out, errType)
		}
	}
	if out, errType := e.invoke(t, task("app-1", "notify_custom", "notify", 0,
		map[string]any{"arguments": map[string]any{"template": "no-such-template"}})); errType != "" {
		t.Fatalf("unknown template = %s, %s; want a notification with the id as text", out, errType)
	}
	inbox, _ := e.deps.Notifications.List(ctx, taxNumber, 10)
	if len(inbox) != 2 {
		t.Fatalf("inbox = %+v, want 2 notifications", inbox)
	}
	if n := inbox[0]; n.Template != "no-such-template" || n.Title.UK != "no-such-template" || n.Body.EN != "no-such-template" {
		t.Errorf("unknown template rendered as %+v", n)
	}
	if n := inbox[1]; n.Title.UK != "Реєстр тимчасово недоступний" || !strings.Contains(n.Body.UK, "app-1") || n.Title.EN == "" {
		t.Errorf("registry-delay rendered as %+v", n)
	}
	if sent := e.outbox.Messages(taxNumber, "app-1"); len(sent) != 2 {
		t.Errorf("outbox = %d messages, want 2", len(sent))
	}
	for name, payload := range map[string]string{
		"no template":         task("app-1", "n", "notify", 0, nil),
		"unknown application": task("nope", "n", "notify", 0, map[string]any{"arguments": map[string]any{"template": "x"}}),
	} {
		want := "Task.Invalid"
		if name == "unknown application" {
			want = "Application.NotFound"
		}
		if _, errType := e.invoke(t, payload); errType != want {
			t.Errorf("%s = %q, want %q", name, errType, want)
		}
	}
}

// TestNotifyThroughConnector: the AWS outbox (notify.send connector)
// delivers a retried notification once.
func TestNotifyThroughConnector(t *testing.T) {
	e := mustEnv(t)
	e.deps.Outbox = &ConnectorOutbox{Connectors: e.deps.Connectors, Connector: "notify.send"}
	e.h = New(e.deps)
	e.mustApp(t, "app-1", "e-propyska")
	for attempt := range 3 {
		if _, errType := e.invoke(t, task("app-1", "notify_delay", "notify", attempt,
			map[string]any{"arguments": map[string]any{"template": "registry-delay"}})); errType != "" {
			t.Fatal(errType)
		}
	}
	if sent := e.sim.Outbox(); len(sent) != 1 || sent[0]["channel"] != "push" {
		t.Errorf("notification service got %v, want one push", sent)
	}
}

func payment(app string, attempt int, args map[string]any) string {
	a := map[string]any{"iban": iban, "amount": 8000, "purpose": "Допомога на період карантину, заява " + app}
	for k, v := range args {
		a[k] = v
	}
	return task(app, "pay", "write", attempt, map[string]any{"connector": "treasury.payment", "arguments": a})
}

func TestWriteOnce(t *testing.T) {
	e := mustEnv(t)
	var first string
	// Three tries (as ASL Retry makes them) and a redrive, which starts
	// the step again at attempt 0: one call to the treasury.
	for i, attempt := range []int{0, 1, 2, 0} {
		out, errType := e.invoke(t, payment("app-1", attempt, nil))
		if errType != "" {
			t.Fatalf("call %d = %s", i, errType)
		}
		if i == 0 {
			first = out
			if !strings.Contains(out, `"paymentId":"PAY-`) || !strings.Contains(out, `"amount":8000`) {
				t.Fatalf("result = %s", out)
			}
		} else if out != first {
			t.Errorf("call %d = %s, want the first outcome %s", i, out, first)
		}
	}
	// A task that names only its connector is a write (same key: no new call).
	var m map[string]any
	json.Unmarshal([]byte(payment("app-1", 0, nil)), &m)
	delete(m, "action")
	b, _ := json.Marshal(m)
	if out, errType := e.invoke(t, string(b)); errType != "" || out != first {
		t.Errorf("connector without action = %s, %q; want the first outcome", out, errType)
	}
	st := e.sim.Stats("treasury")
	if st.Requests != 1 || e.sim.EffectivePayments() != 1 {
		t.Errorf("treasury saw %d requests, %d payments; want 1, 1", st.Requests, e.sim.EffectivePayments())
	}

	tests := []struct {
		name, payload, errType string
	}{
		{"read connector", task("app-1", "w", "write", 0, map[string]any{"connector": "tax.fop-status"}), "Task.Invalid"},
		{"unknown connector", task("app-1", "w", "write", 0, map[string]any{"connector": "nope"}), "Task.Invalid"},
		{"no connector", task("app-1", "w", "write", 0, nil), "Task.Invalid"},
		{"bad iban", task("app-2", "pay", "write", 0, map[string]any{"connector": "treasury.payment",
			"arguments": map[string]any{"iban": "UA00", "amount": 1}}), "Registry.BadRequest"},
		{"park without token", payment("app-3", 0, map[string]any{"parkOnOutage": "true"}), "Task.Invalid"},
		{"park not a flag", payment("app-3", 0, map[string]any{"parkOnOutage": "maybe"}), "Task.Invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out, errType := e.invoke(t, tc.payload); errType != tc.errType {
				t.Errorf("= %s, %q; want %q", out, errType, tc.errType)
			}
		})
	}
	e.noPersonalData(t)
}

// TestWriteOutage: while the treasury is down every try is
// Registry.Unavailable (for ASL Retry); after it recovers the write is made
// once, including when an earlier try's answer was lost.
func TestWriteOutage(t *testing.T) {
	e := mustEnv(t)
	e.sim.SetDown("treasury", true)
	for attempt := range 3 {
		if _, errType := e.invoke(t, payment("app-1", attempt, nil)); errType != "Registry.Unavailable" {
			t.Fatalf("attempt %d during the outage = %q, want Registry.Unavailable", attempt, errType)
		}
	}
	e.sim.SetDown("treasury", false)
	// The registry executes a payment whose answer never reaches us
	// (called here directly: no effect is recorded).
	args := map[string]any{"iban": iban, "amount": 8000, "purpose": "Допомога на період карантину, заява app-1"}
	if _, err := e.deps.Connectors.Call(context.Background(), "treasury.payment",
		connector.Args{ApplicationID: "app-1", Service: "lockdown-payout", Step: "pay", Arguments: args}, "app-1/pay"); err != nil {
		t.Fatal(err)
	}
	for attempt := range 2 {
		if out, errType := e.invoke(t, payment("app-1", attempt, nil)); errType != "" || !strings.Contains(out, "paymentId") {
			t.Fatalf("after recovery = %s, %q", out, errType)
		}
	}
	if n := e.sim.EffectivePayments(); n != 1 {
		t.Errorf("%d effective payments, want 1", n)
	}
	if st := e.sim.Stats("treasury"); st.Replays != 1 {
		t.Errorf("treasury replays = %d, want 1 (the lost answer, replayed by key)", st.Replays)
	}
}

func TestAwaitAndAnswer(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	e.mustApp(t, "app-1", "e-propyska")
	if _, errType := e.invoke(t, task("app-1", "start", "status", 0, map[string]any{"arguments": map[string]any{"status": "processing"}})); errType != "" {
		t.Fatal(errType)
	}
	wait := func(token string) string {
		return task("app-1", "consent", "await", 0, map[string]any{"taskToken": token,
			"correlationKey": "consent/app-1", "arguments": map[string]any{"template": "action-required"}})
	}
	// A retried await task comes with a new token: the last one counts.
	for _, tok := range []string{"token-1", "token-2"} {
		if out, errType := e.invoke(t, wait(tok)); errType != "" || out != `{"correlationKey":"consent/app-1"}` {
			t.Fatalf("await = %s, %q", out, errType)
		}
	}
	a, _ := e.deps.Applications.Get(ctx, "app-1")
	if a.Status != posluha.StatusWaiting || a.Step != "consent" || len(a.StatusHistory) != 2 {
		t.Errorf("application = %s at %s, history %+v; want waiting at consent once", a.Status, a.Step, a.StatusHistory)
	}
	if inbox, _ := e.deps.Notifications.List(ctx, taxNumber, 10); len(inbox) != 1 || inbox[0].Template != "action-required" {
		t.Errorf("inbox = %+v", inbox)
	}

	sfn := &fakeSFN{}
	calls := 0
	sfn.SuccessFn = func(string, string) error {
		calls++
		if calls == 1 {
			return errors.New("connection reset") // transient: the answer can be retried
		}
		return nil
	}
	ans := &Answerer{Awaits: e.deps.Awaits, SFN: sfn, Applications: e.deps.Applications, Now: e.deps.Now}
	if _, err := ans.Answer(ctx, "consent/app-1", json.RawMessage(`{"verdict":"yes"}`)); err == nil {
		t.Fatal("Answer with SFN down succeeded")
	}
	got, err := ans.Answer(ctx, "consent/app-1", json.RawMessage(`{"verdict":"yes"}`))
	if err != nil || got.Token != "token-2" || got.ApplicationID != "app-1" {
		t.Fatalf("Answer = %+v, %v", got, err)
	}
	_, err = ans.Answer(ctx, "consent/app-1", json.RawMessage(`{"verdict":"again"}`))
	if posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("second Answer = %v, want Application.NotFound", err)
	}
	if success, _ := sfn.calls(); len(success) != 1 || success[0] != (sfnCall{Token: "token-2", Output: `{"verdict":"yes"}`}) {
		t.Errorf("SendTaskSuccess calls = %+v, want exactly one with token-2", success)
	}
	if a, _ := e.deps.Applications.Get(ctx, "app-1"); a.Status != posluha.StatusProcessing {
		t.Errorf("after the answer the application is %s, want processing", a.Status)
	}
	if _, err := ans.Answer(ctx, "x", json.RawMessage(`{bad`)); posluha.ErrorName(err) != posluha.ErrTaskInvalid {
		t.Errorf("Answer(bad JSON) = %v", err)
	}

	// Fail, and a task that timed out meanwhile.
	e.invoke(t, task("app-1", "bank", "await", 0, map[string]any{"taskToken": "token-3", "correlationKey": "bank/app-1"}))
	gone := &fakeSFN{FailureFn: func(string, string, string) error {
		return posluha.Errorf(posluha.ErrApplicationNotFound, "the task no longer waits")
	}}
	ans.SFN = gone
	if _, err := ans.Fail(ctx, "bank/app-1", "Partner.Refused", "no"); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("Fail on a timed-out task = %v, want Application.NotFound", err)
	}

	// A process that waits first: submitted → processing → waiting.
	e.mustApp(t, "app-2", "e-propyska")
	if _, errType := e.invoke(t, task("app-2", "fill", "await", 0, map[string]any{"taskToken": "t"})); errType != "" {
		t.Fatal(errType)
	}
	if a, _ := e.deps.Applications.Get(ctx, "app-2"); a.Status != posluha.StatusWaiting || len(a.StatusHistory) != 2 {
		t.Errorf("first-task await: %s, %+v", a.Status, a.StatusHistory)
	}
	if _, err := e.deps.Awaits.Take(ctx, "fill/app-2"); err != nil {
		t.Errorf("default correlation key step/applicationId: %v", err)
	}

	for name, payload := range map[string]string{
		"no token": task("app-1", "x", "await", 0, map[string]any{"correlationKey": "k"}),
	} {
		if _, errType := e.invoke(t, payload); errType != "Task.Invalid" {
			t.Errorf("%s = %q, want Task.Invalid", name, errType)
		}
	}
}

// TestParkOnOutage: a write asked to park through an outage waits on its
// task token, resumes by itself when the registry is back, and is made
// once.
func TestParkOnOutage(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	park := map[string]any{"parkOnOutage": "true"}
	parked := func(app, token string, args map[string]any) string {
		var m map[string]any
		json.Unmarshal([]byte(payment(app, 0, args)), &m)
		m["taskToken"] = token
		b, _ := json.Marshal(m)
		return string(b)
	}
	e.sim.SetDown("treasury", true)
	for _, app := range []string{"app-1", "app-2"} {
		out, errType := e.invoke(t, parked(app, "tok-"+app, park))
		if errType != "" || out != `{"parked":"`+app+`/pay"}` {
			t.Fatalf("%s = %s, %q; want parked", app, out, errType)
		}
	}
	// A parked write with data the registry will refuse.
	out, errType := e.invoke(t, parked("app-3", "tok-app-3", map[string]any{"parkOnOutage": true, "iban": "UA00"}))
	if errType != "" {
		t.Fatalf("app-3 = %s, %q", out, errType)
	}
	before := e.sim.Stats("treasury").Requests
	r, err := e.h.ResumeParked(ctx)
	if err != nil || r != (ResumeReport{Parked: 3}) {
		t.Fatalf("ResumeParked while down = %+v, %v; want 3 parked", r, err)
	}
	if calls := e.sim.Stats("treasury").Requests - before; calls != 1 {
		t.Errorf("a sweep while down called the registry %d times, want 1", calls)
	}
	list, _ := e.h.Parked(ctx)
	if len(list) != 3 || list[0].Attempts != 2 || list[0].LastError != "Registry.Unavailable" || list[0].Request.TaskToken != "tok-app-1" {
		t.Errorf("parked = %+v", list)
	}

	e.sim.SetDown("treasury", false)
	// Support fixes app-3's data and resends it by hand.
	fixed := map[string]any{"iban": iban, "amount": 100, "purpose": "corrected"}
	if outcome, err := e.h.Resend(ctx, "app-3/pay", fixed); err != nil || outcome != OutcomeResumed {
		t.Fatalf("Resend = %q, %v", outcome, err)
	}
	if _, ok := fixed["parkOnOutage"]; ok {
		t.Error("Resend changed the caller's map")
	}
	r, err = e.h.ResumeParked(ctx)
	if err != nil || r != (ResumeReport{Resumed: 2}) {
		t.Fatalf("ResumeParked after recovery = %+v, %v; want 2 resumed", r, err)
	}
	success, failures := e.sfn.calls()
	if len(success) != 3 || len(failures) != 0 {
		t.Fatalf("SFN success %+v, failures %+v", success, failures)
	}
	for _, c := range success {
		if !strings.Contains(c.Output, "paymentId") {
			t.Errorf("task %s completed with %s", c.Token, c.Output)
		}
	}
	if n := e.sim.EffectivePayments(); n != 3 {
		t.Errorf("%d effective payments, want 3", n)
	}
	if r, _ := e.h.ResumeParked(ctx); r != (ResumeReport{}) {
		t.Errorf("a sweep with nothing parked = %+v", r)
	}
	// A redrive of the parked step finds the first outcome.
	if out, errType := e.invoke(t, payment("app-1", 0, nil)); errType != "" || out != success[1].Output {
		t.Errorf("redrive after resume = %s, %q", out, errType)
	}
	if n := e.sim.EffectivePayments(); n != 3 {
		t.Errorf("%d effective payments after a redrive, want 3", n)
	}

	// A parked write the registry refuses fails its task with the name.
	e.sim.SetDown("treasury", true)
	e.invoke(t, parked("app-4", "tok-app-4", map[string]any{"parkOnOutage": "true", "iban": "UA00"}))
	e.sim.SetDown("treasury", false)
	// The resume also comes as a scheduled event through the handler.
	if out, errType := e.invoke(t, `{"action":"resumeParked"}`); errType != "" || out != `{"resumed":0,"parked":0,"failed":1,"gone":0,"errors":0}` {
		t.Errorf("scheduled resume = %s, %q", out, errType)
	}
	if _, failures := e.sfn.calls(); len(failures) != 1 || failures[0].Token != "tok-app-4" || failures[0].Name != "Registry.BadRequest" {
		t.Errorf("failures = %+v", failures)
	}
	if _, err := e.h.Resend(ctx, "nothing/here", nil); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("Resend(unknown) = %v", err)
	}
	e.noPersonalData(t)
}

func TestHandleInvalid(t *testing.T) {
	e := mustEnv(t)
	tests := []struct{ name, payload string }{
		{"no action", `{"applicationId":"a","step":"s"}`},
		{"unknown action", `{"applicationId":"a","step":"s","action":"delete"}`},
		{"no application", `{"step":"s","action":"status"}`},
		{"negative attempt", `{"applicationId":"a","step":"s","attempt":-1,"action":"status"}`},
		{"huge step", `{"applicationId":"a","step":"` + strings.Repeat("s", 2000) + `","action":"status"}`},
		{"huge correlation key", `{"applicationId":"a","step":"s","action":"await","taskToken":"t","correlationKey":"` + strings.Repeat("k", 2000) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out, errType := e.invoke(t, tc.payload); errType != "Task.Invalid" {
				t.Errorf("= %s, %q; want Task.Invalid", out, errType)
			}
		})
	}
}

// TestAwaitCancelled: an application that cannot wait any more fails the
// task and leaves no token behind.
func TestAwaitCancelled(t *testing.T) {
	e := mustEnv(t)
	ctx := context.Background()
	e.mustApp(t, "app-1", "e-propyska")
	if _, errType := e.invoke(t, task("app-1", "cancel", "status", 0, map[string]any{"arguments": map[string]any{"status": "cancelled"}})); errType != "" {
		t.Fatal(errType)
	}
	if _, errType := e.invoke(t, task("app-1", "review", "await", 0, map[string]any{"taskToken": "t"})); errType != "Application.Conflict" {
		t.Fatalf("await on a cancelled application = %q, want Application.Conflict", errType)
	}
	if _, err := e.deps.Awaits.Take(ctx, "review/app-1"); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("a token was stored for a cancelled application: %v", err)
	}
}
