package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

// TestWaitOnVirtualClock runs a 30-day Wait: the execution parks with a
// WakeAt and the timer loop fires it once the virtual clock gets there.
func TestWaitOnVirtualClock(t *testing.T) {
	h := newHarness(t, nil)
	x := h.run(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2592000,"Next":"P"},"P":{"Type":"Pass","Parameters":{"t.$":"$$.State.EnteredTime"},"End":true}}}`, `{}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("status = %s", x.Status)
	}
	want := t0.Add(30 * 24 * time.Hour)
	if got := x.StopTime; !got.Equal(want) {
		t.Errorf("stop time = %v, want %v", got, want)
	}
	if got, _ := x.Output.V.(*value.Object).Get("t"); got != formatTime(want) {
		t.Errorf("entered time of the state after the wait = %v, want %v", got, formatTime(want))
	}
	wantEvents := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if got := h.eventTypes(x.ARN); !slices.Equal(got, wantEvents) {
		t.Errorf("events = %v, want %v", got, wantEvents)
	}
}

// TestWaitParksInStore checks that a waiting execution is only a record:
// without auto-advance the clock stays put and the execution stays parked
// with its WakeAt; moving the clock resumes it.
func TestWaitParksInStore(t *testing.T) {
	h := &harness{t: t, store: NewMemStore(), clock: NewVirtualClock(t0)}
	h.eng = h.boot(nil, false)
	x := h.start(`{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2026-01-03T00:00:00Z","End":true}}}`, `{}`)
	waitIdle(t, h.eng)
	got, err := h.store.GetExecution(context.Background(), x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusRunning || !got.WakeAt.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("parked record: status %s wakeAt %v", got.Status, got.WakeAt)
	}
	h.clock.Set(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))
	done, err := h.eng.Await(context.Background(), x.ARN)
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("after the clock moved: %v %v", done.Status, err)
	}
}

func waitIdle(t *testing.T, e *Engine) {
	t.Helper()
	for !e.idle() {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		if e.idle() {
			break
		}
		<-ch
	}
}

// TestRetryBackoff checks the retry intervals on the virtual clock:
// IntervalSeconds × BackoffRate^n capped by MaxDelaySeconds, and that the
// per-retrier counters reach MaxAttempts before the error goes to Catch.
func TestRetryBackoff(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	var clock *VirtualClock
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		mu.Lock()
		times = append(times, clock.Now())
		mu.Unlock()
		return nil, &Failure{Name: "Registry.Unavailable", Cause: "down"}
	})
	h := newHarness(t, inv)
	clock = h.clock
	x := h.run(`{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f"},"QueryLanguage":"JSONata",
		     "Retry":[{"ErrorEquals":["Registry.Unavailable"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":3,"MaxDelaySeconds":10}],
		     "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","End":true}}}`, `{}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("status = %s (%s %s)", x.Status, x.Error, x.Cause)
	}
	want := []time.Duration{0, 2 * time.Second, 8 * time.Second, 18 * time.Second} // 2, then 6, then min(18, 10)
	if len(times) != len(want) {
		t.Fatalf("attempts = %d, want %d", len(times), len(want))
	}
	for i, w := range want {
		if got := times[i].Sub(t0); got != w {
			t.Errorf("attempt %d at +%v, want +%v", i, got, w)
		}
	}
	if got, _ := x.Output.V.(*value.Object).Get("Error"); got != "Registry.Unavailable" {
		t.Errorf("caught output error = %v", got)
	}
}

// TestTaskTimeoutOnVirtualClock: a callback task with TimeoutSeconds fails
// with States.Timeout when the virtual clock passes the deadline.
func TestTaskTimeoutOnVirtualClock(t *testing.T) {
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) { return nil, nil })
	h := newHarness(t, inv)
	x := h.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"token.$":"$$.Task.Token"}},"TimeoutSeconds":3600,"HeartbeatSeconds":600,"End":true}}}`, `{}`)
	if x.Status != StatusFailed || x.Error != "States.HeartbeatTimeout" {
		t.Fatalf("status %s error %s, want FAILED States.HeartbeatTimeout", x.Status, x.Error)
	}
	if got := x.StopTime.Sub(t0); got != 10*time.Minute {
		t.Errorf("failed after %v, want the 10 min heartbeat", got)
	}
}

