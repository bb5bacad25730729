package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// backends are every engine.Store implementation; the contract below runs
// on each, so the in-memory store used by `posluha exec` and the durable one
// behind `posluha serve` cannot drift apart.
func backends(t *testing.T) map[string]func(t *testing.T) engine.Store {
	return map[string]func(t *testing.T) engine.Store{
		"mem": func(t *testing.T) engine.Store { return engine.NewMemStore() },
		"bbolt": func(t *testing.T) engine.Store {
			db := MustOpen(t, filepath.Join(t.TempDir(), "engine.db"))
			return db
		},
	}
}

// MustOpen opens a store for a test and closes it at cleanup.
func MustOpen(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path, Options{BatchDelay: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func execution(arn, machine string, input any) *engine.Execution {
	return &engine.Execution{
		ARN: arn, Name: filepath.Base(arn), MachineARN: machine, Version: 1,
		Status: engine.StatusRunning, Input: engine.Value{V: input}, StartTime: t0,
		Root: &engine.Thread{ID: "0", State: "First", Input: engine.Value{V: input}, Vars: value.ObjectOf("z", 1.0, "a", "x")},
	}
}

func event(id int64, typ string) engine.Event {
	return engine.Event{ID: id, PreviousID: id - 1, Time: t0.Add(time.Duration(id) * time.Second), Type: typ, Details: value.ObjectOf("input", "{}")}
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("machines", func(t *testing.T) {
				s := open(t)
				m := &engine.Machine{ARN: "arn:sm:b", Name: "b", Type: "STANDARD", Versions: []engine.MachineVersion{{Version: 1, Definition: `{"StartAt":"A"}`}}}
				if err := s.PutMachine(ctx, m); err != nil {
					t.Fatal(err)
				}
				if err := s.PutMachine(ctx, &engine.Machine{ARN: "arn:sm:a", Name: "a", Versions: []engine.MachineVersion{{Version: 1}}}); err != nil {
					t.Fatal(err)
				}
				got, err := s.GetMachine(ctx, "arn:sm:b")
				if err != nil || got.Latest().Definition != `{"StartAt":"A"}` {
					t.Fatalf("GetMachine = %+v, %v", got, err)
				}
				list, _ := s.ListMachines(ctx)
				if len(list) != 2 || list[0].ARN != "arn:sm:a" {
					t.Fatalf("ListMachines not ordered by ARN: %+v", list)
				}
				if err := s.DeleteMachine(ctx, "arn:sm:a"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.GetMachine(ctx, "arn:sm:a"); !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("GetMachine after delete: %v", err)
				}
				if err := s.DeleteMachine(ctx, "arn:sm:a"); !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("second delete: %v", err)
				}
			})
			t.Run("executions", func(t *testing.T) {
				s := open(t)
				input := value.ObjectOf("zeta", 1.0, "alpha", []any{true, nil})
				x := execution("arn:ex:m1:one", "arn:sm:m1", input)
				if err := s.CreateExecution(ctx, x, []engine.Event{event(1, "ExecutionStarted")}); err != nil {
					t.Fatal(err)
				}
				if err := s.CreateExecution(ctx, x, nil); !errors.Is(err, engine.ErrExists) {
					t.Fatalf("second create = %v, want ErrExists", err)
				}
				got, err := s.GetExecution(ctx, x.ARN)
				if err != nil {
					t.Fatal(err)
				}
				if value.String(got.Input.V) != `{"zeta":1,"alpha":[true,null]}` || value.String(got.Root.Vars) != `{"z":1,"a":"x"}` {
					t.Fatalf("values lost order or content: %s / %s", value.String(got.Input.V), value.String(got.Root.Vars))
				}
				x.LastEventID = 3
				x.Tokens = []string{"tok-1"}
				x.WakeAt = t0.Add(time.Hour)
				if err := s.SaveExecution(ctx, x, []engine.Event{event(2, "PassStateEntered"), event(3, "PassStateExited")}); err != nil {
					t.Fatal(err)
				}
				if owner, err := s.TokenOwner(ctx, "tok-1"); err != nil || owner != x.ARN {
					t.Fatalf("TokenOwner = %q, %v", owner, err)
				}
				hist, err := s.History(ctx, x.ARN)
				if err != nil || len(hist) != 3 || hist[0].Type != "ExecutionStarted" || hist[2].ID != 3 {
					t.Fatalf("History = %+v, %v", hist, err)
				}
				if _, err := s.History(ctx, "arn:ex:nope"); !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("History(unknown) = %v", err)
				}
				// The token is answered and the execution finishes: indexes follow.
				x.Tokens, x.WakeAt, x.Status = nil, time.Time{}, engine.StatusSucceeded
				if err := s.SaveExecution(ctx, x, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := s.TokenOwner(ctx, "tok-1"); !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("old token still indexed: %v", err)
				}
				if r, _ := s.ListRunning(ctx); len(r) != 0 {
					t.Fatalf("ListRunning = %v after success", r)
				}
				if _, ok, _ := s.NextWake(ctx); ok {
					t.Fatal("NextWake reports a cleared timer")
				}
				if err := s.SaveExecution(ctx, execution("arn:ex:ghost", "m", nil), nil); !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("save of unknown = %v", err)
				}
			})
			t.Run("listing and timers", func(t *testing.T) {
				s := open(t)
				for i, m := range []string{"arn:sm:a", "arn:sm:b", "arn:sm:a", "arn:sm:ab"} {
					x := execution(fmt.Sprintf("arn:ex:%d", i), m, nil)
					x.WakeAt = t0.Add(time.Duration(10-i) * time.Minute)
					if err := s.CreateExecution(ctx, x, nil); err != nil {
						t.Fatal(err)
					}
				}
				arns := func(xs []*engine.Execution) (out []string) {
					for _, x := range xs {
						if x.Root != nil {
							t.Errorf("ListExecutions returned Root for %s", x.ARN)
						}
						out = append(out, x.ARN)
					}
					return out
				}
				pages := []struct {
					machine, after string
					limit          int
					want, next     string
					err            error
				}{
					{"", "", 0, "[arn:ex:3 arn:ex:2 arn:ex:1 arn:ex:0]", "", nil}, // all, newest first
					{"", "", 2, "[arn:ex:3 arn:ex:2]", "arn:ex:2", nil},
					{"", "arn:ex:2", 2, "[arn:ex:1 arn:ex:0]", "", nil}, // exactly the rest: no next page
					{"", "arn:ex:3", 1, "[arn:ex:2]", "arn:ex:2", nil},
					{"", "arn:ex:0", 5, "[]", "", nil},
					{"arn:sm:a", "", 0, "[arn:ex:2 arn:ex:0]", "", nil}, // a prefix of another machine must not match
					{"arn:sm:a", "", 1, "[arn:ex:2]", "arn:ex:2", nil},
					{"arn:sm:a", "arn:ex:2", 1, "[arn:ex:0]", "", nil},
					{"arn:sm:a", "arn:ex:1", 1, "[]", "", engine.ErrNotFound}, // not this machine's
					{"", "arn:ex:nope", 1, "[]", "", engine.ErrNotFound},
				}
				for _, p := range pages {
					xs, next, err := s.ListExecutions(ctx, p.machine, p.after, p.limit)
					if got := fmt.Sprint(arns(xs)); got != p.want || next != p.next || !errors.Is(err, p.err) {
						t.Errorf("ListExecutions(%q, %q, %d) = %s, %q, %v; want %s, %q, %v", p.machine, p.after, p.limit, got, next, err, p.want, p.next, p.err)
					}
				}
				due, _ := s.DueExecutions(ctx, t0.Add(8*time.Minute), 10)
				sort.Strings(due)
				if got := fmt.Sprint(due); got != "[arn:ex:2 arn:ex:3]" {
					t.Errorf("DueExecutions = %s, want the two due by then", got)
				}
				if due, _ := s.DueExecutions(ctx, t0.Add(time.Hour), 1); len(due) != 1 {
					t.Errorf("limit ignored: %v", due)
				}
				if at, ok, _ := s.NextWake(ctx); !ok || !at.Equal(t0.Add(7*time.Minute)) {
					t.Errorf("NextWake = %v, %v", at, ok)
				}
				running, _ := s.ListRunning(ctx)
				if len(running) != 4 {
					t.Errorf("ListRunning = %v", running)
				}
			})
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := execution("arn:ex:keep", "arn:sm:m", "in")
	x.Tokens = []string{"tok"}
	if err := db.CreateExecution(ctx, x, []engine.Event{event(1, "ExecutionStarted")}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = MustOpen(t, path)
	if owner, err := db.TokenOwner(ctx, "tok"); err != nil || owner != x.ARN {
		t.Fatalf("after reopen TokenOwner = %q, %v", owner, err)
	}
	if r, _ := db.ListRunning(ctx); len(r) != 1 {
		t.Fatalf("after reopen ListRunning = %v", r)
	}
}
