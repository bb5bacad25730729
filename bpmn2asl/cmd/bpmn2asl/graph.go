package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/posluha/posluha/bpmn2asl/asl"
)

// Flows answers questions about the BPMN model's sequence flows so edges
// of the state machine can be labelled and matched to flow coverage. A nil
// Flows is allowed (labels fall back to the JSONata condition).
type Flows interface {
	// Label is the flow's name, else its condition text, else "".
	Label(flowID string) string
	// Between is the id of the flow from element from to element to, or "".
	Between(from, to string) string
	// Default is the id of the element's default flow, or "".
	Default(elementID string) string
}

// Mermaid renders a state machine as a Mermaid flowchart. Parallel and Map
// states become subgraphs; Choice rules and Catchers become labelled edges.
// Shapes: Task rectangle, Choice rhombus, Pass and Wait (⏱) rounded,
// Succeed and Fail (✖) circles — the shapes every Mermaid renderer knows.
// With coverage, states (by the BPMN element id in their Comment) and
// Choice edges (by flow id) are styled reached or unreached, and a summary
// comment is added. The output is deterministic.
func Mermaid(sm *asl.StateMachine, cov *Coverage) string {
	return MermaidFlows(sm, cov, nil)
}

// MermaidFlows is Mermaid with edges labelled and matched to BPMN flows.
func MermaidFlows(sm *asl.StateMachine, cov *Coverage, flows Flows) string {
	g := &graph{cov: cov, flows: flows}
	g.line(0, "flowchart TD")
	if sm.Comment != "" {
		g.line(1, "%% "+oneLine(sm.Comment))
	}
	g.line(1, `start_(("start"))`)
	ids := g.scope(sm.States, 1)
	if id, ok := ids[sm.StartAt]; ok {
		g.edge("start_", id, "", "", "", false)
	}
	for _, e := range g.edges {
		g.b.WriteString(e)
	}
	g.styles()
	return g.b.String()
}

type graph struct {
	b     strings.Builder
	n     int
	edges []string
	cov   *Coverage
	flows Flows

	reached, unreached, fails  []string
	linkReached, linkUnreached []int
	elemTotal, elemHit         int
	flowTotal, flowHit         int
	seenElem, seenFlow         map[string]bool
}

func (g *graph) line(indent int, s string) {
	g.b.WriteString(strings.Repeat("  ", indent))
	g.b.WriteString(s)
	g.b.WriteByte('\n')
}

func (g *graph) id() string {
	g.n++
	return "s" + strconv.Itoa(g.n)
}

// scope declares the states of one scope and queues their edges; it
// returns the scope's name → Mermaid id map.
func (g *graph) scope(states asl.States, indent int) map[string]string {
	ids := make(map[string]string, len(states))
	for _, st := range states {
		ids[st.Name] = g.id()
	}
	for _, st := range states {
		id := ids[st.Name]
		label := quote(st.Name)
		switch st.Type {
		case asl.TypeParallel:
			g.line(indent, fmt.Sprintf("subgraph %s[%s]", id, quote("⫴ "+st.Name)))
			g.line(indent+1, "direction TB")
			for i, br := range st.Branches {
				bid := fmt.Sprintf("%s_b%d", id, i+1)
				g.line(indent+1, fmt.Sprintf("subgraph %s[%s]", bid, quote("branch "+strconv.Itoa(i+1))))
				g.scope(br.States, indent+2)
				g.line(indent+1, "end")
			}
			g.line(indent, "end")
		case asl.TypeMap:
			g.line(indent, fmt.Sprintf("subgraph %s[%s]", id, quote("↻ "+st.Name)))
			g.line(indent+1, "direction TB")
			if st.ItemProcessor != nil {
				g.scope(st.ItemProcessor.States, indent+1)
			}
			g.line(indent, "end")
		case asl.TypeChoice:
			g.line(indent, id+"{"+label+"}")
		case asl.TypePass:
			g.line(indent, id+"("+label+")")
		case asl.TypeWait:
			g.line(indent, id+"("+quote("⏱ "+st.Name)+")")
		case asl.TypeSucceed:
			g.line(indent, id+"(("+label+"))")
		case asl.TypeFail:
			g.line(indent, id+"(("+quote("✖ "+st.Name)+"))")
			g.fails = append(g.fails, id)
		default:
			g.line(indent, id+"["+label+"]")
		}
		g.mark(id, st.Comment)
	}
	for _, st := range states {
		from := ids[st.Name]
		fromElem, _ := bpmnID(st.Comment)
		for _, c := range st.Choices {
			flow, _ := bpmnID(c.Comment)
			g.edge(from, ids[c.Next], g.flowLabel(flow, c.Condition), flow, "", false)
		}
		if st.Default != "" {
			flow := ""
			if g.flows != nil && fromElem != "" {
				flow = g.flows.Default(fromElem)
			}
			label := "default"
			if l := g.label(flow); l != "" {
				label = "default: " + truncate(l, 30)
			}
			g.edge(from, ids[st.Default], label, flow, "", false)
		}
		for _, c := range st.Catch {
			boundary, _ := bpmnID(c.Comment)
			g.edge(from, ids[c.Next], strings.Join(c.ErrorEquals, ", "), "", boundary, true)
		}
		if st.Next != "" {
			flow := ""
			if next := states.Get(st.Next); next != nil && g.flows != nil && fromElem != "" {
				if toElem, ok := bpmnID(next.Comment); ok {
					flow = g.flows.Between(fromElem, toElem)
				}
			}
			g.edge(from, ids[st.Next], "", flow, "", false)
		}
	}
	return ids
}

