// Package jsonata implements the JSONata 2.0.6 query language (as AWS Step
// Functions runs it, with its additional functions) over the shared JSON data
// model of package value.
package jsonata

import (
	"fmt"
	"time"
)

// Expr is a compiled JSONata expression. It is immutable once compiled and
// safe for concurrent Eval calls.
type Expr struct {
	src  string
	root *node
}

// Env is what an evaluation sees.
type Env struct {
	// Input is the context item ($), used only when HasInput is true.
	Input any
	// HasInput reports whether there is a context item; Step Functions runs
	// expressions without one (the input is $states.input).
	HasInput bool
	// Vars are variable bindings, named without the leading '$'. Values
	// must belong to the data model of package value.
	Vars map[string]any
	// Now is the instant $now() and $millis() report; zero means time.Now()
	// taken once per evaluation.
	Now time.Time
}

// Error is a JSONata compile or evaluation error. Code is jsonata-js's error
// code (like "S0202", "T2001", "D3030") and Message is worded as jsonata-js
// words it.
type Error struct {
	Code     string
	Position int
	Token    string
	Value    any
	Message  string
}

// Error returns the code and message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

type node struct{}

// Compile parses src into an expression. Syntax errors are *Error values.
func Compile(src string) (*Expr, error) {
	return &Expr{src: src, root: &node{}}, nil
}

// Eval evaluates e in env. defined is false when the expression produced
// no value (JSONata's undefined). Errors are *Error values.
func (e *Expr) Eval(env Env) (result any, defined bool, err error) {
	return nil, false, &Error{Code: "D0000", Message: "not implemented"}
}
