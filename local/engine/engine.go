package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha/query/value"
)

// Config wires an Engine.
type Config struct {
	Store   Store   // required
	Clock   Clock   // nil: RealClock
	Invoker Invoker // runs Task resources; nil: every task fails
	S3      S3      // distributed Map ItemReader/ResultWriter; optional
	Region  string  // default us-east-1
	Account string  // default 111111111111
	Logger  *slog.Logger
	// AutoAdvance lets the timer loop move a *VirtualClock to the next
	// timer whenever no execution is running, so waits take no time.
	AutoAdvance bool
}

// Engine runs executions stored in a Store. It is safe for concurrent use.
type Engine struct {
	store    Store
	observer Observer // store's, if it implements Observer
	clock    Clock
	invoker  Invoker
	s3       S3
	region   string
	account  string
	log      *slog.Logger
	auto     bool

	mu      sync.Mutex
	defs    map[string]*machineVersion // "machineARN#version" → parsed definition
	active  map[string]*activeRun      // executions being advanced right now
	changed chan struct{}              // closed and replaced whenever a run ends
	// ended holds, per execution someone Awaits, a channel closed when a
	// run or an action on that execution ends: a finished execution wakes
	// its own waiters, not every waiter (each of which would re-read its
	// record from the store).
	ended   map[string]*waiters
	wake    chan struct{} // pokes the timer loop
	stop    context.CancelFunc
	loop    sync.WaitGroup
	backoff map[string]time.Time // executions whose last pass failed: not before this
	// pending maps task tokens handed out by a pass that has not saved
	// yet, so that a callback racing the save waits for it instead of
	// failing with TaskDoesNotExist.
	pending map[string]*pendingToken
	// early holds answers (SendTaskSuccess/Failure/Heartbeat) that came for
	// a pending token while its task's invocation ran: the task's own
	// Lambda may answer before it returns, as it may on AWS. The pass puts
	// them into the record before it saves (advance).
	early map[string][]func(*TaskRun)
}

// pendingToken is a task token a running pass handed out and has not
// saved yet.
type pendingToken struct {
	arn      string
	invoking bool          // the task's invocation has not returned yet
	saved    chan struct{} // closed once the pass has saved (or failed to)
}

