package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

// maxPayload is Step Functions' limit on a state's input or output.
const maxPayload = 256 * 1024

// run is one pass of the interpreter over an execution: it advances every
// thread until each one has finished or parks, emitting events.
type run struct {
	eng     *Engine
	x       *Execution
	def     *Definition
	machine string // machine name for the context object
	ctx     context.Context

	mu      sync.Mutex // guards events and x.LastEventID
	events  []Event
	execObj *value.Object // $$.Execution
	smObj   *value.Object // $$.StateMachine
	saveErr error
	startID int64    // x.LastEventID when the pass began
	tokens  []string // task tokens handed out in this pass (Engine.pending)
	dirty   bool     // the record changed without an event (e.g. heartbeat bookkeeping)
}

type outcome uint8

const (
	oDone outcome = iota
	oFailed
	oParked
)

func (r *run) now() time.Time { return r.eng.clock.Now() }

// emit appends an event of thread t (nil: execution-level); its
// previousEventId is t's latest event, and it becomes t's latest.
func (r *run) emit(t *Thread, typ string, details *value.Object) int64 {
	return r.emitAfter(t, -1, true, typ, details)
}

// emitAfter appends an event whose previousEventId is prev (-1: t's latest
// event); advance says whether it becomes t's latest. AWS chains the events
// around Map iterations this way: an iteration's end follows its last state
// event, and the next iteration starts after that state event too.
func (r *run) emitAfter(t *Thread, prev int64, advance bool, typ string, details *value.Object) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t != nil && t.Quiet {
		r.dirty = true // progress without an event must still be saved
		return 0
	}
	r.x.LastEventID++
	id := r.x.LastEventID
	if prev < 0 {
		prev = id - 1
		if t != nil {
			prev = t.Last
		}
	}
	if t != nil && advance {
		t.Last = id
	}
	if r.events == nil {
		r.events = make([]Event, 0, 32) // a pass between checkpoints often runs several states
	}
	r.events = append(r.events, Event{ID: id, PreviousID: prev, Time: r.now(), Type: typ, Details: details})
	return id
}

// checkpoint saves the record and the events since the last save.
func (r *run) checkpoint() {
	r.mu.Lock()
	events := r.events
	r.events = nil
	r.mu.Unlock()
	r.x.index()
	if err := r.eng.store.SaveExecution(r.ctx, r.x, events); err != nil && r.saveErr == nil {
		r.saveErr = fmt.Errorf("save execution %s: %w", r.x.ARN, err)
	}
}

func details(kv ...any) *value.Object { return value.ObjectOf(kv...) }

