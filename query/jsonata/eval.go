package jsonata

import (
	"math"
	"strings"
	"time"

	"github.com/posluha/posluha/query/value"
)

// maxDepth bounds nested evaluation so that runaway recursion in a user
// lambda gives jsonata's stack error rather than exhausting the Go stack.
// jsonata-js 2.x is asynchronous and recurses on the heap, so it goes very
// deep; 50000 nested evaluations is about 12000 levels of a recursive
// lambda, and some 70 MB of goroutine stack.
const maxDepth = 50000

// maxCalls bounds the lambda invocations of one evaluation. Tail calls run
// in a loop without growing the stack, so a non-terminating tail-recursive
// function would otherwise never end; jsonata-js's test harness reports
// U1002 there, from a time limit.
const maxCalls = 5_000_000

// state is shared by one evaluation.
type state struct {
	now   time.Time
	depth int
	calls int
}

// frame is a variable scope.
type frame struct {
	vars   map[string]any
	parent *frame
	st     *state
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent, st: parent.st}
}

func (f *frame) bind(name string, v any) {
	if f.vars == nil {
		f.vars = make(map[string]any, 4)
	}
	f.vars[name] = v
}

func (f *frame) lookup(name string) any {
	for fr := f; fr != nil; fr = fr.parent {
		if v, ok := fr.vars[name]; ok {
			return v
		}
	}
	if b, ok := builtins[name]; ok {
		return b
	}
	return undef
}

func fail(code string, pos int, val any) {
	panic(&Error{Code: code, Position: pos, Value: val})
}

func (f *frame) eval(expr *node, input any) any {
	st := f.st
	st.depth++
	if st.depth > maxDepth {
		panic(&Error{Code: "U1001", Position: expr.pos})
	}
	defer func() { st.depth-- }()
	var result any
	switch expr.typ {
	case "path":
		result = f.evalPath(expr, input)
	case "binary":
		result = f.evalBinary(expr, input)
	case "unary":
		result = f.evalUnary(expr, input)
	case "name":
		result = lookupField(input, expr.op)
	case "string", "number", "value":
		result = expr.value
	case "wildcard":
		result = evalWildcard(input)
	case "descendant":
		result = evalDescendants(input)
	case "parent":
		result = f.lookup(expr.slot.label)
	case "condition":
		c := f.eval(expr.cond, input)
		if toBoolean(c) {
			result = f.eval(expr.then, input)
		} else if expr.els != nil {
			result = f.eval(expr.els, input)
		} else {
			result = undef
		}
	case "block":
		fr := newFrame(f)
		result = undef
		for _, e := range expr.exprs {
			result = fr.eval(e, input)
		}
	case "bind":
		v := f.eval(expr.rhs, input)
		f.bind(expr.lhs.op, v)
		result = v
	case "regex":
		result = expr.re
	case "function":
		result = f.evalFunction(expr, input, nil, false)
	case "variable":
		if expr.op == "" {
			if s, ok := input.(*seq); ok && s.outerWrapper {
				result = s.v[0]
			} else {
				result = input
			}
		} else {
			result = f.lookup(expr.op)
		}
	case "lambda":
		result = &lambda{params: expr.params, sig: expr.sig, body: expr.body, thunk: expr.thunk, input: input, env: f}
	case "partial":
		result = f.evalPartial(expr, input)
	case "apply":
		result = f.evalApply(expr, input)
	case "transform":
		result = f.transformer(expr)
	case "operator":
		// a lone '?' placeholder outside a call
		result = undef
	default:
		fail("S0206", expr.pos, expr.typ)
	}
	for _, p := range expr.predicate {
		result = f.evalFilter(p.expr, result)
	}
	if expr.typ != "path" && expr.group != nil {
		result = f.evalGroup(expr.group, result)
	}
	if s, ok := result.(*seq); ok && s.sequence && !s.tupleStream {
		if expr.keepArray {
			s.keepSingleton = true
		}
		switch len(s.v) {
		case 0:
			result = undef
		case 1:
			if !s.keepSingleton {
				result = s.v[0]
			}
		}
	}
	return result
}

// lookupField is a name step: a field of an object, or of every object in
// an array, with array values flattened one level into the result.
func lookupField(input any, key string) any {
	switch t := input.(type) {
	case *value.Object:
		if v, ok := t.Get(key); ok {
			return v
		}
		return undef
	case []any, *seq:
		items, _ := arr(t)
		res := newSeq()
		for _, item := range items {
			r := lookupField(item, key)
			if isUndef(r) {
				continue
			}
			if a, ok := arr(r); ok {
				res.v = append(res.v, a...)
			} else {
				res.v = append(res.v, r)
			}
		}
		return res
	}
	return undef
}

