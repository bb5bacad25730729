package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posluha/posluha/query/value"
)

// group is what siblings (Parallel branches, Map iterations) share while
// they run: a flag that stops them once the parent has failed.
type group struct{ stop atomic.Bool }

// work runs the part of a Task, Parallel or Map state that produces its
// result.
func (r *run) work(t *Thread, st *State, sc *scope, e *env, eff, args any) (any, bool, error) {
	switch st.Type {
	case "Task":
		return r.task(t, st, e, args)
	case "Parallel":
		return r.parallel(t, st, sc, args)
	case "Map":
		return r.mapState(t, st, sc, e, eff, args)
	}
	return nil, false, runtimeErr("state type %s has no work", st.Type)
}

// token derives a task token from the thread's position, so that a rerun
// after a crash hands out the same token as the lost first run.
func (r *run) token(t *Thread, st *State) string {
	h := sha256.Sum256([]byte(r.x.Salt + "|" + r.x.ARN + "|" + t.ID + "|" + st.Name + "|" + strconv.FormatInt(t.Entered, 10) + "|" + strconv.Itoa(t.Steps) + "|" + strconv.Itoa(t.RetryCount) + "|" + strconv.Itoa(r.x.RedriveCount)))
	return hex.EncodeToString(h[:])
}

// seconds evaluates TimeoutSeconds/HeartbeatSeconds (and their …Path).
func (r *run) seconds(f *numField, e *env) (float64, error) {
	if f == nil {
		return 0, nil
	}
	n, err := e.num(f)
	if err != nil {
		var nt *numTypeError
		if errors.As(err, &nt) {
			if f.expr != nil {
				return 0, queryErr("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s", f.src, f.name, value.TypeName(nt.v), value.String(nt.v))
			}
			return 0, runtimeErr("The %s field refers to value \"%s\" which is not a valid integer: %s", f.name, value.String(nt.v), f.src)
		}
		return 0, err
	}
	if n != math.Trunc(n) || n < 0 {
		return 0, runtimeErr("The %s field refers to value \"%s\" which is not a valid integer: %s", f.name, value.FormatNumber(n), f.src)
	}
	return n, nil
}

