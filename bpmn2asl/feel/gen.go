package feel

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// kind is the static type the generator knows for an emitted expression.
// Variables are kUnknown; literals, operators and built-ins refine it, and
// the generator uses it to pick JSONata operators (+ versus &) and to skip
// runtime type guards.
type kind int

const (
	kUnknown kind = iota
	kNum
	kStr
	kBool
	kNull
	kList
	kCtx
	kDate     // ISO date string yyyy-mm-dd
	kDateTime // ISO date-time string
	kTime     // ISO time string
	kDuration // literal duration, emitted as its ISO string
	kMillis   // a date difference in milliseconds (only as a comparison operand)
)

// JSONata binding powers of the emitted top-level operator; an operand
// is parenthesised when its power is below what the operator requires.
const (
	pCond  = 20
	pOr    = 25
	pAnd   = 30
	pCmp   = 40
	pAdd   = 50
	pMul   = 60
	pUnary = 70
	pPath  = 90
	pAtom  = 100
)

// js is an emitted JSONata expression with what the generator knows of it.
type js struct {
	text   string
	prec   int
	typ    kind
	total  bool   // never evaluates to undefined
	simple bool   // cheap and pure: may be repeated instead of bound to a variable
	inner  string // for list-wrapped filters "[inner]": the unwrapped path
	ctor   bool   // text is one JSONata array constructor [...]
	num    float64
	isNum  bool  // a numeric literal with value num
	ms     int64 // kDuration: milliseconds (days-time durations)
	ym     bool  // kDuration: a years-months duration of ms months
}

// wrap returns e's text, parenthesised unless its binding power is at
// least min.
func wrap(e js, min int) string {
	if e.prec < min {
		return "(" + e.text + ")"
	}
	return e.text
}

// scope maps FEEL local names (quantifier variables, function parameters,
// context entries) to JSONata variables. A filter scope marks a list
// filter predicate, where FEEL looks names up in the current item first.
type scope struct {
	parent *scope
	vars   map[string]js // reference and static type
	filter bool
}

type gen struct {
	src    string
	tmp    int
	free   map[string]bool // process variables read (for Names)
	quiet  int             // >0: do not record into free
	diffOK node            // the comparison operand that may be a date difference
}

func (g *gen) fail(off int, msg, hint string) {
	panic(bailout{newError(g.src, off, msg, hint)})
}

// temp returns a fresh block-local JSONata variable. Process variables may
// not start with "__", so these never shadow them.
func (g *gen) temp() string {
	g.tmp++
	return "$__" + strconv.Itoa(g.tmp)
}

// bind evaluates e once: if it is not simple it is assigned to a temporary
// in a JSONata block, and f builds the result from the reference.
func (g *gen) bind(e js, f func(v js) js) js {
	if e.simple {
		return f(e)
	}
	name := g.temp()
	v := e
	v.text, v.prec, v.simple, v.inner, v.ctor = name, pAtom, true, "", false
	body := f(v)
	body.text = "(" + name + " := " + e.text + "; " + body.text + ")"
	body.prec, body.simple, body.inner, body.ctor = pAtom, false, "", false
	return body
}

var asciiIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jsonataKeywords must be back-quoted as member names.
var jsonataKeywords = map[string]bool{"and": true, "or": true, "in": true, "true": true, "false": true, "null": true, "function": true}

// memberName renders a FEEL member name as a JSONata path step.
func memberName(n string) string {
	if asciiIdent.MatchString(n) && !jsonataKeywords[n] {
		return n
	}
	return "`" + n + "`"
}

// quote renders s as a JSONata string literal (JSON escaping is valid
// JSONata).
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings always encode; invalid UTF-8 becomes U+FFFD
	return strings.TrimSuffix(b.String(), "\n")
}

func strJS(s string, t kind) js {
	return js{text: quote(s), prec: pAtom, typ: t, total: true, simple: true}
}

func boolJS(b bool) js {
	return js{text: strconv.FormatBool(b), prec: pAtom, typ: kBool, total: true, simple: true}
}

func numJS(f float64) js {
	text := strconv.FormatFloat(f, 'f', -1, 64)
	if math.Abs(f) >= 1e21 || (f != 0 && math.Abs(f) < 1e-6) {
		text = strconv.FormatFloat(f, 'g', -1, 64)
	}
	prec := pAtom
	if f < 0 {
		prec = pUnary
	}
	return js{text: text, prec: prec, typ: kNum, total: true, simple: true, num: f, isNum: true}
}

// varProblem says why name cannot be a Step Functions variable read as
// $name, with a hint ("" if it can).
func varProblem(name string) (msg, hint string) {
	switch {
	case !asciiIdent.MatchString(name):
		return "variable name \"" + name + "\" is not an identifier",
			"Step Functions variables must match [A-Za-z_][A-Za-z0-9_]*; rename the process variable"
	case strings.HasPrefix(name, "__"):
		return "variable names starting with \"__\" are reserved", "rename the process variable"
	case name == "states":
		return "variable name \"states\" is reserved by Step Functions ($states)", "rename the process variable"
	case jsonataFunctions[name]:
		return "variable name \"" + name + "\" clashes with the JSONata function $" + name,
			"rename the process variable (JSONata variables and functions share one namespace)"
	}
	return "", ""
}

// checkVar validates a process variable name for use as a Step Functions
// variable and returns its JSONata reference.
func (g *gen) checkVar(n *ident) string {
	if n.quoted && asciiIdent.MatchString(n.name) {
		// `x` is just x.
		n = &ident{off: n.off, name: n.name}
	}
	if msg, hint := varProblem(n.name); msg != "" {
		g.fail(n.off, msg, hint)
	}
	return "$" + n.name
}

