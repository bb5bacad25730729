package eventwrite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha"
)

// fakeSFNAPI is a func-field fake of the SDK client.
type fakeSFNAPI struct {
	SuccessFn func(*sfn.SendTaskSuccessInput) error
	FailureFn func(*sfn.SendTaskFailureInput) error
}

func (f *fakeSFNAPI) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return &sfn.SendTaskSuccessOutput{}, f.SuccessFn(in)
}

func (f *fakeSFNAPI) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return &sfn.SendTaskFailureOutput{}, f.FailureFn(in)
}

func TestStepFunctionsErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    string // error name; "" for nil
		wrapped bool   // the SDK error stays in the chain
	}{
		{"ok", nil, "", false},
		{"task does not exist", &types.TaskDoesNotExist{Message: aws.String("gone")}, posluha.ErrApplicationNotFound, false},
		{"timed out", &types.TaskTimedOut{}, posluha.ErrApplicationNotFound, false},
		{"invalid token", &types.InvalidToken{}, posluha.ErrApplicationNotFound, false},
		{"network", errors.New("connection refused"), posluha.ErrInternal, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cause string
			s := &StepFunctions{c: &fakeSFNAPI{
				SuccessFn: func(*sfn.SendTaskSuccessInput) error { return tc.err },
				FailureFn: func(in *sfn.SendTaskFailureInput) error { cause = aws.ToString(in.Cause); return tc.err },
			}}
			for _, err := range []error{
				s.SendTaskSuccess(context.Background(), "tok", `{}`),
				s.SendTaskFailure(context.Background(), "tok", "Registry.BadRequest", "x"+strings.Repeat("ї", 20000)),
			} {
				if got := posluha.ErrorName(err); got != tc.want {
					t.Errorf("error = %v (%s), want %q", err, got, tc.want)
				}
				if tc.wrapped && !errors.Is(err, tc.err) {
					t.Errorf("error %v lost the SDK error", err)
				}
			}
			if len(cause) != 32767 || !utf8.ValidString(cause) {
				t.Errorf("cause of %d bytes (valid UTF-8: %v) sent, want it cut to 32767 at a letter", len(cause), utf8.ValidString(cause))
			}
		})
	}
}
