package emit

import (
	"fmt"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/structure"
)

// container is one ASL scope being filled: the machine's States, a Parallel
// branch or a Map processor.
type container struct {
	states asl.States
	memo   map[*bpmn.Node]string
	top    bool
	// ends are the states that end a branch; their Output is set to the
	// variables the branch writes once the branch is complete.
	ends []*asl.State
	exit string
	// terminates is set when a terminate end event inside raises
	// ErrTerminate.
	terminates bool
}

func newContainer(top bool) *container {
	return &container{memo: map[*bpmn.Node]string{}, top: top}
}

func (c *container) add(st *asl.State) *asl.State {
	c.states = append(c.states, st)
	return st
}

// walk emits the nodes of one BPMN scope into one container.
type walk struct {
	e  *emitter
	c  *container
	an *structure.Analysis
	// stop is the join that ends the branch being walked; stopFlows the
	// flows that reached it.
	stop      *bpmn.Node
	stopFlows map[*bpmn.Flow]bool
	split     *bpmn.Node
	// cont is where the scope continues when its flow ends (an inlined
	// sub-process continues after the sub-process); nil ends the container.
	cont func() string
	// race maps an event of an event-based gateway to the Fail state that
	// ends its branch (the winner cancels the others).
	race map[*bpmn.Node]string
}

// entry returns the name of the first state of node n, emitting it first
// if needed.
func (w *walk) entry(n *bpmn.Node) string {
	if w.stop != nil && n == w.stop {
		return w.exitState()
	}
	if name, ok := w.c.memo[n]; ok {
		return name
	}
	if len(w.e.names) > maxStates {
		// Unfolding (copied tails) ran away: stop here, reported once.
		if !w.e.tooBig {
			w.e.tooBig = true
			w.e.report(diag.DefinitionTooLarge, &n.Element, bpmn.Pos{},
				"merge parallel branches at a parallel gateway instead of letting them run through shared steps",
				"the state machine would need more than %d states (parallel branches that share their tails are copied per branch)", maxStates)
		}
		return w.deadEnd()
	}
	return w.emitNode(n)
}

// maxStates bounds the states of one definition; far beyond what fits in
// the 1 MiB definition limit anyway.
const maxStates = 5000

// follow returns the state a flow leads to.
func (w *walk) follow(f *bpmn.Flow) string {
	if f.Target == nil {
		return w.deadEnd()
	}
	if w.stop != nil && f.Target == w.stop {
		w.stopFlows[f] = true
		return w.exitState()
	}
	return w.entry(f.Target)
}

// exitState is the state that ends a branch at its join.
func (w *walk) exitState() string {
	if w.c.exit == "" {
		w.c.exit = w.e.stateName(&w.stop.Element, "branch end")
		st := w.c.add(&asl.State{Name: w.c.exit, Type: asl.TypePass, End: true})
		w.c.ends = append(w.c.ends, st)
	}
	return w.c.exit
}

// deadEnd is a Fail for flows that lead nowhere (already diagnosed).
func (w *walk) deadEnd() string {
	name := w.e.helperName("Dead end")
	w.c.add(&asl.State{Name: name, Type: asl.TypeFail, Error: "Posluha.DeadEnd", Cause: "a sequence flow leads nowhere"})
	return name
}

func labelOf(n *bpmn.Node) string {
	if n == nil {
		return ""
	}
	if n.Name != "" {
		return clean(n.Name) + " (" + n.ID + ")"
	}
	return n.ID
}

// finish makes st the last state of the scope's flow.
func (w *walk) finish(st *asl.State) {
	if w.cont != nil {
		st.Next = w.cont()
		return
	}
	st.End = true
	if !w.c.top {
		w.c.ends = append(w.c.ends, st)
	}
}

// then links st (the last state of node n) to what follows n.
func (w *walk) then(st *asl.State, n *bpmn.Node) {
	if fail, ok := w.race[n]; ok {
		st.Next = fail
		return
	}
	outs := n.Outgoing
	switch {
	case len(outs) == 0:
		if n.Kind == bpmn.IntermediateThrowEvent && n.EventKind() == bpmn.LinkEvent {
			if target := w.linkTarget(n); target != nil {
				st.Next = w.entry(target)
				return
			}
		}
		w.finish(st)
	case len(outs) == 1:
		st.Next = w.follow(outs[0])
	default:
		st.Next = w.fork(n, "")
	}
}