// validVar reports whether n resolves to a local or a legal process
// variable outside scope s.
func (g *gen) validVar(n *ident, s *scope) bool {
	for sc := s; sc != nil; sc = sc.parent {
		if _, ok := sc.vars[n.name]; ok && !n.quoted {
			return true
		}
	}
	msg, _ := varProblem(n.name)
	return msg == ""
}

// local picks the JSONata variable for a FEEL local name: the same name
// when that is safe, otherwise a temporary.
func (g *gen) local(name string) string {
	if msg, _ := varProblem(name); msg == "" {
		return "$" + name
	}
	return g.temp()
}

// ref resolves a bare name through the scopes.
func (g *gen) ref(n *ident, s *scope) js {
	for sc := s; sc != nil; sc = sc.parent {
		if v, ok := sc.vars[n.name]; ok && !n.quoted {
			return v
		}
		if sc.filter {
			if n.name == "item" && !n.quoted {
				return js{text: "$", prec: pAtom, simple: true}
			}
			// FEEL looks the name up in the item first, then outside.
			m := memberName(n.name)
			if !g.validVar(n, sc.parent) {
				// Cannot be a process variable: only a member.
				return js{text: m, prec: pPath}
			}
			// Not reported by Names: the item may well have the member.
			g.quiet++
			outer := g.ref(n, sc.parent)
			g.quiet--
			return js{text: "($exists(" + m + ") ? " + m + " : " + outer.text + ")", prec: pAtom}
		}
	}
	v := g.checkVar(n)
	if g.quiet == 0 {
		g.free[n.name] = true
	}
	return js{text: v, prec: pAtom, simple: true}
}

// boolish coerces e for a boolean context: FEEL only treats true as true,
// so a value of unknown type is compared with true.
func boolish(e js) js {
	if e.typ == kBool {
		return e
	}
	return js{text: wrap(e, pCmp+1) + " = true", prec: pCmp, typ: kBool, total: true}
}

// not translates FEEL not(x); non-boolean and null inputs give false.
func not(e js) js {
	if e.typ == kBool && e.total {
		return js{text: "$not(" + e.text + ")", prec: pAtom, typ: kBool, total: true}
	}
	return js{text: wrap(e, pCmp+1) + " = false", prec: pCmp, typ: kBool, total: true}
}

func (g *gen) expr(n node, s *scope) js {
	switch n := n.(type) {
	case *numLit:
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil || math.IsInf(f, 0) {
			g.fail(n.off, "number "+n.text+" is out of range", "")
		}
		return numJS(f)
	case *strLit:
		return strJS(n.val, kStr)
	case *boolLit:
		return boolJS(n.val)
	case *nullLit:
		return js{text: "null", prec: pAtom, typ: kNull, total: true, simple: true}
	case *ident:
		return g.ref(n, s)
	case *member:
		return g.member(n, s)
	case *filter:
		return g.filter(n, s)
	case *call:
		return g.call(n, s)
	case *unary:
		x := g.expr(n.x, s)
		switch {
		case x.isNum:
			return numJS(-x.num)
		case x.typ == kDuration:
			x.ms = -x.ms
			if strings.HasPrefix(x.text, `"-`) {
				x.text = `"` + x.text[2:]
			} else {
				x.text = `"-` + x.text[1:]
			}
			return x
		}
		return g.typed("unary minus", []int{n.x.pos()}, []js{x}, []string{"number"}, func(o []js) js {
			return js{text: "-" + wrap(o[0], pUnary), prec: pUnary, typ: kNum}
		})
	case *binary:
		return g.binary(n, s)
	case *ifExpr:
		c := boolish(g.expr(n.c, s))
		th, el := g.expr(n.th, s), g.expr(n.els, s)
		r := js{text: wrap(c, pCond+1) + " ? " + wrap(th, pCond+1) + " : " + wrap(el, pCond+1), prec: pCond, total: th.total && el.total}
		if th.typ == el.typ {
			r.typ = th.typ
		}
		return r
	case *quant:
		return g.quant(n, n.iters, s)
	case *forExpr:
		return g.forLoop(n, n.iters, s)
	case *inExpr:
		return g.in(n, s)
	case *between:
		return g.order(n.off, g.expr(n.x, s), []bound{{">=", g.expr(n.lo, s)}, {"<=", g.expr(n.hi, s)}})
	case *listLit:
		return g.list(n, s, false)
	case *ctxLit:
		return g.context(n, s)
	case *fnDef:
		g.fail(n.off, "function definitions are only supported as the second argument of sort()", "")
	case *rangeLit:
		g.fail(n.off, "ranges are only supported after 'in'", "write: x in [1..10]")
	case *cmpTest:
		g.fail(n.off, "unary tests are only supported after 'in'", "write: x in (> 5)")
	}
	g.fail(n.pos(), "unsupported expression", "")
	return js{}
}