// TestCallbackSurvivesRestart parks an execution on a task token, drops the
// engine, builds a new one on the same store and resumes it with
// SendTaskSuccess.
func TestCallbackSurvivesRestart(t *testing.T) {
	tokens := make(chan string, 1)
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		tokens <- c.TaskToken
		return nil, nil
	})
	store := NewMemStore()
	clock := NewVirtualClock(t0)
	e1 := New(Config{Store: store, Clock: clock, Invoker: inv})
	if err := e1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sm, err := e1.CreateMachine(ctx, CreateMachineInput{Name: "sign", Definition: `{"StartAt":"Sign","States":{
		"Sign":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"sign","Payload":{"t.$":"$$.Task.Token"}},"ResultPath":"$.sig","Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e1.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "app-1", Input: `{"app":1}`})
	if err != nil {
		t.Fatal(err)
	}
	token := <-tokens
	waitIdle(t, e1)
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	rec, err := store.GetExecution(ctx, x.ARN)
	if err != nil || rec.Status != StatusRunning || !slices.Contains(rec.Tokens, token) {
		t.Fatalf("parked record: %v %v tokens %v", rec.Status, err, rec.Tokens)
	}

	e2 := New(Config{Store: store, Clock: clock, Invoker: inv})
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if err := e2.SendTaskSuccess(ctx, token, `{"signed":true}`); err != nil {
		t.Fatal(err)
	}
	done, err := e2.Await(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != StatusSucceeded || value.String(done.Output.V) != `{"app":1,"sig":{"signed":true}}` {
		t.Fatalf("after resume: %s %s", done.Status, value.String(done.Output.V))
	}
	var apiErr *APIError
	if err := e2.SendTaskSuccess(ctx, token, `{}`); !errors.As(err, &apiErr) || apiErr.Code != "TaskDoesNotExist" {
		t.Errorf("second SendTaskSuccess = %v, want TaskDoesNotExist", err)
	}
	wantEvents := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	ev, _ := e2.History(ctx, x.ARN)
	var got []string
	for _, e := range ev {
		got = append(got, e.Type)
	}
	if !slices.Equal(got, wantEvents) {
		t.Errorf("events = %v, want %v", got, wantEvents)
	}
}

type fakeLambda func(ctx context.Context, arn string, payload []byte) ([]byte, error)

func (f fakeLambda) InvokeFunction(ctx context.Context, arn string, payload []byte) ([]byte, error) {
	return f(ctx, arn, payload)
}

// TestLambdaErrors checks how a function error reaches Retry/Catch: the
// errorType is the error name and the error document is the cause, for
// both the optimised integration and bare function ARNs.
func TestLambdaErrors(t *testing.T) {
	lambda := fakeLambda(func(ctx context.Context, arn string, payload []byte) ([]byte, error) {
		if arn == "arn:aws:lambda:us-east-1:111111111111:function:ok" {
			return payload, nil
		}
		return nil, &LambdaError{Type: "Registry.NotFound", Message: "no such person"}
	})
	tests := []struct {
		name, resource, params string
		err, cause, output     string
	}{
		{"invoke error", "arn:aws:states:::lambda:invoke", `{"FunctionName":"bad","Payload":{}}`, "Registry.NotFound", `{"errorMessage":"no such person","errorType":"Registry.NotFound"}`, ""},
		{"bare arn error", "arn:aws:lambda:us-east-1:111111111111:function:bad", `{}`, "Registry.NotFound", `{"errorMessage":"no such person","errorType":"Registry.NotFound"}`, ""},
		{"bare arn ok", "arn:aws:lambda:us-east-1:111111111111:function:ok", `{"a":1}`, "", "", `{"a":1}`},
		{"invoke ok", "arn:aws:states:::lambda:invoke", `{"FunctionName":"arn:aws:lambda:us-east-1:111111111111:function:ok","Payload":{"a":1}}`, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &Router{Lambda: lambda})
			x := h.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+tc.resource+`","Parameters":`+tc.params+`,"End":true}}}`, `{}`)
			if x.Error != tc.err || x.Cause != tc.cause {
				t.Errorf("error/cause = %q / %q, want %q / %q", x.Error, x.Cause, tc.err, tc.cause)
			}
			if tc.output != "" && value.String(x.Output.V) != tc.output {
				t.Errorf("output = %s, want %s", value.String(x.Output.V), tc.output)
			}
			if tc.name == "invoke ok" {
				o := x.Output.V.(*value.Object)
				if p, _ := o.Get("Payload"); value.String(p) != `{"a":1}` {
					t.Errorf("Payload = %s", value.String(p))
				}
				if sc, _ := o.Get("StatusCode"); sc != 200.0 {
					t.Errorf("StatusCode = %v", sc)
				}
			}
		})
	}
}

