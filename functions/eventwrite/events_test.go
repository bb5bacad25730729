package eventwrite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/events/eventstest"
)

// TestEvents decodes every events/eventwrite/*.json strictly, checks that
// it round-trips through posluha.TaskRequest and runs it against the
// local stores and the simulated registries, each on a fresh application
// that is being processed.
func TestEvents(t *testing.T) {
	want := map[string]struct{ out, errType string }{
		"status-processing.json":    {out: `{"status":"processing"}`},
		"status-done-notify.json":   {out: `{"status":"done"}`},
		"notify.json":               {out: `{"notificationId":"01JDQ8Z5K3M7V2X9C4B6N8P0RT/notify_delay"}`},
		"write-payment.json":        {out: `"paymentId":"PAY-`},
		"write-park-on-outage.json": {out: `"paymentId":"PAY-`},
		"await.json":                {out: `{"correlationKey":"review/01JDQ8Z5K3M7V2X9C4B6N8P0RT"}`},
		"resume-parked.json":        {out: `{"resumed":0,"parked":0,"failed":0,"gone":0,"errors":0}`},
		"bad-status.json":           {errType: "Task.Invalid"},
	}
	files, err := filepath.Glob("../../events/eventwrite/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req := eventstest.RoundTrip[posluha.TaskRequest](t, data)
			e := mustEnv(t)
			if req.ApplicationID != "" {
				e.mustApp(t, req.ApplicationID, req.Service)
				_, err := e.deps.Applications.Update(context.Background(), req.ApplicationID, func(a *posluha.Application) error {
					return a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: "start", Time: now0})
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			out, errType := e.invoke(t, string(data))
			if errType != exp.errType || !strings.Contains(out, exp.out) {
				t.Errorf("Invoke = %s, %q; want %s, %q", out, errType, exp.out, exp.errType)
			}
			if req.TaskToken != "" && req.Action == posluha.ActionWrite {
				if success, _ := e.sfn.calls(); len(success) != 1 || success[0].Token != req.TaskToken {
					t.Errorf("parkable write completed its task %+v, want once", success)
				}
			}
		})
	}
}
