package sfnapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

// TestState runs one state in a throw-away engine: the state is wrapped
// in a one-state machine whose transition targets are Succeed stubs, so
// the stub that is entered names nextState and the execution's output is
// the state's output. Retry is evaluated here rather than run (AWS
// answers RETRIABLE instead of retrying), and a failure that a Catch
// handles is replayed with the Catch in place to get the caught output
// without invoking the resource a second time.

type mockInput struct {
	Result      *string `json:"result"`
	ErrorOutput *struct {
		Error string `json:"error"`
		Cause string `json:"cause"`
	} `json:"errorOutput"`
	FieldValidationMode string `json:"fieldValidationMode"`
}

type testStateConfiguration struct {
	RetrierRetryCount  *int   `json:"retrierRetryCount"`
	ErrorCausedByState string `json:"errorCausedByState"`
}

type testStateInput struct {
	Definition         string                  `json:"definition"`
	RoleArn            string                  `json:"roleArn"`
	Input              string                  `json:"input"`
	InspectionLevel    string                  `json:"inspectionLevel"`
	RevealSecrets      bool                    `json:"revealSecrets"`
	Variables          string                  `json:"variables"`
	StateName          string                  `json:"stateName"`
	Mock               *mockInput              `json:"mock"`
	Context            string                  `json:"context"`
	StateConfiguration *testStateConfiguration `json:"stateConfiguration"`
}

type inspectionData struct {
	Input           *string `json:"input,omitempty"`
	AfterInputPath  *string `json:"afterInputPath,omitempty"`
	AfterParameters *string `json:"afterParameters,omitempty"`
	AfterArguments  *string `json:"afterArguments,omitempty"`
	Result          *string `json:"result,omitempty"`
	AfterResultPath *string `json:"afterResultPath,omitempty"`
	Variables       *string `json:"variables,omitempty"`
}

type testStateOutput struct {
	Output         *string         `json:"output,omitempty"`
	Error          *string         `json:"error,omitempty"`
	Cause          *string         `json:"cause,omitempty"`
	InspectionData *inspectionData `json:"inspectionData,omitempty"`
	NextState      string          `json:"nextState,omitempty"`
	Status         string          `json:"status"`
}

// stubPrefix starts the names of the stub states. It is an invisible
// separator so that it cannot clash with a name in the tested state's
// branches or iterations.
const stubPrefix = "\u2063next:"

// testCase is a state prepared for one run.
type testCase struct {
	name     string        // the state's name
	state    *value.Object // the state without Retry
	retriers []retrier
	catchers [][]string // ErrorEquals of each catcher, in order
	lang     string     // QueryLanguage the state runs in
	stubs    map[string]string
	noStubs  bool // End state or terminal type
	callback bool // waitForTaskToken or .sync resource
	task     bool
}

type retrier struct {
	errors      []string
	maxAttempts int
}

func (s *Server) testState(ctx context.Context, in *testStateInput) (*testStateOutput, error) {
	if err := checkDefinition(in.Definition); err != nil {
		return nil, err
	}
	switch in.InspectionLevel {
	case "", "INFO", "DEBUG", "TRACE":
	default:
		return nil, notInEnum("inspectionLevel", in.InspectionLevel, "INFO", "DEBUG", "TRACE")
	}
	if len(in.Input) > maxPayloadLen {
		return nil, tooLong("input", maxPayloadLen)
	}
	tc, err := prepareTest(in)
	if err != nil {
		return nil, err
	}
	input := in.Input
	if strings.TrimSpace(input) == "" {
		input = "{}"
	}
	if _, err := value.ParseString(input); err != nil {
		return nil, errf("InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'", err.Error())
	}
	var vars *value.Object
	if strings.TrimSpace(in.Variables) != "" {
		v, err := value.ParseString(in.Variables)
		o, ok := v.(*value.Object)
		if err != nil || !ok {
			return nil, errf("ValidationException", "variables must be a JSON object")
		}
		vars = o
	}
	if tc.callback && in.Mock == nil {
		return nil, errf("ValidationException", "TestState needs a mock for the .waitForTaskToken and .sync integration patterns")
	}
	inv, err := s.testInvoker(in.Mock, tc.callback)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.SyncTimeout)
	defer cancel()
	rec := &recorder{inner: inv}
	first, err := runTest(ctx, tc, tc.state.Clone(), input, vars, in.RoleArn, rec, false)
	if err != nil {
		return nil, err
	}
	out := &testStateOutput{}
	switch first.status {
	case engine.StatusSucceeded:
		out.Status, out.Output, out.NextState = "SUCCEEDED", first.output, first.next
	case engine.StatusFailed:
		out.Status, out.Error, out.Cause = "FAILED", first.errName, first.cause
		name := ""
		if first.errName != nil {
			name = *first.errName
		}
		count := 0
		if in.StateConfiguration != nil && in.StateConfiguration.RetrierRetryCount != nil {
			count = *in.StateConfiguration.RetrierRetryCount
		}
		if tc.retriable(name, count) {
			out.Status = "RETRIABLE"
			break
		}
		if !tc.caught(name) {
			break
		}
		// Replay with the Catch in place; the resource answers as before.
		withCatch := tc.state.Clone()
		caught, err := runTest(ctx, tc, withCatch, input, vars, in.RoleArn, rec.replay(), true)
		if err != nil {
			return nil, err
		}
		if caught.status == engine.StatusSucceeded {
			out.Status, out.Output, out.NextState = "CAUGHT_ERROR", caught.output, caught.next
		}
	default:
		// TIMED_OUT or ABORTED: the five-minute limit.
		out.Status = "FAILED"
		e, c := "States.Timeout", "TestState exceeded its time limit"
		out.Error, out.Cause = &e, &c
	}
	if in.InspectionLevel == "DEBUG" || in.InspectionLevel == "TRACE" {
		first.inspection.Variables = nil
		if vars != nil {
			v := value.String(vars)
			first.inspection.Variables = &v
		}
		if tc.lang != engine.JSONata {
			if out.Status == "SUCCEEDED" && !tc.state.Has("OutputPath") {
				first.inspection.AfterResultPath = out.Output
			}
			first.inspection.AfterInputPath = afterInputPath(tc.state, first.inspection.Input)
		}
		out.InspectionData = &first.inspection
	}
	return out, nil
}

