// Package intrinsic compiles and evaluates Step Functions intrinsic
// functions (States.Format, States.Array, …) as written in JSONPath-mode
// Parameters, ResultSelector, Assign and Fail fields ("key.$": "States.…(…)").
//
// Compile checks what AWS checks when a definition is created: the syntax,
// that the function exists and that it gets an acceptable number of
// arguments. Eval checks argument types and values and reports failures as
// *Error with the error name States.Runtime, as AWS does.
package intrinsic

import (
	"fmt"
	"strings"

	"github.com/posluha/posluha/query/jsonpath"
)

// Call is a compiled intrinsic function call; its arguments may be nested
// calls. It is immutable and safe for concurrent use.
type Call struct {
	src  string // this call's own text, e.g. "States.Array($.a)"
	name string // "States.Array"
	fn   *function
	args []arg
}

// argKind tells what an argument is.
type argKind uint8

const (
	argLiteral argKind = iota // 'text', 12, true, false, null
	argPath                   // $.a, $$.Execution.Id, $var.x
	argCall                   // a nested States.… call
)

// arg is one compiled argument.
type arg struct {
	kind argKind
	lit  any
	// tmpl is set for string literals: the text split at unescaped {}
	// placeholders, which only States.Format gives meaning to.
	tmpl []string
	path *jsonpath.Path
	call *Call
}

// SyntaxError reports why an intrinsic expression failed to compile.
type SyntaxError struct {
	Expr   string // the expression as given
	Offset int    // byte offset of the problem in Expr
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// Error is a runtime failure of an intrinsic function. Name is the Step
// Functions error name (always States.Runtime, as on AWS) and Cause the
// human text the engine puts after its "An error occurred while executing
// the state …" prefix.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// ErrRuntime is the error name of every evaluation failure.
const ErrRuntime = "States.Runtime"

func runtimeErr(format string, args ...any) error {
	return &Error{Name: ErrRuntime, Cause: fmt.Sprintf(format, args...)}
}

// IsIntrinsic reports whether s looks like an intrinsic call; it is a cheap
// prefix check, Compile does the real work.
func IsIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// String returns the source text of the call.
func (c *Call) String() string { return c.src }

// Name returns the function name, e.g. "States.Format".
func (c *Call) Name() string { return c.name }

// Paths returns every JSONPath the call reads, nested calls included, in
// source order, so callers can check them (a compiler can reject unknown
// variables, an engine can tell which roots it needs).
func (c *Call) Paths() []*jsonpath.Path {
	var out []*jsonpath.Path
	for _, a := range c.args {
		switch a.kind {
		case argPath:
			out = append(out, a.path)
		case argCall:
			out = append(out, a.call.Paths()...)
		}
	}
	return out
}

// Eval evaluates the call; resolve returns the value of a path argument
// from the right root ($, $$ or a variable). An error from resolve is
// returned unchanged, so the engine can report a missing path its own way;
// failures of the functions themselves are *Error.
func (c *Call) Eval(resolve func(*jsonpath.Path) (any, error)) (any, error) {
	vals := make([]any, len(c.args))
	for i := range c.args {
		a := &c.args[i]
		switch a.kind {
		case argLiteral:
			vals[i] = a.lit
		case argPath:
			v, err := resolve(a.path)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		case argCall:
			v, err := a.call.Eval(resolve)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
	}
	return c.fn.eval(c, vals)
}
