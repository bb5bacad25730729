package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/posluha/posluha/query/intrinsic"
	"github.com/posluha/posluha/query/jsonata"
	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

// tmpl is a compiled payload template: Parameters, ResultSelector,
// ItemSelector and Assign in JSONPath mode (keys ending in ".$" hold a path
// or an intrinsic call), Arguments, Output, Assign and Items in JSONata mode
// (strings "{% … %}" hold an expression). Parts without any expression are
// folded into one shared literal.
type tmpl struct {
	kind  tmplKind
	lit   any
	keys  []string
	vals  []*tmpl
	path  *jsonpath.Path
	call  *intrinsic.Call
	expr  *jsonata.Expr
	src   string // the expression as written (without {% %})
	field string // "Assign/result", for error texts
	key   string // "value.$", the key as written, for error texts
}

type tmplKind uint8

const (
	tLit tmplKind = iota
	tObj
	tArr
	tPath
	tCall
	tJSONata
)

func intrinsicLike(s string) bool { return intrinsic.IsIntrinsic(s) }

func compileIntrinsic(s string) (*intrinsic.Call, error) { return intrinsic.Compile(s) }

// jpTemplate compiles a JSONPath-mode payload template.
func (p *parser) jpTemplate(v any, loc, field string) *tmpl {
	switch t := v.(type) {
	case *value.Object:
		out := &tmpl{kind: tObj, field: field}
		dynamic := false
		for _, m := range t.Members() {
			if name, ok := strings.CutSuffix(m.Key, ".$"); ok {
				s, isStr := m.Value.(string)
				if !isStr {
					p.fail(loc+"/"+m.Key, "The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", m.Key)
					continue
				}
				var e *tmpl
				if intrinsic.IsIntrinsic(s) {
					c, err := intrinsic.Compile(s)
					if err != nil {
						p.fail(loc+"/"+m.Key, "The value for the field '%s' must be a valid intrinsic function: %v", m.Key, err)
						continue
					}
					e = &tmpl{kind: tCall, call: c, src: s, field: field + "/" + name, key: m.Key}
				} else {
					path, err := jsonpath.Compile(s)
					if err != nil {
						p.fail(loc+"/"+m.Key, "The value for the field '%s' must be a valid JSONPath", m.Key)
						continue
					}
					e = &tmpl{kind: tPath, path: path, src: s, field: field + "/" + name, key: m.Key}
				}
				out.keys = append(out.keys, name)
				out.vals = append(out.vals, e)
				dynamic = true
				continue
			}
			e := p.jpTemplate(m.Value, loc+"/"+m.Key, field+"/"+m.Key)
			if e.kind != tLit {
				dynamic = true
			}
			out.keys = append(out.keys, m.Key)
			out.vals = append(out.vals, e)
		}
		if !dynamic {
			return &tmpl{kind: tLit, lit: t}
		}
		return out
	case []any:
		return arrayTemplate(t, loc, field, p.jpTemplate)
	}
	return &tmpl{kind: tLit, lit: v}
}

// arrayTemplate compiles an array of either query language's templates
// with each; an array without expressions stays a literal.
func arrayTemplate(t []any, loc, field string, each func(v any, loc, field string) *tmpl) *tmpl {
	out := &tmpl{kind: tArr, field: field}
	dynamic := false
	for i, e := range t {
		c := each(e, fmt.Sprintf("%s/%d", loc, i), field)
		if c.kind != tLit {
			dynamic = true
		}
		out.vals = append(out.vals, c)
	}
	if !dynamic {
		return &tmpl{kind: tLit, lit: t}
	}
	return out
}

