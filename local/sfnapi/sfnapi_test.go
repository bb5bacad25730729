package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
	"github.com/posluha/posluha/local/store"
	"github.com/posluha/posluha/query/value"
)

const (
	role        = "arn:aws:iam::111111111111:role/local"
	passMachine = `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.a","Next":"B"},
		"B":{"Type":"Pass","Parameters":{"b.$":"$.a.a","in.$":"$"},"Next":"C"},
		"C":{"Type":"Pass","End":true}}}`
	waitMachine = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	// callbackMachine parks on a Lambda task until SendTask* answers.
	callbackMachine = `{"StartAt":"Sign","States":{
		"Sign":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:sign",
				"Payload":{"applicationId.$":"$.applicationId","taskToken.$":"$$.Task.Token"}},
			"ResultPath":"$.signature","Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`
)

// stack is an engine, the API server in front of it and an SDK client.
type stack struct {
	t      testing.TB
	store  engine.Store
	eng    *engine.Engine
	srv    *httptest.Server
	client *sfn.Client
}

type stackConfig struct {
	store   engine.Store
	invoker engine.Invoker
	clock   engine.Clock
	noStart bool // leave the timer loop off (timers never fire)
	auto    bool // the timer loop jumps a virtual clock to the next timer
	now     func() time.Time
}

func newStack(tb testing.TB, cfg stackConfig) *stack {
	tb.Helper()
	if cfg.store == nil {
		cfg.store = engine.NewMemStore()
	}
	eng := engine.New(engine.Config{Store: cfg.store, Invoker: cfg.invoker, Clock: cfg.clock, AutoAdvance: cfg.auto})
	if !cfg.noStart {
		if err := eng.Start(context.Background()); err != nil {
			tb.Fatal(err)
		}
	}
	tokens, _ := cfg.store.(sfnapi.TokenIndex)
	api := sfnapi.New(eng, sfnapi.Options{Tokens: tokens, Now: cfg.now, TestInvoker: cfg.invoker})
	srv := httptest.NewServer(api.Handler())
	s := &stack{t: tb, store: cfg.store, eng: eng, srv: srv, client: newClient(srv.URL)}
	tb.Cleanup(s.close)
	return s
}

func (s *stack) close() {
	s.srv.Close()
	_ = s.eng.Close()
}

// newClient is the real SDK client pointed at url. StartSyncExecution
// would prefix the host with "sync-" (which does not resolve for
// 127.0.0.1), so the client turns host prefixes off, as doc.go advises.
func newClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		RetryMaxAttempts: 1,
	}, sfn.WithAPIOptions(noHostPrefix))
}

func noHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("NoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func (s *stack) createMachine(name, def, typ string) string {
	s.t.Helper()
	out, err := s.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role), Type: types.StateMachineType(typ),
	})
	if err != nil {
		s.t.Fatalf("create %s: %v", name, err)
	}
	return *out.StateMachineArn
}

func (s *stack) start(machine, name, input string) string {
	s.t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := s.client.StartExecution(context.Background(), in)
	if err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	return *out.ExecutionArn
}

// await waits for the execution to leave RUNNING (the engine signals it).
func (s *stack) await(arn string) *sfn.DescribeExecutionOutput {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.eng.Await(ctx, arn); err != nil {
		s.t.Fatalf("await %s: %v", arn, err)
	}
	out, err := s.client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// parked waits until the engine has saved the task waiting for token.
// A Lambda sees its token before that (the engine indexes tokens when the
// pass parks, after the invocation returns), and until then SendTask*
// answers TaskDoesNotExist.
func (s *stack) parked(token string) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := s.store.TokenOwner(context.Background(), token); err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatal("the task never parked")
		}
		time.Sleep(time.Millisecond)
	}
}

// wantAPIError checks that err unwraps into the SDK's exception type T.
func wantAPIError[T error](t *testing.T, err error) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T), want %T", err, err, target)
	}
}