// linkTarget finds the link catch event matching a link throw event.
func (w *walk) linkTarget(n *bpmn.Node) *bpmn.Node {
	if gn := w.e.gnodes[n]; gn != nil && len(gn.Jumps) > 0 {
		return gn.Jumps[0].Data.(*bpmn.Node)
	}
	w.e.report(diag.DanglingRef, &n.Element, bpmn.Pos{}, "give a link catch event in the same scope the same link name",
		"link throw event %s has no matching link catch event %q", labelOf(n), linkName(n))
	return nil
}

// state creates the state of node n in the current container and
// memoises it.
func (w *walk) state(n *bpmn.Node, typ string) *asl.State {
	name := w.e.stateName(&n.Element, "")
	w.c.memo[n] = name
	return w.c.add(&asl.State{Name: name, Type: typ, Comment: "bpmn:" + n.ID})
}

// emitNode emits node n and everything after it not emitted yet.
func (w *walk) emitNode(n *bpmn.Node) string {
	switch {
	case n.Kind == bpmn.StartEvent:
		st := w.state(n, asl.TypePass)
		if w.c.top && n.Parent == nil {
			st.Assign = w.e.inputAssign()
		}
		w.checkEvent(n, bpmn.NoneEvent, bpmn.MessageEvent, bpmn.TimerEvent, bpmn.SignalEvent, bpmn.ConditionalEvent)
		w.then(st, n)
		return st.Name
	case n.Kind == bpmn.EndEvent:
		return w.endEvent(n)
	case n.Kind == bpmn.IntermediateCatchEvent, n.Kind == bpmn.IntermediateThrowEvent:
		return w.intermediate(n)
	case n.Kind == bpmn.BoundaryEvent:
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	case n.Kind == bpmn.ExclusiveGateway:
		return w.exclusive(n)
	case n.Kind == bpmn.ParallelGateway, n.Kind == bpmn.InclusiveGateway:
		if len(n.Outgoing) > 1 {
			return w.fork(n, w.e.stateName(&n.Element, ""))
		}
		// An inclusive join outside any region merges alternative paths:
		// only one token can arrive, so it passes it on (as BPMN's OR-join
		// does). A parallel join there would wait forever.
		if len(n.Incoming) > 1 && !(n.Kind == bpmn.InclusiveGateway && w.split == nil) {
			w.unstructuredJoin(n)
		}
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	case n.Kind == bpmn.EventBasedGateway:
		return w.eventGateway(n)
	case n.Kind.IsActivity():
		return w.activity(n)
	}
	what := n.Tag
	if what == "" {
		what = n.Kind.String()
	}
	w.e.report(diag.UnsupportedElement, &n.Element, bpmn.Pos{}, "replace it with a supported element (tasks, gateways, events, sub-processes)",
		"%s %s is not supported by the compiler", what, labelOf(n))
	st := w.state(n, asl.TypePass)
	w.then(st, n)
	return st.Name
}

// checkEvent reports an event definition outside the allowed kinds.
func (w *walk) checkEvent(n *bpmn.Node, allowed ...bpmn.EventKind) bool {
	if len(n.Events) > 1 {
		w.e.report(diag.UnsupportedEventDef, &n.Element, bpmn.Pos{}, "use one event definition per event",
			"%s %s has %d event definitions (a multiple event), which the compiler does not support", n.Kind, labelOf(n), len(n.Events))
		return false
	}
	k := n.EventKind()
	for _, a := range allowed {
		if k == a {
			return true
		}
	}
	w.e.report(diag.UnsupportedEventDef, &n.Element, bpmn.Pos{}, "use a none, message, timer or error event here",
		"a %s %s is not supported (%s)", k, n.Kind, labelOf(n))
	return false
}

