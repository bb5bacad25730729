package dispatcher_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/statemachines"
)

// brokenQueue refuses every send, as SQS does in an outage.
type brokenQueue struct {
	mu    sync.Mutex
	tries int
}

func (q *brokenQueue) Send(context.Context, string, []byte) error {
	q.mu.Lock()
	q.tries++
	q.mu.Unlock()
	return errors.New("sqs: service unavailable")
}

// TestSweepStartsWhatTheQueueNeverGot: the API stores an application, the
// queue refuses it, the citizen gets 503 and never retries; the sweeper
// starts its execution once it is old enough, once however often it
// sweeps, and leaves alone what already runs under another input.
func TestSweepStartsWhatTheQueueNeverGot(t *testing.T) {
	ctx := context.Background()
	mem := dynamo.NewMemory()
	queue := &brokenQueue{}
	svcs, err := statemachines.Load(statemachines.FS)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Deps{Services: svcs, Applications: mem.Applications, Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	idp, err := oidc.New(oidc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv := httptest.NewServer(idp.Handler())
	defer idpSrv.Close()
	idp.SetIssuer(idpSrv.URL)
	web := httptest.NewServer(gateway.New(h.Lambda(), gateway.Options{Issuer: idpSrv.URL, Audience: oidc.DefaultAudience, Public: api.PublicRoutes()}))
	defer web.Close()

	c := registries.Citizens()[0]
	tok, err := idp.CitizenToken(c.TaxNumber)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, web.URL+"/applications",
		strings.NewReader(`{"service":"lockdown-payout","form":{"iban":"UA213223130000026007233566001"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", "sweep-test-0001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || queue.tries != 1 {
		t.Fatalf("submission with the queue down = %d %s after %d sends, want 503 after 1", resp.StatusCode, body, queue.tries)
	}
	stored, _, err := mem.Applications.ListByCitizen(ctx, c.TaxNumber, 10, "")
	if err != nil || len(stored) != 1 || stored[0].Status != posluha.StatusSubmitted {
		t.Fatalf("stored = %v, %v; want one submitted application", stored, err)
	}
	app := stored[0]

	s := newSFN(t, nil)
	offset := time.Duration(0)
	var mu sync.Mutex
	d := dispatcher.New(dispatcher.Deps{
		SFN: dispatcher.NewStepFunctions(s.client), MachineARN: func(string) string { return s.machine },
		Applications: mem.Applications,
		Now:          func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) },
	})
	later := func(by time.Duration) { mu.Lock(); offset = by; mu.Unlock() }

	r, err := d.Sweep(ctx, dispatcher.SweepOptions{Age: 2 * time.Minute})
	if err != nil || r != (dispatcher.SweepResult{}) {
		t.Fatalf("sweep of a fresh application = %+v, %v; want nothing (its message may still come)", r, err)
	}
	if n := len(s.executions(t)); n != 0 {
		t.Fatalf("%d executions before any sweep found something", n)
	}
	later(3 * time.Minute)
	r, err = d.Sweep(ctx, dispatcher.SweepOptions{Age: 2 * time.Minute})
	if err != nil || r != (dispatcher.SweepResult{Found: 1, Started: 1}) {
		t.Fatalf("sweep = %+v, %v; want the application found and started", r, err)
	}
	// Started, it leaves the sweep although its process keeps it submitted.
	r, err = d.Sweep(ctx, dispatcher.SweepOptions{Age: 2 * time.Minute})
	if err != nil || r != (dispatcher.SweepResult{}) {
		t.Fatalf("second sweep = %+v, %v; want nothing", r, err)
	}
	if a, err := mem.Applications.Get(ctx, app.ID); err != nil || a.Status != posluha.StatusSubmitted {
		t.Fatalf("swept application = %+v, %v; want it still submitted (its process moves it)", a, err)
	}
	ex := s.executions(t)
	if len(ex) != 1 || aws.ToString(ex[0].Name) != app.ID {
		t.Fatalf("executions = %+v, want one named %s", ex, app.ID)
	}
	out, err := s.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex[0].ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		ApplicationID string `json:"applicationId"`
		Service       string `json:"service"`
		Citizen       struct {
			TaxNumber string `json:"taxNumber"`
		} `json:"citizen"`
		Form map[string]any `json:"form"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Input)), &in); err != nil || in.ApplicationID != app.ID || in.Service != "lockdown-payout" ||
		in.Citizen.TaxNumber != c.TaxNumber || in.Form["iban"] != "UA213223130000026007233566001" {
		t.Errorf("execution input = %s (%v), want the application's id, service, citizen and form", aws.ToString(out.Input), err)
	}

	// An application whose late message started it with the full input:
	// the sweep sees a name taken by another input and starts nothing.
	late := &posluha.Application{ID: "late-1", Service: "lockdown-payout", Citizen: "2", Form: map[string]any{}, Created: time.Now().Add(-time.Hour)}
	if err := mem.Applications.Create(ctx, late, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.machine), Name: aws.String("late-1"),
		Input: aws.String(`{"applicationId":"late-1","citizen":{"taxNumber":"2","name":"N","age":40}}`)}); err != nil {
		t.Fatal(err)
	}
	r, err = d.Sweep(ctx, dispatcher.SweepOptions{Age: 2 * time.Minute})
	if err != nil || r != (dispatcher.SweepResult{Found: 1, Running: 1}) {
		t.Errorf("sweep with a late message = %+v, %v; want it found, running", r, err)
	}
	if n := len(s.executions(t)); n != 2 {
		t.Errorf("%d executions, want 2", n)
	}
	// While the queue has a backlog, old submitted applications are in it:
	// no sweep. A queue that cannot say is swept anyway.
	orphan := &posluha.Application{ID: "orphan-1", Service: "lockdown-payout", Citizen: "3", Form: map[string]any{}, Created: time.Now().Add(-time.Hour)}
	if err := mem.Applications.Create(ctx, orphan, false); err != nil {
		t.Fatal(err)
	}
	backlog, backlogErr := 3, error(nil)
	held := dispatcher.New(dispatcher.Deps{
		SFN: &SFN{StartExecutionFunc: func(context.Context, string, string, string) error {
			t.Error("a sweep held back by the backlog started an execution")
			return nil
		}},
		MachineARN: func(string) string { return s.machine }, Applications: mem.Applications,
		Backlog: func(context.Context) (int, error) { return backlog, backlogErr },
	})
	if r, err := held.Sweep(ctx, dispatcher.SweepOptions{}); err != nil || r != (dispatcher.SweepResult{Backlog: 3}) {
		t.Errorf("sweep with a backlog = %+v, %v; want only the backlog", r, err)
	}
	backlog, backlogErr = 0, errors.New("sqs down")
	d2 := dispatcher.New(dispatcher.Deps{
		SFN: dispatcher.NewStepFunctions(s.client), MachineARN: func(string) string { return s.machine }, Applications: mem.Applications,
		Backlog: func(context.Context) (int, error) { return backlog, backlogErr },
	})
	if r, err := d2.Sweep(ctx, dispatcher.SweepOptions{}); err != nil || r != (dispatcher.SweepResult{Found: 1, Started: 1}) {
		t.Errorf("sweep with the queue unreachable = %+v, %v; want orphan-1 found and started", r, err)
	}
	if n := len(s.executions(t)); n != 3 {
		t.Errorf("%d executions, want 3 (one per application)", n)
	}
}