// prepareTest finds the state to test and rewrites its transitions.
func prepareTest(in *testStateInput) (*testCase, error) {
	v, err := value.ParseString(in.Definition)
	if err != nil {
		return nil, errf("InvalidDefinition", "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: %s'", err.Error())
	}
	obj, ok := v.(*value.Object)
	if !ok {
		return nil, errf("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected value of type: Object'")
	}
	tc := &testCase{name: "TestState", lang: engine.JSONPath, stubs: map[string]string{}}
	if lang, _ := obj.Get("QueryLanguage"); lang == engine.JSONata {
		tc.lang = engine.JSONata
	}
	state := obj
	if states, isMachine := obj.Get("States"); isMachine {
		// A whole machine: test the named state (StartAt by default).
		so, _ := states.(*value.Object)
		name := in.StateName
		if name == "" {
			start, _ := obj.Get("StartAt")
			name, _ = start.(string)
		}
		sv, found := so.Get(name)
		st, isObj := sv.(*value.Object)
		if so == nil || !found || !isObj {
			return nil, errf("ValidationException", "State '%s' is not in the definition", name)
		}
		state, tc.name = st, name
	} else if in.StateName != "" {
		tc.name = in.StateName
	}
	if lang, _ := state.Get("QueryLanguage"); lang == engine.JSONata || lang == engine.JSONPath {
		tc.lang = lang.(string)
	}
	state = state.Clone()
	if tc.lang == engine.JSONata {
		state.Set("QueryLanguage", engine.JSONata) // the wrapper machine stays JSONPath
	}
	if rv, ok := state.Get("Retry"); ok {
		list, _ := rv.([]any)
		for _, r := range list {
			ro, _ := r.(*value.Object)
			if ro == nil {
				continue
			}
			rt := retrier{errors: stringList(ro, "ErrorEquals"), maxAttempts: 3}
			if m, ok := ro.Get("MaxAttempts"); ok {
				if f, isNum := m.(float64); isNum {
					rt.maxAttempts = int(f)
				}
			}
			tc.retriers = append(tc.retriers, rt)
		}
		state.Delete("Retry")
	}
	typ, _ := state.Get("Type")
	if res, ok := state.Get("Resource"); ok && typ == "Task" {
		r, _ := res.(string)
		tc.task = true
		tc.callback = strings.HasSuffix(r, ".waitForTaskToken") || strings.HasSuffix(r, ".sync") || strings.HasSuffix(r, ".sync:2") || strings.Contains(r, ":activity:")
	}
	stub := func(target any) any {
		name, ok := target.(string)
		if !ok {
			return target // the engine reports the type error
		}
		if s, ok := tc.stubs[name]; ok {
			return s
		}
		s := stubPrefix + strconv.Itoa(len(tc.stubs))
		tc.stubs[name] = s
		return s
	}
	if n, ok := state.Get("Next"); ok {
		state.Set("Next", stub(n))
	}
	if d, ok := state.Get("Default"); ok {
		state.Set("Default", stub(d))
	}
	for _, key := range []string{"Choices", "Catch"} {
		lv, ok := state.Get(key)
		list, isList := lv.([]any)
		if !ok || !isList {
			continue
		}
		out := make([]any, len(list))
		for i, item := range list {
			io, isObj := item.(*value.Object)
			if !isObj {
				out[i] = item
				continue
			}
			io = io.Clone()
			if n, ok := io.Get("Next"); ok {
				io.Set("Next", stub(n))
			}
			if key == "Catch" {
				tc.catchers = append(tc.catchers, stringList(io, "ErrorEquals"))
			}
			out[i] = io
		}
		state.Set(key, out)
	}
	tc.noStubs = len(tc.stubs) == 0
	tc.state = state
	return tc, nil
}

