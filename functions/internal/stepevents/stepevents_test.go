package stepevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
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
