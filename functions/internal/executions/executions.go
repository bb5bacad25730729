// Package executions is the support console's Step Functions adapter in
// AWS: redrive, stop, and the failed step's data read with one
// GetExecutionHistory call when support opens a failed application (AWS
// allows that API about 20 calls a second per account, so the console
// never polls it: its lists come from the projection table).
//
// Step Functions has no API that edits a failed execution, so "fix the
// data and resend" works through the task Lambdas instead: FailedData
// offers the failed task's payload arguments (posluha.TaskRequest) for
// editing, and Resend stores the corrected ones as an override for
// (applicationId, step) (functions/internal/override), then redrives. The
// redriven Task state invokes the same Lambda with the same payload, and
// the Lambda runs with the override's arguments.
//
// Errors are *posluha.Error values named with the Step Functions error
// code (ExecutionDoesNotExist, ExecutionNotRedrivable, …), which the
// console answers as HTTP statuses; the SDK's types stay here.
package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/override"
)

// SFN is the part of the Step Functions API the adapter uses;
// *sfn.Client implements it.
type SFN interface {
	RedriveExecution(ctx context.Context, in *sfn.RedriveExecutionInput, opts ...func(*sfn.Options)) (*sfn.RedriveExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, opts ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

var _ SFN = (*sfn.Client)(nil)

// Error names besides the Step Functions codes passed through.
const (
	// ErrNotSupported: Resend without an override table, or of a state
	// that is not a task Lambda.
	ErrNotSupported = "NotSupported"
	// ErrInvalidInput: the corrected arguments are not a JSON object.
	ErrInvalidInput = "InvalidExecutionInput"
	// ErrNoFailedStep: the execution has not failed (or its failure is
	// older than the history page read).
	ErrNoFailedStep = "ExecutionNotRedrivable"
)

// Overrides stores support's corrected task arguments;
// *override.Table implements it.
type Overrides interface {
	Put(ctx context.Context, o *override.Override) error
}

var _ Overrides = (*override.Table)(nil)

// Executions runs the console's actions on Step Functions.
type Executions struct {
	c SFN
	// Overrides, when set, makes Resend possible (OVERRIDES_TABLE).
	Overrides Overrides
	// Now stamps overrides; time.Now when nil.
	Now func() time.Time
}

// New returns the adapter.
func New(c SFN) *Executions { return &Executions{c: c} }

// StepData is the failed step as the history shows it: the ASL state's
// name and its input (JSON text). When the state invoked a task Lambda
// with a posluha.TaskRequest, Input is that payload's arguments (what
// Resend replaces) and ApplicationID and Step come from the payload (the
// step is the BPMN element id). Thread and variables are the local
// engine's; the history has neither.
type StepData struct {
	State         string
	Input         json.RawMessage
	ApplicationID string
	Step          string
	Error         string
	Cause         string
}

// Redrive restarts a FAILED, TIMED_OUT or ABORTED execution from the
// failed state. Errors: ExecutionDoesNotExist, ExecutionNotRedrivable,
// ExecutionLimitExceeded.
func (e *Executions) Redrive(ctx context.Context, arn string) error {
	_, err := e.c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)})
	return mapErr("redrive "+arn, err)
}

// Stop aborts a running execution. Errors: ExecutionDoesNotExist.
func (e *Executions) Stop(ctx context.Context, arn, errName, cause string) error {
	_, err := e.c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String(errName), Cause: aws.String(cause)})
	return mapErr("stop "+arn, err)
}

// historyPage is how many events, newest first, FailedData reads: the
// failure and the state entered before it are at the end of the history.
const historyPage = 100

