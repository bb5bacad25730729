package bpmn

// Kind is the kind of a flow node, one per BPMN element name.
type Kind int

// The flow node kinds. Unsupported is an element in a flow element position
// that the parser does not know (or one that it knows is not a flow node we
// model); Node.Tag holds its XML local name.
const (
	Unsupported Kind = iota
	StartEvent
	EndEvent
	IntermediateCatchEvent
	IntermediateThrowEvent
	BoundaryEvent
	Task
	ServiceTask
	SendTask
	ReceiveTask
	UserTask
	ManualTask
	ScriptTask
	BusinessRuleTask
	ExclusiveGateway
	ParallelGateway
	InclusiveGateway
	EventBasedGateway
	ComplexGateway
	SubProcess
	Transaction
	AdHocSubProcess
	CallActivity
)

var kindNames = [...]string{
	Unsupported:            "unsupported",
	StartEvent:             "startEvent",
	EndEvent:               "endEvent",
	IntermediateCatchEvent: "intermediateCatchEvent",
	IntermediateThrowEvent: "intermediateThrowEvent",
	BoundaryEvent:          "boundaryEvent",
	Task:                   "task",
	ServiceTask:            "serviceTask",
	SendTask:               "sendTask",
	ReceiveTask:            "receiveTask",
	UserTask:               "userTask",
	ManualTask:             "manualTask",
	ScriptTask:             "scriptTask",
	BusinessRuleTask:       "businessRuleTask",
	ExclusiveGateway:       "exclusiveGateway",
	ParallelGateway:        "parallelGateway",
	InclusiveGateway:       "inclusiveGateway",
	EventBasedGateway:      "eventBasedGateway",
	ComplexGateway:         "complexGateway",
	SubProcess:             "subProcess",
	Transaction:            "transaction",
	AdHocSubProcess:        "adHocSubProcess",
	CallActivity:           "callActivity",
}

// String returns the BPMN element name of the kind ("serviceTask").
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unsupported"
}

// MarshalText encodes the kind as its element name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// kindByTag maps an XML local name to a kind.
var kindByTag = func() map[string]Kind {
	m := make(map[string]Kind, len(kindNames))
	for k, s := range kindNames {
		if Kind(k) != Unsupported {
			m[s] = Kind(k)
		}
	}
	return m
}()

// IsEvent reports whether k is an event kind.
func (k Kind) IsEvent() bool { return k >= StartEvent && k <= BoundaryEvent }

// IsTask reports whether k is one of the task kinds.
func (k Kind) IsTask() bool { return k >= Task && k <= BusinessRuleTask }

// IsGateway reports whether k is a gateway kind.
func (k Kind) IsGateway() bool { return k >= ExclusiveGateway && k <= ComplexGateway }

// IsSubProcess reports whether k contains a nested scope (sub-process,
// transaction, ad-hoc sub-process).
func (k Kind) IsSubProcess() bool { return k >= SubProcess && k <= AdHocSubProcess }

// IsActivity reports whether k is an activity (a task, sub-process or call
// activity): something boundary events attach to and loops apply to.
func (k Kind) IsActivity() bool { return k.IsTask() || k.IsSubProcess() || k == CallActivity }