func TestStateMachineLifecycle(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	c := s.client

	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("apply"), Definition: aws.String(passMachine), RoleArn: aws.String(role), Publish: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := *created.StateMachineArn
	if want := "arn:aws:states:us-east-1:111111111111:stateMachine:apply"; arn != want {
		t.Errorf("arn = %s, want %s", arn, want)
	}
	if got := aws.ToString(created.StateMachineVersionArn); got != arn+":1" {
		t.Errorf("version arn = %s", got)
	}
	if created.CreationDate == nil || time.Since(*created.CreationDate) > time.Minute {
		t.Errorf("creation date = %v", created.CreationDate)
	}

	// Same name and definition: the existing machine; another definition: a conflict.
	again, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("apply"), Definition: aws.String(passMachine), RoleArn: aws.String(role)})
	if err != nil || *again.StateMachineArn != arn {
		t.Fatalf("idempotent create = %v, %v", again, err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("apply"), Definition: aws.String(waitMachine), RoleArn: aws.String(role)})
	wantAPIError[*types.StateMachineAlreadyExists](t, err)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(`{"StartAt":"X","States":{}}`), RoleArn: aws.String(role)})
	wantAPIError[*types.InvalidDefinition](t, err)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad name"), Definition: aws.String(passMachine), RoleArn: aws.String(role)})
	wantAPIError[*types.InvalidName](t, err)

	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Name != "apply" || *d.Definition != passMachine || d.Type != types.StateMachineTypeStandard || d.Status != types.StateMachineStatusActive || *d.RoleArn != role {
		t.Errorf("describe = %+v", d)
	}

	up, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(waitMachine), Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(up.StateMachineVersionArn); got != arn+":2" || aws.ToString(up.RevisionId) == "" {
		t.Errorf("update = version %s revision %s", got, aws.ToString(up.RevisionId))
	}
	_, err = c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn)})
	wantAPIError[*types.MissingRequiredParameter](t, err)
	_, err = c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(`{`)})
	wantAPIError[*types.InvalidDefinition](t, err)

	v1, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
	if err != nil || *v1.Definition != passMachine || *v1.StateMachineArn != arn+":1" {
		t.Fatalf("describe version 1 = %v, %v", v1, err)
	}
	latest, _ := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if *latest.Definition != waitMachine {
		t.Errorf("latest definition = %s", *latest.Definition)
	}

	pub, err := c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(arn), RevisionId: latest.RevisionId})
	if err != nil || *pub.StateMachineVersionArn != arn+":2" {
		t.Fatalf("publish = %v, %v", pub, err)
	}
	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(arn), RevisionId: v1.RevisionId})
	wantAPIError[*types.ConflictException](t, err)

	var versions []string
	var next *string
	for {
		page, err := c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(arn), MaxResults: 1, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.StateMachineVersions) > 1 {
			t.Errorf("page of %d versions, want at most 1", len(page.StateMachineVersions))
		}
		for _, v := range page.StateMachineVersions {
			versions = append(versions, *v.StateMachineVersionArn)
		}
		if next = page.NextToken; next == nil {
			break
		}
	}
	if want := []string{arn + ":2", arn + ":1"}; !slices.Equal(versions, want) {
		t.Errorf("versions = %v, want %v", versions, want)
	}

	for _, n := range []string{"b1", "b2", "b3", "b4"} {
		s.createMachine(n, passMachine, "")
	}
	var names []string
	mp := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 2})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.StateMachines {
			names = append(names, *m.Name)
		}
	}
	if want := []string{"apply", "b1", "b2", "b3", "b4"}; !slices.Equal(names, want) {
		t.Errorf("machines = %v, want %v", names, want)
	}

	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)
	// Deleting again is not an error, as in AWS.
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestExecutions(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	c := s.client
	pass := s.createMachine("pass", passMachine, "")
	wait := s.createMachine("wait", waitMachine, "")

	x := s.start(pass, "app-1", `{"applicationId":"app-1"}`)
	if want := "arn:aws:states:us-east-1:111111111111:execution:pass:app-1"; x != want {
		t.Errorf("execution arn = %s, want %s", x, want)
	}
	d := s.await(x)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status = %s", d.Status)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil || out["b"] != 1.0 {
		t.Errorf("output = %s (%v)", aws.ToString(d.Output), err)
	}
	if *d.Input != `{"applicationId":"app-1"}` || *d.Name != "app-1" || *d.StateMachineArn != pass || d.StopDate == nil || d.StartDate.After(*d.StopDate) {
		t.Errorf("describe = %+v", d)
	}
	if aws.ToString(d.StateMachineVersionArn) != pass+":1" || d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable {
		t.Errorf("version %s redrive %s", aws.ToString(d.StateMachineVersionArn), d.RedriveStatus)
	}
	meta, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x), IncludedData: types.IncludedDataMetadataOnly})
	if err != nil || meta.Input != nil || meta.Output != nil {
		t.Errorf("metadata only: %v %v", meta, err)
	}

	// A finished execution's name cannot be reused.
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass), Name: aws.String("app-1"), Input: aws.String(`{"applicationId":"app-1"}`)})
	wantAPIError[*types.ExecutionAlreadyExists](t, err)

	// A running one: same input → same execution, other input → conflict.
	w := s.start(wait, "app-2", `{"n":1}`)
	if again := s.start(wait, "app-2", `{"n":1}`); again != w {
		t.Errorf("idempotent start = %s, want %s", again, w)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(wait), Name: aws.String("app-2"), Input: aws.String(`{"n":2}`)})
	wantAPIError[*types.ExecutionAlreadyExists](t, err)

	sm, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(w)})
	if err != nil || *sm.Definition != waitMachine || *sm.StateMachineArn != wait {
		t.Errorf("describe machine for execution = %v, %v", sm, err)
	}

	stop, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(w), Error: aws.String("Citizen.Cancelled"), Cause: aws.String("withdrawn")})
	if err != nil || stop.StopDate == nil {
		t.Fatalf("stop = %v, %v", stop, err)
	}
	ds := s.await(w)
	if ds.Status != types.ExecutionStatusAborted || aws.ToString(ds.Error) != "Citizen.Cancelled" || aws.ToString(ds.Cause) != "withdrawn" {
		t.Errorf("stopped = %s %s %s", ds.Status, aws.ToString(ds.Error), aws.ToString(ds.Cause))
	}
	if ds.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Errorf("redrive status of an aborted execution = %s", ds.RedriveStatus)
	}

	cases := []struct {
		name string
		call func() error
		want func(*testing.T, error)
	}{
		{"unknown execution", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(pass[:strings.LastIndex(pass, ":stateMachine:")] + ":execution:pass:nope")})
			return err
		}, wantAPIError[*types.ExecutionDoesNotExist]},
		{"malformed execution arn", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("not-an-arn")})
			return err
		}, wantAPIError[*types.InvalidArn]},
		{"machine arn where an execution is expected", func() error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(pass)})
			return err
		}, wantAPIError[*types.InvalidArn]},
		{"unknown machine", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass + "-gone")})
			return err
		}, wantAPIError[*types.StateMachineDoesNotExist]},
		{"unknown version", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass + ":9")})
			return err
		}, wantAPIError[*types.StateMachineDoesNotExist]},
		{"input not JSON", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass), Input: aws.String("{")})
			return err
		}, wantAPIError[*types.InvalidExecutionInput]},
		{"bad execution name", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass), Name: aws.String("a b")})
			return err
		}, wantAPIError[*types.InvalidName]},
		{"maxResults out of range", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), MaxResults: 5000})
			return err
		}, wantAPIError[*types.ValidationException]},
		{"bad status filter", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), StatusFilter: "DONE"})
			return err
		}, wantAPIError[*types.ValidationException]},
		{"garbage page token", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), NextToken: aws.String("!!")})
			return err
		}, wantAPIError[*types.InvalidToken]},
		{"redrive a succeeded execution", func() error {
			_, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(x)})
			return err
		}, wantAPIError[*types.ExecutionNotRedrivable]},
		{"sync start of a standard machine", func() error {
			_, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(pass)})
			return err
		}, wantAPIError[*types.StateMachineTypeNotSupported]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.want(t, tc.call()) })
	}
}

