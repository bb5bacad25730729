package diag

// Code is the stable identifier of a kind of problem ("BPMN014"). Codes are
// API: never renumber or reuse one. Ranges:
//
//	BPMN0xx  reading the file and resolving the model (package bpmn)
//	BPMN1xx  structure: control flow the compiler cannot map to ASL
//	BPMN2xx  tasks, events and ASL emission
//	BPMN3xx  FEEL expressions
//	BPMN9xx  the command line (files, options)
type Code string

// Info documents one code: its default severity and a one-line summary.
type Info struct {
	Code     Code
	Severity Severity
	Summary  string
}

// The codes. Keep this list in numeric order; testdata/codes.golden is its
// snapshot.
const (
	// Parse and model (package bpmn).
	MalformedXML        Code = "BPMN001"
	NotBPMN             Code = "BPMN002"
	BadEncoding         Code = "BPMN003"
	TooDeep             Code = "BPMN004"
	UndeclaredPrefix    Code = "BPMN005"
	NoProcess           Code = "BPMN010"
	NoFlowElements      Code = "BPMN011"
	DuplicateID         Code = "BPMN012"
	MissingID           Code = "BPMN013"
	DanglingFlowRef     Code = "BPMN014"
	BoundaryNotAttached Code = "BPMN015"
	DanglingRef         Code = "BPMN016"
	DefaultNotOutgoing  Code = "BPMN017"
	FlowCrossesScope    Code = "BPMN018"
	UnknownElement      Code = "BPMN020"
	UnknownEventDef     Code = "BPMN021"
	BadAttribute        Code = "BPMN022"
	NotExecutable       Code = "BPMN023"
	// BPMN025 is retired (never used); do not reuse.
	MissingProcessRef     Code = "BPMN024"
	DuplicateEventDef     Code = "BPMN026"
	UnknownExtensionField Code = "BPMN027"

	// Structure.
	NoStartEvent           Code = "BPMN100"
	MultipleStartEvents    Code = "BPMN101"
	NoEndReachable         Code = "BPMN102"
	Unreachable            Code = "BPMN103"
	MissingDefaultFlow     Code = "BPMN104"
	UnstructuredConcurrent Code = "BPMN105"
	DeadEnd                Code = "BPMN106"
	UnsupportedElement     Code = "BPMN107"
	UnsupportedEventDef    Code = "BPMN108"
	ImplicitSplit          Code = "BPMN109"
	EndlessLoop            Code = "BPMN110"
	ConditionOutsideSplit  Code = "BPMN111"
	ImplicitMerge          Code = "BPMN112"
	MixedGateway           Code = "BPMN113"

	// Tasks, events, ASL.
	MissingTaskType       Code = "BPMN200"
	UnknownTaskType       Code = "BPMN201"
	BadRetries            Code = "BPMN202"
	BadTimer              Code = "BPMN203"
	MissingErrorCode      Code = "BPMN204"
	MissingCalledElement  Code = "BPMN205"
	MissingCorrelationKey Code = "BPMN206"
	BadMultiInstance      Code = "BPMN207"
	DefinitionTooLarge    Code = "BPMN208"
	UnsupportedBoundary   Code = "BPMN209"
	StateNameAdjusted     Code = "BPMN210"
	BadTaskHeader         Code = "BPMN211"
	BadLoop               Code = "BPMN212"

	// FEEL.
	FEELSyntax      Code = "BPMN300"
	FEELUnsupported Code = "BPMN301"
	BadMapping      Code = "BPMN302"
	UnknownVariable Code = "BPMN303"

	// Command line.
	CannotRead  Code = "BPMN900"
	BadCoverage Code = "BPMN901"
	Internal    Code = "BPMN999"
)

