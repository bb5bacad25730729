package jsonpath

import (
	"errors"
	"fmt"
)

// Root names the value a path starts from.
type Root int

const (
	// RootInput is "$": the state's input (or the document the caller picks).
	RootInput Root = iota
	// RootContext is "$$": the context object.
	RootContext
	// RootVariable is "$name": a workflow variable (Variables/Assign).
	RootVariable
)

// Path is a compiled JSONPath expression. It is immutable and safe for
// concurrent use.
type Path struct {
	src     string
	root    Root
	varName string
}

// SyntaxError reports why an expression failed to compile.
type SyntaxError struct {
	Expr   string // the expression as given
	Offset int    // byte offset of the problem in Expr
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSONPath %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// NoResultsError is returned by Get when a definite path matches nothing.
type NoResultsError struct {
	Path       string // the path as written
	Normalized string // Jayway form, $['a']['b'][0]
}

// Error returns AWS's wording: "No results for path: $['a']".
func (e *NoResultsError) Error() string { return "No results for path: " + e.Normalized }

// SetError is returned by Set when the path cannot be written into the
// document (a non-object on the way, a wildcard, an index out of range).
type SetError struct {
	Path string // the path as written
	Msg  string
}

func (e *SetError) Error() string { return fmt.Sprintf("cannot set path %s: %s", e.Path, e.Msg) }

// Compile parses expr. Errors are *SyntaxError.
func Compile(expr string) (*Path, error) {
	return nil, &SyntaxError{Expr: expr, Msg: "not implemented"}
}

// MustCompile is Compile for literals known to be valid; it panics on error,
// so use it only in tests and package-level literals.
func MustCompile(expr string) *Path {
	p, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return p
}

// Root reports which value the path starts from.
func (p *Path) Root() Root { return p.root }

// Variable returns the variable name for RootVariable paths ("x" for "$x.a").
func (p *Path) Variable() string { return p.varName }

// Definite reports whether the path names at most one location: it has no
// wildcard, slice, filter, deep scan or union.
func (p *Path) Definite() bool { return true }

// String returns the source text.
func (p *Path) String() string { return p.src }

// Normalized returns Jayway's normalized form, $['a']['b'][0], used in AWS
// error texts.
func (p *Path) Normalized() string { return p.src }

// Get evaluates p against doc, the root value the caller chose for Root().
func (p *Path) Get(doc any) (any, error) { return nil, errors.New("not implemented") }

// Set returns doc with v stored at p (ResultPath semantics).
func Set(doc any, p *Path, v any) (any, error) { return nil, errors.New("not implemented") }
