package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha/query/value"
)

// resource is a parsed Task Resource ARN.
type resource struct {
	lambdaARN bool   // a bare arn:aws:lambda:…:function:… ARN
	service   string // "lambda", "dynamodb", "states", "aws-sdk:s3"…
	action    string // "invoke", "putItem", "startExecution"…
	pattern   string // "", "sync", "sync:2", "waitForTaskToken"
	region    string
}

func parseResource(arn string) (resource, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 6 || parts[0] != "arn" {
		return resource{}, fmt.Errorf("the value of the field 'Resource' is not a valid ARN: %s", arn)
	}
	if parts[2] == "lambda" {
		return resource{lambdaARN: true, service: "lambda", action: "function", region: parts[3]}, nil
	}
	if parts[2] == "states" && parts[3] == "" && parts[4] == "" {
		rest := strings.Join(parts[5:], ":") // lambda:invoke.waitForTaskToken, aws-sdk:s3:listBuckets
		svc, act, ok := strings.Cut(rest, ":")
		if svc == "aws-sdk" {
			s2, a2, ok2 := strings.Cut(act, ":")
			if !ok2 {
				return resource{}, fmt.Errorf("the value of the field 'Resource' is not a valid ARN: %s", arn)
			}
			svc, act = "aws-sdk:"+s2, a2
		} else if !ok {
			return resource{}, fmt.Errorf("the value of the field 'Resource' is not a valid ARN: %s", arn)
		}
		r := resource{service: svc, action: act}
		if a, pat, ok := strings.Cut(act, "."); ok {
			r.action, r.pattern = a, pat
		}
		switch r.pattern {
		case "", "sync", "sync:2", "waitForTaskToken":
		default:
			return resource{}, fmt.Errorf("unsupported integration pattern %q in Resource %s", r.pattern, arn)
		}
		return r, nil
	}
	if parts[2] == "states" && parts[5] == "activity" {
		return resource{service: "activity", action: parts[6], pattern: "waitForTaskToken", region: parts[3]}, nil
	}
	return resource{}, fmt.Errorf("the value of the field 'Resource' is not a supported resource: %s", arn)
}

// Call is one invocation of a Task state's resource.
type Call struct {
	Resource     string // as written in the definition
	Service      string // "lambda" (also bare Lambda ARNs), "dynamodb", "aws-sdk:s3", …
	Action       string // "invoke", "function" (bare Lambda ARN), "putItem", …
	Pattern      string // "", "sync", "sync:2", "waitForTaskToken"
	Input        any    // the effective input (Parameters/Arguments)
	TaskToken    string // waitForTaskToken only
	ExecutionARN string
	StateName    string
	StateComment string // the state's Comment: "bpmn:<element id>" in compiled definitions
	RetryCount   int
	Timeout      time.Duration // 0 = none
	Heartbeat    time.Duration // 0 = none
}

// Invoker runs Task resources. Return *Failure to fail the task with a
// Step Functions error name and cause (Lambda function errors:
// Error=errorType, Cause=the error payload JSON); any other error becomes
// States.TaskFailed. For waitForTaskToken calls the result is ignored and
// the task parks until SendTaskSuccess/Failure — unless the invoker returns
// a Completed value, which completes it at once (mocks do that).
type Invoker interface {
	Invoke(ctx context.Context, call *Call) (any, error)
}

// Completed is returned by an Invoker for a waitForTaskToken call that is
// already answered.
type Completed struct {
	Output any
	Err    *Failure
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, call *Call) (any, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, call *Call) (any, error) { return f(ctx, call) }

// LambdaError is a function error as Lambda reports it (the payload of an
// invocation with X-Amz-Function-Error set).
type LambdaError struct {
	Type    string
	Message string
	Payload []byte // the error document as returned; built from Type/Message when nil
}

// Error implements error.
func (e *LambdaError) Error() string { return e.Type + ": " + e.Message }

