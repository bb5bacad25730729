// Package asl is the Amazon States Language model the compiler emits: a
// state machine, its states and the few value shapes the JSONata query
// language needs, with deterministic, readable JSON output.
//
// The printer is the last stage of the compiler. It has two passes:
//
//  1. Marshal writes the definition with fields in the order the AWS
//     documentation shows them (Type, Comment, Resource, Arguments, …, Next
//     or End) and states in insertion order, indented by two spaces, with
//     HTML escaping off so JSONata operators stay readable (`<`, `>`, `&`).
//  2. Check validates what ASL itself limits and the printer cannot fix:
//     state names (1–80 characters, no control characters), unique names
//     across the whole machine (Parallel branches and Map processors
//     included), every Next/Default/Catch target present in its scope, and
//     the definition size (1 MiB).
//
// `${…}` strings (DefinitionSubstitutions for SAM/CloudFormation) are
// ordinary strings here and are left as they are.
package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// QueryLanguageJSONata is the only query language the compiler emits.
const QueryLanguageJSONata = "JSONata"

// Limits from the Step Functions quotas page.
const (
	// MaxDefinitionBytes is the largest state machine definition AWS accepts.
	MaxDefinitionBytes = 1 << 20
	// MaxStateNameLen is the longest state name. AWS documents 80
	// characters; the compiler counts UTF-8 bytes, the stricter reading
	// (the local engine's), so Cyrillic names are safe everywhere.
	MaxStateNameLen = 80
)

// Resources the compiler uses.
const (
	ResourceLambdaInvoke     = "arn:aws:states:::lambda:invoke"
	ResourceLambdaInvokeWait = "arn:aws:states:::lambda:invoke.waitForTaskToken"
	ResourceStartExecSync    = "arn:aws:states:::states:startExecution.sync:2"
)

// Well-known error names (ErrorEquals).
const (
	ErrorAll     = "States.ALL"
	ErrorTimeout = "States.Timeout"
)

// StateMachine is a whole definition; Branch is the same shape without the
// top-level fields and is used for Parallel branches and Map processors.
type StateMachine struct {
	Comment        string `json:"Comment,omitempty"`
	QueryLanguage  string `json:"QueryLanguage,omitempty"`
	StartAt        string `json:"StartAt"`
	States         States `json:"States"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`
}

// Branch is a Parallel branch.
type Branch struct {
	StartAt string `json:"StartAt"`
	States  States `json:"States"`
}

// ItemProcessor is a Map state's iteration body.
type ItemProcessor struct {
	ProcessorConfig *ProcessorConfig `json:"ProcessorConfig,omitempty"`
	StartAt         string           `json:"StartAt"`
	States          States           `json:"States"`
}

// ProcessorConfig selects the Map mode; the compiler emits INLINE only.
type ProcessorConfig struct {
	Mode string `json:"Mode"`
}

// States is an ordered set of named states; it marshals as a JSON object
// in insertion order.
type States []*State

