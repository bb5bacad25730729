// Package intrinsic compiles and evaluates Step Functions intrinsic
// functions (States.Format, States.Array, …) as written in JSONPath-mode
// Parameters, ResultSelector and Assign fields ("key.$": "States.…(…)").
package intrinsic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/posluha/posluha/query/jsonpath"
)

// Call is a compiled intrinsic function call; its arguments may be nested
// calls. It is immutable and safe for concurrent use.
type Call struct {
	src string
}

// SyntaxError reports why an intrinsic expression failed to compile.
type SyntaxError struct {
	Expr   string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// Error is a runtime failure of an intrinsic function, carrying the Step
// Functions error name (States.Runtime, States.IntrinsicFailure) and the
// cause text as AWS writes it.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// IsIntrinsic reports whether s looks like an intrinsic call; it is a cheap
// prefix check, Compile does the real work.
func IsIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// Compile parses expr. Errors are *SyntaxError.
func Compile(expr string) (*Call, error) {
	return nil, &SyntaxError{Expr: expr, Msg: "not implemented"}
}

// String returns the source text.
func (c *Call) String() string { return c.src }

// Eval evaluates the call; resolve returns the value of a path argument
// from the right root ($, $$ or a variable).
func (c *Call) Eval(resolve func(*jsonpath.Path) (any, error)) (any, error) {
	return nil, errors.New("not implemented")
}