// Node is a flow node: an event, activity or gateway. Fields that do not
// apply to the node's Kind are zero.
type Node struct {
	Element
	Kind Kind `json:"kind"`
	// Tag is the XML local name of the element ("serviceTask"; for an
	// Unsupported node the unknown name, e.g. "dataStoreReference").
	Tag string `json:"tag,omitempty"`
	// Parent is the enclosing sub-process node, nil at process level.
	Parent *Node `json:"-"`
	// Process is the process the node belongs to (at any depth).
	Process *Process `json:"-"`
	// Lane is the id of the lane listing the node, if any.
	Lane string `json:"lane,omitempty"`

	// Incoming and Outgoing are the resolved sequence flows, in document
	// order of the flows (not of <incoming>/<outgoing> children, which the
	// parser does not trust).
	Incoming []*Flow `json:"-"`
	Outgoing []*Flow `json:"-"`

	// Events are the event definitions of an event, in document order.
	// Empty means a none event; more than one is a "multiple" event.
	Events []*EventDef `json:"events,omitempty"`
	// ParallelMultiple is the attribute of catching multiple events.
	ParallelMultiple bool `json:"parallelMultiple,omitempty"`

	// Boundary events: AttachedToRef as written (prefix stripped),
	// AttachedTo resolved, CancelActivity (defaults to true).
	AttachedToRef  string `json:"attachedToRef,omitempty"`
	AttachedTo     *Node  `json:"-"`
	CancelActivity bool   `json:"cancelActivity,omitempty"`
	// Boundaries are the boundary events attached to this activity, in
	// document order.
	Boundaries []*Node `json:"-"`

	// Gateways (and activities, which may also have a default flow):
	// DefaultRef as written, Default resolved.
	DefaultRef string `json:"default,omitempty"`
	Default    *Flow  `json:"-"`
	// GatewayDirection is "Unspecified", "Converging", "Diverging" or
	// "Mixed" as written ("" when absent).
	GatewayDirection string `json:"gatewayDirection,omitempty"`
	// Instantiate is the eventBasedGateway attribute.
	Instantiate bool `json:"instantiate,omitempty"`
	// EventGatewayType is the eventBasedGateway attribute ("Exclusive", "Parallel").
	EventGatewayType string `json:"eventGatewayType,omitempty"`

	// Activities.
	IsForCompensation bool `json:"isForCompensation,omitempty"`
	// Implementation is the BPMN implementation attribute (##WebService …).
	Implementation string `json:"implementation,omitempty"`
	// TaskDefinition is zeebe:taskDefinition (or Camunda 7 external topic).
	TaskDefinition *TaskDefinition `json:"taskDefinition,omitempty"`
	// Headers are zeebe:taskHeaders, in document order.
	Headers []Header `json:"headers,omitempty"`
	// Inputs and Outputs are zeebe:ioMapping (or camunda:inputOutput).
	Inputs  []Mapping `json:"inputs,omitempty"`
	Outputs []Mapping `json:"outputs,omitempty"`
	// Properties are zeebe:properties / camunda:properties.
	Properties []Property `json:"properties,omitempty"`
	// Loop is set for multiInstanceLoopCharacteristics or
	// standardLoopCharacteristics.
	Loop *Loop `json:"loop,omitempty"`
	// MessageRef (receiveTask, sendTask) as written; Message resolved.
	MessageRef string   `json:"messageRef,omitempty"`
	Message    *Message `json:"-"`
	// UserTask holds user task details (also set for a plain userTask).
	UserTask *UserTaskDef `json:"userTask,omitempty"`
	// Script is scriptTask's <script> text or zeebe:script expression;
	// ScriptFormat its language; ResultVariable the zeebe result variable.
	Script         string `json:"script,omitempty"`
	ScriptFormat   string `json:"scriptFormat,omitempty"`
	ResultVariable string `json:"resultVariable,omitempty"`
	// CalledDecision is businessRuleTask's zeebe:calledDecision decisionId.
	CalledDecision string `json:"calledDecision,omitempty"`

	// Call activities: CalledElement is zeebe:calledElement processId or
	// the BPMN calledElement attribute; PropagateAllChildVariables is the
	// zeebe attribute (nil when absent).
	CalledElement               string `json:"calledElement,omitempty"`
	CalledElementPos            Pos    `json:"-"`
	PropagateAllChildVariables  *bool  `json:"propagateAllChildVariables,omitempty"`
	PropagateAllParentVariables *bool  `json:"propagateAllParentVariables,omitempty"`

	// Sub-processes: TriggeredByEvent marks an event sub-process; Sub holds
	// the nested flow elements (non-nil for sub-process kinds).
	TriggeredByEvent bool   `json:"triggeredByEvent,omitempty"`
	Sub              *Scope `json:"sub,omitempty"`
	// CompletionCondition of an ad-hoc sub-process.
	CompletionCondition *Expr `json:"completionCondition,omitempty"`

	// Ext holds extension attributes on the element itself, keyed
	// "zeebe:x" / "camunda:x" (e.g. "camunda:type", "camunda:topic",
	// "camunda:class"), whatever the prefix used in the file.
	Ext map[string]string `json:"ext,omitempty"`
}