// list emits a FEEL list literal. In a JSONata array constructor an
// element whose value is a list is spliced in and an undefined one is
// dropped, so elements that may be either go through a small wrapper
// function that keeps them as one element (null when missing). plain
// skips that where only membership matters (x in [a, b]).
func (g *gen) list(n *listLit, s *scope, plain bool) js {
	var segs, run []string
	wrapper := ""
	for _, e := range n.elems {
		x := g.expr(e, s)
		switch {
		case plain, x.total && x.typ != kUnknown && (x.typ != kList || x.ctor):
			run = append(run, x.text)
		case x.total && x.typ == kList:
			run = append(run, "["+x.text+"]")
		default:
			if len(run) > 0 {
				segs = append(segs, "["+strings.Join(run, ", ")+"]")
				run = nil
			}
			if wrapper == "" {
				wrapper = g.temp()
			}
			segs = append(segs, wrapper+"("+x.text+")")
		}
	}
	if wrapper == "" {
		return js{text: "[" + strings.Join(run, ", ") + "]", prec: pAtom, typ: kList, total: true, ctor: true}
	}
	if len(run) > 0 {
		segs = append(segs, "["+strings.Join(run, ", ")+"]")
	}
	acc := segs[0]
	for _, sg := range segs[1:] {
		acc = "$append(" + acc + ", " + sg + ")"
	}
	return js{text: "(" + wrapper + ` := function($v) { $type($v) = "array" ? [[$v]] : $exists($v) ? [$v] : [null] }; ` + acc + ")", prec: pAtom, typ: kList, total: true}
}

func (g *gen) member(n *member, s *scope) js {
	x := g.expr(n.x, s)
	switch x.typ {
	case kDate, kDateTime, kTime:
		return g.temporalProperty(n, x)
	case kDuration:
		g.fail(n.off, "properties of durations are not supported", "")
	case kNum, kStr, kBool, kNull:
		g.fail(n.off, "a "+typeName(x.typ)+" value has no member '"+n.name+"'", "")
	}
	step := memberName(n.name)
	switch {
	case x.inner != "":
		// Keep FEEL's list result: JSONata would unwrap a singleton.
		in := x.inner + "." + step
		return js{text: "[" + in + "]", prec: pAtom, typ: kList, total: true, inner: in, ctor: true}
	case x.typ == kList:
		base := wrap(x, pPath)
		if x.ctor {
			base = "(" + x.text + ")"
		}
		in := base + "." + step
		return js{text: "[" + in + "]", prec: pAtom, typ: kList, total: true, inner: in, ctor: true}
	}
	return js{text: wrap(x, pPath) + "." + step, prec: pPath, simple: x.simple && x.prec >= pPath}
}

func (g *gen) filter(n *filter, s *scope) js {
	x := g.expr(n.x, s)
	base := wrap(x, pPath)
	if x.ctor || x.typ != kUnknown && x.typ != kList && x.typ != kCtx {
		// JSONata binds a step after an array constructor oddly
		// ([..][0].id is undefined); a block avoids that.
		base = "(" + x.text + ")"
	}
	inner := &scope{parent: s, filter: true}
	p := g.expr(n.pred, inner)
	switch {
	case p.isNum:
		// FEEL indexes from 1 (negative from the end); JSONata from 0.
		i := p.num
		if i != math.Trunc(i) {
			g.fail(n.pred.pos(), "list index must be an integer", "")
		}
		if i == 0 {
			g.fail(n.pred.pos(), "FEEL list indexes start at 1", "use xs[1] for the first element and xs[-1] for the last")
		}
		if i > 0 {
			i--
		}
		return js{text: base + "[" + numJS(i).text + "]", prec: pPath}
	case p.typ == kBool:
		in := base + "[" + p.text + "]"
		return js{text: "[" + in + "]", prec: pAtom, typ: kList, total: true, inner: in, ctor: true}
	case p.typ == kNum:
		q := g.bind(p, func(v js) js {
			return js{text: v.text + " > 0 ? " + v.text + " - 1 : " + v.text, prec: pCond}
		})
		return js{text: base + "[" + q.text + "]", prec: pPath}
	case p.typ == kUnknown:
		// Decided at run time, as in FEEL: a number indexes, a boolean filters.
		q := g.bind(p, func(v js) js {
			return js{text: `$type(` + v.text + `) = "number" ? (` + v.text + " > 0 ? " + v.text + " - 1 : " + v.text + ") : " + v.text + " = true", prec: pCond}
		})
		return js{text: base + "[" + q.text + "]", prec: pPath}
	}
	g.fail(n.pred.pos(), "a filter must be a boolean condition or a number index", "")
	return js{}
}

func (g *gen) context(n *ctxLit, s *scope) js {
	// Later entries may read earlier ones ({a: 1, b: a + 1}); only then is
	// a block with local variables needed.
	needBlock := false
	for i := 1; i < len(n.vals) && !needBlock; i++ {
		names := map[string]bool{}
		collectNames(n.vals[i], names)
		for _, k := range n.keys[:i] {
			if names[k] {
				needBlock = true
			}
		}
	}
	parts := make([]string, len(n.keys))
	if !needBlock {
		for i, k := range n.keys {
			parts[i] = quote(k) + ": " + g.expr(n.vals[i], s).text
		}
		return js{text: "{" + strings.Join(parts, ", ") + "}", prec: pAtom, typ: kCtx, total: true}
	}
	inner := &scope{parent: s, vars: map[string]js{}}
	var stmts []string
	for i, k := range n.keys {
		v := g.expr(n.vals[i], inner)
		name := g.local(k)
		stmts = append(stmts, name+" := "+v.text)
		inner.vars[k] = js{text: name, prec: pAtom, simple: true, typ: v.typ, total: v.total}
		parts[i] = quote(k) + ": " + name
	}
	stmts = append(stmts, "{"+strings.Join(parts, ", ")+"}")
	return js{text: "(" + strings.Join(stmts, "; ") + ")", prec: pAtom, typ: kCtx, total: true}
}

