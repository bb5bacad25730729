package jsonata

import (
	"math"

	"github.com/posluha/posluha/query/value"
)

// JSONata's values inside an evaluation are the data model of package value
// plus:
//   - undefined: the Go value undef (never stored in arrays or objects);
//   - *seq: an array carrying jsonata-js's hidden flags (a result sequence,
//     an array built by a constructor, a singleton kept as an array, ...);
//   - functions: *lambda, *builtin, *partialNative, *regex;
//   - tuple: a binding tuple of a tuple stream ('@', focus, index, ancestors).
// Plain []any values are JSON arrays without flags.

type undefinedT struct{}

// undef is JSONata's undefined (no value).
var undef any = undefinedT{}

func isUndef(v any) bool { _, ok := v.(undefinedT); return ok }

// seq is an array with jsonata-js's hidden flags.
type seq struct {
	v             []any
	sequence      bool // created as a result sequence; collapses when singleton
	cons          bool // built by an array constructor at a path's end: not flattened
	keepSingleton bool // [] was used: a singleton stays an array
	outerWrapper  bool // wraps the input array so it is one context item
	tupleStream   bool // items are tuples
}

type tuple map[string]any

func newSeq(items ...any) *seq {
	s := &seq{sequence: true}
	if len(items) > 0 {
		s.v = items
	}
	return s
}

// arr returns the items of an array value (plain or flagged).
func arr(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case *seq:
		return t.v, true
	}
	return nil, false
}

func isArray(v any) bool {
	switch v.(type) {
	case []any, *seq:
		return true
	}
	return false
}

func isSequence(v any) bool {
	s, ok := v.(*seq)
	return ok && s.sequence
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *partialNative, *regex:
		return true
	}
	return false
}

// isNumeric reports whether v is a number; an infinite number is an error
// (D1001), as in jsonata-js.
func isNumeric(v any) bool {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) {
		return false
	}
	if math.IsInf(f, 0) {
		panic(&Error{Code: "D1001", Value: f})
	}
	return true
}

func isArrayOfNumbers(v any) bool {
	a, ok := arr(v)
	if !ok {
		return false
	}
	for _, e := range a {
		if !isNumeric(e) {
			return false
		}
	}
	return true
}

func isArrayOfStrings(v any) bool {
	a, ok := arr(v)
	if !ok {
		return false
	}
	for _, e := range a {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

// appendValues is fn.append: concatenation where non-arrays count as
// singletons; the result is a plain array (concat drops flags).
func appendValues(a, b any) any {
	if isUndef(a) {
		return b
	}
	if isUndef(b) {
		return a
	}
	var out []any
	if x, ok := arr(a); ok {
		out = append(make([]any, 0, len(x)+1), x...)
	} else {
		out = []any{a}
	}
	if y, ok := arr(b); ok {
		out = append(out, y...)
	} else {
		out = append(out, b)
	}
	return out
}

// output converts an internal value to the data model: flags dropped,
// functions removed from objects and nulled in arrays (as JSON.stringify
// does), infinities rejected.
func output(v any) any {
	switch t := v.(type) {
	case *seq:
		out := make([]any, len(t.v))
		for i, e := range t.v {
			out[i] = outputItem(e)
		}
		return out
	case []any:
		var out []any
		for i, e := range t {
			c := outputItem(e)
			if out == nil && !same(c, e) {
				out = make([]any, len(t))
				copy(out, t[:i])
			}
			if out != nil {
				out[i] = c
			}
		}
		if out == nil {
			return t
		}
		return out
	case *value.Object:
		if !inJSOrder(t) {
			t = jsOrder(t)
		}
		var out *value.Object
		for i, m := range t.Members() {
			if isFunction(m.Value) || isUndef(m.Value) {
				if out == nil {
					out = value.NewObject(t.Len())
					for _, p := range t.Members()[:i] {
						out.Set(p.Key, p.Value)
					}
				}
				continue
			}
			c := output(m.Value)
			if out == nil && !same(c, m.Value) {
				out = value.NewObject(t.Len())
				for _, p := range t.Members()[:i] {
					out.Set(p.Key, p.Value)
				}
			}
			if out != nil {
				out.Set(m.Key, c)
			}
		}
		if out == nil {
			return t
		}
		return out
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			// JSON cannot hold it; jsonata-js would hand back Infinity
			panic(&Error{Code: "D1001", Value: t})
		}
		return t
	}
	switch v.(type) {
	case nil, bool, string:
		return v
	}
	// functions, and anything else internal, are not JSON
	return nil
}

func outputItem(e any) any {
	if isFunction(e) || isUndef(e) {
		return nil
	}
	return output(e)
}

// same reports whether a and b are the identical Go value (for copy-on-write).
func same(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case *value.Object:
		y, ok := b.(*value.Object)
		return ok && x == y
	case *seq:
		return false
	}
	return true
}
