package structure

import (
	"fmt"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Problem is one finding; the compiler turns it into a diag.Diagnostic with
// the element's position.
type Problem struct {
	Code     diag.Code
	Severity diag.Severity
	Node     *Node // the element to fix (nil when Flow is set)
	Flow     *Flow
	Msg      string
	Hint     string
	Related  []*Node // e.g. the join of an unstructured split
}

// Analysis is what the passes learn about a scope.
type Analysis struct {
	Graph *Graph
	Start *Node
	// Starts are a scope's alternative start events when it has several
	// (Start is the default one then).
	Starts []*Node
	// Sources are the nodes that start together when the scope has no start
	// event but several nodes without incoming flows (Start is nil then).
	Sources []*Node
	// Reachable marks nodes reachable from Start.
	Reachable map[*Node]bool
	// Default is the effective default flow of each exclusive/inclusive
	// split (the declared default, or the single conditionless flow).
	Default map[*Node]*Flow

	ipdom []int // immediate post-dominator index per node; -1 = virtual exit, -2 = none
}

// Analyze runs the passes over g and returns every problem found.
func Analyze(g *Graph) (*Analysis, []Problem) {
	a := &Analysis{Graph: g, Reachable: map[*Node]bool{}, Default: map[*Node]*Flow{}}
	var ps []Problem
	report := func(p Problem) {
		if p.Severity == 0 && p.Code.Severity() == diag.Warning {
			p.Severity = diag.Warning
		}
		ps = append(ps, p)
	}

	// 1. Start.
	var starts, sources []*Node
	for _, n := range g.Nodes {
		switch {
		case n.Kind == Start:
			starts = append(starts, n)
		case len(n.In) == 0 && len(n.JumpIn) == 0 && n.Kind != Boundary:
			sources = append(sources, n)
		}
	}
	switch {
	case len(starts) == 1:
		a.Start = starts[0]
	case len(starts) > 1:
		// Alternative triggers: each execution starts at one of them. The
		// default is the first none start event (else the first one).
		a.Starts = starts
		a.Start = starts[0]
		for _, s := range starts {
			if len(s.In) == 0 && s.NoneStart {
				a.Start = s
				break
			}
		}
		var others []*Node
		for _, s := range starts {
			if s != a.Start {
				others = append(others, s)
			}
		}
		report(Problem{Code: diag.MultipleStartEvents, Severity: diag.Warning, Node: a.Start,
			Msg:     fmt.Sprintf("scope %s has %d start events: the execution input field \"startEvent\" (an element id or message name) selects one; without it the execution starts at %s", g.ID, len(starts), label(a.Start)),
			Hint:    "keep one start event unless the process really has alternative triggers",
			Related: others})
	case len(sources) == 1:
		a.Start = sources[0]
	case len(sources) == 0:
		report(Problem{Code: diag.NoStartEvent, Msg: fmt.Sprintf("scope %s has no start event", g.ID),
			Hint: "add a start event before the first step"})
	default:
		// BPMN starts every element without incoming flows at once.
		report(Problem{Code: diag.NoStartEvent, Severity: diag.Warning, Node: sources[0],
			Msg:     fmt.Sprintf("scope %s has no start event: its %d elements without incoming flows start together, in parallel", g.ID, len(sources)),
			Hint:    "add one start event and connect it to the first step",
			Related: sources[1:]})
		a.Sources = sources
	}
	if a.Start == nil && len(a.Sources) == 0 {
		return a, ps
	}

	// 2. Reachability.
	stack := []*Node{}
	if a.Start != nil {
		stack = append(stack, a.Start)
		a.Reachable[a.Start] = true
	}
	for _, s := range append(a.Sources, a.Starts...) {
		if !a.Reachable[s] {
			stack = append(stack, s)
			a.Reachable[s] = true
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range succ(n) {
			if !a.Reachable[s] {
				a.Reachable[s] = true
				stack = append(stack, s)
			}
		}
	}
	for _, n := range g.Nodes {
		if !a.Reachable[n] {
			report(Problem{Code: diag.Unreachable, Node: n,
				Msg:  fmt.Sprintf("%s %s cannot be reached from the start event", n.Kind, label(n)),
				Hint: "connect it with a sequence flow from an earlier step, or delete it"})
		}
	}

	// 3. Termination.
	finishes := map[*Node]bool{}
	for _, n := range g.Nodes {
		if isExit(n) {
			finishes[n] = true
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range pred(n) {
			if !finishes[p] {
				finishes[p] = true
				stack = append(stack, p)
			}
		}
	}
	for _, n := range g.Nodes {
		if !a.Reachable[n] {
			continue
		}
		if len(n.Out) == 0 && n.Kind != End && n.Kind != Start && n.Kind != Activity && n.Kind != IntermediateEvent && n.Kind != Boundary {
			report(Problem{Code: diag.DeadEnd, Node: n,
				Msg:  fmt.Sprintf("%s %s has no outgoing sequence flow", n.Kind, label(n)),
				Hint: "connect it to the next step or to an end event"})
			continue
		}
		if !finishes[n] {
			report(Problem{Code: diag.EndlessLoop, Node: n,
				Msg:  fmt.Sprintf("no end event can be reached from %s %s: the process would loop forever", n.Kind, label(n)),
				Hint: "give the loop an exit: a gateway flow towards an end event"})
		}
	}

	// 4. Splits.
	for _, n := range g.Nodes {
		if !a.Reachable[n] || len(n.Out) < 2 {
			continue
		}
		if n.Kind != ExclusiveGateway && n.Kind != InclusiveGateway {
			continue
		}
		var bare []*Flow
		for _, f := range n.Out {
			if !f.HasCondition && f != n.Default {
				bare = append(bare, f)
			}
		}
		switch {
		case n.Default != nil:
			a.Default[n] = n.Default
			for _, f := range bare {
				report(Problem{Code: diag.MissingDefaultFlow, Flow: f, Node: n,
					Msg:  fmt.Sprintf("flow %s leaving %s %s has no condition and is not the default flow", flowLabel(f), n.Kind, label(n)),
					Hint: "add a FEEL condition (e.g. =approved = true) to the flow"})
			}
		case len(bare) == 1:
			a.Default[n] = bare[0]
			report(Problem{Code: diag.MissingDefaultFlow, Severity: diag.Warning, Node: n, Flow: bare[0],
				Msg:  fmt.Sprintf("%s %s has no default flow; its only flow without a condition (%s) is taken as the default", n.Kind, label(n), flowLabel(bare[0])),
				Hint: "mark that flow as the default flow in the modeler"})
		case len(bare) > 1:
			report(Problem{Code: diag.MissingDefaultFlow, Node: n,
				Msg:  fmt.Sprintf("%s %s has %d outgoing flows without a condition", n.Kind, label(n), len(bare)),
				Hint: "give every outgoing flow a FEEL condition and mark one as the default flow"})
		default:
			report(Problem{Code: diag.MissingDefaultFlow, Severity: diag.Warning, Node: n,
				Msg:  fmt.Sprintf("%s %s has no default flow: when no condition holds the execution fails with States.NoChoiceMatched", n.Kind, label(n)),
				Hint: "mark one outgoing flow as the default flow"})
		}
	}

	// 5. Post-dominators.
	a.postDominators()
	return a, ps
}

// isExit reports whether a token ends at n: an end event, or any node
// without outgoing flows (BPMN's implicit end; a boundary event without
// flows included).
func isExit(n *Node) bool { return len(n.Out) == 0 && len(n.Jumps) == 0 || n.Kind == End }

func label(n *Node) string {
	if n.Name != "" {
		return fmt.Sprintf("%q (%s)", n.Name, n.ID)
	}
	return n.ID
}

func flowLabel(f *Flow) string {
	if f.Name != "" {
		return fmt.Sprintf("%q (%s)", f.Name, f.ID)
	}
	return f.ID
}

// Label returns the readable "name (id)" of n used in messages.
func Label(n *Node) string { return label(n) }

const (
	exitIdx = -1
	noneIdx = -2
)

// postDominators computes immediate post-dominators with the iterative
// algorithm of Cooper, Harvey and Kennedy on the reversed graph.
func (a *Analysis) postDominators() {
	g := a.Graph
	n := len(g.Nodes)
	// Reverse post-order of the reversed graph from the virtual exit.
	order := make([]int, 0, n) // post-order
	seen := make([]bool, n)
	type frame struct {
		node  int
		next  int
		preds []*Node
	}
	// Normal flows only: an exception path (boundary event) that ends on
	// its own does not move the join of the region it leaves.
	flowPred := func(n *Node) []*Node {
		out := make([]*Node, 0, len(n.In)+len(n.JumpIn))
		for _, f := range n.In {
			out = append(out, f.Source)
		}
		return append(out, n.JumpIn...)
	}
	flowSucc := func(n *Node) []*Node {
		out := make([]*Node, 0, len(n.Out)+len(n.Jumps))
		for _, f := range n.Out {
			out = append(out, f.Target)
		}
		return append(out, n.Jumps...)
	}
	var exits []int
	for _, nd := range g.Nodes {
		if isExit(nd) && !nd.Abort {
			exits = append(exits, nd.index)
		}
	}
	for _, e := range exits {
		if seen[e] {
			continue
		}
		seen[e] = true
		st := []frame{{node: e, preds: flowPred(g.Nodes[e])}}
		for len(st) > 0 {
			top := &st[len(st)-1]
			if top.next < len(top.preds) {
				p := top.preds[top.next].index
				top.next++
				if !seen[p] {
					seen[p] = true
					st = append(st, frame{node: p, preds: flowPred(g.Nodes[p])})
				}
				continue
			}
			order = append(order, top.node)
			st = st[:len(st)-1]
		}
	}
	// po number: exit gets the highest.
	po := make([]int, n)
	for i := range po {
		po[i] = -1
	}
	for i, v := range order {
		po[v] = i
	}
	exitPO := len(order)
	ipdom := make([]int, n)
	for i := range ipdom {
		ipdom[i] = noneIdx
	}
	poOf := func(v int) int {
		if v == exitIdx {
			return exitPO
		}
		return po[v]
	}
	intersect := func(b1, b2 int) int {
		for b1 != b2 {
			for poOf(b1) < poOf(b2) {
				b1 = ipdom[b1]
			}
			for poOf(b2) < poOf(b1) {
				b2 = ipdom[b2]
			}
		}
		return b1
	}
	for _, e := range exits {
		ipdom[e] = exitIdx
	}
	isExitIdx := func(v int) bool {
		for _, e := range exits {
			if e == v {
				return true
			}
		}
		return false
	}
	changed := true
	for changed {
		changed = false
		for i := len(order) - 1; i >= 0; i-- {
			v := order[i]
			if isExitIdx(v) {
				continue
			}
			newIdom := noneIdx
			for _, s := range flowSucc(g.Nodes[v]) {
				si := s.index
				if ipdom[si] == noneIdx {
					continue
				}
				if newIdom == noneIdx {
					newIdom = si
				} else {
					newIdom = intersect(si, newIdom)
				}
			}
			if newIdom != noneIdx && ipdom[v] != newIdom {
				ipdom[v] = newIdom
				changed = true
			}
		}
	}
	a.ipdom = ipdom
}

// PostDominator returns the immediate post-dominator of n: the first node
// every path from n to an exit passes through. exit is true when only the
// virtual exit post-dominates n (the branches end separately); ok is false
// when n cannot reach an exit.
func (a *Analysis) PostDominator(n *Node) (pd *Node, exit, ok bool) {
	if a.ipdom == nil || n.index >= len(a.ipdom) {
		return nil, false, false
	}
	switch d := a.ipdom[n.index]; d {
	case noneIdx:
		return nil, false, false
	case exitIdx:
		return nil, true, true
	default:
		return a.Graph.Nodes[d], false, true
	}
}
