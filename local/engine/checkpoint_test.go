package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// recordingStore notes where the engine saves and what it only observes.
type recordingStore struct {
	*MemStore
	mu       sync.Mutex
	saved    []string // root state (or status once finished) at each save
	observed []string // root state at each Observe
}

func (s *recordingStore) SaveExecution(ctx context.Context, x *Execution, events []Event) error {
	s.mu.Lock()
	at := x.Root.State
	if x.Status != StatusRunning {
		at = x.Status
	}
	s.saved = append(s.saved, at)
	s.mu.Unlock()
	return s.MemStore.SaveExecution(ctx, x, events)
}

func (s *recordingStore) Observe(_ context.Context, x *Execution) {
	s.mu.Lock()
	s.observed = append(s.observed, x.Root.State)
	s.mu.Unlock()
}

// TestCheckpointsOnlyAfterEffects checks that a pass saves after a Task,
// a Parallel and at the end, and only observes the pure states between.
func TestCheckpointsOnlyAfterEffects(t *testing.T) {
	st := &recordingStore{MemStore: NewMemStore()}
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) { return "done", nil })
	e := New(Config{Store: st, Invoker: inv})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sm, err := e.CreateMachine(context.Background(), CreateMachineInput{Name: "cp", Definition: `{"StartAt":"P1","States":{
		"P1":{"Type":"Pass","Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"T"}],"Default":"P2"},
		"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:f","ResultPath":"$.r","Next":"Par"},
		"Par":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"ResultPath":"$.p","Next":"P2"},
		"P2":{"Type":"Pass","Next":"S"},
		"S":{"Type":"Succeed"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(context.Background(), StartInput{MachineARN: sm.ARN, Name: "x", Input: `{"go":true}`})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = e.Await(context.Background(), x.ARN); err != nil || x.Status != StatusSucceeded {
		t.Fatalf("execution: %v %v", x.Status, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if want := []string{"Par", "P2", StatusSucceeded}; !slices.Equal(st.saved, want) {
		t.Errorf("saved at %q, want %q", st.saved, want)
	}
	if want := []string{"C", "T", "S"}; !slices.Equal(st.observed, want) {
		t.Errorf("observed %q, want %q", st.observed, want)
	}
	// Nothing was lost by saving less: the history is whole.
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
		"TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
		"ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited", "ParallelStateExited",
		"PassStateEntered", "PassStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
	ev, err := e.History(context.Background(), x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, v := range ev {
		got = append(got, v.Type)
		if v.ID != int64(i+1) {
			t.Errorf("event %d has id %d", i, v.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("history %q,\nwant %q", got, want)
	}
}
