package support

import (
	"context"
	"encoding/json"
)

// StepData is what "fix the data and resend" edits: the failed step's
// input and the variables of the thread it failed in. Compiled services
// pass data between steps mostly in variables (JSONata Assign), so the
// input alone is often not where the wrong value is.
//
// In AWS (functions/console) Input is the failed task's payload
// arguments, Step its BPMN element id and ApplicationID the payload's:
// Step Functions' history has neither threads nor variables.
type StepData struct {
	Thread        string          `json:"thread"`
	State         string          `json:"state"`
	Input         json.RawMessage `json:"input"`
	Variables     json.RawMessage `json:"variables"`
	Step          string          `json:"step,omitempty"`
	ApplicationID string          `json:"applicationId,omitempty"`
	// By is the staff member who asks for a resend (the console sets it),
	// recorded with the data where the executions keep it.
	By string `json:"-"`
}

// Executions is what the console's actions need from Step Functions.
// Errors are *posluha.Error values named like Step Functions' errors
// (ExecutionDoesNotExist, ExecutionNotRedrivable, …); the console answers
// them by name (see stepFunctionsStatus).
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