func TestStartSyncExecution(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	express := s.createMachine("quote", passMachine, "EXPRESS")
	out, err := s.client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(express), Input: aws.String(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"b":1`) || out.StopDate == nil || out.BillingDetails == nil {
		t.Errorf("sync = %+v", out)
	}
	if !strings.Contains(*out.ExecutionArn, ":express:quote:") {
		t.Errorf("express execution arn = %s", *out.ExecutionArn)
	}
	failing := s.createMachine("fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Registry.NotFound","Cause":"no such person"}}}`, "EXPRESS")
	out, err = s.client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(failing)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusFailed || aws.ToString(out.Error) != "Registry.NotFound" || aws.ToString(out.Cause) != "no such person" || out.Output != nil {
		t.Errorf("failed sync = %+v", out)
	}
}

func TestListExecutionsPagination(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	pass := s.createMachine("pass", passMachine, "")
	wait := s.createMachine("wait", waitMachine, "")
	var want []string
	for i := range 7 {
		x := s.start(pass, "p"+string(rune('a'+i)), `{}`)
		s.await(x)
		want = append(want, x)
	}
	slices.Reverse(want) // newest first
	running := s.start(wait, "w1", `{}`)
	stopped := s.start(wait, "w2", `{}`)
	if _, err := s.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(stopped)}); err != nil {
		t.Fatal(err)
	}

	list := func(in *sfn.ListExecutionsInput) (arns []string, pages int) {
		t.Helper()
		p := sfn.NewListExecutionsPaginator(s.client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, x := range page.Executions {
				arns = append(arns, *x.ExecutionArn)
				if x.StartDate == nil || !strings.HasPrefix(*in.StateMachineArn, *x.StateMachineArn) {
					t.Errorf("item = %+v", x)
				}
			}
		}
		return arns, pages
	}
	got, pages := list(&sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), MaxResults: 3})
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("pass executions = %v in %d pages, want %v in 3", got, pages, want)
	}
	got, _ = list(&sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), StatusFilter: types.ExecutionStatusFailed})
	if len(got) != 0 {
		t.Errorf("failed executions = %v", got)
	}
	got, _ = list(&sfn.ListExecutionsInput{StateMachineArn: aws.String(wait), StatusFilter: types.ExecutionStatusRunning, MaxResults: 1})
	if !slices.Equal(got, []string{running}) {
		t.Errorf("running = %v, want %v", got, running)
	}
	got, _ = list(&sfn.ListExecutionsInput{StateMachineArn: aws.String(wait), StatusFilter: types.ExecutionStatusAborted})
	if !slices.Equal(got, []string{stopped}) {
		t.Errorf("aborted = %v, want %v", got, stopped)
	}
	got, _ = list(&sfn.ListExecutionsInput{StateMachineArn: aws.String(pass + ":1"), MaxResults: 100})
	if len(got) != 7 {
		t.Errorf("executions of version 1 = %d, want 7", len(got))
	}
}

