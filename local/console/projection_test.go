package console

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func mustProjection(tb testing.TB) *Projection {
	tb.Helper()
	p, err := OpenProjection(filepath.Join(tb.TempDir(), "console.db"), ProjectionOptions{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func event(tb testing.TB, detailType string, at time.Time, detail any) bus.Event {
	tb.Helper()
	b, err := json.Marshal(detail)
	if err != nil {
		tb.Fatal(err)
	}
	src := bus.SourceStates
	if detailType == bus.DetailTypeStep {
		src = bus.SourcePosluha
	}
	return bus.Event{Version: "0", ID: fmt.Sprint(detailType, at.UnixNano()), DetailType: detailType, Source: src, Time: at, Detail: b}
}

// stream is one application's life: started, two steps, failed at the
// second, redriven, succeeded.
func stream(tb testing.TB, id, citizen string, fail bool) []bus.Event {
	arn := "arn:aws:states:local:000000000000:execution:lockdown-payout:" + id
	sm := "arn:aws:states:local:000000000000:stateMachine:lockdown-payout"
	in := fmt.Sprintf(`{"applicationId":%q,"service":"lockdown-payout","citizen":{"taxNumber":%q}}`, id, citizen)
	status := func(seq int64, st string, at time.Time, stop bool, redrives int) bus.Event {
		d := bus.ExecutionDetail{ExecutionARN: arn, StateMachineARN: sm, Name: id, Status: st, StartDate: t0.UnixMilli(), Input: in, Sequence: seq, RedriveCount: redrives}
		if stop {
			ms := at.UnixMilli()
			d.StopDate = &ms
		}
		if st == "FAILED" {
			e, c := "Registry.Unavailable", "down"
			d.Error, d.Cause = &e, &c
		}
		return event(tb, bus.DetailTypeExecution, at, d)
	}
	step := func(seq int64, st, status string, at time.Time, steps ...string) bus.Event {
		d := bus.StepDetail{ApplicationID: id, Service: "lockdown-payout", ExecutionARN: arn, Step: st, State: st, Status: status, Thread: "0", Steps: steps, Sequence: seq, Time: at}
		if status == bus.StepFailed {
			d.Input, d.Error, d.Cause = json.RawMessage(`{"taxNumber":"x"}`), "Registry.Unavailable", "down"
		}
		return event(tb, bus.DetailTypeStep, at, d)
	}
	evs := []bus.Event{
		step(2, "submitted", bus.StepEntered, t0, "submitted"),
		status(2, "RUNNING", t0, false, 0),
		step(5, "check_fop", bus.StepEntered, t0.Add(time.Second), "check_fop"),
	}
	if !fail {
		return evs
	}
	return append(evs,
		step(9, "check_fop", bus.StepFailed, t0.Add(2*time.Second)),
		status(9, "FAILED", t0.Add(2*time.Second), true, 0),
		step(10, "check_fop", bus.StepEntered, t0.Add(3*time.Minute), "check_fop"),
		status(10, "RUNNING", t0.Add(3*time.Minute), false, 1),
		status(15, "SUCCEEDED", t0.Add(4*time.Minute), true, 1),
	)
}

func apply(tb testing.TB, p support.Store, evs []bus.Event) {
	tb.Helper()
	if err := p.Apply(context.Background(), evs); err != nil {
		tb.Fatal(err)
	}
}

// snapshot is everything the console reads, for comparing projections.
func snapshot(tb testing.TB, p support.Store) any {
	tb.Helper()
	st, err := p.Stats(context.Background(), "lockdown-payout", t0.Add(10*time.Minute))
	if err != nil {
		tb.Fatal(err)
	}
	failed, _ := p.Failed(context.Background(), "", 100, "")
	atStep, _ := p.AtStep(context.Background(), "lockdown-payout", "check_fop", 100, "")
	a, _ := p.Get(context.Background(), "a1")
	return []any{st, failed, atStep, a}
}

func TestProjectionLifecycle(t *testing.T) {
	evs := stream(t, "a1", "1234567890", true)
	tests := []struct {
		name     string
		upTo     int // events applied
		status   string
		steps    []string
		byStatus map[string]int64
		atStep   map[string]int64
		failedAt map[string]int64
	}{
		{"started", 2, "RUNNING", []string{"submitted"}, map[string]int64{"RUNNING": 1}, map[string]int64{"submitted": 1}, map[string]int64{}},
		{"at check", 3, "RUNNING", []string{"check_fop"}, map[string]int64{"RUNNING": 1}, map[string]int64{"check_fop": 1}, map[string]int64{}},
		{"failed", 5, "FAILED", []string{}, map[string]int64{"FAILED": 1}, map[string]int64{}, map[string]int64{"check_fop": 1}},
		{"redriven", 7, "RUNNING", []string{"check_fop"}, map[string]int64{"RUNNING": 1}, map[string]int64{"check_fop": 1}, map[string]int64{}},
		{"succeeded", 8, "SUCCEEDED", []string{}, map[string]int64{"SUCCEEDED": 1}, map[string]int64{}, map[string]int64{}},
	}
	for _, impl := range stores {
		for _, tc := range tests {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				p := impl.open(t)
				apply(t, p, evs[:tc.upTo])
				a, err := p.Get(context.Background(), "a1")
				if err != nil {
					t.Fatal(err)
				}
				if a.Status != tc.status || !reflect.DeepEqual(a.Steps, tc.steps) || a.Citizen != "1234567890" || a.Service != "lockdown-payout" {
					t.Errorf("app = %s %v %q %q, want %s %v", a.Status, a.Steps, a.Citizen, a.Service, tc.status, tc.steps)
				}
				st, err := p.Stats(context.Background(), "lockdown-payout", t0)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(st.ByStatus, tc.byStatus) || !reflect.DeepEqual(st.AtStep, tc.atStep) || !reflect.DeepEqual(st.FailedAt, tc.failedAt) {
					t.Errorf("stats = %v %v %v, want %v %v %v", st.ByStatus, st.AtStep, st.FailedAt, tc.byStatus, tc.atStep, tc.failedAt)
				}
				failed, err := p.Failed(context.Background(), "lockdown-payout", 10, "")
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(failed.Apps), tc.byStatus["FAILED"]; int64(got) != want {
					t.Errorf("failed list has %d, want %d", got, want)
				}
				if tc.status == "FAILED" {
					f := failed.Apps[0]
					if f.FailedStep != "check_fop" || f.Error != "Registry.Unavailable" || string(f.FailedInput) != `{"taxNumber":"x"}` {
						t.Errorf("failed app %+v", f)
					}
				}
			})
		}
	}
}

// TestProjectionReplay: duplicates, a full replay and batches cut anywhere
// give the same projection as one clean pass.
func TestProjectionReplay(t *testing.T) {
	for _, impl := range stores {
		t.Run(impl.name, func(t *testing.T) { testReplay(t, impl) })
	}
}

func testReplay(t *testing.T, impl storeImpl) {
	evs := append(stream(t, "a1", "1234567890", true), stream(t, "a2", "2222222222", false)...)
	clean := impl.open(t)
	apply(t, clean, evs)
	want := snapshot(t, clean)

	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for run := range impl.runs {
		p := impl.open(t)
		// Deliver in batches of random size, each batch possibly sent twice
		// (a failed delivery is retried), then replay everything.
		for i := 0; i < len(evs); {
			n := 1 + rng.IntN(4)
			end := min(i+n, len(evs))
			apply(t, p, evs[i:end])
			if rng.IntN(2) == 0 {
				apply(t, p, evs[i:end])
			}
			i = end
		}
		apply(t, p, evs)
		if got := snapshot(t, p); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: projection differs after duplicates and replay:\n got %+v\nwant %+v", run, got, want)
		}
	}
	st, _ := clean.Stats(context.Background(), "lockdown-payout", t0.Add(10*time.Minute))
	if st.ByStatus["SUCCEEDED"] != 1 || st.ByStatus["RUNNING"] != 1 || st.AtStep["check_fop"] != 1 {
		t.Errorf("stats %+v", st)
	}
	var started, completed int64
	for _, m := range st.Minutes {
		started += m.Started
		completed += m.Completed
	}
	if started != 2 || completed != 1 {
		t.Errorf("throughput: %d started, %d completed; want 2, 1 (a redrive is not a start)", started, completed)
	}
}