// LambdaFunctions invokes Lambda functions by ARN with a JSON payload (the
// in-process runner or a Runtime API). Function errors are *LambdaError.
type LambdaFunctions interface {
	InvokeFunction(ctx context.Context, functionARN string, payload []byte) ([]byte, error)
}

// Integration runs one SDK integration action ("dynamodb:putItem") on an
// effective input and returns the service response.
type Integration func(ctx context.Context, call *Call) (any, error)

// Router is the default Invoker: Lambda resources go to Lambda, the
// optimised lambda:invoke gets AWS's response envelope, and other
// integrations are looked up by "service:action".
type Router struct {
	Lambda       LambdaFunctions
	Integrations map[string]Integration
}

// Invoke implements Invoker.
func (r *Router) Invoke(ctx context.Context, c *Call) (any, error) {
	switch {
	case c.Service == "lambda" && c.Action == "function":
		return r.lambda(ctx, c.Resource, c.Input)
	case c.Service == "lambda" && c.Action == "invoke":
		in, _ := c.Input.(*value.Object)
		fn, _ := in.Get("FunctionName")
		name, ok := fn.(string)
		if !ok {
			return nil, &Failure{Name: "States.Runtime", Cause: "The field 'FunctionName' is required"}
		}
		payload, _ := in.Get("Payload")
		out, err := r.lambda(ctx, name, payload)
		if err != nil {
			return nil, err
		}
		return LambdaInvokeResponse(out), nil
	}
	if f, ok := r.Integrations[c.Service+":"+c.Action]; ok {
		return f(ctx, c)
	}
	return nil, &Failure{Name: "States.TaskFailed", Cause: fmt.Sprintf("The resource %s is not available locally", c.Resource)}
}

