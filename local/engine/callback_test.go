package engine

import (
	"context"
	"sync"
	"testing"
	"time"
)

// gatedStore holds the first save that parks an execution until released.
type gatedStore struct {
	*MemStore
	once    sync.Once
	holding chan struct{} // closed when the parking save is held
	release chan struct{}
}

func (s *gatedStore) SaveExecution(ctx context.Context, x *Execution, events []Event) error {
	if x.Parked {
		s.once.Do(func() {
			close(s.holding)
			<-s.release
		})
	}
	return s.MemStore.SaveExecution(ctx, x, events)
}

// TestCallbackAfterInvokeWaitsForSave: an answer that arrives after the
// task's invocation returned but before its pass saved is acknowledged
// only once it is durable (the record in the store holds it), so a crash
// after the acknowledgement cannot lose it.
func TestCallbackAfterInvokeWaitsForSave(t *testing.T) {
	st := &gatedStore{MemStore: NewMemStore(), holding: make(chan struct{}), release: make(chan struct{})}
	tokens := make(chan string, 1)
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		tokens <- c.TaskToken
		return nil, nil
	})
	e := New(Config{Store: st, Invoker: inv})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	released := false
	defer func() { // before Close, which waits for the held pass
		if !released {
			close(st.release)
		}
	}()
	ctx := context.Background()
	sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: "cb", Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"Next":"W"},"W":{"Type":"Wait","Seconds":3600,"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	token := <-tokens
	<-st.holding // the invocation returned; the pass is saving
	answered := make(chan error, 1)
	go func() { answered <- e.SendTaskSuccess(ctx, token, `"paid"`) }()
	select {
	case err := <-answered:
		t.Fatalf("SendTaskSuccess returned (%v) before the token's record was saved", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(st.release)
	released = true
	if err := <-answered; err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	// Acknowledged: the store must already hold the answer.
	got, err := st.MemStore.GetExecution(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	done := got.Root.State == "W" || (got.Root.Task != nil && got.Root.Task.Done)
	if !done {
		t.Errorf("after the acknowledgement the stored record is at %s, task %+v", got.Root.State, got.Root.Task)
	}
}

// tokenSaves records whether any save left a task token unanswered.
type tokenSaves struct {
	*MemStore
	mu      sync.Mutex
	waiting int // saves with a token still awaited
}

func (s *tokenSaves) SaveExecution(ctx context.Context, x *Execution, events []Event) error {
	s.mu.Lock()
	if len(x.Tokens) > 0 {
		s.waiting++
	}
	s.mu.Unlock()
	return s.MemStore.SaveExecution(ctx, x, events)
}

// TestCallbackDuringInvokeSavedWithToken: the task's own invocation answers
// (and waits for the acknowledgement) before it returns; the answer is in
// the same save as the token, never in a later write that a crash could
// prevent.
func TestCallbackDuringInvokeSavedWithToken(t *testing.T) {
	st := &tokenSaves{MemStore: NewMemStore()}
	var e *Engine
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		return nil, e.SendTaskSuccess(ctx, c.TaskToken, `"signed"`)
	})
	e = New(Config{Store: st, Invoker: inv})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: "cb2", Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = e.Await(ctx, x.ARN); err != nil || x.Status != StatusSucceeded || x.Output.V != "signed" {
		t.Fatalf("execution: %v %v %v", x.Status, x.Output.V, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.waiting != 0 {
		t.Errorf("%d saves left the answered token awaited", st.waiting)
	}
}
