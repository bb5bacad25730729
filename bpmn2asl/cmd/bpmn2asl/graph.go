package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/posluha/posluha/bpmn2asl/asl"
)

// Labels supplies edge labels for BPMN sequence flows (by flow id): the
// flow's name or condition. It may be nil.
type Labels func(flowID string) string

// Mermaid renders a state machine as a Mermaid flowchart. Parallel and Map
// states become subgraphs; Choice rules and Catchers become labelled edges.
// With coverage, states (by the BPMN element id in their Comment) and
// Choice edges (by flow id) are styled reached or unreached, and a summary
// comment is added. The output is deterministic.
func Mermaid(sm *asl.StateMachine, cov *Coverage) string {
	return MermaidLabels(sm, cov, nil)
}

// MermaidLabels is Mermaid with flow labels taken from the BPMN model.
func MermaidLabels(sm *asl.StateMachine, cov *Coverage, labels Labels) string {
	g := &graph{cov: cov, labels: labels}
	g.line(0, "flowchart TD")
	if sm.Comment != "" {
		g.line(1, "%% "+oneLine(sm.Comment))
	}
	g.line(1, `start_(("start"))`)
	ids := g.scope(sm.States, 1)
	if id, ok := ids[sm.StartAt]; ok {
		g.edge("start_", id, "", "", false)
	}
	for _, e := range g.edges {
		g.b.WriteString(e)
	}
	g.styles()
	return g.b.String()
}

type graph struct {
	b      strings.Builder
	n      int
	edges  []string
	cov    *Coverage
	labels Labels

	reached, unreached         []string
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
			g.line(indent, id+"[/"+label+"/]")
		case asl.TypeSucceed:
			g.line(indent, id+"(["+label+"])")
		case asl.TypeFail:
			g.line(indent, id+"[["+label+"]]")
		default:
			g.line(indent, id+"["+label+"]")
		}
		g.mark(id, st.Comment)
	}
	for _, st := range states {
		from := ids[st.Name]
		for _, c := range st.Choices {
			g.edge(from, ids[c.Next], g.flowLabel(c.Comment, c.Condition), c.Comment, false)
		}
		if st.Default != "" {
			g.edge(from, ids[st.Default], "default", "", false)
		}
		for _, c := range st.Catch {
			g.edge(from, ids[c.Next], strings.Join(c.ErrorEquals, ", "), c.Comment, true)
		}
		if st.Next != "" {
			g.edge(from, ids[st.Next], "", "", false)
		}
	}
	return ids
}

// edge queues one edge; comment ("bpmn:<flow or element id>") drives the
// coverage style.
func (g *graph) edge(from, to, label, comment string, dashed bool) {
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
	id, ok := bpmnID(comment)
	if !ok {
		return
	}
	hits, known := g.cov.Flows[id]
	if !known {
		if h, isElem := g.cov.Elements[id]; isElem {
			hits, known = h, true
		}
	}
	if g.seenFlow == nil {
		g.seenFlow = map[string]bool{}
	}
	if !g.seenFlow[id] {
		g.seenFlow[id] = true
		g.flowTotal++
		if hits > 0 {
			g.flowHit++
		}
	}
	if hits > 0 {
		g.linkReached = append(g.linkReached, idx)
	} else {
		g.linkUnreached = append(g.linkUnreached, idx)
	}
}

func (g *graph) flowLabel(comment, cond string) string {
	if id, ok := bpmnID(comment); ok && g.labels != nil {
		if l := g.labels(id); l != "" {
			return truncate(l, 40)
		}
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
