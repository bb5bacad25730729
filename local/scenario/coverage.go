package scenario

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// Coverage counts how often the scenarios reached each element and
// sequence flow of the process. Every element and flow of the process is
// listed, unreached ones with 0, so the file answers "what did no
// scenario test". Its JSON form is the design's contract with
// `bpmn2asl graph --coverage`.
type Coverage struct {
	Elements map[string]int `json:"elements"`
	Flows    map[string]int `json:"flows"`
}

func newCoverage(m *model) *Coverage {
	c := &Coverage{Elements: map[string]int{}, Flows: map[string]int{}}
	var scope func(s *bpmn.Scope)
	scope = func(s *bpmn.Scope) {
		for _, n := range s.Nodes {
			c.Elements[n.ID] = 0
			if n.Sub != nil {
				scope(n.Sub)
			}
		}
		for _, f := range s.Flows {
			c.Flows[f.ID] = 0
		}
	}
	scope(&m.proc.Scope)
	return c
}

func (c *Coverage) add(path []Step) {
	for _, s := range path {
		c.Elements[s.ID]++
		for _, f := range strings.Fields(s.Flow) {
			c.Flows[f]++
		}
	}
}

// Merge adds another coverage's counts.
func (c *Coverage) Merge(o *Coverage) {
	for k, v := range o.Elements {
		c.Elements[k] += v
	}
	for k, v := range o.Flows {
		c.Flows[k] += v
	}
}

// Unreached lists the elements and flows no scenario reached, sorted.
func (c *Coverage) Unreached() (elements, flows []string) {
	for k, v := range c.Elements {
		if v == 0 {
			elements = append(elements, k)
		}
	}
	for k, v := range c.Flows {
		if v == 0 {
			flows = append(flows, k)
		}
	}
	sort.Strings(elements)
	sort.Strings(flows)
	return elements, flows
}

// Percent returns the share of elements and of flows reached.
func (c *Coverage) Percent() (elements, flows float64) {
	pct := func(m map[string]int) float64 {
		if len(m) == 0 {
			return 100
		}
		n := 0
		for _, v := range m {
			if v > 0 {
				n++
			}
		}
		return 100 * float64(n) / float64(len(m))
	}
	return pct(c.Elements), pct(c.Flows)
}

// WriteFile writes the coverage as indented JSON (keys sorted).
func (c *Coverage) WriteFile(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode coverage: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write coverage: %w", err)
	}
	return nil
}
