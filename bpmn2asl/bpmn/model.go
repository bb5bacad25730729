package bpmn

import (
	"fmt"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Namespace URIs the parser recognises. Prefixes in the file do not matter.
const (
	NSModel   = "http://www.omg.org/spec/BPMN/20100524/MODEL"
	NSDI      = "http://www.omg.org/spec/BPMN/20100524/DI"
	NSZeebe   = "http://camunda.org/schema/zeebe/1.0"
	NSCamunda = "http://camunda.org/schema/1.0/bpmn"
	NSXSI     = "http://www.w3.org/2001/XMLSchema-instance"
)

// Pos is a 1-based line and column (columns count runes) in the source file.
// The zero Pos means "unknown".
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// String renders "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Element is embedded in every model element: its id, name and where it is.
type Element struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Pos is the position of the '<' of the element's start tag.
	Pos Pos `json:"pos"`
	// AttrPos maps an attribute's local name ("attachedToRef", "default",
	// "sourceRef", "type" …) to the position of its name. Extension
	// attributes are keyed "zeebe:x" / "camunda:x" whatever the prefix.
	AttrPos map[string]Pos `json:"-"`
	// Documentation is the text of the <documentation> children, joined
	// with newlines.
	Documentation string `json:"documentation,omitempty"`
}

// At returns the position of attribute name, or of the element itself when
// the attribute is absent.
func (e *Element) At(name string) Pos {
	if p, ok := e.AttrPos[name]; ok {
		return p
	}
	return e.Pos
}

// Definitions is a parsed BPMN file: the root <definitions> element.
type Definitions struct {
	Element
	// File is the name given to Parse; every diagnostic carries it.
	File            string `json:"file"`
	TargetNamespace string `json:"targetNamespace,omitempty"`
	Exporter        string `json:"exporter,omitempty"`
	ExporterVersion string `json:"exporterVersion,omitempty"`
	// Prefix is the namespace prefix the file uses for the BPMN model
	// ("bpmn", "bpmn2", "semantic", "" for the default namespace).
	Prefix string `json:"prefix"`
	// HasDiagram is true when the file carries BPMN DI (<bpmndi:BPMNDiagram>),
	// which the parser otherwise ignores.
	HasDiagram bool `json:"hasDiagram"`

	Processes      []*Process       `json:"processes"`
	Collaborations []*Collaboration `json:"collaborations,omitempty"`
	Messages       []*Message       `json:"messages,omitempty"`
	Errors         []*Error         `json:"errors,omitempty"`
	Signals        []*Signal        `json:"signals,omitempty"`
	Escalations    []*Escalation    `json:"escalations,omitempty"`

	// ids indexes every element with an id (first occurrence wins).
	ids map[string]any
	// rootEventDefs are event definitions declared at definitions level,
	// which events reference with <eventDefinitionRef>.
	rootEventDefs map[string]*EventDef
}

// Lookup returns the element with the given id (a *Process, *Node, *Flow,
// *Message, *Error, *Signal, *Escalation, *Collaboration, *Participant,
// *MessageFlow or *Lane), or nil.
func (d *Definitions) Lookup(id string) any {
	if d == nil {
		return nil
	}
	return d.ids[id]
}

// Node returns the flow node with the given id (at any depth), or nil.
func (d *Definitions) Node(id string) *Node {
	n, _ := d.Lookup(id).(*Node)
	return n
}

// Flow returns the sequence flow with the given id, or nil.
func (d *Definitions) Flow(id string) *Flow {
	f, _ := d.Lookup(id).(*Flow)
	return f
}

// Process returns the process with the given id, or nil.
func (d *Definitions) Process(id string) *Process {
	p, _ := d.Lookup(id).(*Process)
	return p
}