func (g *graph) label(flowID string) string {
	if g.flows == nil || flowID == "" {
		return ""
	}
	return g.flows.Label(flowID)
}

// edge queues one edge. flow (a BPMN sequence flow id) or element (the
// boundary event of a Catch) drive the coverage style; only flows count
// in the flow total.
func (g *graph) edge(from, to, label, flow, element string, dashed bool) {
	if from == "" || to == "" {
		return
	}
	arrow := " --> "
	if dashed {
		arrow = " -.-> "
	}
	if label != "" {
		arrow = strings.TrimRight(arrow, " ") + "|" + quote(label) + "| "
	}
	idx := len(g.edges)
	g.edges = append(g.edges, "  "+from+arrow+to+"\n")
	if g.cov == nil {
		return
	}
	var hits int
	switch {
	case flow != "":
		hits = g.cov.Flows[flow]
		if g.seenFlow == nil {
			g.seenFlow = map[string]bool{}
		}
		if !g.seenFlow[flow] {
			g.seenFlow[flow] = true
			g.flowTotal++
			if hits > 0 {
				g.flowHit++
			}
		}
	case element != "":
		hits = g.cov.Elements[element]
	default:
		return
	}
	if hits > 0 {
		g.linkReached = append(g.linkReached, idx)
	} else {
		g.linkUnreached = append(g.linkUnreached, idx)
	}
}

func (g *graph) flowLabel(flow, cond string) string {
	if l := g.label(flow); l != "" {
		return truncate(l, 40)
	}
	cond = strings.TrimSuffix(strings.TrimPrefix(cond, "{%"), "%}")
	return truncate(strings.TrimSpace(cond), 40)
}

// mark records the coverage class of a state.
func (g *graph) mark(id, comment string) {
	if g.cov == nil {
		return
	}
	el, ok := bpmnID(comment)
	if !ok {
		return
	}
	hits := g.cov.Elements[el]
	if g.seenElem == nil {
		g.seenElem = map[string]bool{}
	}
	if !g.seenElem[el] {
		g.seenElem[el] = true
		g.elemTotal++
		if hits > 0 {
			g.elemHit++
		}
	}
	if hits > 0 {
		g.reached = append(g.reached, id)
	} else {
		g.unreached = append(g.unreached, id)
	}
}

func (g *graph) styles() {
	if len(g.fails) > 0 && g.cov == nil {
		g.line(1, "classDef fail fill:#fff0f0,stroke:#dc3545")
		g.line(1, "class "+strings.Join(g.fails, ",")+" fail")
	}
	if g.cov == nil {
		return
	}
	g.line(1, "classDef reached fill:#d4edda,stroke:#28a745,color:#155724")
	g.line(1, "classDef unreached fill:#f8d7da,stroke:#dc3545,color:#721c24,stroke-dasharray:4 2")
	if len(g.reached) > 0 {
		g.line(1, "class "+strings.Join(g.reached, ",")+" reached")
	}
	if len(g.unreached) > 0 {
		g.line(1, "class "+strings.Join(g.unreached, ",")+" unreached")
	}
	join := func(xs []int) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	if len(g.linkReached) > 0 {
		g.line(1, "linkStyle "+join(g.linkReached)+" stroke:#28a745,stroke-width:2px")
	}
	if len(g.linkUnreached) > 0 {
		g.line(1, "linkStyle "+join(g.linkUnreached)+" stroke:#dc3545,stroke-dasharray:3 3")
	}
	g.line(1, fmt.Sprintf("%%%% coverage: %d/%d elements, %d/%d flows", g.elemHit, g.elemTotal, g.flowHit, g.flowTotal))
}

// bpmnID extracts the element id from a Comment such as "bpmn:Task_1",
// "multi-instance of bpmn:Task_1" or "loop of bpmn:Task_1".
func bpmnID(comment string) (string, bool) {
	i := strings.LastIndex(comment, "bpmn:")
	if i < 0 {
		return "", false
	}
	id := comment[i+len("bpmn:"):]
	if j := strings.IndexAny(id, " \t\n,;)"); j >= 0 {
		id = id[:j]
	}
	return id, id != ""
}

// quote makes a Mermaid quoted label: quotes, angle brackets and newlines
// are entity-escaped so no label can break the syntax.
func quote(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ", "\r", " ", "#", "#35;", "|", "#124;")
	return `"` + r.Replace(s) + `"`
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
