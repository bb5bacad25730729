package console

import (
	"context"
	"errors"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// EngineExecutions runs the actions on the local engine. Its errors are
// the engine's API errors as *posluha.Error values of the same name (the
// console answers errors by name and does not link the engine).
type EngineExecutions struct {
	Engine *engine.Engine
}

var _ support.Executions = (*EngineExecutions)(nil)

// Redrive implements support.Executions.
func (e *EngineExecutions) Redrive(ctx context.Context, arn string) error {
	_, err := e.Engine.RedriveExecution(ctx, arn)
	return named(err)
}

// named turns an engine API error into the *posluha.Error the console
// answers by name; other errors pass through.
func named(err error) error {
	var ae *engine.APIError
	if errors.As(err, &ae) {
		return &posluha.Error{Name: ae.Code, Message: ae.Message}
	}
	return err
}

// Stop implements support.Executions.
func (e *EngineExecutions) Stop(ctx context.Context, arn, errName, cause string) error {
	_, err := e.Engine.StopExecution(ctx, arn, errName, cause)
	return named(err)
}

// FailedData implements support.Executions.
func (e *EngineExecutions) FailedData(ctx context.Context, arn string) (*support.StepData, error) {
	x, err := e.Engine.DescribeExecution(ctx, arn)
	if err != nil {
		return nil, named(err)
	}
	t := failedThread(x)
	if t == nil {
		return nil, &posluha.Error{Name: "ExecutionNotRedrivable", Message: "the execution has no failed step: " + arn}
	}
	vars := any(value.NewObject(0))
	if t.Vars != nil {
		vars = t.Vars
	}
	return &support.StepData{Thread: t.ID, State: t.State, Input: value.Marshal(t.Input.V), Variables: value.Marshal(vars)}, nil
}

func failedThread(x *engine.Execution) *engine.Thread {
	switch x.Status {
	case engine.StatusFailed, engine.StatusTimedOut, engine.StatusAborted:
	default:
		return nil
	}
	id, _, _ := bus.FailedThread(x)
	return findThread(x.Root, id)
}

func findThread(t *engine.Thread, id string) *engine.Thread {
	if t == nil {
		return nil
	}
	if t.ID == id {
		return t
	}
	for _, c := range t.Children {
		if f := findThread(c, id); f != nil {
			return f
		}
	}
	return nil
}

// Resend implements support.Executions. The engine swaps the data and redrives
// under its per-execution lock, so no pass, Redrive or Stop can interleave,
// and its ExecutionRedriven event records that the input changed.
func (e *EngineExecutions) Resend(ctx context.Context, arn string, d *support.StepData) error {
	in, err := value.Parse(d.Input)
	if err != nil {
		return &posluha.Error{Name: "InvalidExecutionInput", Message: "input: " + err.Error()}
	}
	vars, err := value.Parse(d.Variables)
	if err != nil {
		return &posluha.Error{Name: "InvalidExecutionInput", Message: "variables: " + err.Error()}
	}
	vo, ok := vars.(*value.Object)
	if !ok {
		return &posluha.Error{Name: "InvalidExecutionInput", Message: "variables must be a JSON object"}
	}
	_, err = e.Engine.RedriveExecution(ctx, arn, engine.WithFailedStepData(d.Thread, in, vo))
	return named(err)
}
