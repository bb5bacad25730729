// Package bpmndiff is the differential test of the BPMN compiler against
// the reference BPMN engine (npm bpmn-engine): a reference trace lists the
// activities bpmn-engine ran for a scenario (which flow each gateway takes
// per visit, which boundary event fires); Run compiles the same model,
// runs it in the local Step Functions engine under the same scenario and
// Match compares the activities the execution history shows (mapped back
// through the states' "bpmn:<id>" Comments) with the trace: the same
// activities, each parallel branch in order, branches interleaved freely.
//
// The scenario is forced on the engine by rewriting the compiled
// definition (see rewrite.go): every exclusive gateway's Choice first asks
// the test invoker which flow this visit takes, every activity becomes a
// callback task the invoker answers at once, fails with the error of a
// firing error boundary, or leaves unanswered so that a firing timer
// boundary's timeout or race wins on the virtual clock.
package bpmndiff

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Scenario is the reference oracle's scenario (conformance/bpmn/tools/trace.mjs).
type Scenario struct {
	Process string `json:"process"`
	// Choices: gateway id → the flow taken on each visit (a string, or a
	// list of flows for an inclusive gateway).
	Choices map[string][]json.RawMessage `json:"choices"`
	// Boundary: activity id → on each visit, the boundary event that fires
	// (null: none).
	Boundary map[string][]*string `json:"boundary"`
}

// Case is one scenario with its reference trace.
type Case struct {
	Scenario Scenario        `json:"scenario"`
	Status   string          `json:"status"`
	Trace    json.RawMessage `json:"trace"`
}

// item is a node of a normalised trace: an activity, or parallel branches.
type item struct {
	id       string
	branches [][]item
}

// Normalise turns a reference trace into a sequence of activities and
// parallel blocks: sub-processes are replaced by their body, loops by
// their iterations (a count repeats the activity), empty branches dropped.
func Normalise(raw []any) []item {
	var out []item
	for _, it := range raw {
		switch v := it.(type) {
		case string:
			out = append(out, item{id: v})
		case map[string]any:
			switch {
			case v["subProcess"] != nil:
				body, _ := v["body"].([]any)
				out = append(out, Normalise(body)...)
			case v["loop"] != nil:
				id, _ := v["loop"].(string)
				switch its := v["iterations"].(type) {
				case float64:
					for range int(its) {
						out = append(out, item{id: id})
					}
				case []any:
					for _, one := range its {
						if l, ok := one.([]any); ok {
							out = append(out, Normalise(l)...)
						} else {
							out = append(out, Normalise([]any{one})...)
						}
					}
				}
			case v["parallel"] != nil:
				brs, _ := v["parallel"].([]any)
				var keep [][]item
				for _, b := range brs {
					bl, _ := b.([]any)
					if n := Normalise(bl); len(n) > 0 {
						keep = append(keep, n)
					}
				}
				switch len(keep) {
				case 0:
				case 1:
					out = append(out, keep[0]...)
				default:
					out = append(out, item{branches: keep})
				}
			}
		}
	}
	return out
}

// Counts returns, per loop or multi-instance activity of a raw trace, how
// many iterations it ran (the first occurrence wins).
func Counts(raw []any, out map[string]int) {
	for _, it := range raw {
		v, ok := it.(map[string]any)
		if !ok {
			continue
		}
		if id, ok := v["loop"].(string); ok {
			if _, seen := out[id]; !seen {
				switch its := v["iterations"].(type) {
				case float64:
					out[id] = int(its)
				case []any:
					out[id] = len(its)
				}
			}
		}
		for _, k := range []string{"body", "iterations", "parallel"} {
			if l, ok := v[k].([]any); ok {
				var flat []any
				for _, x := range l {
					if xl, ok := x.([]any); ok {
						flat = append(flat, xl...)
					} else {
						flat = append(flat, x)
					}
				}
				Counts(flat, out)
			}
		}
	}
}

// String prints a normalised trace: a, (b c | d), e.
func String(items []item) string {
	var parts []string
	for _, it := range items {
		if it.branches == nil {
			parts = append(parts, it.id)
			continue
		}
		var brs []string
		for _, b := range it.branches {
			brs = append(brs, String(b))
		}
		parts = append(parts, "("+strings.Join(brs, " | ")+")")
	}
	return strings.Join(parts, " ")
}

// cursor is a position in a sequence of items; inside a parallel block it
// holds a cursor per branch.
type cursor struct {
	i   int
	par []cursor
}

func (c cursor) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", c.i)
	if c.par != nil {
		b.WriteByte('[')
		for _, p := range c.par {
			b.WriteString(p.key())
			b.WriteByte(',')
		}
		b.WriteByte(']')
	}
	return b.String()
}

// settle enters a parallel block at the cursor (or skips it when every
// branch is already done).
func settle(items []item, c cursor) cursor {
	for c.i < len(items) && items[c.i].branches != nil && c.par == nil {
		c.par = make([]cursor, len(items[c.i].branches))
		for b := range c.par {
			c.par[b] = settle(items[c.i].branches[b], cursor{})
		}
		if !allDone(items[c.i].branches, c.par) {
			break
		}
		c = cursor{i: c.i + 1}
	}
	return c
}

func done(items []item, c cursor) bool { return c.i >= len(items) }

func allDone(brs [][]item, cs []cursor) bool {
	for b := range brs {
		if !done(brs[b], cs[b]) {
			return false
		}
	}
	return true
}

// advance returns the cursors reached by consuming activity a.
func advance(items []item, c cursor, a string) []cursor {
	if c.i >= len(items) {
		return nil
	}
	it := items[c.i]
	if it.branches == nil {
		if it.id != a {
			return nil
		}
		return []cursor{settle(items, cursor{i: c.i + 1})}
	}
	var out []cursor
	for b := range it.branches {
		for _, nb := range advance(it.branches[b], c.par[b], a) {
			par := append([]cursor(nil), c.par...)
			par[b] = nb
			if allDone(it.branches, par) {
				out = append(out, settle(items, cursor{i: c.i + 1}))
			} else {
				out = append(out, cursor{i: c.i, par: par})
			}
		}
	}
	return out
}

// Match reports whether the activities an execution ran (in history
// order) are an interleaving of the reference: the same activities, each
// parallel branch in its order. When they are not, it says where they
// part.
func Match(ref []item, got []string) (bool, string) {
	states := []cursor{settle(ref, cursor{})}
	for n, a := range got {
		seen := map[string]bool{}
		var next []cursor
		for _, c := range states {
			for _, nc := range advance(ref, c, a) {
				if k := nc.key(); !seen[k] {
					seen[k] = true
					next = append(next, nc)
				}
			}
		}
		if len(next) == 0 {
			return false, fmt.Sprintf("activity #%d %q is not expected there", n+1, a)
		}
		states = next
	}
	for _, c := range states {
		if done(ref, c) {
			return true, ""
		}
	}
	return false, "the execution stopped before the reference's end"
}
