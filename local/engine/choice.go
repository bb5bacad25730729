package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/posluha/posluha/query/jsonata"
	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

// ChoiceRule is one rule of a Choice state (a top-level rule has Next; the
// operands of And/Or/Not do not).
type ChoiceRule struct {
	Next string
	// JSONata.
	Condition *jsonata.Expr
	condSrc   string
	// JSONPath.
	Variable    *jsonpath.Path
	Op          string // "StringEquals", "IsNull", …; "" for And/Or/Not
	Operand     any
	OperandPath *jsonpath.Path
	And, Or     []*ChoiceRule
	Not         *ChoiceRule
	// Either language.
	Assign *tmpl
	Output *tmpl
}

var comparisonOps = set(
	"StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals", "StringMatches",
	"NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals", "NumericGreaterThanEquals",
	"BooleanEquals",
	"TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals", "TimestampGreaterThanEquals",
	"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp",
)

func (p *parser) choice(st *State, obj *value.Object, loc string) {
	st.Default, _ = p.str(obj, "Default", loc, false)
	v, ok := obj.Get("Choices")
	arr, isArr := v.([]any)
	if !ok || !isArr || len(arr) == 0 {
		p.fail(loc, "The field \"Choices\" is required and must be a non-empty array")
		return
	}
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/Choices/%d", loc, i)
		ro, ok := e.(*value.Object)
		if !ok {
			p.fail(rloc, "Expected value of type: Object")
			continue
		}
		r := p.rule(st, ro, rloc, true)
		if r != nil {
			st.Choices = append(st.Choices, r)
		}
	}
}

