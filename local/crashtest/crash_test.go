package crashtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/lambdarun"
	"github.com/posluha/posluha/local/store"
)

var (
	rounds   = flag.Int("crash.rounds", 12, "kills of the engine process (at least 10)")
	seed     = flag.Uint64("crash.seed", 0, "random seed of the kill moments (0: from the clock; a failing run prints its seed)")
	perRound = flag.Int("crash.executions", 20, "executions started by each engine process")
	maxDelay = flag.Duration("crash.maxdelay", 1500*time.Millisecond, "longest life of a child before its kill")
	keepDir  = flag.String("crash.dir", "", "data directory to use and keep (default a temporary one)")
)

// Environment of the child process.
const (
	envDir   = "POSLUHA_CRASHTEST_DIR"   // the data directory: the child runs the engine
	envStart = "POSLUHA_CRASHTEST_START" // "round:count": executions to start
	envDrain = "POSLUHA_CRASHTEST_DRAIN" // "1": start nothing, exit once no execution runs
)

// tasks are the Task states of the workflow in order; the Lambda logs each
// run of one of them.
var tasks = []string{"T1", "T2", "T3", "T4", "T5"}

// definition: five Lambda tasks that count and keep a trail of the states
// that produced the result, with a Pass, a one-second Wait (a timer that
// must fire after a restart) and a Choice between them.
const definition = `{"StartAt":"T1","States":{
	"T1":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:step","Payload":{"execution.$":"$$.Execution.Name","state.$":"$$.State.Name","n.$":"$.n","trail.$":"$.trail"}},"ResultSelector":{"n.$":"$.Payload.n","trail.$":"$.Payload.trail"},"Next":"T2"},
	"T2":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:step","Payload":{"execution.$":"$$.Execution.Name","state.$":"$$.State.Name","n.$":"$.n","trail.$":"$.trail"}},"ResultSelector":{"n.$":"$.Payload.n","trail.$":"$.Payload.trail"},"Next":"Note"},
	"Note":{"Type":"Pass","Result":"between T2 and T3","ResultPath":"$.note","Next":"Pause"},
	"Pause":{"Type":"Wait","Seconds":1,"Next":"T3"},
	"T3":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:step","Payload":{"execution.$":"$$.Execution.Name","state.$":"$$.State.Name","n.$":"$.n","trail.$":"$.trail"}},"ResultSelector":{"n.$":"$.Payload.n","trail.$":"$.Payload.trail"},"Next":"Check"},
	"Check":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":3,"Next":"T4"}],"Default":"Wrong"},
	"T4":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:step","Payload":{"execution.$":"$$.Execution.Name","state.$":"$$.State.Name","n.$":"$.n","trail.$":"$.trail"}},"ResultSelector":{"n.$":"$.Payload.n","trail.$":"$.Payload.trail"},"Next":"T5"},
	"T5":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:step","Payload":{"execution.$":"$$.Execution.Name","state.$":"$$.State.Name","n.$":"$.n","trail.$":"$.trail"}},"ResultSelector":{"n.$":"$.Payload.n","trail.$":"$.Payload.trail"},"End":true},
	"Wrong":{"Type":"Fail","Error":"Crashtest.WrongCount"}}}`

const input = `{"n":0,"trail":[]}`

// TestMain lets the test binary act as the engine process the test kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv(envDir); dir != "" {
		if err := child(dir); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type stepRequest struct {
	Execution string   `json:"execution"`
	State     string   `json:"state"`
	N         int      `json:"n"`
	Trail     []string `json:"trail"`
}

type stepResponse struct {
	N     int      `json:"n"`
	Trail []string `json:"trail"`
}