func TestExecutionHistory(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	x := s.start(s.createMachine("pass", passMachine, ""), "h", `{"applicationId":"a"}`)
	s.await(x)
	full, err := s.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x)})
	if err != nil {
		t.Fatal(err)
	}
	var types_ []string
	for i, ev := range full.Events {
		types_ = append(types_, string(ev.Type))
		if ev.Id != int64(i+1) || ev.PreviousEventId > ev.Id || ev.Timestamp == nil || time.Since(*ev.Timestamp) > time.Minute {
			t.Errorf("event %d = id %d previous %d at %v", i, ev.Id, ev.PreviousEventId, ev.Timestamp)
		}
	}
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if !slices.Equal(types_, want) {
		t.Fatalf("events = %v, want %v", types_, want)
	}
	first := full.Events[0].ExecutionStartedEventDetails
	if first == nil || aws.ToString(first.Input) != `{"applicationId":"a"}` || aws.ToString(first.RoleArn) != role {
		t.Errorf("ExecutionStarted details = %+v", first)
	}
	entered := full.Events[1].StateEnteredEventDetails
	if entered == nil || *entered.Name != "A" || aws.ToString(entered.Input) != `{"applicationId":"a"}` {
		t.Errorf("PassStateEntered details = %+v", entered)
	}
	exited := full.Events[2].StateExitedEventDetails
	if exited == nil || *exited.Name != "A" || !strings.Contains(aws.ToString(exited.Output), `"a":{"a":1}`) {
		t.Errorf("PassStateExited details = %+v", exited)
	}
	if d := full.Events[7].ExecutionSucceededEventDetails; d == nil || !strings.Contains(aws.ToString(d.Output), `"b":1`) {
		t.Errorf("ExecutionSucceeded details = %+v", d)
	}

	page := func(reverse bool, size int32) []int64 {
		var ids []int64
		p := sfn.NewGetExecutionHistoryPaginator(s.client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x), ReverseOrder: reverse, MaxResults: size})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Events) > int(size) {
				t.Errorf("page of %d events, want at most %d", len(pg.Events), size)
			}
			for _, ev := range pg.Events {
				ids = append(ids, ev.Id)
			}
		}
		return ids
	}
	if got := page(false, 3); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("forward pages = %v", got)
	}
	if got := page(true, 3); !slices.Equal(got, []int64{8, 7, 6, 5, 4, 3, 2, 1}) {
		t.Errorf("reverse pages = %v", got)
	}

	bare, err := s.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x), IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if d := bare.Events[1].StateEnteredEventDetails; d == nil || *d.Name != "A" || d.Input != nil {
		t.Errorf("without data: %+v", d)
	}
	_, err = s.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x + "-nope")})
	wantAPIError[*types.ExecutionDoesNotExist](t, err)
}

