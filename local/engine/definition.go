package engine

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/posluha/posluha/query/intrinsic"
	"github.com/posluha/posluha/query/jsonata"
	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

// Query languages of a state machine or a state.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// Definition is a parsed and validated state machine (or the body of a
// Parallel branch or a Map item processor). It is immutable and shared by
// every execution of the version it belongs to.
type Definition struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	Order          []string // state names as written
	QueryLanguage  string   // of this machine; states inherit it
	TimeoutSeconds int      // 0 = none
	Version        string
	hasTask        bool // some state (also nested) is a Task: branches run concurrently
}

// State is one parsed state. Fields not used by its Type are zero.
type State struct {
	// Made once at parse time: every transition's two events need them,
	// and boxing the name or joining the type names allocated each time.
	nameV                   any // Name as a value
	enteredType, exitedType string

	Name    string
	Type    string // Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map
	Lang    string // effective query language
	Comment string
	Next    string
	End     bool

	// JSONPath I/O. A nil *optPath is "absent"; optPath.null is an explicit null.
	InputPath      *optPath
	OutputPath     *optPath
	ResultPath     *optPath
	Parameters     *tmpl
	ResultSelector *tmpl
	// JSONata I/O.
	Arguments *tmpl
	Output    *tmpl
	Assign    *tmpl

	Result    any // Pass
	HasResult bool

	// Task.
	Resource         string
	res              resource
	TimeoutSeconds   *numField
	HeartbeatSeconds *numField
	Credentials      any

	Retry []*Retrier
	Catch []*Catcher

	// Choice.
	Choices []*ChoiceRule
	Default string

	// Wait.
	Seconds   *numField
	Timestamp *strField

	// Fail.
	Error *strField
	Cause *strField

	// Parallel.
	Branches []*Definition

	// Map.
	Processor        *Definition
	Distributed      bool
	ItemsPath        *optPath
	Items            *tmpl
	ItemSelector     *tmpl
	MaxConcurrency   *numField
	ToleratedCount   *numField
	ToleratedPercent *numField
	ItemBatcher      *ItemBatcher
	ItemReader       *ItemReader
	ResultWriter     *ResultWriter
	Label            string
}

// Retrier is one element of a state's Retry list.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64 // 0 = none
	JitterFull      bool
}

// Catcher is one element of a state's Catch list.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  *optPath
	Output      *tmpl
	Assign      *tmpl
}

// ItemBatcher groups Map items into batches.
type ItemBatcher struct {
	MaxItems   *numField
	MaxBytes   *numField
	BatchInput *tmpl
}

// ItemReader describes where a distributed Map reads its items.
type ItemReader struct {
	Resource     string
	Parameters   *tmpl // Parameters or Arguments
	InputType    string
	CSVHeaders   []string
	HeaderFirst  bool
	CSVDelimiter string
	MaxItems     *numField
}

// ResultWriter describes where a distributed Map writes its results.
type ResultWriter struct {
	Resource   string
	Parameters *tmpl
}

// optPath is an optional JSONPath field that may be an explicit null.
type optPath struct {
	null bool
	path *jsonpath.Path
	src  string
}

// numField is a number given as a literal, a JSONPath (…Path fields) or a
// JSONata template.
type numField struct {
	lit  float64
	path *jsonpath.Path
	expr *jsonata.Expr
	src  string
	name string // field name for error texts: "SecondsPath", "MaxConcurrency"…
}

// strField is a string given as a literal, a JSONPath or a JSONata template.
type strField struct {
	lit  string
	path *jsonpath.Path
	call *intrinsic.Call
	expr *jsonata.Expr
	src  string
	name string
}

// Diagnostic is one problem found in a definition, shaped like a
// ValidateStateMachineDefinition diagnostic.
type Diagnostic struct {
	Severity string // ERROR or WARNING
	Code     string // SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, INVALID_JSON_DESCRIPTION…
	Message  string
	Location string // /States/X/Field
}

