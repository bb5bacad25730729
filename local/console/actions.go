package console

import (
	"context"
	"encoding/json"

	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// StepData is what "fix the data and resend" edits: the failed step's
// input and the variables of the thread it failed in. Compiled services
// pass data between steps mostly in variables (JSONata Assign), so the
// input alone is often not where the wrong value is.
type StepData struct {
	Thread    string          `json:"thread"`
	State     string          `json:"state"`
	Input     json.RawMessage `json:"input"`
	Variables json.RawMessage `json:"variables"`
}

// Executions is what the console's actions need from Step Functions.
// Errors are *engine.APIError values named like AWS's
// (ExecutionDoesNotExist, ExecutionNotRedrivable, …).
type Executions interface {
	// Redrive restarts a FAILED, ABORTED or TIMED_OUT execution from the
	// state that failed.
	Redrive(ctx context.Context, arn string) error
	// Stop aborts a running execution with an error name and cause.
	Stop(ctx context.Context, arn, errName, cause string) error
	// FailedData returns the data of the step the execution failed in.
	FailedData(ctx context.Context, arn string) (*StepData, error)
	// Resend replaces the failed step's input and variables, then
	// redrives.
	Resend(ctx context.Context, arn string, d *StepData) error
}

// EngineExecutions runs the actions on the local engine. Resend edits the
// saved record through Store before redriving: the engine has no API for
// it yet (see the package doc for the one it should have), and a FAILED
// execution is not run by any pass, so the edit cannot race the
// interpreter; a concurrent Redrive of the same execution could, which
// the console serialises per application.
type EngineExecutions struct {
	Engine *engine.Engine
	Store  engine.Store // the engine's store (the bus feed in the stack)
}

var _ Executions = (*EngineExecutions)(nil)

// Redrive implements Executions.
func (e *EngineExecutions) Redrive(ctx context.Context, arn string) error {
	_, err := e.Engine.RedriveExecution(ctx, arn)
	return err
}

// Stop implements Executions.
func (e *EngineExecutions) Stop(ctx context.Context, arn, errName, cause string) error {
	_, err := e.Engine.StopExecution(ctx, arn, errName, cause)
	return err
}

// FailedData implements Executions.
func (e *EngineExecutions) FailedData(ctx context.Context, arn string) (*StepData, error) {
	x, err := e.Engine.DescribeExecution(ctx, arn)
	if err != nil {
		return nil, err
	}
	t := failedThread(x)
	if t == nil {
		return nil, &engine.APIError{Code: "ExecutionNotRedrivable", Message: "the execution has no failed step: " + arn}
	}
	vars := any(value.NewObject(0))
	if t.Vars != nil {
		vars = t.Vars
	}
	return &StepData{Thread: t.ID, State: t.State, Input: value.Marshal(t.Input.V), Variables: value.Marshal(vars)}, nil
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

// Resend implements Executions. The engine swaps the data and redrives
// under its per-execution lock, so no pass, Redrive or Stop can interleave,
// and its ExecutionRedriven event records that the input changed.
func (e *EngineExecutions) Resend(ctx context.Context, arn string, d *StepData) error {
	in, err := value.Parse(d.Input)
	if err != nil {
		return &engine.APIError{Code: "InvalidExecutionInput", Message: "input: " + err.Error()}
	}
	vars, err := value.Parse(d.Variables)
	if err != nil {
		return &engine.APIError{Code: "InvalidExecutionInput", Message: "variables: " + err.Error()}
	}
	vo, ok := vars.(*value.Object)
	if !ok {
		return &engine.APIError{Code: "InvalidExecutionInput", Message: "variables must be a JSON object"}
	}
	_, err = e.Engine.RedriveExecution(ctx, arn, engine.WithFailedStepData(d.Thread, in, vo))
	return err
}