// Get returns the state called name, or nil.
func (s States) Get(name string) *State {
	for _, st := range s {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// MarshalJSON writes the states as an object in slice order.
func (s States) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encode(&b, st.Name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encode(&b, st); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// State is any ASL state; Type says which fields apply. Fields are in the
// order the AWS documentation lists them, which is the output order.
type State struct {
	Name string `json:"-"`

	Type           string         `json:"Type"`
	Comment        string         `json:"Comment,omitempty"`
	Resource       string         `json:"Resource,omitempty"`
	Arguments      any            `json:"Arguments,omitempty"`
	Items          any            `json:"Items,omitempty"`
	ItemSelector   any            `json:"ItemSelector,omitempty"`
	MaxConcurrency int            `json:"MaxConcurrency,omitempty"`
	ItemProcessor  *ItemProcessor `json:"ItemProcessor,omitempty"`
	Branches       []*Branch      `json:"Branches,omitempty"`
	Choices        []*ChoiceRule  `json:"Choices,omitempty"`
	Default        string         `json:"Default,omitempty"`
	Seconds        any            `json:"Seconds,omitempty"`
	Timestamp      string         `json:"Timestamp,omitempty"`
	TimeoutSeconds any            `json:"TimeoutSeconds,omitempty"` // int ≥ 1 or a JSONata string
	Output         any            `json:"Output,omitempty"`
	Assign         *Object        `json:"Assign,omitempty"`
	Retry          []*Retrier     `json:"Retry,omitempty"`
	Catch          []*Catcher     `json:"Catch,omitempty"`
	Error          string         `json:"Error,omitempty"`
	Cause          string         `json:"Cause,omitempty"`
	Next           string         `json:"Next,omitempty"`
	End            bool           `json:"End,omitempty"`
}

// State types.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
)

// ChoiceRule is one JSONata Choice rule.
type ChoiceRule struct {
	Condition string  `json:"Condition"`
	Comment   string  `json:"Comment,omitempty"`
	Assign    *Object `json:"Assign,omitempty"`
	Next      string  `json:"Next"`
}

// Retrier is one Retry entry.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds,omitempty"`
	MaxAttempts     *int     `json:"MaxAttempts,omitempty"`
	BackoffRate     float64  `json:"BackoffRate,omitempty"`
	MaxDelaySeconds int      `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Comment     string   `json:"Comment,omitempty"`
	Assign      *Object  `json:"Assign,omitempty"`
	Output      any      `json:"Output,omitempty"`
	Next        string   `json:"Next"`
}

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object that keeps its keys in insertion order, so
// payloads read the way the design documents them (applicationId, service,
// step, …) rather than alphabetically.
type Object struct {
	Fields []Field
}

// NewObject returns an object with the given alternating keys and values.
func NewObject(kv ...any) *Object {
	o := &Object{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Set adds key or replaces its value in place.
func (o *Object) Set(key string, v any) {
	for i := range o.Fields {
		if o.Fields[i].Key == key {
			o.Fields[i].Value = v
			return
		}
	}
	o.Fields = append(o.Fields, Field{key, v})
}

// Get returns the value of key.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for _, f := range o.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// Len returns the number of keys; a nil object has none.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Fields)
}

// MarshalJSON writes the fields in insertion order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if o != nil {
		for i, f := range o.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encode(&b, f.Key); err != nil {
				return nil, err
			}
			b.WriteByte(':')
			if err := encode(&b, f.Value); err != nil {
				return nil, err
			}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Expr wraps JSONata text in the `{% … %}` delimiters of a JSONata field.
// Newlines are folded into spaces: JSONata does not need them and
// validators match the delimiters line by line.
func Expr(jsonata string) string {
	s := strings.Join(strings.Fields(jsonata), " ")
	return "{% " + s + " %}"
}

func encode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// Encoder adds a newline; drop it.
	b.Truncate(b.Len() - 1)
	return nil
}

// Marshal returns the definition as indented JSON (two spaces, trailing
// newline). The same StateMachine always gives the same bytes.
func Marshal(sm *StateMachine) ([]byte, error) {
	var compact bytes.Buffer
	if err := encode(&compact, sm); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Problem is a limit or consistency violation found by Check.
type Problem struct {
	State   string // the state the problem is in ("" for the whole machine)
	Comment string // its Comment (bpmn:<elementId>), to map back to BPMN
	Msg     string
}

func (p Problem) String() string {
	if p.State == "" {
		return p.Msg
	}
	return fmt.Sprintf("state %q: %s", p.State, p.Msg)
}

// ValidStateName reports why name is not a valid state name, or "".
func ValidStateName(name string) string {
	n := len(name)
	switch {
	case n == 0:
		return "state name is empty"
	case n > MaxStateNameLen:
		return fmt.Sprintf("state name has %d bytes (UTF-8), the limit is %d", n, MaxStateNameLen)
	case !utf8.ValidString(name):
		return "state name is not valid UTF-8"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("state name contains control character %U", r)
		}
	}
	return ""
}

// Check returns every limit or consistency problem of sm; size is the
// length of the marshalled definition (0 skips the size check).
func Check(sm *StateMachine, size int) []Problem {
	var ps []Problem
	if size > MaxDefinitionBytes {
		ps = append(ps, Problem{Msg: fmt.Sprintf("definition is %d bytes, the Step Functions limit is %d (1 MiB)", size, MaxDefinitionBytes)})
	}
	seen := map[string]bool{}
	checkScope(sm.StartAt, sm.States, seen, &ps)
	return ps
}

func checkScope(startAt string, states States, seen map[string]bool, ps *[]Problem) {
	if len(states) == 0 {
		*ps = append(*ps, Problem{Msg: "a scope has no states"})
		return
	}
	if states.Get(startAt) == nil {
		*ps = append(*ps, Problem{Msg: fmt.Sprintf("StartAt %q names no state in its scope", startAt)})
	}
	for _, st := range states {
		add := func(msg string) { *ps = append(*ps, Problem{State: st.Name, Comment: st.Comment, Msg: msg}) }
		if m := ValidStateName(st.Name); m != "" {
			add(m)
		}
		if seen[st.Name] {
			add("state name is used twice")
		}
		seen[st.Name] = true
		target := func(kind, name string) {
			if name != "" && states.Get(name) == nil {
				add(fmt.Sprintf("%s %q names no state in the same scope", kind, name))
			}
		}
		target("Next", st.Next)
		target("Default", st.Default)
		for _, c := range st.Choices {
			target("Choice Next", c.Next)
		}
		for _, c := range st.Catch {
			target("Catch Next", c.Next)
		}
		terminal := st.Type == TypeSucceed || st.Type == TypeFail || st.Type == TypeChoice
		if !terminal && st.Next == "" && !st.End {
			add("state has neither Next nor End")
		}
		for _, br := range st.Branches {
			checkScope(br.StartAt, br.States, seen, ps)
		}
		if st.ItemProcessor != nil {
			checkScope(st.ItemProcessor.StartAt, st.ItemProcessor.States, seen, ps)
		}
	}
}