func (w *walk) endEvent(n *bpmn.Node) string {
	switch n.EventKind() {
	case bpmn.ErrorEvent:
		st := w.state(n, asl.TypeFail)
		ev := n.Event()
		code := ev.ErrorCode()
		if code == "" {
			code = "Process.Error"
			if ev.Error != nil && ev.Error.Name != "" {
				code = ev.Error.Name
			}
			d := w.e.report(diag.MissingErrorCode, &n.Element, bpmn.Pos{},
				"reference an error with an errorCode such as Application.Rejected, so boundary events and support staff can tell errors apart",
				"error end event %s has no error code; the execution fails with %q", labelOf(n), code)
			d.Severity = diag.Warning
		}
		st.Error = code
		st.Cause = fmt.Sprintf("BPMN error end event %s", n.ID)
		if ev.Error != nil && ev.Error.Name != "" {
			st.Cause = ev.Error.Name
		}
		return st.Name
	case bpmn.EscalationEvent:
		if esc := w.e.escalationCaught(n); esc != "" {
			st := w.state(n, asl.TypeFail)
			st.Error = esc
			st.Cause = "escalation from " + n.ID
			return st.Name
		}
		// Nobody catches it: BPMN ends the path normally.
		st := w.state(n, asl.TypePass)
		w.finish(st)
		return st.Name
	case bpmn.TerminateEvent:
		if w.c.top && w.cont == nil {
			st := w.state(n, asl.TypeSucceed)
			st.Output = w.e.finalOutput()
			return st.Name
		}
		if w.cont != nil {
			st := w.state(n, asl.TypePass)
			st.Next = w.cont()
			return st.Name
		}
		st := w.state(n, asl.TypeFail)
		st.Error = ErrTerminate
		st.Cause = "terminate end event " + n.ID
		w.c.terminates = true
		return st.Name
	}
	if len(n.Events) > 0 && n.EventKind() != bpmn.MessageEvent && n.EventKind() != bpmn.SignalEvent {
		w.checkEvent(n, bpmn.NoneEvent, bpmn.MessageEvent)
	}
	if n.TaskDefinition != nil {
		return w.activity(n)
	}
	if w.c.top && w.cont == nil {
		st := w.state(n, asl.TypeSucceed)
		st.Output = w.e.finalOutput()
		return st.Name
	}
	st := w.state(n, asl.TypePass)
	w.finish(st)
	return st.Name
}

func (w *walk) intermediate(n *bpmn.Node) string {
	catch := n.Kind == bpmn.IntermediateCatchEvent
	switch k := n.EventKind(); {
	case len(n.Events) > 1:
		w.checkEvent(n)
	case k == bpmn.NoneEvent, k == bpmn.LinkEvent:
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	case catch && k == bpmn.TimerEvent:
		st := w.state(n, asl.TypeWait)
		w.e.timerWait(n, st)
		w.then(st, n)
		return st.Name
	case catch && k == bpmn.MessageEvent:
		return w.activity(n)
	case !catch && k == bpmn.EscalationEvent:
		if esc := w.e.escalationCaught(n); esc != "" {
			// Caught by an interrupting boundary: the sub-process stops.
			st := w.state(n, asl.TypeFail)
			st.Error = esc
			st.Cause = "escalation from " + n.ID
			return st.Name
		}
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	case !catch && k == bpmn.MessageEvent:
		if n.TaskDefinition != nil {
			return w.activity(n)
		}
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	default:
		w.checkEvent(n, bpmn.NoneEvent, bpmn.MessageEvent, bpmn.TimerEvent, bpmn.LinkEvent)
	}
	st := w.state(n, asl.TypePass)
	w.then(st, n)
	return st.Name
}

// exclusive emits an exclusive gateway: a Choice for a split, a Pass for a
// merge.
func (w *walk) exclusive(n *bpmn.Node) string {
	if len(n.Outgoing) < 2 {
		st := w.state(n, asl.TypePass)
		w.then(st, n)
		return st.Name
	}
	st := w.state(n, asl.TypeChoice)
	def := w.an.Default[w.e.gnodes[n]]
	for _, f := range n.Outgoing {
		if def != nil && def.Data.(*bpmn.Flow) == f {
			continue
		}
		cond := "false"
		if f.Condition != nil && strings.TrimSpace(f.Condition.Text) != "" {
			if j, ok := w.e.condition(f); ok {
				cond = j
			}
		}
		st.Choices = append(st.Choices, &asl.ChoiceRule{Condition: asl.Expr(cond), Comment: "bpmn:" + f.ID, Next: w.follow(f)})
	}
	if def != nil {
		st.Default = w.follow(def.Data.(*bpmn.Flow))
	}
	return st.Name
}