// DefinitionError reports why a definition was rejected. Its text follows
// CreateStateMachine's InvalidDefinition message.
type DefinitionError struct {
	Diagnostics []Diagnostic
}

// Error returns AWS's wording: Invalid State Machine Definition: 'CODE: msg at /loc'.
func (e *DefinitionError) Error() string {
	parts := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		parts[i] = d.Code + ": " + d.Message
		if d.Location != "" {
			parts[i] += " at " + d.Location
		}
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

// Parse parses and validates an ASL definition. Errors are *DefinitionError.
func Parse(src []byte) (*Definition, error) {
	v, err := value.Parse(src)
	if err != nil {
		return nil, &DefinitionError{Diagnostics: []Diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: err.Error()}}}
	}
	obj, ok := v.(*value.Object)
	if !ok {
		return nil, &DefinitionError{Diagnostics: []Diagnostic{{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: "Expected value of type: Object"}}}
	}
	p := &parser{}
	d := p.machine(obj, "", JSONPath, true)
	if len(p.diags) > 0 {
		sort.SliceStable(p.diags, func(i, j int) bool { return p.diags[i].Location < p.diags[j].Location })
		return nil, &DefinitionError{Diagnostics: p.diags}
	}
	return d, nil
}

type parser struct {
	diags []Diagnostic
}

func (p *parser) fail(loc, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: fmt.Sprintf(format, args...), Location: loc})
}

