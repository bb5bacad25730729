package bpmn2asl

import (
	"fmt"
	"runtime/debug"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/emit"
)

// Options configure one compilation.
type Options struct {
	// Service is the service id (the folder name under statemachines/);
	// it is sent to every task as "service".
	Service string
	// AllowUnknownTaskTypes compiles a task type that is not ours (e.g. a
	// Zeebe job type from another project) as a custom function of that
	// name, with a warning instead of an error. For surveying foreign
	// models; services never set it.
	AllowUnknownTaskTypes bool
	// Process selects the process to compile when the file holds several
	// (a collaboration). Empty means: the only executable process with flow
	// elements, else the first process with flow elements.
	Process string
}

// Result is a compiled state machine.
type Result struct {
	// ASL is the definition as indented, deterministic JSON.
	ASL []byte
	// Definition is the same definition as a model.
	Definition *asl.StateMachine
	// ProcessID is the id of the compiled process.
	ProcessID string
	// Substitutions are the DefinitionSubstitutions names the definition
	// uses (e.g. RegistryReadFunctionArn), sorted.
	Substitutions []string
}

// Compile turns one BPMN file into an ASL definition. The diagnostics are
// sorted; Result is nil when any of them is an error. Compile never panics:
// an internal failure becomes a BPMN999 diagnostic.
func Compile(file string, src []byte, opts Options) (res *Result, ds []diag.Diagnostic) {
	defer func() {
		if r := recover(); r != nil {
			res = nil
			ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.Internal, File: file,
				Message: fmt.Sprintf("internal compiler error: %v", r),
				Hint:    "please report this with the BPMN file",
				Notes:   []diag.Note{{Message: string(debug.Stack())}}})
			diag.Sort(ds)
		}
	}()
	var list diag.List
	defs, pds := bpmn.Parse(file, src)
	list.AddAll(pds)
	if defs == nil || fatal(pds) {
		return nil, list.Done()
	}
	proc := pickProcess(defs, opts, &list, pds)
	if proc == nil {
		return nil, list.Done()
	}
	sm, subs, eds := emit.Process(defs, proc, emit.Options{Service: opts.Service, Source: src, AllowUnknownTaskTypes: opts.AllowUnknownTaskTypes})
	list.AddAll(eds)
	if list.HasErrors() || sm == nil {
		return nil, list.Done()
	}
	out, err := asl.Marshal(sm)
	if err != nil {
		list.Add(diag.Diagnostic{Severity: diag.Error, Code: diag.Internal, File: file, Message: "marshal definition: " + err.Error()})
		return nil, list.Done()
	}
	for _, p := range asl.Check(sm, len(out)) {
		d := diag.Diagnostic{Severity: diag.Error, Code: diag.DefinitionTooLarge, File: file, Message: p.String(),
			Hint: "split the process into smaller ones linked by call activities"}
		if id, ok := elementOf(p.Comment); ok {
			if n := defs.Node(id); n != nil {
				d.ElementID, d.ElementName, d.Line, d.Col = n.ID, n.Name, n.Pos.Line, n.Pos.Col
			}
		}
		list.Add(d)
	}
	if list.HasErrors() {
		return nil, list.Done()
	}
	return &Result{ASL: out, Definition: sm, ProcessID: proc.ID, Substitutions: subs}, list.Done()
}

// fatal reports whether the parser's errors leave a model the later stages
// cannot trust; other errors (a dangling flow, an unresolved reference)
// still let structure and emit report their problems in the same run.
func fatal(ds []diag.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity != diag.Error {
			continue
		}
		switch d.Code {
		case diag.MalformedXML, diag.NotBPMN, diag.BadEncoding, diag.TooDeep, diag.DuplicateID, diag.MissingID, diag.Internal:
			return true
		}
	}
	return false
}

func elementOf(comment string) (string, bool) {
	const prefix = "bpmn:"
	if len(comment) > len(prefix) && comment[:len(prefix)] == prefix {
		return comment[len(prefix):], true
	}
	return "", false
}

// pickProcess chooses the process to compile.
func pickProcess(defs *bpmn.Definitions, opts Options, list *diag.List, parsed []diag.Diagnostic) *bpmn.Process {
	if opts.Process != "" {
		if p := defs.Process(opts.Process); p != nil {
			return p
		}
		list.Add(diag.Diagnostic{Severity: diag.Error, Code: diag.NoProcess, File: defs.File,
			Message: fmt.Sprintf("the file has no process with id %q", opts.Process)})
		return nil
	}
	var withNodes, executable []*bpmn.Process
	for _, p := range defs.Processes {
		if len(p.Nodes) == 0 {
			continue
		}
		withNodes = append(withNodes, p)
		if p.IsExecutable {
			executable = append(executable, p)
		}
	}
	switch {
	case len(executable) == 1:
		return executable[0]
	case len(withNodes) > 0:
		return withNodes[0]
	}
	for _, d := range parsed {
		if d.Code == diag.NoProcess || d.Code == diag.NoFlowElements {
			return nil // the parser said so already
		}
	}
	d := defs.Diag(diag.NoFlowElements, &defs.Element, "", "no process in the file has flow elements")
	d.Hint = "draw the process (start event, tasks, end event) inside a pool or as a plain process"
	list.Add(d)
	return nil
}