// jaTemplate compiles a JSONata-mode template.
func (p *parser) jaTemplate(v any, loc, field string) *tmpl {
	switch t := v.(type) {
	case string:
		src, ok := jsonataSource(t)
		if !ok {
			return &tmpl{kind: tLit, lit: t}
		}
		e, err := jsonata.Compile(src)
		if err != nil {
			p.fail(loc, "The JSONata expression '%s' specified for the field '%s' is invalid: %v", src, field, err)
			return &tmpl{kind: tLit}
		}
		return &tmpl{kind: tJSONata, expr: e, src: src, field: field}
	case *value.Object:
		out := &tmpl{kind: tObj, field: field}
		dynamic := false
		for _, m := range t.Members() {
			e := p.jaTemplate(m.Value, loc+"/"+m.Key, field+"/"+m.Key)
			if e.kind != tLit {
				dynamic = true
			}
			out.keys = append(out.keys, m.Key)
			out.vals = append(out.vals, e)
		}
		if !dynamic {
			return &tmpl{kind: tLit, lit: t}
		}
		return out
	case []any:
		return arrayTemplate(t, loc, field, p.jaTemplate)
	}
	return &tmpl{kind: tLit, lit: v}
}

// env is what expressions of one state evaluation see.
type env struct {
	input  any // $ in JSONPath mode; $states.input in JSONata mode
	r      *run
	t      *Thread
	st     *State
	cobj   any // the context object, built on first use
	scope  *scope
	now    time.Time
	result any // $states.result
	hasRes bool
	errOut any // $states.errorOutput
	hasErr bool
	// stateInput overrides input as $states.input (JSONata) when $ differs.
	vars map[string]any // built lazily for JSONata
}

// Failure is a Step Functions error: an error name matched by ErrorEquals and
// a cause text. It is what Fail states, tasks and runtime errors produce.
type Failure struct {
	Name  string
	Cause string
	// inState marks runtime errors whose cause AWS prefixes with "An error
	// occurred while executing the state '…' (entered at the event id #N).".
	inState bool
	// noError/noCause: a Fail state without Error/Cause reports none.
	noError, noCause bool
}

// Error implements error.
func (f *Failure) Error() string { return f.Name + ": " + f.Cause }

func runtimeErr(format string, args ...any) *Failure {
	return &Failure{Name: "States.Runtime", Cause: fmt.Sprintf(format, args...), inState: true}
}

func queryErr(format string, args ...any) *Failure {
	return &Failure{Name: "States.QueryEvaluationError", Cause: fmt.Sprintf(format, args...), inState: true}
}

// ctxObj returns the context object ($$, $states.context).
func (e *env) ctxObj() any {
	if e.cobj == nil {
		e.cobj = e.r.contextObject(e.t, e.st, nil)
	}
	return e.cobj
}

// get resolves a JSONPath against the root it names.
func (e *env) get(p *jsonpath.Path) (any, error) {
	switch p.Root() {
	case jsonpath.RootContext:
		return p.Get(e.ctxObj())
	case jsonpath.RootVariable:
		v, ok := e.scope.lookup(p.Variable())
		if !ok {
			return nil, runtimeErr("Invalid path '%s': The variable '$%s' is not defined", p.String(), p.Variable())
		}
		return p.Get(v)
	}
	return p.Get(e.input)
}

// pathErr words a failed path lookup as AWS does for InputPath, OutputPath,
// …Path fields.
func pathErr(p *jsonpath.Path, err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return runtimeErr("Invalid path '%s' : %s", p.String(), err.Error())
}

