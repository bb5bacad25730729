package feel

import (
	"strings"
	"unicode/utf8"
)

// The parser is a recursive-descent parser over a pre-lexed token slice,
// following FEEL's precedence from loosest to tightest:
//
//	if / some / every / for / function
//	or
//	and
//	comparison, between, in, instance of
//	+ -
//	* /
//	**
//	unary -
//	postfix: .name, [filter], call
//
// Errors abort through a private panic (bailout) recovered only in parse,
// which keeps the grammar code free of error plumbing.

type parser struct {
	src      string
	toks     []token
	i        int
	noFilter int // >0 while parsing a range's upper bound
}

// bailout carries a positioned error out of the parser or generator.
type bailout struct{ err *Error }

// fail aborts with an error at byte offset off.
func (p *parser) fail(off int, msg, hint string) {
	panic(bailout{newError(p.src, off, msg, hint)})
}

// keywords cannot be variable names; they delimit expressions.
var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "some": true, "every": true, "in": true,
	"satisfies": true, "and": true, "or": true, "between": true, "instance": true,
	"of": true, "for": true, "return": true, "function": true, "true": true,
	"false": true, "null": true,
}

// parse lexes and parses the whole expression after the optional '='.
func parse(src string) (n node, err *Error) {
	p := &parser{src: src}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	for i, r := range src {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(src[i:]); n == 1 {
				p.fail(i, "invalid UTF-8", "save the BPMN file as UTF-8")
			}
		}
	}
	start := 0
	for start < len(src) && strings.ContainsRune(" \t\r\n", rune(src[start])) {
		start++
	}
	if start < len(src) && src[start] == '=' {
		start++
	}
	p.lex(start)
	if p.peek().kind == tEOF {
		p.fail(p.peek().off, "empty expression", "write an expression after '='")
	}
	n = p.expr()
	if t := p.peek(); t.kind != tEOF {
		p.unexpected(t)
	}
	return n, nil
}