// collectNames gathers every bare name in the subtree (an over-approximation
// of its free names).
func collectNames(n node, out map[string]bool) {
	switch n := n.(type) {
	case *ident:
		out[n.name] = true
	case *member:
		collectNames(n.x, out)
	case *filter:
		collectNames(n.x, out)
		collectNames(n.pred, out)
	case *call:
		for _, a := range n.args {
			collectNames(a, out)
		}
	case *unary:
		collectNames(n.x, out)
	case *binary:
		collectNames(n.l, out)
		collectNames(n.r, out)
	case *ifExpr:
		collectNames(n.c, out)
		collectNames(n.th, out)
		collectNames(n.els, out)
	case *quant:
		for _, it := range n.iters {
			collectNames(it.in, out)
			if it.to != nil {
				collectNames(it.to, out)
			}
		}
		collectNames(n.sat, out)
	case *forExpr:
		for _, it := range n.iters {
			collectNames(it.in, out)
			if it.to != nil {
				collectNames(it.to, out)
			}
		}
		collectNames(n.ret, out)
	case *inExpr:
		collectNames(n.x, out)
		for _, t := range n.tests {
			collectNames(t, out)
		}
	case *between:
		collectNames(n.x, out)
		collectNames(n.lo, out)
		collectNames(n.hi, out)
	case *listLit:
		for _, e := range n.elems {
			collectNames(e, out)
		}
	case *ctxLit:
		for _, e := range n.vals {
			collectNames(e, out)
		}
	case *fnDef:
		collectNames(n.body, out)
	case *rangeLit:
		collectNames(n.lo, out)
		collectNames(n.hi, out)
	case *cmpTest:
		collectNames(n.x, out)
	}
}

// iterSource emits what an iteration context ranges over: a list, or
// the integers a..b (descending when a > b, as in FEEL).
func (g *gen) iterSource(it iter, s *scope) js {
	xs := g.expr(it.in, s)
	if it.to == nil {
		return xs
	}
	to := g.expr(it.to, s)
	for _, e := range []js{xs, to} {
		if e.typ != kNum && e.typ != kUnknown {
			g.fail(it.in.pos(), "a range to iterate over needs numbers", "")
		}
	}
	if xs.isNum && to.isNum && xs.num <= to.num {
		return js{text: "[" + xs.text + ".." + to.text + "]", prec: pAtom, typ: kList, total: true, ctor: true}
	}
	return g.bind(xs, func(a js) js {
		return g.bind(to, func(b js) js {
			return js{text: wrap(a, pCmp+1) + " <= " + wrap(b, pCmp+1) + " ? [" + a.text + ".." + b.text + "] : $reverse([" + b.text + ".." + a.text + "])", prec: pCond, typ: kList}
		})
	})
}

// iterVar is the reference to an iteration variable: a number when
// iterating over a range.
func iterVar(v string, it iter) js {
	r := js{text: v, prec: pAtom, simple: true}
	if it.to != nil {
		r.typ, r.total = kNum, true
	}
	return r
}

// forLoop emits FEEL `for x in xs, y in ys return e`: the flat list of e
// over every combination. $reduce with $append keeps a list-valued e as
// one element (a JSONata array constructor or $map would splice or unwrap
// it).
func (g *gen) forLoop(n *forExpr, iters []iter, s *scope) js {
	it := iters[0]
	xs := g.iterSource(it, s)
	v := g.local(it.name)
	inner := &scope{parent: s, vars: map[string]js{it.name: iterVar(v, it)}}
	acc := g.temp()
	var step string
	if len(iters) > 1 {
		step = "$append(" + acc + ", " + g.forLoop(n, iters[1:], inner).text + ")"
	} else {
		e := g.expr(n.ret, inner)
		switch {
		case e.typ == kList && e.ctor:
			step = "$append(" + acc + ", [" + e.text + "])"
		case e.typ != kUnknown && e.typ != kList:
			step = "$append(" + acc + ", [" + e.text + "])"
		default:
			step = g.bind(e, func(e js) js {
				return js{text: "$append(" + acc + ", $type(" + e.text + `) = "array" ? [[` + e.text + "]] : [" + e.text + "])", prec: pAtom}
			}).text
		}
	}
	return js{text: "$reduce(" + xs.text + ", function(" + acc + ", " + v + ") { " + step + " }, [])", prec: pAtom, typ: kList}
}

func (g *gen) quant(n *quant, iters []iter, s *scope) js {
	it := iters[0]
	xs := g.iterSource(it, s)
	v := g.local(it.name)
	inner := &scope{parent: s, vars: map[string]js{it.name: iterVar(v, it)}}
	var body js
	if len(iters) > 1 {
		body = g.quant(n, iters[1:], inner)
	} else {
		body = boolish(g.expr(n.sat, inner))
	}
	fn := "function(" + v + ") { " + body.text + " }"
	if !n.every {
		return js{text: "$count($filter(" + xs.text + ", " + fn + ")) > 0", prec: pCmp, typ: kBool, total: true}
	}
	return g.bind(xs, func(x js) js {
		return js{text: "$count($filter(" + x.text + ", " + fn + ")) = $count(" + x.text + ")", prec: pCmp, typ: kBool, total: true}
	})
}

// jsType is the JSONata $type() of values of static kind t ("" when
// unknown). Dates, times and durations are ISO strings.
func jsType(t kind) string {
	switch t {
	case kNum:
		return "number"
	case kStr, kDate, kDateTime, kTime, kDuration:
		return "string"
	case kBool:
		return "boolean"
	case kNull:
		return "null"
	case kList:
		return "array"
	case kCtx:
		return "object"
	}
	return ""
}

// isoRegex matches the ISO 8601 dates and date-times JSONata's $toMillis
// accepts.
const isoRegex = `/^\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?)?$/`

// litStr reports whether e is a string literal.
func (e js) litStr() (string, bool) {
	if e.simple && e.total && e.typ == kStr && strings.HasPrefix(e.text, `"`) {
		return e.text, true
	}
	return "", false
}