// evalJP evaluates a JSONPath-mode template.
func (e *env) evalJP(t *tmpl) (any, error) {
	switch t.kind {
	case tLit:
		return t.lit, nil
	case tObj:
		o := value.NewObject(len(t.keys))
		for i, k := range t.keys {
			v, err := e.evalJP(t.vals[i])
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case tArr:
		a := make([]any, len(t.vals))
		for i, c := range t.vals {
			v, err := e.evalJP(c)
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	case tPath:
		v, err := e.get(t.path)
		if err != nil {
			var f *Failure
			if errors.As(err, &f) {
				return nil, f
			}
			doc := e.input
			switch t.path.Root() {
			case jsonpath.RootContext:
				doc = e.ctxObj()
			case jsonpath.RootVariable:
				doc, _ = e.scope.lookup(t.path.Variable())
			}
			return nil, runtimeErr("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", t.src, t.key, value.String(doc))
		}
		return v, nil
	case tCall:
		v, err := t.call.Eval(e.get)
		if err != nil {
			var f *Failure
			if errors.As(err, &f) {
				return nil, f
			}
			var ie *intrinsic.Error
			if errors.As(err, &ie) {
				return nil, &Failure{Name: ie.Name, Cause: ie.Cause, inState: true}
			}
			return nil, runtimeErr("%v", err)
		}
		return v, nil
	}
	return nil, runtimeErr("unexpected template kind in JSONPath mode")
}

// jsonataVars builds the variable bindings of a JSONata evaluation: every
// workflow variable in scope plus $states.
func (e *env) jsonataVars() map[string]any {
	if e.vars != nil {
		return e.vars
	}
	m := e.scope.all()
	st := value.NewObject(4)
	st.Set("input", e.input)
	st.Set("context", e.ctxObj())
	if e.hasRes {
		st.Set("result", e.result)
	}
	if e.hasErr {
		st.Set("errorOutput", e.errOut)
	}
	m["states"] = st
	e.vars = m
	return m
}

// evalExpr evaluates one JSONata expression; undefined is an error, as in
// every Step Functions field.
func (e *env) evalExpr(x *jsonata.Expr, src, field string) (any, error) {
	v, defined, err := x.Eval(jsonata.Env{Vars: e.jsonataVars(), Now: e.now})
	if err != nil {
		var je *jsonata.Error
		msg := err.Error()
		if errors.As(err, &je) {
			msg = je.Code + ": " + je.Message
		}
		return nil, queryErr("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %s", src, field, msg)
	}
	if !defined {
		return nil, queryErr("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", src, field)
	}
	return v, nil
}

// evalJA evaluates a JSONata-mode template.
func (e *env) evalJA(t *tmpl) (any, error) {
	switch t.kind {
	case tLit:
		return t.lit, nil
	case tObj:
		o := value.NewObject(len(t.keys))
		for i, k := range t.keys {
			v, err := e.evalJA(t.vals[i])
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case tArr:
		a := make([]any, len(t.vals))
		for i, c := range t.vals {
			v, err := e.evalJA(c)
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	case tJSONata:
		return e.evalExpr(t.expr, t.src, t.field)
	}
	return nil, runtimeErr("unexpected template kind in JSONata mode")
}

// eval evaluates a template in the state's language.
func (e *env) eval(t *tmpl, lang string) (any, error) {
	if lang == JSONata {
		return e.evalJA(t)
	}
	return e.evalJP(t)
}

// num evaluates a numeric field.
func (e *env) num(f *numField) (float64, error) {
	switch {
	case f.path != nil:
		v, err := e.get(f.path)
		if err != nil {
			return 0, pathErr(f.path, err)
		}
		n, ok := v.(float64)
		if !ok {
			return 0, &numTypeError{v: v}
		}
		return n, nil
	case f.expr != nil:
		v, err := e.evalExpr(f.expr, f.src, f.name)
		if err != nil {
			return 0, err
		}
		n, ok := v.(float64)
		if !ok {
			return 0, &numTypeError{v: v}
		}
		return n, nil
	}
	return f.lit, nil
}

// numTypeError: a …Path or JSONata numeric field gave a non-number; the
// caller words the cause per field as AWS does.
type numTypeError struct{ v any }

func (e *numTypeError) Error() string { return "not a number: " + value.String(e.v) }

// str evaluates a string field.
func (e *env) str(f *strField) (any, error) {
	switch {
	case f.path != nil:
		v, err := e.get(f.path)
		if err != nil {
			return nil, pathErr(f.path, err)
		}
		return v, nil
	case f.call != nil:
		v, err := f.call.Eval(e.get)
		if err != nil {
			var ie *intrinsic.Error
			if errors.As(err, &ie) {
				return nil, &Failure{Name: ie.Name, Cause: ie.Cause, inState: true}
			}
			return nil, runtimeErr("%v", err)
		}
		return v, nil
	case f.expr != nil:
		return e.evalExpr(f.expr, f.src, f.name)
	}
	return f.lit, nil
}
