package emit

import (
	"fmt"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/structure"
)

// Structure renders what the structure stage learns about every scope of
// proc (start, sources, unreachable nodes, and the join of every split), one
// line per fact, for golden tests and `bpmn2asl graph` style debugging.
func Structure(defs *bpmn.Definitions, proc *bpmn.Process) string {
	e := &emitter{
		defs: defs, proc: proc,
		names: map[string]bool{}, subs: map[string]bool{},
		graphs: map[*bpmn.Scope]*structure.Analysis{}, gnodes: map[*bpmn.Node]*structure.Node{},
		reads: map[string]bool{}, writes: map[string]bool{}, locals: map[string]bool{}, active: map[*bpmn.Node]bool{},
		reported: map[string]bool{}, feelOK: map[string]string{},
	}
	var b strings.Builder
	var scope func(s *bpmn.Scope, id string)
	scope = func(s *bpmn.Scope, id string) {
		an := e.analyse(s, id)
		fmt.Fprintf(&b, "scope %s\n", id)
		switch {
		case an.Start != nil:
			fmt.Fprintf(&b, "  start %s\n", an.Start.ID)
		case len(an.Sources) > 0:
			var ids []string
			for _, n := range an.Sources {
				ids = append(ids, n.ID)
			}
			fmt.Fprintf(&b, "  sources %s\n", strings.Join(ids, " "))
		default:
			b.WriteString("  no start\n")
		}
		for _, gn := range an.Graph.Nodes {
			if !an.Reachable[gn] {
				fmt.Fprintf(&b, "  unreachable %s\n", gn.ID)
			}
		}
		for _, gn := range an.Graph.Nodes {
			if len(gn.Out) < 2 {
				continue
			}
			kind := gn.Kind.String()
			pd, exit, ok := an.PostDominator(gn)
			switch {
			case !ok:
				fmt.Fprintf(&b, "  split %s (%s): no path to an end\n", gn.ID, kind)
			case exit:
				fmt.Fprintf(&b, "  split %s (%s): branches end separately\n", gn.ID, kind)
			default:
				fmt.Fprintf(&b, "  split %s (%s): meets at %s (%s)\n", gn.ID, kind, pd.ID, pd.Kind)
			}
			if d := an.Default[gn]; d != nil {
				fmt.Fprintf(&b, "    default %s\n", d.ID)
			}
		}
		for _, n := range s.Nodes {
			if n.Sub != nil && !n.TriggeredByEvent {
				scope(n.Sub, n.ID)
			}
		}
	}
	scope(&proc.Scope, proc.ID)
	return b.String()
}