func (p *parser) rule(st *State, obj *value.Object, loc string, top bool) *ChoiceRule {
	r := &ChoiceRule{}
	if top {
		r.Next, _ = p.str(obj, "Next", loc, true)
		if av, ok := obj.Get("Assign"); ok {
			if st.Lang == JSONata {
				r.Assign = p.jaTemplate(av, loc+"/Assign", "Assign")
			} else {
				r.Assign = p.jpTemplate(av, loc+"/Assign", "Assign")
			}
		}
		if ov, ok := obj.Get("Output"); ok {
			if st.Lang != JSONata {
				p.fail(loc, "The field \"Output\" is not supported for JSONPath")
			} else {
				r.Output = p.jaTemplate(ov, loc+"/Output", "Output")
			}
		}
	} else if obj.Has("Next") {
		p.fail(loc, "Nested choice rules cannot have \"Next\"")
	}
	if st.Lang == JSONata {
		cv, ok := obj.Get("Condition")
		if !ok {
			p.fail(loc, "The field \"Condition\" is required")
			return nil
		}
		switch c := cv.(type) {
		case bool:
			src := "false"
			if c {
				src = "true"
			}
			e, _ := jsonata.Compile(src)
			r.Condition, r.condSrc = e, src
		case string:
			src, ok := jsonataSource(c)
			if !ok {
				p.fail(loc+"/Condition", "The field \"Condition\" must be a JSONata expression")
				return nil
			}
			e, err := jsonata.Compile(src)
			if err != nil {
				p.fail(loc+"/Condition", "The JSONata expression '%s' is invalid: %v", src, err)
				return nil
			}
			r.Condition, r.condSrc = e, src
		default:
			p.fail(loc+"/Condition", "Expected value of type: String or Boolean")
			return nil
		}
		return r
	}
	if v, ok := obj.Get("And"); ok {
		r.And = p.ruleList(st, v, loc+"/And")
		return r
	}
	if v, ok := obj.Get("Or"); ok {
		r.Or = p.ruleList(st, v, loc+"/Or")
		return r
	}
	if v, ok := obj.Get("Not"); ok {
		no, ok := v.(*value.Object)
		if !ok {
			p.fail(loc+"/Not", "Expected value of type: Object")
			return nil
		}
		r.Not = p.rule(st, no, loc+"/Not", false)
		if r.Not == nil {
			return nil
		}
		return r
	}
	vs, ok := p.str(obj, "Variable", loc, true)
	if !ok {
		return nil
	}
	path, err := jsonpath.Compile(vs)
	if err != nil {
		p.fail(loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath: %s", vs)
		return nil
	}
	r.Variable = path
	for _, m := range obj.Members() {
		switch m.Key {
		case "Variable", "Next", "Assign", "Comment", "Output":
			continue
		}
		op := m.Key
		if base, isPath := strings.CutSuffix(op, "Path"); isPath && comparisonOps[base] && !strings.HasPrefix(base, "Is") {
			s, ok := m.Value.(string)
			if !ok {
				p.fail(loc+"/"+op, "Expected value of type: String")
				return nil
			}
			pp, err := jsonpath.Compile(s)
			if err != nil {
				p.fail(loc+"/"+op, "The value for the field '%s' must be a valid JSONPath: %s", op, s)
				return nil
			}
			if r.Op != "" {
				p.fail(loc, "A choice rule must have exactly one comparison operator")
				return nil
			}
			r.Op, r.OperandPath = base, pp
			continue
		}
		if !comparisonOps[op] {
			p.fail(loc, "Field %q is not supported", op)
			return nil
		}
		if r.Op != "" {
			p.fail(loc, "A choice rule must have exactly one comparison operator")
			return nil
		}
		r.Op, r.Operand = op, m.Value
		if !operandOK(op, m.Value) {
			p.fail(loc+"/"+op, "The value of '%s' has the wrong type", op)
			return nil
		}
	}
	if r.Op == "" {
		p.fail(loc, "A choice rule must have a comparison operator")
		return nil
	}
	return r
}

func operandOK(op string, v any) bool {
	switch {
	case strings.HasPrefix(op, "Is"), op == "BooleanEquals":
		_, ok := v.(bool)
		return ok
	case strings.HasPrefix(op, "Numeric"):
		_, ok := v.(float64)
		return ok
	case strings.HasPrefix(op, "Timestamp"):
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := parseTimestamp(s)
		return err == nil
	}
	_, ok := v.(string)
	return ok
}

func (p *parser) ruleList(st *State, v any, loc string) []*ChoiceRule {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		p.fail(loc, "Expected a non-empty array of choice rules")
		return nil
	}
	var out []*ChoiceRule
	for i, e := range arr {
		o, ok := e.(*value.Object)
		if !ok {
			p.fail(fmt.Sprintf("%s/%d", loc, i), "Expected value of type: Object")
			continue
		}
		if r := p.rule(st, o, fmt.Sprintf("%s/%d", loc, i), false); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// match evaluates a rule against the state's (effective) input.
func (r *ChoiceRule) match(e *env) (bool, error) {
	if r.Condition != nil {
		v, err := e.evalExpr(r.Condition, r.condSrc, "Condition")
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			return false, queryErr("The JSONata expression '%s' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s", r.condSrc, value.TypeName(v), value.String(v))
		}
		return b, nil
	}
	switch {
	case r.And != nil:
		for _, c := range r.And {
			ok, err := c.match(e)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, c := range r.Or {
			ok, err := c.match(e)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.match(e)
		return !ok, err
	}
	v, err := e.get(r.Variable)
	if r.Op == "IsPresent" {
		return (err == nil) == r.Operand.(bool), nil
	}
	if err != nil {
		if strings.HasPrefix(r.Op, "Is") {
			// An absent variable is not null, numeric, …: "Is…: false" matches.
			return !r.Operand.(bool), nil
		}
		return false, choicePathErr(r.Variable, err)
	}
	operand := r.Operand
	if r.OperandPath != nil {
		operand, err = e.get(r.OperandPath)
		if err != nil {
			return false, choicePathErr(r.OperandPath, err)
		}
	}
	return compare(r.Op, v, operand), nil
}

// choicePathErr words a Choice rule's missing path as AWS does.
func choicePathErr(p *jsonpath.Path, err error) error {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return runtimeErr("Invalid path '%s': The choice state's condition path references an invalid value.", p.String())
}

// compare applies a comparison operator; a type mismatch is "no match".
func compare(op string, v, operand any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == operand.(bool)
	case "IsNumeric":
		_, ok := v.(float64)
		return ok == operand.(bool)
	case "IsString":
		_, ok := v.(string)
		return ok == operand.(bool)
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == operand.(bool)
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
		return ok == operand.(bool)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && stringMatches(a, b)
	}
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op[len("String"):], strings.Compare(a, b))
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := v.(float64)
		b, ok2 := operand.(float64)
		if !ok1 || !ok2 || math.IsNaN(a) || math.IsNaN(b) {
			return false
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return ordered(op[len("Numeric"):], c)
	case strings.HasPrefix(op, "Timestamp"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, err1 := parseTimestamp(a)
		tb, err2 := parseTimestamp(b)
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(op[len("Timestamp"):], ta.Compare(tb))
	}
	return false
}

func ordered(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// stringMatches implements StringMatches: '*' matches any run of
// characters, '\*' a literal star and '\\' a backslash.
func stringMatches(s, pattern string) bool {
	type tok struct {
		star bool
		lit  rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{lit: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{lit: rs[i]})
		}
	}
	in := []rune(s)
	// Greedy matching with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(in) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].lit == in[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}

// parseTimestamp parses an RFC 3339 timestamp as Step Functions accepts it
// (a 'T' separator and a zone are required).
func parseTimestamp(s string) (time.Time, error) {
	if !strings.Contains(s, "T") {
		return time.Time{}, fmt.Errorf("timestamp %q has no 'T'", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}