// typed makes body safe for operands of the wrong type. JSONata raises an
// error where FEEL yields null ($length(null), null + 1); here each
// operand of unknown static type is checked with $type at run time and
// the result is undefined (JSONata's stand-in for null, which propagates
// through functions and operators without errors) when a check fails. A
// statically wrong type is a translation error. want[i] == "" leaves
// operand i unchecked; offs[i] positions the error.
func (g *gen) typed(what string, offs []int, ops []js, want []string, body func([]js) js) js {
	var conds, pre []string
	// JSONata functions return undefined for an undefined first argument
	// but misbehave on later ones ($contains("a", undefined) fails), so a
	// later argument that may be undefined is checked too.
	strict := what == "**" || what[0] >= 'a' && what[0] <= 'z'
	for i := range ops {
		if want[i] == "" {
			continue
		}
		if strict && i > 0 && !ops[i].total && (jsType(ops[i].typ) == want[i] || want[i] == "datetime" && (ops[i].typ == kDate || ops[i].typ == kDateTime)) {
			if !ops[i].simple {
				v := g.temp()
				pre = append(pre, v+" := "+ops[i].text)
				ops[i] = js{text: v, prec: pAtom, simple: true, typ: ops[i].typ}
			}
			conds = append(conds, "$exists("+ops[i].text+")")
			ops[i].total = true
			continue
		}
		t := jsType(ops[i].typ)
		iso := want[i] == "datetime"
		switch {
		case iso && (ops[i].typ == kDate || ops[i].typ == kDateTime):
			continue
		case iso && ops[i].typ == kStr:
			if _, lit := ops[i].litStr(); lit {
				g.fail(offs[i], what+" needs a date or date and time, not a string", `convert with date("2024-12-31") or date and time("2024-12-31T10:00:00Z")`)
			}
		case t == want[i]:
			continue
		case t != "":
			g.fail(offs[i], what+" needs a "+map[string]string{"string": "string", "number": "number", "datetime": "date or date and time"}[want[i]]+", not a "+typeName(ops[i].typ), "")
		}
		if !ops[i].simple {
			v := g.temp()
			pre = append(pre, v+" := "+ops[i].text)
			ops[i] = js{text: v, prec: pAtom, simple: true}
		}
		if iso {
			// $toMillis raises an error on text that is not ISO 8601.
			conds = append(conds, `$type(`+ops[i].text+`) = "string" and $contains(`+ops[i].text+", "+isoRegex+")")
			ops[i].typ, ops[i].total = kDateTime, true
			continue
		}
		conds = append(conds, `$type(`+ops[i].text+`) = "`+want[i]+`"`)
		// Inside the guarded body the operand is defined and well typed.
		ops[i].typ, ops[i].total = map[string]kind{"string": kStr, "number": kNum}[want[i]], true
	}
	r := body(ops)
	if len(conds) > 0 {
		r = js{text: strings.Join(conds, " and ") + " ? " + wrap(r, pCond+1), prec: pCond, typ: r.typ, ctor: false}
	}
	if len(pre) > 0 {
		r = js{text: "(" + strings.Join(pre, "; ") + "; " + r.text + ")", prec: pAtom, typ: r.typ}
	}
	return r
}

// bound is one ordering comparison against x.
type bound struct {
	op string
	y  js
}

// family groups static types by how JSONata orders them.
func family(t kind) string {
	switch t {
	case kNum:
		return "number"
	case kStr, kDate, kTime:
		return "string"
	}
	return ""
}

// order emits x op1 y1 and x op2 y2 ... with FEEL's typing: JSONata raises
// an error when ordering mismatched types or null, FEEL yields null; here
// such comparisons are false, guarded by $type checks where the static
// types are unknown. Operands read more than once are bound first.
func (g *gen) order(off int, x js, bs []bound) js {
	ops := append([]js{x}, make([]js, len(bs))...)
	for i, b := range bs {
		ops[i+1] = b.y
	}
	if ops[0].typ == kMillis || ops[1].typ == kMillis {
		// A date difference against a literal days-time duration.
		for i, o := range ops {
			switch {
			case o.typ == kMillis:
			case o.typ == kDuration && !o.ym:
				ops[i] = js{text: strconv.FormatInt(o.ms, 10), prec: pAtom, typ: kNum, total: true}
				if o.ms < 0 {
					ops[i].prec = pUnary
				}
			default:
				g.fail(off, "a date difference can only be compared with a literal days-time duration", `write e.g. duration("P30D")`)
			}
		}
		return js{text: wrap(ops[0], pCmp+1) + " " + bs[0].op + " " + wrap(ops[1], pCmp+1), prec: pCmp, typ: kBool}
	}
	millis := false
	for _, o := range ops {
		switch o.typ {
		case kDateTime:
			millis = true
		case kDuration, kBool, kNull, kList, kCtx, kMillis:
			g.fail(off, "cannot order "+typeName(o.typ)+" values", "compare numbers, strings, dates or date-times")
		}
	}
	var parts, pre []string
	if millis {
		// Date-times may carry different offsets: compare instants.
		// $toMillis raises an error on anything but ISO text: guard.
		for i, o := range ops {
			if _, lit := o.litStr(); lit || o.typ != kUnknown && o.typ != kStr && o.typ != kDate && o.typ != kDateTime {
				g.fail(off, "cannot compare a date and time with a "+typeName(o.typ), `convert with date and time("2024-12-31T10:00:00Z")`)
			}
			guard := o.typ == kUnknown || o.typ == kStr
			if !o.simple && (i == 0 && len(bs) > 1 || guard) {
				t := g.temp()
				pre = append(pre, t+" := "+o.text)
				o = js{text: t, prec: pAtom, typ: o.typ, simple: true, total: o.total}
			}
			if guard {
				parts = append(parts, `$type(`+o.text+`) = "string" and $contains(`+o.text+", "+isoRegex+")")
			}
			ops[i] = js{text: "$toMillis(" + o.text + ")", prec: pAtom, typ: kNum, total: o.total && !guard}
		}
	} else {
		fam, guard := "", false
		for _, o := range ops {
			f := family(o.typ)
			if f == "" {
				guard = true
			} else if fam != "" && f != fam {
				g.fail(off, "cannot compare a number with a string", "FEEL would yield null here")
			} else {
				fam = f
			}
		}
		for i := 0; i < len(ops); i++ {
			if !ops[i].simple && (guard || i == 0 && len(bs) > 1) {
				// Guarded operands are read twice: evaluate them once.
				t := g.temp()
				pre = append(pre, t+" := "+ops[i].text)
				ops[i].text, ops[i].prec, ops[i].simple = t, pAtom, true
			}
		}
		for i, o := range ops {
			switch {
			case family(o.typ) != "":
			case fam != "":
				parts = append(parts, `$type(`+o.text+`) = "`+fam+`"`)
			case i == 0:
				parts = append(parts, `$type(`+o.text+`) in ["number", "string"]`)
			default:
				parts = append(parts, `$type(`+o.text+`) = $type(`+ops[0].text+`)`)
			}
		}
	}
	// A lone comparison of a possibly undefined operand is undefined
	// (FEEL: null); an "and" chain always yields a boolean.
	total := len(parts) > 0 || len(bs) > 1 || ops[0].total && ops[1].total
	for i, b := range bs {
		parts = append(parts, wrap(ops[0], pCmp+1)+" "+b.op+" "+wrap(ops[i+1], pCmp+1))
	}
	r := andJoin(parts)
	r.total = total
	if len(pre) > 0 {
		r = js{text: "(" + strings.Join(pre, "; ") + "; " + r.text + ")", prec: pAtom, typ: kBool, total: total}
	}
	return r
}

