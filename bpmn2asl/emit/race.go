package emit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// needsRace reports whether n has boundary events that only a race can
// express: message boundaries, non-interrupting timers or messages, or an
// interrupting timer on something that is not a single Task state.
func needsRace(n *bpmn.Node) bool {
	single := n.Loop == nil && (n.Kind.IsTask() || n.Kind == bpmn.CallActivity || n.Kind == bpmn.IntermediateCatchEvent) &&
		(n.TaskType() != "" || n.Kind == bpmn.UserTask || n.Kind == bpmn.ReceiveTask || n.Kind == bpmn.CallActivity || n.Kind == bpmn.IntermediateCatchEvent)
	for _, b := range n.Boundaries {
		if len(b.Events) != 1 {
			continue
		}
		switch b.EventKind() {
		case bpmn.MessageEvent:
			return true
		case bpmn.TimerEvent:
			if !b.CancelActivity || !single {
				return true
			}
			if b.Event().TimerKind == bpmn.TimeCycle {
				return true
			}
		}
	}
	return false
}

// boundaryRace emits activity n with its timer and message boundary events as a
// Parallel race (see doc.go): the activity's branch and one branch per
// event; whichever finishes first raises "Posluha.Race.<id>", which cancels
// the others, and the Parallel's Catch continues on its path. A
// non-interrupting event's branch runs the event's path and ends; only the
// activity's completion ends the race then.
func (w *walk) boundaryRace(n *bpmn.Node, name string) string {
	e := w.e
	inner := name
	name = e.stateName(&n.Element, "with events")
	w.c.memo[n] = name
	st := w.c.add(&asl.State{Name: name, Type: asl.TypeParallel, Comment: "boundary events of bpmn:" + n.ID})
	type arm struct {
		id   string // element whose completion the Fail announces
		bc   *container
		fail *asl.State
		node *bpmn.Node // the boundary event (nil for the activity)
	}
	var arms []arm
	// The activity itself.
	bc := newContainer(false)
	bw := &walk{e: e, c: bc, an: w.an}
	var tail *asl.State
	if n.Loop != nil && n.Loop.MultiInstance {
		tail = bw.multiInstance(n, inner)
	} else {
		tail = bw.core(n, bc, inner)
	}
	fail := bc.add(&asl.State{Name: e.stateName(&n.Element, "finished"), Type: asl.TypeFail, Error: ErrRacePrefix + n.ID})
	tail.Next = fail.Name
	bw.linkTerminateCatch(tail)
	st.Branches = append(st.Branches, &asl.Branch{StartAt: inner, States: bc.states})
	arms = append(arms, arm{id: n.ID, bc: bc, fail: fail})
	// Error boundaries stay Catch entries of the race.
	var errCatch asl.State
	errCatch.Type = asl.TypeParallel
	for _, b := range n.Boundaries {
		if len(b.Events) != 1 {
			continue
		}
		k := b.EventKind()
		if k != bpmn.TimerEvent && k != bpmn.MessageEvent {
			continue
		}
		bc := newContainer(false)
		bw := &walk{e: e, c: bc, an: w.an}
		evName := e.stateName(&b.Element, "")
		bc.memo[b] = evName
		ev := bc.add(&asl.State{Name: evName, Comment: "bpmn:" + b.ID})
		if k == bpmn.TimerEvent {
			ev.Type = asl.TypeWait
			secs, ok := e.duration(b, b.Event())
			if !ok {
				secs = 0
			}
			ev.Seconds = secs
		} else {
			e.callbackTask(b, ev)
		}
		a := arm{id: b.ID, bc: bc, node: b}
		start := evName
		switch {
		case b.CancelActivity:
			a.fail = bc.add(&asl.State{Name: e.stateName(&b.Element, "fired"), Type: asl.TypeFail, Error: ErrRacePrefix + b.ID})
			ev.Next = a.fail.Name
		case k == bpmn.TimerEvent && b.Event().TimerKind == bpmn.TimeCycle:
			start = bw.cycle(b, ev)
		default:
			bw.then(ev, b)
		}
		st.Branches = append(st.Branches, &asl.Branch{StartAt: start, States: bc.states})
		arms = append(arms, a)
	}
	for i, a := range arms {
		st.Branches[i].States = a.bc.states
		if a.fail == nil {
			continue
		}
		written := assigned(a.bc.states)
		parts := make([]string, 0, len(written))
		assign := &asl.Object{}
		for _, v := range written {
			parts = append(parts, fmt.Sprintf("%q: $%s", v, v))
			assign.Set(v, asl.Expr(fmt.Sprintf("$parse($states.errorOutput.Cause).%s", v)))
		}
		a.fail.Cause = asl.Expr("$string({" + strings.Join(parts, ", ") + "})")
		c := &asl.Catcher{ErrorEquals: []string{ErrRacePrefix + a.id}, Comment: "bpmn:" + a.id}
		if assign.Len() > 0 {
			c.Assign = assign
		}
		if a.node == nil {
			tmp := &asl.State{}
			w.then(tmp, n)
			if tmp.Next == "" {
				done := w.c.add(&asl.State{Name: e.stateName(&n.Element, "done"), Type: asl.TypePass})
				w.finish(done)
				tmp.Next = done.Name
			}
			c.Next = tmp.Next
		} else {
			tmp := &asl.State{}
			w.then(tmp, a.node)
			if tmp.Next == "" {
				done := w.c.add(&asl.State{Name: e.stateName(&a.node.Element, "done"), Type: asl.TypePass})
				w.finish(done)
				tmp.Next = done.Name
			}
			c.Next = tmp.Next
		}
		st.Catch = append(st.Catch, c)
	}
	// Error boundaries after the race catchers (States.ALL must be last).
	w.boundaries(n, &errCatch)
	st.Catch = append(st.Catch, errCatch.Catch...)
	w.catchTerminate(st, nil)
	st.End = true
	return name
}

// cycle makes a non-interrupting cycle timer ("R3/P1D": three reminders a
// day apart; "R/P1D": until the activity ends) repeat: a counter, the Wait,
// the event's path, then a Choice back to the Wait. The activity's
// completion cancels the branch like any race.
func (w *walk) cycle(b *bpmn.Node, wait *asl.State) string {
	e := w.e
	text := ""
	if ev := b.Event(); ev.Timer != nil {
		text = strings.TrimSpace(ev.Timer.Text)
	}
	reps := -1
	if strings.HasPrefix(text, "R") {
		if i := strings.IndexByte(text, '/'); i > 1 {
			if n, err := strconv.Atoi(text[1:i]); err == nil && n >= 0 {
				reps = n
			}
		}
	}
	counter := "cycle_" + sanitize(b.ID)
	init := w.c.add(&asl.State{Name: e.stateName(&b.Element, "cycle start"), Type: asl.TypePass,
		Assign: asl.NewObject(counter, 1), Next: wait.Name})
	again := &asl.State{Name: e.stateName(&b.Element, "again?"), Type: asl.TypeChoice}
	stop := &asl.State{Name: e.stateName(&b.Element, "cycle done"), Type: asl.TypePass, End: true}
	w.cont = func() string { return again.Name }
	w.then(wait, b)
	w.c.add(again)
	w.c.add(stop)
	cond := "true"
	if reps >= 0 {
		cond = fmt.Sprintf("$%s < %d", counter, reps)
	}
	again.Choices = []*asl.ChoiceRule{{Condition: asl.Expr(cond), Assign: asl.NewObject(counter, asl.Expr("$"+counter+" + 1")), Next: wait.Name}}
	again.Default = stop.Name
	return init.Name
}
