package emit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Default retriers (see bpmn2asl/doc.go): transient Lambda service errors
// for every invoke, and Registry.Unavailable for the functions that call
// registries and other systems. Registry.Throttled (our own limit on calls
// to a registry was reached, the call was not made) is retried for long,
// with full jitter, whatever the model's retries say: it is pacing, not a
// failure, and in a burst the registry's limit, not the state machine,
// decides how fast applications get through.
var (
	lambdaTransient = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
)

const (
	throttledInterval    = 5
	throttledMaxAttempts = 60
	throttledMaxDelay    = 120
	defaultMaxAttempts   = 3
	registryInterval     = 2
	lambdaInterval       = 1
	backoffRate          = 2.0
)

// activity emits an activity (or an event that behaves like one: message
// catch events, throw events with a task definition) with its loop
// markers, boundary events and successors.
func (w *walk) activity(n *bpmn.Node) string {
	e := w.e
	name := e.stateName(&n.Element, "")
	w.c.memo[n] = name
	switch n.Kind {
	case bpmn.Transaction:
		// Without cancel events and compensation (both diagnosed where
		// they occur) a transaction runs like a sub-process.
		d := e.report(diag.UnsupportedElement, &n.Element, bpmn.Pos{}, "use an embedded sub-process if no transactional behaviour is meant",
			"transaction %s is compiled as a plain embedded sub-process (no cancellation or compensation)", labelOf(n))
		d.Severity = diag.Warning
	case bpmn.AdHocSubProcess:
		e.report(diag.UnsupportedElement, &n.Element, bpmn.Pos{}, "draw the order of the activities with sequence flows in an embedded sub-process",
			"ad-hoc sub-process %s is not supported: ASL needs the order of the steps", labelOf(n))
	}
	if needsRace(n) && (n.Loop == nil || n.Loop.MultiInstance) {
		return w.boundaryRace(n, name)
	}
	if n.Loop != nil && n.Loop.MultiInstance {
		st := w.multiInstance(n, name)
		w.boundaries(n, st)
		w.then(st, n)
		w.linkTerminateCatch(st)
		return name
	}
	if n.Loop != nil && !n.Loop.MultiInstance {
		return w.standardLoop(n, name)
	}
	if n.Kind == bpmn.SubProcess && len(n.Boundaries) == 0 && n.Sub != nil && len(n.Sub.Nodes) > 0 {
		return w.inlineSub(n, name)
	}
	tail := w.core(n, w.c, name)
	w.boundaries(n, tail)
	w.then(tail, n)
	w.linkTerminateCatch(tail)
	return name
}

// linkTerminateCatch points a sub-process's terminate Catch at the state
// that follows the sub-process.
func (w *walk) linkTerminateCatch(st *asl.State) {
	for _, c := range st.Catch {
		if c.Next != "" {
			continue
		}
		if st.Next != "" {
			c.Next = st.Next
			continue
		}
		done := w.c.add(&asl.State{Name: w.e.helperName(st.Name + " terminated"), Type: asl.TypePass})
		w.finish(done)
		c.Next = done.Name
	}
}

