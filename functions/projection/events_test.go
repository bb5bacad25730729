package projection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/events/eventstest"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/functions/projection"
	"github.com/posluha/posluha/local/dynamodb"
)

var tables int

// newStore is a DynamoProjection on the local DynamoDB endpoint, started
// in-process on 127.0.0.1:0.
func newStore(t *testing.T) *support.DynamoProjection {
	t.Helper()
	srv, err := dynamodb.New(filepath.Join(t.TempDir(), "dynamodb"), dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	c := ddb.New(ddb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: hs.Client()})
	tables++
	p := &support.DynamoProjection{Client: c, Table: fmt.Sprintf("projection-%d", tables)}
	if err := support.CreateProjectionTable(context.Background(), c, p.Table); err != nil {
		t.Fatal(err)
	}
	return p
}

type sample struct {
	name string
	data []byte
}

func samples(t *testing.T) []sample {
	t.Helper()
	files, _ := filepath.Glob("../../events/projection/*.json")
	if len(files) == 0 {
		t.Fatal("no sample events")
	}
	var out []sample
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		eventstest.RoundTrip[events.CloudWatchEvent](t, data)
		out = append(out, sample{filepath.Base(f), data})
	}
	return out
}

// TestEvents runs events/projection/*.json (one application's life as AWS
// sends it: status changes without a sequence, step events from the task
// Lambdas) through the Lambda runtime's handler path into the DynamoDB
// projection, checking the record after each.
func TestEvents(t *testing.T) {
	want := map[string]struct {
		status, failedStep string
		steps              []string
	}{
		"1-running.json":           {"RUNNING", "", []string{}},
		"2-step-check.json":        {"RUNNING", "", []string{"check_fop"}},
		"3-failed.json":            {"FAILED", "check_fop", []string{}},
		"4-redriven.json":          {"RUNNING", "check_fop", []string{}},
		"5-step-pay.json":          {"RUNNING", "check_fop", []string{"pay"}},
		"6-succeeded.json":         {"SUCCEEDED", "check_fop", []string{}},
		"7-other-detail-type.json": {"SUCCEEDED", "check_fop", []string{}},
	}
	store := newStore(t)
	h := lambda.NewHandler(projection.New(projection.Deps{Store: store}).Lambda())
	ctx := context.Background()
	for _, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			w, ok := want[s.name]
			if !ok {
				t.Fatalf("no expectation for %s", s.name)
			}
			if _, err := h.Invoke(ctx, s.data); err != nil {
				t.Fatal(err)
			}
			a, err := store.Get(ctx, "APP-0001")
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != w.status || a.FailedStep != w.failedStep || !slices.Equal(a.Steps, w.steps) || a.Service != "lockdown-payout" || a.Citizen != "3012345678" {
				t.Fatalf("after %s: %s %q %v (%s, %s); want %s %q %v", s.name, a.Status, a.FailedStep, a.Steps, a.Service, a.Citizen, w.status, w.failedStep, w.steps)
			}
		})
	}
	st, err := store.Stats(ctx, "lockdown-payout", mustTime(t, "2026-03-01T09:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.ByStatus, map[string]int64{"SUCCEEDED": 1}) || len(st.AtStep) != 0 {
		t.Errorf("stats %+v", st)
	}
	var started, completed, failed int64
	for _, m := range st.Minutes {
		started, completed, failed = started+m.Started, completed+m.Completed, failed+m.Failed
	}
	if started != 1 || completed != 1 || failed != 1 {
		t.Errorf("throughput: %d started, %d completed, %d failed; want 1 each", started, completed, failed)
	}
}

// TestEventsRedeliveredAndReordered: EventBridge delivers at least once
// and in no order; any order with duplicates ends in the same final status
// and counts as the ordered run.
func TestEventsRedeliveredAndReordered(t *testing.T) {
	ss := samples(t)
	ctx := context.Background()
	orders := map[string][]int{
		"twice":      {0, 0, 1, 2, 2, 3, 4, 5, 5, 6, 6},
		"reversed":   {6, 5, 4, 3, 2, 1, 0},
		"stop first": {2, 0, 1, 5, 3, 4},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			h := lambda.NewHandler(projection.New(projection.Deps{Store: store}).Lambda())
			for _, i := range order {
				if _, err := h.Invoke(ctx, ss[i].data); err != nil {
					t.Fatal(err)
				}
			}
			a, err := store.Get(ctx, "APP-0001")
			if err != nil || a.Status != "SUCCEEDED" || len(a.Steps) != 0 || a.RedriveCount != 1 {
				t.Fatalf("%+v %v", a, err)
			}
			counts, err := store.StatusCounts(ctx)
			if err != nil || !reflect.DeepEqual(counts, map[string]map[string]int64{"lockdown-payout": {"SUCCEEDED": 1}}) {
				t.Fatalf("counts %v %v", counts, err)
			}
			steps, _ := store.StepCounts(ctx)
			if len(steps) != 0 {
				t.Fatalf("step counts %v", steps)
			}
		})
	}
}

// TestStorageErrorIsReturned: a table that does not exist fails the
// invocation (Lambda retries it), it is not swallowed.
func TestStorageErrorIsReturned(t *testing.T) {
	store := newStore(t)
	store.Table = "missing"
	h := projection.New(projection.Deps{Store: store})
	ss := samples(t)
	var e events.CloudWatchEvent
	if err := json.Unmarshal(ss[0].data, &e); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), e); err == nil {
		t.Fatal("want an error for a missing table")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
