package jsonata

// lambda is a user function (function($x){...}), possibly partially applied,
// or a tail-call thunk.
type lambda struct {
	params []string
	sig    *signature
	body   *node
	thunk  bool
	input  any
	env    *frame
}

// builtin is a native function. arity is the number of parameters the
// jsonata-js implementation declares: higher-order functions pass that many
// arguments (value, index, array) to it.
type builtin struct {
	name   string
	sig    *signature
	arity  int
	params int // how many arguments fn reads (arity can be fewer: JavaScript's length stops at a default)
	fn     func(c *call, args []any) any
}

// partialNative is a native function with some arguments fixed by partial
// application; the holes are filled in order when it is called.
type partialNative struct {
	fn    *builtin
	args  []any // placeholder marks a hole
	holes int
}

type placeholderT struct{}

var placeholder any = placeholderT{}

// call is what a native function sees of its invocation.
type call struct {
	env   *frame
	input any
	name  string
	pos   int // of the call in the source, for error positions
}

func arity(fn any) int {
	switch t := fn.(type) {
	case *lambda:
		return len(t.params)
	case *builtin:
		return t.arity
	case *partialNative:
		return t.holes
	case *regex:
		return 2
	}
	return 0
}

func procName(expr *node) string {
	if expr.procedure.typ == "path" {
		return expr.procedure.steps[0].op
	}
	return expr.procedure.op
}

func (f *frame) evalFunction(expr *node, input any, applyTo any, hasApply bool) any {
	proc := f.eval(expr.procedure, input)
	if isUndef(proc) && expr.procedure.typ == "path" && !isUndef(f.lookup(expr.procedure.steps[0].op)) {
		panic(&Error{Code: "T1005", Position: expr.pos, Token: expr.procedure.steps[0].op})
	}
	args := make([]any, 0, len(expr.args)+1)
	if hasApply {
		args = append(args, applyTo)
	}
	for _, a := range expr.args {
		args = append(args, f.eval(a, input))
	}
	return f.apply(proc, args, input, procName(expr), expr.pos)
}

// apply invokes proc and runs the trampoline for tail calls.
func (f *frame) apply(proc any, args []any, input any, name string, pos int) any {
	result := f.applyInner(proc, args, input, name, pos)
	for {
		l, ok := result.(*lambda)
		if !ok || !l.thunk {
			return result
		}
		body := l.body
		next := l.env.eval(body.procedure, l.input)
		nargs := make([]any, len(body.args))
		for i, a := range body.args {
			nargs[i] = l.env.eval(a, l.input)
		}
		nname := ""
		if body.procedure.typ == "variable" {
			nname = body.procedure.op
		} else {
			nname = procName(body)
		}
		result = f.applyInner(next, nargs, input, nname, body.procedure.pos)
	}
}

func (f *frame) applyInner(proc any, args []any, input any, name string, pos int) any {
	switch p := proc.(type) {
	case *lambda:
		if f.st.calls++; f.st.calls > maxCalls {
			panic(&Error{Code: "U1002", Position: pos, Token: name})
		}
		if p.sig != nil {
			args = p.sig.validate(args, input, name, pos)
		}
		env := newFrame(p.env)
		for i, param := range p.params {
			if i < len(args) {
				env.bind(param, args[i])
			} else {
				env.bind(param, undef)
			}
		}
		return env.eval(p.body, p.input)
	case *builtin:
		if p.sig != nil {
			args = p.sig.validate(args, input, p.name, pos)
		}
		return p.invoke(f, input, args, pos)
	case *partialNative:
		full := make([]any, len(p.args))
		k := 0
		for i, a := range p.args {
			if _, hole := a.(placeholderT); hole {
				if k < len(args) {
					full[i] = args[k]
				} else {
					full[i] = undef
				}
				k++
			} else {
				full[i] = a
			}
		}
		return p.fn.invoke(f, undef, full, pos)
	case *regex:
		s, _ := argAt(args, 0).(string)
		from := 0
		if n, ok := argAt(args, 1).(float64); ok {
			from = int(n)
		}
		return p.exec(s, from)
	}
	panic(&Error{Code: "T1006", Position: pos, Token: name})
}

func (b *builtin) invoke(f *frame, input any, args []any, pos int) any {
	for len(args) < max(b.arity, b.params) {
		args = append(args, undef)
	}
	return b.fn(&call{env: f, input: input, name: b.name, pos: pos}, args)
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return undef
}