type activeRun struct {
	dirty  bool
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns an engine; call Start to run timers and recover executions.
func New(cfg Config) *Engine {
	e := &Engine{
		store: cfg.Store, clock: cfg.Clock, invoker: cfg.Invoker, s3: cfg.S3,
		region: cfg.Region, account: cfg.Account, log: cfg.Logger, auto: cfg.AutoAdvance,
		defs: map[string]*machineVersion{}, active: map[string]*activeRun{}, backoff: map[string]time.Time{}, pending: map[string]*pendingToken{}, early: map[string][]func(*TaskRun){},
		changed: make(chan struct{}), wake: make(chan struct{}, 1), ended: map[string]*waiters{},
	}
	e.observer, _ = cfg.Store.(Observer)
	if e.clock == nil {
		e.clock = RealClock{}
	}
	if e.invoker == nil {
		e.invoker = &Router{}
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.account == "" {
		e.account = "111111111111"
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Start resumes every RUNNING execution found in the store (after a
// restart) and starts the timer loop. Close stops it.
func (e *Engine) Start(ctx context.Context) error {
	running, err := e.store.ListRunning(ctx)
	if err != nil {
		return fmt.Errorf("list running executions: %w", err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = cancel
	for _, arn := range running {
		e.kick(arn)
	}
	e.loop.Add(1)
	go e.timerLoop(lctx)
	return nil
}

// Close stops the timer loop and waits for running passes to park.
func (e *Engine) Close() error {
	if e.stop != nil {
		e.stop()
		e.loop.Wait()
	}
	e.mu.Lock()
	var waits []chan struct{}
	for _, a := range e.active {
		a.cancel()
		waits = append(waits, a.done)
	}
	e.mu.Unlock()
	for _, w := range waits {
		<-w
	}
	return nil
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// timerLoop resumes executions whose WakeAt has come.
func (e *Engine) timerLoop(ctx context.Context) {
	defer e.loop.Done()
	for ctx.Err() == nil {
		if _, err := e.FireDue(ctx); err != nil {
			e.log.Error("fire timers", "err", err)
		}
		next, ok, err := e.store.NextWake(ctx)
		if err != nil {
			e.log.Error("next timer", "err", err)
		}
		now := e.clock.Now()
		if ok && !next.After(now) {
			// Due but owned by a running pass: wait for it to end.
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
			case <-e.clock.After(10 * time.Millisecond):
			}
			continue
		}
		if vc, isVirtual := e.clock.(*VirtualClock); isVirtual && e.auto && ok && e.idle() {
			vc.Set(next)
			continue
		}
		var timer <-chan time.Time
		if ok {
			timer = e.clock.After(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer:
		}
	}
}

func (e *Engine) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.active) == 0
}

// FireDue resumes the executions whose timers are due; it returns how many.
func (e *Engine) FireDue(ctx context.Context) (int, error) {
	arns, err := e.store.DueExecutions(ctx, e.clock.Now(), 1000)
	if err != nil {
		return 0, fmt.Errorf("due executions: %w", err)
	}
	n := 0
	now := e.clock.Now()
	for _, arn := range arns {
		e.mu.Lock()
		_, busy := e.active[arn]
		notBefore, failing := e.backoff[arn]
		e.mu.Unlock()
		if failing && now.Before(notBefore) {
			continue // its last pass failed (store or definition trouble): don't spin on it
		}
		if !busy {
			e.kick(arn)
			n++
		}
	}
	return n, nil
}

// kick makes sure the execution is advanced: it starts a pass, or marks
// the running one to go again when it ends.
func (e *Engine) kick(arn string) {
	e.mu.Lock()
	if a, ok := e.active[arn]; ok {
		a.dirty = true
		e.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &activeRun{cancel: cancel, done: make(chan struct{})}
	e.active[arn] = a
	e.mu.Unlock()
	go e.drive(ctx, arn, a)
}

func (e *Engine) drive(ctx context.Context, arn string, a *activeRun) {
	for {
		err := e.advance(ctx, arn)
		e.mu.Lock()
		if err != nil {
			e.log.Error("advance execution", "execution", arn, "err", err)
			e.backoff[arn] = e.clock.Now().Add(time.Second)
		} else {
			delete(e.backoff, arn)
		}
		if !a.dirty || ctx.Err() != nil {
			delete(e.active, arn)
			close(a.done)
			e.endedLocked(arn)
			e.mu.Unlock()
			a.cancel()
			e.poke()
			return
		}
		a.dirty = false
		e.mu.Unlock()
	}
}

type waiters struct {
	ch chan struct{}
	n  int // Awaits holding ch
}

// endedLocked wakes whoever waits for arn and everything waiting for any
// change (AwaitSettled); e.mu is held.
func (e *Engine) endedLocked(arn string) {
	close(e.changed)
	e.changed = make(chan struct{})
	if w := e.ended[arn]; w != nil {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// Await blocks until the execution is no longer RUNNING (or ctx ends).
func (e *Engine) Await(ctx context.Context, arn string) (*Execution, error) {
	e.mu.Lock()
	w := e.ended[arn]
	if w == nil {
		w = &waiters{ch: make(chan struct{})}
		e.ended[arn] = w
	}
	w.n++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		if w.n--; w.n == 0 {
			delete(e.ended, arn)
		}
		e.mu.Unlock()
	}()
	for {
		e.mu.Lock()
		ch := w.ch
		e.mu.Unlock()
		x, err := e.store.GetExecution(ctx, arn)
		if err != nil {
			return nil, err
		}
		if x.Status != StatusRunning {
			return x, nil
		}
		select {
		case <-ctx.Done():
			return x, ctx.Err()
		case <-ch:
		}
	}
}

// machineVersion is what a pass needs of a machine version: it never
// changes once published, so it is cached and a pass does not read (and
// decode) the machine record from the store.
type machineVersion struct {
	def  *Definition
	name string // the machine's name
	role string // the version's role ARN
}

// definition returns the parsed definition of a machine version (cached
// until the machine is deleted).
func (e *Engine) definition(ctx context.Context, machineARN string, version int) (*Definition, *machineVersion, error) {
	key := machineARN + "#" + strconv.Itoa(version)
	e.mu.Lock()
	mv, ok := e.defs[key]
	e.mu.Unlock()
	if ok {
		return mv.def, mv, nil
	}
	m, err := e.store.GetMachine(ctx, machineARN)
	if err != nil {
		return nil, nil, fmt.Errorf("state machine %s: %w", machineARN, err)
	}
	if version < 1 || version > len(m.Versions) {
		return nil, nil, fmt.Errorf("state machine %s has no version %d: %w", machineARN, version, ErrNotFound)
	}
	d, err := Parse([]byte(m.Versions[version-1].Definition))
	if err != nil {
		return nil, nil, fmt.Errorf("state machine %s version %d: %w", machineARN, version, err)
	}
	mv = &machineVersion{def: d, name: m.Name, role: m.Versions[version-1].RoleARN}
	e.mu.Lock()
	e.defs[key] = mv
	e.mu.Unlock()
	return d, mv, nil
}

// forgetMachine drops the cached versions of a deleted machine: one
// created later under the same name numbers its versions from 1 again.
func (e *Engine) forgetMachine(machineARN string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.defs {
		if strings.HasPrefix(k, machineARN+"#") {
			delete(e.defs, k)
		}
	}
}

// advance runs one interpreter pass over an execution.
func (e *Engine) advance(ctx context.Context, arn string) error {
	x, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		return err
	}
	if x.Status != StatusRunning {
		return nil
	}
	// The pass runs: a checkpoint it saves before it parks again must not
	// look parked, or after a crash nobody would resume the execution
	// (stores leave parked records out of ListRunning).
	x.Parked = false
	def, m, err := e.definition(ctx, x.MachineARN, x.Version)
	if err != nil {
		return err
	}
	r := &run{eng: e, x: x, def: def, machine: m.name, ctx: ctx}
	r.execObj = value.ObjectOf("Id", x.ARN, "Input", x.Input.V, "StartTime", formatTime(x.StartTime),
		"Name", x.Name, "RoleArn", m.role, "RedriveCount", float64(x.RedriveCount))
	r.smObj = value.ObjectOf("Id", x.MachineARN, "Name", m.name)
	saveCtx := context.WithoutCancel(ctx)
	r.ctx = ctx
	r.startID = x.LastEventID
	if !x.Deadline.IsZero() && !e.clock.Now().Before(x.Deadline) {
		x.Status, x.StopTime = StatusTimedOut, e.clock.Now()
		x.Error, x.Cause, x.HasError, x.HasCause = "States.Timeout", "", true, false
		r.emit(nil, "ExecutionTimedOut", details("error", "States.Timeout"))
		abortAll(x.Root)
	} else {
		sc := &scope{t: x.Root}
		switch r.thread(x.Root, def, sc) {
		case oDone:
			x.Status, x.StopTime = StatusSucceeded, e.clock.Now()
			x.Output, x.HasOutput = x.Root.Output, true
			r.emit(nil, "ExecutionSucceeded", details("output", x.Output.V))
		case oFailed:
			x.Status, x.StopTime = StatusFailed, e.clock.Now()
			d := value.NewObject(2)
			x.HasError, x.HasCause = !x.Root.NoError, !x.Root.NoCause
			x.Error, x.Cause = x.Root.Error, x.Root.Cause
			if x.HasError {
				d.Set("error", x.Error)
			}
			if x.HasCause {
				d.Set("cause", x.Cause)
			}
			r.emit(nil, "ExecutionFailed", d)
		}
	}
	r.ctx = saveCtx
	x.Parked = x.Status == StatusRunning && ctx.Err() == nil
	if x.Parked && len(r.events) == 0 && x.LastEventID == r.startID && !r.dirty {
		return nil // woke up to find it still waiting (a restart, an early timer): nothing to save
	}
	// Answers that came while their task's invocation ran go into this
	// save, with the token: acknowledged, they must not depend on a later
	// write. (Answers from now on wait for the save: no invocation runs.)
	answered := false
	if len(r.tokens) > 0 {
		e.mu.Lock()
		for _, tok := range r.tokens {
			fs := e.early[tok]
			delete(e.early, tok)
			if t := x.Root.findToken(tok); t != nil && x.Status == StatusRunning {
				for _, f := range fs {
					f(t.Task)
					answered = true
				}
			}
		}
		e.mu.Unlock()
	}
	r.checkpoint()
	if len(r.tokens) > 0 {
		late := map[string][]func(*TaskRun){}
		e.mu.Lock()
		for _, tok := range r.tokens {
			if p := e.pending[tok]; p != nil {
				close(p.saved)
			}
			delete(e.pending, tok)
			if fs := e.early[tok]; len(fs) > 0 { // came during the save after a long wait
				late[tok] = fs
				delete(e.early, tok)
			}
		}
		e.mu.Unlock()
		for tok, fs := range late {
			go e.applyLate(tok, fs)
		}
	}
	if answered && r.saveErr == nil {
		e.kick(arn) // run the answered tasks on: the drive loop goes again
	}
	if r.saveErr != nil {
		return r.saveErr
	}
	if !x.WakeAt.IsZero() {
		e.poke()
	}
	if x.Status != StatusRunning && x.ParentToken != "" {
		e.finishNested(saveCtx, x)
	}
	return nil
}

func abortAll(t *Thread) {
	if t == nil {
		return
	}
	if !t.Done {
		t.Aborted = true
	}
	for _, c := range t.Children {
		abortAll(c)
	}
}

func newSalt() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// mocked reports whether the invoker answers this state itself (mocks take
// precedence over the engine's own nested executions).
func (e *Engine) mocked(state string) bool {
	m, ok := e.invoker.(*Mocks)
	if !ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, has := m.resp[state]
	return has
}

// AwaitSettled is Await that also returns when the execution can make no
// progress on its own: RUNNING, no pass running, and no timer (it waits for
// a task token nobody will send). `posluha exec` uses it.
func (e *Engine) AwaitSettled(ctx context.Context, arn string) (*Execution, error) {
	for {
		e.mu.Lock()
		ch := e.changed
		_, busy := e.active[arn]
		e.mu.Unlock()
		x, err := e.store.GetExecution(ctx, arn)
		if err != nil {
			return nil, err
		}
		if x.Status != StatusRunning || (!busy && x.WakeAt.IsZero() && e.idle()) {
			return x, nil
		}
		select {
		case <-ctx.Done():
			return x, ctx.Err()
		case <-ch:
		}
	}
}

// applyLate applies answers kept in memory that missed their pass's save.
func (e *Engine) applyLate(token string, fs []func(*TaskRun)) {
	ctx := context.Background()
	for _, f := range fs {
		if err := e.completeToken(ctx, token, f); err != nil {
			e.log.Warn("late task answer", "err", err)
		}
	}
}