// evalPath runs a path's steps left to right over a sequence. Once a step
// binds @ or # or is the target of %, the rest of the path runs as a
// stream of tuples carrying those bindings. A path whose steps used [] keeps
// a singleton result as an array.
func (f *frame) evalPath(expr *node, input any) any {
	var inputSeq []any
	if a, ok := arr(input); ok && expr.steps[0].typ != "variable" {
		inputSeq = a
	} else {
		inputSeq = []any{input}
	}
	var result any = undef
	isTuple := false
	var tuples []tuple
	tuplesSet := false
	for i, step := range expr.steps {
		if step.tuple {
			isTuple = true
		}
		if i == 0 && step.consarray {
			result = f.eval(step, &seq{v: inputSeq, sequence: true})
		} else if isTuple {
			tuples = f.evalTupleStep(step, inputSeq, tuples, tuplesSet)
			tuplesSet = true
		} else {
			result = f.evalStep(step, inputSeq, i == len(expr.steps)-1)
		}
		if !isTuple {
			if isUndef(result) {
				break
			}
			if a, ok := arr(result); ok && len(a) == 0 {
				break
			}
		}
		if step.focus == "" {
			if a, ok := arr(result); ok {
				inputSeq = a
			} else {
				inputSeq = []any{result}
			}
		}
	}
	if isTuple {
		if expr.tuple {
			ts := &seq{sequence: true, tupleStream: true}
			for _, t := range tuples {
				ts.v = append(ts.v, t)
			}
			result = ts
		} else {
			rs := newSeq()
			for _, t := range tuples {
				rs.v = append(rs.v, t["@"])
			}
			result = rs
		}
	}
	if expr.keepSingletonArray {
		switch r := result.(type) {
		case *seq:
			if r.cons && !r.sequence {
				result = &seq{v: []any{r}, sequence: true, keepSingleton: true}
			} else {
				r.keepSingleton = true
			}
		case []any:
			// a plain array is not a sequence: the flag has nowhere to live
			// in jsonata-js either (it sets a property that is never read)
		}
	}
	if expr.group != nil {
		if isTuple {
			ts := &seq{sequence: true, tupleStream: true}
			for _, t := range tuples {
				ts.v = append(ts.v, t)
			}
			result = f.evalGroup(expr.group, ts)
		} else {
			result = f.evalGroup(expr.group, result)
		}
	}
	return result
}