// contextObject builds $$ for a state of thread t.
func (r *run) contextObject(t *Thread, st *State, mapItem *value.Object) any {
	o := value.NewObject(5)
	o.Set("Execution", r.execObj)
	stObj := value.NewObject(4)
	stObj.Set("EnteredTime", formatTime(t.EnteredTime))
	stObj.Set("Name", st.Name)
	stObj.Set("RetryCount", float64(t.RetryCount))
	o.Set("State", stObj)
	o.Set("StateMachine", r.smObj)
	if t.Task != nil && t.Task.Token != "" {
		o.Set("Task", value.ObjectOf("Token", t.Task.Token))
	}
	if mapItem != nil {
		o.Set("Map", value.ObjectOf("Item", mapItem))
	}
	return o
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newEnv returns the evaluation environment of state st in thread t.
func (r *run) newEnv(t *Thread, st *State, sc *scope, input any) *env {
	return &env{input: input, scope: sc, now: r.now(), r: r, t: t, st: st}
}

// thread advances t through def until it finishes, fails or parks.
func (r *run) thread(t *Thread, def *Definition, sc *scope) outcome {
	for {
		if o, more := r.advanceState(t, def, sc); !more {
			return o
		}
	}
}

// advanceState runs t's current state to its end; more reports that t has
// moved on to a next state (o is then oDone).
func (r *run) advanceState(t *Thread, def *Definition, sc *scope) (o outcome, more bool) {
	if r.ctx.Err() != nil {
		return oParked, false
	}
	st := def.States[t.State]
	if st == nil {
		t.Done, t.Failed = true, true
		t.Error, t.Cause = "States.Runtime", fmt.Sprintf("state %q does not exist", t.State)
		return oFailed, false
	}
	o, next, out := r.step(t, st, sc)
	switch o {
	case oParked:
		return oParked, false
	case oFailed:
		t.Done, t.Failed = true, true
		return oFailed, false
	}
	if next == "" {
		t.Done, t.Output = true, Value{out}
		return oDone, false
	}
	t.State, t.Input = next, Value{out}
	t.Entered, t.Phase, t.Retries, t.RetryCount, t.Task, t.Children = 0, phaseNew, nil, 0, nil, nil
	if t == r.x.Root {
		if hasEffects(st) {
			r.checkpoint()
		} else if r.eng.observer != nil {
			r.eng.observer.Observe(r.ctx, r.x)
		}
	}
	return oDone, true
}

// hasEffects reports whether completing st must be checkpointed: a Task's
// result (or a Map's or Parallel's children, which may hold Task results)
// would otherwise be lost in a crash and the task run again. The other
// states are pure functions of the saved record, so after a crash they
// simply run again to the same result; a Wait or a retry interval parks,
// and a pass saves whenever it parks or ends.
func hasEffects(st *State) bool {
	switch st.Type {
	case "Task", "Map", "Parallel":
		return true
	}
	return false
}

// enter records that t enters st.
func (r *run) enter(t *Thread, st *State) {
	t.Steps++
	t.EnteredTime = r.now()
	t.Entered = r.emit(t, st.enteredType, details("name", st.nameV, "input", t.Input.V))
	t.Phase = phaseEntered
}

// step runs one state of t, including Retry and Catch. It returns the next
// state ("" at the end) and the state's output.
func (r *run) step(t *Thread, st *State, sc *scope) (outcome, string, any) {
	if t.Phase == phaseNew {
		r.enter(t, st) // inputs were checked against the size limit as outputs
	}
	if t.Phase == phaseRetry {
		if r.now().Before(t.WaitUntil) {
			return oParked, "", nil
		}
		t.Phase = phaseEntered
	}
	out, next, assigned, f, parked := r.exec(t, st, sc)
	if parked {
		return oParked, "", nil
	}
	if f == nil && size(out) > maxPayload {
		f = &Failure{Name: "States.DataLimitExceeded", Cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.Name)}
	}
	if f != nil {
		return r.recover(t, st, sc, f)
	}
	if st.Type == "Fail" {
		return oFailed, "", nil
	}
	d := details("name", st.nameV, "output", out)
	if assigned != nil {
		d.Set("assignedVariables", assigned)
	}
	r.emit(t, st.exitedType, d)
	if st.Type == "Succeed" {
		return oDone, "", out
	}
	if st.End && next == "" {
		return oDone, "", out
	}
	return oDone, next, out
}

// recover applies Retry and Catch to a failure of state st.
func (r *run) recover(t *Thread, st *State, sc *scope, f *Failure) (outcome, string, any) {
	if f.Name == "States.QueryEvaluationError" {
		r.emit(t, "EvaluationFailed", details("error", f.Name, "cause", r.cause(t, st, f), "state", st.Name))
	}
	if f.Name != "States.Runtime" {
		for i, rt := range st.Retry {
			if !matches(rt.ErrorEquals, f.Name) {
				continue
			}
			if len(t.Retries) < len(st.Retry) {
				t.Retries = append(t.Retries, make([]int, len(st.Retry)-len(t.Retries))...)
			}
			n := t.Retries[i]
			if n >= rt.MaxAttempts {
				break // this retrier is exhausted; AWS then tries the catchers
			}
			t.Retries[i]++
			t.RetryCount++
			delay := rt.IntervalSeconds * math.Pow(rt.BackoffRate, float64(n))
			if rt.MaxDelaySeconds > 0 && delay > rt.MaxDelaySeconds {
				delay = rt.MaxDelaySeconds
			}
			if rt.JitterFull {
				delay = rand.Float64() * delay
			}
			t.Phase = phaseRetry
			t.WaitUntil = r.now().Add(time.Duration(delay * float64(time.Second)))
			t.Task, t.Children = nil, nil
			return r.step(t, st, sc)
		}
		r.finalFailure(t, st, f)
		for _, c := range st.Catch {
			if !matches(c.ErrorEquals, f.Name) {
				continue
			}
			errOut := value.NewObject(2)
			if !f.noError {
				errOut.Set("Error", f.Name)
			}
			if !f.noCause || f.inState {
				errOut.Set("Cause", r.cause(t, st, f))
			}
			var out any
			var assigned *value.Object
			raw := t.Input.V
			if st.Lang == JSONata {
				e := r.newEnv(t, st, sc, raw)
				e.errOut, e.hasErr = errOut, true
				vals, err := r.assign(e, c.Assign, st.Lang)
				if err != nil {
					return r.failWith(t, st, err), "", nil
				}
				out = any(errOut)
				if c.Output != nil {
					if out, err = e.evalJA(c.Output); err != nil {
						return r.failWith(t, st, err), "", nil
					}
				}
				assigned = r.commit(sc, vals)
			} else {
				e := r.newEnv(t, st, sc, errOut)
				vals, err := r.assign(e, c.Assign, st.Lang)
				if err != nil {
					return r.failWith(t, st, err), "", nil
				}
				out, err = applyResultPath(c.ResultPath, raw, errOut)
				if err != nil {
					return r.failWith(t, st, err), "", nil
				}
				assigned = r.commit(sc, vals)
			}
			d := details("name", st.nameV, "output", out)
			if assigned != nil {
				d.Set("assignedVariables", assigned)
			}
			r.emit(t, st.exitedType, d)
			return oDone, c.Next, out
		}
	} else {
		r.finalFailure(t, st, f)
	}
	t.Error, t.Cause = f.Name, r.cause(t, st, f)
	t.NoError, t.NoCause = f.noError, f.noCause && !f.inState
	return oFailed, "", nil
}