// condition translates a flow's condition to a boolean JSONata expression.
func (e *emitter) condition(f *bpmn.Flow) (string, bool) {
	c := f.Condition
	return e.translateCond(c.Text, &f.Element, c.TextPos, "condition")
}

// unstructuredJoin reports a join reached outside a matching region.
func (w *walk) unstructuredJoin(n *bpmn.Node) {
	if w.split != nil {
		d := w.e.report(diag.UnstructuredConcurrent, &w.split.Element, bpmn.Pos{},
			"make every branch of the split end at one join of the same kind (a single-entry-single-exit block), or merge the branches at the matching join first",
			"branches of %s %s reach %s %s, which is not their join: the concurrency is not block-structured", w.split.Kind, labelOf(w.split), n.Kind, labelOf(n))
		d.Notes = append(d.Notes, w.e.defs.Note(&n.Element, "join %s", labelOf(n)))
		return
	}
	w.e.report(diag.UnstructuredConcurrent, &n.Element, bpmn.Pos{},
		"a join needs a matching split of the same kind whose branches all end at it; use an exclusive gateway to merge alternative paths",
		"%s %s joins flows that no matching split started", n.Kind, labelOf(n))
}

// fork emits a parallel or inclusive split (or an activity's implicit
// fork) as a Parallel state; name is the state name to use ("" for an
// implicit fork, which gets a helper name).
func (w *walk) fork(n *bpmn.Node, name string) string {
	e := w.e
	comment := "bpmn:" + n.ID
	if name == "" {
		name = e.stateName(&n.Element, "fork")
		comment = ""
	} else {
		w.c.memo[n] = name
	}
	st := w.c.add(&asl.State{Name: name, Type: asl.TypeParallel, Comment: comment})
	if e.active[n] {
		e.report(diag.UnstructuredConcurrent, &n.Element, bpmn.Pos{},
			"a loop must not leave a parallel region: close the branches at a join before looping back",
			"a path from a branch of %s %s leads back to it: the concurrency is not block-structured", n.Kind, labelOf(n))
		st.Type = asl.TypeFail
		st.Error = "Posluha.Unstructured"
		return name
	}
	inclusive := n.Kind == bpmn.InclusiveGateway
	if n.Kind.IsActivity() || n.Kind.IsEvent() {
		for _, f := range n.Outgoing {
			if f.Condition != nil {
				inclusive = true
			}
		}
	}
	var stop *bpmn.Node
	if gn := e.gnodes[n]; gn != nil {
		if j, exit, ok := w.an.PostDominator(gn); ok && !exit && j != nil {
			jn := j.Data.(*bpmn.Node)
			if (jn.Kind == bpmn.ParallelGateway || jn.Kind == bpmn.InclusiveGateway) && len(jn.Incoming) > 1 {
				stop = jn
			}
		}
	}
	e.active[n] = true
	defer delete(e.active, n)
	def := n.Default
	if df := w.an.Default[e.gnodes[n]]; df != nil {
		def = df.Data.(*bpmn.Flow)
	}
	stopFlows := map[*bpmn.Flow]bool{}
	groups := groupBranches(n, stop)
	var branches []*container
	for _, f := range n.Outgoing {
		g, grouped := groups[f]
		if grouped && g.flows[0] != f {
			continue // walked with the first flow of its group
		}
		bc := newContainer(false)
		bw := &walk{e: e, c: bc, an: w.an, stop: stop, stopFlows: stopFlows, split: n}
		start := ""
		switch {
		case grouped:
			start = bw.group(n, g, inclusive, def)
		case inclusive && (f.Condition != nil || f == def):
			start = bw.guard(n, f, def)
		default:
			start = bw.follow(f)
		}
		st.Branches = append(st.Branches, &asl.Branch{StartAt: start, States: bc.states})
		branches = append(branches, bc)
	}
	// Re-read the states: follow appended to the containers after the
	// Branch values were built.
	for i, bc := range branches {
		st.Branches[i].States = bc.states
	}
	e.collectBranches(st, branches)
	if stop != nil {
		if stop == w.stop {
			for f := range stopFlows {
				w.stopFlows[f] = true
			}
		} else {
			for _, f := range stop.Incoming {
				if !stopFlows[f] {
					d := e.report(diag.UnstructuredConcurrent, &n.Element, bpmn.Pos{},
						"make every flow into the join come from a branch of this split",
						"%s %s joins at %s, but the join also receives flow %s from outside the split's branches", n.Kind, labelOf(n), labelOf(stop), f.ID)
					d.Notes = append(d.Notes, e.defs.Note(&stop.Element, "join %s", labelOf(stop)))
					break
				}
			}
		}
		st.Next = w.afterJoin(stop)
	} else {
		w.finish(st)
	}
	w.catchTerminate(st, branches)
	return name
}