func TestStartExecutionIdempotentAndVersions(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	sm, err := h.eng.CreateMachine(ctx, CreateMachineInput{Name: "svc", Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"A"},"A":{"Type":"Pass","Result":"v1","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x1, err := h.eng.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "app-1", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	// Publish v2 while app-1 runs: app-1 must finish on v1.
	if _, err := h.eng.UpdateMachine(ctx, sm.ARN, `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v2","End":true}}}`, ""); err != nil {
		t.Fatal(err)
	}
	again, err := h.eng.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "app-1", Input: `{"a":1}`})
	if err != nil || again.ARN != x1.ARN {
		t.Fatalf("same name and input: %v, %v", again, err)
	}
	var apiErr *APIError
	if _, err := h.eng.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "app-1", Input: `{"a":2}`}); !errors.As(err, &apiErr) || apiErr.Code != "ExecutionAlreadyExists" {
		t.Fatalf("same name, other input: %v, want ExecutionAlreadyExists", err)
	}
	done, err := h.eng.Await(ctx, x1.ARN)
	if err != nil || done.Output.V != "v1" {
		t.Fatalf("app-1 output %v (%v), want v1", done.Output.V, err)
	}
	x2, err := h.eng.StartSyncExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "app-2"})
	if err != nil || x2.Output.V != "v2" || x2.Version != 2 {
		t.Fatalf("app-2 output %v version %d (%v), want v2 on version 2", x2.Output.V, x2.Version, err)
	}
}

