package eventwrite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/functions/eventwrite"
	"github.com/posluha/posluha/functions/internal/dynamo"
	localddb "github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/lambdarun"
	"github.com/posluha/posluha/local/outbox"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/sfnapi"
	"github.com/posluha/posluha/query/value"
)

// payoutBPMN is a payout service as analysts draw it: a status, a
// treasury payment (5 retries), a user task answered through the API, and
// the final status with a notification.
const payoutBPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="payout" isExecutable="true">
    <bpmn:startEvent id="submitted" />
    <bpmn:sendTask id="status_processing">
      <bpmn:extensionElements><zeebe:taskDefinition type="event.write" /><zeebe:taskHeaders><zeebe:header key="action" value="status" /><zeebe:header key="status" value="processing" /></zeebe:taskHeaders></bpmn:extensionElements>
    </bpmn:sendTask>
    <bpmn:serviceTask id="pay">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="event.write" retries="5" />
        <zeebe:taskHeaders><zeebe:header key="action" value="write" /><zeebe:header key="connector" value="treasury.payment" /></zeebe:taskHeaders>
        <zeebe:ioMapping>
          <zeebe:input source="=form.iban" target="iban" />
          <zeebe:input source="=8000" target="amount" />
          <zeebe:input source="=&quot;Допомога, заява &quot; + applicationId" target="purpose" />
          <zeebe:output source="=paymentId" target="paymentId" />
        </zeebe:ioMapping>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:userTask id="confirm" name="Підтвердити отримання" />
    <bpmn:sendTask id="notify_paid">
      <bpmn:extensionElements><zeebe:taskDefinition type="event.write" /><zeebe:taskHeaders><zeebe:header key="action" value="status" /><zeebe:header key="status" value="done" /><zeebe:header key="template" value="payout-sent" /></zeebe:taskHeaders></bpmn:extensionElements>
    </bpmn:sendTask>
    <bpmn:endEvent id="paid" />
    <bpmn:sequenceFlow id="f1" sourceRef="submitted" targetRef="status_processing" />
    <bpmn:sequenceFlow id="f2" sourceRef="status_processing" targetRef="pay" />
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="confirm" />
    <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="notify_paid" />
    <bpmn:sequenceFlow id="f5" sourceRef="notify_paid" targetRef="paid" />
  </bpmn:process>