// core emits the states of one execution of activity n into c, the first
// named name, and returns the state that ends it (where Catch and Next go).
func (w *walk) core(n *bpmn.Node, c *container, name string) *asl.State {
	e := w.e
	st := &asl.State{Name: name, Comment: "bpmn:" + n.ID}
	c.add(st)
	switch {
	case n.Kind.IsSubProcess():
		// A scope of its own: a Parallel with one branch, so that boundary
		// events become its Catch and loops can repeat it.
		st.Type = asl.TypeParallel
		bc := newContainer(false)
		if n.Sub == nil || len(n.Sub.Nodes) == 0 {
			st.Type = asl.TypePass
			return st
		}
		an := e.analyse(n.Sub, n.ID)
		if an.Start == nil && len(an.Sources) == 0 {
			st.Type = asl.TypePass
			return st
		}
		bw := &walk{e: e, c: bc, an: an}
		start := bw.startScope(an)
		st.Branches = []*asl.Branch{{StartAt: start, States: bc.states}}
		e.collectBranches(st, []*container{bc})
		if bc.terminates {
			// A terminate end event inside a sub-process ends only the
			// sub-process: the Catch continues where completion would
			// (linked in then).
			st.Catch = append(st.Catch, &asl.Catcher{ErrorEquals: []string{ErrTerminate}})
		}
		return st
	case n.Kind == bpmn.CallActivity:
		e.callActivity(n, st)
	case n.Kind == bpmn.UserTask, n.Kind == bpmn.ReceiveTask, n.Kind == bpmn.IntermediateCatchEvent:
		e.callbackTask(n, st)
	case n.Kind == bpmn.ScriptTask && n.ResultVariable != "" && isFEEL(n.Script):
		st.Type = asl.TypePass
		if j, ok := e.translate(n.Script, &n.Element, n.Pos, "script"); ok && validVar(n.ResultVariable) {
			st.Assign = asl.NewObject(n.ResultVariable, asl.Expr(nullSafe(j)))
		}
	case n.TaskType() != "":
		e.lambdaTask(n, st)
	default:
		st.Type = asl.TypePass
		if n.Kind == bpmn.ServiceTask || n.Kind == bpmn.SendTask || n.Kind == bpmn.BusinessRuleTask {
			d := e.report(diag.MissingTaskType, &n.Element, bpmn.Pos{},
				"set the task type in the modeler (Task definition → Type): registry.read, event.write, document.sign, document.pdf or custom.<name>",
				"%s %s has no zeebe:taskDefinition type; it is compiled as a Pass state that does nothing", n.Kind, labelOf(n))
			d.Severity = diag.Warning
		}
	}
	return st
}

// inlineSub emits an embedded sub-process without boundary events inline:
// a Pass for the sub-process itself, then its flow, whose end continues
// after the sub-process.
func (w *walk) inlineSub(n *bpmn.Node, name string) string {
	e := w.e
	st := w.c.add(&asl.State{Name: name, Type: asl.TypePass, Comment: "bpmn:" + n.ID})
	an := e.analyse(n.Sub, n.ID)
	contName := ""
	cont := func() string {
		if contName == "" {
			tmp := &asl.State{}
			if len(n.Outgoing) > 0 {
				w.then(tmp, n)
			}
			contName = tmp.Next
			if contName == "" {
				done := &asl.State{Name: e.stateName(&n.Element, "done"), Type: asl.TypePass}
				contName = done.Name
				w.c.add(done)
				w.then(done, n)
			}
		}
		return contName
	}
	if an.Start == nil && len(an.Sources) == 0 {
		w.then(st, n)
		return name
	}
	sw := &walk{e: e, c: w.c, an: an, cont: cont, stop: w.stop, stopFlows: w.stopFlows, split: w.split}
	st.Next = sw.startScope(an)
	return name
}

// payload builds the TaskRequest payload common to every Lambda task.
func (e *emitter) payload(n *bpmn.Node) *asl.Object {
	p := &asl.Object{}
	p.Set("applicationId", asl.Expr("$applicationId"))
	if e.opts.Service != "" {
		p.Set("service", e.opts.Service)
	} else {
		p.Set("service", asl.Expr("$service"))
	}
	p.Set("step", n.ID)
	p.Set("attempt", asl.Expr("$states.context.State.RetryCount"))
	if v, ok := n.Header("connector"); ok && v != "" {
		p.Set("connector", v)
	}
	if v, ok := n.Header("action"); ok && v != "" {
		p.Set("action", v)
	}
	return p
}