func (r *Router) lambda(ctx context.Context, arn string, payload any) (any, error) {
	if r.Lambda == nil {
		return nil, &Failure{Name: "Lambda.ResourceNotFoundException", Cause: "Function not found: " + arn}
	}
	out, err := r.Lambda.InvokeFunction(ctx, arn, value.Marshal(payload))
	if err != nil {
		return nil, LambdaFailure(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	v, err := value.Parse(out)
	if err != nil {
		// AWS passes a non-JSON payload through as a string.
		return string(out), nil
	}
	return v, nil
}

// LambdaFailure maps a Lambda invocation error to Step Functions' error and
// cause: a function error's errorType becomes the error name and the error
// document (errorMessage, errorType, …) the cause.
func LambdaFailure(err error) *Failure {
	var le *LambdaError
	if errors.As(err, &le) {
		cause := le.Payload
		if cause == nil {
			o := value.NewObject(2)
			o.Set("errorMessage", le.Message)
			o.Set("errorType", le.Type)
			cause = value.Marshal(o)
		}
		name := le.Type
		if name == "" {
			name = "Lambda.Unknown"
		}
		return &Failure{Name: name, Cause: string(cause)}
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Failure{Name: "States.Timeout"}
	}
	return &Failure{Name: "Lambda.ServiceException", Cause: err.Error()}
}

// The parts of the lambda:invoke response that never change are built once
// and shared (values are immutable); only Content-Length and the objects
// holding it are made per call.
var (
	invokeHeadersAll = invokeHeaders(true)
	invokeHeaders1   = invokeHeaders(false)
	invokeSdkMeta    = value.ObjectOf("RequestId", "RequestId")
)

func invokeHeaders(all bool) *value.Object {
	o := value.NewObject(8)
	one := func(v string) any {
		if all {
			return []any{v}
		}
		return v
	}
	o.Set("Connection", one("keep-alive"))
	o.Set("Content-Length", nil) // set per response
	o.Set("Content-Type", one("application/json"))
	o.Set("Date", "date")
	o.Set("X-Amz-Executed-Version", one("$LATEST"))
	o.Set("x-amzn-Remapped-Content-Length", one("0"))
	o.Set("x-amzn-RequestId", "x-amzn-RequestId")
	o.Set("X-Amzn-Trace-Id", "X-Amzn-Trace-Id")
	return o
}

// LambdaInvokeResponse wraps a function's payload the way the optimised
// arn:aws:states:::lambda:invoke integration returns it.
func LambdaInvokeResponse(payload any) *value.Object {
	n := value.FormatNumber(float64(len(value.Marshal(payload))))
	all := invokeHeadersAll.Clone()
	all.Set("Content-Length", []any{n})
	one := invokeHeaders1.Clone()
	one.Set("Content-Length", n)
	meta := value.NewObject(3)
	meta.Set("AllHttpHeaders", all)
	meta.Set("HttpHeaders", one)
	meta.Set("HttpStatusCode", 200.0)
	resp := value.NewObject(5)
	resp.Set("ExecutedVersion", "$LATEST")
	resp.Set("Payload", payload)
	resp.Set("SdkHttpMetadata", meta)
	resp.Set("SdkResponseMetadata", invokeSdkMeta)
	resp.Set("StatusCode", 200.0)
	return resp
}

// MockResponse is one canned answer of a Mocks invoker.
type MockResponse struct {
	Output any
	Error  string
	Cause  string
	Failed bool
}

// Mocks is an Invoker that answers Task states by state name from a list of
// responses, one per invocation in order (retries included); the last
// response repeats when the list runs out. It serves `posluha exec --mocks`
// and analysts' scenario tests.
type Mocks struct {
	mu    sync.Mutex
	resp  map[string][]MockResponse
	calls map[string]int
	// Fallback runs states without mocks; nil fails them.
	Fallback Invoker
}

// NewMocks returns a Mocks invoker.
func NewMocks(resp map[string][]MockResponse) *Mocks {
	return &Mocks{resp: resp, calls: map[string]int{}}
}

// ParseMocks reads the --mocks file format: {"State": [{"output": …} |
// {"error": "…", "cause": "…"}, …]}.
func ParseMocks(b []byte) (map[string][]MockResponse, error) {
	v, err := value.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("mocks: %w", err)
	}
	o, ok := v.(*value.Object)
	if !ok {
		return nil, errors.New("mocks: want a JSON object of state name → list of responses")
	}
	out := map[string][]MockResponse{}
	for _, m := range o.Members() {
		list, ok := m.Value.([]any)
		if !ok {
			return nil, fmt.Errorf("mocks: %s: want a list of responses", m.Key)
		}
		for i, e := range list {
			ro, ok := e.(*value.Object)
			if !ok {
				return nil, fmt.Errorf("mocks: %s[%d]: want an object", m.Key, i)
			}
			var r MockResponse
			if ev, ok := ro.Get("error"); ok {
				r.Failed = true
				r.Error, _ = ev.(string)
				cv, _ := ro.Get("cause")
				switch c := cv.(type) {
				case string:
					r.Cause = c
				case nil:
				default:
					r.Cause = value.String(c)
				}
			} else {
				r.Output, _ = ro.Get("output")
			}
			out[m.Key] = append(out[m.Key], r)
		}
	}
	return out, nil
}

// Invoke implements Invoker.
func (m *Mocks) Invoke(ctx context.Context, c *Call) (any, error) {
	m.mu.Lock()
	list, ok := m.resp[c.StateName]
	n := m.calls[c.StateName]
	m.calls[c.StateName] = n + 1
	m.mu.Unlock()
	if !ok || len(list) == 0 {
		if m.Fallback != nil {
			return m.Fallback.Invoke(ctx, c)
		}
		return nil, &Failure{Name: "States.TaskFailed", Cause: fmt.Sprintf("no mocked response for state %q", c.StateName)}
	}
	if n >= len(list) {
		n = len(list) - 1
	}
	r := list[n]
	var res any = r.Output
	var fail *Failure
	if r.Failed {
		fail = &Failure{Name: r.Error, Cause: r.Cause, noError: r.Error == "", noCause: r.Cause == ""}
	}
	if c.Pattern == "waitForTaskToken" || c.Pattern == "sync" || c.Pattern == "sync:2" {
		return &Completed{Output: res, Err: fail}, nil
	}
	if fail != nil {
		return nil, fail
	}
	return res, nil
}
