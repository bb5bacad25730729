package dispatcher_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
	localsqs "github.com/posluha/posluha/local/sqs"
)

// SFN is a func-field fake of dispatcher.SFN.
type SFN struct {
	StartExecutionFunc func(ctx context.Context, machine, name, input string) error
}

var _ dispatcher.SFN = (*SFN)(nil)

func (s *SFN) StartExecution(ctx context.Context, machine, name, input string) error {
	return s.StartExecutionFunc(ctx, machine, name, input)
}

func msg(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }

func appBody(id string) string {
	return `{"applicationId":"` + id + `","service":"svc","citizen":{"taxNumber":"1","name":"N","age":30},"form":{}}`
}

// sfnStack is the local engine behind the Step Functions API.
type sfnStack struct {
	client  *sfn.Client
	eng     *engine.Engine
	machine string
}

func newSFN(t *testing.T, quotas map[string]sfnapi.Quota) *sfnStack {
	t.Helper()
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{Quotas: quotas}).Handler())
	t.Cleanup(func() { srv.Close(); eng.Close() })
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1})
	out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String("svc"), RoleArn: aws.String("arn:aws:iam::000000000000:role/local"),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sfnStack{client: c, eng: eng, machine: *out.StateMachineArn}
}

func (s *sfnStack) executions(t *testing.T) []sfntypes.ExecutionListItem {
	t.Helper()
	var all []sfntypes.ExecutionListItem
	p := sfn.NewListExecutionsPaginator(s.client, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.machine)})
	for p.HasMorePages() {
		// The client under test makes one attempt (throttling must reach
		// the dispatcher); the check itself may retry a dropped connection.
		out, err := p.NextPage(context.Background(), func(o *sfn.Options) { o.RetryMaxAttempts = 5 })
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Executions...)
	}
	return all
}

// virtualClock advances when someone sleeps.
type virtualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *virtualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *virtualClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(max(d, 0))
	c.mu.Unlock()
	return nil
}

func TestDuplicatesStartOneExecution(t *testing.T) {
	s := newSFN(t, nil)
	h := dispatcher.New(dispatcher.Deps{SFN: dispatcher.NewStepFunctions(s.client), MachineARN: func(string) string { return s.machine }})
	ctx := context.Background()
	ev := events.SQSEvent{Records: []events.SQSMessage{msg("m1", appBody("app-1")), msg("m2", appBody("app-1")), msg("m3", appBody("app-2"))}}
	for range 2 { // and a second delivery of the whole batch
		resp, err := h.Handle(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("Handle = %+v, %v", resp, err)
		}
	}
	if n := len(s.executions(t)); n != 2 {
		t.Fatalf("%d executions, want 2", n)
	}
	// The same name with another input is not the same application.
	other := strings.Replace(appBody("app-1"), `"age":30`, `"age":31`, 1)
	resp, _ := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg("m4", other)}})
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("other input under the same name: %+v", resp)
	}
}

func TestThrottlingBacksOff(t *testing.T) {
	var (
		mu     sync.Mutex
		calls  int
		sleeps []time.Duration
	)
	fake := &SFN{StartExecutionFunc: func(_ context.Context, _, name, _ string) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 {
			return fmt.Errorf("start %s: %w", name, dispatcher.ErrThrottled)
		}
		return nil
	}}
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) // virtual: sleeping advances it
	h := dispatcher.New(dispatcher.Deps{SFN: fake, MachineARN: func(s string) string { return s }, Workers: 1,
		BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: func() float64 { return 0.999 },
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
		Sleep: func(_ context.Context, d time.Duration) error {
			if d > 0 {
				mu.Lock()
				sleeps = append(sleeps, d)
				clock = clock.Add(d)
				mu.Unlock()
			}
			return nil
		}})
	resp, _ := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg("m1", appBody("a"))}})
	if len(resp.BatchItemFailures) != 0 || calls != 4 {
		t.Fatalf("failures %v after %d calls", resp.BatchItemFailures, calls)
	}
	// Backoff sleeps grow: ~100, ~200, ~400 ms (the bucket's pause waits
	// may come in between).
	var backoffs []time.Duration
	for _, d := range sleeps {
		if len(backoffs) == 0 || d > backoffs[len(backoffs)-1] {
			backoffs = append(backoffs, d)
		}
	}
	if len(backoffs) < 3 || backoffs[0] < 90*time.Millisecond || backoffs[2] < 390*time.Millisecond {
		t.Fatalf("backoffs %v (sleeps %v)", backoffs, sleeps)
	}

	// Throttled past the attempts: the message goes back to the queue.
	always := &SFN{StartExecutionFunc: func(context.Context, string, string, string) error { return dispatcher.ErrThrottled }}
	vc := &virtualClock{t: clock}
	h = dispatcher.New(dispatcher.Deps{SFN: always, MachineARN: func(s string) string { return s }, Attempts: 3, Sleep: vc.sleep, Now: vc.now})
	resp, _ = h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg("m1", appBody("a")), msg("m2", appBody("b"))}})
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("failures %+v", resp)
	}
}

