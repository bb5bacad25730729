// Package executions is the support console's Step Functions adapter in
// AWS: redrive, stop, and the failed step's data read with one
// GetExecutionHistory call when support opens a failed application (AWS
// allows that API about 20 calls a second per account, so the console
// never polls it: its lists come from the projection table).
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/posluha/posluha"
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
	// ErrNotSupported: the action has no Step Functions API (Resend).
	ErrNotSupported = "NotSupported"
	// ErrNoFailedStep: the execution has not failed (or its failure is
	// older than the history page read).
	ErrNoFailedStep = "ExecutionNotRedrivable"
)

// Executions runs the console's actions on Step Functions.
type Executions struct {
	c SFN
}

// New returns the adapter.
func New(c SFN) *Executions { return &Executions{c: c} }

// StepData is the failed step as the history shows it: the ASL state's
// name and its input (JSON text). Thread and variables are the local
// engine's; the history has neither in the StateEntered event.
type StepData struct {
	State string
	Input json.RawMessage
	Error string
	Cause string
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
// failed, timed out or was aborted, with its input. Errors:
// ExecutionDoesNotExist, ExecutionNotRedrivable (not failed, or no state
// entered in that page).
func (e *Executions) FailedData(ctx context.Context, arn string) (*StepData, error) {
	out, err := e.c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn),
		ReverseOrder: true, MaxResults: historyPage, IncludeExecutionData: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("history of "+arn, err)
	}
	var d StepData
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
		case ev.StateEnteredEventDetails != nil:
			d.State = aws.ToString(ev.StateEnteredEventDetails.Name)
			d.Input = json.RawMessage(aws.ToString(ev.StateEnteredEventDetails.Input))
			if !json.Valid(d.Input) {
				d.Input = json.RawMessage("null")
			}
			return &d, nil
		}
	}
	return nil, &posluha.Error{Name: ErrNoFailedStep, Message: "no state entered in the last " + fmt.Sprint(historyPage) + " history events of " + arn}
}

// Resend is not offered in AWS: Step Functions has no API that changes
// the data of a failed execution (RedriveExecution reruns the failed
// state with the input it had). Errors: always NotSupported.
func (e *Executions) Resend(_ context.Context, arn string) error {
	return &posluha.Error{Name: ErrNotSupported, Message: "Step Functions cannot change a failed execution's data. " +
		"Correct the data at its source (the registry, or the application record) and redrive, or cancel with a reason"}
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
