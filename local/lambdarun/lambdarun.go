// Package lambdarun runs our Lambda handlers in-process for the local stack,
// with the same JSON round trip and error naming as the real Lambda runtime,
// so a function behaves the same here as in AWS.
//
// aws-lambda-go names a function error by the Go type of the error the
// handler returned, unless that error is a messages.InvokeResponse_Error
// value (a type assertion: wrapping hides it); a panic is named by the type
// of the panic value. Runner.InvokeFunction follows the same rule.
package lambdarun

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/posluha/posluha/local/engine"
)

// ErrNoFunction is returned for a function that is not registered; Lambda
// reports it as ResourceNotFoundException.
var ErrNoFunction = errors.New("lambdarun: function not found")

// Runner invokes registered handlers by function name or ARN.
type Runner struct {
	mu       sync.RWMutex
	handlers map[string]lambda.Handler
	seq      atomic.Uint64
}

var _ engine.LambdaFunctions = (*Runner)(nil)

// New returns a runner with no functions.
func New() *Runner { return &Runner{handlers: map[string]lambda.Handler{}} }

// Register adds a function. handler is anything aws-lambda-go's
// lambda.NewHandler accepts (func(ctx, In) (Out, error) and friends); name is
// the function name, the last part of its ARN.
func (r *Runner) Register(name string, handler any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[name] = lambda.NewHandler(handler)
}

// Functions returns the registered function names.
func (r *Runner) Functions() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.handlers))
	for n := range r.handlers {
		names = append(names, n)
	}
	return names
}

// FunctionName returns the function name in a Lambda ARN (qualified or
// not) or returns the argument when it is already a name.
func FunctionName(arnOrName string) string {
	if !strings.HasPrefix(arnOrName, "arn:") {
		name, _, _ := strings.Cut(arnOrName, ":")
		return name
	}
	parts := strings.Split(arnOrName, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return arnOrName
}

// InvokeFunction implements engine.LambdaFunctions: payload in, payload out,
// function errors as *engine.LambdaError named as aws-lambda-go names them.
func (r *Runner) InvokeFunction(ctx context.Context, functionARN string, payload []byte) (out []byte, err error) {
	name := FunctionName(functionARN)
	r.mu.RLock()
	h, ok := r.handlers[name]
	r.mu.RUnlock()
	seq := r.seq.Add(1)
	if !ok {
		return nil, fmt.Errorf("invoke %s: %w", name, ErrNoFunction)
	}
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       fmt.Sprintf("local-%s-%d", name, seq),
		InvokedFunctionArn: functionARN,
	}
	ctx = lambdacontext.NewContext(ctx, lc)
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &engine.LambdaError{Type: typeName(v), Message: fmt.Sprint(v)}
		}
	}()
	out, err = h.Invoke(ctx, payload)
	if err != nil {
		return nil, FunctionError(err)
	}
	return out, nil
}

// FunctionError converts an error returned by a handler into the function
// error Lambda would report for it.
func FunctionError(err error) *engine.LambdaError {
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		return &engine.LambdaError{Type: ive.Type, Message: ive.Message}
	}
	if ive, ok := err.(*messages.InvokeResponse_Error); ok {
		return &engine.LambdaError{Type: ive.Type, Message: ive.Message}
	}
	return &engine.LambdaError{Type: typeName(err), Message: err.Error()}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}
