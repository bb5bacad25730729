package bus

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posluha/posluha/local/engine"
)

const definition = `{
  "StartAt": "Submitted",
  "States": {
    "Submitted": {"Type": "Pass", "Comment": "bpmn:submitted", "Next": "Both"},
    "Both": {"Type": "Parallel", "Comment": "bpmn:gw_split", "Next": "Check",
      "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Comment": "bpmn:task_a Task A", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Comment": "bpmn:task_b", "End": true}}}
      ]},
    "Check": {"Type": "Task", "Comment": "bpmn:check_fop", "Resource": "arn:aws:lambda:local:000000000000:function:registryread", "End": true}
  }
}`

// recorder is a subscriber that keeps what it got.
type recorder struct {
	mu  sync.Mutex
	got []Event
}

func (r *recorder) handle(_ context.Context, evs []Event) error {
	r.mu.Lock()
	r.got = append(r.got, evs...)
	r.mu.Unlock()
	return nil
}

func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.got...)
}

func mustOpen(tb testing.TB, path string) *Bus {
	tb.Helper()
	b, err := Open(path, Options{NoSync: true, Retry: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestFeedThroughEngine runs an execution that fails once at Check,
// redrives it, and checks the events the feed published.
func TestFeedThroughEngine(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, filepath.Join(t.TempDir(), "bus.db"))
	defer b.Close()
	feed := NewFeed(engine.NewMemStore(), b)
	rec := &recorder{}
	b.Subscribe("test", rec.handle)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	inv := engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		if calls.Add(1) == 1 {
			return nil, &engine.Failure{Name: "Registry.Unavailable", Cause: "maintenance"}
		}
		return map[string]any{"ok": true}, nil
	})
	eng := engine.New(engine.Config{Store: feed, Invoker: inv, Region: "local", Account: "000000000000"})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	sm, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "lockdown-payout", Definition: definition})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"applicationId":"app-1","service":"lockdown-payout","citizen":{"taxNumber":"1234567890"}}`
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: "app-1", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = eng.Await(ctx, x.ARN); err != nil || x.Status != engine.StatusFailed {
		t.Fatalf("first run: %v %v", x.Status, err)
	}
	if _, err := eng.RedriveExecution(ctx, x.ARN); err != nil {
		t.Fatal(err)
	}
	if x, err = eng.Await(ctx, x.ARN); err != nil || x.Status != engine.StatusSucceeded {
		t.Fatalf("after redrive: %v %v", x.Status, err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var trail []string
	var failed *StepDetail
	var lastSeq int64
	for _, e := range rec.events() {
		switch e.DetailType {
		case DetailTypeExecution:
			d, err := DecodeExecution(e)
			if err != nil {
				t.Fatal(err)
			}
			if e.Source != SourceStates || d.ExecutionARN != x.ARN || d.StateMachineARN != sm.ARN || d.Name != "app-1" {
				t.Errorf("status event %+v", d)
			}
			if d.Sequence < lastSeq {
				t.Errorf("sequence went back: %d after %d", d.Sequence, lastSeq)
			}
			lastSeq = d.Sequence
			trail = append(trail, d.Status)
		case DetailTypeStep:
			d, err := DecodeStep(e)
			if err != nil {
				t.Fatal(err)
			}
			if d.ApplicationID != "app-1" || d.Service != "lockdown-payout" {
				t.Errorf("step event identity %+v", d)
			}
			trail = append(trail, d.Status+" "+d.Step)
			if d.Status == StepFailed {
				failed = d
			}
		default:
			t.Errorf("unexpected event %s", e.DetailType)
		}
	}
	want := []string{
		"ENTERED submitted", "RUNNING",
		"ENTERED gw_split", // branches run within one pass: saved with the parent's checkpoint
		"ENTERED check_fop",
		"FAILED check_fop", "FAILED",
		"ENTERED check_fop", "RUNNING",
		"SUCCEEDED",
	}
	if !slices.Equal(trail, want) {
		t.Errorf("events:\n got %q\nwant %q", trail, want)
	}
	if failed == nil || failed.Error != "Registry.Unavailable" || failed.Cause != "maintenance" || failed.State != "Check" {
		t.Fatalf("failed step event %+v", failed)
	}
	var input []any // the Parallel's output
	if err := json.Unmarshal(failed.Input, &input); err != nil || len(input) != 2 {
		t.Fatalf("failed step input %s: %v", failed.Input, err)
	}
	if b.Pending() != 0 {
		t.Errorf("%d events still pending", b.Pending())
	}
}

// TestRecovery checks what Start does with entries left by a crash
// between the outbox write and the engine's save.
func TestRecovery(t *testing.T) {
	tests := []struct {
		name    string
		stored  int64 // LastEventID in the store; 0 = no such execution
		seq     int64
		deliver bool
	}{
		{"save happened", 7, 7, true},
		{"later save happened", 9, 7, true},
		{"save did not happen", 6, 7, false},
		{"execution never created", 0, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "bus.db")
			b := mustOpen(t, path)
			ev, err := newEvent(SourceStates, DetailTypeExecution, "local", "0", time.Unix(0, 0), nil, ExecutionDetail{Status: "RUNNING"}, "x")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.prepare("arn:x", tc.seq, []Event{ev}); err != nil {
				t.Fatal(err)
			}
			b.Close() // crash: never committed nor aborted

			b = mustOpen(t, path)
			defer b.Close()
			b.verify = func(_ context.Context, arn string, seq int64) (bool, error) {
				return tc.stored != 0 && tc.stored >= seq, nil
			}
			rec := &recorder{}
			b.Subscribe("test", rec.handle)
			if err := b.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.events()) == 1; got != tc.deliver {
				t.Errorf("delivered = %v, want %v", got, tc.deliver)
			}
		})
	}
}

// TestRedeliveryAfterFailure: a failing subscriber gets the batch again.
func TestRedeliveryAfterFailure(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, filepath.Join(t.TempDir(), "bus.db"))
	defer b.Close()
	var n atomic.Int32
	rec := &recorder{}
	b.Subscribe("flaky", func(ctx context.Context, evs []Event) error {
		if n.Add(1) == 1 {
			return context.DeadlineExceeded
		}
		return rec.handle(ctx, evs)
	})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ev, _ := newEvent(SourceStates, DetailTypeExecution, "local", "0", time.Unix(0, 0), nil, ExecutionDetail{}, "x")
	id, err := b.prepare("arn:x", 1, []Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	b.commit(id)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rec.events()) != 1 || n.Load() != 2 {
		t.Errorf("got %d events after %d attempts", len(rec.events()), n.Load())
	}
}

func TestStepMap(t *testing.T) {
	got := StepMap([]byte(definition))
	want := map[string]string{"Submitted": "submitted", "Both": "gw_split", "A": "task_a", "B": "task_b", "Check": "check_fop"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("StepMap[%q] = %q, want %q", k, got[k], v)
		}
	}
	if len(StepMap([]byte("not json"))) != 0 || len(StepMap([]byte(strings.Repeat(`{"States":{"a":{"Branches":[`, 50)))) != 0 {
		t.Error("bad definitions must map nothing")
	}
}

// TestReplay: executions saved before the bus existed are published from
// the store's records.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	mem := engine.NewMemStore()
	inv := engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		return nil, &engine.Failure{Name: "Registry.NotFound", Cause: "no such FOP"}
	})
	eng := engine.New(engine.Config{Store: mem, Invoker: inv})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sm, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "svc", Definition: definition})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: id})
		if err != nil {
			t.Fatal(err)
		}
		eng.Await(ctx, x.ARN)
	}
	eng.Close()
	b := mustOpen(t, filepath.Join(t.TempDir(), "bus.db"))
	defer b.Close()
	feed := NewFeed(mem, b)
	rec := &recorder{}
	n, err := feed.Replay(ctx, rec.handle, 1)
	if err != nil || n != 2 {
		t.Fatalf("replayed %d: %v", n, err)
	}
	var got []string
	for _, e := range rec.events() {
		if e.DetailType == DetailTypeStep {
			d, _ := DecodeStep(e)
			got = append(got, d.ApplicationID+" "+d.Status+" "+d.Step)
		} else {
			d, _ := DecodeExecution(e)
			got = append(got, d.Name+" "+d.Status)
		}
	}
	want := []string{"a FAILED check_fop", "a FAILED", "b FAILED check_fop", "b FAILED"}
	if !slices.Equal(got, want) {
		t.Errorf("replay = %q, want %q", got, want)
	}
}