func stringList(o *value.Object, key string) []string {
	v, _ := o.Get(key)
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// matchesError mirrors the engine's ErrorEquals rules: States.ALL covers
// everything but States.Runtime and States.DataLimitExceeded;
// States.TaskFailed covers task errors, not Step Functions' own failures.
func matchesError(list []string, name string) bool {
	for _, e := range list {
		switch {
		case e == name:
			return true
		case e == "States.ALL":
			return name != "States.DataLimitExceeded" && name != "States.Runtime"
		case e == "States.TaskFailed":
			if !notTaskFailure[name] {
				return true
			}
		}
	}
	return false
}

// notTaskFailure are the errors States.TaskFailed does not match.
var notTaskFailure = map[string]bool{
	"States.Timeout": true, "States.DataLimitExceeded": true, "States.Runtime": true,
	"States.HeartbeatTimeout": true, "States.QueryEvaluationError": true, "States.BranchFailed": true,
	"States.NoChoiceMatched": true, "States.ItemReaderFailed": true, "States.ResultWriterFailed": true,
	"States.ExceedToleratedFailureThreshold": true, "States.Permissions": true,
}

func (tc *testCase) retriable(name string, count int) bool {
	for _, r := range tc.retriers {
		if matchesError(r.errors, name) {
			return count < r.maxAttempts
		}
	}
	return false
}

func (tc *testCase) caught(name string) bool {
	for _, c := range tc.catchers {
		if matchesError(c, name) {
			return true
		}
	}
	return false
}

// testResult is what one run of the wrapper machine gave.
type testResult struct {
	status     string
	output     *string
	next       string
	errName    *string
	cause      *string
	inspection inspectionData
}

// runTest runs the wrapper machine on a fresh in-memory engine with a
// virtual clock that jumps to each timer, so a Wait takes no time.
func runTest(ctx context.Context, tc *testCase, state *value.Object, input string, vars *value.Object, roleARN string, inv engine.Invoker, withCatch bool) (*testResult, error) {
	if !withCatch {
		state.Delete("Catch")
	}
	states := value.NewObject(len(tc.stubs) + 2)
	start := tc.name
	if vars != nil {
		// Variables come in through a JSONPath Pass state that assigns
		// them from its input and passes the real input on.
		assign := value.NewObject(vars.Len())
		for _, m := range vars.Members() {
			assign.Set(m.Key+".$", "$.v["+strconv.Quote(m.Key)+"]")
		}
		start = stubPrefix + "init"
		states.Set(start, value.ObjectOf("Type", "Pass", "QueryLanguage", engine.JSONPath, "Assign", assign, "OutputPath", "$.i", "Next", tc.name))
		in, _ := value.ParseString(input)
		input = value.String(value.ObjectOf("v", vars, "i", in))
	}
	states.Set(tc.name, state)
	for _, stub := range tc.stubs {
		states.Set(stub, value.ObjectOf("Type", "Succeed"))
	}
	def := value.String(value.ObjectOf("StartAt", start, "States", states))

	clock := engine.NewVirtualClock(time.Now())
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Clock: clock, Invoker: inv, AutoAdvance: true})
	if err := eng.Start(ctx); err != nil {
		return nil, fmt.Errorf("test state engine: %w", err)
	}
	defer func() { _ = eng.Close() }()
	if roleARN == "" {
		roleARN = "arn:aws:iam::111111111111:role/TestState"
	}
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "TestState", Definition: def, RoleARN: roleARN})
	if err != nil {
		return nil, renameStubs(err, tc)
	}
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: "test", Input: input})
	if err != nil {
		return nil, err
	}
	if x, err = eng.Await(ctx, x.ARN); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &testResult{status: engine.StatusTimedOut}, nil
		}
		return nil, err
	}
	events, err := eng.History(ctx, x.ARN)
	if err != nil {
		return nil, err
	}
	r := &testResult{status: x.Status}
	if x.Status == engine.StatusSucceeded {
		out := value.String(x.Output.V)
		r.output = &out
	}
	if x.HasError {
		r.errName = &x.Error
	}
	if x.HasCause {
		r.cause = &x.Cause
	}
	entered := false
	for i := range events {
		ev := &events[i]
		d := ev.Details
		if d == nil {
			continue
		}
		name, _ := d.Get("name")
		switch {
		case strings.HasSuffix(ev.Type, "StateEntered"):
			if name == tc.name && !entered {
				entered = true
				if in, ok := d.Get("input"); ok {
					s := value.String(in)
					r.inspection.Input = &s
				}
			}
			if n, _ := name.(string); strings.HasPrefix(n, stubPrefix) {
				for orig, stub := range tc.stubs {
					if stub == n {
						r.next = orig
					}
				}
			}
		case (ev.Type == "TaskScheduled" || ev.Type == "LambdaFunctionScheduled") && r.inspection.AfterParameters == nil && r.inspection.AfterArguments == nil:
			key := "parameters"
			if ev.Type == "LambdaFunctionScheduled" {
				key = "input"
			}
			if p, ok := d.Get(key); ok {
				s := value.String(p)
				if tc.lang == engine.JSONata {
					r.inspection.AfterArguments = &s
				} else {
					r.inspection.AfterParameters = &s
				}
			}
		case (ev.Type == "TaskSucceeded" || ev.Type == "LambdaFunctionSucceeded") && r.inspection.Result == nil:
			if o, ok := d.Get("output"); ok {
				s := value.String(o)
				r.inspection.Result = &s
			}
		}
	}
	return r, nil
}

