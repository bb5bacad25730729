package eventwrite

import (
	"context"
	"testing"

	"github.com/posluha/posluha"
)

// fakeSteps records the step events a handler reports.
type fakeSteps struct{ got []posluha.TaskRequest }

func (f *fakeSteps) Entered(_ context.Context, req *posluha.TaskRequest) error {
	f.got = append(f.got, *req)
	return nil
}

// TestStepEvents: each task reports its step once with the application,
// service and step; an invalid payload and the scheduled resume of parked
// writes (not a step of any application) report nothing.
func TestStepEvents(t *testing.T) {
	e := mustEnv(t)
	steps := &fakeSteps{}
	e.deps.Steps = steps
	e.h = New(e.deps)
	e.mustApp(t, "app-1", "lockdown-payout")
	processing := map[string]any{"arguments": map[string]any{"status": "processing"}}
	if out, errType := e.invoke(t, task("app-1", "status_processing", "status", 0, processing)); errType != "" {
		t.Fatalf("status = %s, %s", out, errType)
	}
	if _, errType := e.invoke(t, `{"step":"s","action":"status"}`); errType != "Task.Invalid" {
		t.Fatalf("no application = %s", errType)
	}
	if _, errType := e.invoke(t, `{"action":"`+ActionResumeParked+`"}`); errType != "" {
		t.Fatalf("resume parked = %s", errType)
	}
	if len(steps.got) != 1 || steps.got[0].ApplicationID != "app-1" || steps.got[0].Service != "lockdown-payout" || steps.got[0].Step != "status_processing" {
		t.Fatalf("step events %+v, want one for app-1 lockdown-payout status_processing", steps.got)
	}
}
