package structure

import (
	"slices"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// build makes a graph from "a:kind" node specs and "a>b" (or "a>b?" for a
// conditional flow) edges; "h@b" attaches boundary b to h.
func build(nodes string, edges string) (*Graph, map[string]*Node) {
	g := NewGraph("P")
	byID := map[string]*Node{}
	kinds := map[string]Kind{"start": Start, "end": End, "task": Activity, "xor": ExclusiveGateway, "and": ParallelGateway, "or": InclusiveGateway, "boundary": Boundary}
	for _, spec := range strings.Fields(nodes) {
		id, k, _ := strings.Cut(spec, ":")
		byID[id] = g.AddNode(&Node{ID: id, Kind: kinds[k]})
	}
	for _, e := range strings.Fields(edges) {
		if h, b, ok := strings.Cut(e, "@"); ok {
			g.Attach(byID[b], byID[h])
			continue
		}
		if from, to, ok := strings.Cut(e, "~"); ok {
			g.Jump(byID[from], byID[to])
			continue
		}
		cond := strings.HasSuffix(e, "?")
		e = strings.TrimSuffix(e, "?")
		a, b, _ := strings.Cut(e, ">")
		g.Connect(&Flow{ID: a + "_" + b, Source: byID[a], Target: byID[b], HasCondition: cond})
	}
	return g, byID
}

func codes(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		id := ""
		if p.Node != nil {
			id = p.Node.ID
		}
		out = append(out, string(p.Code)+":"+id)
	}
	slices.Sort(out)
	return out
}

func TestAnalyzeProblems(t *testing.T) {
	tests := []struct {
		name, nodes, edges string
		want               []string
	}{
		{"sequence", "s:start a:task e:end", "s>a a>e", nil},
		{"unreachable", "s:start a:task x:task e:end", "s>a a>e x>e", []string{"BPMN103:x"}},
		{"two starts", "s:start t:start a:task e:end", "s>a t>a a>e", []string{"BPMN101:s"}},
		{"endless loop", "s:start a:task b:task", "s>a a>b b>a", []string{"BPMN110:a", "BPMN110:b", "BPMN110:s"}},
		{"conditionless split", "s:start g:xor a:task b:task e:end", "s>g g>a g>b a>e b>e", []string{"BPMN104:g"}},
		{"single bare flow is default", "s:start g:xor a:task b:task e:end", "s>g g>a? g>b a>e b>e", []string{"BPMN104:g"}},
		{"gateway dead end", "s:start g:xor", "s>g", []string{"BPMN106:g"}},
		{"sources start together", "a:task b:task e:end", "a>e b>e", []string{"BPMN100:a"}},
		{"boundary path reachable", "s:start a:task x:boundary b:task e:end", "s>a a>e a@x x>b b>e", nil},
		{"boundary without flows ends", "s:start a:task x:boundary e:end", "s>a a>e a@x", nil},
		{"link events", "s:start a:task lt:task lc:task b:task e:end", "s>a a>lt lt~lc lc>b b>e", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := build(tc.nodes, tc.edges)
			_, ps := Analyze(g)
			if got := codes(ps); !slices.Equal(got, tc.want) {
				t.Errorf("Analyze problems = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSeverities(t *testing.T) {
	g, _ := build("s:start g:xor a:task b:task e:end", "s>g g>a? g>b a>e b>e")
	_, ps := Analyze(g)
	if len(ps) != 1 || ps[0].Severity != diag.Warning {
		t.Fatalf("single bare flow: want one warning, got %+v", ps)
	}
	g, _ = build("a:task b:task e:end", "a>e b>e")
	_, ps = Analyze(g)
	if len(ps) != 1 || ps[0].Severity != diag.Warning {
		t.Fatalf("no start event, several sources: want one warning, got %+v", ps)
	}
}

func TestPostDominator(t *testing.T) {
	tests := []struct {
		name, nodes, edges, split string
		join                      string // "" = exit, "-" = none
	}{
		{"block", "s:start f:and a:task b:task j:and e:end", "s>f f>a f>b a>j b>j j>e", "f", "j"},
		{"nested", "s:start f:and g:and a:task b:task k:and c:task j:and e:end",
			"s>f f>g f>c g>a g>b a>k b>k k>j c>j j>e", "f", "j"},
		{"branches end apart", "s:start f:and a:task b:task e1:end e2:end", "s>f f>a f>b a>e1 b>e2", "f", ""},
		{"exception path ignored", "s:start f:and a:task b:task j:and e:end x:boundary e2:end",
			"s>f f>a f>b a>j b>j j>e a@x x>e2", "f", "j"},
		{"loop inside branch", "s:start f:and a:task g:xor b:task j:and e:end",
			"s>f f>a f>b a>g g>a? g>j b>j j>e", "f", "j"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, by := build(tc.nodes, tc.edges)
			a, _ := Analyze(g)
			pd, exit, ok := a.PostDominator(by[tc.split])
			got := "-"
			switch {
			case !ok:
			case exit:
				got = ""
			default:
				got = pd.ID
			}
			if got != tc.join {
				t.Errorf("PostDominator(%s) = %q, want %q", tc.split, got, tc.join)
			}
		})
	}
}