func (r *run) task(t *Thread, st *State, e *env, args any) (any, bool, error) {
	res := st.res
	kind := "Task"
	if res.lambdaARN {
		kind = "LambdaFunction"
	}
	taskDetails := func(kv ...any) *value.Object {
		if res.lambdaARN {
			return details(kv...)
		}
		d := details("resourceType", res.service, "resource", resourceName(res))
		for i := 0; i+1 < len(kv); i += 2 {
			d.Set(kv[i].(string), kv[i+1])
		}
		return d
	}
	if t.Phase == phaseTask && t.Task != nil {
		tr := t.Task
		now := r.now()
		switch {
		case tr.Done:
			t.Phase, t.Task = phaseEntered, nil
			if tr.Failed {
				r.emit(t, kind+"Failed", taskDetails("error", tr.Error, "cause", tr.Cause))
				return nil, false, &Failure{Name: tr.Error, Cause: tr.Cause}
			}
			r.emit(t, kind+"Succeeded", taskDetails("output", tr.Result.V))
			return tr.Result.V, false, nil
		case !tr.Deadline.IsZero() && !now.Before(tr.Deadline):
			t.Phase, t.Task = phaseEntered, nil
			r.emit(t, kind+"TimedOut", taskDetails("error", "States.Timeout"))
			return nil, false, &Failure{Name: "States.Timeout"}
		case !tr.HeartbeatAt.IsZero() && !now.Before(tr.HeartbeatAt):
			t.Phase, t.Task = phaseEntered, nil
			r.emit(t, kind+"TimedOut", taskDetails("error", "States.HeartbeatTimeout"))
			return nil, false, &Failure{Name: "States.HeartbeatTimeout"}
		}
		return nil, true, nil
	}
	timeout, err := r.seconds(st.TimeoutSeconds, e)
	if err != nil {
		return nil, false, err
	}
	heartbeat, err := r.seconds(st.HeartbeatSeconds, e)
	if err != nil {
		return nil, false, err
	}
	// Without TimeoutSeconds AWS waits 99999999 s: no deadline here.
	if res.lambdaARN {
		d := details("resource", st.Resource, "input", args)
		if st.TimeoutSeconds != nil {
			d.Set("timeoutInSeconds", timeout)
		}
		r.emit(t, "LambdaFunctionScheduled", d)
	} else {
		d := details("resourceType", res.service, "resource", resourceName(res), "region", r.eng.region, "parameters", args)
		if st.TimeoutSeconds != nil {
			d.Set("timeoutInSeconds", timeout)
		}
		if st.HeartbeatSeconds != nil {
			d.Set("heartbeatInSeconds", heartbeat)
		}
		r.emit(t, "TaskScheduled", d)
	}
	call := &Call{
		Resource: st.Resource, Service: res.service, Action: res.action, Pattern: res.pattern,
		Input: args, ExecutionARN: r.x.ARN, StateName: st.Name, StateComment: st.Comment, RetryCount: t.RetryCount,
		Timeout: time.Duration(timeout) * time.Second, Heartbeat: time.Duration(heartbeat) * time.Second,
	}
	callback := res.pattern == "waitForTaskToken" || res.pattern == "sync" || res.pattern == "sync:2"
	if callback {
		if t.Task == nil {
			t.Task = &TaskRun{Token: r.token(t, st)}
		}
		call.TaskToken = t.Task.Token
		r.eng.mu.Lock()
		if r.eng.pending[call.TaskToken] == nil {
			r.eng.pending[call.TaskToken] = &pendingToken{arn: r.x.ARN, saved: make(chan struct{})}
		}
		pt := r.eng.pending[call.TaskToken]
		pt.invoking = true
		r.eng.mu.Unlock()
		defer func() {
			r.eng.mu.Lock()
			pt.invoking = false
			r.eng.mu.Unlock()
		}()
		r.mu.Lock()
		r.tokens = append(r.tokens, call.TaskToken)
		r.mu.Unlock()
	}
	if res.lambdaARN {
		r.emit(t, "LambdaFunctionStarted", nil)
	} else {
		r.emit(t, "TaskStarted", taskDetails())
	}
	var out any
	if res.service == "states" && res.action == "startExecution" && !r.eng.mocked(st.Name) {
		out, err = r.eng.startNested(r.ctx, r.x, call)
	} else {
		ctx := r.ctx
		if !callback && timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
			defer cancel()
		}
		out, err = r.eng.invoker.Invoke(ctx, call)
	}
	if err != nil && r.ctx.Err() != nil {
		// Shutdown or StopExecution, not a task failure: leave the state as
		// it is; after a restart the task runs again (at-least-once).
		t.Phase = phaseEntered
		return nil, true, nil
	}
	if err != nil {
		t.Task = nil
		f := taskFailure(err)
		if f.Name == "States.Timeout" {
			r.emit(t, kind+"TimedOut", taskDetails("error", f.Name, "cause", f.Cause))
		} else {
			r.emit(t, kind+"Failed", taskDetails("error", f.Name, "cause", f.Cause))
		}
		return nil, false, f
	}
	if !callback {
		r.emit(t, kind+"Succeeded", taskDetails("output", out))
		return out, false, nil
	}
	if res.pattern != "waitForTaskToken" {
		r.emit(t, "TaskSubmitted", taskDetails("output", out))
	}
	tr := t.Task
	t.Phase = phaseTask
	now := r.now()
	if timeout > 0 {
		tr.Deadline = now.Add(time.Duration(timeout) * time.Second)
	}
	if heartbeat > 0 {
		tr.Heartbeat = time.Duration(heartbeat) * time.Second
		tr.HeartbeatAt = now.Add(tr.Heartbeat)
	}
	if c, ok := out.(*Completed); ok {
		tr.Done = true
		if c.Err != nil {
			tr.Failed, tr.Error, tr.Cause = true, c.Err.Name, c.Err.Cause
		} else {
			tr.Result = Value{c.Output}
		}
	}
	return r.task(t, st, e, args)
}

func resourceName(res resource) string {
	n := res.action
	if res.pattern != "" {
		n += "." + res.pattern
	}
	return n
}

func taskFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var le *LambdaError
	if errors.As(err, &le) {
		return LambdaFailure(le)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Failure{Name: "States.Timeout"}
	}
	return &Failure{Name: "States.TaskFailed", Cause: err.Error()}
}