// EventKind returns the kind of the node's first event definition, or
// NoneEvent when it has none.
func (n *Node) EventKind() EventKind {
	if len(n.Events) == 0 {
		return NoneEvent
	}
	return n.Events[0].Kind
}

// Event returns the first event definition, or nil for a none event.
func (n *Node) Event() *EventDef {
	if len(n.Events) == 0 {
		return nil
	}
	return n.Events[0]
}

// TaskType returns the zeebe:taskDefinition type ("" when absent).
func (n *Node) TaskType() string {
	if n.TaskDefinition == nil {
		return ""
	}
	return n.TaskDefinition.Type
}

// Header returns the value of task header key and whether it exists.
func (n *Node) Header(key string) (string, bool) {
	for _, h := range n.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return "", false
}

// Flow is a <sequenceFlow>.
type Flow struct {
	Element
	// SourceRef and TargetRef are as written with any prefix stripped;
	// Source and Target are resolved (nil when dangling, which is
	// diagnosed).
	SourceRef string `json:"sourceRef"`
	TargetRef string `json:"targetRef"`
	Source    *Node  `json:"-"`
	Target    *Node  `json:"-"`
	// Condition is the <conditionExpression>, nil when absent.
	Condition *Expr `json:"condition,omitempty"`
	// IsImmediate is the attribute (nil when absent).
	IsImmediate *bool `json:"isImmediate,omitempty"`
	// IsDefault is true when the flow is its source's default flow.
	IsDefault bool `json:"isDefault,omitempty"`
	// Parent is the enclosing sub-process node, nil at process level.
	Parent *Node `json:"-"`
}

// Expr is an expression element (conditionExpression, timeDuration,
// loopCardinality …): its text (trimmed), language and position. For FEEL
// the text usually starts with '='.
type Expr struct {
	Text string `json:"text"`
	// Language is the language attribute, "" when absent.
	Language string `json:"language,omitempty"`
	// Pos is the position of the element; TextPos of its first non-space
	// character (what FEEL column offsets add to).
	Pos     Pos `json:"pos"`
	TextPos Pos `json:"textPos"`
}

// EventKind is the kind of an event definition.
type EventKind int

// The event definition kinds. NoneEvent is used for events without a
// definition; UnknownEvent for an unrecognised *EventDefinition element.
const (
	NoneEvent EventKind = iota
	MessageEvent
	TimerEvent
	ErrorEvent
	TerminateEvent
	SignalEvent
	EscalationEvent
	ConditionalEvent
	CompensateEvent
	LinkEvent
	CancelEvent
	UnknownEvent
)

var eventKindNames = [...]string{
	NoneEvent:        "none",
	MessageEvent:     "message",
	TimerEvent:       "timer",
	ErrorEvent:       "error",
	TerminateEvent:   "terminate",
	SignalEvent:      "signal",
	EscalationEvent:  "escalation",
	ConditionalEvent: "conditional",
	CompensateEvent:  "compensate",
	LinkEvent:        "link",
	CancelEvent:      "cancel",
	UnknownEvent:     "unknown",
}

// String returns the short name ("timer").
func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "unknown"
}

// MarshalText encodes the kind as its short name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// TimerKind says which of timeDuration, timeDate, timeCycle a timer uses.
type TimerKind int

// Timer kinds; NoTimer when the timer definition is empty.
const (
	NoTimer TimerKind = iota
	TimeDuration
	TimeDate
	TimeCycle
)

// String returns "timeDuration", "timeDate", "timeCycle" or "".
func (k TimerKind) String() string {
	switch k {
	case TimeDuration:
		return "timeDuration"
	case TimeDate:
		return "timeDate"
	case TimeCycle:
		return "timeCycle"
	}
	return ""
}

