package bpmn

import (
	"fmt"
	"slices"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// resolve indexes ids and links references, diagnosing what does not
// resolve.
func (b *builder) resolve() {
	d := b.defs
	d.ids = map[string]any{}
	add := func(e *Element, v any, tag string, required bool) {
		if e.ID == "" {
			if required {
				b.report(diag.MissingID, e.Pos, "", e.Name, "give every flow element and sequence flow an id (Camunda Modeler does)",
					"<%s> has no id", tag)
			}
			return
		}
		if prev, dup := d.ids[e.ID]; dup {
			pe := elementOf(prev)
			dg := d.Diag(diag.DuplicateID, e, "id", "duplicate id %q", e.ID)
			dg.Hint = "ids must be unique within the file; rename one of them"
			if pe != nil {
				dg.Notes = append(dg.Notes, d.Note(pe, "first defined here"))
			}
			b.log.Add(dg)
			return
		}
		d.ids[e.ID] = v
	}
	for _, c := range d.Collaborations {
		add(&c.Element, c, "collaboration", false)
		for _, p := range c.Participants {
			add(&p.Element, p, "participant", false)
		}
		for _, m := range c.MessageFlows {
			add(&m.Element, m, "messageFlow", false)
		}
	}
	for _, m := range d.Messages {
		add(&m.Element, m, "message", false)
	}
	for _, e := range d.Errors {
		add(&e.Element, e, "error", false)
	}
	for _, s := range d.Signals {
		add(&s.Element, s, "signal", false)
	}
	for _, e := range d.Escalations {
		add(&e.Element, e, "escalation", false)
	}
	var indexScope func(s *Scope)
	indexScope = func(s *Scope) {
		for _, n := range s.Nodes {
			add(&n.Element, n, n.Tag, n.Kind != Unsupported)
			if n.Sub != nil {
				indexScope(n.Sub)
			}
		}
		for _, f := range s.Flows {
			add(&f.Element, f, "sequenceFlow", true)
		}
	}
	for _, p := range d.Processes {
		add(&p.Element, p, "process", false)
		for _, l := range p.Lanes {
			add(&l.Element, l, "lane", false)
		}
		indexScope(&p.Scope)
	}

	// Participants → processes.
	for _, c := range d.Collaborations {
		for _, p := range c.Participants {
			if p.ProcessRef == "" {
				continue
			}
			p.Process = d.Process(p.ProcessRef)
			if p.Process == nil {
				b.log.Add(d.Diag(diag.MissingProcessRef, &p.Element, "processRef",
					"participant's processRef %q names no process", p.ProcessRef))
			}
		}
	}

	for _, p := range d.Processes {
		for _, l := range p.Lanes {
			for _, id := range l.FlowNodeRefs {
				if n := d.Node(id); n != nil && n.Lane == "" {
					n.Lane = l.ID
				}
			}
		}
		b.resolveScope(&p.Scope)
	}

	// Diagnose empty models.
	if len(d.Processes) == 0 {
		dg := d.Diag(diag.NoProcess, &d.Element, "", "the file defines no process")
		dg.Hint = "draw the service as a process (a pool with flow elements)"
		b.log.Add(dg)
		return
	}
	nonEmpty := 0
	for _, p := range d.Processes {
		if len(p.Nodes) > 0 {
			nonEmpty++
		}
	}
	for _, p := range d.Processes {
		if len(p.Nodes) > 0 {
			continue
		}
		dg := d.Diag(diag.NoFlowElements, &p.Element, "", "process %s has no flow elements", displayID(p.ID))
		if nonEmpty > 0 {
			// Another process carries the flow (an empty pool next to it).
			dg.Severity = diag.Warning
		} else {
			dg.Hint = "add a start event, the steps and an end event"
		}
		b.log.Add(dg)
	}
}

func displayID(id string) string {
	if id == "" {
		return "(without id)"
	}
	return fmt.Sprintf("%q", id)
}

// resolveScope links the flows of a process (at every depth), then its
// nodes' boundary events, defaults and event references.
//
// A flow declared in one scope but connecting two elements of another
// (some exporters put every flow at process level) is moved to the scope
// of its elements with a warning; a flow between elements of different
// scopes is an error and stays unlinked.
func (b *builder) resolveScope(s *Scope) {
	d := b.defs
	type declared struct {
		f *Flow
		s *Scope
	}
	var all []declared
	var collect func(s *Scope)
	collect = func(s *Scope) {
		for _, f := range s.Flows {
			all = append(all, declared{f, s})
		}
		for _, n := range s.Nodes {
			if n.Sub != nil {
				collect(n.Sub)
			}
		}
	}
	collect(s)
	moved := map[*Flow]bool{}
	for _, x := range all {
		f := x.f
		src := b.flowEnd(f, f.SourceRef, "sourceRef")
		tgt := b.flowEnd(f, f.TargetRef, "targetRef")
		if src == nil || tgt == nil {
			continue
		}
		if src.Parent != tgt.Parent || src.Process != tgt.Process || src.Process == nil {
			dg := d.Diag(diag.FlowCrossesScope, &f.Element, "", "sequence flow %s connects %s and %s, which are in different (sub)processes",
				displayID(f.ID), displayID(src.ID), displayID(tgt.ID))
			dg.Hint = "sequence flows stay inside one process or sub-process; use a message flow or move the elements"
			b.log.Add(dg)
			continue
		}
		if src.Parent != f.Parent {
			home := &src.Process.Scope
			where := "the process"
			if src.Parent != nil {
				home = src.Parent.Sub
				where = "sub-process " + displayID(src.Parent.ID)
			}
			dg := d.Diag(diag.FlowCrossesScope, &f.Element, "", "sequence flow %s is declared outside %s, which holds both its ends; it is treated as part of it",
				displayID(f.ID), where)
			dg.Severity = diag.Warning
			b.log.Add(dg)
			moved[f] = true
			home.Flows = append(home.Flows, f)
			f.Parent = src.Parent
		}
		f.Source, f.Target = src, tgt
		src.Outgoing = append(src.Outgoing, f)
		tgt.Incoming = append(tgt.Incoming, f)
	}
	if len(moved) > 0 {
		for _, x := range all {
			if !moved[x.f] {
				continue
			}
			// Drop the flow from the scope that declared it (it was
			// appended to its home scope above).
			x.s.Flows = slices.DeleteFunc(x.s.Flows, func(f *Flow) bool { return f == x.f })
		}
	}
	s.Walk(func(n *Node) bool {
		b.resolveNode(n)
		return true
	})
}

// flowEnd resolves one end of a flow, diagnosing a dangling reference.
func (b *builder) flowEnd(f *Flow, id, attr string) *Node {
	d := b.defs
	if id == "" {
		dg := d.Diag(diag.DanglingFlowRef, &f.Element, attr, "sequence flow %s has no %s", displayID(f.ID), attr)
		dg.Hint = "connect both ends of the flow in the modeler"
		b.log.Add(dg)
		return nil
	}
	n := d.Node(id)
	if n == nil {
		what := "no element"
		if v := d.Lookup(id); v != nil {
			what = fmt.Sprintf("a %s, not a flow node", kindOf(v))
		}
		dg := d.Diag(diag.DanglingFlowRef, &f.Element, attr, "sequence flow %s: %s %q names %s", displayID(f.ID), attr, id, what)
		dg.Hint = "reconnect the flow in the modeler or delete it"
		b.log.Add(dg)
		return nil
	}
	return n
}

func (b *builder) resolveNode(n *Node) {
	d := b.defs
	if n.Kind == BoundaryEvent {
		switch a := d.Node(n.AttachedToRef); {
		case n.AttachedToRef == "":
			dg := d.Diag(diag.BoundaryNotAttached, &n.Element, "attachedToRef", "boundary event has no attachedToRef")
			dg.Hint = "drop the event on the border of a task or sub-process"
			b.log.Add(dg)
		case a == nil:
			dg := d.Diag(diag.BoundaryNotAttached, &n.Element, "attachedToRef", "boundary event is attached to %q, which names no flow node", n.AttachedToRef)
			dg.Hint = "drop the event on the border of a task or sub-process"
			b.log.Add(dg)
		case !a.Kind.IsActivity() && a.Kind != Unsupported:
			dg := d.Diag(diag.BoundaryNotAttached, &n.Element, "attachedToRef", "boundary event is attached to %s %q, which is not an activity", a.Kind, a.ID)
			dg.Hint = "boundary events attach to tasks, sub-processes and call activities"
			b.log.Add(dg)
		default:
			n.AttachedTo = a
			a.Boundaries = append(a.Boundaries, n)
		}
	}
	if n.DefaultRef != "" {
		f := d.Flow(n.DefaultRef)
		switch {
		case f == nil:
			dg := d.Diag(diag.DanglingRef, &n.Element, "default", "default flow %q names no sequence flow", n.DefaultRef)
			dg.Hint = "choose the default flow again in the modeler"
			b.log.Add(dg)
		case f.Source != n:
			dg := d.Diag(diag.DefaultNotOutgoing, &n.Element, "default", "default flow %q is not an outgoing flow of %s", n.DefaultRef, displayID(n.ID))
			dg.Notes = append(dg.Notes, d.Note(&f.Element, "the flow"))
			b.log.Add(dg)
		default:
			n.Default = f
			f.IsDefault = true
		}
	}
	if n.MessageRef != "" {
		if m, ok := d.Lookup(n.MessageRef).(*Message); ok {
			n.Message = m
		} else {
			dg := d.Diag(diag.DanglingRef, &n.Element, "messageRef", "messageRef %q names no message", n.MessageRef)
			dg.Severity = diag.Warning
			dg.Hint = "pick the message again in the modeler's properties panel"
			b.log.Add(dg)
		}
	}
	for i, e := range n.Events {
		if e.Tag != "eventDefinitionRef" {
			continue
		}
		if root := d.rootEventDefs[e.Ref]; root != nil {
			c := *root // each event gets its own copy to resolve
			n.Events[i] = &c
			continue
		}
		dg := d.Diag(diag.DanglingRef, &n.Element, "", "eventDefinitionRef %q names no event definition declared in <definitions>", e.Ref)
		dg.Line, dg.Col = e.Pos.Line, e.Pos.Col
		dg.Severity = diag.Warning
		b.log.Add(dg)
	}
	for _, e := range n.Events {
		if e.Ref == "" || e.Tag == "eventDefinitionRef" {
			continue
		}
		v := d.Lookup(e.Ref)
		ok := false
		want := ""
		switch e.Kind {
		case MessageEvent:
			e.Message, ok = v.(*Message)
			want = "message"
		case ErrorEvent:
			e.Error, ok = v.(*Error)
			want = "error"
		case SignalEvent:
			e.Signal, ok = v.(*Signal)
			want = "signal"
		case EscalationEvent:
			e.Escalation, ok = v.(*Escalation)
			want = "escalation"
		case CompensateEvent:
			_, ok = v.(*Node)
			want = "activity"
		default:
			ok = true
		}
		if !ok {
			// Only an error's code changes what the compiler emits; other
			// dangling references are warnings so that later stages can
			// still say precisely what they support.
			sev := diag.Warning
			if e.Kind == ErrorEvent {
				sev = diag.Error
			}
			b.log.Add(diag.Diagnostic{
				Severity: sev, Code: diag.DanglingRef, File: d.File,
				Line: e.RefPos.Line, Col: e.RefPos.Col, ElementID: n.ID, ElementName: n.Name,
				Message: fmt.Sprintf("%s event definition refers to %q, which names no %s", e.Kind, e.Ref, want),
				Hint:    fmt.Sprintf("pick the %s again in the modeler's properties panel", want),
			})
		}
	}
}

// elementOf returns the embedded Element of any model value.
func elementOf(v any) *Element {
	switch x := v.(type) {
	case *Process:
		return &x.Element
	case *Node:
		return &x.Element
	case *Flow:
		return &x.Element
	case *Message:
		return &x.Element
	case *Error:
		return &x.Element
	case *Signal:
		return &x.Element
	case *Escalation:
		return &x.Element
	case *Collaboration:
		return &x.Element
	case *Participant:
		return &x.Element
	case *MessageFlow:
		return &x.Element
	case *Lane:
		return &x.Element
	}
	return nil
}

func kindOf(v any) string {
	switch x := v.(type) {
	case *Process:
		return "process"
	case *Node:
		return x.Kind.String()
	case *Flow:
		return "sequenceFlow"
	case *Message:
		return "message"
	case *Error:
		return "error"
	case *Signal:
		return "signal"
	case *Escalation:
		return "escalation"
	case *Collaboration:
		return "collaboration"
	case *Participant:
		return "participant"
	case *MessageFlow:
		return "messageFlow"
	case *Lane:
		return "lane"
	}
	return "element"
}