// lambdas is a fake Lambda service: the sign function records the task
// token it receives (the engine parks until SendTask* answers).
type lambdas struct {
	mu     sync.Mutex
	tokens []string
	got    chan string
}

func newLambdas() *lambdas { return &lambdas{got: make(chan string, 16)} }

func (l *lambdas) InvokeFunction(_ context.Context, arn string, payload []byte) ([]byte, error) {
	var p struct {
		TaskToken string `json:"taskToken"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.tokens = append(l.tokens, p.TaskToken)
	l.mu.Unlock()
	l.got <- p.TaskToken
	return []byte(`{"requestId":"r1"}`), nil
}

func (l *lambdas) next(t testing.TB) string {
	t.Helper()
	select {
	case tok := <-l.got:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no task token reached the Lambda")
		return ""
	}
}

func TestTaskTokens(t *testing.T) {
	fns := newLambdas()
	s := newStack(t, stackConfig{invoker: &engine.Router{Lambda: fns}})
	ctx := context.Background()
	c := s.client
	m := s.createMachine("sign", callbackMachine, "")

	x := s.start(m, "app-7", `{"applicationId":"app-7"}`)
	token := fns.next(t)
	s.parked(token)
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"cms":"MIIB"}`)}); err != nil {
		t.Fatal(err)
	}
	d := s.await(x)
	if d.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), `"signature":{"cms":"MIIB"}`) {
		t.Fatalf("after SendTaskSuccess: %s %s", d.Status, aws.ToString(d.Output))
	}

	cases := []struct {
		name string
		call func() error
		want func(*testing.T, error)
	}{
		{"answered token", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
			return err
		}, wantAPIError[*types.TaskDoesNotExist]},
		{"garbage token", func() error {
			_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("not a token")})
			return err
		}, wantAPIError[*types.InvalidToken]},
		{"output not JSON", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{`)})
			return err
		}, wantAPIError[*types.InvalidOutput]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.want(t, tc.call()) })
	}

	// A failure answer fails the execution; redrive reruns the task.
	y := s.start(m, "app-8", `{"applicationId":"app-8"}`)
	tok := fns.next(t)
	s.parked(tok)
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("Signature.Invalid"), Cause: aws.String("bad CMS")}); err != nil {
		t.Fatal(err)
	}
	if d := s.await(y); d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Signature.Invalid" || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("after SendTaskFailure: %s %s %s", d.Status, aws.ToString(d.Error), d.RedriveStatus)
	}
	r, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(y), ClientToken: aws.String("click-1")})
	if err != nil || r.RedriveDate == nil {
		t.Fatalf("redrive = %v, %v", r, err)
	}
	// A double click: the same client token gets the same answer.
	if again, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(y), ClientToken: aws.String("click-1")}); err != nil || !again.RedriveDate.Equal(*r.RedriveDate) {
		t.Errorf("repeated redrive = %v, %v", again, err)
	}
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(y), ClientToken: aws.String("click-2")})
	wantAPIError[*types.ExecutionNotRedrivable](t, err)
	tok2 := fns.next(t)
	s.parked(tok2)
	if tok2 == tok {
		t.Error("redrive handed out the old task token")
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok2), Output: aws.String(`"ok"`)}); err != nil {
		t.Fatal(err)
	}
	d = s.await(y)
	if d.Status != types.ExecutionStatusSucceeded || d.RedriveCount == nil || *d.RedriveCount != 1 || d.RedriveDate == nil {
		t.Errorf("after redrive: %s count %v", d.Status, d.RedriveCount)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(y), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ev := range h.Events {
		seen = append(seen, string(ev.Type))
		if ev.Type == types.HistoryEventTypeTaskScheduled {
			if ev.TaskScheduledEventDetails == nil || *ev.TaskScheduledEventDetails.ResourceType != "lambda" || !strings.Contains(*ev.TaskScheduledEventDetails.Parameters, "app-8") {
				t.Errorf("TaskScheduled details = %+v", ev.TaskScheduledEventDetails)
			}
		}
		if ev.Type == types.HistoryEventTypeTaskFailed && aws.ToString(ev.TaskFailedEventDetails.Error) != "Signature.Invalid" {
			t.Errorf("TaskFailed details = %+v", ev.TaskFailedEventDetails)
		}
		if ev.Type == types.HistoryEventTypeExecutionRedriven && ev.ExecutionRedrivenEventDetails.RedriveCount == nil {
			t.Errorf("ExecutionRedriven details = %+v", ev.ExecutionRedrivenEventDetails)
		}
	}
	for _, want := range []string{"TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed", "ExecutionRedriven", "TaskSucceeded", "ExecutionSucceeded"} {
		if !slices.Contains(seen, want) {
			t.Errorf("history %v lacks %s", seen, want)
		}
	}
}

// TestTaskTimedOut: an answer after the task's deadline is TaskTimedOut
// even before the engine's timer closed the task. The timer loop is off
// and the clock virtual, so the window stays open.
func TestTaskTimedOut(t *testing.T) {
	clock := engine.NewVirtualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	fns := newLambdas()
	s := newStack(t, stackConfig{invoker: &engine.Router{Lambda: fns}, clock: clock, noStart: true, now: clock.Now})
	def := strings.Replace(callbackMachine, `"ResultPath"`, `"TimeoutSeconds":60,"HeartbeatSeconds":10,"ResultPath"`, 1)
	s.start(s.createMachine("sign", def, ""), "late", `{"applicationId":"late"}`)
	token := fns.next(t)
	ctx := context.Background()
	s.parked(token) // so that moving the clock cannot race with the pass
	clock.Advance(11 * time.Second)
	_, err := s.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
	wantAPIError[*types.TaskTimedOut](t, err)
	_, err = s.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	wantAPIError[*types.TaskTimedOut](t, err)
}

// TestRestart parks an execution on a task token in a bbolt file, shuts
// everything down, reopens the file and finishes the execution through a
// new server.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfn.db")
	fns := newLambdas()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackConfig{store: db, invoker: &engine.Router{Lambda: fns}})
	m := s.createMachine("sign", callbackMachine, "")
	x := s.start(m, "app-9", `{"applicationId":"app-9"}`)
	token := fns.next(t)
	s.parked(token)
	s.close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	s2 := newStack(t, stackConfig{store: db2, invoker: &engine.Router{Lambda: fns}})
	ctx := context.Background()
	d, err := s2.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x)})
	if err != nil || d.Status != types.ExecutionStatusRunning {
		t.Fatalf("after restart: %v, %v", d, err)
	}
	if _, err := s2.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"cms":"after-restart"}`)}); err != nil {
		t.Fatal(err)
	}
	d = s2.await(x)
	if d.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), "after-restart") {
		t.Fatalf("resumed execution: %s %s", d.Status, aws.ToString(d.Output))
	}
	h, err := s2.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Events); n == 0 || h.Events[n-1].Type != types.HistoryEventTypeExecutionSucceeded {
		t.Errorf("history after restart ends with %v", h.Events[len(h.Events)-1].Type)
	}
	fns.mu.Lock()
	defer fns.mu.Unlock()
	if len(fns.tokens) != 1 {
		t.Errorf("the sign Lambda ran %d times, want once", len(fns.tokens))
	}
}

