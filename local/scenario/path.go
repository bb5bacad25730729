package scenario

import (
	"strings"
	"time"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/local/engine"
)

// path maps an execution history back to the BPMN elements reached, in
// order, through the states' "bpmn:<id>" Comments. A state is reached when
// it is entered, except a boundary timer's Wait, which counts when it fires
// (exits): a timer that loses the race is entered but never reached.
//
// The sequence flow into each element is inferred from the model: of the
// element's incoming flows, the one whose source was reached last (a join
// of a parallel gateway takes every incoming flow that was reached), so
// interleaved parallel branches still credit the right flows.
func (m *model) path(events []engine.Event, start time.Time) []Step {
	var out []Step
	last := map[string]int{} // element id → index in out of its last visit
	for _, ev := range events {
		entered := strings.HasSuffix(ev.Type, "StateEntered")
		exited := ev.Type == "WaitStateExited"
		if !entered && !exited {
			continue
		}
		name, _ := detail(ev, "name").(string)
		n := m.element(name)
		if n == nil {
			continue
		}
		boundaryWait := n.Kind == bpmn.BoundaryEvent && m.waits[name]
		if entered == boundaryWait {
			continue
		}
		out = append(out, Step{ID: n.ID, Name: n.Name, Kind: kindOf(n), At: ev.Time.Sub(start), Flow: m.incoming(n, last)})
		last[n.ID] = len(out) - 1
	}
	return out
}

// incoming returns the flow (or, for a parallel join, the flows joined by
// a space) that led to n.
func (m *model) incoming(n *bpmn.Node, last map[string]int) string {
	best, at := "", -1
	var all []string
	for _, f := range n.Incoming {
		if f.Source == nil {
			continue
		}
		i, ok := last[f.Source.ID]
		if !ok {
			continue
		}
		all = append(all, f.ID)
		if i > at {
			best, at = f.ID, i
		}
	}
	if n.Kind == bpmn.ParallelGateway && len(all) > 1 {
		return strings.Join(all, " ")
	}
	return best
}

func detail(ev engine.Event, key string) any {
	if ev.Details == nil {
		return nil
	}
	v, _ := ev.Details.Get(key)
	return v
}

func kindOf(n *bpmn.Node) string {
	switch {
	case n.Kind == bpmn.BoundaryEvent:
		return "boundary"
	case n.Kind.IsEvent():
		return "event"
	case n.Kind.IsGateway():
		return "gateway"
	case n.Kind.IsSubProcess():
		return "subprocess"
	}
	return "task"
}