// branchGroup is a subset of a split's branches that meet at a join of
// their own before the split's region ends: split S → A, B, C with B and C
// joining at J while A goes on alone. Its branches become a nested
// Parallel that ends at J (the unfolding of this unstructured shape).
type branchGroup struct {
	join  *bpmn.Node
	flows []*bpmn.Flow
}

// groupBranches finds the branch groups of split n whose region ends at
// stop: outgoing flows whose path is a plain chain (one way in, one way
// out, no boundary events) to the same parallel or inclusive join, when
// that join receives exactly those flows and they are not all of n's.
func groupBranches(n, stop *bpmn.Node) map[*bpmn.Flow]*branchGroup {
	firstJoin := func(f *bpmn.Flow) *bpmn.Node {
		m := f.Target
		for range 1000 {
			if m == nil {
				return nil
			}
			if (m.Kind == bpmn.ParallelGateway || m.Kind == bpmn.InclusiveGateway) && len(m.Incoming) > 1 {
				return m
			}
			if len(m.Outgoing) != 1 || len(m.Incoming) != 1 || m.Kind.IsGateway() || len(m.Boundaries) > 0 || m.Loop != nil {
				return nil
			}
			m = m.Outgoing[0].Target
		}
		return nil
	}
	byJoin := map[*bpmn.Node]*branchGroup{}
	var order []*bpmn.Node
	for _, f := range n.Outgoing {
		j := firstJoin(f)
		if j == nil || j == stop {
			continue
		}
		if byJoin[j] == nil {
			byJoin[j] = &branchGroup{join: j}
			order = append(order, j)
		}
		byJoin[j].flows = append(byJoin[j].flows, f)
	}
	out := map[*bpmn.Flow]*branchGroup{}
	for _, j := range order {
		g := byJoin[j]
		if len(g.flows) < 2 || len(g.flows) != len(j.Incoming) || len(g.flows) == len(n.Outgoing) {
			continue
		}
		for _, f := range g.flows {
			out[f] = g
		}
	}
	return out
}

// group emits a branch group as a nested Parallel that ends at the group's
// join, and returns its state name; the walk then continues after the
// join in the enclosing branch.
func (w *walk) group(split *bpmn.Node, g *branchGroup, inclusive bool, def *bpmn.Flow) string {
	e := w.e
	st := w.c.add(&asl.State{Name: e.stateName(&split.Element, "to "+g.join.ID), Type: asl.TypeParallel})
	stopFlows := map[*bpmn.Flow]bool{}
	var branches []*container
	for _, f := range g.flows {
		bc := newContainer(false)
		bw := &walk{e: e, c: bc, an: w.an, stop: g.join, stopFlows: stopFlows, split: split}
		start := ""
		if inclusive && (f.Condition != nil || f == def) {
			start = bw.guard(split, f, def)
		} else {
			start = bw.follow(f)
		}
		st.Branches = append(st.Branches, &asl.Branch{StartAt: start})
		branches = append(branches, bc)
	}
	for i, bc := range branches {
		st.Branches[i].States = bc.states
	}
	e.collectBranches(st, branches)
	st.Next = w.afterJoin(g.join)
	w.catchTerminate(st, branches)
	return st.Name
}

// chooseStart emits the Choice that picks one of a process's alternative
// start events from the execution input's "startEvent" (element id or
// message name).
func (w *walk) chooseStart(an *structure.Analysis) string {
	e := w.e
	st := w.c.add(&asl.State{Name: e.helperName("Which start event?"), Type: asl.TypeChoice})
	for _, s := range an.Starts {
		n := s.Data.(*bpmn.Node)
		keys := []string{jsonString(n.ID)}
		if m := messageOf(n); m != nil && m.Name != "" {
			keys = append(keys, jsonString(m.Name))
		}
		cond := fmt.Sprintf("$states.input.startEvent in [%s]", strings.Join(keys, ", "))
		st.Choices = append(st.Choices, &asl.ChoiceRule{Condition: asl.Expr(cond), Comment: "bpmn:" + n.ID, Next: w.entry(n)})
	}
	st.Default = w.entry(an.Start.Data.(*bpmn.Node))
	return st.Name
}