// MarshalText encodes the kind as its element name.
func (k TimerKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// EventDef is one event definition (<timerEventDefinition> …).
type EventDef struct {
	Kind EventKind `json:"kind"`
	// Tag is the XML local name (useful for UnknownEvent).
	Tag string `json:"tag,omitempty"`
	ID  string `json:"id,omitempty"`
	Pos Pos    `json:"pos"`
	// Ref is the messageRef, errorRef, signalRef, escalationRef or
	// activityRef (compensate) as written, prefix stripped; RefPos its
	// attribute position.
	Ref    string `json:"ref,omitempty"`
	RefPos Pos    `json:"-"`
	// Resolved references (nil when Ref is empty or dangling).
	Message    *Message    `json:"-"`
	Error      *Error      `json:"-"`
	Signal     *Signal     `json:"-"`
	Escalation *Escalation `json:"-"`
	// Timer: which expression and its text.
	TimerKind TimerKind `json:"timerKind,omitempty"`
	Timer     *Expr     `json:"timer,omitempty"`
	// Condition of a conditional event.
	Condition *Expr `json:"condition,omitempty"`
	// LinkName is a link event's name.
	LinkName string `json:"linkName,omitempty"`
	// WaitForCompletion of a compensate event (nil when absent).
	WaitForCompletion *bool `json:"waitForCompletion,omitempty"`
	// Camunda 7 errors: errorCodeVariable etc. are ignored.
}

// ErrorCode returns the errorCode of the referenced error ("" when none).
func (e *EventDef) ErrorCode() string {
	if e == nil || e.Error == nil {
		return ""
	}
	return e.Error.ErrorCode
}

// Loop is a loop marker: multi-instance (MultiInstance true) or standard.
type Loop struct {
	Pos           Pos  `json:"pos"`
	MultiInstance bool `json:"multiInstance"`

	// Multi-instance.
	IsSequential        bool  `json:"isSequential,omitempty"`
	LoopCardinality     *Expr `json:"loopCardinality,omitempty"`
	CompletionCondition *Expr `json:"completionCondition,omitempty"`
	// zeebe:loopCharacteristics (or camunda:collection/elementVariable).
	InputCollection  string `json:"inputCollection,omitempty"`
	InputElement     string `json:"inputElement,omitempty"`
	OutputCollection string `json:"outputCollection,omitempty"`
	OutputElement    string `json:"outputElement,omitempty"`
	// ExtPos is the position of zeebe:loopCharacteristics (zero if absent).
	ExtPos Pos `json:"-"`

	// Standard loop.
	LoopCondition *Expr `json:"loopCondition,omitempty"`
	TestBefore    bool  `json:"testBefore,omitempty"`
	// LoopMaximum as written ("" when absent).
	LoopMaximum string `json:"loopMaximum,omitempty"`
}

// TaskDefinition is zeebe:taskDefinition. For Camunda 7 external tasks
// (camunda:type="external") Type is camunda:topic.
type TaskDefinition struct {
	Type    string `json:"type"`
	Retries string `json:"retries,omitempty"`
	Pos     Pos    `json:"pos"`
	// TypePos and RetriesPos are the attribute positions.
	TypePos    Pos `json:"-"`
	RetriesPos Pos `json:"-"`
}

// Header is one zeebe:header (key/value) of zeebe:taskHeaders.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Pos   Pos    `json:"pos"`
}

// Mapping is a zeebe:input or zeebe:output (source is a FEEL expression,
// usually starting with '=', or a literal), or a Camunda 7
// inputParameter/outputParameter whose text becomes Source.
type Mapping struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Pos    Pos    `json:"pos"`
	// SourcePos is the position of the source attribute (or text).
	SourcePos Pos `json:"-"`
}

// Property is one zeebe:property / camunda:property.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Pos   Pos    `json:"pos"`
}

// UserTaskDef holds what the compiler needs of a user task.
type UserTaskDef struct {
	// Zeebe is true when <zeebe:userTask/> marks a Camunda-native user task.
	Zeebe           bool   `json:"zeebe,omitempty"`
	Assignee        string `json:"assignee,omitempty"`
	CandidateGroups string `json:"candidateGroups,omitempty"`
	CandidateUsers  string `json:"candidateUsers,omitempty"`
	FormKey         string `json:"formKey,omitempty"`
	FormID          string `json:"formId,omitempty"`
	DueDate         string `json:"dueDate,omitempty"`
	FollowUpDate    string `json:"followUpDate,omitempty"`
}
