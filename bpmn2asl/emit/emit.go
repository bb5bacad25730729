// Package emit turns one BPMN process into an ASL state machine (JSONata
// query language, process variables as ASL Variables). The patterns it
// uses are documented for analysts in package bpmn2asl (doc.go).
//
// Passes:
//
//  1. Scopes: every scope (the process and each embedded sub-process) is
//     converted to a structure.Graph and analysed (start, reachability,
//     termination, split conditions, post-dominators). Problems become
//     diagnostics; emission goes on so that one run reports everything.
//  2. Variables: every FEEL expression of the process is scanned
//     (feel.Names) for the variables it reads; ioMapping, multi-instance,
//     script and error-boundary targets are the variables it writes. The
//     start state initialises every process variable from the execution
//     input (null when absent); names that would hide JSONata functions are
//     rejected, reads nobody writes are warned about.
//  3. States: a depth-first walk from the start event emits the states of
//     each node into the current container (the machine, a Parallel branch
//     or a Map processor), memoised per container so that exclusive
//     merges, gotos and loops become plain Next/Choice edges. A parallel or
//     inclusive split asks structure for its join (the immediate
//     post-dominator) and emits a Parallel state whose branches are walked
//     in new containers until the join; a branch that meets another join,
//     or re-enters its own split, is unstructured and reported with split
//     and join named. Without a synchronising join the branches run to
//     their own ends (acyclic tails are unfolded, i.e. copied per branch,
//     up to maxStates). Event-based gateways and boundary events that
//     TimeoutSeconds cannot express become races (race.go); loops and
//     multi-instance markers wrap the activity (loop.go); tasks, payloads,
//     retries and Catch are in task.go.
//  4. Names: state names come from element names plus ids, cut to 80
//     bytes and made unique across the whole machine.
//
// Every state made for a BPMN node carries "Comment": "bpmn:<id>"; helper
// states the compiler adds (branch ends, re-raises, wrappers) carry none or
// a comment that does not start with "bpmn:".
package emit

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/structure"
)

// Options configure the emitter.
type Options struct {
	// Service is the service id sent to every task.
	Service string
	// AllowUnknownTaskTypes turns an unknown task type into a custom
	// function of that name (warning instead of error).
	AllowUnknownTaskTypes bool
	// Source is the BPMN file's text, used to place FEEL errors exactly
	// (character references such as &gt; count as one character of the
	// expression but several columns of the file). Optional.
	Source []byte
}

// Error names the compiler's own patterns raise and catch.
const (
	// ErrTerminate is raised by a terminate end event inside a Parallel
	// branch or Map iteration; the outermost Parallel/Map catches it and
	// succeeds, inner ones re-raise it.
	ErrTerminate = "Posluha.Terminate"
	// ErrRacePrefix + element id is raised by the winner of a race (event
	// based gateway, timer boundary on a sub-process) to cancel the losers.
	ErrRacePrefix = "Posluha.Race."
)

// Standard input fields of an execution (see bpmn2asl/doc.go).
var standardInputs = []string{"applicationId", "service", "citizen", "form"}

type emitter struct {
	defs  *bpmn.Definitions
	proc  *bpmn.Process
	opts  Options
	diags []diag.Diagnostic

	names    map[string]bool
	subs     map[string]bool
	graphs   map[*bpmn.Scope]*structure.Analysis
	gnodes   map[*bpmn.Node]*structure.Node
	reads    map[string]bool
	writes   map[string]bool
	locals   map[string]bool // multi-instance input elements
	merges   bool            // some task merges its whole result (no output mappings)
	active   map[*bpmn.Node]bool
	reported map[string]bool
	feelOK   map[string]string
	tooBig   bool
}

// Process compiles proc. It returns the definition (nil on errors), the
// DefinitionSubstitutions names it uses (sorted), and the diagnostics.
func Process(defs *bpmn.Definitions, proc *bpmn.Process, opts Options) (*asl.StateMachine, []string, []diag.Diagnostic) {
	e := &emitter{
		defs: defs, proc: proc, opts: opts,
		names:    map[string]bool{},
		subs:     map[string]bool{},
		graphs:   map[*bpmn.Scope]*structure.Analysis{},
		gnodes:   map[*bpmn.Node]*structure.Node{},
		reads:    map[string]bool{},
		writes:   map[string]bool{},
		locals:   map[string]bool{},
		active:   map[*bpmn.Node]bool{},
		reported: map[string]bool{},
		feelOK:   map[string]string{},
	}
	an := e.analyse(&proc.Scope, proc.ID)
	e.scanVariables()
	if an.Start == nil && len(an.Sources) == 0 {
		return nil, nil, e.diags
	}
	top := newContainer(true)
	w := &walk{e: e, c: top, an: an}
	var startName string
	if len(an.Starts) > 1 {
		startName = w.chooseStart(an)
	} else if an.Start != nil && an.Start.Kind == structure.Start {
		startName = w.entry(an.Start.Data.(*bpmn.Node))
	} else {
		// No start event: a helper state initialises the variables.
		init := top.add(&asl.State{Name: e.helperName("Start"), Type: asl.TypePass, Assign: e.inputAssign()})
		startName = init.Name
		init.Next = w.startScope(an)
	}
	sm := &asl.StateMachine{
		Comment:       comment(&proc.Element, proc.Name),
		QueryLanguage: asl.QueryLanguageJSONata,
		StartAt:       startName,
		States:        top.states,
	}
	var subs []string
	for s := range e.subs {
		subs = append(subs, s)
	}
	sort.Strings(subs)
	if diag.HasErrors(e.diags) {
		return nil, subs, e.diags
	}
	return sm, subs, e.diags
}

