package jsonpath

import (
	"regexp"
	"strings"

	"github.com/posluha/posluha/query/value"
)

// node is a filter expression.
type node interface {
	test(e *evaluator, cur any) bool
}

type orNode struct{ a, b node }

func (n *orNode) test(e *evaluator, cur any) bool { return n.a.test(e, cur) || n.b.test(e, cur) }

type andNode struct{ a, b node }

func (n *andNode) test(e *evaluator, cur any) bool { return n.a.test(e, cur) && n.b.test(e, cur) }

type notNode struct{ n node }

func (n *notNode) test(e *evaluator, cur any) bool { return !n.n.test(e, cur) }

// operand is one side of a comparison: a path relative to the current item
// (@), a path from the root ($), a literal or a regex.
type operand struct {
	path     *Path
	absolute bool
	lit      any
	isLit    bool
	re       *regexp.Regexp
}

// resolve returns the operand's value and whether it exists.
func (o *operand) resolve(e *evaluator, cur any) (any, bool) {
	if o.path == nil {
		return o.lit, o.isLit
	}
	from := cur
	if o.absolute {
		from = e.root
	}
	if o.path.definite {
		v, err := o.path.getDefinite(from)
		if err != nil {
			return nil, false
		}
		if o.path.fn != "" {
			v = applyFunc(o.path.fn, v)
		}
		return v, true
	}
	sub := evaluator{root: e.root}
	sub.walk(o.path.segs, from)
	var v any = sub.out
	if sub.out == nil {
		v = []any{}
	}
	if o.path.fn != "" {
		v = applyFunc(o.path.fn, v)
	}
	return v, true
}

// cmpNode compares two operands; with no op it tests that the left one
// exists (a path) or is true (a literal).
type cmpNode struct {
	left, right operand
	op          string
}

func (n *cmpNode) test(e *evaluator, cur any) bool {
	l, ok := n.left.resolve(e, cur)
	if n.op == "" {
		if n.left.isLit {
			b, _ := l.(bool)
			return b
		}
		return ok
	}
	if !ok {
		return false
	}
	if n.op == "=~" {
		s, ok := l.(string)
		return ok && n.right.re.MatchString(s)
	}
	r, ok := n.right.resolve(e, cur)
	if !ok {
		return false
	}
	switch n.op {
	case "==":
		return value.Equal(l, r)
	case "!=":
		return !value.Equal(l, r)
	case "<", "<=", ">", ">=":
		c, ok := compare(l, r)
		if !ok {
			return false
		}
		switch n.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "in", "nin":
		list, ok := r.([]any)
		if !ok {
			return false
		}
		return contains(list, l) == (n.op == "in")
	case "contains":
		switch t := l.(type) {
		case string:
			s, ok := r.(string)
			return ok && strings.Contains(t, s)
		case []any:
			return contains(t, r)
		}
		return false
	case "size":
		want, ok := r.(float64)
		if !ok {
			return false
		}
		size, ok := applyFunc("length", l).(float64)
		return ok && size == want
	case "empty":
		want, ok := r.(bool)
		if !ok {
			return false
		}
		size, ok := applyFunc("length", l).(float64)
		return ok && (size == 0) == want
	case "subsetof", "anyof", "noneof":
		a, ok1 := l.([]any)
		b, ok2 := r.([]any)
		if !ok1 || !ok2 {
			return false
		}
		switch n.op {
		case "subsetof":
			for _, x := range a {
				if !contains(b, x) {
					return false
				}
			}
			return true
		case "anyof":
			for _, x := range a {
				if contains(b, x) {
					return true
				}
			}
			return false
		}
		for _, x := range a {
			if contains(b, x) {
				return false
			}
		}
		return true
	}
	return false
}

// compare orders two numbers or two strings; other pairs do not compare.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		case x == y:
			return 0, true
		}
		return 0, false // NaN
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}

func contains(list []any, v any) bool {
	for _, x := range list {
		if value.Equal(x, v) {
			return true
		}
	}
	return false
}
