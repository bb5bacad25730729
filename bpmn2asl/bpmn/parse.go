package bpmn

import (
	"fmt"
	"runtime/debug"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Parse reads one BPMN file. file is used in positions and diagnostics
// only. The diagnostics are sorted. The result is nil only when the file is
// not well-formed XML or not a BPMN 2.0 document; otherwise it is usable
// (as far as references resolved) even when there are errors.
//
// Parse never panics: an internal failure is reported as BPMN999.
func Parse(file string, src []byte) (defs *Definitions, ds []diag.Diagnostic) {
	defer func() {
		if r := recover(); r != nil {
			defs = nil
			ds = []diag.Diagnostic{{
				Severity: diag.Error, Code: diag.Internal, File: file,
				Message: fmt.Sprintf("internal error while parsing: %v", r),
				Hint:    "this is a compiler bug; please report it with the file",
				Notes:   []diag.Note{{Message: string(debug.Stack())}},
			}}
		}
	}()
	return parse(file, src)
}

func parse(file string, src []byte) (*Definitions, []diag.Diagnostic) {
	b := &builder{defs: &Definitions{File: file}}
	fail := func(code diag.Code, pos Pos, msg, hint string) (*Definitions, []diag.Diagnostic) {
		b.log.Add(diag.Diagnostic{Severity: diag.Error, Code: code, File: file, Line: pos.Line, Col: pos.Col, Message: msg, Hint: hint})
		return nil, b.log.Done()
	}
	if len(src) > maxBytes {
		return fail(diag.TooDeep, Pos{Line: 1, Col: 1}, fmt.Sprintf("the file is %d bytes; the limit is %d", len(src), maxBytes), "")
	}
	norm, derr := normalise(src)
	if derr != nil {
		return fail(diag.BadEncoding, Pos{Line: 1, Col: 1}, derr.msg, derr.hint)
	}
	ln := newLines(norm)
	if off, msg := checkDeclaration(norm); off >= 0 {
		return fail(diag.MalformedXML, ln.pos(off), "malformed XML: "+msg, "")
	}
	root, hasDI, undeclared, derr := readDOM(norm, ln)
	if derr != nil {
		code := diag.MalformedXML
		if derr.tooDeep {
			code = diag.TooDeep
		}
		return fail(code, derr.pos, derr.msg, derr.hint)
	}
	if !root.is(NSModel, "definitions") {
		ns := root.space
		if ns == "" {
			ns = "no namespace"
		}
		return fail(diag.NotBPMN, root.pos,
			fmt.Sprintf("root element <%s> (%s) is not BPMN 2.0 <definitions>", qname(root.prefix, root.local), ns),
			"the root must be <definitions xmlns=\""+NSModel+"\">; export the model as BPMN 2.0 XML")
	}
	seen := map[string]bool{}
	for _, u := range undeclared {
		if seen[u.prefix] {
			continue // once per prefix is enough
		}
		seen[u.prefix] = true
		b.log.Add(diag.Diagnostic{Severity: diag.Warning, Code: diag.UndeclaredPrefix, File: file, Line: u.pos.Line, Col: u.pos.Col,
			Message: fmt.Sprintf("namespace prefix %q is not declared; read as %s", u.prefix, wellKnownPrefix[u.prefix]),
			Hint:    fmt.Sprintf("declare xmlns:%s on <definitions>", u.prefix)})
	}
	b.defs.HasDiagram = hasDI
	b.definitions(root)
	b.resolve()
	return b.defs, b.log.Done()
}