// TestRedriveMap: only the failed iteration runs again.
func TestRedriveMap(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	fail := true
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		in := value.String(c.Input)
		calls[in]++
		if in == "2" && fail {
			return nil, &Failure{Name: "Boom", Cause: "item 2"}
		}
		return c.Input, nil
	})
	h := newHarness(t, inv)
	x := h.run(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","End":true}}},"End":true}}}`, `[1,2,3]`)
	if x.Status != StatusFailed || x.Error != "Boom" {
		t.Fatalf("first run: %s %s", x.Status, x.Error)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if _, err := h.eng.RedriveExecution(context.Background(), x.ARN); err != nil {
		t.Fatal(err)
	}
	done, err := h.eng.Await(context.Background(), x.ARN)
	if err != nil || done.Status != StatusSucceeded || value.String(done.Output.V) != "[1,2,3]" {
		t.Fatalf("after redrive: %s %v %v", done.Status, done.Output.V, err)
	}
	if calls["1"] != 1 || calls["2"] != 2 || calls["3"] != 1 {
		t.Errorf("calls per item = %v, want item 2 twice and the others once", calls)
	}
	if done.RedriveCount != 1 {
		t.Errorf("RedriveCount = %d", done.RedriveCount)
	}
}

func TestStopExecution(t *testing.T) {
	h := &harness{t: t, store: NewMemStore(), clock: NewVirtualClock(t0)}
	h.eng = h.boot(nil, false)
	x := h.start(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`, `{}`)
	waitIdle(t, h.eng)
	got, err := h.eng.StopExecution(context.Background(), x.ARN, "Support.Cancelled", "citizen withdrew")
	if err != nil || got.Status != StatusAborted {
		t.Fatalf("stop: %v %v", got, err)
	}
	if ev := h.eventTypes(x.ARN); ev[len(ev)-1] != "ExecutionAborted" {
		t.Errorf("last event %s", ev[len(ev)-1])
	}
	rec, _ := h.store.GetExecution(context.Background(), x.ARN)
	if !rec.WakeAt.IsZero() {
		t.Errorf("aborted execution keeps a timer at %v", rec.WakeAt)
	}
}

func TestNestedSyncExecution(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	child, err := h.eng.CreateMachine(ctx, CreateMachineInput{Name: "child", Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"A"},"A":{"Type":"Pass","Parameters":{"got.$":"$.v"},"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x := h.run(`{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"`+child.ARN+`","Input":{"v":7}},"OutputPath":"$.Output","End":true}}}`, `{}`)
	if x.Status != StatusSucceeded || value.String(x.Output.V) != `{"got":7}` {
		t.Fatalf("parent: %s %s %s", x.Status, value.String(x.Output.V), x.Cause)
	}
}

func TestTestState(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name, state, input string
		status, next, out  string
	}{
		{"pass", `{"Type":"Pass","Parameters":{"a.$":"$.x"},"Next":"After"}`, `{"x":1}`, StatusSucceeded, "After", `{"a":1}`},
		{"choice", `{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"One"}],"Default":"Other"}`, `{"x":1}`, StatusSucceeded, "One", `{"x":1}`},
		{"caught", `{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handle"}],"End":true}`, `{}`, "CAUGHT_ERROR", "Handle", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.eng.TestState(context.Background(), tc.state, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status || got.NextState != tc.next {
				t.Errorf("status/next = %s/%s, want %s/%s", got.Status, got.NextState, tc.status, tc.next)
			}
			if tc.out != "" && value.String(got.Output) != tc.out {
				t.Errorf("output = %s, want %s", value.String(got.Output), tc.out)
			}
		})
	}
}