// startScope returns the first state of a scope: its start event, or, for
// a scope without one, a Parallel that starts every source node at once.
func (w *walk) startScope(an *structure.Analysis) string {
	if len(an.Starts) > 1 {
		n := an.Graph.Nodes[0].Data.(*bpmn.Node)
		if n.Parent != nil {
			w.e.report(diag.MultipleStartEvents, &n.Parent.Element, bpmn.Pos{}, "give the sub-process exactly one none start event",
				"sub-process %s has %d start events; a sub-process starts at its one none start event", labelOf(n.Parent), len(an.Starts))
		}
	}
	if an.Start != nil {
		return w.entry(an.Start.Data.(*bpmn.Node))
	}
	e := w.e
	st := w.c.add(&asl.State{Name: e.helperName(an.Graph.ID + " start together"), Type: asl.TypeParallel})
	var branches []*container
	for _, src := range an.Sources {
		bc := newContainer(false)
		bw := &walk{e: e, c: bc, an: an}
		start := bw.entry(src.Data.(*bpmn.Node))
		st.Branches = append(st.Branches, &asl.Branch{StartAt: start})
		branches = append(branches, bc)
	}
	for i, bc := range branches {
		st.Branches[i].States = bc.states
	}
	e.collectBranches(st, branches)
	w.finish(st)
	w.catchTerminate(st, branches)
	return st.Name
}

// afterJoin emits the join that closes a region (as a Pass, or as the
// next split when the gateway both joins and splits).
func (w *walk) afterJoin(j *bpmn.Node) string {
	if w.stop != nil && j == w.stop {
		return w.exitState()
	}
	if name, ok := w.c.memo[j]; ok {
		return name
	}
	if len(j.Outgoing) > 1 {
		return w.fork(j, w.e.stateName(&j.Element, ""))
	}
	st := w.state(j, asl.TypePass)
	w.then(st, j)
	return st.Name
}

// guard starts an inclusive branch: a Choice that enters the branch when
// the flow's condition holds and otherwise ends the branch at once.
func (w *walk) guard(split *bpmn.Node, f *bpmn.Flow, def *bpmn.Flow) string {
	e := w.e
	name := e.stateName(&split.Element, "if "+flowName(f))
	ch := w.c.add(&asl.State{Name: name, Type: asl.TypeChoice})
	cond := "false"
	if f == def {
		// The default flow runs when no other condition holds.
		var others []string
		for _, o := range split.Outgoing {
			if o != def && o.Condition != nil {
				if j, ok := e.condition(o); ok {
					others = append(others, "("+j+")")
				}
			}
		}
		cond = "true"
		if len(others) > 0 {
			cond = "$not(" + strings.Join(others, " or ") + ")"
		}
	} else if j, ok := e.condition(f); ok {
		cond = j
	}
	skip := e.stateName(&split.Element, "skip "+flowName(f))
	ch.Choices = []*asl.ChoiceRule{{Condition: asl.Expr(cond), Comment: "bpmn:" + f.ID, Next: w.follow(f)}}
	ch.Default = skip
	sk := w.c.add(&asl.State{Name: skip, Type: asl.TypePass, End: true})
	w.c.ends = append(w.c.ends, sk)
	return name
}

func flowName(f *bpmn.Flow) string {
	if f.Name != "" {
		return clean(f.Name)
	}
	return f.ID
}

