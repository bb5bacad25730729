package jsonpath

import (
	"fmt"
	"strconv"
	"strings"
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

// String names the root as it is written: "$", "$$" or "$name" (generic).
func (r Root) String() string {
	switch r {
	case RootInput:
		return "$"
	case RootContext:
		return "$$"
	case RootVariable:
		return "$name"
	}
	return "Root(" + strconv.Itoa(int(r)) + ")"
}

// Path is a compiled JSONPath expression. It is immutable and safe for
// concurrent use.
type Path struct {
	src     string
	root    Root
	varName string
	segs    []segment
	fn      string // trailing function such as "length", "" if none
	// definite: at most one result (Jayway's isDefinite).
	definite bool
	// reference: only single names and single indexes, the subset AWS
	// allows in reference paths (ResultPath, OutputPath, ItemsPath …).
	reference bool
	norm      string
}

// segKind is the kind of one step of a path.
type segKind uint8

const (
	segName    segKind = iota // .a or ['a']
	segNames                  // ['a','b']
	segIndex                  // [3] or [-1]
	segIndexes                // [0,2]
	segSlice                  // [a:b] or [a:b:step]
	segWild                   // .* or [*]
	segFilter                 // [?(...)]
)

// segment is one step. deep marks a step written after "..", applied to
// the value and all its descendants.
type segment struct {
	kind    segKind
	deep    bool
	name    string
	names   []string
	index   int
	indexes []int
	// slice bounds; hasFrom/hasTo record which were written.
	from, to, step int
	hasFrom, hasTo bool
	filter         node
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

// Compile parses expr. Errors are *SyntaxError.
func Compile(expr string) (*Path, error) {
	p := &parser{src: expr}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return path, nil
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

// Definite reports whether the path names at most one location, as Jayway
// decides it: it has no wildcard, slice, filter, deep scan or index union.
// A property union such as $['a','b'] in last position is definite, because
// Jayway merges it into one object.
func (p *Path) Definite() bool { return p.definite }

// Reference reports whether the path is a reference path in AWS's sense:
// only names and non-negative indexes, no function. ResultPath, OutputPath,
// ItemsPath and the *Path fields of Choice and Wait must be reference paths.
func (p *Path) Reference() bool { return p.reference }

// String returns the source text.
func (p *Path) String() string { return p.src }

// Normalized returns Jayway's normalized form, $['a']['b'][0], used in AWS
// error texts.
func (p *Path) Normalized() string { return p.norm }

// normalizedPrefix renders the root and the first n segments.
func (p *Path) normalizedPrefix(n int) string {
	var b strings.Builder
	b.WriteString(p.rootText())
	for _, s := range p.segs[:n] {
		s.appendNormalized(&b)
	}
	return b.String()
}

func (p *Path) rootText() string {
	switch p.root {
	case RootContext:
		return "$$"
	case RootVariable:
		return "$" + p.varName
	}
	return "$"
}

func (s *segment) appendNormalized(b *strings.Builder) {
	if s.deep {
		b.WriteString("..")
	}
	switch s.kind {
	case segName:
		b.WriteString("['")
		b.WriteString(s.name)
		b.WriteString("']")
	case segNames:
		b.WriteByte('[')
		for i, n := range s.names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('\'')
			b.WriteString(n)
			b.WriteByte('\'')
		}
		b.WriteByte(']')
	case segIndex:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(s.index))
		b.WriteByte(']')
	case segIndexes:
		b.WriteByte('[')
		for i, n := range s.indexes {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
		b.WriteByte(']')
	case segSlice:
		b.WriteByte('[')
		if s.hasFrom {
			b.WriteString(strconv.Itoa(s.from))
		}
		b.WriteByte(':')
		if s.hasTo {
			b.WriteString(strconv.Itoa(s.to))
		}
		if s.step != 1 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(s.step))
		}
		b.WriteByte(']')
	case segWild:
		b.WriteString("[*]")
	case segFilter:
		b.WriteString("[?]")
	}
}
