package posluha

import (
	"errors"
	"fmt"
)

// Error names. They are API: Step Functions Retry and Catch match them by
// name (ErrorEquals) and BPMN error boundary events name them, so they never
// change once released. The list is checked by a golden test.
const (
	ErrInternal = "Internal"

	ErrApplicationConflict  = "Application.Conflict"
	ErrApplicationNotFound  = "Application.NotFound"
	ErrApplicationInvalid   = "Application.Invalid"
	ErrApplicationForbidden = "Application.Forbidden"

	ErrRegistryUnavailable = "Registry.Unavailable"
	// ErrRegistryThrottled: our own limit on calls to the registry (rate
	// or concurrency, connectors/*.yaml) admitted no call in time; the
	// registry was not called. Compiled state machines retry it for long.
	ErrRegistryThrottled   = "Registry.Throttled"
	ErrRegistryBadRequest  = "Registry.BadRequest"
	ErrRegistryNotFound    = "Registry.NotFound"
	ErrRegistryBadResponse = "Registry.BadResponse"

	ErrSignatureInvalid = "Signature.Invalid"
	ErrSignatureExpired = "Signature.Expired"

	ErrDocumentTemplate = "Document.Template"

	ErrTaskInvalid = "Task.Invalid"
)

// Error is a failure with a stable name and a message safe to show to the
// caller (no personal data, no internals).
type Error struct {
	Name    string // Area.Reason, matched by Step Functions ErrorEquals
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Name, e.Message)
}

// Errorf returns an *Error with the given name and a formatted message.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}

// ErrorName returns the name of the first *Error in err's chain, or
// ErrInternal for any other non-nil error and "" for nil.
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Name
	}
	return ErrInternal
}

// ErrorMessage returns the safe message of the first *Error in err's chain,
// or a generic text for internal errors, whose details must not leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