// FailedData reads the newest page of the execution's history (one call)
// and returns the state that was entered last before the execution
// failed, timed out or was aborted, with its input, or with the arguments
// of the task payload it last scheduled (see StepData). Errors:
// ExecutionDoesNotExist, ExecutionNotRedrivable (not failed, or no state
// entered in that page).
func (e *Executions) FailedData(ctx context.Context, arn string) (*StepData, error) {
	out, err := e.c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn),
		ReverseOrder: true, MaxResults: historyPage, IncludeExecutionData: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("history of "+arn, err)
	}
	var d StepData
	var task *taskPayload
	ended := false
	for _, ev := range out.Events {
		switch {
		case !ended:
			switch ev.Type {
			case types.HistoryEventTypeExecutionFailed:
				if f := ev.ExecutionFailedEventDetails; f != nil {
					d.Error, d.Cause = aws.ToString(f.Error), aws.ToString(f.Cause)
				}
			case types.HistoryEventTypeExecutionTimedOut:
				if f := ev.ExecutionTimedOutEventDetails; f != nil {
					d.Error, d.Cause = aws.ToString(f.Error), aws.ToString(f.Cause)
				}
			case types.HistoryEventTypeExecutionAborted:
				if f := ev.ExecutionAbortedEventDetails; f != nil {
					d.Error, d.Cause = aws.ToString(f.Error), aws.ToString(f.Cause)
				}
			default:
				return nil, &posluha.Error{Name: ErrNoFailedStep, Message: "the execution has no failed step: " + arn}
			}
			ended = true
		case task == nil && ev.TaskScheduledEventDetails != nil:
			// Newest first: the last attempt's payload.
			if t := ev.TaskScheduledEventDetails; aws.ToString(t.ResourceType) == "lambda" {
				var p struct{ Payload json.RawMessage }
				if json.Unmarshal([]byte(aws.ToString(t.Parameters)), &p) == nil {
					task = parseTask(p.Payload)
				}
			}
		case task == nil && ev.LambdaFunctionScheduledEventDetails != nil:
			task = parseTask([]byte(aws.ToString(ev.LambdaFunctionScheduledEventDetails.Input)))
		case ev.StateEnteredEventDetails != nil:
			d.State = aws.ToString(ev.StateEnteredEventDetails.Name)
			d.Input = json.RawMessage(aws.ToString(ev.StateEnteredEventDetails.Input))
			if task != nil {
				d.Input, d.ApplicationID, d.Step = task.Arguments, task.ApplicationID, task.Step
			}
			if !json.Valid(d.Input) {
				d.Input = json.RawMessage("null")
			}
			return &d, nil
		}
	}
	return nil, &posluha.Error{Name: ErrNoFailedStep, Message: "no state entered in the last " + fmt.Sprint(historyPage) + " history events of " + arn}
}

// taskPayload is the part of a posluha.TaskRequest Resend needs.
type taskPayload struct {
	ApplicationID string          `json:"applicationId"`
	Step          string          `json:"step"`
	Arguments     json.RawMessage `json:"arguments"`
}

// parseTask reads a Lambda payload as a task request, or returns nil when
// it is not one (a hand-written state's input).
func parseTask(payload []byte) *taskPayload {
	var t taskPayload
	if json.Unmarshal(payload, &t) != nil || t.ApplicationID == "" || t.Step == "" {
		return nil
	}
	if len(t.Arguments) == 0 || string(t.Arguments) == "null" {
		t.Arguments = json.RawMessage(`{}`)
	}
	return &t
}

// Resend stores arguments (a JSON object) as the override of the failed
// task's step, who asked for it and when, and then redrives the
// execution: the redriven task runs with them (see the package doc). A
// failed redrive leaves the override stored; a later redrive or resend of
// the step uses or replaces it.
//
// Errors: NotSupported (no override table, or failed is not a task
// Lambda's data), InvalidExecutionInput (arguments not a JSON object),
// the override table's error, and Redrive's.
func (e *Executions) Resend(ctx context.Context, arn string, failed *StepData, arguments json.RawMessage, who string) error {
	if e.Overrides == nil {
		return &posluha.Error{Name: ErrNotSupported, Message: "fix the data and resend needs the overrides table (OVERRIDES_TABLE); " +
			"redrive, or cancel with a reason"}
	}
	if failed == nil || failed.Step == "" || failed.ApplicationID == "" {
		state := ""
		if failed != nil {
			state = failed.State
		}
		return &posluha.Error{Name: ErrNotSupported, Message: fmt.Sprintf("the failed state %q is not a task with arguments to correct; redrive, or cancel with a reason", state)}
	}
	var args map[string]any
	if err := json.Unmarshal(arguments, &args); err != nil || args == nil {
		return &posluha.Error{Name: ErrInvalidInput, Message: "the task's arguments must be a JSON object"}
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	if err := e.Overrides.Put(ctx, &override.Override{ApplicationID: failed.ApplicationID, Step: failed.Step,
		Arguments: args, Who: who, When: now()}); err != nil {
		return fmt.Errorf("resend %s: %w", arn, err)
	}
	return e.Redrive(ctx, arn)
}

// mapErr names an SDK error by its Step Functions code.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %w", what, &posluha.Error{Name: api.ErrorCode(), Message: api.ErrorMessage()})
	}
	return fmt.Errorf("%s: %w", what, err)
}
