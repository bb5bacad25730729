package bpmn

import (
	"fmt"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// builder turns the DOM into the model and collects diagnostics.
type builder struct {
	defs *Definitions
	log  diag.List
}

func (b *builder) report(code diag.Code, pos Pos, id, name, hint, format string, args ...any) {
	b.log.Add(diag.Diagnostic{
		Severity:    code.Severity(),
		Code:        code,
		File:        b.defs.File,
		Line:        pos.Line,
		Col:         pos.Col,
		ElementID:   id,
		ElementName: name,
		Message:     fmt.Sprintf(format, args...),
		Hint:        hint,
	})
}

// element fills the common fields from n.
func (b *builder) element(n *xnode) Element {
	e := Element{Pos: n.pos}
	e.ID, _ = n.attr("id")
	e.Name, _ = n.attr("name")
	e.ID = strings.TrimSpace(e.ID)
	for _, a := range n.attrs {
		key := attrKey(a.space, a.local)
		if key == "" {
			continue
		}
		if e.AttrPos == nil {
			e.AttrPos = make(map[string]Pos, len(n.attrs))
		}
		e.AttrPos[key] = a.pos
	}
	var docs []string
	for _, k := range n.kids {
		if k.is(NSModel, "documentation") {
			if t := strings.TrimSpace(k.text); t != "" {
				docs = append(docs, t)
			}
		}
	}
	e.Documentation = strings.Join(docs, "\n")
	return e
}

// attrKey is the AttrPos key of an attribute: the local name for plain and
// BPMN attributes, "zeebe:x" and "camunda:x" for extensions, "" otherwise.
func attrKey(space, local string) string {
	switch space {
	case "", NSModel:
		return local
	case NSZeebe:
		return "zeebe:" + local
	case NSCamunda:
		return "camunda:" + local
	}
	return ""
}

// ref strips a namespace prefix from a QName reference ("ns:Task_1" →
// "Task_1") and trims spaces. Ids are NCNames, so they never contain ':'.
func ref(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// boolAttr parses an xsd:boolean attribute; absent yields def. A malformed
// value is diagnosed and yields def.
func (b *builder) boolAttr(n *xnode, local string, def bool, id string) bool {
	v, ok := n.attr(local)
	if !ok {
		return def
	}
	r, ok := parseBool(v)
	if !ok {
		b.report(diag.BadAttribute, n.attrAt(local), id, "", `write "true" or "false"`,
			"attribute %s=%q is not a boolean", local, v)
		return def
	}
	return r
}

// optBool parses an optional boolean attribute in the given namespace.
func (b *builder) optBool(n *xnode, space, local string, id string) *bool {
	v, ok := n.attrNS(space, local)
	if !ok && space == "" {
		v, ok = n.attr(local)
	}
	if !ok {
		return nil
	}
	r, ok := parseBool(v)
	if !ok {
		b.report(diag.BadAttribute, n.attrNSAt(space, local), id, "", `write "true" or "false"`,
			"attribute %s=%q is not a boolean", local, v)
		return nil
	}
	return &r
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func (b *builder) definitions(root *xnode) {
	d := b.defs
	d.Element = b.element(root)
	d.Prefix = root.prefix
	d.TargetNamespace, _ = root.attr("targetNamespace")
	d.Exporter, _ = root.attr("exporter")
	d.ExporterVersion, _ = root.attr("exporterVersion")
	for _, k := range root.kids {
		if k.space != NSModel {
			continue
		}
		switch k.local {
		case "process":
			d.Processes = append(d.Processes, b.process(k))
		case "collaboration":
			d.Collaborations = append(d.Collaborations, b.collaboration(k))
		case "message":
			m := &Message{Element: b.element(k)}
			for _, z := range extensions(k) {
				if z.is(NSZeebe, "subscription") {
					m.CorrelationKey, _ = z.attrNS("", "correlationKey")
					m.CorrelationKeyPos = z.attrNSAt("", "correlationKey")
				}
			}
			d.Messages = append(d.Messages, m)
		case "error":
			e := &Error{Element: b.element(k)}
			e.ErrorCode, _ = k.attr("errorCode")
			d.Errors = append(d.Errors, e)
		case "signal":
			d.Signals = append(d.Signals, &Signal{Element: b.element(k)})
		case "escalation":
			e := &Escalation{Element: b.element(k)}
			e.EscalationCode, _ = k.attr("escalationCode")
			d.Escalations = append(d.Escalations, e)
		default:
			if strings.HasSuffix(k.local, "EventDefinition") {
				e := b.eventDef(k, "", "")
				if e.ID != "" {
					if d.rootEventDefs == nil {
						d.rootEventDefs = map[string]*EventDef{}
					}
					d.rootEventDefs[e.ID] = e
				}
			}
		}
	}
}

func (b *builder) collaboration(n *xnode) *Collaboration {
	c := &Collaboration{Element: b.element(n)}
	for _, k := range n.kids {
		switch {
		case k.is(NSModel, "participant"):
			p := &Participant{Element: b.element(k)}
			v, _ := k.attr("processRef")
			p.ProcessRef = ref(v)
			c.Participants = append(c.Participants, p)
		case k.is(NSModel, "messageFlow"):
			m := &MessageFlow{Element: b.element(k)}
			s, _ := k.attr("sourceRef")
			t, _ := k.attr("targetRef")
			mr, _ := k.attr("messageRef")
			m.SourceRef, m.TargetRef, m.MessageRef = ref(s), ref(t), ref(mr)
			c.MessageFlows = append(c.MessageFlows, m)
		}
	}
	return c
}

func (b *builder) process(n *xnode) *Process {
	p := &Process{Element: b.element(n)}
	if _, ok := n.attr("isExecutable"); ok {
		p.IsExecutableSet = true
		p.IsExecutable = b.boolAttr(n, "isExecutable", false, p.ID)
	}
	for _, k := range n.kids {
		if k.is(NSModel, "laneSet") {
			b.lanes(k, p)
		}
	}
	p.Properties = properties(n)
	b.scope(n, &p.Scope, p, nil)
	return p
}

func (b *builder) lanes(set *xnode, p *Process) {
	for _, l := range set.kids {
		if !l.is(NSModel, "lane") {
			continue
		}
		lane := &Lane{Element: b.element(l)}
		for _, k := range l.kids {
			switch {
			case k.is(NSModel, "flowNodeRef"):
				if id := ref(k.text); id != "" {
					lane.FlowNodeRefs = append(lane.FlowNodeRefs, id)
				}
			case k.is(NSModel, "childLaneSet"):
				b.lanes(k, p)
			}
		}
		p.Lanes = append(p.Lanes, lane)
	}
}

// ignored lists BPMN elements that may appear among flow elements but that
// the compiler does not need: data, artifacts and structure already read
// elsewhere.
var ignored = map[string]bool{
	"documentation": true, "extensionElements": true, "laneSet": true,
	"dataObject": true, "dataObjectReference": true, "dataStoreReference": true,
	"dataStore": true, "textAnnotation": true, "association": true, "group": true,
	"category": true, "ioSpecification": true, "property": true, "auditing": true,
	"monitoring": true, "dataInputAssociation": true, "dataOutputAssociation": true,
	"resourceRole": true, "performer": true, "humanPerformer": true, "potentialOwner": true,
	"correlationSubscription": true, "supports": true, "incoming": true, "outgoing": true,
	"ioBinding": true, "dataInput": true, "dataOutput": true, "inputSet": true, "outputSet": true,
	"rendering": true, "script": true, "multiInstanceLoopCharacteristics": true,
	"standardLoopCharacteristics": true, "completionCondition": true,
}

// scope reads the flow elements of a process or sub-process element n.
func (b *builder) scope(n *xnode, s *Scope, p *Process, parent *Node) {
	for _, k := range n.kids {
		if k.space != NSModel {
			continue
		}
		if k.local == "sequenceFlow" {
			s.Flows = append(s.Flows, b.flow(k, parent))
			continue
		}
		if kind, ok := kindByTag[k.local]; ok {
			s.Nodes = append(s.Nodes, b.node(k, kind, p, parent))
			continue
		}
		if ignored[k.local] {
			continue
		}
		// An element the parser does not know, in a flow element position.
		node := &Node{Element: b.element(k), Kind: Unsupported, Tag: k.local, Parent: parent, Process: p}
		b.report(diag.UnknownElement, k.pos, node.ID, node.Name,
			"the compiler will reject it if it is part of the flow",
			"unknown element <%s>", qname(k.prefix, k.local))
		s.Nodes = append(s.Nodes, node)
	}
}

func (b *builder) flow(n *xnode, parent *Node) *Flow {
	f := &Flow{Element: b.element(n), Parent: parent}
	s, _ := n.attr("sourceRef")
	t, _ := n.attr("targetRef")
	f.SourceRef, f.TargetRef = ref(s), ref(t)
	f.IsImmediate = b.optBool(n, "", "isImmediate", f.ID)
	for _, k := range n.kids {
		if k.is(NSModel, "conditionExpression") {
			f.Condition = expr(k)
		}
	}
	return f
}

// expr reads an expression element.
func expr(n *xnode) *Expr {
	e := &Expr{Text: strings.TrimSpace(n.text), Pos: n.pos, TextPos: n.textPos}
	e.Language, _ = n.attr("language")
	if e.TextPos == (Pos{}) {
		e.TextPos = n.pos
	}
	return e
}

// extensions returns the children of n's <extensionElements>.
func extensions(n *xnode) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if k.is(NSModel, "extensionElements") {
			out = append(out, k.kids...)
		}
	}
	return out
}

// properties reads zeebe:properties and camunda:properties of n.
func properties(n *xnode) []Property {
	var out []Property
	for _, z := range extensions(n) {
		if (z.space == NSZeebe || z.space == NSCamunda) && z.local == "properties" {
			for _, p := range z.kids {
				if p.space == z.space && p.local == "property" {
					name, _ := p.attrNS("", "name")
					val, _ := p.attrNS("", "value")
					out = append(out, Property{Name: name, Value: val, Pos: p.pos})
				}
			}
		}
	}
	return out
}

func (b *builder) node(n *xnode, kind Kind, p *Process, parent *Node) *Node {
	node := &Node{Element: b.element(n), Kind: kind, Tag: n.local, Parent: parent, Process: p}
	id := node.ID

	// Attributes.
	if v, ok := n.attr("default"); ok {
		node.DefaultRef = ref(v)
	}
	if kind == BoundaryEvent {
		v, _ := n.attr("attachedToRef")
		node.AttachedToRef = ref(v)
		node.CancelActivity = b.boolAttr(n, "cancelActivity", true, id)
	}
	if kind.IsGateway() {
		node.GatewayDirection, _ = n.attr("gatewayDirection")
		if kind == EventBasedGateway {
			node.Instantiate = b.boolAttr(n, "instantiate", false, id)
			node.EventGatewayType, _ = n.attr("eventGatewayType")
		}
	}
	if kind.IsEvent() {
		node.ParallelMultiple = b.boolAttr(n, "parallelMultiple", false, id)
	}
	if kind.IsActivity() {
		node.IsForCompensation = b.boolAttr(n, "isForCompensation", false, id)
	}
	node.Implementation, _ = n.attr("implementation")
	if v, ok := n.attr("messageRef"); ok {
		node.MessageRef = ref(v)
	}
	if kind == ScriptTask {
		node.ScriptFormat, _ = n.attr("scriptFormat")
	}
	if kind == CallActivity {
		if v, ok := n.attr("calledElement"); ok {
			node.CalledElement = ref(v) // a QName in BPMN; zeebe:calledElement below wins
			node.CalledElementPos = n.attrAt("calledElement")
		}
	}
	if kind.IsSubProcess() {
		node.TriggeredByEvent = b.boolAttr(n, "triggeredByEvent", false, id)
		node.Sub = &Scope{}
	}
	for _, a := range n.attrs {
		if a.space == NSZeebe || a.space == NSCamunda {
			if node.Ext == nil {
				node.Ext = map[string]string{}
			}
			node.Ext[attrKey(a.space, a.local)] = a.value
		}
	}
	b.camunda7(n, node)

	// Children.
	for _, k := range n.kids {
		if k.space != NSModel {
			continue
		}
		switch {
		case strings.HasSuffix(k.local, "EventDefinition"):
			node.Events = append(node.Events, b.eventDef(k, id, node.Name))
		case k.local == "eventDefinitionRef":
			node.Events = append(node.Events, &EventDef{Kind: UnknownEvent, Tag: k.local, Pos: k.pos, Ref: ref(k.text)})
		case k.local == "multiInstanceLoopCharacteristics":
			node.Loop = b.multiInstance(k, id)
		case k.local == "standardLoopCharacteristics":
			node.Loop = b.standardLoop(k, id)
		case k.local == "script" && kind == ScriptTask:
			node.Script = strings.TrimSpace(k.text)
		case k.local == "completionCondition" && kind == AdHocSubProcess:
			node.CompletionCondition = expr(k)
		}
	}
	if len(node.Events) > 1 {
		b.report(diag.DuplicateEventDef, node.Pos, id, node.Name,
			"model one event per definition, or combine them with an event-based gateway",
			"%s has %d event definitions", kind, len(node.Events))
	}
	b.zeebe(n, node)
	if kind == UserTask && node.UserTask == nil {
		node.UserTask = &UserTaskDef{}
	}
	if node.Sub != nil {
		b.scope(n, node.Sub, p, node)
	}
	return node
}

func (b *builder) eventDef(n *xnode, id, name string) *EventDef {
	e := &EventDef{Tag: n.local, Pos: n.pos}
	e.ID, _ = n.attr("id")
	setRef := func(attr string) {
		v, _ := n.attr(attr)
		e.Ref = ref(v)
		e.RefPos = n.attrAt(attr)
	}
	switch n.local {
	case "messageEventDefinition":
		e.Kind = MessageEvent
		setRef("messageRef")
	case "timerEventDefinition":
		e.Kind = TimerEvent
		for _, k := range n.kids {
			var tk TimerKind
			switch {
			case k.is(NSModel, "timeDuration"):
				tk = TimeDuration
			case k.is(NSModel, "timeDate"):
				tk = TimeDate
			case k.is(NSModel, "timeCycle"):
				tk = TimeCycle
			default:
				continue
			}
			if e.Timer == nil {
				e.TimerKind, e.Timer = tk, expr(k)
			}
		}
	case "errorEventDefinition":
		e.Kind = ErrorEvent
		setRef("errorRef")
	case "terminateEventDefinition":
		e.Kind = TerminateEvent
	case "signalEventDefinition":
		e.Kind = SignalEvent
		setRef("signalRef")
	case "escalationEventDefinition":
		e.Kind = EscalationEvent
		setRef("escalationRef")
	case "conditionalEventDefinition":
		e.Kind = ConditionalEvent
		for _, k := range n.kids {
			if k.is(NSModel, "condition") {
				e.Condition = expr(k)
			}
		}
	case "compensateEventDefinition":
		e.Kind = CompensateEvent
		setRef("activityRef")
		e.WaitForCompletion = b.optBool(n, "", "waitForCompletion", id)
	case "linkEventDefinition":
		e.Kind = LinkEvent
		e.LinkName, _ = n.attr("name")
	case "cancelEventDefinition":
		e.Kind = CancelEvent
	default:
		e.Kind = UnknownEvent
		b.report(diag.UnknownEventDef, n.pos, id, name, "",
			"unknown event definition <%s>", qname(n.prefix, n.local))
	}
	return e
}

func (b *builder) multiInstance(n *xnode, id string) *Loop {
	l := &Loop{Pos: n.pos, MultiInstance: true}
	l.IsSequential = b.boolAttr(n, "isSequential", false, id)
	for _, k := range n.kids {
		switch {
		case k.is(NSModel, "loopCardinality"):
			l.LoopCardinality = expr(k)
		case k.is(NSModel, "completionCondition"):
			l.CompletionCondition = expr(k)
		}
	}
	for _, z := range extensions(n) {
		if z.is(NSZeebe, "loopCharacteristics") {
			l.ExtPos = z.pos
			l.InputCollection, _ = z.attrNS("", "inputCollection")
			l.InputElement, _ = z.attrNS("", "inputElement")
			l.OutputCollection, _ = z.attrNS("", "outputCollection")
			l.OutputElement, _ = z.attrNS("", "outputElement")
		}
	}
	// Camunda 7: camunda:collection / camunda:elementVariable.
	if l.InputCollection == "" {
		if v, ok := n.attrNS(NSCamunda, "collection"); ok {
			l.InputCollection = v
			l.ExtPos = n.attrNSAt(NSCamunda, "collection")
		}
	}
	if l.InputElement == "" {
		l.InputElement, _ = n.attrNS(NSCamunda, "elementVariable")
	}
	return l
}

func (b *builder) standardLoop(n *xnode, id string) *Loop {
	l := &Loop{Pos: n.pos}
	l.TestBefore = b.boolAttr(n, "testBefore", false, id)
	if v, ok := n.attr("loopMaximum"); ok {
		l.LoopMaximum = strings.TrimSpace(v)
	}
	for _, k := range n.kids {
		if k.is(NSModel, "loopCondition") {
			l.LoopCondition = expr(k)
		}
	}
	return l
}

// zeebe reads the Camunda 8 extension elements of an activity or event.
func (b *builder) zeebe(n *xnode, node *Node) {
	ut := func() *UserTaskDef {
		if node.UserTask == nil {
			node.UserTask = &UserTaskDef{}
		}
		return node.UserTask
	}
	for _, z := range extensions(n) {
		switch z.space {
		case NSZeebe:
			switch z.local {
			case "taskDefinition":
				td := &TaskDefinition{Pos: z.pos, TypePos: z.attrNSAt("", "type"), RetriesPos: z.attrNSAt("", "retries")}
				td.Type, _ = z.attrNS("", "type")
				td.Retries, _ = z.attrNS("", "retries")
				td.Type = strings.TrimSpace(td.Type)
				td.Retries = strings.TrimSpace(td.Retries)
				node.TaskDefinition = td
			case "taskHeaders":
				for _, h := range z.kids {
					if h.is(NSZeebe, "header") {
						k, _ := h.attrNS("", "key")
						v, _ := h.attrNS("", "value")
						node.Headers = append(node.Headers, Header{Key: k, Value: v, Pos: h.pos})
					}
				}
			case "ioMapping":
				for _, m := range z.kids {
					if m.space != NSZeebe || (m.local != "input" && m.local != "output") {
						continue
					}
					src, _ := m.attrNS("", "source")
					tgt, _ := m.attrNS("", "target")
					mp := Mapping{Source: src, Target: tgt, Pos: m.pos, SourcePos: m.attrNSAt("", "source")}
					if m.local == "input" {
						node.Inputs = append(node.Inputs, mp)
					} else {
						node.Outputs = append(node.Outputs, mp)
					}
				}
			case "calledElement":
				v, _ := z.attrNS("", "processId")
				node.CalledElement = strings.TrimSpace(v)
				node.CalledElementPos = z.attrNSAt("", "processId")
				node.PropagateAllChildVariables = b.optBool(z, "", "propagateAllChildVariables", node.ID)
				node.PropagateAllParentVariables = b.optBool(z, "", "propagateAllParentVariables", node.ID)
			case "userTask":
				ut().Zeebe = true
			case "assignmentDefinition":
				u := ut()
				u.Assignee, _ = z.attrNS("", "assignee")
				u.CandidateGroups, _ = z.attrNS("", "candidateGroups")
				u.CandidateUsers, _ = z.attrNS("", "candidateUsers")
			case "formDefinition":
				u := ut()
				u.FormKey, _ = z.attrNS("", "formKey")
				u.FormID, _ = z.attrNS("", "formId")
			case "taskSchedule":
				u := ut()
				u.DueDate, _ = z.attrNS("", "dueDate")
				u.FollowUpDate, _ = z.attrNS("", "followUpDate")
			case "script":
				node.Script, _ = z.attrNS("", "expression")
				node.ResultVariable, _ = z.attrNS("", "resultVariable")
				node.ScriptFormat = "feel"
			case "calledDecision":
				node.CalledDecision, _ = z.attrNS("", "decisionId")
				node.ResultVariable, _ = z.attrNS("", "resultVariable")
			case "properties", "versionTag", "priorityDefinition", "userTaskForm", "subscription":
				// Read elsewhere, or without meaning for ASL.
			default:
				b.report(diag.UnknownExtensionField, z.pos, node.ID, node.Name,
					"the compiled state machine does not run it; model the behaviour with tasks instead",
					"<%s> is ignored", qname(z.prefix, z.local))
			}
		case NSCamunda:
			switch z.local {
			case "inputOutput":
				for _, m := range z.kids {
					if m.space != NSCamunda || (m.local != "inputParameter" && m.local != "outputParameter") {
						continue
					}
					name, _ := m.attrNS("", "name")
					mp := Mapping{Source: strings.TrimSpace(m.text), Target: name, Pos: m.pos, SourcePos: m.textPos}
					if mp.SourcePos == (Pos{}) {
						mp.SourcePos = m.pos
					}
					if m.local == "inputParameter" {
						node.Inputs = append(node.Inputs, mp)
					} else {
						node.Outputs = append(node.Outputs, mp)
					}
				}
			}
		}
	}
	node.Properties = properties(n)
}

// camunda7 maps Camunda 7 attributes where the mapping is trivial: external
// task topics become task types; user task assignment and forms.
func (b *builder) camunda7(n *xnode, node *Node) {
	if t, ok := n.attrNS(NSCamunda, "type"); ok && t == "external" {
		topic, _ := n.attrNS(NSCamunda, "topic")
		node.TaskDefinition = &TaskDefinition{
			Type:    strings.TrimSpace(topic),
			Pos:     n.pos,
			TypePos: n.attrNSAt(NSCamunda, "topic"),
		}
		if r, ok := n.attrNS(NSCamunda, "taskPriority"); ok {
			_ = r // priorities have no ASL meaning
		}
	}
	if node.Kind == UserTask {
		a, okA := n.attrNS(NSCamunda, "assignee")
		g, okG := n.attrNS(NSCamunda, "candidateGroups")
		u, okU := n.attrNS(NSCamunda, "candidateUsers")
		f, okF := n.attrNS(NSCamunda, "formKey")
		d, okD := n.attrNS(NSCamunda, "dueDate")
		if okA || okG || okU || okF || okD {
			node.UserTask = &UserTaskDef{Assignee: a, CandidateGroups: g, CandidateUsers: u, FormKey: f, DueDate: d}
		}
	}
	if node.Kind == ScriptTask {
		if rv, ok := n.attrNS(NSCamunda, "resultVariable"); ok {
			node.ResultVariable = rv
		}
	}
}