// arguments builds the "arguments" object from ioMapping inputs and task
// headers (except connector and action, which are payload fields).
func (e *emitter) arguments(n *bpmn.Node) *asl.Object {
	args := &asl.Object{}
	for _, h := range n.Headers {
		if h.Key == "connector" || h.Key == "action" {
			continue
		}
		if h.Key == "" {
			e.report(diag.BadTaskHeader, &n.Element, h.Pos, "give every task header a key", "a task header of %s has no key", labelOf(n))
			continue
		}
		setPath(args, h.Key, literal(h.Value))
	}
	for _, m := range n.Inputs {
		t := strings.TrimSpace(m.Target)
		if t == "" {
			e.report(diag.BadMapping, &n.Element, m.Pos, "give the input mapping a target name", "an input mapping of %s has no target", labelOf(n))
			continue
		}
		if isFEEL(m.Source) {
			pos := m.SourcePos
			if pos.Line != 0 {
				pos.Col += len(`source="`)
			}
			j, ok := e.translate(m.Source, &n.Element, pos, "input mapping "+t)
			if !ok {
				continue
			}
			setPath(args, t, asl.Expr(nullSafe(j)))
		} else {
			setPath(args, t, literal(m.Source))
		}
	}
	return args
}

// literal returns a static value for a header or literal mapping: numbers
// and booleans stay strings as written; the empty string becomes null (ASL
// validators reject empty template strings).
func literal(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func setPath(o *asl.Object, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		cur, ok := o.Get(p)
		child, isObj := cur.(*asl.Object)
		if !ok || !isObj {
			child = &asl.Object{}
			o.Set(p, child)
		}
		o = child
	}
	o.Set(parts[len(parts)-1], v)
}

func (e *emitter) function(n *bpmn.Node, fn string) string {
	sub := posluha.SubstitutionName(fn)
	e.subs[sub] = true
	return "${" + sub + "}"
}

// lambdaTask emits a synchronous invoke (or, for document.sign, a
// callback invoke of the sign function).
func (e *emitter) lambdaTask(n *bpmn.Node, st *asl.State) {
	typ := n.TaskType()
	fn := posluha.FunctionForTaskType(typ)
	st.Type = asl.TypeTask
	if fn == "" {
		pos := bpmn.Pos{}
		if n.TaskDefinition != nil {
			pos = n.TaskDefinition.TypePos
		}
		d := e.report(diag.UnknownTaskType, &n.Element, pos,
			"use registry.read, event.write, document.sign, document.pdf or custom.<name> (custom.<name> runs functions/<name>)",
			"unknown task type %q on %s", typ, labelOf(n))
		fn = "unknown"
		if e.opts.AllowUnknownTaskTypes {
			d.Severity = diag.Warning
			fn = strings.ToLower(posluha.PascalName(typ))
		}
	}
	p := e.payload(n)
	resource := asl.ResourceLambdaInvoke
	root := "$states.result.Payload"
	// document.sign waits for the citizen's signature; an event.write with
	// parkOnOutage waits while eventwrite parks the write through a long
	// registry outage (it answers the token when the write is made).
	if park, _ := n.Header("parkOnOutage"); typ == posluha.TaskDocumentSign || (typ == posluha.TaskEventWrite && park == "true") {
		resource = asl.ResourceLambdaInvokeWait
		root = "$states.result"
		p.Set("taskToken", asl.Expr("$states.context.Task.Token"))
	}
	if args := e.arguments(n); args.Len() > 0 {
		p.Set("arguments", args)
	}
	st.Resource = resource
	st.Arguments = asl.NewObject("FunctionName", e.function(n, fn), "Payload", p)
	st.Retry = e.retries(n, typ)
	e.outputs(n, st, root)
}