// evalStep evaluates one step for every item of its input and flattens
// the results one level, except arrays built by a constructor at the end of
// a path. A lone array from the last step is returned as it is, which is
// why `a.b` of {"a":{"b":[1]}} is [1] and not 1.
func (f *frame) evalStep(expr *node, input []any, last bool) any {
	if expr.typ == "sort" {
		res := f.evalSort(expr, input, false)
		if expr.stages != nil {
			return f.evalStages(expr.stages, res)
		}
		return res
	}
	results := make([]any, 0, len(input))
	for _, item := range input {
		res := f.eval(expr, item)
		for _, st := range expr.stages {
			res = f.evalFilter(st.expr, res)
		}
		if !isUndef(res) {
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if a, ok := results[0].([]any); ok {
			return a
		}
		if s, ok := results[0].(*seq); ok && !s.sequence {
			return s
		}
	}
	out := newSeq()
	for _, res := range results {
		switch r := res.(type) {
		case []any:
			out.v = append(out.v, r...)
		case *seq:
			if r.cons {
				out.v = append(out.v, r)
			} else {
				out.v = append(out.v, r.v...)
			}
		default:
			out.v = append(out.v, res)
		}
	}
	return out
}

func (f *frame) frameFromTuple(t tuple) *frame {
	fr := newFrame(f)
	fr.vars = make(map[string]any, len(t))
	for k, v := range t {
		fr.vars[k] = v
	}
	return fr
}

// evalTupleStep is evalStep over a tuple stream: each output tuple extends
// its input tuple with the step's focus (@), index (#) or ancestor (%)
// bindings.
func (f *frame) evalTupleStep(expr *node, input []any, tuples []tuple, haveTuples bool) []tuple {
	if expr.typ == "sort" {
		var result []tuple
		if haveTuples {
			items := make([]any, len(tuples))
			for i, t := range tuples {
				items[i] = t
			}
			sorted := f.evalSort(expr, items, true)
			for _, t := range sorted.v {
				result = append(result, asTuple(t))
			}
		} else {
			sorted := f.evalSort(expr, input, false)
			for i, v := range sorted.v {
				t := tuple{"@": v}
				if expr.index != "" {
					t[expr.index] = float64(i)
				}
				result = append(result, t)
			}
		}
		if expr.stages != nil {
			return f.evalTupleStages(expr.stages, result)
		}
		return result
	}
	if !haveTuples {
		tuples = make([]tuple, len(input))
		for i, item := range input {
			tuples[i] = tuple{"@": item}
		}
	}
	var result []tuple
	for _, tb := range tuples {
		env := f.frameFromTuple(tb)
		res := env.eval(expr, tb["@"])
		if isUndef(res) {
			continue
		}
		var items []any
		isTS := false
		if s, ok := res.(*seq); ok {
			items = s.v
			isTS = s.tupleStream
		} else if a, ok := res.([]any); ok {
			items = a
		} else {
			items = []any{res}
		}
		for bb, item := range items {
			t := make(tuple, len(tb)+2)
			for k, v := range tb {
				t[k] = v
			}
			if isTS {
				for k, v := range asTuple(item) {
					t[k] = v
				}
			} else {
				if expr.focus != "" {
					t[expr.focus] = item
					t["@"] = tb["@"]
				} else {
					t["@"] = item
				}
				if expr.index != "" {
					t[expr.index] = float64(bb)
				}
				if expr.ancestor != nil {
					t[expr.ancestor.label] = tb["@"]
				}
			}
			result = append(result, t)
		}
	}
	if expr.stages != nil {
		return f.evalTupleStages(expr.stages, result)
	}
	return result
}

func (f *frame) evalTupleStages(stages []*stage, tuples []tuple) []tuple {
	items := make([]any, len(tuples))
	for i, t := range tuples {
		items[i] = t
	}
	res := f.evalStages(stages, &seq{v: items, sequence: true, tupleStream: true})
	a, _ := arr(res)
	out := make([]tuple, 0, len(a))
	for _, t := range a {
		out = append(out, asTuple(t))
	}
	return out
}

func (f *frame) evalStages(stages []*stage, input any) any {
	result := input
	for _, st := range stages {
		switch st.typ {
		case "filter":
			result = f.evalFilter(st.expr, result)
		case "index":
			if a, ok := arr(result); ok {
				for i, t := range a {
					if tt, ok := t.(tuple); ok {
						tt[st.index] = float64(i)
					}
				}
			}
		}
	}
	return result
}

// evalFilter applies a predicate: a number selects by index (negative
// counts from the end), an array of numbers selects several, anything else
// keeps the items for which it is truthy.
func (f *frame) evalFilter(pred *node, input any) any {
	results := newSeq()
	var items []any
	tupleStream := false
	if s, ok := input.(*seq); ok {
		items = s.v
		tupleStream = s.tupleStream
		results.tupleStream = tupleStream
	} else if a, ok := input.([]any); ok {
		items = a
	} else {
		// undefined too: jsonata-js wraps it as a one-item sequence, so the
		// predicate still runs (and can fail) once
		items = []any{input}
	}
	if pred.typ == "number" {
		idx := int(math.Floor(pred.value.(float64)))
		if idx < 0 {
			idx += len(items)
		}
		if idx >= 0 && idx < len(items) && !isUndef(items[idx]) {
			item := items[idx]
			if isArray(item) {
				return item
			}
			results.v = append(results.v, item)
		}
		return results
	}
	for index, item := range items {
		context := item
		env := f
		if tupleStream {
			t := asTuple(item)
			context = t["@"]
			env = f.frameFromTuple(t)
		}
		res := env.eval(pred, context)
		if isNumeric(res) {
			res = []any{res}
		}
		if isArrayOfNumbers(res) {
			a, _ := arr(res)
			for _, n := range a {
				ii := int(math.Floor(n.(float64)))
				if ii < 0 {
					ii += len(items)
				}
				if ii == index && !isUndef(item) {
					results.v = append(results.v, item)
				}
			}
		} else if toBoolean(res) && !isUndef(item) {
			results.v = append(results.v, item)
		}
	}
	return results
}

func (f *frame) evalBinary(expr *node, input any) any {
	lhs := f.eval(expr.lhs, input)
	op := expr.op
	if op == "and" || op == "or" {
		l := toBoolean(lhs)
		if op == "and" {
			return l && toBoolean(f.eval(expr.rhs, input))
		}
		return l || toBoolean(f.eval(expr.rhs, input))
	}
	rhs := f.eval(expr.rhs, input)
	switch op {
	case "+", "-", "*", "/", "%":
		if !isUndef(lhs) && !isNumeric(lhs) {
			panic(&Error{Code: "T2001", Position: expr.pos, Token: op, Value: lhs})
		}
		if !isUndef(rhs) && !isNumeric(rhs) {
			panic(&Error{Code: "T2002", Position: expr.pos, Token: op, Value: rhs})
		}
		if isUndef(lhs) || isUndef(rhs) {
			return undef
		}
		a, b := lhs.(float64), rhs.(float64)
		switch op {
		case "+":
			return a + b
		case "-":
			return a - b
		case "*":
			return a * b
		case "/":
			return a / b
		default:
			return math.Mod(a, b)
		}
	case "=", "!=":
		if isUndef(lhs) || isUndef(rhs) {
			return false
		}
		eq := deepEqual(lhs, rhs)
		if op == "=" {
			return eq
		}
		return !eq
	case "<", "<=", ">", ">=":
		lc := isUndef(lhs) || isStrOrNum(lhs)
		rc := isUndef(rhs) || isStrOrNum(rhs)
		if !lc || !rc {
			v := lhs
			if isStrOrNum(lhs) {
				v = rhs
			}
			panic(&Error{Code: "T2010", Position: expr.pos, Token: op, Value: v})
		}
		if isUndef(lhs) || isUndef(rhs) {
			return undef
		}
		switch a := lhs.(type) {
		case float64:
			b, ok := rhs.(float64)
			if !ok {
				e := &Error{Code: "T2009", Position: expr.pos, Token: op, Value: lhs}
				e.populate(map[string]any{"value2": rhs})
				panic(e)
			}
			switch op {
			case "<":
				return a < b
			case "<=":
				return a <= b
			case ">":
				return a > b
			default:
				return a >= b
			}
		case string:
			b, ok := rhs.(string)
			if !ok {
				e := &Error{Code: "T2009", Position: expr.pos, Token: op, Value: lhs}
				e.populate(map[string]any{"value2": rhs})
				panic(e)
			}
			c := compareStrings(a, b)
			switch op {
			case "<":
				return c < 0
			case "<=":
				return c <= 0
			case ">":
				return c > 0
			default:
				return c >= 0
			}
		}
	case "&":
		var sb strings.Builder
		if !isUndef(lhs) {
			sb.WriteString(toString(lhs, false))
		}
		if !isUndef(rhs) {
			sb.WriteString(toString(rhs, false))
		}
		return sb.String()
	case "..":
		if !isUndef(lhs) && !isInteger(lhs) {
			panic(&Error{Code: "T2003", Position: expr.pos, Token: op, Value: lhs})
		}
		if !isUndef(rhs) && !isInteger(rhs) {
			panic(&Error{Code: "T2004", Position: expr.pos, Token: op, Value: rhs})
		}
		if isUndef(lhs) || isUndef(rhs) {
			return undef
		}
		a, b := lhs.(float64), rhs.(float64)
		if a > b {
			return undef
		}
		size := b - a + 1
		if size > 1e7 {
			panic(&Error{Code: "D2014", Position: expr.pos, Token: op, Value: size})
		}
		out := make([]any, int(size))
		for i := range out {
			out[i] = a + float64(i)
		}
		return &seq{v: out, sequence: true}
	case "in":
		if isUndef(lhs) || isUndef(rhs) {
			return false
		}
		items, ok := arr(rhs)
		if !ok {
			items = []any{rhs}
		}
		for _, it := range items {
			if strictEqual(it, lhs) {
				return true
			}
		}
		return false
	}
	fail("S0201", expr.pos, op)
	return nil
}

func isStrOrNum(v any) bool {
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

func isInteger(v any) bool {
	f, ok := v.(float64)
	return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
}

// compareStrings orders strings by UTF-16 code units, as JavaScript does.
func compareStrings(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16Units(a), utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

// strictEqual is JavaScript's ===: scalars by value, objects and arrays by identity.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, float64, string:
		return a == b
	case *value.Object:
		y, ok := b.(*value.Object)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		// identity of a slice: same backing array and length (empty ones
		// cannot be told apart, and JavaScript's [] === [] is false)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	case *seq:
		y, ok := b.(*seq)
		return ok && x == y
	}
	return false
}

func deepEqual(a, b any) bool {
	if isUndef(a) || isUndef(b) {
		return isUndef(a) && isUndef(b)
	}
	if x, ok := arr(a); ok {
		y, ok := arr(b)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	switch x := a.(type) {
	case *value.Object:
		y, ok := b.(*value.Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, m := range x.Members() {
			w, ok := y.Get(m.Key)
			if !ok || !deepEqual(m.Value, w) {
				return false
			}
		}
		return true
	case nil, bool, float64, string:
		return a == b
	}
	return a == b
}

func (f *frame) evalUnary(expr *node, input any) any {
	switch expr.op {
	case "-":
		v := f.eval(expr.expr, input)
		if isUndef(v) {
			return undef
		}
		if isNumeric(v) {
			return -v.(float64)
		}
		panic(&Error{Code: "D1002", Position: expr.pos, Token: "-", Value: v})
	case "[":
		out := make([]any, 0, len(expr.exprs))
		for _, item := range expr.exprs {
			v := f.eval(item, input)
			if isUndef(v) {
				continue
			}
			if item.typ == "unary" && item.op == "[" {
				out = append(out, v)
			} else if a, ok := arr(v); ok {
				out = append(out, a...)
			} else {
				out = append(out, v)
			}
		}
		if expr.consarray {
			return &seq{v: out, cons: true}
		}
		return out
	case "{":
		return f.evalGroup(&group{pairs: expr.pairs, pos: expr.pos}, input)
	}
	return undef
}

// evalWildcard is *: the values of an object's fields, arrays flattened.
func evalWildcard(input any) any {
	results := newSeq()
	if s, ok := input.(*seq); ok && s.outerWrapper && len(s.v) > 0 {
		input = s.v[0]
	}
	plain := false // jsonata-js's append turns the sequence into a plain array
	add := func(v any) {
		if a, ok := arr(v); ok {
			results.v = append(results.v, flatten(a, nil)...)
			plain = true
		} else {
			results.v = append(results.v, v)
		}
	}
	switch t := input.(type) {
	case *value.Object:
		for _, m := range members(t) {
			add(m.Value)
		}
	case []any, *seq:
		a, _ := arr(t)
		for _, v := range a {
			add(v)
		}
	}
	if plain {
		return results.v
	}
	return results
}

func flatten(a []any, out []any) []any {
	for _, v := range a {
		if x, ok := arr(v); ok {
			out = flatten(x, out)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func evalDescendants(input any) any {
	if isUndef(input) {
		return undef
	}
	res := newSeq()
	recurseDescendants(input, res)
	if len(res.v) == 1 {
		return res.v[0]
	}
	return res
}

func recurseDescendants(input any, res *seq) {
	if a, ok := arr(input); ok {
		for _, m := range a {
			recurseDescendants(m, res)
		}
		return
	}
	res.v = append(res.v, input)
	if o, ok := input.(*value.Object); ok {
		for _, m := range members(o) {
			recurseDescendants(m.Value, res)
		}
	}
}

type groupEntry struct {
	data      any
	exprIndex int
}

// evalGroup builds an object (the object constructor, and group-by on a
// path): items are grouped by their key, then each group's value
// expression is evaluated once over the group.
func (f *frame) evalGroup(g *group, input any) any {
	result := newJSObject()
	groups := newJSObject()
	entries := map[string]*groupEntry{}
	var items []any
	reduce := false
	if s, ok := input.(*seq); ok {
		items = s.v
		reduce = s.tupleStream
	} else if a, ok := input.([]any); ok {
		items = a
	} else {
		items = []any{input}
	}
	if len(items) == 0 {
		items = []any{undef}
	}
	for _, item := range items {
		env := f
		ctx := item
		if reduce {
			// an empty tuple stream leaves one undefined item (jsonata-js
			// fails there on a property of undefined)
			if t, ok := item.(tuple); ok {
				env = f.frameFromTuple(t)
				ctx = t["@"]
			} else {
				ctx = undef
			}
		}
		for pi, pair := range g.pairs {
			key := env.eval(pair[0], ctx)
			if isUndef(key) {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				panic(&Error{Code: "T1003", Position: g.pos, Value: key})
			}
			if e, ok := entries[ks]; ok {
				if e.exprIndex != pi {
					panic(&Error{Code: "D1009", Position: g.pos, Value: ks})
				}
				e.data = appendValues(e.data, item)
			} else {
				entries[ks] = &groupEntry{data: item, exprIndex: pi}
				groups.set(ks, nil)
			}
		}
	}
	for _, key := range groups.keys() {
		e := entries[key]
		ctx := e.data
		env := f
		if reduce {
			t := reduceTupleStream(e.data)
			ctx = t["@"]
			delete(t, "@")
			env = f.frameFromTuple(t)
		}
		v := env.eval(g.pairs[e.exprIndex][1], ctx)
		if !isUndef(v) {
			result.set(key, v)
		}
	}
	return result.object()
}

func reduceTupleStream(data any) tuple {
	if t, ok := data.(tuple); ok {
		c := make(tuple, len(t))
		for k, v := range t {
			c[k] = v
		}
		return c
	}
	a, _ := arr(data)
	result := tuple{}
	if len(a) == 0 {
		return result
	}
	first, _ := a[0].(tuple)
	for k, v := range first {
		result[k] = v
	}
	for _, t := range a[1:] {
		tt, _ := t.(tuple)
		for k, v := range tt {
			prev, ok := result[k]
			if !ok {
				prev = undef
			}
			result[k] = appendValues(prev, v)
		}
	}
	return result
}

// evalSort is the order-by step ^(...): a stable merge sort on the terms;
// undefined keys sort last, and keys must all be numbers or all strings.
func (f *frame) evalSort(expr *node, input []any, tuples bool) *seq {
	var cmpErr *Error
	less := func(a, b any) int {
		for _, term := range expr.terms {
			ctxA, envA := a, f
			ctxB, envB := b, f
			if tuples {
				ta, tb := asTuple(a), asTuple(b)
				ctxA, envA = ta["@"], f.frameFromTuple(ta)
				ctxB, envB = tb["@"], f.frameFromTuple(tb)
			}
			aa := envA.eval(term.expr, ctxA)
			bb := envB.eval(term.expr, ctxB)
			if isUndef(aa) {
				if isUndef(bb) {
					continue
				}
				return 1
			}
			if isUndef(bb) {
				return -1
			}
			if !isStrOrNum(aa) || !isStrOrNum(bb) {
				v := aa
				if isStrOrNum(aa) {
					v = bb
				}
				panic(&Error{Code: "T2008", Position: expr.pos, Value: v})
			}
			comp := 0
			switch x := aa.(type) {
			case float64:
				y, ok := bb.(float64)
				if !ok {
					cmpErr = &Error{Code: "T2007", Position: expr.pos, Value: aa}
					cmpErr.populate(map[string]any{"value2": bb})
					panic(cmpErr)
				}
				if x < y {
					comp = -1
				} else if x > y {
					comp = 1
				}
			case string:
				y, ok := bb.(string)
				if !ok {
					cmpErr = &Error{Code: "T2007", Position: expr.pos, Value: aa}
					cmpErr.populate(map[string]any{"value2": bb})
					panic(cmpErr)
				}
				comp = compareStrings(x, y)
			}
			if comp == 0 {
				continue
			}
			if term.descending {
				comp = -comp
			}
			return comp
		}
		return 0
	}
	out := make([]any, len(input))
	copy(out, input)
	if len(out) > 1 {
		mergeSort(out, func(a, b any) bool { return less(a, b) > 0 })
	}
	return &seq{v: out, sequence: len(input) <= 1}
}

// mergeSort sorts stably, swapping only when swap(a, b) is true, the way
// jsonata-js's $sort merges.
func mergeSort(a []any, swap func(a, b any) bool) {
	if len(a) <= 1 {
		return
	}
	mid := len(a) / 2
	l := append([]any(nil), a[:mid]...)
	r := append([]any(nil), a[mid:]...)
	mergeSort(l, swap)
	mergeSort(r, swap)
	i, j, k := 0, 0, 0
	for i < len(l) && j < len(r) {
		if swap(l[i], r[j]) {
			a[k] = r[j]
			j++
		} else {
			a[k] = l[i]
			i++
		}
		k++
	}
	k += copy(a[k:], l[i:])
	copy(a[k:], r[j:])
}

// asTuple reads an item of a tuple stream; anything else is an empty tuple.
func asTuple(v any) tuple {
	t, _ := v.(tuple)
	if t == nil {
		return tuple{"@": undef}
	}
	return t
}
