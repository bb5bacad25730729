package registryread

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
)

// fakeSteps records the step events a handler reports.
type fakeSteps struct {
	got []posluha.TaskRequest
	err error
}

func (f *fakeSteps) Entered(_ context.Context, req *posluha.TaskRequest) error {
	f.got = append(f.got, *req)
	return f.err
}

// TestStepEvents: a read reports its step once, with the application,
// service and step; a task refused as invalid reports nothing; a failing
// put does not fail the read.
func TestStepEvents(t *testing.T) {
	conns := &fakeConnectors{TemplateFn: drrpTemplate, CallFn: func(context.Context, string, connector.Args, string) (any, error) {
		return map[string]any{"owner": "x"}, nil
	}}
	audit := &fakeAudit{RecordFn: func(context.Context, Record) error { return nil }}
	for _, putErr := range []error{nil, errors.New("eventbridge throttled")} {
		steps := &fakeSteps{err: putErr}
		h := New(Deps{Connectors: conns, Audit: audit, Log: slog.New(slog.DiscardHandler), Steps: steps})
		req := `{"applicationId":"app-1","service":"housing-aid","step":"Activity_read","connector":"drrp.realty-rights"}`
		if out, errType := invoke(t, h, h.d.Log, []byte(req)); errType != "" || out == "" {
			t.Fatalf("put error %v: read = %q, %s", putErr, out, errType)
		}
		if _, errType := invoke(t, h, h.d.Log, []byte(`{"applicationId":"app-1","step":"s","connector":"nope"}`)); errType != "Task.Invalid" {
			t.Fatalf("unknown connector = %s", errType)
		}
		if len(steps.got) != 1 || steps.got[0].ApplicationID != "app-1" || steps.got[0].Service != "housing-aid" || steps.got[0].Step != "Activity_read" {
			t.Fatalf("put error %v: step events %+v, want one for app-1 housing-aid Activity_read", putErr, steps.got)
		}
	}
}