// callbackTask emits a user task, receive task or message catch event: the
// eventwrite function stores the task token under a correlation key and
// whoever answers calls SendTaskSuccess.
func (e *emitter) callbackTask(n *bpmn.Node, st *asl.State) {
	st.Type = asl.TypeTask
	st.Resource = asl.ResourceLambdaInvokeWait
	p := e.payload(n)
	p.Set("action", posluha.ActionAwait)
	p.Set("taskToken", asl.Expr("$states.context.Task.Token"))
	p.Set("correlationKey", e.correlationKey(n))
	args := e.arguments(n)
	if u := n.UserTask; u != nil {
		for _, kv := range [][2]string{{"formKey", u.FormKey}, {"formId", u.FormID}, {"assignee", u.Assignee},
			{"candidateGroups", u.CandidateGroups}, {"candidateUsers", u.CandidateUsers}, {"dueDate", u.DueDate}, {"followUpDate", u.FollowUpDate}} {
			if kv[1] == "" {
				continue
			}
			if _, ok := args.Get(kv[0]); ok {
				continue
			}
			if isFEEL(kv[1]) {
				if j, ok := e.translate(kv[1], &n.Element, bpmn.Pos{}, kv[0]); ok {
					args.Set(kv[0], asl.Expr(nullSafe(j)))
				}
				continue
			}
			args.Set(kv[0], kv[1])
		}
	}
	if args.Len() > 0 {
		p.Set("arguments", args)
	}
	st.Arguments = asl.NewObject("FunctionName", e.function(n, "eventwrite"), "Payload", p)
	st.Retry = []*asl.Retrier{{ErrorEquals: lambdaTransient, IntervalSeconds: lambdaInterval, MaxAttempts: intp(defaultMaxAttempts), BackoffRate: backoffRate}}
	e.outputs(n, st, "$states.result")
}

// correlationKey is the message's zeebe:subscription correlationKey (FEEL)
// or "<message name or element id>/<applicationId>".
func (e *emitter) correlationKey(n *bpmn.Node) string {
	m := messageOf(n)
	if m != nil && strings.TrimSpace(m.CorrelationKey) != "" {
		if isFEEL(m.CorrelationKey) {
			if j, ok := e.translate(m.CorrelationKey, &n.Element, m.CorrelationKeyPos, "correlation key"); ok {
				return asl.Expr("($k := (" + j + "); $exists($k) and $k != null ? $string($k) : null)")
			}
			return ""
		}
		return m.CorrelationKey
	}
	key := n.ID
	if m != nil && m.Name != "" {
		key = m.Name
	} else if (n.Kind == bpmn.ReceiveTask || n.Kind == bpmn.IntermediateCatchEvent) && m == nil {
		d := e.report(diag.MissingCorrelationKey, &n.Element, bpmn.Pos{},
			"reference a message (with a zeebe:subscription correlationKey) so partners know what to answer",
			"%s %s names no message; it is correlated by its element id and the application id", n.Kind, labelOf(n))
		d.Severity = diag.Warning
	}
	return asl.Expr(jsonString(key+"/") + " & $applicationId")
}

// callActivity starts the called process's state machine and waits for it.
func (e *emitter) callActivity(n *bpmn.Node, st *asl.State) {
	st.Type = asl.TypeTask
	st.Resource = asl.ResourceStartExecSync
	called := strings.TrimSpace(n.CalledElement)
	if called == "" || isFEEL(called) {
		e.report(diag.MissingCalledElement, &n.Element, n.CalledElementPos,
			"set the called process id (a static id: the state machine is wired by DefinitionSubstitutions)",
			"call activity %s has no static called process id", labelOf(n))
		called = "Unknown"
	}
	sub := posluha.StateMachineSubstitution(called)
	e.subs[sub] = true
	input := asl.NewObject(
		"applicationId", asl.Expr("$applicationId"),
		"service", asl.Expr("$service"),
		"citizen", asl.Expr("$citizen"),
		"form", asl.Expr("$form"),
	)
	// Zeebe passes every variable to the called process unless
	// propagateAllParentVariables is false; input mappings come on top.
	if n.PropagateAllParentVariables == nil || *n.PropagateAllParentVariables {
		for _, v := range e.processVars() {
			if !e.locals[v] {
				input.Set(v, asl.Expr("$"+v))
			}
		}
	}
	for _, f := range e.arguments(n).Fields {
		input.Set(f.Key, f.Value)
	}
	// Links the child execution to this one in the console and history.
	input.Set("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID", asl.Expr("$states.context.Execution.Id"))
	st.Arguments = asl.NewObject("StateMachineArn", "${"+sub+"}", "Input", input)
	e.outputs(n, st, "$states.result.Output")
}