// TestTimerSurvivesRestart: a Wait parked in the store fires on a new
// engine built on the same store once its time has come.
func TestTimerSurvivesRestart(t *testing.T) {
	store := NewMemStore()
	clock := NewVirtualClock(t0)
	ctx := context.Background()
	e1 := New(Config{Store: store, Clock: clock})
	if err := e1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sm, err := e1.CreateMachine(ctx, CreateMachineInput{Name: "w", Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"P"},"P":{"Type":"Pass","Result":"done","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e1.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Input: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e1)
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	rec, _ := store.GetExecution(ctx, x.ARN)
	if !rec.Parked || rec.WakeAt.IsZero() {
		t.Fatalf("record not parked on its timer: parked=%v wakeAt=%v", rec.Parked, rec.WakeAt)
	}
	clock.Advance(2 * time.Hour) // the engine is down when the timer is due
	e2 := New(Config{Store: store, Clock: clock})
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	done, err := e2.Await(ctx, x.ARN)
	if err != nil || done.Status != StatusSucceeded || done.Output.V != "done" {
		t.Fatalf("after restart: %v %v %v", done.Status, done.Output.V, err)
	}
}

// TestConcurrentChildren runs Task iterations and branches concurrently
// (run it with -race): results keep their order; a failure stops the rest.
func TestConcurrentChildren(t *testing.T) {
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		n, _ := c.Input.(float64)
		if n == 13 {
			return nil, &Failure{Name: "Unlucky", Cause: "13"}
		}
		return n * 2, nil
	})
	tests := []struct {
		name, def, input, status, output string
	}{
		{"map", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::x:y","End":true}}},"End":true}}}`,
			`[1,2,3,4,5,6,7,8,9,10,11,12]`, StatusSucceeded, `[2,4,6,8,10,12,14,16,18,20,22,24]`},
		{"map failure", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::x:y","End":true}}},"End":true}}}`,
			`[1,2,13,4,5,6]`, StatusFailed, ``},
		{"parallel", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::x:y","InputPath":"$.a","End":true}}},
			{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::x:y","InputPath":"$.b","End":true}}}],"End":true}}}`,
			`{"a":1,"b":2}`, StatusSucceeded, `[2,4]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, inv)
			x := h.run(tc.def, tc.input)
			if x.Status != tc.status {
				t.Fatalf("status = %s (%s %s)", x.Status, x.Error, x.Cause)
			}
			if tc.output != "" && value.String(x.Output.V) != tc.output {
				t.Errorf("output = %s, want %s", value.String(x.Output.V), tc.output)
			}
			if tc.status == StatusFailed && x.Error != "Unlucky" {
				t.Errorf("error = %s", x.Error)
			}
		})
	}
}

// TestMaxConcurrencyCountsParked: with MaxConcurrency 1 the second
// iteration starts only after the first, parked on a Wait, has finished.
func TestMaxConcurrencyCountsParked(t *testing.T) {
	h := newHarness(t, nil)
	x := h.run(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"P"},"P":{"Type":"Pass","Parameters":{"t.$":"$$.State.EnteredTime"},"End":true}}},"End":true}}}`, `[1,2]`)
	if x.Status != StatusSucceeded {
		t.Fatalf("status %s", x.Status)
	}
	want := `[{"t":"` + formatTime(t0.Add(10*time.Second)) + `"},{"t":"` + formatTime(t0.Add(20*time.Second)) + `"}]`
	if got := value.String(x.Output.V); got != want {
		t.Errorf("output = %s, want %s", got, want)
	}
}

func TestDeleteMachineWhileRunning(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	x := h.start(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`, `{}`)
	if err := h.eng.DeleteMachine(ctx, x.MachineARN); err != nil {
		t.Fatal(err)
	}
	var apiErr *APIError
	if _, err := h.eng.DescribeMachine(ctx, x.MachineARN); !errors.As(err, &apiErr) || apiErr.Code != "StateMachineDoesNotExist" {
		t.Errorf("DescribeMachine after delete = %v", err)
	}
	done, err := h.eng.Await(ctx, x.ARN)
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("the running execution must finish: %v %v", done.Status, err)
	}
}

// TestShutdownDuringTask: closing the engine while a Lambda runs does not
// fail the task; the next engine runs it again (at-least-once).
func TestShutdownDuringTask(t *testing.T) {
	store := NewMemStore()
	clock := NewVirtualClock(t0)
	ctx := context.Background()
	started := make(chan struct{}, 1)
	block := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	e1 := New(Config{Store: store, Clock: clock, Invoker: block})
	if err := e1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sm, err := e1.CreateMachine(ctx, CreateMachineInput{Name: "s", Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::x:y","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Bad"}],"End":true},"Bad":{"Type":"Fail","Error":"Caught"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e1.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Input: `{"v":1}`})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	ok := InvokerFunc(func(ctx context.Context, c *Call) (any, error) { return "ok", nil })
	e2 := New(Config{Store: store, Clock: clock, Invoker: ok})
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	done, err := e2.Await(ctx, x.ARN)
	if err != nil || done.Status != StatusSucceeded || done.Output.V != "ok" {
		t.Fatalf("after restart: %s %v %s %v", done.Status, done.Output.V, done.Error, err)
	}
}

// TestRedriveParallel: only the failed branch runs again; the succeeded
// one keeps its output.
func TestRedriveParallel(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	fail := true
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[c.StateName]++
		if c.StateName == "B" && fail {
			return nil, &Failure{Name: "Registry.Unavailable", Cause: "down"}
		}
		return c.StateName, nil
	})
	h := newHarness(t, inv)
	x := h.run(`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::x:y","End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::x:y","End":true}}}],"End":true}}}`, `{}`)
	if x.Status != StatusFailed || x.Error != "Registry.Unavailable" {
		t.Fatalf("first run: %s %s", x.Status, x.Error)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if _, err := h.eng.RedriveExecution(context.Background(), x.ARN); err != nil {
		t.Fatal(err)
	}
	done, err := h.eng.Await(context.Background(), x.ARN)
	if err != nil || done.Status != StatusSucceeded || value.String(done.Output.V) != `["A","B"]` {
		t.Fatalf("after redrive: %s %s %v", done.Status, value.String(done.Output.V), err)
	}
	if calls["A"] != 1 || calls["B"] != 2 {
		t.Errorf("calls = %v, want A once and B twice", calls)
	}
	var apiErr *APIError
	if _, err := h.eng.RedriveExecution(context.Background(), x.ARN); !errors.As(err, &apiErr) || apiErr.Code != "ExecutionNotRedrivable" {
		t.Errorf("redrive of a succeeded execution = %v, want ExecutionNotRedrivable", err)
	}
}

// TestHistoryChain checks previousEventId around Map iterations as AWS
// records them: an iteration's end and the next iteration's start both
// follow the iteration's last state event; the first state follows 0.
func TestHistoryChain(t *testing.T) {
	h := newHarness(t, nil)
	x := h.run(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"S","States":{"S":{"Type":"Pass","End":true}}},"End":true}}}`, `[1,2]`)
	ev, err := h.eng.History(context.Background(), x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ev {
		got = append(got, fmt.Sprintf("%d:%s<%d", e.ID, e.Type, e.PreviousID))
	}
	want := []string{"1:ExecutionStarted<0", "2:MapStateEntered<0", "3:MapStateStarted<2", "4:MapIterationStarted<3",
		"5:PassStateEntered<4", "6:PassStateExited<5", "7:MapIterationSucceeded<6", "8:MapIterationStarted<6",
		"9:PassStateEntered<8", "10:PassStateExited<9", "11:MapIterationSucceeded<10", "12:MapStateSucceeded<11",
		"13:MapStateExited<11", "14:ExecutionSucceeded<13"}
	if !slices.Equal(got, want) {
		t.Errorf("history =\n%v\nwant\n%v", got, want)
	}
}

// TestCallbackBeforeSave: the worker answers while the pass that handed out
// the token is still running (before the parked record is saved).
func TestCallbackBeforeSave(t *testing.T) {
	var eng *Engine
	done := make(chan error, 1)
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		go func() { done <- eng.SendTaskSuccess(context.Background(), c.TaskToken, `"signed"`) }()
		return nil, nil
	})
	h := newHarness(t, inv)
	eng = h.eng
	x := h.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}}}`, `{}`)
	if err := <-done; err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	if x.Status != StatusSucceeded || x.Output.V != "signed" {
		t.Fatalf("execution: %s %v", x.Status, x.Output.V)
	}
}

