package emit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/feel"
)

// isFEEL reports whether a mapping source or attribute is an expression
// ("=…") rather than a literal.
func isFEEL(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "=") }

// scanVariables collects the variables the process reads and writes.
func (e *emitter) scanVariables() {
	var cur *bpmn.Node
	first := map[string]*bpmn.Node{}
	read := func(src string) {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(src), "=")) == "" {
			return
		}
		names, err := feel.Names(src)
		if err != nil {
			return // reported where the expression is translated
		}
		for _, n := range names {
			e.reads[n] = true
			if first[n] == nil {
				first[n] = cur
			}
		}
	}
	e.proc.Walk(func(n *bpmn.Node) bool {
		cur = n
		for _, m := range n.Outputs {
			if t := rootName(m.Target); first[t] == nil {
				first[t] = n
			}
		}
		for _, f := range n.Outgoing {
			if f.Condition != nil {
				read(f.Condition.Text)
			}
		}
		for _, m := range n.Inputs {
			if isFEEL(m.Source) {
				read(m.Source)
			}
		}
		if u := n.UserTask; u != nil {
			for _, v := range []string{u.Assignee, u.CandidateGroups, u.CandidateUsers, u.DueDate, u.FollowUpDate} {
				if isFEEL(v) {
					read(v)
				}
			}
		}
		if n.Kind == bpmn.ScriptTask && isFEEL(n.Script) {
			read(n.Script)
		}
		for _, m := range n.Outputs {
			if isFEEL(m.Source) {
				read(m.Source)
			}
			e.writes[rootName(m.Target)] = true
		}
		if n.Loop != nil {
			l := n.Loop
			if l.InputCollection != "" {
				read(l.InputCollection)
			}
			if l.OutputCollection != "" {
				e.writes[l.OutputCollection] = true
			}
			if out := strings.TrimSpace(l.OutputElement); out != "" {
				// Read at the end of each iteration, e.g. the signature a
				// signer's task returned.
				if !isFEEL(out) {
					out = "=" + out
				}
				read(out)
			}
			if l.LoopCondition != nil {
				read(l.LoopCondition.Text)
			}
			if l.CompletionCondition != nil {
				read(l.CompletionCondition.Text)
			}
		}
		if m := messageOf(n); m != nil && m.CorrelationKey != "" && isFEEL(m.CorrelationKey) {
			read(m.CorrelationKey)
		}
		for _, ev := range n.Events {
			if ev.Timer != nil && isFEEL(ev.Timer.Text) {
				read(ev.Timer.Text)
			}
		}
		if n.ResultVariable != "" {
			e.writes[n.ResultVariable] = true
		}
		if n.Kind == bpmn.BoundaryEvent && n.EventKind() == bpmn.ErrorEvent {
			e.writes["error"] = true
		}
		if n.Kind.IsActivity() && len(n.Outputs) == 0 && n.Kind != bpmn.SubProcess && !n.Kind.IsSubProcess() {
			e.merges = true
		}
		return true
	})
	// Loop-local names are not process inputs.
	e.proc.Walk(func(n *bpmn.Node) bool {
		if n.Loop != nil && n.Loop.InputElement != "" {
			e.writes[n.Loop.InputElement] = true
			e.locals[n.Loop.InputElement] = true
		}
		return true
	})
	var names []string
	for v := range first {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		if jsonataFunctions[v] {
			n := first[v]
			var el *bpmn.Element = &e.proc.Element
			if n != nil {
				el = &n.Element
			}
			e.report(diag.BadMapping, el, bpmn.Pos{}, fmt.Sprintf("rename the variable (e.g. %sValue): in JSONata $%s is a built-in function that the variable would hide", v, v),
				"variable %q has the name of the JSONata function $%s", v, v)
		}
	}
	if !e.merges {
		for _, v := range e.sortedReads() {
			if !e.writes[v] && !slices.Contains(standardInputs, v) {
				el := &e.proc.Element
				if n := first[v]; n != nil {
					el = &n.Element
				}
				e.report(diag.UnknownVariable, el, bpmn.Pos{},
					"pass it in the execution input (the application form), or write it with an output mapping of an earlier task",
					"variable %q is read but no task writes it and it is not a standard input (applicationId, service, citizen, form)", v)
			}
		}
	}
}