var codeTable = []Info{
	{MalformedXML, Error, "the file is not well-formed XML"},
	{NotBPMN, Error, "the root element is not BPMN 2.0 <definitions> (namespace http://www.omg.org/spec/BPMN/20100524/MODEL)"},
	{BadEncoding, Error, "the declared character encoding is not supported (use UTF-8, ISO-8859-1 or windows-1252)"},
	{TooDeep, Error, "the document nests elements too deeply or is too large to be a BPMN model"},
	{UndeclaredPrefix, Warning, "a well-known namespace prefix (bpmn:, zeebe:, camunda:, …) is used without being declared; it is read as that namespace"},
	{NoProcess, Error, "the definitions contain no <process>"},
	{NoFlowElements, Error, "a process contains no flow elements"},
	{DuplicateID, Error, "two elements share the same id"},
	{MissingID, Error, "a flow element or flow has no id"},
	{DanglingFlowRef, Error, "a sequence flow's sourceRef or targetRef names no flow node"},
	{BoundaryNotAttached, Error, "a boundary event's attachedToRef names no activity"},
	{DanglingRef, Error, "a reference (messageRef, errorRef, default, processRef, …) names no element of the right kind"},
	{DefaultNotOutgoing, Error, "a gateway's or activity's default flow is not one of its outgoing flows"},
	{FlowCrossesScope, Error, "a sequence flow connects elements of different (sub)processes"},
	{UnknownElement, Warning, "an element the parser does not know; kept as an unsupported node"},
	{UnknownEventDef, Warning, "an event definition the parser does not know"},
	{BadAttribute, Error, "an attribute has a value of the wrong form (boolean, number)"},
	{NotExecutable, Warning, "the process is not marked isExecutable=\"true\""},
	{MissingProcessRef, Warning, "a collaboration participant has no processRef or names no process"},
	{DuplicateEventDef, Warning, "an event has several event definitions (a multiple event)"},
	{UnknownExtensionField, Warning, "a Zeebe extension element the compiler ignores (execution or task listeners, …)"},

	{NoStartEvent, Error, "a process or sub-process has no start event"},
	{MultipleStartEvents, Error, "a process or sub-process has more than one start event the compiler can start from"},
	{NoEndReachable, Error, "no end event is reachable from this element"},
	{Unreachable, Error, "the element cannot be reached from the start event"},
	{MissingDefaultFlow, Error, "an exclusive or inclusive split has an outgoing flow without condition that is not the default flow, or no default flow"},
	{UnstructuredConcurrent, Error, "parallel or inclusive branches are not single-entry-single-exit (split and join do not match)"},
	{DeadEnd, Error, "a gateway or activity (other than an end event) has no outgoing flow"},
	{UnsupportedElement, Error, "the element kind is not supported by the compiler"},
	{UnsupportedEventDef, Error, "the event definition is not supported here"},
	{ImplicitSplit, Error, "an activity or event has several outgoing flows (an implicit split); use a gateway"},
	{EndlessLoop, Error, "a cycle has no exit towards an end event"},
	{ConditionOutsideSplit, Warning, "a condition on a flow that does not leave an exclusive or inclusive gateway is ignored"},
	{ImplicitMerge, Warning, "an activity has several incoming flows (an implicit merge); use a gateway"},
	{MixedGateway, Warning, "a gateway both joins and splits; it is treated as a join followed by a split"},

	{MissingTaskType, Error, "a service, send or business rule task has no zeebe:taskDefinition type"},
	{UnknownTaskType, Error, "the task type is not one of registry.read, event.write, document.sign, document.pdf or custom.<name>"},
	{BadRetries, Error, "zeebe:taskDefinition retries is not a non-negative integer"},
	{BadTimer, Error, "a timer definition is not a valid ISO 8601 duration, date or cycle (or a supported expression)"},
	{MissingErrorCode, Error, "an error event names no error, or the error has no errorCode"},
	{MissingCalledElement, Error, "a call activity has no called process id"},
	{MissingCorrelationKey, Error, "a message catch event or receive task has no message or correlation key"},
	{BadMultiInstance, Error, "multi-instance characteristics lack an input collection or are malformed"},
	{DefinitionTooLarge, Error, "the compiled definition exceeds an AWS Step Functions limit (definition size, state count, name length)"},
	{UnsupportedBoundary, Error, "a boundary event cannot be expressed in ASL on this activity"},
	{StateNameAdjusted, Warning, "a state name was shortened or changed to stay unique and within 80 characters"},
	{BadTaskHeader, Error, "a task header is missing a key or repeats one"},
	{BadLoop, Error, "standard loop characteristics without a loop condition or with an invalid maximum"},

	{FEELSyntax, Error, "a FEEL expression does not parse"},
	{FEELUnsupported, Error, "a FEEL construct outside the supported subset"},
	{BadMapping, Error, "an ioMapping or output mapping has an invalid source or target"},
	{UnknownVariable, Warning, "an expression reads a variable no earlier step defines"},

	{CannotRead, Error, "the input file or directory cannot be read"},
	{BadCoverage, Error, "the coverage file is not {\"elements\": {id: hits}, \"flows\": {id: hits}}"},
	{Internal, Error, "an internal compiler error (a bug: please report it with the BPMN file)"},
}

var codeIndex = func() map[Code]Info {
	m := make(map[Code]Info, len(codeTable))
	for _, i := range codeTable {
		m[i.Code] = i
	}
	return m
}()

// Codes returns every registered code in numeric order.
func Codes() []Info {
	out := make([]Info, len(codeTable))
	copy(out, codeTable)
	return out
}

// Info returns the registered documentation of c.
func (c Code) Info() (Info, bool) {
	i, ok := codeIndex[c]
	return i, ok
}

// Severity returns the registered default severity of c (Error for an
// unregistered code).
func (c Code) Severity() Severity {
	if i, ok := codeIndex[c]; ok {
		return i.Severity
	}
	return Error
}