func andJoin(parts []string) js {
	if len(parts) == 1 {
		return js{text: parts[0], prec: pCmp, typ: kBool, total: true}
	}
	return js{text: strings.Join(parts, " and "), prec: pAnd, typ: kBool, total: true}
}

func typeName(t kind) string {
	return [...]string{"unknown", "number", "string", "boolean", "null", "list", "context", "date", "date and time", "time", "duration", "duration"}[t]
}

// equal emits FEEL a = b. JSONata's = is deep equality and false when a
// side is undefined; FEEL's null = null is true and a missing variable is
// null, so comparisons with the null literal test for absence too.
func (g *gen) equal(off int, a, b js) js {
	switch {
	case a.typ == kNull && b.typ == kNull:
		return boolJS(true)
	case b.typ == kNull:
		return js{text: "$not(" + wrap(a, pCmp+1) + " != null)", prec: pAtom, typ: kBool, total: true}
	case a.typ == kNull:
		return g.equal(off, b, a)
	case a.typ == kDuration || b.typ == kDuration:
		if a.typ == kDuration && b.typ == kDuration && !a.ym && !b.ym {
			return boolJS(a.ms == b.ms)
		}
		g.fail(off, "comparing durations is only supported between literal days-time durations", "")
	case a.typ == kDateTime || b.typ == kDateTime:
		offs := []int{off, off}
		want := []string{"datetime", "datetime"}
		r := g.typed("=", offs, []js{a, b}, want, func(o []js) js {
			return js{text: "$toMillis(" + o[0].text + ") = $toMillis(" + o[1].text + ")", prec: pCmp, typ: kBool, total: true}
		})
		if r.prec == pCond {
			// A failed type check means "not equal", as for other types.
			r.text += " : false"
		}
		return r
	}
	return js{text: wrap(a, pCmp+1) + " = " + wrap(b, pCmp+1), prec: pCmp, typ: kBool, total: true}
}

// notEqual emits FEEL a != b as the negation of a = b (JSONata's != is
// false when a side is undefined, FEEL's null != 1 is true).
func (g *gen) notEqual(off int, a, b js) js {
	switch {
	case b.typ == kNull && a.typ != kNull:
		return js{text: wrap(a, pCmp+1) + " != null", prec: pCmp, typ: kBool, total: true}
	case a.typ == kNull && b.typ != kNull:
		return g.notEqual(off, b, a)
	case a.total && b.total && a.typ != kDateTime && b.typ != kDateTime && a.typ != kDuration && b.typ != kDuration:
		return js{text: wrap(a, pCmp+1) + " != " + wrap(b, pCmp+1), prec: pCmp, typ: kBool, total: true}
	}
	return js{text: "$not(" + g.equal(off, a, b).text + ")", prec: pAtom, typ: kBool, total: true}
}

func (g *gen) binary(n *binary, s *scope) js {
	switch n.op {
	case "and", "or":
		l, r := boolish(g.expr(n.l, s)), boolish(g.expr(n.r, s))
		p := pAnd
		if n.op == "or" {
			p = pOr
		}
		return js{text: wrap(l, p) + " " + n.op + " " + wrap(r, p+1), prec: p, typ: kBool, total: true}
	case "=":
		return g.equal(n.off, g.expr(n.l, s), g.expr(n.r, s))
	case "!=":
		return g.notEqual(n.off, g.expr(n.l, s), g.expr(n.r, s))
	case "<", "<=", ">", ">=":
		return g.order(n.off, g.cmpOperand(n.l, s), []bound{{n.op, g.cmpOperand(n.r, s)}})
	}
	return g.arith(n, g.expr(n.l, s), g.expr(n.r, s))
}