func TestProjectionQueries(t *testing.T) {
	for _, impl := range stores {
		t.Run(impl.name, func(t *testing.T) { testQueries(t, impl) })
	}
}

func testQueries(t *testing.T, impl storeImpl) {
	p := impl.open(t)
	var apps []*support.App
	for i := range 30 {
		a := &support.App{ID: fmt.Sprintf("app-%02d", i), Service: "svc", Citizen: fmt.Sprintf("c%d", i%3), Steps: []string{}, Started: t0}
		switch i % 3 {
		case 0:
			a.Status, a.Stopped, a.FailedStep = "FAILED", t0.Add(time.Duration(i)*time.Minute), "pay"
			a.Since = a.Stopped
		case 1:
			a.Status, a.Steps, a.Since = "RUNNING", []string{"check"}, t0.Add(time.Duration(i)*time.Minute)
		default:
			a.Status, a.Stopped, a.Since = "SUCCEEDED", t0, t0
		}
		apps = append(apps, a)
	}
	if err := impl.load(t, p, apps); err != nil {
		t.Fatal(err)
	}
	// Failed, newest first, in pages of 4.
	var ids []string
	after := ""
	for {
		pg, err := p.Failed(context.Background(), "svc", 4, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pg.Apps {
			ids = append(ids, a.ID)
		}
		if pg.Next == "" {
			break
		}
		after = pg.Next
	}
	want := []string{"app-27", "app-24", "app-21", "app-18", "app-15", "app-12", "app-09", "app-06", "app-03", "app-00"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("failed pages = %v, want %v", ids, want)
	}
	all, _ := p.Failed(context.Background(), "", 100, "")
	if len(all.Apps) != 10 || all.Apps[0].ID != "app-27" {
		t.Errorf("failed across services: %d, first %v", len(all.Apps), all.Apps[0].ID)
	}
	stuck, _ := p.Stuck(context.Background(), "svc", t0.Add(10*time.Minute), 100, "")
	if len(stuck.Apps) != 3 || stuck.Apps[0].ID != "app-01" { // since 1, 4 and 7 min; 10 is the cutoff itself
		t.Errorf("stuck = %d apps, first %v", len(stuck.Apps), stuck.Apps)
	}
	byC, _ := p.ByCitizen(context.Background(), "c1", 100, "")
	if len(byC.Apps) != 10 {
		t.Errorf("by citizen: %d", len(byC.Apps))
	}
	at, _ := p.AtStep(context.Background(), "svc", "check", 100, "")
	if len(at.Apps) != 10 {
		t.Errorf("at step: %d", len(at.Apps))
	}
	if _, err := p.Get(context.Background(), "nope"); err == nil {
		t.Error("Get of an unknown id must fail")
	}
}