func (p *parser) failCode(code, loc, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Severity: "ERROR", Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

// fields checks that obj has only the allowed keys.
func (p *parser) fields(obj *value.Object, loc string, allowed map[string]bool) {
	for _, m := range obj.Members() {
		if !allowed[m.Key] {
			p.fail(loc, "Field %q is not supported", m.Key)
		}
	}
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var machineFields = set("Comment", "StartAt", "States", "QueryLanguage", "TimeoutSeconds", "Version", "ProcessorConfig")

func (p *parser) str(obj *value.Object, key, loc string, required bool) (string, bool) {
	v, ok := obj.Get(key)
	if !ok {
		if required {
			p.fail(loc, "The field %q is required", key)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.fail(loc+"/"+key, "Expected value of type: String")
		return "", false
	}
	return s, true
}

func (p *parser) machine(obj *value.Object, loc, inheritLang string, top bool) *Definition {
	d := &Definition{States: map[string]*State{}}
	if top {
		p.fields(obj, loc, machineFields)
	}
	d.Comment, _ = p.str(obj, "Comment", loc, false)
	d.StartAt, _ = p.str(obj, "StartAt", loc, true)
	d.QueryLanguage = inheritLang
	if ql, ok := p.str(obj, "QueryLanguage", loc, false); ok {
		if ql != JSONPath && ql != JSONata {
			p.fail(loc+"/QueryLanguage", "Value %q is not a valid enum value (JSONPath, JSONata)", ql)
		} else {
			d.QueryLanguage = ql
		}
	}
	if top {
		if v, ok := p.str(obj, "Version", loc, false); ok {
			if v != "1.0" {
				p.fail(loc+"/Version", "The value of the field 'Version' must be '1.0'")
			}
			d.Version = v
		}
		if t, ok := obj.Get("TimeoutSeconds"); ok {
			f, isNum := t.(float64)
			if !isNum || f != math.Trunc(f) || f < 0 || f > 99999999 {
				p.fail(loc+"/TimeoutSeconds", "Expected a non-negative integer")
			} else {
				d.TimeoutSeconds = int(f)
			}
		}
	}
	sv, ok := obj.Get("States")
	if !ok {
		p.fail(loc, "The field \"States\" is required")
		return d
	}
	states, ok := sv.(*value.Object)
	if !ok {
		p.fail(loc+"/States", "Expected value of type: Object")
		return d
	}
	if states.Len() == 0 {
		p.fail(loc+"/States", "The field \"States\" must not be empty")
	}
	for _, m := range states.Members() {
		sloc := loc + "/States/" + m.Key
		so, ok := m.Value.(*value.Object)
		if !ok {
			p.fail(sloc, "Expected value of type: Object")
			continue
		}
		if len(m.Key) > 80 {
			p.fail(sloc, "State name %q is longer than 80 characters", m.Key)
		}
		st := p.state(m.Key, so, sloc, d.QueryLanguage)
		if st == nil {
			continue
		}
		if st.Type == "Task" || (st.Type == "Parallel" && anyHasTask(st.Branches)) || (st.Type == "Map" && st.Processor != nil && st.Processor.hasTask) {
			d.hasTask = true
		}
		d.States[m.Key] = st
		d.Order = append(d.Order, m.Key)
	}
	if d.StartAt != "" && len(d.States) > 0 {
		if _, ok := d.States[d.StartAt]; !ok {
			p.failCode("MISSING_TRANSITION_TARGET", loc+"/StartAt", "Missing 'Next' target: %s", d.StartAt)
		}
	}
	p.transitions(d, loc)
	return d
}

func anyHasTask(ds []*Definition) bool {
	for _, d := range ds {
		if d != nil && d.hasTask {
			return true
		}
	}
	return false
}

// transitions checks that every Next/Default/Choice target exists and that
// every state can end somewhere.
func (p *parser) transitions(d *Definition, loc string) {
	check := func(target, at string) {
		if target == "" {
			return
		}
		if _, ok := d.States[target]; !ok {
			p.failCode("MISSING_TRANSITION_TARGET", at, "Missing 'Next' target: %s", target)
		}
	}
	for _, name := range d.Order {
		st := d.States[name]
		sloc := loc + "/States/" + name
		check(st.Next, sloc+"/Next")
		check(st.Default, sloc+"/Default")
		for i, c := range st.Choices {
			check(c.Next, fmt.Sprintf("%s/Choices/%d/Next", sloc, i))
		}
		for i, c := range st.Catch {
			check(c.Next, fmt.Sprintf("%s/Catch/%d/Next", sloc, i))
		}
	}
}

var commonFields = []string{"Type", "Comment", "QueryLanguage"}

var stateFields = map[string]map[string]bool{
	"Pass":     set(append(commonFields, "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign", "Output")...),
	"Task":     set(append(commonFields, "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Assign", "Arguments", "Output", "Credentials")...),
	"Choice":   set(append(commonFields, "InputPath", "OutputPath", "Choices", "Default", "Assign", "Output")...),
	"Wait":     set(append(commonFields, "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign", "Output")...),
	"Succeed":  set(append(commonFields, "InputPath", "OutputPath", "Output")...),
	"Fail":     set(append(commonFields, "Error", "ErrorPath", "Cause", "CausePath")...),
	"Parallel": set(append(commonFields, "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Branches", "Retry", "Catch", "Assign", "Arguments", "Output")...),
	"Map": set(append(commonFields, "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Retry", "Catch", "Assign", "Arguments", "Output",
		"ItemsPath", "Items", "ItemSelector", "Iterator", "ItemProcessor", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath",
		"ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ItemBatcher", "ItemReader", "ResultWriter", "Label")...),
}

// jsonPathOnly and jsonataOnly fields are rejected in the other language.
// (AWS documents these five as JSONPath-only; the rest is accepted.)
var jsonPathOnly = set("InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector")
var jsonataOnly = set("Arguments", "Output", "Items")

func (p *parser) state(name string, obj *value.Object, loc, inherit string) *State {
	st := &State{Name: name, Lang: inherit}
	typ, ok := p.str(obj, "Type", loc, true)
	if !ok {
		return nil
	}
	allowed, ok := stateFields[typ]
	if !ok {
		p.fail(loc+"/Type", "Value %q is not a valid enum value", typ)
		return nil
	}
	st.Type = typ
	st.nameV, st.enteredType, st.exitedType = name, typ+"StateEntered", typ+"StateExited"
	p.fields(obj, loc, allowed)
	st.Comment, _ = p.str(obj, "Comment", loc, false)
	if ql, ok := p.str(obj, "QueryLanguage", loc, false); ok {
		switch {
		case ql != JSONPath && ql != JSONata:
			p.fail(loc+"/QueryLanguage", "Value %q is not a valid enum value (JSONPath, JSONata)", ql)
		default:
			st.Lang = ql
		}
	}
	for _, m := range obj.Members() {
		if st.Lang == JSONata && jsonPathOnly[m.Key] {
			p.fail(loc, "The field %q is not supported for JSONata. Use Arguments and Output instead", m.Key)
		}
		if st.Lang == JSONPath && jsonataOnly[m.Key] {
			p.fail(loc, "The field %q is not supported for JSONPath", m.Key)
		}
	}
	// Transitions.
	switch typ {
	case "Choice", "Succeed", "Fail":
	default:
		next, hasNext := p.str(obj, "Next", loc, false)
		endV, hasEnd := obj.Get("End")
		end, _ := endV.(bool)
		if hasEnd {
			if _, isBool := endV.(bool); !isBool {
				p.fail(loc+"/End", "Expected value of type: Boolean")
			}
		}
		switch {
		case hasNext && end:
			p.fail(loc, "Only one of \"Next\" or \"End\" can be present")
		case !hasNext && !end:
			p.fail(loc, "Missing required field \"Next\" or \"End\"")
		}
		st.Next, st.End = next, end
	}
	p.io(st, obj, loc)
	switch typ {
	case "Pass":
		if r, ok := obj.Get("Result"); ok {
			st.Result, st.HasResult = r, true
		}
	case "Task":
		p.task(st, obj, loc)
	case "Choice":
		p.choice(st, obj, loc)
	case "Wait":
		p.wait(st, obj, loc)
	case "Fail":
		st.Error = p.strOrPath(st, obj, loc, "Error", "ErrorPath")
		st.Cause = p.strOrPath(st, obj, loc, "Cause", "CausePath")
	case "Parallel":
		bv, ok := obj.Get("Branches")
		arr, isArr := bv.([]any)
		if !ok || !isArr {
			p.fail(loc, "The field \"Branches\" is required and must be an array")
		}
		for i, b := range arr {
			bo, ok := b.(*value.Object)
			if !ok {
				p.fail(fmt.Sprintf("%s/Branches/%d", loc, i), "Expected value of type: Object")
				continue
			}
			st.Branches = append(st.Branches, p.machine(bo, fmt.Sprintf("%s/Branches/%d", loc, i), st.Lang, false))
		}
	case "Map":
		p.mapState(st, obj, loc)
	}
	if typ == "Task" || typ == "Parallel" || typ == "Map" {
		p.retryCatch(st, obj, loc)
	}
	return st
}

// io parses the input/output fields shared by most states.
func (p *parser) io(st *State, obj *value.Object, loc string) {
	if st.Lang == JSONPath {
		st.InputPath = p.optPath(obj, "InputPath", loc)
		st.OutputPath = p.optPath(obj, "OutputPath", loc)
		st.ResultPath = p.optPath(obj, "ResultPath", loc)
		if v, ok := obj.Get("Parameters"); ok {
			st.Parameters = p.jpTemplate(v, loc+"/Parameters", "Parameters")
		}
		if v, ok := obj.Get("ResultSelector"); ok {
			st.ResultSelector = p.jpTemplate(v, loc+"/ResultSelector", "ResultSelector")
		}
		if v, ok := obj.Get("Assign"); ok {
			if _, isObj := v.(*value.Object); !isObj {
				p.fail(loc+"/Assign", "Expected value of type: Object")
			} else {
				st.Assign = p.jpTemplate(v, loc+"/Assign", "Assign")
			}
		}
		return
	}
	if v, ok := obj.Get("Arguments"); ok {
		st.Arguments = p.jaTemplate(v, loc+"/Arguments", "Arguments")
	}
	if v, ok := obj.Get("Output"); ok {
		st.Output = p.jaTemplate(v, loc+"/Output", "Output")
	}
	if v, ok := obj.Get("Assign"); ok {
		if _, isObj := v.(*value.Object); !isObj {
			p.fail(loc+"/Assign", "Expected value of type: Object")
		} else {
			st.Assign = p.jaTemplate(v, loc+"/Assign", "Assign")
		}
	}
}

func (p *parser) optPath(obj *value.Object, key, loc string) *optPath {
	v, ok := obj.Get(key)
	if !ok {
		return nil
	}
	if v == nil {
		return &optPath{null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.fail(loc+"/"+key, "Expected value of type: String or null")
		return nil
	}
	path, err := jsonpath.Compile(s)
	if err != nil {
		p.fail(loc+"/"+key, "The value for the field '%s' must be a valid JSONPath: %s", key, s)
		return nil
	}
	if key == "ResultPath" && (path.Root() != jsonpath.RootInput || !path.Definite()) {
		p.fail(loc+"/"+key, "The value for the field '%s' must be a valid Reference Path: %s", key, s)
		return nil
	}
	return &optPath{path: path, src: s}
}

// numOrPath parses a numeric field that may also come as key+"Path" (JSONPath)
// or a JSONata template (JSONata).
func (p *parser) numOrPath(st *State, obj *value.Object, loc, key, pathKey string, integer bool) *numField {
	v, hasV := obj.Get(key)
	pv, hasP := obj.Get(pathKey)
	if hasV && hasP {
		p.fail(loc, "Only one of %q or %q can be present", key, pathKey)
		return nil
	}
	if hasP {
		s, ok := pv.(string)
		if !ok {
			p.fail(loc+"/"+pathKey, "Expected value of type: String")
			return nil
		}
		path, err := jsonpath.Compile(s)
		if err != nil {
			p.fail(loc+"/"+pathKey, "The value for the field '%s' must be a valid JSONPath: %s", pathKey, s)
			return nil
		}
		return &numField{path: path, src: s, name: pathKey}
	}
	if !hasV {
		return nil
	}
	switch t := v.(type) {
	case float64:
		if integer && t != math.Trunc(t) {
			p.fail(loc+"/"+key, "Expected value of type: Integer")
			return nil
		}
		return &numField{lit: t, name: key}
	case string:
		if src, ok := jsonataSource(t); ok && st.Lang == JSONata {
			e, err := jsonata.Compile(src)
			if err != nil {
				p.fail(loc+"/"+key, "The JSONata expression '%s' is invalid: %v", src, err)
				return nil
			}
			return &numField{expr: e, src: src, name: key}
		}
	}
	p.fail(loc+"/"+key, "Expected value of type: Integer")
	return nil
}

func (p *parser) strOrPath(st *State, obj *value.Object, loc, key, pathKey string) *strField {
	v, hasV := obj.Get(key)
	pv, hasP := obj.Get(pathKey)
	if hasV && hasP {
		p.fail(loc, "Only one of %q or %q can be present", key, pathKey)
		return nil
	}
	if hasP {
		s, ok := pv.(string)
		if !ok {
			p.fail(loc+"/"+pathKey, "Expected value of type: String")
			return nil
		}
		if intrinsicLike(s) {
			c, err := compileIntrinsic(s)
			if err != nil {
				p.fail(loc+"/"+pathKey, "The value for the field '%s' must be a valid JSONPath or intrinsic function: %s", pathKey, s)
				return nil
			}
			return &strField{src: s, name: pathKey, call: c}
		}
		path, err := jsonpath.Compile(s)
		if err != nil {
			p.fail(loc+"/"+pathKey, "The value for the field '%s' must be a valid JSONPath: %s", pathKey, s)
			return nil
		}
		return &strField{path: path, src: s, name: pathKey}
	}
	if !hasV {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		p.fail(loc+"/"+key, "Expected value of type: String")
		return nil
	}
	if src, ok := jsonataSource(s); ok && st.Lang == JSONata {
		e, err := jsonata.Compile(src)
		if err != nil {
			p.fail(loc+"/"+key, "The JSONata expression '%s' is invalid: %v", src, err)
			return nil
		}
		return &strField{expr: e, src: src, name: key}
	}
	return &strField{lit: s, name: key}
}

func (p *parser) task(st *State, obj *value.Object, loc string) {
	st.Resource, _ = p.str(obj, "Resource", loc, true)
	if st.Resource != "" {
		r, err := parseResource(st.Resource)
		if err != nil {
			p.fail(loc+"/Resource", "%v", err)
		}
		st.res = r
	}
	st.TimeoutSeconds = p.numOrPath(st, obj, loc, "TimeoutSeconds", "TimeoutSecondsPath", true)
	st.HeartbeatSeconds = p.numOrPath(st, obj, loc, "HeartbeatSeconds", "HeartbeatSecondsPath", true)
	if t := st.TimeoutSeconds; t != nil && t.path == nil && t.expr == nil && (t.lit < 1 || t.lit > 99999999) {
		p.fail(loc+"/TimeoutSeconds", "The value of 'TimeoutSeconds' must be between 1 and 99999999")
	}
	if h := st.HeartbeatSeconds; h != nil && h.path == nil && h.expr == nil {
		if h.lit < 1 || h.lit > 99999999 {
			p.fail(loc+"/HeartbeatSeconds", "The value of 'HeartbeatSeconds' must be between 1 and 99999999")
		} else if t := st.TimeoutSeconds; t != nil && t.path == nil && t.expr == nil && h.lit >= t.lit {
			p.fail(loc+"/HeartbeatSeconds", "The value of 'HeartbeatSeconds' must be less than 'TimeoutSeconds'")
		}
	}
	st.Credentials, _ = obj.Get("Credentials")
}

func (p *parser) wait(st *State, obj *value.Object, loc string) {
	n := 0
	for _, k := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if obj.Has(k) {
			n++
		}
	}
	if n != 1 {
		p.fail(loc, "A Wait state must have exactly one of \"Seconds\", \"SecondsPath\", \"Timestamp\" or \"TimestampPath\"")
		return
	}
	st.Seconds = p.numOrPath(st, obj, loc, "Seconds", "SecondsPath", true)
	if s := st.Seconds; s != nil && s.path == nil && s.expr == nil && (s.lit < 0 || s.lit > 99999999) {
		p.fail(loc+"/Seconds", "The value of 'Seconds' must be between 0 and 99999999")
	}
	st.Timestamp = p.strOrPath(st, obj, loc, "Timestamp", "TimestampPath")
	if t := st.Timestamp; t != nil && t.path == nil && t.expr == nil && t.call == nil {
		if _, err := parseTimestamp(t.lit); err != nil {
			p.fail(loc+"/Timestamp", "The Timestamp value does not reference a valid ISO-8601 extended offset date-time format string: '%s'", t.lit)
		}
	}
}

func (p *parser) retryCatch(st *State, obj *value.Object, loc string) {
	if v, ok := obj.Get("Retry"); ok {
		arr, ok := v.([]any)
		if !ok {
			p.fail(loc+"/Retry", "Expected value of type: Array")
		}
		for i, e := range arr {
			rloc := fmt.Sprintf("%s/Retry/%d", loc, i)
			ro, ok := e.(*value.Object)
			if !ok {
				p.fail(rloc, "Expected value of type: Object")
				continue
			}
			p.fields(ro, rloc, set("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"))
			r := &Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
			r.ErrorEquals = p.errorEquals(ro, rloc, i == len(arr)-1)
			if n, ok := p.number(ro, "IntervalSeconds", rloc, 1, 99999999, true); ok {
				r.IntervalSeconds = n
			}
			if n, ok := p.number(ro, "MaxAttempts", rloc, 0, 99999999, true); ok {
				r.MaxAttempts = int(n)
			}
			if n, ok := p.number(ro, "BackoffRate", rloc, 1, math.MaxFloat64, false); ok {
				r.BackoffRate = n
			}
			if n, ok := p.number(ro, "MaxDelaySeconds", rloc, 1, 31622400, true); ok {
				r.MaxDelaySeconds = n
			}
			if j, ok := p.str(ro, "JitterStrategy", rloc, false); ok {
				switch j {
				case "FULL":
					r.JitterFull = true
				case "NONE":
				default:
					p.fail(rloc+"/JitterStrategy", "Value %q is not a valid enum value (FULL, NONE)", j)
				}
			}
			st.Retry = append(st.Retry, r)
		}
	}
	if v, ok := obj.Get("Catch"); ok {
		arr, ok := v.([]any)
		if !ok {
			p.fail(loc+"/Catch", "Expected value of type: Array")
		}
		for i, e := range arr {
			cloc := fmt.Sprintf("%s/Catch/%d", loc, i)
			co, ok := e.(*value.Object)
			if !ok {
				p.fail(cloc, "Expected value of type: Object")
				continue
			}
			c := &Catcher{}
			if st.Lang == JSONPath {
				p.fields(co, cloc, set("ErrorEquals", "Next", "ResultPath", "Assign", "Comment"))
				c.ResultPath = p.optPath(co, "ResultPath", cloc)
				if av, ok := co.Get("Assign"); ok {
					c.Assign = p.jpTemplate(av, cloc+"/Assign", "Assign")
				}
			} else {
				p.fields(co, cloc, set("ErrorEquals", "Next", "Output", "Assign", "Comment"))
				if ov, ok := co.Get("Output"); ok {
					c.Output = p.jaTemplate(ov, cloc+"/Output", "Output")
				}
				if av, ok := co.Get("Assign"); ok {
					c.Assign = p.jaTemplate(av, cloc+"/Assign", "Assign")
				}
			}
			c.ErrorEquals = p.errorEquals(co, cloc, i == len(arr)-1)
			c.Next, _ = p.str(co, "Next", cloc, true)
			st.Catch = append(st.Catch, c)
		}
	}
}

func (p *parser) errorEquals(obj *value.Object, loc string, last bool) []string {
	v, ok := obj.Get("ErrorEquals")
	arr, isArr := v.([]any)
	if !ok || !isArr || len(arr) == 0 {
		p.fail(loc, "The field \"ErrorEquals\" is required and must be a non-empty array")
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			p.fail(loc+"/ErrorEquals", "Expected value of type: String")
			continue
		}
		if s == "States.ALL" && (len(arr) > 1 || !last) {
			p.fail(loc+"/ErrorEquals", "States.ALL must appear alone and in the last retrier or catcher")
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) number(obj *value.Object, key, loc string, lo, hi float64, integer bool) (float64, bool) {
	v, ok := obj.Get(key)
	if !ok {
		return 0, false
	}
	f, ok := v.(float64)
	if !ok || (integer && f != math.Trunc(f)) || f < lo || f > hi {
		p.fail(loc+"/"+key, "The value of '%s' is out of range or of the wrong type", key)
		return 0, false
	}
	return f, true
}

func (p *parser) mapState(st *State, obj *value.Object, loc string) {
	procKey := "ItemProcessor"
	pv, ok := obj.Get(procKey)
	if !ok {
		procKey = "Iterator"
		pv, ok = obj.Get(procKey)
	}
	po, isObj := pv.(*value.Object)
	if !ok || !isObj {
		p.fail(loc, "The field \"ItemProcessor\" is required")
	} else {
		if cfg, ok := po.Get("ProcessorConfig"); ok {
			if co, ok := cfg.(*value.Object); ok {
				if mode, ok := co.Get("Mode"); ok {
					st.Distributed = mode == "DISTRIBUTED"
				}
			}
		}
		st.Processor = p.machine(po, loc+"/"+procKey, st.Lang, false)
	}
	if st.Lang == JSONPath {
		st.ItemsPath = p.optPath(obj, "ItemsPath", loc)
		if v, ok := obj.Get("ItemSelector"); ok {
			st.ItemSelector = p.jpTemplate(v, loc+"/ItemSelector", "ItemSelector")
		} else if st.Parameters != nil {
			// Legacy: Map Parameters build each item's input.
			st.ItemSelector, st.Parameters = st.Parameters, nil
		}
	} else {
		if v, ok := obj.Get("Items"); ok {
			st.Items = p.jaTemplate(v, loc+"/Items", "Items")
		}
		if v, ok := obj.Get("ItemSelector"); ok {
			st.ItemSelector = p.jaTemplate(v, loc+"/ItemSelector", "ItemSelector")
		}
	}
	st.MaxConcurrency = p.numOrPath(st, obj, loc, "MaxConcurrency", "MaxConcurrencyPath", true)
	st.ToleratedCount = p.numOrPath(st, obj, loc, "ToleratedFailureCount", "ToleratedFailureCountPath", true)
	st.ToleratedPercent = p.numOrPath(st, obj, loc, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", false)
	st.Label, _ = p.str(obj, "Label", loc, false)
	if v, ok := obj.Get("ItemBatcher"); ok {
		if bo, ok := v.(*value.Object); ok {
			b := &ItemBatcher{}
			b.MaxItems = p.numOrPath(st, bo, loc+"/ItemBatcher", "MaxItemsPerBatch", "MaxItemsPerBatchPath", true)
			b.MaxBytes = p.numOrPath(st, bo, loc+"/ItemBatcher", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", true)
			if bi, ok := bo.Get("BatchInput"); ok {
				if st.Lang == JSONPath {
					b.BatchInput = p.jpTemplate(bi, loc+"/ItemBatcher/BatchInput", "BatchInput")
				} else {
					b.BatchInput = p.jaTemplate(bi, loc+"/ItemBatcher/BatchInput", "BatchInput")
				}
			}
			st.ItemBatcher = b
		}
	}
	if v, ok := obj.Get("ItemReader"); ok {
		if ro, ok := v.(*value.Object); ok {
			r := &ItemReader{}
			r.Resource, _ = p.str(ro, "Resource", loc+"/ItemReader", true)
			if pv, ok := ro.Get("Parameters"); ok {
				r.Parameters = p.jpTemplate(pv, loc+"/ItemReader/Parameters", "Parameters")
			} else if av, ok := ro.Get("Arguments"); ok {
				r.Parameters = p.jaTemplate(av, loc+"/ItemReader/Arguments", "Arguments")
			}
			if cv, ok := ro.Get("ReaderConfig"); ok {
				if co, ok := cv.(*value.Object); ok {
					r.InputType, _ = p.str(co, "InputType", loc+"/ItemReader/ReaderConfig", false)
					if h, ok := co.Get("CSVHeaderLocation"); ok {
						r.HeaderFirst = h == "FIRST_ROW"
					}
					if hs, ok := co.Get("CSVHeaders"); ok {
						if arr, ok := hs.([]any); ok {
							for _, h := range arr {
								if s, ok := h.(string); ok {
									r.CSVHeaders = append(r.CSVHeaders, s)
								}
							}
						}
					}
					r.CSVDelimiter, _ = p.str(co, "CSVDelimiter", loc+"/ItemReader/ReaderConfig", false)
					r.MaxItems = p.numOrPath(st, co, loc+"/ItemReader/ReaderConfig", "MaxItems", "MaxItemsPath", true)
				}
			}
			st.ItemReader = r
		}
	}
	if v, ok := obj.Get("ResultWriter"); ok {
		if wo, ok := v.(*value.Object); ok {
			w := &ResultWriter{}
			w.Resource, _ = p.str(wo, "Resource", loc+"/ResultWriter", false)
			if pv, ok := wo.Get("Parameters"); ok {
				w.Parameters = p.jpTemplate(pv, loc+"/ResultWriter/Parameters", "Parameters")
			} else if av, ok := wo.Get("Arguments"); ok {
				w.Parameters = p.jaTemplate(av, loc+"/ResultWriter/Arguments", "Arguments")
			}
			st.ResultWriter = w
		}
	}
}

// jsonataSource returns the expression inside a "{% … %}" template.
func jsonataSource(s string) (string, bool) {
	if len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	return "", false
}