// cmpOperand translates an operand of an ordering comparison, where a date
// difference (today() - date(x) > duration("P30D")) may appear: JSONata
// has no durations, so the difference is only meaningful compared with a
// literal duration.
func (g *gen) cmpOperand(n node, s *scope) js {
	saved := g.diffOK
	g.diffOK = n
	defer func() { g.diffOK = saved }()
	return g.expr(n, s)
}

func isTemporal(t kind) bool { return t == kDate || t == kDateTime || t == kTime }

func (g *gen) arith(n *binary, l, r js) js {
	for _, o := range []js{l, r} {
		switch o.typ {
		case kBool, kNull, kList, kCtx:
			g.fail(n.off, "cannot use "+typeName(o.typ)+" values with '"+n.op+"'", "")
		}
	}
	if l.typ == kDuration || r.typ == kDuration || isTemporal(l.typ) || isTemporal(r.typ) {
		return g.dateArith(n, l, r)
	}
	offs := []int{n.l.pos(), n.r.pos()}
	switch n.op {
	case "+":
		lt, rt := jsType(l.typ), jsType(r.typ)
		switch {
		case lt == "string" || rt == "string":
			if lt == "number" || rt == "number" {
				g.fail(n.off, "cannot add a string and a number", "convert with string(x) to concatenate")
			}
			// & reads an undefined operand as "": FEEL's "a" + null is null.
			return g.typed("+", offs, []js{l, r}, []string{"string", "string"}, func(o []js) js {
				return g.concat(o[0], o[1])
			})
		case lt == "number" || rt == "number":
			return g.typed("+", offs, []js{l, r}, []string{"number", "number"}, func(o []js) js {
				return js{text: wrap(o[0], pAdd) + " + " + wrap(o[1], pAdd+1), prec: pAdd, typ: kNum}
			})
		}
		// Unknown operand types: FEEL + concatenates strings and adds
		// numbers; anything else is null.
		return g.bind(l, func(l js) js {
			return g.bind(r, func(r js) js {
				return js{text: `$type(` + l.text + `) = "string" and $type(` + r.text + `) = "string" ? ` +
					wrap(l, pAdd) + " & " + wrap(r, pAdd+1) + ` : $type(` + l.text + `) = "number" and $type(` + r.text + `) = "number" ? ` +
					wrap(l, pAdd) + " + " + wrap(r, pAdd+1), prec: pCond}
			})
		})
	case "**":
		return g.typed("**", offs, []js{l, r}, []string{"number", "number"}, func(o []js) js {
			p := js{text: "$power(" + o[0].text + ", " + o[1].text + ")", prec: pAtom, typ: kNum}
			if o[0].isNum && o[0].num >= 0 || o[1].isNum && o[1].num == math.Trunc(o[1].num) {
				return p
			}
			// A negative base with a fractional exponent has no real
			// result: FEEL null, a JSONata error.
			return g.bind(o[0], func(a js) js {
				return g.bind(o[1], func(b js) js {
					p.text = "$power(" + a.text + ", " + b.text + ")"
					return js{text: a.text + " >= 0 or " + b.text + " = $floor(" + b.text + ") ? " + p.text, prec: pCond, typ: kNum}
				})
			})
		})
	}
	for _, o := range []js{l, r} {
		if o.typ == kStr {
			g.fail(n.off, "cannot use a string with '"+n.op+"'", "only + joins strings")
		}
	}
	p := pAdd
	if n.op == "*" || n.op == "/" {
		p = pMul
	}
	return g.typed(n.op, offs, []js{l, r}, []string{"number", "number"}, func(o []js) js {
		if n.op == "/" && !(o[1].isNum && o[1].num != 0) {
			if o[1].isNum {
				g.fail(n.off, "division by zero", "")
			}
			// FEEL: x / 0 is null; JavaScript gives Infinity.
			return g.bind(o[1], func(d js) js {
				return js{text: wrap(d, pCmp+1) + " != 0 ? " + wrap(o[0], p) + " / " + wrap(d, p+1), prec: pCond, typ: kNum}
			})
		}
		return js{text: wrap(o[0], p) + " " + n.op + " " + wrap(o[1], p+1), prec: p, typ: kNum}
	})
}

// concat joins two string operands; one that may be undefined makes the
// result undefined rather than being read as "".
func (g *gen) concat(a, b js) js {
	var conds []string
	for _, o := range []js{a, b} {
		if !o.total {
			conds = append(conds, "$exists("+o.text+")")
		}
	}
	r := js{text: wrap(a, pAdd) + " & " + wrap(b, pAdd+1), prec: pAdd, typ: kStr, total: len(conds) == 0}
	if len(conds) == 0 {
		return r
	}
	return g.bind(a, func(a js) js {
		return g.bind(b, func(b js) js {
			var conds []string
			for _, o := range []js{a, b} {
				if !o.total {
					conds = append(conds, "$exists("+o.text+")")
				}
			}
			return js{text: strings.Join(conds, " and ") + " ? " + wrap(a, pAdd) + " & " + wrap(b, pAdd+1), prec: pCond, typ: kStr}
		})
	})
}

