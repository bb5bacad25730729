package enginebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerOnce starts the node peer for the whole test binary; tests and
// benchmarks skip when node or the npm package is missing.
var peerOnce struct {
	sync.Once
	p   *Peer
	err error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if peerOnce.p != nil {
		peerOnce.p.Close()
	}
	os.Exit(code)
}

func mustPeer(tb testing.TB) *Peer {
	tb.Helper()
	peerOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			peerOnce.err = err
			return
		}
		module, err := FindPeerModule(wd)
		if err != nil {
			peerOnce.err = err
			return
		}
		peerOnce.p, peerOnce.err = StartPeer(context.Background(), module)
	})
	if errors.Is(peerOnce.err, ErrNoPeer) {
		tb.Skip("peer not installed (make deps):", peerOnce.err)
	}
	if peerOnce.err != nil {
		tb.Fatal(peerOnce.err)
	}
	return peerOnce.p
}

// small are the workloads at test size.
func small() []Workload {
	return []Workload{PassChain(10), ChoiceLoop(5), Map(200), TaskWorkflow()}
}

// TestSameOutput runs each workload once on both engines: the comparison
// only means something if both compute the same result.
func TestSameOutput(t *testing.T) {
	ctx := context.Background()
	peer := mustPeer(t)
	mem, err := NewOursMem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	bolt, err := NewOursBolt(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	for _, wl := range append(small(), Map(10000)) {
		t.Run(wl.Name, func(t *testing.T) {
			theirs, err := peer.Measure(wl, Plan{Concurrency: 1, Runs: 1})
			if err != nil {
				t.Fatal(err)
			}
			for name, o := range map[string]*Ours{"mem": mem, "bolt": bolt} {
				out, err := o.RunOnce(ctx, wl)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !SameJSON(out, theirs.Output) {
					t.Errorf("%s: output = %.300s\npeer's  = %.300s", name, out, theirs.Output)
				}
			}
		})
	}
}

// TestCompare runs the driver at toy size: every cell measured, outputs
// equal, a table printed.
func TestCompare(t *testing.T) {
	mustPeer(t)
	wd, _ := os.Getwd()
	module, err := FindPeerModule(wd)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	rows, err := Compare(context.Background(), Options{
		Workloads: []Workload{PassChain(5), Map(50)}, Duration: 20 * time.Millisecond, Repeat: 1,
		Concurrency: []int{2}, Module: module,
	}, &table)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	for _, r := range rows {
		if len(r.Mem) != 1 || len(r.Bolt) != 1 || len(r.Peer) != 1 || r.Mem[0].Runs < 2 || r.Bolt[0].Runs < 2 || r.Peer[0].Runs < 2 {
			t.Errorf("%s: runs mem %v bolt %v peer %v", r.Workload.Name, r.Mem, r.Bolt, r.Peer)
		}
		if !r.SameOutput {
			t.Errorf("%s: outputs differ", r.Workload.Name)
		}
	}
	if !strings.Contains(table.String(), "| pass5 | 2 | transitions/s |") {
		t.Errorf("table:\n%s", table.String())
	}
}

// BenchmarkVersusPeer runs b.N executions of each workload on our engine,
// then the same number on the peer (timed inside node), and reports both
// throughputs and their ratio. cmd/enginebench gives steadier figures
// (fixed time, repeats, medians, CPU time).
func BenchmarkVersusPeer(b *testing.B) {
	ctx := context.Background()
	peer := mustPeer(b)
	for _, wl := range Workloads() {
		for _, c := range wl.Concurrency {
			for _, st := range []string{"mem", "bolt"} {
				b.Run(fmt.Sprintf("%s/%s/c=%d", wl.Name, st, c), func(b *testing.B) {
					var o *Ours
					var err error
					if st == "mem" {
						o, err = NewOursMem(ctx)
					} else {
						o, err = NewOursBolt(ctx, b.TempDir())
					}
					if err != nil {
						b.Fatal(err)
					}
					defer o.Close()
					// Both sides warm up (node's JIT, our caches) before
					// the b.N counted runs; the metrics are the sides' own
					// Results, not the benchmark's clock.
					plan := Plan{Concurrency: c, Runs: b.N, Warmup: 200 * time.Millisecond}
					ours, err := o.Measure(ctx, wl, plan)
					if err != nil {
						b.Fatal(err)
					}
					theirs, err := peer.Measure(wl, plan)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(ours.Rate(wl.PerExecution), wl.Unit+"/s")
					b.ReportMetric(theirs.Rate(wl.PerExecution), "peer-"+wl.Unit+"/s")
					b.ReportMetric(ours.Rate(wl.PerExecution)/theirs.Rate(wl.PerExecution), "x-peer")
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}
