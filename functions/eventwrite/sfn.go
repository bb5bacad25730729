package eventwrite

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha"
)

// sfnAPI is the part of the Step Functions client the adapter uses.
type sfnAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// StepFunctions implements SFN with aws-sdk-go-v2, mapping a task that no
// longer waits (TaskDoesNotExist, TaskTimedOut, InvalidToken) to
// Application.NotFound.
type StepFunctions struct {
	c sfnAPI
}

var _ SFN = (*StepFunctions)(nil)

// NewStepFunctions returns the adapter for a Step Functions client.
func NewStepFunctions(c *sfn.Client) *StepFunctions { return &StepFunctions{c: c} }

// SendTaskSuccess implements SFN.
func (s *StepFunctions) SendTaskSuccess(ctx context.Context, token, output string) error {
	_, err := s.c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
	return sfnError("send task success", err)
}

// maxCause is Step Functions' limit on a failure's cause.
const maxCause = 32768

// SendTaskFailure implements SFN. Cause is cut to Step Functions' limit.
func (s *StepFunctions) SendTaskFailure(ctx context.Context, token, name, cause string) error {
	if len(cause) > maxCause {
		n := maxCause
		for n > 0 && !utf8.RuneStart(cause[n]) {
			n-- // never split a letter of a Ukrainian message
		}
		cause = cause[:n]
	}
	_, err := s.c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
		TaskToken: aws.String(token), Error: aws.String(name), Cause: aws.String(cause),
	})
	return sfnError("send task failure", err)
}

func sfnError(op string, err error) error {
	if err == nil {
		return nil
	}
	var (
		notExist *types.TaskDoesNotExist
		timedOut *types.TaskTimedOut
		invalid  *types.InvalidToken
	)
	if errors.As(err, &notExist) || errors.As(err, &timedOut) || errors.As(err, &invalid) {
		return posluha.Errorf(posluha.ErrApplicationNotFound, "the task no longer waits")
	}
	return fmt.Errorf("%s: %w", op, err)
}
