package bpmn

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// histogram counts the model's elements with the keys the corpus manifest
// uses (computed there with bpmn-moddle), so the parser is checked against
// a reference reader element by element.
func histogram(d *Definitions) map[string]int {
	h := map[string]int{}
	for _, c := range d.Collaborations {
		h["participant"] += len(c.Participants)
		h["messageFlow"] += len(c.MessageFlows)
	}
	var scope func(s *Scope)
	scope = func(s *Scope) {
		for _, f := range s.Flows {
			h["sequenceFlow"]++
			if f.Condition != nil {
				h["sequenceFlow.conditional"]++
			}
			if f.IsDefault {
				h["defaultFlow"]++
			}
		}
		for _, n := range s.Nodes {
			if n.Kind == Unsupported {
				h[n.Tag]++
				continue
			}
			key := n.Kind.String()
			if n.Kind == SubProcess && n.TriggeredByEvent {
				key = "eventSubProcess"
			}
			h[key]++
			if n.Kind.IsEvent() {
				// As the manifest counts: each definition, plus "multiple"
				// for several, "none" for no definition.
				for _, e := range n.Events {
					h[key+"."+e.Kind.String()]++
				}
				switch len(n.Events) {
				case 0:
					h[key+".none"]++
				case 1:
				default:
					h[key+".multiple"]++
				}
			}
			if n.Kind == BoundaryEvent && !n.CancelActivity {
				h["boundaryEvent.nonInterrupting"]++
			}
			if l := n.Loop; l != nil {
				switch {
				case !l.MultiInstance:
					h["standardLoop"]++
				case l.IsSequential:
					h["multiInstance.sequential"]++
				default:
					h["multiInstance.parallel"]++
				}
			}
			if n.Sub != nil {
				scope(n.Sub)
			}
		}
	}
	for _, p := range d.Processes {
		for range p.Lanes {
			h["lane"]++
		}
		scope(&p.Scope)
	}
	return h
}

// compared lists the manifest keys the parser must reproduce exactly.
var compared = func() map[string]bool {
	m := map[string]bool{
		"participant": true, "messageFlow": true, "sequenceFlow": true, "sequenceFlow.conditional": true,
		"defaultFlow": true, "eventSubProcess": true, "boundaryEvent.nonInterrupting": true,
		"multiInstance.sequential": true, "multiInstance.parallel": true, "standardLoop": true,
	}
	for k := Kind(1); int(k) < len(kindNames); k++ {
		m[k.String()] = true
		if k.IsEvent() {
			for e := EventKind(0); e < UnknownEvent; e++ {
				m[k.String()+"."+e.String()] = true
			}
			m[k.String()+".multiple"] = true
		}
	}
	// The manifest does not count none boundary events (which are invalid
	// BPMN), and counts lanes differently (nested lane sets).
	delete(m, "boundaryEvent.none")
	return m
}()

// knownDifferences are files where the reference reader drops an element
// that the parser keeps, with the reason.
var knownDifferences = map[string][]string{
	// The event definition's id contains spaces (not an XML ID); moddle
	// drops the definition, the parser keeps it.
	"models/miwg/Bonita_BPM_7.2.3/A.3.0-export.bpmn": {"boundaryEvent.message"},
	// Event definitions declared in <definitions> and referenced with
	// <eventDefinitionRef>; moddle does not follow the reference.
	"models/miwg/MID_Innovator_15.1.1.11026/A.3.0-export.bpmn": {"boundaryEvent.escalation", "boundaryEvent.message"},
}

func TestCorpusHistogram(t *testing.T) {
	files := loadManifest(t)
	var checked, mismatched int
	for _, mf := range files {
		if !mf.WellFormed {
			continue
		}
		src, err := os.ReadFile(filepath.Join(corpusDir, mf.Path))
		if err != nil {
			t.Fatal(err)
		}
		defs, ds := Parse(mf.Path, src)
		if defs == nil {
			continue
		}
		dup := false
		for _, d := range ds {
			dup = dup || d.Code == "BPMN012"
		}
		if dup {
			continue // the reference reader merges duplicate ids
		}
		checked++
		got := histogram(defs)
		var diffs []string
		keys := map[string]bool{}
		for k := range got {
			keys[k] = true
		}
		for k := range mf.Histogram {
			keys[k] = true
		}
		for k := range keys {
			if compared[k] && got[k] != mf.Histogram[k] && !slices.Contains(knownDifferences[mf.Path], k) {
				diffs = append(diffs, k)
			}
		}
		if len(diffs) > 0 {
			mismatched++
			sort.Strings(diffs)
			var b strings.Builder
			for _, k := range diffs {
				b.WriteString(" " + k + "=" + itoa(got[k]) + "/" + itoa(mf.Histogram[k]))
			}
			t.Errorf("%s: parsed/reference counts differ:%s", mf.Path, b.String())
		}
	}
	t.Logf("element histogram equal to the reference reader's for %d of %d files", checked-mismatched, checked)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