</bpmn:definitions>`

// payoutStack is the local engine running one compiled service whose
// eventwrite tasks run in-process, wired as in AWS: the SDK against local
// DynamoDB and Step Functions endpoints (one edge, routed by X-Amz-Target
// as AWS routes by host), the connectors against the simulated registries.
type payoutStack struct {
	t0    time.Time
	clock *engine.VirtualClock
	sim   *registries.Sim
	eng   *engine.Engine
	deps  eventwrite.Deps
	h     *eventwrite.Handler
	out   *outbox.Outbox
}

// newPayoutStack compiles src, patches its definition with patch (nil:
// none) and deploys it as "payout". The treasury is in maintenance for
// window from the start.
func newPayoutStack(t *testing.T, src string, window time.Duration, patch func(string) string) *payoutStack {
	t.Helper()
	ctx := context.Background()
	s := &payoutStack{t0: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	s.clock = engine.NewVirtualClock(s.t0)

	s.sim = registries.New(registries.Options{Seed: 7, Now: s.clock.Now})
	if err := s.sim.SetProfile("treasury", registries.Profile{Maintenance: []registries.Window{{From: s.t0, To: s.t0.Add(window)}}}); err != nil {
		t.Fatal(err)
	}
	regs := httptest.NewServer(s.sim.Handler())
	t.Cleanup(regs.Close)

	res, ds := bpmn2asl.Compile("payout.bpmn", []byte(src), bpmn2asl.Options{Service: "payout"})
	if res == nil {
		t.Fatalf("compile: %v", ds)
	}
	def := strings.ReplaceAll(string(res.ASL), "${EventWriteFunctionArn}", posluha.LocalFunctionARN("eventwrite"))
	if patch != nil {
		def = patch(def)
	}

	lambdas := lambdarun.New()
	s.eng = engine.New(engine.Config{Store: engine.NewMemStore(), Clock: s.clock, AutoAdvance: true,
		Invoker: &engine.Router{Lambda: lambdas}, Region: "local", Account: "000000000000"})
	if err := s.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.eng.Close() })

	db, err := localddb.New(t.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sfnSrv := sfnapi.New(s.eng, sfnapi.Options{Now: s.clock.Now})
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
			db.Handler().ServeHTTP(w, r)
			return
		}
		sfnSrv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(edge.Close)
	cfg := aws.Config{Region: "eu-central-1", BaseEndpoint: aws.String(edge.URL), HTTPClient: edge.Client(),
		RetryMaxAttempts: 1, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	if err := dynamo.CreateTables(ctx, dynamo.NewClientFromConfig(cfg), dynamo.DefaultTables); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		switch k {
		case "POSLUHA_REGISTRY_URL":
			return regs.URL
		case "POSLUHA_NOTIFY_URL":
			return regs.URL + "/rest/notify"
		case "POSLUHA_USR_URL":
			return regs.URL + "/rest/usr"
		}
		return ""
	}
	s.deps, err = eventwrite.WireDeps(ctx, cfg, slog.New(slog.DiscardHandler), getenv)
	if err != nil {
		t.Fatal(err)
	}
	s.out = outbox.New()
	s.deps.Outbox = s.out // the local stack's outbox
	s.deps.Now = s.clock.Now
	s.h = eventwrite.New(s.deps)
	lambdas.Register("eventwrite", s.h.Lambda())
	if _, err := s.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "payout", Definition: def}); err != nil {
		t.Fatal(err)
	}
	return s
}

// start stores n applications and starts their executions.
func (s *payoutStack) start(t *testing.T, n int, citizen string) []string {
	t.Helper()
	ctx := context.Background()
	var arns []string
	for i := range n {
		id := fmt.Sprintf("app-%d", i)
		if err := s.deps.Applications.Create(ctx, &posluha.Application{ID: id, Service: "payout", Citizen: citizen, Created: s.t0}, false); err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(map[string]any{"applicationId": id, "service": "payout", "citizen": map[string]any{"taxNumber": citizen},
			"form": map[string]any{"iban": "UA213223130000026007233566001"}})
		x, err := s.eng.StartExecution(ctx, engine.StartInput{MachineARN: s.eng.MachineARN("payout"), Name: id, Input: string(in)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.ARN)
	}
	return arns
}

// TestPayoutThroughOutage runs a batch of applications through the
// compiled BPMN with the treasury in a maintenance window when the batch
// starts: the state machine's Retry waits the window out, every
// application completes, each paid exactly once, and the user task is
// answered through Answerer.
func TestPayoutThroughOutage(t *testing.T) {
	ctx := context.Background()
	s := newPayoutStack(t, payoutBPMN, 20*time.Second, nil)
	eng, clock, sim, deps, out, t0 := s.eng, s.clock, s.sim, s.deps, s.out, s.t0
	citizen := registries.Citizens()[0].TaxNumber
	const n = 5
	arns := s.start(t, n, citizen)

	// Every execution pays (after the window) and parks on the user task.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i, arn := range arns {
		x, err := eng.AwaitSettled(wctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != engine.StatusRunning {
			t.Fatalf("app-%d: %s %s %s, want parked on the user task", i, x.Status, x.Error, x.Cause)
		}
		a, _ := deps.Applications.Get(ctx, fmt.Sprintf("app-%d", i))
		if a.Status != posluha.StatusWaiting || a.Step != "confirm" {
			t.Fatalf("app-%d is %s at %s, want waiting at confirm", i, a.Status, a.Step)
		}
	}
	if !clock.Now().After(t0.Add(20 * time.Second)) {
		t.Errorf("clock at %v: the payments cannot have waited out the window", clock.Now())
	}
	ans := &eventwrite.Answerer{Awaits: deps.Awaits, SFN: deps.SFN, Applications: deps.Applications, Now: clock.Now}
	for i := range n {
		if _, err := ans.Answer(ctx, fmt.Sprintf("confirm/app-%d", i), json.RawMessage(`{"confirmed":true}`)); err != nil {
			t.Fatalf("Answer app-%d: %v", i, err)
		}
	}
	for i, arn := range arns {
		x, err := eng.Await(wctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != engine.StatusSucceeded {
			t.Fatalf("app-%d: %s %s %s", i, x.Status, x.Error, x.Cause)
		}
		a, _ := deps.Applications.Get(ctx, fmt.Sprintf("app-%d", i))
		var steps []string
		for _, c := range a.StatusHistory {
			steps = append(steps, string(c.Status)+"@"+c.Step)
		}
		if got := strings.Join(steps, " "); got != "processing@status_processing waiting@confirm processing@confirm done@notify_paid" {
			t.Errorf("app-%d history: %s", i, got)
		}
	}
	// An answer to a task that no longer waits.
	if _, err := ans.Answer(ctx, "confirm/app-0", nil); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
		t.Errorf("late answer = %v, want Application.NotFound", err)
	}

	st := sim.Stats("treasury")
	if got := sim.EffectivePayments(); got != n || st.Writes != n {
		t.Errorf("%d effective payments, %d writes; want %d each", got, st.Writes, n)
	}
	if st.Refused == 0 {
		t.Error("the maintenance window refused nothing: the outage was not exercised")
	}
	if got := len(out.Messages(citizen, "")); got != n {
		t.Errorf("outbox has %d messages, want %d", got, n)
	}
	t.Logf("treasury: %d requests, %d refused in the window, %d payments; clock advanced %v",
		st.Requests, st.Refused, st.Writes, clock.Now().Sub(t0))
}

// asCallback rewrites the compiled task of element id into what the
// compiler should emit for a parkOnOutage write (not done there yet): a
// lambda:invoke.waitForTaskToken call with the task token in the payload,
// whose result is the SendTaskSuccess output itself, not a Payload.
func asCallback(t *testing.T, id string) func(string) string {
	return func(def string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(def), &m); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range m["States"].(map[string]any) {
			st := v.(map[string]any)
			if st["Comment"] != "bpmn:"+id {
				continue
			}
			found = true
			st["Resource"] = "arn:aws:states:::lambda:invoke.waitForTaskToken"
			st["Arguments"].(map[string]any)["Payload"].(map[string]any)["taskToken"] = "{% $states.context.Task.Token %}"
			b, _ := json.Marshal(st["Assign"])
			var assign any
			json.Unmarshal([]byte(strings.ReplaceAll(string(b), "$states.result.Payload", "$states.result")), &assign)
			st["Assign"] = assign
		}
		if !found {
			t.Fatalf("no state for bpmn:%s", id)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
}

// TestParkedPayoutResumes: with parkOnOutage, a treasury outage longer
// than any retry parks the payments; the executions wait on their task
// tokens, a sweep while the treasury is still down costs one call, and
// the first sweep after it returns completes every execution, each paid
// once.
func TestParkedPayoutResumes(t *testing.T) {
	ctx := context.Background()
	src := strings.Replace(payoutBPMN, `<zeebe:header key="connector" value="treasury.payment" />`,
		`<zeebe:header key="connector" value="treasury.payment" /><zeebe:header key="parkOnOutage" value="true" />`, 1)
	s := newPayoutStack(t, src, 6*time.Hour, asCallback(t, "pay"))
	citizen := registries.Citizens()[0].TaxNumber
	const n = 4
	arns := s.start(t, n, citizen)

	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i, arn := range arns {
		x, err := s.eng.AwaitSettled(wctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != engine.StatusRunning {
			t.Fatalf("app-%d: %s %s %s, want parked", i, x.Status, x.Error, x.Cause)
		}
	}
	parked, err := s.h.Parked(ctx)
	if err != nil || len(parked) != n {
		t.Fatalf("parked = %d, %v; want %d", len(parked), err, n)
	}
	before := s.sim.Stats("treasury").Requests
	s.clock.Advance(time.Hour)
	if r, err := s.h.ResumeParked(ctx); err != nil || r != (eventwrite.ResumeReport{Parked: n}) {
		t.Fatalf("sweep during the outage = %+v, %v", r, err)
	}
	if calls := s.sim.Stats("treasury").Requests - before; calls != 1 {
		t.Errorf("a sweep during the outage made %d calls, want 1", calls)
	}

	s.clock.Advance(6 * time.Hour) // the treasury is back
	if r, err := s.h.ResumeParked(ctx); err != nil || r != (eventwrite.ResumeReport{Resumed: n}) {
		t.Fatalf("sweep after the outage = %+v, %v", r, err)
	}
	for i, arn := range arns {
		x, err := s.eng.AwaitSettled(wctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := s.deps.Applications.Get(ctx, fmt.Sprintf("app-%d", i))
		if x.Status != engine.StatusRunning || a.Status != posluha.StatusWaiting || a.Step != "confirm" {
			t.Fatalf("app-%d after resume: execution %s (%s %s), application %s at %s; want waiting at confirm",
				i, x.Status, x.Error, x.Cause, a.Status, a.Step)
		}
	}
	ans := &eventwrite.Answerer{Awaits: s.deps.Awaits, SFN: s.deps.SFN, Applications: s.deps.Applications, Now: s.clock.Now}
	for i, arn := range arns {
		if _, err := ans.Answer(ctx, fmt.Sprintf("confirm/app-%d", i), nil); err != nil {
			t.Fatal(err)
		}
		x, err := s.eng.Await(wctx, arn)
		if err != nil || x.Status != engine.StatusSucceeded {
			t.Fatalf("app-%d: %v %s %s %s", i, err, x.Status, x.Error, x.Cause)
		}
		// The payment's result reached the state machine through SendTaskSuccess.
		hist, err := s.eng.History(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		paid := false
		for _, e := range hist {
			if e.Type == "TaskSucceeded" && strings.Contains(value.String(e.Details), `"paymentId":"PAY-`) {
				paid = true
			}
		}
		if !paid {
			t.Errorf("app-%d: no task succeeded with the payment", i)
		}
	}
	if got := s.sim.EffectivePayments(); got != n {
		t.Errorf("%d effective payments, want %d", got, n)
	}
	if left, _ := s.h.Parked(ctx); len(left) != 0 {
		t.Errorf("%d writes still parked", len(left))
	}
}
