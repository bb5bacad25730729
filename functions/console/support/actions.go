package support

import (
	"context"
	"encoding/json"
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