// TestThrottlingAgainstTheQuota runs a burst through the local Step
// Functions API with a StartExecution quota far below it: every message
// starts, none twice.
func TestThrottlingAgainstTheQuota(t *testing.T) {
	s := newSFN(t, map[string]sfnapi.Quota{"StartExecution": {Rate: 20, Burst: 5}})
	h := dispatcher.New(dispatcher.Deps{SFN: dispatcher.NewStepFunctions(s.client), MachineARN: func(string) string { return s.machine },
		Rate: 1000, Burst: 1000, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Attempts: 50})
	var recs []events.SQSMessage
	for i := range 30 {
		recs = append(recs, msg(fmt.Sprint("m", i), appBody(fmt.Sprint("app-", i))))
	}
	resp, _ := h.Handle(context.Background(), events.SQSEvent{Records: recs})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	if n := len(s.executions(t)); n != 30 {
		t.Fatalf("%d executions, want 30", n)
	}
}

func TestMalformedAndCancelled(t *testing.T) {
	started := map[string]bool{}
	fake := &SFN{StartExecutionFunc: func(_ context.Context, _, name, _ string) error { started[name] = true; return nil }}
	mem := dynamo.NewMemory()
	ctx := context.Background()
	now := time.Now()
	mem.Applications.Create(ctx, &posluha.Application{ID: "gone", Service: "svc", Citizen: "1", Created: now,
		StatusHistory: []posluha.StatusChange{{Status: posluha.StatusSubmitted, Time: now}}}, false)
	mem.Applications.Update(ctx, "gone", func(a *posluha.Application) error {
		return a.Move(posluha.StatusChange{Status: posluha.StatusCancelled, Time: now})
	})
	h := dispatcher.New(dispatcher.Deps{SFN: fake, MachineARN: func(s string) string { return s }, Applications: mem.Applications, Workers: 1})
	resp, _ := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		msg("bad1", "not json"), msg("bad2", `{"service":"svc"}`), msg("ok", appBody("fresh")), msg("cancelled", appBody("gone")),
	}})
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "bad1,bad2" || !started["fresh"] || started["gone"] {
		t.Fatalf("failed %v, started %v", failed, started)
	}
}

// TestPoisonGoesToDLQAndReplayBringsItBack runs the poller on the local SQS
// endpoint with a redrive policy.
func TestPoisonGoesToDLQAndReplayBringsItBack(t *testing.T) {
	srv, err := localsqs.New(t.TempDir(), localsqs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c := sqs.New(sqs.Options{Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("apps-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypesName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("apps"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + attrs.Attributes["QueueArn"] + `","maxReceiveCount":"2"}`, "VisibilityTimeout": "30"}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	broken := true
	started := map[string]int{}
	fake := &SFN{StartExecutionFunc: func(_ context.Context, _, name, _ string) error {
		mu.Lock()
		defer mu.Unlock()
		if name == "poison" && broken {
			return errors.New("InvalidExecutionInput")
		}
		started[name]++
		return nil
	}}
	h := dispatcher.New(dispatcher.Deps{SFN: fake, MachineARN: func(s string) string { return s }})
	for _, id := range []string{"a1", "poison", "a2"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(appBody(id))}); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	p := &dispatcher.Poller{SQS: c, QueueURL: *q.QueueUrl, Handler: h, Receivers: 1, WaitSeconds: 1, RetryVisibility: time.Millisecond}
	done := make(chan error)
	go func() { done <- p.Run(runCtx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := queueDepth(t, c, *dlq.QueueUrl)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poison message did not reach the DLQ (depth %d)", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	<-done
	mu.Lock()
	if started["a1"] != 1 || started["a2"] != 1 || started["poison"] != 0 {
		t.Fatalf("started %v", started)
	}
	broken = false
	mu.Unlock()

	moved, err := dispatcher.Replay(ctx, c, *dlq.QueueUrl, *q.QueueUrl)
	if err != nil || moved != 1 {
		t.Fatalf("Replay = %d, %v", moved, err)
	}
	if n := queueDepth(t, c, *dlq.QueueUrl); n != 0 {
		t.Fatalf("DLQ depth %d after replay", n)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("queue after replay: %v, %v", out, err)
	}
	var m dispatcher.Message
	json.Unmarshal([]byte(*out.Messages[0].Body), &m)
	if m.ApplicationID != "poison" {
		t.Fatalf("replayed %s", *out.Messages[0].Body)
	}
}

type sqstypesName = sqstypes.QueueAttributeName

func queueDepth(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &a)
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &b)
	return a + b
}

// TestDeadline: a batch still throttled when the invocation's time runs
// out is answered as failures (the handler stops backing off a second
// before the deadline), not left hanging.
func TestDeadline(t *testing.T) {
	always := &SFN{StartExecutionFunc: func(context.Context, string, string, string) error { return dispatcher.ErrThrottled }}
	h := dispatcher.New(dispatcher.Deps{SFN: always, MachineARN: func(s string) string { return s }, Attempts: 1000,
		BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg("m1", appBody("a")), msg("m2", appBody("b"))}})
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
}