func (p *parser) peek() token        { return p.toks[p.i] }
func (p *parser) peekAt(k int) token { return p.toks[min(p.i+k, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) isName(s string) bool {
	t := p.peek()
	return t.kind == tName && t.text == s
}

func (p *parser) expectOp(s string) token {
	if !p.isOp(s) {
		t := p.peek()
		p.fail(t.off, "expected '"+s+"' but found "+describe(t), "")
	}
	return p.next()
}

func (p *parser) expectName(s string) token {
	if !p.isName(s) {
		t := p.peek()
		p.fail(t.off, "expected '"+s+"' but found "+describe(t), "")
	}
	return p.next()
}

// unexpected reports a token that cannot continue the expression.
func (p *parser) unexpected(t token) {
	hint := ""
	if t.kind == tName && !keywords[t.text] && p.i > 0 && p.toks[p.i-1].kind == tName {
		hint = "names with spaces are not supported: variables must be identifiers such as firstName"
	}
	if t.kind == tName && t.text == "instance" {
		p.fail(t.off, "'instance of' is not supported", "compare the value instead, or check it with is defined(...)")
	}
	p.fail(t.off, "unexpected "+describe(t), hint)
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return "string"
	case tNum:
		return "number " + t.text
	case tBacktick:
		return "name `" + t.text + "`"
	}
	return "'" + t.text + "'"
}

func (p *parser) expr() node {
	t := p.peek()
	if t.kind == tName {
		switch t.text {
		case "if":
			p.next()
			c := p.expr()
			p.expectName("then")
			th := p.expr()
			p.expectName("else")
			return &ifExpr{off: t.off, c: c, th: th, els: p.expr()}
		case "some", "every":
			p.next()
			q := &quant{off: t.off, every: t.text == "every"}
			q.iters = p.iters()
			p.expectName("satisfies")
			q.sat = p.expr()
			return q
		case "for":
			p.next()
			f := &forExpr{off: t.off, iters: p.iters()}
			p.expectName("return")
			f.ret = p.expr()
			return f
		case "function":
			p.next()
			f := &fnDef{off: t.off}
			p.expectOp("(")
			for !p.isOp(")") {
				if len(f.params) > 0 {
					p.expectOp(",")
				}
				n := p.next()
				if n.kind != tName || keywords[n.text] {
					p.fail(n.off, "expected a parameter name but found "+describe(n), "")
				}
				f.params = append(f.params, n.text)
			}
			p.next()
			f.body = p.expr()
			return f
		}
	}
	return p.or()
}

// iters parses `x in xs, y in ys` of some/every.
func (p *parser) iters() []iter {
	var its []iter
	for {
		n := p.next()
		if n.kind != tName || keywords[n.text] {
			p.fail(n.off, "expected a variable name but found "+describe(n), "write: some x in list satisfies x > 0")
		}
		p.expectName("in")
		it := iter{off: n.off, name: n.text, in: p.or()}
		if p.isOp("..") {
			p.next()
			it.to = p.or()
		}
		its = append(its, it)
		if !p.isOp(",") {
			return its
		}
		p.next()
	}
}

func (p *parser) or() node {
	l := p.and()
	for p.isName("or") {
		t := p.next()
		l = &binary{off: t.off, op: "or", l: l, r: p.and()}
	}
	return l
}

func (p *parser) and() node {
	l := p.comparison()
	for p.isName("and") {
		t := p.next()
		l = &binary{off: t.off, op: "and", l: l, r: p.comparison()}
	}
	return l
}

func isCmpOp(t token) bool {
	if t.kind != tOp {
		return false
	}
	switch t.text {
	case "=", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (p *parser) comparison() node {
	l := p.additive()
	t := p.peek()
	switch {
	case isCmpOp(t):
		p.next()
		l = &binary{off: t.off, op: t.text, l: l, r: p.additive()}
	case t.kind == tName && t.text == "between":
		p.next()
		lo := p.additive()
		p.expectName("and")
		l = &between{off: t.off, x: l, lo: lo, hi: p.additive()}
	case t.kind == tName && t.text == "in":
		p.next()
		l = &inExpr{off: t.off, x: l, tests: p.inTests()}
	case t.kind == tName && t.text == "instance":
		p.unexpected(t)
	}
	if t := p.peek(); isCmpOp(t) {
		p.fail(t.off, "comparisons cannot be chained", "combine them with 'and', or use 'between'")
	}
	return l
}

// inTests parses the positive unary tests after `in`.
func (p *parser) inTests() []node {
	t := p.peek()
	switch {
	case isCmpOp(t):
		return []node{p.cmpTest()}
	case t.kind == tOp && t.text == "]":
		p.next()
		return []node{p.rangeRest(t, true, p.additive())}
	case t.kind == tOp && t.text == "[":
		p.next()
		if p.isOp("]") {
			p.next()
			return []node{p.postfix(&listLit{off: t.off})}
		}
		first := p.expr()
		if p.isOp("..") {
			return []node{p.rangeRest(t, false, first)}
		}
		l := &listLit{off: t.off, elems: []node{first}}
		p.listRest(l)
		return []node{p.postfix(l)}
	case t.kind == tOp && t.text == "(":
		p.next()
		var tests []node
		for {
			switch {
			case isCmpOp(p.peek()), p.isOp("["), p.isOp("]"), p.isOp("("):
				tests = append(tests, p.inTests()...)
			default:
				e := p.expr()
				if len(tests) == 0 && p.isOp("..") {
					return []node{p.rangeRest(t, true, e)}
				}
				tests = append(tests, e)
			}
			if p.isOp(")") {
				p.next()
				return tests
			}
			p.expectOp(",")
		}
	}
	return []node{p.additive()}
}

func (p *parser) cmpTest() node {
	t := p.next()
	return &cmpTest{off: t.off, op: t.text, x: p.additive()}
}

// rangeRest parses `.. hi` and the closing bracket of a range whose start
// bracket was open.
func (p *parser) rangeRest(open token, loOpen bool, lo node) node {
	p.expectOp("..")
	// In [1..10[ the closing '[' must not start a filter.
	p.noFilter++
	hi := p.additive()
	p.noFilter--
	c := p.next()
	r := &rangeLit{off: open.off, lo: lo, hi: hi, loOpen: loOpen}
	switch {
	case c.kind == tOp && c.text == "]":
	case c.kind == tOp && (c.text == ")" || c.text == "["):
		r.hiOpen = true
	default:
		p.fail(c.off, "expected ']' or ')' to close the range but found "+describe(c), "")
	}
	return r
}

func (p *parser) additive() node {
	l := p.multiplicative()
	for p.isOp("+") || p.isOp("-") {
		t := p.next()
		l = &binary{off: t.off, op: t.text, l: l, r: p.multiplicative()}
	}
	return l
}

func (p *parser) multiplicative() node {
	l := p.power()
	for p.isOp("*") || p.isOp("/") {
		t := p.next()
		l = &binary{off: t.off, op: t.text, l: l, r: p.power()}
	}
	return l
}

// power is left-associative and binds looser than unary minus, as in the
// FEEL precedence table: -2 ** 2 = 4, 2 ** 3 ** 2 = 64.
func (p *parser) power() node {
	l := p.unary()
	for p.isOp("**") {
		t := p.next()
		l = &binary{off: t.off, op: "**", l: l, r: p.unary()}
	}
	return l
}

func (p *parser) unary() node {
	if p.isOp("-") {
		t := p.next()
		return &unary{off: t.off, x: p.unary()}
	}
	return p.postfix(p.primary())
}

func (p *parser) postfix(x node) node {
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.text == ".":
			p.next()
			n := p.next()
			if n.kind != tName && n.kind != tBacktick {
				p.fail(n.off, "expected a member name after '.' but found "+describe(n), "")
			}
			x = &member{off: n.off, x: x, name: n.text}
		case t.kind == tOp && t.text == "[" && p.noFilter == 0:
			p.next()
			saved := p.noFilter
			p.noFilter = 0
			pred := p.expr()
			p.noFilter = saved
			if p.isOp("..") {
				p.fail(p.peek().off, "ranges are only supported after 'in'", "write: x in [1..10]")
			}
			p.expectOp("]")
			x = &filter{off: t.off, x: x, pred: pred}
		case t.kind == tOp && t.text == "(":
			p.fail(t.off, "only named functions can be called", "")
		case t.kind == tName && !keywords[t.text], t.kind == tBacktick:
			p.unexpected(t)
		default:
			return x
		}
	}
}

func (p *parser) primary() node {
	t := p.peek()
	if t.kind == tOp && (t.text == "(" || t.text == "[" || t.text == "{") || t.kind == tName {
		// Brackets and calls open a fresh context: filters are allowed
		// again inside a range bound such as [1..(xs[1])).
		saved := p.noFilter
		p.noFilter = 0
		defer func() { p.noFilter = saved }()
	}
	switch t.kind {
	case tNum:
		p.next()
		return &numLit{off: t.off, text: t.text}
	case tStr:
		p.next()
		return &strLit{off: t.off, val: t.text}
	case tBacktick:
		p.next()
		return &ident{off: t.off, name: t.text, quoted: true}
	case tName:
		switch t.text {
		case "true", "false":
			p.next()
			return &boolLit{off: t.off, val: t.text == "true"}
		case "null":
			p.next()
			return &nullLit{off: t.off}
		}
		if fn, k := p.funcName(); k > 0 {
			p.i += k
			return p.call(t.off, fn)
		}
		if keywords[t.text] {
			p.unexpected(t)
		}
		p.next()
		return &ident{off: t.off, name: t.text}
	case tOp:
		switch t.text {
		case "(":
			p.next()
			e := p.expr()
			if p.isOp("..") {
				p.fail(p.peek().off, "ranges are only supported after 'in'", "write: x in (1..10]")
			}
			p.expectOp(")")
			return e
		case "[":
			p.next()
			l := &listLit{off: t.off}
			if p.isOp("]") {
				p.next()
				return l
			}
			l.elems = append(l.elems, p.expr())
			if p.isOp("..") {
				p.fail(p.peek().off, "ranges are only supported after 'in'", "write: x in [1..10]")
			}
			p.listRest(l)
			return l
		case "{":
			return p.context()
		case "?":
			p.fail(t.off, "the unary-test input '?' is not supported", "write the comparison on a variable instead")
		}
	}
	p.unexpected(t)
	return nil
}

// listRest parses `, e ... ]` after the first list element.
func (p *parser) listRest(l *listLit) {
	for p.isOp(",") {
		p.next()
		l.elems = append(l.elems, p.expr())
	}
	p.expectOp("]")
}

// funcName recognises a (possibly multi-word) built-in function name
// followed by '(' and returns it with its token count; longest match wins
// so that "date and time(" is not read as date and time(...).
func (p *parser) funcName() (string, int) {
	var words []string
	for k := 0; k < 4; k++ {
		t := p.peekAt(k)
		if t.kind != tName {
			break
		}
		words = append(words, t.text)
	}
	for k := len(words); k >= 1; k-- {
		name := strings.Join(words[:k], " ")
		if p.peekAt(k).kind != tOp || p.peekAt(k).text != "(" {
			continue
		}
		if k == 1 && !keywords[name] || knownFunctions[name] {
			return name, k
		}
	}
	return "", 0
}

func (p *parser) call(off int, fn string) node {
	p.expectOp("(")
	c := &call{off: off, fn: fn}
	for !p.isOp(")") {
		if len(c.args) > 0 {
			p.expectOp(",")
		}
		// Named arguments: one or more names followed by ':'.
		k := 0
		for p.peekAt(k).kind == tName {
			k++
		}
		if k > 0 && p.peekAt(k).kind == tOp && p.peekAt(k).text == ":" {
			p.fail(p.peek().off, "named arguments are not supported", "pass the arguments by position")
		}
		c.args = append(c.args, p.expr())
	}
	p.next()
	return c
}

func (p *parser) context() node {
	t := p.next() // {
	c := &ctxLit{off: t.off}
	for !p.isOp("}") {
		if len(c.keys) > 0 {
			p.expectOp(",")
		}
		k := p.peek()
		var key string
		switch k.kind {
		case tStr, tBacktick:
			p.next()
			key = k.text
		case tName:
			// Context keys may be names with spaces: {first name: "x"}.
			var words []string
			for p.peek().kind == tName {
				words = append(words, p.next().text)
			}
			key = strings.Join(words, " ")
		default:
			p.fail(k.off, "expected a context key but found "+describe(k), `write {key: value} or {"key": value}`)
		}
		for _, prev := range c.keys {
			if prev == key {
				p.fail(k.off, "duplicate context key \""+key+"\"", "")
			}
		}
		p.expectOp(":")
		c.keys = append(c.keys, key)
		c.offs = append(c.offs, k.off)
		c.vals = append(c.vals, p.expr())
	}
	p.next()
	return c
}