func (f *frame) evalPartial(expr *node, input any) any {
	args := make([]any, len(expr.args))
	for i, a := range expr.args {
		if a.typ == "operator" && a.op == "?" {
			args[i] = placeholder
		} else {
			args[i] = f.eval(a, input)
		}
	}
	proc := f.eval(expr.procedure, input)
	if isUndef(proc) && expr.procedure.typ == "path" && !isUndef(f.lookup(expr.procedure.steps[0].op)) {
		panic(&Error{Code: "T1007", Position: expr.pos, Token: expr.procedure.steps[0].op})
	}
	switch p := proc.(type) {
	case *lambda:
		env := newFrame(p.env)
		var unbound []string
		for i, param := range p.params {
			a := argAt(args, i)
			if _, hole := a.(placeholderT); hole {
				unbound = append(unbound, param)
			} else {
				env.bind(param, a)
			}
		}
		return &lambda{params: unbound, body: p.body, input: p.input, env: env}
	case *builtin:
		full := make([]any, max(p.arity, p.params))
		holes := 0
		for i := range full {
			a := argAt(args, i)
			if _, hole := a.(placeholderT); hole {
				holes++
			}
			full[i] = a
		}
		return &partialNative{fn: p, args: full, holes: holes}
	case *partialNative:
		// partially applying a partial application: fill its holes in turn
		full := make([]any, len(p.args))
		holes := 0
		k := 0
		for i, a := range p.args {
			if _, hole := a.(placeholderT); hole {
				na := argAt(args, k)
				k++
				if _, h := na.(placeholderT); h {
					holes++
				}
				full[i] = na
			} else {
				full[i] = a
			}
		}
		return &partialNative{fn: p.fn, args: full, holes: holes}
	}
	panic(&Error{Code: "T1008", Position: expr.pos, Token: procName(expr)})
}

func (f *frame) evalApply(expr *node, input any) any {
	lhs := f.eval(expr.lhs, input)
	if expr.rhs.typ == "function" {
		return f.evalFunction(expr.rhs, input, lhs, true)
	}
	fn := f.eval(expr.rhs, input)
	if !isFunction(fn) {
		panic(&Error{Code: "T2006", Position: expr.pos, Value: fn})
	}
	if isFunction(lhs) {
		first, second := lhs, fn
		return &builtin{name: "", arity: 1, fn: func(c *call, args []any) any {
			r := c.env.apply(first, []any{argAt(args, 0)}, undef, "", expr.pos)
			return c.env.apply(second, []any{r}, undef, "", expr.pos)
		}}
	}
	return f.apply(fn, []any{lhs}, undef, "", expr.pos)
}

// callFn is how higher-order built-ins invoke a function argument.
func (c *call) callFn(fn any, args ...any) any {
	return c.env.apply(fn, args, undef, "", 0)
}

// hofArgs passes a callback as many of (value, index, array) as it declares.
func hofArgs(fn any, v any, i int, a any) []any {
	n := arity(fn)
	args := []any{v}
	if n >= 2 {
		args = append(args, float64(i))
	}
	if n >= 3 {
		args = append(args, a)
	}
	return args
}

func (f *frame) transformer(expr *node) any {
	return &builtin{name: "", arity: 1, sig: transformSig, fn: func(c *call, args []any) any {
		obj := argAt(args, 0)
		if isUndef(obj) {
			return undef
		}
		cloneFn := f.lookup("clone")
		if !isFunction(cloneFn) {
			panic(&Error{Code: "T2013", Position: expr.pos})
		}
		result := f.apply(cloneFn, []any{obj}, undef, "clone", expr.pos)
		matches := f.eval(expr.pattern, result)
		if isUndef(matches) {
			return result
		}
		items, ok := arr(matches)
		if !ok {
			items = []any{matches}
		}
		for _, match := range items {
			update := f.eval(expr.update, match)
			if !isUndef(update) {
				u, ok := update.(*valueObject)
				if !ok {
					panic(&Error{Code: "T2011", Position: expr.update.pos, Value: update})
				}
				if m, ok := match.(*valueObject); ok {
					for _, mem := range u.Members() {
						m.Set(mem.Key, mem.Value)
					}
				}
			}
			if expr.delete != nil {
				dels := f.eval(expr.delete, match)
				if !isUndef(dels) {
					val := dels
					d, ok := arr(dels)
					if !ok {
						d = []any{dels}
					}
					if !isArrayOfStrings(d) {
						panic(&Error{Code: "T2012", Position: expr.delete.pos, Value: val})
					}
					if m, ok := match.(*valueObject); ok {
						for _, k := range d {
							m.Delete(k.(string))
						}
					}
				}
			}
		}
		return result
	}}
}