func comment(el *bpmn.Element, name string) string {
	if name != "" {
		return fmt.Sprintf("bpmn:%s %s", el.ID, name)
	}
	return "bpmn:" + el.ID
}

// --- diagnostics -----------------------------------------------------------

func (e *emitter) report(code diag.Code, el *bpmn.Element, pos bpmn.Pos, hint, format string, args ...any) *diag.Diagnostic {
	d := e.defs.Diag(code, el, "", format, args...)
	if pos.Line != 0 {
		d.Line, d.Col = pos.Line, pos.Col
	}
	d.Hint = hint
	key := fmt.Sprintf("%s|%s|%d|%d|%s", d.Code, d.ElementID, d.Line, d.Col, d.Message)
	if e.reported[key] {
		return &diag.Diagnostic{}
	}
	e.reported[key] = true
	e.diags = append(e.diags, d)
	return &e.diags[len(e.diags)-1]
}

// --- scopes ----------------------------------------------------------------

// analyse builds the structure graph of a BPMN scope and runs the analysis,
// turning its problems into diagnostics.
func (e *emitter) analyse(s *bpmn.Scope, id string) *structure.Analysis {
	if an, ok := e.graphs[s]; ok {
		return an
	}
	g := structure.NewGraph(id)
	for _, n := range s.Nodes {
		if n.Kind == bpmn.BoundaryEvent && n.AttachedTo == nil {
			continue
		}
		if n.TriggeredByEvent {
			e.report(diag.UnsupportedElement, &n.Element, bpmn.Pos{},
				"model the handler in the main flow: an error boundary event on a sub-process, or an event-based gateway",
				"event sub-process %s is not supported: ASL cannot start a handler from an event while the scope runs", labelOf(n))
			continue
		}
		if n.IsForCompensation {
			continue
		}
		abort := n.Kind == bpmn.EndEvent && (n.EventKind() == bpmn.TerminateEvent || n.EventKind() == bpmn.ErrorEvent)
		e.gnodes[n] = g.AddNode(&structure.Node{ID: n.ID, Name: n.Name, Kind: kindOf(n), Data: n, Abort: abort,
			NoneStart: n.Kind == bpmn.StartEvent && len(n.Events) == 0})
	}
	for _, n := range s.Nodes {
		if n.Kind == bpmn.BoundaryEvent && n.AttachedTo != nil {
			if b, h := e.gnodes[n], e.gnodes[n.AttachedTo]; b != nil && h != nil {
				g.Attach(b, h)
			}
		}
	}
	// Link events: a throw continues at the catch with the same link name.
	for _, n := range s.Nodes {
		if n.Kind != bpmn.IntermediateThrowEvent || n.EventKind() != bpmn.LinkEvent || e.gnodes[n] == nil {
			continue
		}
		if c := linkCatch(s, n); c != nil && e.gnodes[c] != nil {
			g.Jump(e.gnodes[n], e.gnodes[c])
		}
	}
	for _, f := range s.Flows {
		src, dst := e.gnodes[f.Source], e.gnodes[f.Target]
		if f.Source == nil || f.Target == nil || src == nil || dst == nil {
			continue // dangling: the parser reports it
		}
		sf := &structure.Flow{ID: f.ID, Name: f.Name, Source: src, Target: dst, HasCondition: f.Condition != nil && strings.TrimSpace(f.Condition.Text) != "", Data: f}
		g.Connect(sf)
		if f.IsDefault || (f.Source.Default == f) {
			src.Default = sf
		}
	}
	for _, f := range s.Flows {
		if f.Condition == nil || strings.TrimSpace(f.Condition.Text) == "" || f.Source == nil {
			continue
		}
		src := f.Source
		used := src.Kind == bpmn.ExclusiveGateway || src.Kind == bpmn.InclusiveGateway ||
			(src.Kind.IsActivity() || src.Kind.IsEvent()) && len(src.Outgoing) > 1
		if !used {
			d := e.report(diag.ConditionOutsideSplit, &f.Element, f.Condition.TextPos,
				"put the condition on a flow leaving an exclusive or inclusive gateway",
				"the condition of flow %s is ignored: it leaves %s %s, which does not choose between flows", f.ID, src.Kind, labelOf(src))
			d.Severity = diag.Warning
		}
	}
	an, ps := structure.Analyze(g)
	e.graphs[s] = an
	for _, p := range ps {
		if p.Code == diag.MultipleStartEvents && s != &e.proc.Scope {
			continue // a sub-process gets an error from startScope instead
		}
		var el *bpmn.Element
		pos := bpmn.Pos{}
		switch {
		case p.Flow != nil && p.Node == nil:
			f := p.Flow.Data.(*bpmn.Flow)
			el = &f.Element
		case p.Node != nil:
			el = &p.Node.Data.(*bpmn.Node).Element
		default:
			if pr := e.defs.Lookup(id); pr != nil {
				switch v := pr.(type) {
				case *bpmn.Process:
					el = &v.Element
				case *bpmn.Node:
					el = &v.Element
				}
			}
		}
		d := e.report(p.Code, el, pos, p.Hint, "%s", p.Msg)
		if p.Severity != 0 || p.Code.Severity() != p.Severity {
			d.Severity = p.Severity
		}
		if p.Flow != nil && p.Node != nil {
			f := p.Flow.Data.(*bpmn.Flow)
			d.Notes = append(d.Notes, e.defs.Note(&f.Element, "flow %s", f.ID))
		}
		for _, r := range p.Related {
			rn := r.Data.(*bpmn.Node)
			d.Notes = append(d.Notes, e.defs.Note(&rn.Element, "see %s", structure.Label(r)))
		}
	}
	return an
}