// child runs the engine on the store in dir: it resumes what is running,
// starts the executions envStart asks for (printing "started <arn>" once
// each is acknowledged), and then runs until killed, or with envDrain until
// nothing runs any more.
func child(dir string) error {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(dir, "engine.db"), store.Options{})
	if err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(dir, "tasks.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fns := lambdarun.New()
	fns.Register("step", func(_ context.Context, in stepRequest) (stepResponse, error) {
		// One write per line (O_APPEND, so lines never interleave), made
		// durable before the task counts as done.
		if _, err := log.WriteString(in.Execution + " " + in.State + "\n"); err != nil {
			return stepResponse{}, err
		}
		if err := log.Sync(); err != nil {
			return stepResponse{}, err
		}
		return stepResponse{N: in.N + 1, Trail: append(in.Trail, in.State)}, nil
	})
	eng := engine.New(engine.Config{Store: db, Invoker: &engine.Router{Lambda: fns}})
	if err := eng.Start(ctx); err != nil {
		return err
	}
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "crash", Definition: definition})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		out.WriteString(line + "\n")
		out.Flush()
	}
	say("ready")
	if spec := os.Getenv(envStart); spec != "" {
		round, count, _ := strings.Cut(spec, ":")
		n, _ := strconv.Atoi(count)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for w := range 4 { // a few at a time, so that starts overlap with running executions
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: fmt.Sprintf("r%s-%02d", round, i), Input: input})
					if err != nil {
						errs <- err
						return
					}
					say("started " + x.ARN)
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
	}
	if os.Getenv(envDrain) == "" {
		select {} // until SIGKILL
	}
	for {
		running, err := eng.ListExecutions(ctx, m.ARN, engine.StatusRunning)
		if err != nil {
			return err
		}
		if len(running) == 0 {
			break
		}
		if _, err := eng.Await(ctx, running[0].ARN); err != nil {
			return err
		}
	}
	say("drained")
	if err := eng.Close(); err != nil {
		return err
	}
	return db.Close()
}

// proc is a running child.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, closed at EOF
	stderr *strings.Builder
}

func spawn(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envDir+"="+dir), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1024), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p
}

// TestCrashRestart kills the engine process with SIGKILL at random moments
// (-crash.rounds times), restarting it on the same store each time with
// more executions to start, then lets a last process finish them all and
// checks the outcome and the task log.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	if *rounds < 1 || *maxDelay <= 100*time.Millisecond {
		t.Fatal("-crash.rounds must be at least 1 and -crash.maxdelay over 100ms")
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -crash.seed=%d -crash.rounds=%d)", s, s, *rounds)
	rng := rand.New(rand.NewPCG(s, s>>1|1))
	dir := *keepDir
	if dir == "" {
		dir = t.TempDir()
	}
	logPath := filepath.Join(dir, "tasks.log")
	start := time.Now()

	acked := map[string]bool{} // executions whose StartExecution returned
	var lives []time.Duration
	for r := range *rounds {
		life := time.Duration(50+rng.Int64N(int64(*maxDelay/time.Millisecond)-50)) * time.Millisecond
		lives = append(lives, life)
		p := spawn(t, dir, fmt.Sprintf("%s=%d:%d", envStart, r, *perRound))
		kill := time.After(life)
	read:
		for {
			select {
			case line, ok := <-p.lines:
				if !ok {
					err := p.cmd.Wait()
					t.Fatalf("round %d: the engine process ended before its kill (%v): %s", r, err, p.stderr)
				}
				if arn, ok := strings.CutPrefix(line, "started "); ok {
					acked[arn] = true
				}
			case <-kill:
				break read
			}
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for line := range p.lines { // written before the kill: acknowledged too
			if arn, ok := strings.CutPrefix(line, "started "); ok {
				acked[arn] = true
			}
		}
		p.cmd.Wait()
		// The child is gone, so nothing else writes the log now: mark the
		// kill, so the check knows which task runs each process made.
		if err := appendLine(logPath, fmt.Sprintf("kill %d", r)); err != nil {
			t.Fatal(err)
		}
	}
	killed := time.Since(start)

	p := spawn(t, dir, envDrain+"=1")
	done := make(chan error, 1)
	go func() {
		for line := range p.lines {
			if line == "drained" {
				done <- nil
			}
		}
		done <- errors.New("the last engine process ended without draining")
	}()
	// Every execution needs about a second once resumed (the Wait), so
	// anything still running after this is stuck, not slow.
	const drainLimit = 30 * time.Second
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v: %s", err, p.stderr)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("last engine process: %v: %s", err, p.stderr)
		}
	case <-time.After(drainLimit):
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		t.Errorf("executions still running %v after the last restart (details below)", drainLimit)
	}
	stored := checkStore(t, dir, acked)
	if t.Failed() {
		return
	}
	rep := checkLog(t, logPath, stored)
	t.Logf("%d kills at %v after each start; %d executions started (%d acknowledged), all SUCCEEDED with every result; "+
		"%d task runs for %d tasks: %d re-runs, all of the task in flight at a kill (bound: %d executions running across the %d kills that hit one, one re-run each at most); %v in all",
		*rounds, roundAll(lives), len(stored), len(acked), rep.runs, len(stored)*len(tasks), rep.reruns, rep.inFlight, rep.killsInFlight,
		time.Since(start).Round(time.Millisecond))
	t.Logf("kill phase %v, last process %v", killed.Round(time.Millisecond), (time.Since(start) - killed).Round(time.Millisecond))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkStore opens the store the children left and checks that every
