// Package structure analyses the control flow of one BPMN scope (a process
// or an embedded sub-process) before anything is emitted. It works on a
// small graph of its own (Graph, Node, Flow) that the compiler builds from
// the BPMN model, so the analysis does not depend on XML details.
//
// Passes, in order (Analyze runs them all and collects every problem):
//
//  1. Start: find the start node: the single start event, or, for a scope
//     without start events, the single node without incoming flows (BPMN
//     allows that). Two start events, or none and several sources, are
//     reported.
//  2. Reachability: a forward walk from the start (flows plus the implicit
//     edge from an activity to each of its boundary events) marks what can
//     run; everything else is reported unreachable.
//  3. Termination: a backward walk from the exits (end events and activities
//     without outgoing flows) marks what can finish; a reachable node that
//     cannot is reported (an endless loop or a dead end).
//  4. Splits: conditions on exclusive and inclusive splits are checked (a
//     conditionless non-default flow, or none at all, is reported; a single
//     conditionless flow among conditional ones is taken as the default with
//     a warning).
//  5. Post-dominators (Cooper–Harvey–Kennedy on the reversed graph with a
//     virtual exit) give, for every parallel or inclusive split, the node
//     where all its branches meet: the candidate join of a single-entry-
//     single-exit region. Join checks that the candidate is a join of the
//     same kind and that every flow into it comes from inside the region;
//     the emitter asks it when it meets a split and reports what it says
//     (naming split and join) when the region is not well-formed.
//
// Exclusive-only graphs need nothing more: ASL allows any graph of
// Choice/Next states within one scope, so gotos and loops stay flat.
package structure

// Kind classifies a node for the analysis.
type Kind int

// Node kinds.
const (
	Start Kind = iota
	End
	Activity          // tasks, sub-processes, call activities
	ExclusiveGateway  // XOR split or merge
	ParallelGateway   // AND split or join
	InclusiveGateway  // OR split or join
	EventGateway      // event-based gateway
	IntermediateEvent // catch or throw events in the flow
	Boundary          // boundary event attached to an activity
	Other             // anything else (unsupported kinds)
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Start:
		return "start event"
	case End:
		return "end event"
	case Activity:
		return "activity"
	case ExclusiveGateway:
		return "exclusive gateway"
	case ParallelGateway:
		return "parallel gateway"
	case InclusiveGateway:
		return "inclusive gateway"
	case EventGateway:
		return "event-based gateway"
	case IntermediateEvent:
		return "intermediate event"
	case Boundary:
		return "boundary event"
	}
	return "element"
}

// Node is one flow node of a scope.
type Node struct {
	ID, Name string
	Kind     Kind
	In, Out  []*Flow
	// Default is the default flow of a gateway or activity, if any.
	Default *Flow
	// Jumps are the link catch events a link throw event continues at, and
	// JumpIn the link throw events that continue at this link catch event:
	// control flow without a sequence flow.
	Jumps, JumpIn []*Node
	// Boundaries are the boundary events attached to this activity.
	Boundaries []*Node
	// AttachedTo is the host activity of a boundary event.
	AttachedTo *Node
	// NoneStart marks a start event without event definition (the default
	// among alternative start events).
	NoneStart bool
	// Abort marks an end event that ends the whole scope at once
	// (terminate, error): paths into it are ignored when looking for the
	// join of a region, like exception paths.
	Abort bool
	// Data is the caller's element (the BPMN model node).
	Data any

	index int
}

// Flow is a sequence flow between two nodes of the same scope.
type Flow struct {
	ID           string
	Name         string
	Source       *Node
	Target       *Node
	HasCondition bool
	Data         any
}

// Graph is one scope.
type Graph struct {
	ID    string
	Nodes []*Node
	Flows []*Flow
}

// NewGraph returns an empty graph for the scope id.
func NewGraph(id string) *Graph { return &Graph{ID: id} }

// AddNode appends a node.
func (g *Graph) AddNode(n *Node) *Node {
	n.index = len(g.Nodes)
	g.Nodes = append(g.Nodes, n)
	return n
}

// Connect adds a flow from src to dst.
func (g *Graph) Connect(f *Flow) {
	f.Source.Out = append(f.Source.Out, f)
	f.Target.In = append(f.Target.In, f)
	g.Flows = append(g.Flows, f)
}

// Jump records that link throw event from continues at link catch to.
func (g *Graph) Jump(from, to *Node) {
	from.Jumps = append(from.Jumps, to)
	to.JumpIn = append(to.JumpIn, from)
}

// Attach records boundary event b on activity host.
func (g *Graph) Attach(b, host *Node) {
	b.AttachedTo = host
	host.Boundaries = append(host.Boundaries, b)
}

// IsSplit reports whether n forks: a gateway with several outgoing flows or
// an activity with several unconditional outgoing flows (an implicit
// parallel split).
func (n *Node) IsSplit() bool { return len(n.Out) > 1 }

// IsJoin reports whether several flows enter n.
func (n *Node) IsJoin() bool { return len(n.In) > 1 }

// succ returns the successors of n for the analysis: outgoing flows plus
// boundary events (an activity may leave through any of them).
func succ(n *Node) []*Node {
	out := make([]*Node, 0, len(n.Out)+len(n.Boundaries)+len(n.Jumps))
	for _, f := range n.Out {
		out = append(out, f.Target)
	}
	out = append(out, n.Jumps...)
	out = append(out, n.Boundaries...)
	return out
}

func pred(n *Node) []*Node {
	out := make([]*Node, 0, len(n.In)+1+len(n.JumpIn))
	for _, f := range n.In {
		out = append(out, f.Source)
	}
	out = append(out, n.JumpIn...)
	if n.AttachedTo != nil {
		out = append(out, n.AttachedTo)
	}
	return out
}