func TestValidateStateMachineDefinition(t *testing.T) {
	s := newStack(t, stackConfig{})
	cases := []struct {
		name, def  string
		wantResult types.ValidateStateMachineDefinitionResultCode
		wantCode   string
	}{
		{"valid", passMachine, types.ValidateStateMachineDefinitionResultCodeOk, ""},
		{"missing target", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`, types.ValidateStateMachineDefinitionResultCodeFail, "MISSING_TRANSITION_TARGET"},
		{"not JSON", `{"StartAt":`, types.ValidateStateMachineDefinitionResultCodeFail, "INVALID_JSON_DESCRIPTION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.client.ValidateStateMachineDefinition(context.Background(), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tc.def)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != tc.wantResult {
				t.Errorf("result = %s, want %s", out.Result, tc.wantResult)
			}
			if tc.wantCode == "" {
				if len(out.Diagnostics) != 0 {
					t.Errorf("diagnostics = %+v", out.Diagnostics)
				}
				return
			}
			if len(out.Diagnostics) == 0 || *out.Diagnostics[0].Code != tc.wantCode || out.Diagnostics[0].Severity != types.ValidateStateMachineDefinitionSeverityError || aws.ToString(out.Diagnostics[0].Message) == "" {
				t.Errorf("diagnostics = %+v, want code %s", out.Diagnostics, tc.wantCode)
			}
		})
	}
}

// TestStartSyncExecutionTimeout: an express execution that outlives the
// synchronous limit is stopped and reported as TIMED_OUT.
func TestStartSyncExecutionTimeout(t *testing.T) {
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	t.Cleanup(func() { _ = eng.Close() })
	srv := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{SyncTimeout: 100 * time.Millisecond}).Handler())
	t.Cleanup(srv.Close)
	c := newClient(srv.URL)
	ctx := context.Background()
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("slow"), Definition: aws.String(waitMachine), RoleArn: aws.String(role), Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: m.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusTimedOut || aws.ToString(out.Error) != "States.Timeout" {
		t.Errorf("= %s %s", out.Status, aws.ToString(out.Error))
	}
}

// TestVersionedExecutions: an execution started through a version ARN runs
// that version's definition, also after the machine was updated, and the
// execution reports the version it runs on.
func TestVersionedExecutions(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	m := s.createMachine("svc", `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v1","End":true}}}`, "")
	if _, err := s.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(m),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v2","End":true}}}`), Publish: true}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ arn, wantOutput, wantVersion string }{
		{m + ":1", `"v1"`, m + ":1"},
		{m + ":2", `"v2"`, m + ":2"},
		{m, `"v2"`, m + ":2"},
	}
	for i, tc := range cases {
		d := s.await(s.start(tc.arn, "x"+string(rune('0'+i)), `{}`))
		if aws.ToString(d.Output) != tc.wantOutput || aws.ToString(d.StateMachineVersionArn) != tc.wantVersion {
			t.Errorf("start %s: output %s version %s, want %s %s", tc.arn, aws.ToString(d.Output), aws.ToString(d.StateMachineVersionArn), tc.wantOutput, tc.wantVersion)
		}
		sm, err := s.client.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: d.ExecutionArn})
		if err != nil || !strings.Contains(*sm.Definition, strings.Trim(tc.wantOutput, `"`)) {
			t.Errorf("definition for execution on %s = %v, %v", tc.arn, sm, err)
		}
	}
	_, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m + ":prod")})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)
}