// finalFailure emits MapStateFailed/ParallelStateFailed once a failure is
// not retried (AWS emits them once, not per attempt).
func (r *run) finalFailure(t *Thread, st *State, f *Failure) {
	if f.Name == "States.Runtime" && t.Phase != phaseChildren {
		return // failed before it started: AWS records only the execution failure
	}
	switch st.Type {
	case "Map", "Parallel":
		r.emit(t, st.Type+"StateFailed", nil)
	}
}

func (r *run) failWith(t *Thread, st *State, err error) outcome {
	f := asFailure(err)
	t.Error, t.Cause = f.Name, r.cause(t, st, f)
	return oFailed
}

// cause returns the failure's cause as AWS reports it.
func (r *run) cause(t *Thread, st *State, f *Failure) string {
	if f.inState {
		return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", st.Name, t.Entered, f.Cause)
	}
	return f.Cause
}

func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Name: "States.Runtime", Cause: err.Error(), inState: true}
}

// matches reports whether a retrier's or catcher's ErrorEquals covers name.
func matches(list []string, name string) bool {
	for _, e := range list {
		switch {
		case e == name:
			return true
		case e == "States.ALL":
			return name != "States.DataLimitExceeded" && name != "States.Runtime"
		case e == "States.TaskFailed":
			if name != "States.Timeout" && name != "States.DataLimitExceeded" && name != "States.Runtime" &&
				name != "States.HeartbeatTimeout" && name != "States.QueryEvaluationError" &&
				name != "States.BranchFailed" && name != "States.NoChoiceMatched" && name != "States.ItemReaderFailed" &&
				name != "States.ResultWriterFailed" && name != "States.ExceedToleratedFailureThreshold" && name != "States.Permissions" {
				return true
			}
		}
	}
	return false
}

// assign evaluates an Assign block (before anything is stored, since all
// its expressions see the variables as they were when the state began).
func (r *run) assign(e *env, a *tmpl, lang string) (*value.Object, error) {
	if a == nil {
		return nil, nil
	}
	v, err := e.eval(a, lang)
	if err != nil {
		return nil, err
	}
	o, _ := v.(*value.Object)
	return o, nil
}

// commit stores assigned variables; it returns the assignedVariables detail.
func (r *run) commit(sc *scope, vals *value.Object) *value.Object {
	if vals == nil {
		return nil
	}
	sc.assign(vals)
	return vals
}