func (r *run) parallel(t *Thread, st *State, sc *scope, input any) (any, bool, error) {
	if t.Phase != phaseChildren {
		id := r.emit(t, "ParallelStateStarted", nil)
		t.Children = make([]*Thread, len(st.Branches))
		for i, b := range st.Branches {
			t.Children[i] = &Thread{ID: t.ID + "." + strconv.Itoa(i), State: b.StartAt, Input: Value{input}, Last: id, Index: i, Started: true}
		}
		t.Phase, t.TolCount, t.TolPercent = phaseChildren, -1, -1
	}
	conc := 1
	for _, b := range st.Branches {
		if b.hasTask {
			conc = len(st.Branches)
		}
	}
	failed, parked := r.children(t, st, sc, func(i int) *Definition { return st.Branches[i] }, conc, 0, false)
	if failed != nil {
		return nil, false, &Failure{Name: failed.Error, Cause: failed.Cause, noError: failed.NoError, noCause: failed.NoCause}
	}
	if parked {
		return nil, true, nil
	}
	out := make([]any, len(t.Children))
	for i, c := range t.Children {
		out[i] = c.Output.V
	}
	for _, c := range t.Children {
		t.Last = max(t.Last, c.Last)
	}
	t.Phase, t.Children = phaseEntered, nil
	// AWS records no ParallelStateSucceeded: ParallelStateExited follows.
	return out, false, nil
}

// children runs the threads of a Parallel or Map state. At most limit
// children are in flight (started, not finished — parked ones count, so
// MaxConcurrency 1 really runs one iteration at a time); at most conc run
// at once on goroutines (1: in order on this goroutine). It returns the
// child whose failure fails the parent (nil if none) and whether some child
// is parked.
func (r *run) children(t *Thread, st *State, sc *scope, def func(int) *Definition, conc, limit int, isMap bool) (*Thread, bool) {
	g := &group{}
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	var firstFail *Thread
	parked := false
	nFailed, inflight, running := 0, 0, 0
	for _, c := range t.Children {
		if c.Done && c.Failed {
			nFailed++
		}
		if c.Started && !c.Done {
			inflight++
		}
	}
	total := float64(len(t.Children))
	tolerated := func(n int) bool {
		if t.TolCount < 0 && t.TolPercent < 0 {
			return n == 0
		}
		overCount := t.TolCount < 0 || n > t.TolCount
		overPercent := t.TolPercent < 0 || float64(n)*100/total > t.TolPercent
		return !(overCount && overPercent)
	}
	if !tolerated(nFailed) {
		for _, c := range t.Children {
			if c.Done && c.Failed {
				return c, false
			}
		}
	}
	lastEnd := int64(-1) // the last state event of the latest finished child
	iterEvent := func(typ string, c *Thread) {
		if isMap && !st.Distributed {
			r.emitAfter(t, c.Last, true, typ, details("name", st.Name, "index", float64(c.Index)))
		}
		lastEnd = c.Last
	}
	// runOne runs child i; the caller has counted it in flight and running.
	runOne := func(i int, c *Thread) {
		if !c.Started {
			c.Started = true
			if isMap && !st.Distributed {
				mu.Lock()
				after := lastEnd
				mu.Unlock()
				c.Last = r.emitAfter(t, after, false, "MapIterationStarted", details("name", st.Name, "index", float64(c.Index)))
			}
		}
		c.grp = g
		o := r.thread(c, def(i), &scope{parent: sc, t: c})
		mu.Lock()
		defer mu.Unlock()
		running--
		switch o {
		case oParked:
			if !g.stop.Load() {
				parked = true
			}
		case oDone:
			inflight--
			iterEvent("MapIterationSucceeded", c)
		case oFailed:
			inflight--
			iterEvent("MapIterationFailed", c)
			nFailed++
			if !tolerated(nFailed) && firstFail == nil {
				firstFail = c
				g.stop.Store(true)
			}
		}
		cond.Broadcast()
	}
	// admit waits until child c may run; false: stop launching.
	admit := func(c *Thread) bool {
		mu.Lock()
		defer mu.Unlock()
		for !c.Started && limit > 0 && inflight >= limit && running > 0 && !g.stop.Load() {
			cond.Wait()
		}
		if g.stop.Load() || (!c.Started && limit > 0 && inflight >= limit) {
			return false
		}
		if !c.Started {
			inflight++
		}
		running++
		return true
	}
	if !isMap && conc <= 1 {
		return r.lockstep(t, def, sc)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(conc, 1))
	for i, c := range t.Children {
		if c.Done {
			continue
		}
		if conc <= 1 {
			if !admit(c) {
				// Already-started children further on may still resume.
				if g.stop.Load() {
					break
				}
				continue
			}
			runOne(i, c)
			continue
		}
		sem <- struct{}{}
		if !admit(c) {
			<-sem
			if g.stop.Load() {
				break
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runOne(i, c)
		}()
	}
	wg.Wait()
	if firstFail != nil {
		for _, c := range t.Children {
			if !c.Done {
				c.Aborted = true
				if c.Started {
					iterEvent("MapIterationAborted", c)
				}
			}
		}
		return firstFail, false
	}
	return nil, parked
}

// lockstep runs Parallel branches that do not block (no Task) as AWS's
// concurrent branches show in the history: every branch enters its state,
// then every branch finishes it, round after round. It returns the branch
// whose failure fails the Parallel and whether some branch is parked.
func (r *run) lockstep(t *Thread, def func(int) *Definition, sc *scope) (*Thread, bool) {
	scopes := make([]*scope, len(t.Children))
	for i, c := range t.Children {
		scopes[i] = &scope{parent: sc, t: c}
	}
	waiting := make([]bool, len(t.Children))
	for {
		live := false
		for i, c := range t.Children {
			if !c.Done && !waiting[i] && c.Phase == phaseNew {
				if st := def(i).States[c.State]; st != nil {
					r.enter(c, st)
				}
			}
		}
		for i, c := range t.Children {
			if c.Done || waiting[i] {
				continue
			}
			switch o, more := r.advanceState(c, def(i), scopes[i]); {
			case o == oFailed:
				for _, other := range t.Children {
					if !other.Done {
						other.Aborted = true
					}
				}
				return c, false
			case o == oParked:
				waiting[i] = true
			case more:
				live = true
			}
		}
		if !live {
			break
		}
	}
	return nil, slices.Contains(waiting, true)
}

// intField evaluates MaxConcurrency, ToleratedFailureCount and
// ToleratedFailurePercentage (percent: a float in [0, 100]); numeric
// strings are accepted, and the error texts are AWS's.
func (r *run) intField(f *numField, e *env, percent bool) (float64, error) {
	var v any
	var err error
	switch {
	case f.path != nil:
		v, err = e.get(f.path)
		if err != nil {
			return 0, pathErr(f.path, err)
		}
	case f.expr != nil:
		v, err = e.evalExpr(f.expr, f.src, f.name)
		if err != nil {
			return 0, err
		}
	default:
		v = f.lit
	}
	n, ok := v.(float64)
	if s, isStr := v.(string); isStr {
		if p, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64); perr == nil {
			n, ok = float64(p), true
		}
	}
	if ok && !percent && n != math.Trunc(n) {
		ok = false
	}
	base := strings.TrimSuffix(f.name, "Path")
	if !ok {
		shown := value.String(v)
		if s, isStr := v.(string); isStr {
			shown = s
		}
		if f.expr != nil {
			return 0, queryErr("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s", f.src, f.name, value.TypeName(v), value.String(v))
		}
		kind := "integer"
		if percent {
			kind = "float"
		}
		return 0, runtimeErr("The %s field refers to value \"%s\" which is not a valid %s: %s", f.name, shown, kind, f.src)
	}
	switch {
	case percent && (n < 0 || n > 100):
		return 0, runtimeErr("%s must be between 0 and 100.", base)
	case base == "MaxConcurrency" && n < 0:
		return 0, runtimeErr("Expected non-negative integer for MaxConcurrency, got '%s' instead.", value.FormatNumber(n))
	case n < 0:
		return 0, runtimeErr("%s cannot be negative.", base)
	}
	return n, nil
}

