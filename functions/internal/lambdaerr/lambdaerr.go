// Package lambdaerr turns the errors our handlers return into the shape
// Step Functions matches by name.
//
// aws-lambda-go reports a Go error's type name ("*posluha.Error" → "Error")
// as the errorType unless the error returned by the handler is itself a
// messages.InvokeResponse_Error value (a type assertion, so wrapping loses
// it). Handlers therefore convert at their boundary with Convert, once.
package lambdaerr

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/posluha/posluha"
)

// Convert returns the error to give back to the Lambda runtime for err:
// a named *posluha.Error becomes an InvokeResponse_Error whose Type is the
// error name (Registry.Unavailable, …) and whose Message is the safe message;
// any other error becomes "Internal" with a generic message, and its details
// go to log only, since they may hold internals or personal data.
func Convert(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive
	}
	var named *posluha.Error
	if errors.As(err, &named) {
		return messages.InvokeResponse_Error{Type: named.Name, Message: named.Message}
	}
	if log != nil {
		log.ErrorContext(ctx, "internal error", "err", err)
	}
	return messages.InvokeResponse_Error{Type: posluha.ErrInternal, Message: posluha.ErrorMessage(err)}
}

// Handler wraps h so that every error it returns goes through Convert.
func Handler[In, Out any](log *slog.Logger, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := h(ctx, in)
		return out, Convert(ctx, log, err)
	}
}