func kindOf(n *bpmn.Node) structure.Kind {
	switch {
	case n.Kind == bpmn.StartEvent:
		return structure.Start
	case n.Kind == bpmn.EndEvent:
		return structure.End
	case n.Kind == bpmn.BoundaryEvent:
		return structure.Boundary
	case n.Kind == bpmn.IntermediateCatchEvent || n.Kind == bpmn.IntermediateThrowEvent:
		return structure.IntermediateEvent
	case n.Kind == bpmn.ExclusiveGateway:
		return structure.ExclusiveGateway
	case n.Kind == bpmn.ParallelGateway:
		return structure.ParallelGateway
	case n.Kind == bpmn.InclusiveGateway:
		return structure.InclusiveGateway
	case n.Kind == bpmn.EventBasedGateway:
		return structure.EventGateway
	case n.Kind.IsActivity():
		return structure.Activity
	}
	return structure.Other
}

// --- state names -----------------------------------------------------------

// stateName returns a unique state name for element el (plus an optional
// suffix for helper states).
func (e *emitter) stateName(el *bpmn.Element, suffix string) string {
	base := clean(el.Name)
	id := clean(el.ID)
	var s string
	switch {
	case base == "" || base == id:
		s = id
	default:
		s = base + " (" + id + ")"
	}
	if suffix != "" {
		s += " " + suffix
	}
	return e.unique(s, base, id, suffix)
}

func (e *emitter) unique(s, base, id, suffix string) string {
	const limit = asl.MaxStateNameLen // bytes of UTF-8
	if len(s) > limit {
		// Keep the id (it maps back to BPMN) and shorten the name.
		tail := " (" + id + ")"
		if suffix != "" {
			tail += " " + suffix
		}
		room := limit - len(tail) - len("…")
		if room < 8 {
			s = truncate(strings.TrimSpace(id+" "+suffix), limit-4)
		} else {
			s = truncate(base, room) + "…" + tail
		}
	}
	name := s
	for i := 2; e.names[name]; i++ {
		t := fmt.Sprintf(" %d", i)
		name = truncate(s, limit-len(t)) + t
	}
	e.names[name] = true
	return name
}

// helperName names a state the compiler adds (not a BPMN node).
func (e *emitter) helperName(s string) string {
	s = clean(s)
	if s == "" {
		s = "state"
	}
	return e.unique(s, s, s, "")
}

func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if n < 1 {
		n = 1
	}
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if i > n {
			break
		}
		cut = i
	}
	return strings.TrimSpace(s[:cut])
}

// linkName is the name a link event is matched by: its link definition's
// name, else the event's name.
func linkName(n *bpmn.Node) string {
	if ev := n.Event(); ev != nil && ev.LinkName != "" {
		return ev.LinkName
	}
	return n.Name
}

// linkCatch returns the link catch event of scope s that link throw event
// n continues at, or nil.
func linkCatch(s *bpmn.Scope, n *bpmn.Node) *bpmn.Node {
	name := linkName(n)
	for _, m := range s.Nodes {
		if m.Kind == bpmn.IntermediateCatchEvent && m.EventKind() == bpmn.LinkEvent && linkName(m) == name {
			return m
		}
	}
	return nil
}