// afterInputPath applies a JSONPath state's InputPath to its input, as
// the DEBUG inspection shows it: null selects {}, a path that selects
// nothing leaves the field out (the state failed on it).
func afterInputPath(state *value.Object, input *string) *string {
	if input == nil {
		return nil
	}
	p, has := state.Get("InputPath")
	if !has {
		return input
	}
	if p == nil {
		s := "{}"
		return &s
	}
	expr, ok := p.(string)
	if !ok {
		return nil
	}
	path, err := jsonpath.Compile(expr)
	if err != nil {
		return nil
	}
	doc, err := value.ParseString(*input)
	if err != nil {
		return nil
	}
	v, err := path.Get(doc)
	if err != nil {
		return nil
	}
	s := value.String(v)
	return &s
}

// renameStubs puts the original transition targets back into a
// definition error, so the diagnostics name what the caller wrote.
func renameStubs(err error, tc *testCase) error {
	var ae *engine.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.Message
	for orig, stub := range tc.stubs {
		msg = strings.ReplaceAll(msg, stub, orig)
	}
	return &engine.APIError{Code: ae.Code, Message: msg}
}

// testInvoker answers Task states: from the mock when there is one,
// else from the server's TestInvoker.
func (s *Server) testInvoker(m *mockInput, callback bool) (engine.Invoker, error) {
	if m == nil {
		if s.opts.TestInvoker == nil {
			return &engine.Router{}, nil
		}
		return s.opts.TestInvoker, nil
	}
	var result any
	var fail *engine.Failure
	switch {
	case m.Result != nil && m.ErrorOutput != nil:
		return nil, errf("ValidationException", "A mock has either a result or an errorOutput, not both")
	case m.Result != nil:
		v, err := value.ParseString(*m.Result)
		if err != nil {
			return nil, errf("ValidationException", "The mock result is not JSON: %s", err.Error())
		}
		result = v
	case m.ErrorOutput != nil:
		fail = &engine.Failure{Name: m.ErrorOutput.Error, Cause: m.ErrorOutput.Cause}
	default:
		return nil, errf("ValidationException", "A mock needs a result or an errorOutput")
	}
	return engine.InvokerFunc(func(context.Context, *engine.Call) (any, error) {
		if callback {
			// A callback task completes at once with the mocked answer.
			return &engine.Completed{Output: result, Err: fail}, nil
		}
		if fail != nil {
			return nil, fail
		}
		return result, nil
	}), nil
}

// recorder remembers the answers of the real invoker so that the Catch
// replay gets the same answers without running the resource again.
type recorder struct {
	inner engine.Invoker
	mu    sync.Mutex
	calls []recorded
}

type recorded struct {
	out any
	err error
}

// Invoke implements engine.Invoker.
func (r *recorder) Invoke(ctx context.Context, c *engine.Call) (any, error) {
	out, err := r.inner.Invoke(ctx, c)
	r.mu.Lock()
	r.calls = append(r.calls, recorded{out, err})
	r.mu.Unlock()
	return out, err
}

// replay returns an invoker that answers with the recorded results in
// order (and fails if asked for more).
func (r *recorder) replay() engine.Invoker {
	r.mu.Lock()
	calls := append([]recorded(nil), r.calls...)
	r.mu.Unlock()
	var mu sync.Mutex
	return engine.InvokerFunc(func(context.Context, *engine.Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(calls) == 0 {
			return nil, &engine.Failure{Name: "States.Runtime", Cause: "TestState replay: no recorded answer"}
		}
		c := calls[0]
		calls = calls[1:]
		return c.out, c.err
	})
}
