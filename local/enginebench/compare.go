package enginebench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Options configure Compare.
type Options struct {
	Workloads []Workload // default Workloads()
	Warmup    time.Duration
	Duration  time.Duration // per measurement
	// Repeat measures each cell this many times, alternating the engines,
	// and keeps the median: on a shared machine load comes and goes, and
	// alternating spreads it over both engines. Default 3.
	Repeat int
	// Concurrency, if set, replaces each workload's own list.
	Concurrency []int
	Module      string // aws-local-stepfunctions entry (FindPeerModule)
	NoBolt      bool   // skip the durable store
	// Progress, if set, gets a line per measurement as it finishes.
	Progress io.Writer
}

// Row is one workload at one concurrency on the three engines: the
// measurements of each, in the order taken.
type Row struct {
	Workload    Workload
	Concurrency int
	Mem, Bolt   []Result // Bolt is empty with Options.NoBolt
	Peer        []Result
	// SameOutput reports whether all engines returned the same output.
	SameOutput bool
}

// Rate returns the median throughput (units per wall second) of rs.
func Rate(rs []Result, per int) float64 {
	return median(rs, func(r Result) float64 { return r.Rate(per) })
}

// PerCPU returns the median units per CPU-second of rs.
func PerCPU(rs []Result, per int) float64 {
	return median(rs, func(r Result) float64 { return r.PerCPUSecond(per) })
}

func median(rs []Result, f func(Result) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// MemRatio is ours on a MemStore over the peer (median throughput).
func (r Row) MemRatio() float64 {
	return div(Rate(r.Mem, r.Workload.PerExecution), Rate(r.Peer, r.Workload.PerExecution))
}

// BoltRatio is ours on the bbolt store over the peer (median throughput).
func (r Row) BoltRatio() float64 {
	return div(Rate(r.Bolt, r.Workload.PerExecution), Rate(r.Peer, r.Workload.PerExecution))
}

// MemCPURatio is ours on a MemStore over the peer in units per CPU-second.
func (r Row) MemCPURatio() float64 {
	return div(PerCPU(r.Mem, r.Workload.PerExecution), PerCPU(r.Peer, r.Workload.PerExecution))
}

// Compare measures every workload on our engine (MemStore and bbolt) and on
// the peer in one run, and writes a Markdown table to w.
func Compare(ctx context.Context, opts Options, w io.Writer) ([]Row, error) {
	if opts.Workloads == nil {
		opts.Workloads = Workloads()
	}
	if opts.Repeat <= 0 {
		opts.Repeat = 3
	}
	peer, err := StartPeer(ctx, opts.Module)
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	progress := func(wl Workload, c int, engine string, r Result) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%-12s c=%-3d %-9s %12.0f %s/s %12.0f per CPU-s (%d runs)\n",
				wl.Name, c, engine, r.Rate(wl.PerExecution), wl.Unit, r.PerCPUSecond(wl.PerExecution), r.Runs)
		}
	}
	var rows []Row
	for _, wl := range opts.Workloads {
		levels := wl.Concurrency
		if opts.Concurrency != nil {
			levels = opts.Concurrency
		}
		for _, c := range levels {
			plan := Plan{Concurrency: c, Warmup: opts.Warmup, Duration: opts.Duration}
			row := Row{Workload: wl, Concurrency: c, SameOutput: true}
			for range opts.Repeat {
				mem, err := measureOurs(ctx, wl, plan, "")
				if err != nil {
					return rows, fmt.Errorf("%s mem c=%d: %w", wl.Name, c, err)
				}
				progress(wl, c, "ours/mem", mem)
				row.Mem = append(row.Mem, mem)
				peerRes, err := peer.Measure(wl, plan)
				if err != nil {
					return rows, fmt.Errorf("%s peer c=%d: %w", wl.Name, c, err)
				}
				progress(wl, c, "peer", peerRes)
				row.Peer = append(row.Peer, peerRes)
				row.SameOutput = row.SameOutput && SameJSON(mem.Output, peerRes.Output)
				if opts.NoBolt {
					continue
				}
				dir, err := os.MkdirTemp("", "enginebench-bolt")
				if err != nil {
					return rows, err
				}
				bolt, err := measureOurs(ctx, wl, plan, dir)
				os.RemoveAll(dir)
				if err != nil {
					return rows, fmt.Errorf("%s bolt c=%d: %w", wl.Name, c, err)
				}
				progress(wl, c, "ours/bolt", bolt)
				row.Bolt = append(row.Bolt, bolt)
				row.SameOutput = row.SameOutput && SameJSON(bolt.Output, peerRes.Output)
			}
			rows = append(rows, row)
		}
	}
	writeTable(w, rows, peer.Version, opts)
	return rows, nil
}

// measureOurs measures on a fresh engine: a MemStore, or a bbolt store in
// dir when dir is set. A fresh store per measurement keeps one
// measurement's executions from slowing the next.
func measureOurs(ctx context.Context, wl Workload, plan Plan, dir string) (Result, error) {
	var o *Ours
	var err error
	if dir == "" {
		o, err = NewOursMem(ctx)
	} else {
		o, err = NewOursBolt(ctx, dir)
	}
	if err != nil {
		return Result{}, err
	}
	res, err := o.Measure(ctx, wl, plan)
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	return res, err
}

// SameJSON reports whether two JSON texts hold the same value (object key
// order aside).
func SameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// times formats a ratio with three significant digits (0.00243×, 16.9×).
func times(r float64) string { return fmt.Sprintf("%.3g×", r) }

func writeTable(w io.Writer, rows []Row, nodeVersion string, opts Options) {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs (GOMAXPROCS %d), %s; peer: aws-local-stepfunctions 3.0.0 on node %s; "+
		"median of %d × %v after %v warm-up each; load average at the end: %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), nodeVersion, opts.Repeat, opts.Duration, opts.Warmup, strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintln(w, "| workload | in flight | throughput of | ours, MemStore | ours, bbolt+fsync | peer | MemStore ÷ peer | bbolt ÷ peer | per CPU-s: ours, MemStore | per CPU-s: peer | per CPU-s ÷ | same output |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		per := r.Workload.PerExecution
		bolt, boltRatio := "—", "—"
		if !opts.NoBolt {
			bolt, boltRatio = fmt.Sprintf("%.0f", Rate(r.Bolt, per)), times(r.BoltRatio())
		}
		fmt.Fprintf(w, "| %s | %d | %s/s | %.0f | %s | %.0f | %s | %s | %.0f | %.0f | %s | %v |\n",
			r.Workload.Name, r.Concurrency, r.Workload.Unit, Rate(r.Mem, per), bolt, Rate(r.Peer, per), times(r.MemRatio()), boltRatio,
			PerCPU(r.Mem, per), PerCPU(r.Peer, per), times(r.MemCPURatio()), r.SameOutput)
	}
}