// TestParallelLockstep: branches without tasks advance round by round (the
// order AWS records), a Wait parks only its branch, a failing branch fails
// the Parallel.
func TestParallelLockstep(t *testing.T) {
	h := newHarness(t, nil)
	x := h.run(`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
		{"StartAt":"A1","States":{"A1":{"Type":"Pass","Next":"A2"},"A2":{"Type":"Wait","Seconds":5,"End":true}}},
		{"StartAt":"B1","States":{"B1":{"Type":"Pass","Result":"b","End":true}}}],"End":true}}}`, `"in"`)
	if x.Status != StatusSucceeded || value.String(x.Output.V) != `["in","b"]` {
		t.Fatalf("got %s %s", x.Status, value.String(x.Output.V))
	}
	want := []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
		"PassStateEntered", "PassStateEntered", "PassStateExited", "PassStateExited",
		"WaitStateEntered", "WaitStateExited", "ParallelStateExited", "ExecutionSucceeded"}
	if got := h.eventTypes(x.ARN); !slices.Equal(got, want) {
		t.Errorf("events = %v\nwant %v", got, want)
	}
	h2 := newHarness(t, nil)
	y := h2.run(`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
		{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}},
		{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}],"End":true}}}`, `{}`)
	if y.Status != StatusFailed || y.Error != "Boom" {
		t.Fatalf("failing branch: %s %s", y.Status, y.Error)
	}
}