// TestHistoryShapes runs every kind of state and reads the history with
// the SDK: each event's details land in the member the SDK expects, with
// the types it expects (a wrong type fails deserialization).
func TestHistoryShapes(t *testing.T) {
	var calls int
	var mu sync.Mutex
	inv := engine.InvokerFunc(func(_ context.Context, c *engine.Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return nil, &engine.Failure{Name: "Registry.Unavailable", Cause: "maintenance"}
		}
		return value.ObjectOf("ok", true), nil
	})
	clock := engine.NewVirtualClock(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
	s := newStack(t, stackConfig{invoker: inv, clock: clock, auto: true})
	def := `{"StartAt":"Read","States":{
		"Read":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:read",
			"Retry":[{"ErrorEquals":["Registry.Unavailable"],"IntervalSeconds":5}],"ResultPath":"$.read","Next":"Wait"},
		"Wait":{"Type":"Wait","Seconds":60,"Next":"Fan"},
		"Fan":{"Type":"Parallel","Branches":[
			{"StartAt":"B1","States":{"B1":{"Type":"Pass","End":true}}},
			{"StartAt":"B2","States":{"B2":{"Type":"Pass","End":true}}}],"ResultPath":null,"Next":"Each"},
		"Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultPath":"$.items","Next":"Pick"},
		"Pick":{"Type":"Choice","Choices":[{"Variable":"$.read.ok","BooleanEquals":true,"Next":"Boom"}],"Default":"Boom"},
		"Boom":{"Type":"Fail","Error":"Application.Rejected","Cause":"no"}}}`
	x := s.start(s.createMachine("all", def, ""), "all", `{"items":[1,2,3]}`)
	if d := s.await(x); d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Application.Rejected" {
		t.Fatalf("status %s error %s", d.Status, aws.ToString(d.Error))
	}
	h, err := s.client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[types.HistoryEventType]bool{}
	for _, ev := range h.Events {
		seen[ev.Type] = true
		switch ev.Type {
		case types.HistoryEventTypeLambdaFunctionScheduled:
			if d := ev.LambdaFunctionScheduledEventDetails; d == nil || !strings.HasSuffix(*d.Resource, ":function:read") {
				t.Errorf("LambdaFunctionScheduled = %+v", d)
			}
		case types.HistoryEventTypeLambdaFunctionFailed:
			if d := ev.LambdaFunctionFailedEventDetails; d == nil || aws.ToString(d.Error) != "Registry.Unavailable" {
				t.Errorf("LambdaFunctionFailed = %+v", d)
			}
		case types.HistoryEventTypeMapStateStarted:
			if d := ev.MapStateStartedEventDetails; d == nil || d.Length != 3 {
				t.Errorf("MapStateStarted = %+v", d)
			}
		case types.HistoryEventTypeMapIterationStarted:
			if d := ev.MapIterationStartedEventDetails; d == nil || aws.ToString(d.Name) != "Each" {
				t.Errorf("MapIterationStarted = %+v", d)
			}
		case types.HistoryEventTypeExecutionFailed:
			if d := ev.ExecutionFailedEventDetails; d == nil || aws.ToString(d.Error) != "Application.Rejected" || aws.ToString(d.Cause) != "no" {
				t.Errorf("ExecutionFailed = %+v", d)
			}
		}
	}
	for _, want := range []types.HistoryEventType{"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "LambdaFunctionSucceeded",
		"WaitStateEntered", "ParallelStateStarted", "MapStateStarted", "MapIterationStarted",
		"MapIterationSucceeded", "MapStateSucceeded", "ChoiceStateEntered", "FailStateEntered", "ExecutionFailed"} {
		if !seen[want] {
			t.Errorf("no %s event in %v", want, seen)
		}
	}
}

