package jsonata

import "strconv"

// astProcessor turns the raw parse tree into the evaluated form: chains of
// '.' become path steps, predicates attach to steps as stages, '@' and '#'
// mark tuple steps, and parent (%) slots find the step they refer to.
type astProcessor struct {
	ancestorLabel int
	ancestorIndex int
	ancestry      []*node
}

func (a *astProcessor) fail(code string, pos int, tok any, val any) {
	e := &Error{Code: code, Position: pos, Value: val}
	if s, ok := tok.(string); ok {
		e.Token = s
	}
	panic(e)
}

func (a *astProcessor) process(expr *node) *node {
	var result *node
	switch expr.typ {
	case "binary":
		switch expr.op {
		case ".":
			lstep := a.process(expr.lhs)
			if lstep.typ == "path" {
				result = lstep
			} else {
				result = &node{typ: "path", steps: []*node{lstep}}
			}
			if lstep.typ == "parent" {
				result.seekingParent = []*slot{lstep.slot}
			}
			rest := a.process(expr.rhs)
			if rest.typ == "path" {
				result.steps = append(result.steps, rest.steps...)
			} else {
				if rest.predicate != nil {
					rest.stages = rest.predicate
					rest.predicate = nil
				}
				result.steps = append(result.steps, rest)
			}
			for _, step := range result.steps {
				if step.typ == "number" || step.typ == "value" {
					a.fail("S0213", step.pos, nil, step.value)
				}
				if step.typ == "string" {
					step.typ = "name"
					step.op = step.value.(string)
				}
			}
			for _, step := range result.steps {
				if step.keepArray {
					result.keepSingletonArray = true
				}
			}
			first := result.steps[0]
			if first.typ == "unary" && first.op == "[" {
				first.consarray = true
			}
			last := result.steps[len(result.steps)-1]
			if last.typ == "unary" && last.op == "[" {
				last.consarray = true
			}
			a.resolveAncestry(result)
		case "[":
			result = a.process(expr.lhs)
			step := result
			isPath := false
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
				isPath = true
			}
			if step.group != nil {
				a.fail("S0209", expr.pos, nil, nil)
			}
			pred := a.process(expr.rhs)
			if pred.seekingParent != nil {
				for _, s := range pred.seekingParent {
					if s.level == 1 {
						a.seekParent(step, s)
					} else {
						s.level--
					}
				}
				a.pushAncestry(step, pred)
			}
			st := &stage{typ: "filter", expr: pred, pos: expr.pos}
			if isPath {
				step.stages = append(step.stages, st)
			} else {
				step.predicate = append(step.predicate, st)
			}
		case "{":
			result = a.process(expr.lhs)
			if result.group != nil {
				a.fail("S0210", expr.pos, nil, nil)
			}
			g := &group{pos: expr.pos}
			for _, pr := range expr.pairs {
				g.pairs = append(g.pairs, [2]*node{a.process(pr[0]), a.process(pr[1])})
			}
			result.group = g
		case "^":
			result = a.process(expr.lhs)
			if result.typ != "path" {
				result = &node{typ: "path", steps: []*node{result}}
			}
			sortStep := &node{typ: "sort", pos: expr.pos}
			for _, t := range expr.terms {
				e := a.process(t.expr)
				a.pushAncestry(sortStep, e)
				sortStep.terms = append(sortStep.terms, sortTerm{descending: t.descending, expr: e})
			}
			result.steps = append(result.steps, sortStep)
			a.resolveAncestry(result)
		case ":=":
			result = &node{typ: "bind", op: expr.op, pos: expr.pos}
			result.lhs = a.process(expr.lhs)
			result.rhs = a.process(expr.rhs)
			a.pushAncestry(result, result.rhs)
		case "@":
			result = a.process(expr.lhs)
			step := result
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
			}
			if step.stages != nil || step.predicate != nil {
				a.fail("S0215", expr.pos, nil, nil)
			}
			if step.typ == "sort" {
				a.fail("S0216", expr.pos, nil, nil)
			}
			if expr.keepArray {
				step.keepArray = true
			}
			step.focus = expr.rhs.op
			step.tuple = true
		case "#":
			result = a.process(expr.lhs)
			step := result
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
			} else {
				result = &node{typ: "path", steps: []*node{result}}
				if step.predicate != nil {
					step.stages = step.predicate
					step.predicate = nil
				}
			}
			if step.stages == nil {
				step.index = expr.rhs.op
			} else {
				step.stages = append(step.stages, &stage{typ: "index", index: expr.rhs.op, pos: expr.pos})
			}
			step.tuple = true
		case "~>":
			result = &node{typ: "apply", op: expr.op, pos: expr.pos}
			result.lhs = a.process(expr.lhs)
			result.rhs = a.process(expr.rhs)
			result.keepArray = result.lhs.keepArray || result.rhs.keepArray
		default:
			result = &node{typ: "binary", op: expr.op, pos: expr.pos}
			result.lhs = a.process(expr.lhs)
			result.rhs = a.process(expr.rhs)
			a.pushAncestry(result, result.lhs)
			a.pushAncestry(result, result.rhs)
		}
	case "unary":
		result = &node{typ: "unary", op: expr.op, pos: expr.pos}
		switch expr.op {
		case "[":
			result.exprs = []*node{}
			for _, item := range expr.exprs {
				v := a.process(item)
				a.pushAncestry(result, v)
				result.exprs = append(result.exprs, v)
			}
		case "{":
			result.pairs = [][2]*node{}
			for _, pr := range expr.pairs {
				k := a.process(pr[0])
				a.pushAncestry(result, k)
				v := a.process(pr[1])
				a.pushAncestry(result, v)
				result.pairs = append(result.pairs, [2]*node{k, v})
			}
		default:
			result.expr = a.process(expr.expr)
			if expr.op == "-" && result.expr.typ == "number" {
				result = result.expr
				result.value = -result.value.(float64)
			} else {
				a.pushAncestry(result, result.expr)
			}
		}
	case "function", "partial":
		result = &node{typ: expr.typ, op: expr.op, pos: expr.pos}
		for _, arg := range expr.args {
			v := a.process(arg)
			a.pushAncestry(result, v)
			result.args = append(result.args, v)
		}
		result.procedure = a.process(expr.procedure)
	case "lambda":
		result = &node{typ: "lambda", params: expr.params, sig: expr.sig, pos: expr.pos}
		result.body = tailCallOptimize(a.process(expr.body))
	case "condition":
		result = &node{typ: "condition", pos: expr.pos}
		result.cond = a.process(expr.cond)
		a.pushAncestry(result, result.cond)
		result.then = a.process(expr.then)
		a.pushAncestry(result, result.then)
		if expr.els != nil {
			result.els = a.process(expr.els)
			a.pushAncestry(result, result.els)
		}
	case "transform":
		result = &node{typ: "transform", pos: expr.pos}
		result.pattern = a.process(expr.pattern)
		result.update = a.process(expr.update)
		if expr.delete != nil {
			result.delete = a.process(expr.delete)
		}
	case "block":
		result = &node{typ: "block", pos: expr.pos}
		for _, item := range expr.exprs {
			part := a.process(item)
			a.pushAncestry(result, part)
			if part.consarray || (part.typ == "path" && part.steps[0].consarray) {
				result.consarray = true
			}
			result.exprs = append(result.exprs, part)
		}
	case "name":
		result = &node{typ: "path", steps: []*node{expr}}
		if expr.keepArray {
			result.keepSingletonArray = true
		}
	case "parent":
		result = &node{typ: "parent", pos: expr.pos, slot: &slot{label: "!" + strconv.Itoa(a.ancestorLabel), level: 1, index: a.ancestorIndex}}
		a.ancestorLabel++
		a.ancestorIndex++
		a.ancestry = append(a.ancestry, result)
	case "string", "number", "value", "wildcard", "descendant", "variable":
		result = expr
	case "regex":
		r, err := compileRegex(expr.value.(*regexLit), expr.pos)
		if err != nil {
			panic(err)
		}
		expr.re = r
		result = expr
	case "operator":
		if expr.op == "and" || expr.op == "or" || expr.op == "in" {
			expr.typ = "name"
			result = a.process(expr)
		} else if expr.op == "?" {
			result = expr
		} else {
			a.fail("S0201", expr.pos, expr.op, nil)
		}
	default:
		code := "S0206"
		if expr.typ == "(end)" {
			code = "S0207"
		}
		a.fail(code, expr.pos, expr.op, nil)
	}
	if expr.keepArray {
		result.keepArray = true
	}
	return result
}