// collectBranches gives each branch end an Output with the variables the
// branch writes and the Parallel an Assign that copies them back (a branch
// cannot assign the outer scope's variables in ASL).
func (e *emitter) collectBranches(st *asl.State, branches []*container) {
	assign := &asl.Object{}
	writers := map[string][]int{}
	var order []string
	for i, bc := range branches {
		written := assigned(bc.states)
		if len(written) == 0 {
			continue
		}
		out := &asl.Object{}
		for _, v := range written {
			out.Set(v, asl.Expr("$"+v))
			if writers[v] == nil {
				order = append(order, v)
			}
			writers[v] = append(writers[v], i)
		}
		for _, end := range bc.ends {
			end.Output = out
		}
	}
	for _, v := range order {
		idx := writers[v]
		if len(idx) == 1 {
			assign.Set(v, asl.Expr(fmt.Sprintf("$states.result[%d].%s", idx[0], v)))
			continue
		}
		// Several branches may assign v (a task merging its result counts):
		// take the last branch whose value differs from the value before
		// the split, else keep it.
		vals := make([]string, len(idx))
		for k, i := range idx {
			vals[k] = fmt.Sprintf("$states.result[%d].%s", i, v)
		}
		assign.Set(v, asl.Expr(fmt.Sprintf("($_changed := $filter([%s], function($_x) { $_x != $%s }); $count($_changed) > 0 ? $_changed[-1] : $%s)",
			strings.Join(vals, ", "), v, v)))
	}
	if assign.Len() > 0 {
		if st.Type == asl.TypeMap {
			return
		}
		st.Assign = assign
	}
}

// assigned returns the variables the states of one scope assign (state,
// Choice rule and Catch Assigns), in order of first appearance. Inner
// scopes need no visit: their Parallel or Map state assigns what they
// export.
func assigned(states asl.States) []string {
	var out []string
	seen := map[string]bool{}
	add := func(o *asl.Object) {
		if o == nil {
			return
		}
		for _, f := range o.Fields {
			if !seen[f.Key] {
				seen[f.Key] = true
				out = append(out, f.Key)
			}
		}
	}
	for _, s := range states {
		add(s.Assign)
		for _, c := range s.Choices {
			add(c.Assign)
		}
		for _, c := range s.Catch {
			add(c.Assign)
		}
	}
	return out
}

// catchTerminate adds the catcher for a terminate end event raised inside
// a Parallel or Map: at the top the execution succeeds, deeper the error is
// raised again so the outermost one sees it.
func (w *walk) catchTerminate(st *asl.State, branches []*container) {
	terminates := false
	for _, bc := range branches {
		terminates = terminates || bc.terminates
	}
	if !terminates {
		return
	}
	var target string
	if w.c.top {
		target = w.e.helperName("Terminated")
		w.c.add(&asl.State{Name: target, Type: asl.TypeSucceed, Output: w.e.finalOutput()})
	} else {
		target = w.e.helperName("Terminate")
		w.c.add(&asl.State{Name: target, Type: asl.TypeFail, Error: ErrTerminate, Cause: "terminate end event"})
		w.c.terminates = true
	}
	st.Catch = append([]*asl.Catcher{{ErrorEquals: []string{ErrTerminate}, Next: target}}, st.Catch...)
}