func (e *emitter) sortedReads() []string {
	var out []string
	for v := range e.reads {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// rootName returns the first segment of a mapping target "a.b.c".
func rootName(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.IndexByte(t, '.'); i >= 0 {
		return t[:i]
	}
	return t
}

func messageOf(n *bpmn.Node) *bpmn.Message {
	if n.Message != nil {
		return n.Message
	}
	if ev := n.Event(); ev != nil && ev.Kind == bpmn.MessageEvent {
		return ev.Message
	}
	return nil
}

// translate turns FEEL into JSONata text. pos is where the expression text
// starts in the file (for the column of errors); attrOffset is added to the
// column on the first line (the length of `name="` for attributes).
func (e *emitter) translate(src string, el *bpmn.Element, pos bpmn.Pos, what string) (string, bool) {
	return e.translateWith(feel.Translate, "", src, el, pos, what)
}

// translateCond translates a condition: FEEL's rule (only true is true,
// null and non-booleans are false) rather than JSONata's truthiness.
func (e *emitter) translateCond(src string, el *bpmn.Element, pos bpmn.Pos, what string) (string, bool) {
	return e.translateWith(feel.TranslateCondition, "cond:", src, el, pos, what)
}

func (e *emitter) translateWith(tr func(string) (string, error), kind, src string, el *bpmn.Element, pos bpmn.Pos, what string) (string, bool) {
	if j, ok := e.feelOK[kind+src]; ok {
		return j, true
	}
	if t := strings.TrimSpace(src); (strings.HasPrefix(t, "${") || strings.HasPrefix(t, "#{")) && strings.HasSuffix(t, "}") {
		d := e.report(diag.FEELUnsupported, el, pos,
			fmt.Sprintf("write the FEEL form, e.g. =%s", juelToFEEL(strings.TrimSpace(t[2:len(t)-1]))),
			"%s %q is a Camunda 7 (JUEL) expression; Posluha reads FEEL (Camunda 8), which starts with '='", what, t)
		d.Notes = append(d.Notes, diag.Note{Message: "JUEL's ==, &&, || and ! are FEEL's =, and, or and not(…)"})
		return "", false
	}
	j, err := tr(src)
	if err == nil {
		e.feelOK[kind+src] = j
		return j, true
	}
	var fe *feel.Error
	at := pos
	msg := err.Error()
	hint := "see the supported FEEL subset in docs/ (paths, comparisons, and/or, if/then/else, lists, string and date functions)"
	if errors.As(err, &fe) {
		msg = fe.Msg
		if fe.Hint != "" {
			hint = fe.Hint
		}
		if pos.Line != 0 && fe.Line > 0 {
			at = e.advance(pos, fe.Line, fe.Column)
		}
	}
	code := diag.FEELSyntax
	if strings.Contains(strings.ToLower(msg), "not supported") || strings.Contains(strings.ToLower(msg), "unsupported") {
		code = diag.FEELUnsupported
	}
	d := e.report(code, el, at, hint, "%s %q: %s", what, strings.TrimSpace(src), msg)
	if fe != nil {
		d.Notes = append(d.Notes, diag.Note{Message: fmt.Sprintf("at line %d, column %d of the expression", fe.Line, fe.Column)})
	}
	return "", false
}

// nullSafe wraps a JSONata expression so it yields null instead of
// undefined (Step Functions rejects undefined in Assign and Arguments).
func nullSafe(j string) string {
	if isPath(j) {
		return fmt.Sprintf("$exists(%s) ? %s : null", j, j)
	}
	return fmt.Sprintf("($_v := (%s); $exists($_v) ? $_v : null)", j)
}

// isPath reports whether j is a plain variable path ($a.b.c).
func isPath(j string) bool {
	if !strings.HasPrefix(j, "$") || len(j) < 2 {
		return false
	}
	for _, r := range j[1:] {
		if !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// validVar reports whether name can be an ASL variable / JSONata $name.
func validVar(name string) bool {
	if name == "" || name == "states" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// processVars are the process variables besides the standard inputs:
// every variable the diagram reads or writes, except multi-instance input
// elements (local to an iteration), sorted.
func (e *emitter) processVars() []string {
	var out []string
	for v := range e.reads {
		out = append(out, v)
	}
	for v := range e.writes {
		if !e.reads[v] {
			out = append(out, v)
		}
	}
	out = slices.DeleteFunc(out, func(v string) bool {
		return e.locals[v] && !e.reads[v] || slices.Contains(standardInputs, v) || !validVar(v)
	})
	sort.Strings(out)
	return out
}

// finalOutput is the Output of the execution's successful end: the
// application id and the process variables (a call activity's parent reads
// its output mappings from it).
func (e *emitter) finalOutput() *asl.Object {
	o := asl.NewObject("applicationId", asl.Expr("$applicationId"))
	for _, v := range e.processVars() {
		if e.locals[v] {
			continue
		}
		o.Set(v, asl.Expr("$"+v))
	}
	return o
}

// inputAssign is the start state's Assign: the standard inputs and every
// process variable, from the execution input or null.
func (e *emitter) inputAssign() *asl.Object {
	o := &asl.Object{}
	o.Set("applicationId", asl.Expr("$exists($states.input.applicationId) ? $states.input.applicationId : $states.context.Execution.Name"))
	o.Set("service", asl.Expr(fmt.Sprintf("$exists($states.input.service) ? $states.input.service : %s", jsonString(e.opts.Service))))
	o.Set("citizen", asl.Expr("$exists($states.input.citizen) ? $states.input.citizen : null"))
	o.Set("form", asl.Expr("$exists($states.input.form) ? $states.input.form : {}"))
	for _, v := range e.processVars() {
		if e.locals[v] {
			continue
		}
		o.Set(v, asl.Expr(fmt.Sprintf("$exists($states.input.%[1]s) ? $states.input.%[1]s : ($exists($states.input.form.%[1]s) ? $states.input.form.%[1]s : null)", v)))
	}
	return o
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// advance returns the file position of the character at (line, col) of an
// expression whose first character is at start. With the source at hand it
// walks the XML text, so that a character reference (&gt;, &#34;) counts
// as one character; otherwise it adds the columns.
func (e *emitter) advance(start bpmn.Pos, line, col int) bpmn.Pos {
	fallback := bpmn.Pos{Line: start.Line + line - 1, Col: col}
	if line == 1 {
		fallback = bpmn.Pos{Line: start.Line, Col: start.Col + col - 1}
	}
	src := e.opts.Source
	if len(src) == 0 || !utf8.Valid(src) {
		return fallback
	}
	// Find the byte offset of start.
	off, l := 0, 1
	for l < start.Line && off < len(src) {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return fallback
		}
		off += i + 1
		l++
	}
	c := 1
	for c < start.Col && off < len(src) {
		_, size := utf8.DecodeRune(src[off:])
		off += size
		c++
	}
	// Walk the expression's characters.
	curL, curC := 1, 1
	fileL, fileC := start.Line, start.Col
	for off < len(src) && (curL < line || curL == line && curC < col) {
		r, size := utf8.DecodeRune(src[off:])
		if r == '&' {
			if j := bytes.IndexByte(src[off:min(off+12, len(src))], ';'); j > 0 {
				size = j + 1
			}
		}
		if r == '\n' {
			curL++
			curC = 1
			fileL++
			fileC = 1
		} else {
			curC++
			fileC += utf8.RuneCount(src[off : off+size])
		}
		off += size
	}
	return bpmn.Pos{Line: fileL, Col: fileC}
}

// jsonataFunctions are the JSONata 2.0 and Step Functions built-in function
// names; a process variable of the same name would shadow the function in
// every expression of the state machine.
var jsonataFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`sum count max min average string substring substringBefore
	substringAfter lowercase uppercase length trim pad contains split join match replace now
	millis formatNumber formatBase formatInteger parseInteger number abs floor ceil round power
	sqrt random boolean not exists keys lookup spread merge sift each error assert type sort
	reverse shuffle distinct zip append map filter single reduce base64encode base64decode
	encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl eval toMillis fromMillis clone
	partition range hash uuid parse states`) {
		m[f] = true
	}
	return m
}()

// juelToFEEL rewrites the common JUEL operators for a hint (not a
// translation: the analyst checks it).
func juelToFEEL(s string) string {
	s = strings.NewReplacer("&&", " and ", "||", " or ", "==", "=", "'", "\"").Replace(s)
	if strings.HasPrefix(s, "!") && !strings.HasPrefix(s, "!=") {
		s = "not(" + strings.TrimSpace(s[1:]) + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}