// dateArith supports date/date-time ± literal days-time duration, computed
// on epoch milliseconds.
func (g *gen) dateArith(n *binary, l, r js) js {
	if l.typ == kDuration && n.op == "+" && (r.typ == kDate || r.typ == kDateTime) {
		l, r = r, l
	}
	if (n.op == "+" || n.op == "-") && (l.typ == kDate || l.typ == kDateTime) && r.typ == kDuration {
		ms := r.ms
		if r.ym {
			if n.op == "-" {
				ms = -ms
			}
			return g.addMonths(l, ms)
		}
		if n.op == "-" {
			ms = -ms
		}
		sum := "$toMillis(" + l.text + ")"
		if ms >= 0 {
			sum += " + " + strconv.FormatInt(ms, 10)
		} else {
			sum += " - " + strconv.FormatInt(-ms, 10)
		}
		if l.typ == kDate {
			return js{text: "$fromMillis(" + sum + `, "[Y0001]-[M01]-[D01]")`, prec: pAtom, typ: kDate}
		}
		return js{text: "$fromMillis(" + sum + ")", prec: pAtom, typ: kDateTime}
	}
	if n.op == "-" && (l.typ == kDate || l.typ == kDateTime) && (r.typ == kDate || r.typ == kDateTime) {
		if g.diffOK != node(n) {
			g.fail(n.off, "a date difference can only be compared with a literal duration",
				"write e.g. today() - date(submitted) > duration(\"P30D\")")
		}
		return js{text: "$toMillis(" + l.text + ") - $toMillis(" + r.text + ")", prec: pAdd, typ: kMillis}
	}
	g.fail(n.off, "this date/time arithmetic is not supported",
		"supported: date or date and time ± duration(\"P1Y2M\") or duration(\"P3DT4H\"); compare dates with < and >")
	return js{}
}

// addMonths adds a number of calendar months to an ISO date or date-time
// string; the day is clamped to the end of the month (2024-01-31 + P1M =
// 2024-02-29), and the time part, if any, is kept.
func (g *gen) addMonths(d js, months int64) js {
	v, y, m, ny, nm := g.temp(), g.temp(), g.temp(), g.temp(), g.temp()
	leap := "(" + ny + " % 4 = 0 and " + ny + " % 100 != 0 or " + ny + " % 400 = 0)"
	dim := "([31, " + leap + " ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[" + nm + "]"
	text := "(" + v + " := " + d.text + "; $exists(" + v + ") ? (" +
		y + " := $number($substring(" + v + ", 0, 4)); " +
		m + " := $number($substring(" + v + ", 5, 2)) - 1 + " + strconv.FormatInt(months, 10) + "; " +
		ny + " := " + y + " + $floor(" + m + " / 12); " +
		nm + " := " + m + " - $floor(" + m + " / 12) * 12; " +
		`$formatInteger(` + ny + `, "0000") & "-" & $formatInteger(` + nm + ` + 1, "00") & "-" & $formatInteger($min([$number($substring(` + v + ", 8, 2)), " + dim + `]), "00") & $substring(` + v + ", 10)))"
	return js{text: text, prec: pAtom, typ: d.typ}
}

// in emits FEEL `x in tests`: true when any test matches.
func (g *gen) in(n *inExpr, s *scope) js {
	x := g.expr(n.x, s)
	if len(n.tests) == 1 {
		return g.test(x, n.tests[0], s)
	}
	return g.bind(x, func(x js) js {
		var parts []js
		for _, t := range n.tests {
			parts = append(parts, g.test(x, t, s))
		}
		if len(parts) == 1 {
			return parts[0]
		}
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = wrap(p, pOr+1)
		}
		return js{text: strings.Join(texts, " or "), prec: pOr, typ: kBool, total: true}
	})
}

func (g *gen) test(x js, t node, s *scope) js {
	switch t := t.(type) {
	case *rangeLit:
		lo, hi := ">=", "<="
		if t.loOpen {
			lo = ">"
		}
		if t.hiOpen {
			hi = "<"
		}
		return g.order(t.off, x, []bound{{lo, g.expr(t.lo, s)}, {hi, g.expr(t.hi, s)}})
	case *cmpTest:
		y := g.expr(t.x, s)
		switch t.op {
		case "=":
			return g.equal(t.off, x, y)
		case "!=":
			return g.notEqual(t.off, x, y)
		}
		return g.order(t.off, x, []bound{{t.op, y}})
	}
	var v js
	if l, ok := t.(*listLit); ok {
		v = g.list(l, s, true)
	} else {
		v = g.expr(t, s)
	}
	switch v.typ {
	case kNull, kNum, kStr, kBool, kDate, kDateTime, kTime, kDuration:
		return g.equal(t.pos(), x, v)
	}
	// A list tests membership; JSONata's `in` also treats a single value
	// as a one-element list, which matches FEEL's equality test.
	return js{text: wrap(x, pCmp+1) + " in " + wrap(v, pCmp+1), prec: pCmp, typ: kBool, total: true}
}

// temporalProperty reads year, month, day, weekday, hour, minute or second
// of an ISO date, date-time or time string by position.
func (g *gen) temporalProperty(n *member, x js) js {
	at := map[string][2]int{"year": {0, 4}, "month": {5, 2}, "day": {8, 2}, "hour": {11, 2}, "minute": {14, 2}, "second": {17, 2}}
	p, ok := at[n.name]
	switch {
	case n.name == "weekday" && x.typ != kTime:
		return js{text: "$number($fromMillis($toMillis($substring(" + x.text + `, 0, 10)), "[F1]"))`, prec: pAtom, typ: kNum}
	case !ok, x.typ == kDate && p[0] > 8, x.typ == kTime && p[0] < 11:
		g.fail(n.off, "a "+typeName(x.typ)+" has no property '"+n.name+"'", "supported: year, month, day, weekday (dates); hour, minute, second (times)")
	}
	if x.typ == kTime {
		p[0] -= 11
	}
	return js{text: "$number($substring(" + x.text + ", " + strconv.Itoa(p[0]) + ", " + strconv.Itoa(p[1]) + "))", prec: pAtom, typ: kNum}
}
