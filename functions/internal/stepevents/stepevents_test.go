package stepevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/local/bus"
)

// TestEnteredThroughTheBus puts a step event with the real SDK client
// against the local bus's PutEvents endpoint; the bus delivers it and it
// decodes strictly as the step detail the console folds.
func TestEnteredThroughTheBus(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(filepath.Join(t.TempDir(), "bus.db"), bus.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan bus.Event, 1)
	b.Subscribe("test", func(_ context.Context, evs []bus.Event) error {
		for _, e := range evs {
			got <- e
		}
		return nil
	})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	c := eventbridge.New(eventbridge.Options{Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	at := time.Date(2026, 5, 1, 10, 0, 0, 123, time.UTC)
	e := &stepevents.Emitter{Client: c, Now: func() time.Time { return at }}
	if err := e.Entered(ctx, &posluha.TaskRequest{ApplicationID: "a1", Service: "lockdown-payout", Step: "check_fop"}); err != nil {
		t.Fatal(err)
	}
	ev := <-got
	if ev.Source != bus.SourcePosluha || ev.DetailType != bus.DetailTypeStep {
		t.Fatalf("event %+v", ev)
	}
	var d bus.StepDetail
	dec := json.NewDecoder(bytes.NewReader(ev.Detail))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.ApplicationID != "a1" || d.Step != "check_fop" || d.Status != bus.StepEntered || d.Sequence != at.UnixNano() || len(d.Steps) != 1 || !d.Time.Equal(at) {
		t.Fatalf("detail %+v", d)
	}
}

// TestFromEnv: STEP_EVENTS turns the hook on, on the bus it names; unset,
// a task puts nothing. The puts go through the real SDK client to the
// local bus's PutEvents endpoint.
func TestFromEnv(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(filepath.Join(t.TempDir(), "bus.db"), bus.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan bus.Event, 10)
	b.Subscribe("test", func(_ context.Context, evs []bus.Event) error {
		for _, e := range evs {
			got <- e
		}
		return nil
	})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	cfg := aws.Config{Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "STEP_EVENTS" {
				return v
			}
			return ""
		}
	}
	req := &posluha.TaskRequest{ApplicationID: "a1", Service: "lockdown-payout", Step: "check_fop"}

	if n := stepevents.FromEnv(cfg, env("")); n != nil {
		t.Fatalf("FromEnv without STEP_EVENTS = %#v, want nil", n)
	}
	stepevents.Enter(ctx, stepevents.FromEnv(cfg, env("")), nil, req) // off: a no-op
	if e, ok := stepevents.FromEnv(cfg, env("posluha-status")).(*stepevents.Emitter); !ok || e.Bus != "posluha-status" {
		t.Fatalf("FromEnv(posluha-status) = %#v", e)
	}
	n := stepevents.FromEnv(cfg, env("default"))
	if e, ok := n.(*stepevents.Emitter); !ok || e.Bus != "" {
		t.Fatalf("FromEnv(default) = %#v, want an emitter on the default bus", n)
	}
	stepevents.Enter(ctx, n, nil, req)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d events on the bus, want the one put with STEP_EVENTS set", len(got))
	}
	if ev := <-got; ev.DetailType != posluha.DetailTypeStepChanged || !bytes.Contains(ev.Detail, []byte(`"applicationId":"a1"`)) {
		t.Fatalf("event %+v", ev)
	}
}

// failing is a Notifier whose puts fail.
type failing struct{ calls int }

func (f *failing) Entered(context.Context, *posluha.TaskRequest) error {
	f.calls++
	return errors.New("throttled")
}

// TestEnterLogsFailure: a failed put is logged with the application and
// step, and the task goes on.
func TestEnterLogsFailure(t *testing.T) {
	var logs bytes.Buffer
	f := &failing{}
	stepevents.Enter(context.Background(), f, slog.New(slog.NewJSONHandler(&logs, nil)),
		&posluha.TaskRequest{ApplicationID: "a1", Service: "s", Step: "check_fop"})
	if f.calls != 1 || !strings.Contains(logs.String(), `"applicationId":"a1"`) || !strings.Contains(logs.String(), `"step":"check_fop"`) ||
		!strings.Contains(logs.String(), "throttled") {
		t.Fatalf("calls %d, log %s", f.calls, logs.String())
	}
}