// Diag builds a diagnostic about element e (which may be nil) at the
// element's position, or at its attribute attr when attr is non-empty and
// present. The severity is the code's registered one.
func (d *Definitions) Diag(code diag.Code, e *Element, attr string, format string, args ...any) diag.Diagnostic {
	dg := diag.Diagnostic{
		Severity: code.Severity(),
		Code:     code,
		Message:  fmt.Sprintf(format, args...),
	}
	if d != nil {
		dg.File = d.File
	}
	if e != nil {
		p := e.Pos
		if attr != "" {
			p = e.At(attr)
		}
		dg.Line, dg.Col = p.Line, p.Col
		dg.ElementID, dg.ElementName = e.ID, e.Name
	}
	return dg
}

// Note builds a diagnostic note pointing at element e.
func (d *Definitions) Note(e *Element, format string, args ...any) diag.Note {
	n := diag.Note{Message: fmt.Sprintf(format, args...)}
	if d != nil {
		n.File = d.File
	}
	if e != nil {
		n.Line, n.Col, n.ElementID = e.Pos.Line, e.Pos.Col, e.ID
	}
	return n
}

// Collaboration is a <collaboration>: pools (participants) and message flows.
type Collaboration struct {
	Element
	Participants []*Participant `json:"participants,omitempty"`
	MessageFlows []*MessageFlow `json:"messageFlows,omitempty"`
}

// Participant is a pool; ProcessRef names the process drawn in it (nil
// Process for a black-box pool).
type Participant struct {
	Element
	ProcessRef string   `json:"processRef,omitempty"`
	Process    *Process `json:"-"`
}

// MessageFlow connects two pools; the compiler does not execute it but
// keeps it for diagnostics.
type MessageFlow struct {
	Element
	SourceRef  string `json:"sourceRef,omitempty"`
	TargetRef  string `json:"targetRef,omitempty"`
	MessageRef string `json:"messageRef,omitempty"`
}

// Message is a root <message>. CorrelationKey comes from
// <zeebe:subscription correlationKey="…"> (a FEEL expression).
type Message struct {
	Element
	CorrelationKey    string `json:"correlationKey,omitempty"`
	CorrelationKeyPos Pos    `json:"-"`
}

// Error is a root <error>; ErrorCode is the name the compiler matches in
// ASL Catch (e.g. "Registry.NotFound").
type Error struct {
	Element
	ErrorCode string `json:"errorCode,omitempty"`
}

// Signal is a root <signal>.
type Signal struct {
	Element
}

// Escalation is a root <escalation>.
type Escalation struct {
	Element
	EscalationCode string `json:"escalationCode,omitempty"`
}

// Scope is a container of flow elements: a process or a sub-process.
// Nodes and Flows are in document order; Nodes includes boundary events.
type Scope struct {
	Nodes []*Node `json:"nodes,omitempty"`
	Flows []*Flow `json:"flows,omitempty"`
}

// StartEvents returns the scope's start events (not recursing).
func (s *Scope) StartEvents() []*Node {
	var out []*Node
	for _, n := range s.Nodes {
		if n.Kind == StartEvent {
			out = append(out, n)
		}
	}
	return out
}

// Process is a <process>.
type Process struct {
	Element
	IsExecutable bool `json:"isExecutable"`
	// IsExecutableSet tells whether the attribute was present at all.
	IsExecutableSet bool    `json:"-"`
	Lanes           []*Lane `json:"lanes,omitempty"`
	Scope
	// Properties are <zeebe:properties> / <camunda:properties> on the process.
	Properties []Property `json:"properties,omitempty"`
}

// Lane is a lane of a process (names only; nested lane sets are flattened).
type Lane struct {
	Element
	FlowNodeRefs []string `json:"flowNodeRefs,omitempty"`
}

// Walk calls fn for every node of the scope and, recursively, of its
// sub-processes, parents before children, in document order. It stops early
// when fn returns false.
func (s *Scope) Walk(fn func(*Node) bool) bool {
	for _, n := range s.Nodes {
		if !fn(n) {
			return false
		}
		if n.Sub != nil && !n.Sub.Walk(fn) {
			return false
		}
	}
	return true
}