// TestInvokeRoutes: the Lambda entry point tells an SQS batch from the
// scheduled sweep and refuses anything else by name.
func TestInvokeRoutes(t *testing.T) {
	ctx := context.Background()
	mem := dynamo.NewMemory()
	var started []string
	d := dispatcher.New(dispatcher.Deps{
		SFN: &SFN{StartExecutionFunc: func(_ context.Context, _, name, _ string) error {
			started = append(started, name)
			return nil
		}},
		MachineARN: func(s string) string { return "arn:" + s }, Applications: mem.Applications, Workers: 1,
	})
	old := &posluha.Application{ID: "old-1", Service: "svc", Citizen: "1", Created: time.Now().Add(-time.Hour)}
	if err := mem.Applications.Create(ctx, old, false); err != nil {
		t.Fatal(err)
	}
	out, err := d.Invoke(ctx, json.RawMessage(`{"Records":[{"messageId":"m1","body":`+jsonString(appBody("a-1"))+`}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"batchItemFailures":[]`) && !strings.Contains(string(b), `"batchItemFailures":null`) {
		t.Errorf("SQS batch answer = %s, want no failures", b)
	}
	out, err = d.Invoke(ctx, json.RawMessage(`{"action":"sweep","age":"30m","limit":10}`))
	if err != nil || out != (dispatcher.SweepResult{Found: 1, Started: 1}) {
		t.Errorf("sweep event = %+v, %v", out, err)
	}
	if strings.Join(started, ",") != "a-1,old-1" {
		t.Errorf("started %v, want a-1 then old-1", started)
	}
	for _, bad := range []string{`{"action":"sweep","age":"soon"}`, `{"action":"sweep","age":"-1m"}`, `{"action":"dance"}`, `{}`, `[1,2]`, `not json`} {
		if _, err := d.Invoke(ctx, json.RawMessage(bad)); err == nil {
			t.Errorf("Invoke(%s) = nil error", bad)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