// outputs assigns a task's result: ioMapping outputs (FEEL sources read the
// result's fields, falling back to process variables), or, without output
// mappings, every variable the diagram reads that the result carries (the
// Zeebe rule: a job's variables merge into the process).
func (e *emitter) outputs(n *bpmn.Node, st *asl.State, root string) {
	o := &asl.Object{}
	if len(n.Outputs) == 0 {
		for _, v := range e.sortedReads() {
			if !validVar(v) || slices.Contains(standardInputs, v) || e.locals[v] {
				continue
			}
			o.Set(v, asl.Expr(fmt.Sprintf("$exists(%[1]s.%[2]s) ? %[1]s.%[2]s : $%[2]s", root, v)))
		}
	}
	for _, m := range n.Outputs {
		t := strings.TrimSpace(m.Target)
		if !validVar(t) {
			e.report(diag.BadMapping, &n.Element, m.Pos, "use a plain variable name (letters, digits, underscore) as the output target",
				"output mapping target %q of %s is not a plain variable name", t, labelOf(n))
			continue
		}
		if !isFEEL(m.Source) {
			o.Set(t, literal(m.Source))
			continue
		}
		pos := m.SourcePos
		if pos.Line != 0 {
			pos.Col += len(`source="`)
		}
		j, ok := e.translate(m.Source, &n.Element, pos, "output mapping "+t)
		if !ok {
			continue
		}
		names := namesOf(m.Source)
		var b strings.Builder
		b.WriteString("($_result := " + root + "; ")
		for _, v := range names {
			if validVar(v) {
				fmt.Fprintf(&b, "$%[1]s := $exists($_result.%[1]s) ? $_result.%[1]s : $%[1]s; ", v)
			}
		}
		b.WriteString("$_v := (" + j + "); $exists($_v) ? $_v : null)")
		o.Set(t, asl.Expr(b.String()))
	}
	if o.Len() > 0 {
		st.Assign = o
	}
}

// retries returns the Retry of a Lambda task: from zeebe:taskDefinition
// retries (the number of retries after the first attempt; 0 disables),
// else the defaults.
func (e *emitter) retries(n *bpmn.Node, typ string) []*asl.Retrier {
	max := defaultMaxAttempts
	if td := n.TaskDefinition; td != nil && strings.TrimSpace(td.Retries) != "" {
		v, err := strconv.Atoi(strings.TrimSpace(td.Retries))
		if err != nil || v < 0 || v > 99999999 {
			e.report(diag.BadRetries, &n.Element, td.RetriesPos, "write retries as a whole number, e.g. 3",
				"retries %q of %s is not a non-negative integer", td.Retries, labelOf(n))
		} else {
			max = v
		}
	}
	var rs []*asl.Retrier
	registry := typ == posluha.TaskRegistryRead || typ == posluha.TaskEventWrite
	if registry {
		rs = append(rs, &asl.Retrier{ErrorEquals: []string{posluha.ErrRegistryThrottled}, IntervalSeconds: throttledInterval,
			MaxAttempts: intp(throttledMaxAttempts), BackoffRate: backoffRate, MaxDelaySeconds: throttledMaxDelay, JitterStrategy: "FULL"})
	}
	if max == 0 {
		return rs
	}
	if registry {
		rs = append(rs, &asl.Retrier{ErrorEquals: []string{posluha.ErrRegistryUnavailable}, IntervalSeconds: registryInterval, MaxAttempts: intp(max), BackoffRate: backoffRate})
	}
	rs = append(rs, &asl.Retrier{ErrorEquals: lambdaTransient, IntervalSeconds: lambdaInterval, MaxAttempts: intp(max), BackoffRate: backoffRate})
	return rs
}

func intp(i int) *int { return &i }