// acknowledged execution is there and that every stored execution
// SUCCEEDED with all five results in order. It returns the stored
// executions' names.
func checkStore(t *testing.T, dir string, acked map[string]bool) map[string]bool {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(dir, "engine.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, _, err := db.ListExecutions(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, x := range all {
		names[x.Name] = true
		if x.Status != engine.StatusSucceeded {
			// The full record says why nobody resumed it.
			x, err := db.GetExecution(ctx, x.ARN)
			if err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s: %s %s %s; record: parked %v, wakeAt %v, tokens %v, state %s phase %q",
				x.Name, x.Status, x.Error, x.Cause, x.Parked, x.WakeAt, x.Tokens, x.Root.State, x.Root.Phase)
			continue
		}
		checkWait(t, db, x.ARN)
		var out stepResponse
		b, _ := json.Marshal(x.Output)
		if err := json.Unmarshal(b, &out); err != nil || out.N != len(tasks) || !slices.Equal(out.Trail, tasks) {
			t.Errorf("%s: output %s, want n=%d and trail %v", x.ARN, b, len(tasks), tasks)
		}
	}
	for arn := range acked {
		if _, name, _ := strings.Cut(arn, ":execution:crash:"); !names[name] {
			t.Errorf("acknowledged execution %s lost", arn)
		}
	}
	return names
}

// checkWait checks that the one-second Wait lasted at least a second, also
// when a restart came in between.
func checkWait(t *testing.T, db *store.DB, arn string) {
	t.Helper()
	h, err := db.History(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	var entered, exited time.Time
	for _, e := range h {
		switch e.Type {
		case "WaitStateEntered":
			entered = e.Time
		case "WaitStateExited":
			exited = e.Time
		}
	}
	if entered.IsZero() || exited.Sub(entered) < time.Second {
		t.Errorf("%s: Wait entered %v, exited %v: want a second at least", arn, entered, exited)
	}
}

type logReport struct {
	runs, reruns  int
	inFlight      int // Σ over kills of the executions with task runs on both sides of it
	killsInFlight int // kills with at least one such execution
}

// checkLog reads the task log: per execution, the task runs of each engine
// process (separated by "kill" lines). Within one process the tasks must
// follow each other without repeats or gaps; the first run after a kill may
// repeat the execution's last task before it (the one in flight, at most
// once) or go on with the next. Every stored execution ran all tasks.
func checkLog(t *testing.T, path string, stored map[string]bool) logReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type last struct {
		epoch, task int
	}
	seen := map[string]*last{}
	epoch := 0
	var rep logReport
	crossed := map[int]map[string]bool{} // kill → executions with a run on both sides
	index := map[string]int{}
	for i, s := range tasks {
		index[s] = i
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "kill ") {
			epoch++
			continue
		}
		name, state, ok := strings.Cut(line, " ")
		i, known := index[state]
		if !ok || !known {
			t.Fatalf("tasks.log:%d: malformed line %q", n, line)
		}
		rep.runs++
		l := seen[name]
		switch {
		case l == nil:
			if i != 0 {
				t.Errorf("tasks.log:%d: %s ran %s first", n, name, state)
			}
			seen[name] = &last{epoch, i}
			continue
		case l.epoch == epoch && i != l.task+1:
			t.Errorf("tasks.log:%d: %s ran %s after %s in the same engine process", n, name, state, tasks[l.task])
		case l.epoch != epoch && i == l.task:
			rep.reruns++ // the task in flight at a kill, run again
		case l.epoch != epoch && i != l.task+1:
			t.Errorf("tasks.log:%d: %s ran %s after a restart; its last task before was %s", n, name, state, tasks[l.task])
		}
		for k := l.epoch; k < epoch; k++ {
			if crossed[k] == nil {
				crossed[k] = map[string]bool{}
			}
			crossed[k][name] = true
		}
		l.epoch, l.task = epoch, i
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range stored {
		if l := seen[name]; l == nil || l.task != len(tasks)-1 {
			t.Errorf("%s SUCCEEDED but the log has not all its tasks: %+v", name, l)
		}
	}
	for name := range seen {
		if !stored[name] {
			t.Errorf("%s ran tasks but is not in the store", name)
		}
	}
	for _, names := range crossed {
		rep.inFlight += len(names)
		rep.killsInFlight++
	}
	if rep.reruns > rep.inFlight {
		t.Errorf("%d re-runs for %d executions in flight at the kills", rep.reruns, rep.inFlight)
	}
	return rep
}
