package console

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
)

// fakeExecutions is a func-field fake of Executions.
type fakeExecutions struct {
	RedriveFunc    func(ctx context.Context, arn string) error
	StopFunc       func(ctx context.Context, arn, errName, cause string) error
	FailedDataFunc func(ctx context.Context, arn string) (*support.StepData, error)
	ResendFunc     func(ctx context.Context, arn string, d *support.StepData) error
}

var _ support.Executions = (*fakeExecutions)(nil)

func (f *fakeExecutions) Redrive(ctx context.Context, arn string) error {
	return f.RedriveFunc(ctx, arn)
}
func (f *fakeExecutions) Stop(ctx context.Context, arn, e, c string) error {
	return f.StopFunc(ctx, arn, e, c)
}
func (f *fakeExecutions) FailedData(ctx context.Context, arn string) (*support.StepData, error) {
	return f.FailedDataFunc(ctx, arn)
}
func (f *fakeExecutions) Resend(ctx context.Context, arn string, d *support.StepData) error {
	return f.ResendFunc(ctx, arn, d)
}

// FuzzActionBodies: any body to any action answers 2xx/4xx, never a panic
// or a 5xx, and whatever reaches Resend is valid JSON.
func FuzzActionBodies(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"reason":"x"}`, `{"input":{"a":1},"variables":{}}`, `{"input":`, `{"variables":[1]}`, `null`, `{"reason":` + strings.Repeat(`"`, 3) + `}`} {
		f.Add("resend", s)
		f.Add("cancel", s)
		f.Add("redrive", s)
	}
	p, err := OpenProjection(filepath.Join(f.TempDir(), "p.db"), ProjectionOptions{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	audit, err := OpenAudit(filepath.Join(f.TempDir(), "audit.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	defer audit.Close()
	p.Load([]*support.App{{ID: "a1", Service: "svc", Status: "FAILED", ExecutionARN: "arn:x", Steps: []string{}, Stopped: time.Unix(1, 0)}})
	ex := &fakeExecutions{
		RedriveFunc: func(context.Context, string) error { return nil },
		StopFunc:    func(context.Context, string, string, string) error { return nil },
		FailedDataFunc: func(context.Context, string) (*support.StepData, error) {
			return &support.StepData{Thread: "0", State: "S", Input: json.RawMessage(`{}`), Variables: json.RawMessage(`{}`)}, nil
		},
	}
	ex.ResendFunc = func(_ context.Context, _ string, d *support.StepData) error {
		if !json.Valid(d.Input) || !json.Valid(d.Variables) {
			panic("invalid JSON reached Resend")
		}
		return nil
	}
	staff := support.VerifierFunc(func(context.Context, string) (jwt.MapClaims, error) {
		return jwt.MapClaims{"sub": "s", "role": "support"}, nil
	})
	h := support.New(support.Deps{Projection: p, Audit: audit, Verifier: staff, Executions: ex}).Handler()
	f.Fuzz(func(t *testing.T, action, body string) {
		if action != "resend" && action != "cancel" && action != "redrive" {
			return
		}
		req := httptest.NewRequest("POST", "/console/api/applications/a1/"+action, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", action, body, w.Code, w.Body)
		}
	})
}

// FuzzApply: any event detail is folded in or skipped, never an error (a
// poison event would block the bus) nor a panic.
func FuzzApply(f *testing.F) {
	f.Add(bus.DetailTypeExecution, `{"executionArn":"a","stateMachineArn":"arn:sm:svc","name":"n","status":"RUNNING","input":"{\"applicationId\":\"x\"}","sequence":3}`)
	f.Add(bus.DetailTypeStep, `{"applicationId":"x","service":"svc","step":"s","status":"ENTERED","steps":["s"],"sequence":4}`)
	f.Add(bus.DetailTypeStep, `{"applicationId":"x","status":"FAILED","input":{"a":1},"sequence":5}`)
	f.Add(bus.DetailTypeExecution, `{"name":"n","status":"FAILED","stopDate":1,"sequence":-1}`)
	f.Add(bus.DetailTypeExecution, `[]`)
	p, err := OpenProjection(filepath.Join(f.TempDir(), "p.db"), ProjectionOptions{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	f.Fuzz(func(t *testing.T, detailType, detail string) {
		e := bus.Event{DetailType: detailType, Detail: json.RawMessage(detail)}
		if !json.Valid(e.Detail) {
			e.Detail = json.RawMessage(strconv.Quote(detail))
		}
		if err := p.Apply(context.Background(), []bus.Event{e}); err != nil {
			t.Fatalf("Apply(%s %s): %v", detailType, detail, err)
		}
	})
}