func (r *run) mapState(t *Thread, st *State, sc *scope, e *env, eff, _ any) (any, bool, error) {
	if t.Phase != phaseChildren {
		if err := r.startMap(t, st, sc, e, eff); err != nil {
			return nil, false, err
		}
	}
	conc := t.MaxConc
	if conc == 0 || conc > 40 {
		conc = 40 // AWS runs at most 40 inline iterations at once
	}
	if !st.Processor.hasTask {
		conc = 1 // nothing blocks: run in order, which also orders the events
	}
	failed, parked := r.children(t, st, sc, func(int) *Definition { return st.Processor }, conc, t.MaxConc, true)
	if failed != nil {
		if st.Distributed {
			r.emit(t, "MapRunFailed", nil)
		}
		if t.TolCount >= 0 || t.TolPercent >= 0 {
			return nil, false, &Failure{Name: "States.ExceedToleratedFailureThreshold", Cause: "The specified tolerated failure threshold was exceeded"}
		}
		return nil, false, &Failure{Name: failed.Error, Cause: failed.Cause, noError: failed.NoError, noCause: failed.NoCause}
	}
	if parked {
		return nil, true, nil
	}
	// Tolerated failures leave no entry: the result holds the outputs of
	// the iterations that succeeded (AWS's TestState checks mocked Map
	// results the same way: items minus failures).
	out := make([]any, 0, len(t.Children))
	for _, c := range t.Children {
		if !c.Failed {
			out = append(out, c.Output.V)
		}
	}
	var result any = out
	if st.ResultWriter != nil && r.eng.s3 != nil {
		w, err := r.writeResults(t, st, e, out)
		if err != nil {
			return nil, false, err
		}
		result = w
	}
	t.Phase, t.Children = phaseEntered, nil
	if st.Distributed {
		r.emit(t, "MapRunSucceeded", nil)
	}
	r.emitAfter(t, -1, false, "MapStateSucceeded", nil)
	return result, false, nil
}

