// Package jsonata implements the JSONata 2.0.6 query language, as AWS Step
// Functions runs it (with its additional functions $partition, $range,
// $hash, $random with a seed, $uuid and $parse), over the shared JSON data
// model of package value.
//
// The evaluator follows jsonata-js closely, because its observable
// behaviour (singleton sequences, flattening, key order, number formatting,
// error codes) is the specification. Internally errors travel as panics of
// *Error, recovered only at the entry points (Compile, Eval, $eval).
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
// words it. Position is the character offset jsonata-js reports (just after
// the offending token), Token the operator or function name involved and
// Value the offending value, when there is one.
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

// maxSource bounds the expression length; Step Functions' own limits on a
// definition are far below it.
const maxSource = 1 << 20

// Compile parses src into an expression. Syntax errors are *Error values.
func Compile(src string) (*Expr, error) {
	if len(src) > maxSource {
		return nil, &Error{Code: "S0500", Message: "expression too long"}
	}
	var root *node
	_, err := runGuarded(func() any {
		r, perr := parse(src)
		if perr != nil {
			panic(perr)
		}
		root = r
		return nil
	})
	if err != nil {
		err.populate(nil)
		return nil, err
	}
	return &Expr{src: src, root: root}, nil
}

// MustCompile is Compile for expressions known to be valid; it panics on a
// syntax error, so use it only for literals in code and tests.
func MustCompile(src string) *Expr {
	e, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval evaluates e in env. defined is false when the expression produced
// no value (JSONata's undefined). Errors are *Error values. Eval never
// modifies env's values, and the result may share arrays and objects with
// them, so treat both as read-only.
func (e *Expr) Eval(env Env) (result any, defined bool, err error) {
	now := env.Now
	if now.IsZero() {
		now = time.Now()
	}
	root := &frame{st: &state{now: now}}
	root.vars = make(map[string]any, len(env.Vars)+1)
	for k, v := range env.Vars {
		root.vars[k] = v
	}
	var input any = undef
	if env.HasInput {
		input = env.Input
		root.vars["$"] = input
		if a, ok := input.([]any); ok {
			input = &seq{v: []any{a}, sequence: true, outerWrapper: true}
		}
	} else {
		root.vars["$"] = undef
	}
	res, perr := runGuarded(func() any {
		r := root.eval(e.root, input)
		if isUndef(r) {
			return r
		}
		return output(r)
	})
	if perr != nil {
		perr.populate(nil)
		return nil, false, perr
	}
	if isUndef(res) {
		return nil, false, nil
	}
	return res, true, nil
}

// runGuarded runs fn, turning a panic of *Error into a returned error. Any
// other panic is a bug in this package; it is reported as an error too
// (code "D0000") rather than taking the caller down.
func runGuarded(fn func() any) (res any, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				err = e
				return
			}
			err = &Error{Code: "D0000", Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	return fn(), nil
}
