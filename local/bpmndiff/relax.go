package bpmndiff

import (
	"bytes"
	"regexp"
	"sort"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// Relax returns a copy of a BPMN file in which every non-default sequence
// flow leaving an exclusive or inclusive gateway carries the FEEL
// condition "=false", replacing whatever condition (or none) it had;
// only when the gateway has no default flow, its first flow gets "=true"
// instead, which is what bpmn-engine takes when nothing says otherwise.
// (The differential test forces decisions through the scenario; these
// conditions matter only where the scenario names no flow.)
//
// Many models of the corpus were drawn for documentation, not execution:
// their decisions have no conditions (BPMN104) or conditions in another
// language (JUEL, BPMN300/301), so the compiler rightly rejects them. The
// differential test forces every decision from the scenario anyway, so
// for those models it compiles the relaxed copy to still compare the
// structure the compiler builds. Relax works on the text so that
// everything else stays byte for byte as written.
func Relax(src []byte, defs *bpmn.Definitions) []byte {
	var edits []edit
	for _, p := range defs.Processes {
		p.Walk(func(n *bpmn.Node) bool {
			if n.Kind != bpmn.ExclusiveGateway && n.Kind != bpmn.InclusiveGateway {
				return true
			}
			if len(n.Outgoing) < 2 {
				return true
			}
			for i, f := range n.Outgoing {
				if f.IsDefault {
					continue
				}
				cond := "=false"
				if i == 0 && n.Default == nil {
					cond = "=true"
				}
				if e, ok := conditionEdit(src, f.ID, cond); ok {
					edits = append(edits, e)
				}
			}
			return true
		})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), src...)
	last := len(out) + 1
	for _, e := range edits {
		if e.end > last { // overlapping: leave it
			continue
		}
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
		last = e.start
	}
	return out
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

var condRE = regexp.MustCompile(`(?s)<([A-Za-z0-9_.-]+:)?conditionExpression\b[^>]*?(/>|>.*?</([A-Za-z0-9_.-]+:)?conditionExpression\s*>)`)

// conditionEdit finds the sequence flow with the given id and returns the
// edit that gives it the condition expr.
func conditionEdit(src []byte, id, expr string) (edit, bool) {
	var none edit
	idx := -1
	for _, q := range []string{`id="` + id + `"`, `id='` + id + `'`} {
		if i := bytes.Index(src, []byte(q)); i >= 0 {
			idx = i
			break
		}
	}
	if idx < 0 {
		return none, false
	}
	open := bytes.LastIndexByte(src[:idx], '<')
	if open < 0 {
		return none, false
	}
	// The tag name and its prefix.
	nameEnd := open + 1
	for nameEnd < len(src) && src[nameEnd] != ' ' && src[nameEnd] != '\t' && src[nameEnd] != '\n' && src[nameEnd] != '\r' {
		nameEnd++
	}
	tag := string(src[open+1 : nameEnd])
	prefix := ""
	if i := bytes.IndexByte([]byte(tag), ':'); i >= 0 {
		prefix = tag[:i+1]
	}
	// The end of the start tag, skipping quoted attribute values.
	end, quote := -1, byte(0)
	for i := nameEnd; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			end = i
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return none, false
	}
	cond := "<" + prefix + "conditionExpression>" + expr + "</" + prefix + "conditionExpression>"
	if src[end-1] == '/' {
		return struct {
			start, end int
			text       string
		}{end - 1, end + 1, ">" + cond + "</" + tag + ">"}, true
	}
	closeTag := []byte("</" + tag)
	body := src[end+1:]
	stop := bytes.Index(body, closeTag)
	if stop < 0 {
		return none, false
	}
	inner := body[:stop]
	if loc := condRE.FindIndex(inner); loc != nil {
		return struct {
			start, end int
			text       string
		}{end + 1 + loc[0], end + 1 + loc[1], cond}, true
	}
	return edit{end + 1, end + 1, cond}, true
}