func (r *run) startMap(t *Thread, st *State, sc *scope, e *env, eff any) error {
	var items any
	var err error
	typeErr := func(v any) error {
		if st.Lang == JSONata {
			return queryErr("Map state input must be an array but was: %s", value.String(v))
		}
		return runtimeErr("Map state input must be an array but was: %s", value.String(v))
	}
	switch {
	case st.ItemReader != nil:
		items, err = r.readItems(st, e)
		if err != nil {
			return err
		}
	case st.Lang == JSONata && st.Items != nil:
		items, err = e.evalJA(st.Items)
		if err != nil {
			return err
		}
		if _, ok := items.([]any); !ok {
			return queryErr("The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s", st.Items.src, value.TypeName(items), value.String(items))
		}
	case st.Lang == JSONata:
		items = e.input
	default:
		items = eff
		if st.ItemsPath != nil && !st.ItemsPath.null {
			items, err = e.get(st.ItemsPath.path)
			if err != nil {
				return pathErr(st.ItemsPath.path, err)
			}
		}
	}
	arr, ok := items.([]any)
	if !ok {
		return typeErr(items)
	}
	t.MaxConc, t.TolCount, t.TolPercent = 0, -1, -1
	if st.MaxConcurrency != nil {
		n, err := r.intField(st.MaxConcurrency, e, false)
		if err != nil {
			return err
		}
		t.MaxConc = int(n)
	}
	if st.ToleratedCount != nil {
		n, err := r.intField(st.ToleratedCount, e, false)
		if err != nil {
			return err
		}
		t.TolCount = int(n)
	}
	if st.ToleratedPercent != nil {
		n, err := r.intField(st.ToleratedPercent, e, true)
		if err != nil {
			return err
		}
		t.TolPercent = n
	}
	if st.ItemBatcher != nil {
		arr, err = r.batch(st, e, arr)
		if err != nil {
			return err
		}
	}
	inputs := make([]any, len(arr))
	for i, item := range arr {
		in := item
		if st.ItemSelector != nil {
			mi := value.NewObject(2)
			mi.Set("Index", float64(i))
			mi.Set("Value", item)
			ie := *e
			ie.vars = nil
			ie.cobj = r.contextObject(t, st, mi)
			if in, err = ie.eval(st.ItemSelector, st.Lang); err != nil {
				return err
			}
		}
		inputs[i] = in
	}
	started := r.emit(t, "MapStateStarted", details("length", float64(len(arr))))
	if st.Distributed {
		started = r.emit(t, "MapRunStarted", details("mapRunArn", r.x.ARN+"/"+st.Name))
	}
	t.Children = make([]*Thread, len(inputs))
	for i, in := range inputs {
		t.Children[i] = &Thread{ID: t.ID + "." + strconv.Itoa(i), State: st.Processor.StartAt, Input: Value{in}, Last: started, Index: i, Quiet: st.Distributed}
	}
	t.Phase = phaseChildren
	return nil
}

// batch groups items per ItemBatcher.
func (r *run) batch(st *State, e *env, items []any) ([]any, error) {
	b := st.ItemBatcher
	maxItems, maxBytes := 0, 0
	if b.MaxItems != nil {
		n, err := r.intField(b.MaxItems, e, false)
		if err != nil {
			return nil, err
		}
		maxItems = int(n)
	}
	if b.MaxBytes != nil {
		n, err := r.intField(b.MaxBytes, e, false)
		if err != nil {
			return nil, err
		}
		maxBytes = int(n)
	}
	var batchInput any
	if b.BatchInput != nil {
		v, err := e.eval(b.BatchInput, st.Lang)
		if err != nil {
			return nil, err
		}
		batchInput = v
	}
	var out []any
	var cur []any
	curBytes := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		o := value.NewObject(2)
		if batchInput != nil {
			o.Set("BatchInput", batchInput)
		}
		o.Set("Items", cur)
		out = append(out, o)
		cur, curBytes = nil, 0
	}
	for _, it := range items {
		sz := size(it)
		if len(cur) > 0 && ((maxItems > 0 && len(cur) >= maxItems) || (maxBytes > 0 && curBytes+sz > maxBytes)) {
			flush()
		}
		cur = append(cur, it)
		curBytes += sz
	}
	flush()
	return out, nil
}