func (a *astProcessor) seekParent(n *node, s *slot) *slot {
	switch n.typ {
	case "name", "wildcard":
		s.level--
		if s.level == 0 {
			if n.ancestor == nil {
				n.ancestor = s
			} else {
				// reuse the existing label
				a.ancestry[s.index].slot.label = n.ancestor.label
				n.ancestor = s
			}
			n.tuple = true
		}
	case "parent":
		s.level++
	case "block":
		if len(n.exprs) > 0 {
			n.tuple = true
			s = a.seekParent(n.exprs[len(n.exprs)-1], s)
		}
	case "path":
		n.tuple = true
		i := len(n.steps) - 1
		s = a.seekParent(n.steps[i], s)
		i--
		for s.level > 0 && i >= 0 {
			s = a.seekParent(n.steps[i], s)
			i--
		}
	default:
		a.fail("S0217", n.pos, n.typ, nil)
	}
	return s
}

func (a *astProcessor) pushAncestry(result, v *node) {
	if v.seekingParent != nil || v.typ == "parent" {
		slots := v.seekingParent
		if v.typ == "parent" {
			slots = append(slots, v.slot)
		}
		result.seekingParent = append(result.seekingParent, slots...)
	}
}

func (a *astProcessor) resolveAncestry(path *node) {
	last := path.steps[len(path.steps)-1]
	slots := last.seekingParent
	if last.typ == "parent" {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		i := len(path.steps) - 2
		for s.level > 0 {
			if i < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.steps[i]
			i--
			for i >= 0 && step.focus != "" && path.steps[i].focus != "" {
				step = path.steps[i]
				i--
			}
			s = a.seekParent(step, s)
		}
	}
}

// tailCallOptimize wraps a lambda body that is a function call in a thunk
// lambda, so that apply can run tail calls in a loop instead of recursing.
func tailCallOptimize(expr *node) *node {
	switch {
	case expr.typ == "function" && expr.predicate == nil:
		return &node{typ: "lambda", thunk: true, body: expr, pos: expr.pos}
	case expr.typ == "condition":
		expr.then = tailCallOptimize(expr.then)
		if expr.els != nil {
			expr.els = tailCallOptimize(expr.els)
		}
	case expr.typ == "block" && len(expr.exprs) > 0:
		expr.exprs[len(expr.exprs)-1] = tailCallOptimize(expr.exprs[len(expr.exprs)-1])
	}
	return expr
}