// boundaries turns the boundary events of n into Catch (errors, and
// interrupting timers on a Task through TimeoutSeconds).
func (w *walk) boundaries(n *bpmn.Node, st *asl.State) {
	e := w.e
	var specific, all []*asl.Catcher
	for _, b := range n.Boundaries {
		if b.Kind != bpmn.BoundaryEvent {
			continue
		}
		ev := b.Event()
		switch {
		case len(b.Events) != 1:
			e.report(diag.UnsupportedBoundary, &b.Element, bpmn.Pos{}, "use one error or timer event definition",
				"boundary event %s needs exactly one event definition", labelOf(b))
		case ev.Kind == bpmn.ErrorEvent:
			c := &asl.Catcher{Comment: "bpmn:" + b.ID, Assign: asl.NewObject("error", asl.Expr("$states.errorOutput")), Next: w.entry(b)}
			if code := ev.ErrorCode(); code != "" {
				c.ErrorEquals = []string{code}
				specific = append(specific, c)
			} else {
				c.ErrorEquals = []string{asl.ErrorAll}
				all = append(all, c)
			}
		case ev.Kind == bpmn.EscalationEvent && b.CancelActivity:
			names := escalationsThrown(n, b)
			if len(names) == 0 {
				e.report(diag.UnsupportedBoundary, &b.Element, bpmn.Pos{}, "throw the escalation from an escalation end or intermediate event inside the sub-process",
					"escalation boundary event %s catches nothing: no escalation is thrown inside %s", labelOf(b), labelOf(n))
				continue
			}
			specific = append(specific, &asl.Catcher{ErrorEquals: names, Comment: "bpmn:" + b.ID, Next: w.entry(b)})
		case (ev.Kind == bpmn.TimerEvent || ev.Kind == bpmn.MessageEvent) && needsRace(n):
			// Handled by the race around the activity.
		case ev.Kind == bpmn.TimerEvent && b.CancelActivity && st.Type == asl.TypeTask:
			secs, ok := e.duration(b, ev)
			if !ok {
				continue
			}
			if cur, isInt := st.TimeoutSeconds.(int); st.TimeoutSeconds == nil || isInt && secs != nil {
				if n, isN := secs.(int); isN {
					if n < 1 {
						n = 1 // TimeoutSeconds must be positive
					}
					if st.TimeoutSeconds == nil || n < cur {
						st.TimeoutSeconds = n
					}
				} else {
					st.TimeoutSeconds = secs
				}
			}
			specific = append(specific, &asl.Catcher{ErrorEquals: []string{asl.ErrorTimeout}, Comment: "bpmn:" + b.ID, Next: w.entry(b)})
		case ev.Kind == bpmn.TimerEvent && b.CancelActivity:
			e.report(diag.UnsupportedBoundary, &b.Element, bpmn.Pos{},
				"put the timer on a task inside the sub-process, or model the deadline with an event-based gateway",
				"an interrupting timer on %s %s is not supported yet (only on tasks, through TimeoutSeconds)", n.Kind, labelOf(n))
		case !b.CancelActivity:
			e.report(diag.UnsupportedBoundary, &b.Element, bpmn.Pos{},
				"make the boundary event interrupting, or model the reminder as a parallel branch with a timer",
				"non-interrupting %s boundary event %s cannot be expressed in ASL on %s", ev.Kind, labelOf(b), labelOf(n))
		default:
			e.report(diag.UnsupportedBoundary, &b.Element, bpmn.Pos{},
				"use an error boundary event (Catch) or an interrupting timer (TimeoutSeconds)",
				"%s boundary event %s is not supported", ev.Kind, labelOf(b))
		}
	}
	if len(specific)+len(all) == 0 {
		return
	}
	if st.Type != asl.TypeTask && st.Type != asl.TypeParallel && st.Type != asl.TypeMap {
		// A Pass (activity without a task type) cannot fail: the boundary
		// paths stay reachable only in BPMN.
		return
	}
	if len(all) > 1 {
		all = all[:1]
	}
	st.Catch = append(st.Catch, specific...)
	st.Catch = append(st.Catch, all...)
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration returns the seconds of an ISO 8601 duration (years count
// 365 days, months 30).
func parseDuration(s string) (int, bool) {
	m := isoDuration.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, false
	}
	mult := []float64{365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1}
	total := 0.0
	for i, g := range m[1:] {
		if g == "" {
			continue
		}
		f, err := strconv.ParseFloat(g, 64)
		if err != nil {
			return 0, false
		}
		total += f * mult[i]
	}
	if total > 99999999 {
		return 0, false
	}
	return int(total), true
}

var feelDurationLiteral = regexp.MustCompile(`^(?:duration\(\s*)?"([^"]*)"\s*\)?$`)

// duration returns the seconds of a timer duration (or the interval of a
// cycle): an int for a static ISO 8601 duration, or a JSONata expression
// string for a FEEL expression that yields one at run time.
func (e *emitter) duration(n *bpmn.Node, ev *bpmn.EventDef) (any, bool) {
	if ev.Timer == nil || strings.TrimSpace(ev.Timer.Text) == "" {
		e.report(diag.BadTimer, &n.Element, ev.Pos, "set a duration such as PT15M", "timer %s has no time", labelOf(n))
		return nil, false
	}
	text := strings.TrimSpace(ev.Timer.Text)
	if isFEEL(text) {
		inner := strings.TrimSpace(strings.TrimPrefix(text, "="))
		if m := feelDurationLiteral.FindStringSubmatch(inner); m != nil {
			text = m[1]
		} else {
			j, ok := e.translate(text, &n.Element, ev.Timer.TextPos, "timer")
			if !ok {
				return nil, false
			}
			return asl.Expr(isoSeconds(j, ev.TimerKind == bpmn.TimeCycle)), true
		}
	}
	if ev.TimerKind == bpmn.TimeCycle {
		if i := strings.LastIndexByte(text, '/'); i >= 0 {
			text = text[i+1:]
		}
	}
	secs, ok := parseDuration(text)
	if !ok {
		e.report(diag.BadTimer, &n.Element, ev.Timer.TextPos, "write an ISO 8601 duration such as PT15M, P3D or P1DT12H",
			"timer %s: %q is not a static ISO 8601 duration", labelOf(n), text)
		return nil, false
	}
	return secs, true
}

// isoSeconds is JSONata that turns the ISO 8601 duration j yields at run
// time (days and time parts; a cycle "R3/PT1H" uses its interval) into
// whole seconds, at least 1.
func isoSeconds(j string, cycle bool) string {
	d := "$string(" + j + ")"
	if cycle {
		d = "$substringAfter(" + d + ", \"/\")"
	}
	return "($d := " + d + "; $g := $match($d, /^P(?:(\\d+)D)?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+(?:\\.\\d+)?)S)?)?$/).groups; " +
		"$n := function($s) { $exists($s) and $s != \"\" ? $number($s) : 0 }; " +
		"$max([1, $round($n($g[0]) * 86400 + $n($g[1]) * 3600 + $n($g[2]) * 60 + $n($g[3]))]))"
}

// timerWait fills a Wait state from a timer catch event.
func (e *emitter) timerWait(n *bpmn.Node, st *asl.State) {
	ev := n.Event()
	if ev.Timer != nil && ev.TimerKind == bpmn.TimeDate {
		text := strings.TrimSpace(ev.Timer.Text)
		if isFEEL(text) {
			if j, ok := e.translate(text, &n.Element, ev.Timer.TextPos, "timer date"); ok {
				st.Timestamp = asl.Expr("$string(" + j + ")")
				return
			}
			st.Seconds = 0
			return
		}
		if t, err := time.Parse(time.RFC3339, text); err == nil {
			st.Timestamp = t.UTC().Format(time.RFC3339)
			return
		}
		e.report(diag.BadTimer, &n.Element, ev.Timer.TextPos, "write a date with a zone, e.g. 2026-01-31T09:00:00+02:00",
			"timer %s: %q is not an ISO 8601 date-time with a time zone", labelOf(n), text)
		st.Seconds = 0
		return
	}
	secs, ok := e.duration(n, ev)
	if !ok {
		secs = 0
	}
	st.Seconds = secs
}

// namesOf returns the variables a FEEL expression reads (nil on error).
func namesOf(src string) []string {
	names, err := feelNames(src)
	if err != nil {
		return nil
	}
	return names
}
