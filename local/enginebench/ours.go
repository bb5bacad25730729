package enginebench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/store"
	"github.com/posluha/posluha/query/value"
)

// Plan says how to measure: Concurrency executions in flight, a warm-up
// whose runs are not counted, then Duration of counted runs. Every worker
// finishes the execution it has started when the time is up, so a
// measurement has at least Concurrency runs. With Runs set, the counted
// phase is exactly that many executions instead (go test -bench's b.N).
type Plan struct {
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	Runs        int
}

// Result is one measurement: Runs executions finished in Elapsed wall time
// using CPU time of the whole process (user + system, all threads), and the
// output of one of them (JSON) to check both engines computed the same.
type Result struct {
	Runs    int
	Elapsed time.Duration
	CPU     time.Duration
	Output  string
}

// Rate returns units per second, given how many units one execution makes.
func (r Result) Rate(perExecution int) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Runs) * float64(perExecution) / r.Elapsed.Seconds()
}

// PerCPUSecond returns units per second of CPU time: what the engine costs,
// less sensitive than Rate to other load on the machine.
func (r Result) PerCPUSecond(perExecution int) float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Runs) * float64(perExecution) / r.CPU.Seconds()
}

// processCPU returns this process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Ours is our engine on one store, with the task10 Lambdas in-process.
type Ours struct {
	eng   *engine.Engine
	close func() error
	seq   atomic.Int64

	mu       sync.Mutex
	machines map[string]string // workload name → state machine ARN
}

// NewOurs starts an engine on st; closeStore (may be nil) runs at Close.
func NewOurs(ctx context.Context, st engine.Store, closeStore func() error) (*Ours, error) {
	eng := engine.New(engine.Config{Store: st, Invoker: &engine.Router{Lambda: Functions()}})
	if err := eng.Start(ctx); err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}
	return &Ours{eng: eng, close: closeStore, machines: map[string]string{}}, nil
}

// NewOursMem starts an engine on a fresh MemStore.
func NewOursMem(ctx context.Context) (*Ours, error) {
	return NewOurs(ctx, engine.NewMemStore(), nil)
}

// NewOursBolt starts an engine on a fresh bbolt store in dir, with fsync:
// every checkpoint is durable before the engine goes on.
func NewOursBolt(ctx context.Context, dir string) (*Ours, error) {
	db, err := store.Open(filepath.Join(dir, "engine.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	o, err := NewOurs(ctx, db, db.Close)
	if err != nil {
		db.Close()
		return nil, err
	}
	return o, nil
}

// Engine returns the engine under test.
func (o *Ours) Engine() *engine.Engine { return o.eng }

// Close stops the engine and closes the store.
func (o *Ours) Close() error {
	err := o.eng.Close()
	if o.close != nil {
		if cerr := o.close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (o *Ours) machine(ctx context.Context, w Workload) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if arn, ok := o.machines[w.Name]; ok {
		return arn, nil
	}
	m, err := o.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: w.Name, Definition: w.Definition})
	if err != nil {
		return "", fmt.Errorf("create machine %s: %w", w.Name, err)
	}
	o.machines[w.Name] = m.ARN
	return m.ARN, nil
}

// RunOnce starts one execution of w, waits for its end and returns its
// output; an execution that does not succeed is an error.
func (o *Ours) RunOnce(ctx context.Context, w Workload) (string, error) {
	arn, err := o.machine(ctx, w)
	if err != nil {
		return "", err
	}
	x, err := o.eng.StartExecution(ctx, engine.StartInput{MachineARN: arn, Name: "x-" + strconv.FormatInt(o.seq.Add(1), 10), Input: w.Input})
	if err != nil {
		return "", fmt.Errorf("start %s: %w", w.Name, err)
	}
	if x, err = o.eng.Await(ctx, x.ARN); err != nil {
		return "", fmt.Errorf("await %s: %w", x.ARN, err)
	}
	if x.Status != engine.StatusSucceeded {
		return "", fmt.Errorf("execution %s: %s %s %s", x.ARN, x.Status, x.Error, x.Cause)
	}
	return value.String(x.Output.V), nil
}

// Measure runs w according to p (the loop peer.mjs runs too).
func (o *Ours) Measure(ctx context.Context, w Workload, p Plan) (Result, error) {
	if _, err := o.machine(ctx, w); err != nil {
		return Result{}, err
	}
	var output atomic.Value
	phase := func(d time.Duration, fixed int) (int, time.Duration, time.Duration, error) {
		deadline := time.Now().Add(d)
		var runs, claimed atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, p.Concurrency)
		start, cpu := time.Now(), processCPU()
		for range p.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if fixed > 0 && claimed.Add(1) > int64(fixed) {
						return
					}
					out, err := o.RunOnce(ctx, w)
					if err != nil {
						errs <- err
						return
					}
					output.CompareAndSwap(nil, out)
					runs.Add(1)
					if fixed == 0 && !time.Now().Before(deadline) {
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed, used := time.Since(start), processCPU()-cpu
		select {
		case err := <-errs:
			return 0, 0, 0, err
		default:
		}
		return int(runs.Load()), elapsed, used, nil
	}
	if p.Warmup > 0 {
		if _, _, _, err := phase(p.Warmup, 0); err != nil {
			return Result{}, err
		}
	}
	runs, elapsed, cpu, err := phase(p.Duration, p.Runs)
	if err != nil {
		return Result{}, err
	}
	out, _ := output.Load().(string)
	return Result{Runs: runs, Elapsed: elapsed, CPU: cpu, Output: out}, nil
}
