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

// TestPayoutThroughOutage runs a batch of applications through the
// compiled BPMN on the local engine, with eventwrite wired as in AWS (the
// SDK against local DynamoDB and Step Functions endpoints) and the
// treasury in a maintenance window when the batch starts: every
// application completes after the window, each paid exactly once, and the
// user task is answered through Answerer.
func TestPayoutThroughOutage(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(t0)

	sim := registries.New(registries.Options{Seed: 7, Now: clock.Now})
	if err := sim.SetProfile("treasury", registries.Profile{Maintenance: []registries.Window{{From: t0, To: t0.Add(20 * time.Second)}}}); err != nil {
		t.Fatal(err)
	}
	regs := httptest.NewServer(sim.Handler())
	defer regs.Close()

	res, ds := bpmn2asl.Compile("payout.bpmn", []byte(payoutBPMN), bpmn2asl.Options{Service: "payout"})
	if res == nil {
		t.Fatalf("compile: %v", ds)
	}
	def := strings.ReplaceAll(string(res.ASL), "${EventWriteFunctionArn}", posluha.LocalFunctionARN("eventwrite"))

	lambdas := lambdarun.New()
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Clock: clock, AutoAdvance: true,
		Invoker: &engine.Router{Lambda: lambdas}, Region: "local", Account: "000000000000"})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	// One endpoint for the AWS APIs, routed by X-Amz-Target as AWS's are
	// by host: DynamoDB and Step Functions.
	db, err := localddb.New(t.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sfnSrv := sfnapi.New(eng, sfnapi.Options{Now: clock.Now})
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
			db.Handler().ServeHTTP(w, r)
			return
		}
		sfnSrv.Handler().ServeHTTP(w, r)
	}))
	defer edge.Close()
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
	deps, err := eventwrite.WireDeps(ctx, cfg, slog.New(slog.DiscardHandler), getenv)
	if err != nil {
		t.Fatal(err)
	}
	out := outbox.New()
	deps.Outbox = out // the local stack's outbox
	deps.Now = clock.Now
	lambdas.Register("eventwrite", eventwrite.New(deps).Lambda())
	if _, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "payout", Definition: def}); err != nil {
		t.Fatal(err)
	}

	const n = 5
	citizen := registries.Citizens()[0].TaxNumber
	var arns []string
	for i := range n {
		id := fmt.Sprintf("app-%d", i)
		if err := deps.Applications.Create(ctx, &posluha.Application{ID: id, Service: "payout", Citizen: citizen, Created: t0}, false); err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(map[string]any{"applicationId": id, "service": "payout", "citizen": map[string]any{"taxNumber": citizen},
			"form": map[string]any{"iban": "UA213223130000026007233566001"}})
		x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: eng.MachineARN("payout"), Name: id, Input: string(in)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.ARN)
	}

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