func applyResultPath(rp *optPath, raw, result any) (any, error) {
	switch {
	case rp == nil:
		return result, nil
	case rp.null:
		return raw, nil
	}
	out, err := jsonpath.Set(raw, rp.path, result)
	if err != nil {
		return nil, &Failure{Name: "States.ResultPathMatchFailure", Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input %s", rp.src, value.String(raw)), inState: true}
	}
	return out, nil
}

func applyPath(p *optPath, doc any) (any, error) {
	switch {
	case p == nil:
		return doc, nil
	case p.null:
		return value.NewObject(0), nil
	}
	v, err := p.path.Get(doc)
	if err != nil {
		return nil, pathErr(p.path, err)
	}
	return v, nil
}

// exec runs the body of a state. It returns the output, the next state,
// the assigned variables, a failure, or parked.
func (r *run) exec(t *Thread, st *State, sc *scope) (out any, next string, assigned *value.Object, f *Failure, parked bool) {
	raw := t.Input.V
	fail := func(err error) (any, string, *value.Object, *Failure, bool) {
		return nil, "", nil, asFailure(err), false
	}
	next = st.Next
	if st.Type == "Task" && t.Task == nil && st.res.pattern != "" {
		// $$.Task.Token must be there when Parameters/Arguments are evaluated.
		t.Task = &TaskRun{Token: r.token(t, st)}
	}
	if st.Lang == JSONata {
		e := r.newEnv(t, st, sc, raw)
		var result any
		hasResult := false
		switch st.Type {
		case "Pass", "Wait", "Succeed":
			if st.HasResult {
				result, hasResult = st.Result, true
				e.result, e.hasRes = result, true
			}
			if st.Type == "Wait" {
				done, err := r.wait(t, st, e)
				if err != nil {
					return fail(err)
				}
				if !done {
					return nil, "", nil, nil, true
				}
			}
		case "Choice":
			var rule *ChoiceRule
			for _, c := range st.Choices {
				ok, err := c.match(e)
				if err != nil {
					return fail(err)
				}
				if ok {
					rule = c
					break
				}
			}
			return r.choiceExit(t, st, sc, e, rule, raw)
		case "Fail":
			return r.failState(t, st, e)
		case "Task", "Parallel", "Map":
			args := raw
			if st.Arguments != nil {
				v, err := e.evalJA(st.Arguments)
				if err != nil {
					return fail(err)
				}
				args = v
			}
			res, isParked, err := r.work(t, st, sc, e, raw, args)
			if err != nil {
				return fail(err)
			}
			if isParked {
				return nil, "", nil, nil, true
			}
			result, hasResult = res, true
			e.result, e.hasRes = res, true
			e.vars = nil
		}
		vals, err := r.assign(e, st.Assign, JSONata)
		if err != nil {
			return fail(err)
		}
		out = raw
		if hasResult {
			out = result
		}
		if st.Output != nil {
			if out, err = e.evalJA(st.Output); err != nil {
				return fail(err)
			}
		}
		return out, next, r.commit(sc, vals), nil, false
	}

	// JSONPath.
	if st.Type == "Fail" {
		return r.failState(t, st, r.newEnv(t, st, sc, raw))
	}
	eff, err := applyPath(st.InputPath, raw)
	if err != nil {
		return fail(err)
	}
	e := r.newEnv(t, st, sc, eff)
	switch st.Type {
	case "Choice":
		var rule *ChoiceRule
		for _, c := range st.Choices {
			ok, err := c.match(e)
			if err != nil {
				return fail(err)
			}
			if ok {
				rule = c
				break
			}
		}
		return r.choiceExit(t, st, sc, e, rule, eff)
	case "Wait":
		done, err := r.wait(t, st, e)
		if err != nil {
			return fail(err)
		}
		if !done {
			return nil, "", nil, nil, true
		}
		vals, err := r.assign(e, st.Assign, JSONPath)
		if err != nil {
			return fail(err)
		}
		out, err = applyPath(st.OutputPath, eff)
		if err != nil {
			return fail(err)
		}
		return out, next, r.commit(sc, vals), nil, false
	case "Succeed":
		out, err = applyPath(st.OutputPath, eff)
		if err != nil {
			return fail(err)
		}
		return out, "", nil, nil, false
	}
	// Pass, Task, Parallel, Map.
	params := eff
	if st.Parameters != nil {
		if params, err = e.evalJP(st.Parameters); err != nil {
			return fail(err)
		}
	}
	var result any
	switch st.Type {
	case "Pass":
		result = params
		if st.HasResult {
			result = st.Result
		}
	default:
		res, isParked, err := r.work(t, st, sc, e, eff, params)
		if err != nil {
			return fail(err)
		}
		if isParked {
			return nil, "", nil, nil, true
		}
		result = res
		if st.ResultSelector != nil {
			re := r.newEnv(t, st, sc, result)
			if result, err = re.evalJP(st.ResultSelector); err != nil {
				return fail(err)
			}
		}
	}
	var vals *value.Object
	if st.Assign != nil {
		if vals, err = r.assign(r.newEnv(t, st, sc, result), st.Assign, JSONPath); err != nil {
			return fail(err)
		}
	}
	out, err = applyResultPath(st.ResultPath, raw, result)
	if err != nil {
		return fail(err)
	}
	out, err = applyPath(st.OutputPath, out)
	if err != nil {
		return fail(err)
	}
	return out, next, r.commit(sc, vals), nil, false
}

// choiceExit finishes a Choice state once a rule (or none) matched.
func (r *run) choiceExit(t *Thread, st *State, sc *scope, e *env, rule *ChoiceRule, eff any) (any, string, *value.Object, *Failure, bool) {
	// A matching rule brings its own Assign/Output; the state's apply to
	// the Default transition.
	next, ruleAssign, ruleOutput := st.Default, st.Assign, st.Output
	if rule != nil {
		next, ruleAssign, ruleOutput = rule.Next, rule.Assign, rule.Output
	} else if next == "" {
		return nil, "", nil, &Failure{Name: "States.NoChoiceMatched", Cause: fmt.Sprintf("No Matches! in state '%s'", st.Name), inState: false}, false
	}
	vals, err := r.assign(e, ruleAssign, st.Lang)
	if err != nil {
		return nil, "", nil, asFailure(err), false
	}
	out := eff
	if st.Lang == JSONata {
		if ruleOutput != nil {
			if out, err = e.evalJA(ruleOutput); err != nil {
				return nil, "", nil, asFailure(err), false
			}
		}
	} else if out, err = applyPath(st.OutputPath, eff); err != nil {
		return nil, "", nil, asFailure(err), false
	}
	return out, next, r.commit(sc, vals), nil, false
}

// failState evaluates a Fail state's error and cause.
func (r *run) failState(t *Thread, st *State, e *env) (any, string, *value.Object, *Failure, bool) {
	f := &Failure{noError: st.Error == nil, noCause: st.Cause == nil}
	for _, x := range []struct {
		field *strField
		dst   *string
	}{{st.Error, &f.Name}, {st.Cause, &f.Cause}} {
		if x.field == nil {
			continue
		}
		v, err := e.str(x.field)
		if err != nil {
			return nil, "", nil, asFailure(err), false
		}
		s, ok := v.(string)
		if !ok {
			if x.field.expr != nil {
				return nil, "", nil, queryErr("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'string', but was '%s' for value: %s", x.field.src, x.field.name, value.TypeName(v), value.String(v)), false
			}
			return nil, "", nil, runtimeErr("The %s field refers to value \"%s\" which is not a valid string: %s", x.field.name, value.String(v), x.field.src), false
		}
		*x.dst = s
	}
	return nil, "", nil, &Failure{Name: f.Name, Cause: f.Cause, noError: f.noError, noCause: f.noCause}, false
}

// wait runs a Wait state; it reports whether the wait is over.
func (r *run) wait(t *Thread, st *State, e *env) (bool, error) {
	if t.Phase == phaseWait {
		return !r.now().Before(t.WaitUntil), nil
	}
	var until time.Time
	switch {
	case st.Seconds != nil:
		f := st.Seconds
		var v any
		var err error
		switch {
		case f.path != nil:
			if v, err = e.get(f.path); err != nil {
				var fl *Failure
				if errors.As(err, &fl) {
					return false, fl
				}
				return false, runtimeErr("The SecondsPath parameter does not reference an input value: %s", f.src)
			}
		case f.expr != nil:
			if v, err = e.evalExpr(f.expr, f.src, f.name); err != nil {
				return false, err
			}
		default:
			v = f.lit
		}
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || n < 0 {
			if f.expr != nil {
				return false, queryErr("The JSONata expression '%s' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s", f.src, value.TypeName(v), value.String(v))
			}
			shown := value.String(v)
			if s, isStr := v.(string); isStr {
				shown = s
			}
			if ok && n == math.Trunc(n) {
				return false, runtimeErr("The SecondsPath parameter references a negative value: %s == %s", f.src, shown)
			}
			return false, runtimeErr("The SecondsPath parameter cannot be parsed as a long value: %s == %s", f.src, shown)
		}
		until = r.now().Add(time.Duration(n) * time.Second)
	case st.Timestamp != nil:
		v, err := e.str(st.Timestamp)
		if err != nil {
			return false, err
		}
		s, isStr := v.(string)
		ts, perr := parseTimestamp(s)
		if !isStr || perr != nil {
			shown := s
			if !isStr {
				shown = value.String(v)
			}
			if st.Timestamp.path != nil {
				return false, runtimeErr("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", st.Timestamp.src, shown)
			}
			return false, runtimeErr("The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", st.Timestamp.src, shown)
		}
		until = ts
	}
	t.Phase, t.WaitUntil = phaseWait, until
	return !r.now().Before(until), nil
}

// size returns the length of v's JSON text.
func size(v any) int {
	switch t := v.(type) {
	case nil:
		return 4
	case bool:
		if t {
			return 4
		}
		return 5
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return len(strconv.FormatInt(int64(t), 10))
		}
		return len(value.FormatNumber(t))
	case string:
		return len(t) + 2
	case []any:
		n := 2
		for _, e := range t {
			n += size(e) + 1
		}
		return n
	case *value.Object:
		n := 2
		for _, m := range t.Members() {
			n += len(m.Key) + 4 + size(m.Value)
		}
		return n
	}
	return 4
}
