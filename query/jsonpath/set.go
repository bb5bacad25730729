package jsonpath

import (
	"strconv"

	"github.com/posluha/posluha/query/value"
)

// SetError is returned by Set when the path cannot be written into the
// document: it is not a reference path, a step meets a value of the wrong
// type, or an index is out of range.
type SetError struct {
	Path string // the path as written
	Msg  string
}

func (e *SetError) Error() string { return "cannot apply path " + e.Path + ": " + e.Msg }

// Set returns doc with v stored at p, with ResultPath semantics: "$"
// replaces the whole document; missing objects on the way are created; the
// objects and arrays on the way are copied, never modified, so values shared
// with doc (the state input, variables) stay intact. Only reference paths
// (names and non-negative indexes) can be set; arrays are never grown.
func Set(doc any, p *Path, v any) (any, error) {
	if !p.reference {
		return nil, &SetError{Path: p.src, Msg: "only names and indexes can be set"}
	}
	return set(doc, true, p, 0, v)
}

func set(cur any, present bool, p *Path, i int, v any) (any, error) {
	if i == len(p.segs) {
		return v, nil
	}
	s := &p.segs[i]
	switch s.kind {
	case segName:
		var o *value.Object
		switch t := cur.(type) {
		case *value.Object:
			o = t.Clone()
		default:
			if present {
				return nil, &SetError{Path: p.src, Msg: "the value at " + p.normalizedPrefix(i) +
					" is " + value.TypeName(cur) + ", not an object"}
			}
			o = value.NewObject(1)
		}
		child, ok := o.Get(s.name)
		nv, err := set(child, ok, p, i+1, v)
		if err != nil {
			return nil, err
		}
		o.Set(s.name, nv)
		return o, nil
	case segIndex:
		a, ok := cur.([]any)
		if !ok {
			what := "missing"
			if present {
				what = value.TypeName(cur)
			}
			return nil, &SetError{Path: p.src, Msg: "the value at " + p.normalizedPrefix(i) +
				" is " + what + ", not an array"}
		}
		if s.index >= len(a) {
			return nil, &SetError{Path: p.src, Msg: "index " + strconv.Itoa(s.index) +
				" is out of range for " + p.normalizedPrefix(i) + " of length " + strconv.Itoa(len(a))}
		}
		c := make([]any, len(a))
		copy(c, a)
		nv, err := set(a[s.index], true, p, i+1, v)
		if err != nil {
			return nil, err
		}
		c[s.index] = nv
		return c, nil
	}
	return nil, &SetError{Path: p.src, Msg: "only names and indexes can be set"}
}