// TestRedriveMap: redriving through the API reruns only the Map
// iteration that failed; the others keep their results.
func TestRedriveMap(t *testing.T) {
	var mu sync.Mutex
	runs := map[float64]int{}
	broken := true
	inv := engine.InvokerFunc(func(_ context.Context, c *engine.Call) (any, error) {
		in, _ := c.Input.(*value.Object)
		n, _ := in.Get("n")
		f, _ := n.(float64)
		mu.Lock()
		defer mu.Unlock()
		runs[f]++
		if f == 2 && broken {
			return nil, &engine.Failure{Name: "Registry.Unavailable", Cause: "down"}
		}
		return value.ObjectOf("done", f), nil
	})
	s := newStack(t, stackConfig{invoker: inv})
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"n.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"StartAt":"Write","States":{"Write":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:write","End":true}}},
		"End":true}}}`
	x := s.start(s.createMachine("payouts", def, ""), "batch-1", `{"items":[1,2,3]}`)
	if d := s.await(x); d.Status != types.ExecutionStatusFailed {
		t.Fatalf("first run: %s", d.Status)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	if _, err := s.client.RedriveExecution(context.Background(), &sfn.RedriveExecutionInput{ExecutionArn: aws.String(x)}); err != nil {
		t.Fatal(err)
	}
	d := s.await(x)
	if d.Status != types.ExecutionStatusSucceeded || !jsonEqual(aws.ToString(d.Output), `[{"done":1},{"done":2},{"done":3}]`) {
		t.Fatalf("after redrive: %s %s", d.Status, aws.ToString(d.Output))
	}
	mu.Lock()
	defer mu.Unlock()
	if runs[1] != 1 || runs[2] != 2 || runs[3] != 1 {
		t.Errorf("invocations per item = %v, want 1:1 2:2 3:1", runs)
	}
}

// TestQuota: a StartExecution quota answers ThrottlingException once the
// burst is spent and refills with the clock; the SDK sees a throttle
// error it would retry.
func TestQuota(t *testing.T) {
	clock := engine.NewVirtualClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	t.Cleanup(func() { _ = eng.Close() })
	api := sfnapi.New(eng, sfnapi.Options{Now: clock.Now, Quotas: map[string]sfnapi.Quota{"StartExecution": {Rate: 2, Burst: 3}}})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	s := &stack{t: t, eng: eng, srv: srv, client: newClient(srv.URL)}
	m := s.createMachine("q", passMachine, "")
	start := func() error {
		_, err := s.client.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(m)})
		return err
	}
	steps := []struct {
		advance   time.Duration
		throttled bool
	}{{0, false}, {0, false}, {0, false}, {0, true}, {400 * time.Millisecond, true}, {100 * time.Millisecond, false}, {0, true}, {10 * time.Second, false}}
	for i, st := range steps {
		clock.Advance(st.advance)
		err := start()
		var apiErr smithy.APIError
		throttled := errors.As(err, &apiErr) && apiErr.ErrorCode() == "ThrottlingException"
		if throttled != st.throttled || (err != nil && !throttled) {
			t.Errorf("call %d: err = %v, want throttled %v", i, err, st.throttled)
		}
	}
	// Other operations are not limited.
	if _, err := s.client.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{}); err != nil {
		t.Error(err)
	}
}
