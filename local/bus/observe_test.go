package bus

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/posluha/posluha/local/engine"
)

// TestObservedStepWhileTaskRuns checks that a step the engine enters
// without a checkpoint (after a Pass, before a long synchronous task)
// reaches subscribers while the task still runs, and that the following
// save does not publish it twice.
func TestObservedStepWhileTaskRuns(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, filepath.Join(t.TempDir(), "bus.db"))
	defer b.Close()
	mem := engine.NewMemStore()
	feed := NewFeed(mem, b)
	rec := &recorder{}
	b.Subscribe("test", rec.handle)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	inv := engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		close(entered)
		<-release
		return "ok", nil
	})
	eng := engine.New(engine.Config{Store: feed, Invoker: inv})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	sm, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "svc", Definition: `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Comment":"bpmn:a","Next":"B"},
		"B":{"Type":"Pass","Comment":"bpmn:b","Next":"Read"},
		"Read":{"Type":"Task","Comment":"bpmn:read","Resource":"arn:aws:lambda:local:000000000000:function:registryread","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: "app-1", Input: `{"applicationId":"app-1"}`})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	steps := func() []string {
		var out []string
		for _, e := range rec.events() {
			if e.DetailType == DetailTypeStep {
				d, err := DecodeStep(e)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, d.Status+" "+d.Step)
			}
		}
		return out
	}
	if got, want := steps(), []string{"ENTERED a", "ENTERED b", "ENTERED read"}; !slices.Equal(got, want) {
		t.Errorf("while the task runs: %q, want %q", got, want)
	}
	// Only the creation was saved so far.
	if h, err := mem.History(ctx, x.ARN); err != nil || len(h) != 1 {
		t.Errorf("saved history while the task runs: %d events, %v", len(h), err)
	}
	close(release)
	if x, err = eng.Await(ctx, x.ARN); err != nil || x.Status != engine.StatusSucceeded {
		t.Fatalf("execution: %v %v", x.Status, err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := steps(), []string{"ENTERED a", "ENTERED b", "ENTERED read"}; !slices.Equal(got, want) {
		t.Errorf("at the end: %q, want %q", got, want)
	}
	if b.Pending() != 0 {
		t.Errorf("%d entries still pending", b.Pending())
	}
}