// eventGateway emits an event-based gateway as a race: a Parallel with a
// branch per following event; the first event to happen ends its branch
// with a Fail named after itself, which cancels the other branches, and the
// Parallel's Catch for that name continues after the event (variables the
// winner wrote travel in the error's Cause as JSON).
func (w *walk) eventGateway(n *bpmn.Node) string {
	e := w.e
	name := e.stateName(&n.Element, "")
	w.c.memo[n] = name
	st := w.c.add(&asl.State{Name: name, Type: asl.TypeParallel, Comment: "bpmn:" + n.ID})
	type arm struct {
		ev   *bpmn.Node
		fail *asl.State
		bc   *container
	}
	var arms []arm
	for _, f := range n.Outgoing {
		ev := f.Target
		if ev == nil {
			continue
		}
		ok := ev.Kind == bpmn.ReceiveTask || ev.Kind == bpmn.IntermediateCatchEvent &&
			(ev.EventKind() == bpmn.MessageEvent || ev.EventKind() == bpmn.TimerEvent)
		if !ok {
			e.report(diag.UnsupportedElement, &ev.Element, bpmn.Pos{}, "follow an event-based gateway with message or timer catch events or receive tasks",
				"%s %s follows event-based gateway %s; only message and timer catch events and receive tasks can", ev.Kind, labelOf(ev), labelOf(n))
			continue
		}
		bc := newContainer(false)
		failName := e.stateName(&ev.Element, "won")
		errName := ErrRacePrefix + ev.ID
		bw := &walk{e: e, c: bc, an: w.an, race: map[*bpmn.Node]string{ev: failName}, split: n}
		start := bw.entry(ev)
		fail := bc.add(&asl.State{Name: failName, Type: asl.TypeFail, Error: errName})
		st.Branches = append(st.Branches, &asl.Branch{StartAt: start, States: bc.states})
		arms = append(arms, arm{ev, fail, bc})
	}
	for i, a := range arms {
		st.Branches[i].States = a.bc.states
		written := assigned(a.bc.states)
		parts := make([]string, 0, len(written))
		assign := &asl.Object{}
		for _, v := range written {
			parts = append(parts, fmt.Sprintf("%q: $%s", v, v))
			assign.Set(v, asl.Expr(fmt.Sprintf("$parse($states.errorOutput.Cause).%s", v)))
		}
		a.fail.Cause = asl.Expr("$string({" + strings.Join(parts, ", ") + "})")
		c := &asl.Catcher{ErrorEquals: []string{ErrRacePrefix + a.ev.ID}, Comment: "bpmn:" + a.ev.ID}
		if assign.Len() > 0 {
			c.Assign = assign
		}
		st.Catch = append(st.Catch, c)
	}
	// Targets after the events, emitted in the outer container.
	for i, a := range arms {
		next := ""
		if len(a.ev.Outgoing) == 0 {
			done := &asl.State{Name: e.stateName(&a.ev.Element, "done"), Type: asl.TypePass}
			w.c.add(done)
			w.finish(done)
			next = done.Name
		} else {
			tmp := &asl.State{}
			w.then(tmp, a.ev)
			next = tmp.Next
			if next == "" {
				done := &asl.State{Name: e.stateName(&a.ev.Element, "done"), Type: asl.TypePass}
				w.c.add(done)
				w.finish(done)
				next = done.Name
			}
		}
		st.Catch[i].Next = next
	}
	if len(arms) == 0 {
		st.Type = asl.TypePass
		w.then(st, n)
		return name
	}
	w.catchTerminate(st, nil)
	// Every branch ends in a Fail, so the Parallel itself never completes
	// normally; End keeps the definition valid.
	st.End = true
	return name
}

// escalationName is the ASL error a thrown escalation travels as.
func escalationName(code string) string {
	if code == "" {
		return "Escalation"
	}
	return "Escalation." + code
}

// escalationCaught returns the error name for escalation throw event n
// when an interrupting escalation boundary on an enclosing sub-process
// catches it (same code, or a boundary without one), else "". Escalations
// nobody catches do not interrupt anything in BPMN.
func (e *emitter) escalationCaught(n *bpmn.Node) string {
	code := ""
	if ev := n.Event(); ev.Escalation != nil {
		code = ev.Escalation.EscalationCode
	}
	for p := n.Parent; p != nil; p = p.Parent {
		for _, b := range p.Boundaries {
			if b.EventKind() != bpmn.EscalationEvent || len(b.Events) != 1 {
				continue
			}
			bc := ""
			if be := b.Event(); be.Escalation != nil {
				bc = be.Escalation.EscalationCode
			}
			if bc == "" || bc == code {
				if !b.CancelActivity {
					return "" // non-interrupting: diagnosed on the boundary
				}
				return escalationName(code)
			}
		}
	}
	return ""
}

// escalationsThrown lists the error names of the escalations thrown inside
// sub-process n that boundary b (code "" = any) catches.
func escalationsThrown(n, b *bpmn.Node) []string {
	want := ""
	if be := b.Event(); be != nil && be.Escalation != nil {
		want = be.Escalation.EscalationCode
	}
	var out []string
	seen := map[string]bool{}
	if n.Sub == nil {
		return nil
	}
	n.Sub.Walk(func(m *bpmn.Node) bool {
		if m.EventKind() != bpmn.EscalationEvent || (m.Kind != bpmn.EndEvent && m.Kind != bpmn.IntermediateThrowEvent) {
			return true
		}
		code := ""
		if ev := m.Event(); ev.Escalation != nil {
			code = ev.Escalation.EscalationCode
		}
		if want != "" && code != want {
			return true
		}
		if name := escalationName(code); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		return true
	})
	return out
}
