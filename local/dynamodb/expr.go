package dynamodb

import (
	"bytes"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the expression language: condition, filter and key-condition
// expressions, update expressions and projections. Placeholders (#name,
// :value) are resolved while parsing, so evaluation only walks the tree.

type token struct {
	kind byte // 'i' identifier, '#' name placeholder, ':' value placeholder, 'n' number, 'p' punctuation, 0 end
	text string
	pos  int
}

// tokenize splits an expression; on failure it returns DynamoDB's message
// (capitalised, so not an error value).
func tokenize(src string) ([]token, string) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':' || isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			kind := byte('i')
			if c == '#' || c == ':' {
				kind = c
				if j == i+1 {
					return nil, fmt.Sprintf("Syntax error; token: %q, near: %q", string(c), near(src, i))
				}
			}
			toks = append(toks, token{kind, src[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			toks = append(toks, token{'n', src[i:j], i})
			i = j
		case c == '<' && i+1 < len(src) && (src[i+1] == '>' || src[i+1] == '='):
			toks = append(toks, token{'p', src[i : i+2], i})
			i += 2
		case c == '>' && i+1 < len(src) && src[i+1] == '=':
			toks = append(toks, token{'p', ">=", i})
			i += 2
		case strings.IndexByte("()[],.=<>+-", c) >= 0:
			toks = append(toks, token{'p', string(c), i})
			i++
		default:
			return nil, fmt.Sprintf("Invalid character %q at position %d", c, i)
		}
	}
	return append(toks, token{pos: len(src)}), ""
}

func near(src string, i int) string {
	end := min(len(src), i+10)
	return src[i:end]
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// pathElem is one step of a document path: a map key or a list index.
type pathElem struct {
	name    string
	index   int
	isIndex bool
}

type docPath []pathElem

func (p docPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.isIndex:
			fmt.Fprintf(&b, "[%d]", e.index)
		case i > 0:
			b.WriteString("." + e.name)
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}

// operand kinds.
const (
	oPath = iota
	oValue
	oSize
	oPlus
	oMinus
	oListAppend
	oIfNotExists
)

type operand struct {
	kind  int
	path  docPath
	value *AV
	args  []*operand
}

// condition kinds.
const (
	cAnd = iota
	cOr
	cNot
	cCmp
	cBetween
	cIn
	cFunc
)

type cond struct {
	kind        int
	op          string // comparator or function name
	left, right *cond
	args        []*operand
}

// exprEnv resolves placeholders and records which ones were used, since
// DynamoDB rejects unused ones.
type exprEnv struct {
	names      map[string]string
	values     Item
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newEnv(names map[string]string, values Item) *exprEnv {
	return &exprEnv{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// unused reports the first placeholder that no expression referenced.
func (e *exprEnv) unused() error {
	for _, k := range sortedKeys(e.names) {
		if !e.usedNames[k] {
			return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", k)
		}
	}
	for _, k := range sortedKeys(e.values) {
		if !e.usedValues[k] {
			return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", k)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type parser struct {
	what string // "ConditionExpression", … for messages
	toks []token
	i    int
	env  *exprEnv
}

// syntaxError is raised inside the parser and turned into a
// ValidationException at its entry points.
type syntaxError struct{ msg string }

func (p *parser) fail(format string, args ...any) {
	panic(syntaxError{fmt.Sprintf(format, args...)})
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i = min(p.i+1, len(p.toks)-1); return t }

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == 'i' && strings.EqualFold(t.text, kw)
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == 'p' && t.text == s
}

func (p *parser) expect(s string) {
	t := p.next()
	if t.kind != 'p' || t.text != s {
		p.unexpected(t)
	}
}

func (p *parser) unexpected(t token) {
	if t.kind == 0 {
		p.fail("Invalid %s: Syntax error; token: <EOF>, near: end of expression", p.what)
	}
	p.fail("Invalid %s: Syntax error; token: %q, near: position %d", p.what, t.text, t.pos)
}

// maxExpr is DynamoDB's limit on one expression's length; it also bounds
// the parser's recursion depth.
const maxExpr = 4096

// run calls fn, converting a syntaxError panic into a ValidationException.
func (p *parser) run(src string, fn func()) (err error) {
	if len(src) > maxExpr {
		return validation("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", p.what, len(src))
	}
	toks, msg := tokenize(src)
	if msg != "" {
		return validation("Invalid %s: %s", p.what, msg)
	}
	p.toks, p.i = toks, 0
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			err = validation("%s", se.msg)
		}
	}()
	fn()
	if t := p.peek(); t.kind != 0 {
		p.unexpected(t)
	}
	return nil
}

func (p *parser) path() docPath {
	var out docPath
	name := func() string {
		t := p.next()
		switch t.kind {
		case '#':
			v, ok := p.env.names[t.text]
			if !ok {
				p.fail("Invalid %s: An expression attribute name used in the document path is not defined; attribute name: %s", p.what, t.text)
			}
			p.env.usedNames[t.text] = true
			return v
		case 'i':
			if reservedWords[strings.ToUpper(t.text)] {
				p.fail("Invalid %s: Attribute name is a reserved keyword; reserved keyword: %s", p.what, t.text)
			}
			return t.text
		}
		p.unexpected(t)
		return ""
	}
	out = append(out, pathElem{name: name()})
	for {
		switch {
		case p.isPunct("."):
			p.next()
			out = append(out, pathElem{name: name()})
		case p.isPunct("["):
			p.next()
			t := p.next()
			if t.kind != 'n' {
				p.unexpected(t)
			}
			n, err := strconv.Atoi(t.text)
			if err != nil {
				p.fail("Invalid %s: list index %s out of range", p.what, t.text)
			}
			p.expect("]")
			out = append(out, pathElem{index: n, isIndex: true})
		default:
			return out
		}
	}
}

func (p *parser) value() *AV {
	t := p.next()
	v, ok := p.env.values[t.text]
	if !ok {
		p.fail("Invalid %s: An expression attribute value used in expression is not defined; attribute value: %s", p.what, t.text)
	}
	p.env.usedValues[t.text] = true
	return v
}

// operand parses a path, a :value or size(path); with update set, also the
// SET right-hand forms (+, -, list_append, if_not_exists).
func (p *parser) operand(update bool) *operand {
	o := p.operandTerm(update)
	for update && (p.isPunct("+") || p.isPunct("-")) {
		kind := oPlus
		if p.next().text == "-" {
			kind = oMinus
		}
		o = &operand{kind: kind, args: []*operand{o, p.operandTerm(update)}}
	}
	return o
}

func (p *parser) operandTerm(update bool) *operand {
	t := p.peek()
	switch {
	case t.kind == ':':
		return &operand{kind: oValue, value: p.value()}
	case t.kind == 'i' && p.toks[p.i+1].kind == 'p' && p.toks[p.i+1].text == "(":
		fn := strings.ToLower(t.text)
		p.next()
		p.next()
		switch {
		case fn == "size":
			o := &operand{kind: oSize, args: []*operand{{kind: oPath, path: p.path()}}}
			p.expect(")")
			return o
		case update && fn == "list_append":
			a := p.operand(true)
			p.expect(",")
			b := p.operand(true)
			p.expect(")")
			return &operand{kind: oListAppend, args: []*operand{a, b}}
		case update && fn == "if_not_exists":
			a := &operand{kind: oPath, path: p.path()}
			p.expect(",")
			b := p.operand(true)
			p.expect(")")
			return &operand{kind: oIfNotExists, args: []*operand{a, b}}
		}
		p.fail("Invalid %s: Invalid function name; function: %s", p.what, t.text)
	}
	return &operand{kind: oPath, path: p.path()}
}

func (p *parser) orCond() *cond {
	c := p.andCond()
	for p.isKeyword("OR") {
		p.next()
		c = &cond{kind: cOr, left: c, right: p.andCond()}
	}
	return c
}

func (p *parser) andCond() *cond {
	c := p.notCond()
	for p.isKeyword("AND") {
		p.next()
		c = &cond{kind: cAnd, left: c, right: p.notCond()}
	}
	return c
}

func (p *parser) notCond() *cond {
	if p.isKeyword("NOT") {
		p.next()
		return &cond{kind: cNot, left: p.notCond()}
	}
	return p.primary()
}

var condFuncs = map[string]int{
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2,
}

func (p *parser) primary() *cond {
	if p.isPunct("(") {
		p.next()
		c := p.orCond()
		p.expect(")")
		return c
	}
	t := p.peek()
	if n, ok := condFuncs[strings.ToLower(t.text)]; ok && t.kind == 'i' && p.toks[p.i+1].text == "(" {
		p.next()
		p.next()
		c := &cond{kind: cFunc, op: strings.ToLower(t.text)}
		for i := range n {
			if i > 0 {
				p.expect(",")
			}
			if i == 0 {
				c.args = append(c.args, &operand{kind: oPath, path: p.path()})
			} else {
				c.args = append(c.args, p.operand(false))
			}
		}
		p.expect(")")
		return c
	}
	left := p.operand(false)
	switch {
	case p.isKeyword("BETWEEN"):
		p.next()
		lo := p.operand(false)
		if !p.isKeyword("AND") {
			p.unexpected(p.peek())
		}
		p.next()
		return &cond{kind: cBetween, args: []*operand{left, lo, p.operand(false)}}
	case p.isKeyword("IN"):
		p.next()
		p.expect("(")
		c := &cond{kind: cIn, args: []*operand{left, p.operand(false)}}
		for p.isPunct(",") {
			p.next()
			c.args = append(c.args, p.operand(false))
		}
		p.expect(")")
		return c
	}
	t = p.next()
	switch t.text {
	case "=", "<>", "<", "<=", ">", ">=":
		if t.kind == 'p' {
			return &cond{kind: cCmp, op: t.text, args: []*operand{left, p.operand(false)}}
		}
	}
	p.unexpected(t)
	return nil
}

// parseCondition parses a condition, filter or key-condition expression.
func parseCondition(what, src string, env *exprEnv) (*cond, error) {
	if strings.TrimSpace(src) == "" {
		return nil, validation("Invalid %s: The expression can not be empty;", what)
	}
	p := &parser{what: what, env: env}
	var c *cond
	err := p.run(src, func() { c = p.orCond() })
	return c, err
}

// parseProjection parses a ProjectionExpression into paths.
func parseProjection(src string, env *exprEnv) ([]docPath, error) {
	p := &parser{what: "ProjectionExpression", env: env}
	var out []docPath
	err := p.run(src, func() {
		out = append(out, p.path())
		for p.isPunct(",") {
			p.next()
			out = append(out, p.path())
		}
	})
	return out, err
}

// updateAction is one SET, REMOVE, ADD or DELETE action.
type updateAction struct {
	verb  string
	path  docPath
	value *operand
}

func parseUpdate(src string, env *exprEnv) ([]updateAction, error) {
	p := &parser{what: "UpdateExpression", env: env}
	var out []updateAction
	err := p.run(src, func() {
		seen := map[string]bool{}
		for p.peek().kind != 0 {
			t := p.next()
			verb := strings.ToUpper(t.text)
			if t.kind != 'i' || (verb != "SET" && verb != "REMOVE" && verb != "ADD" && verb != "DELETE") {
				p.unexpected(t)
			}
			if seen[verb] {
				p.fail("Invalid UpdateExpression: The \"%s\" section can only be used once in an update expression;", verb)
			}
			seen[verb] = true
			for {
				a := updateAction{verb: verb, path: p.path()}
				switch verb {
				case "SET":
					p.expect("=")
					a.value = p.operand(true)
				case "ADD", "DELETE":
					a.value = &operand{kind: oValue, value: p.value()}
				}
				out = append(out, a)
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
		}
	})
	if err == nil && len(out) == 0 {
		err = validation("Invalid UpdateExpression: The expression can not be empty;")
	}
	return out, err
}

// get resolves a document path in item; nil when absent.
func get(item Item, p docPath) *AV {
	if len(p) == 0 || p[0].isIndex {
		return nil
	}
	cur := item[p[0].name]
	for _, e := range p[1:] {
		if cur == nil {
			return nil
		}
		switch {
		case e.isIndex && cur.kind == kindL:
			if e.index >= len(cur.L) {
				return nil
			}
			cur = cur.L[e.index]
		case !e.isIndex && cur.kind == kindM:
			cur = cur.M[e.name]
		default:
			return nil
		}
	}
	return cur
}

// evalOperand computes an operand's value against item; nil when a path is
// absent. Errors are ValidationExceptions about operand types.
func evalOperand(o *operand, item Item) (*AV, error) {
	switch o.kind {
	case oValue:
		return o.value, nil
	case oPath:
		return get(item, o.path), nil
	case oSize:
		v := get(item, o.args[0].path)
		if v == nil {
			return nil, nil
		}
		var n int
		switch v.kind {
		case kindS:
			n = utf8.RuneCountInString(*v.S)
		case kindB:
			n = len(v.B)
		case kindM:
			n = len(v.M)
		case kindL:
			n = len(v.L)
		case kindSS, kindNS, kindBS:
			n = v.setLen()
		default:
			return nil, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: %s", v.typeName())
		}
		return numAV(strconv.Itoa(n)), nil
	case oIfNotExists:
		if v := get(item, o.args[0].path); v != nil {
			return v, nil
		}
		return evalOperand(o.args[1], item)
	case oListAppend:
		a, err := evalOperand(o.args[0], item)
		if err != nil {
			return nil, err
		}
		b, err := evalOperand(o.args[1], item)
		if err != nil {
			return nil, err
		}
		if a == nil || b == nil || a.kind != kindL || b.kind != kindL {
			return nil, validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: %s", typeOf(a, b, kindL))
		}
		l := make([]*AV, 0, len(a.L)+len(b.L))
		l = append(append(l, a.L...), b.L...)
		return &AV{L: l, kind: kindL}, nil
	case oPlus, oMinus:
		a, err := evalOperand(o.args[0], item)
		if err != nil {
			return nil, err
		}
		b, err := evalOperand(o.args[1], item)
		if err != nil {
			return nil, err
		}
		if a == nil || b == nil {
			return nil, validation("The provided expression refers to an attribute that does not exist in the item")
		}
		if a.kind != kindN || b.kind != kindN {
			return nil, validation("An operand in the update expression has an incorrect data type")
		}
		r := new(big.Rat)
		if o.kind == oPlus {
			r.Add(parseNum(*a.N), parseNum(*b.N))
		} else {
			r.Sub(parseNum(*a.N), parseNum(*b.N))
		}
		return numAV(formatRat(r)), nil
	}
	return nil, validation("unknown operand")
}

func typeOf(a, b *AV, want byte) string {
	for _, v := range []*AV{a, b} {
		if v == nil {
			return "NULL"
		}
		if v.kind != want {
			return v.typeName()
		}
	}
	return kindNames[want]
}

// evalCond evaluates c against item (nil or empty for a missing item).
func evalCond(c *cond, item Item) (bool, error) {
	switch c.kind {
	case cAnd, cOr:
		l, err := evalCond(c.left, item)
		if err != nil {
			return false, err
		}
		if c.kind == cAnd && !l {
			return false, nil
		}
		if c.kind == cOr && l {
			return true, nil
		}
		return evalCond(c.right, item)
	case cNot:
		v, err := evalCond(c.left, item)
		return !v, err
	}
	vals := make([]*AV, len(c.args))
	for i, a := range c.args {
		v, err := evalOperand(a, item)
		if err != nil {
			return false, err
		}
		vals[i] = v
	}
	switch c.kind {
	case cCmp:
		switch c.op {
		case "=":
			return equalAV(vals[0], vals[1]), nil
		case "<>":
			return vals[0] != nil && vals[1] != nil && !equalAV(vals[0], vals[1]), nil
		}
		cmp, ok := compareAV(vals[0], vals[1])
		if !ok {
			return false, nil
		}
		switch c.op {
		case "<":
			return cmp < 0, nil
		case "<=":
			return cmp <= 0, nil
		case ">":
			return cmp > 0, nil
		default:
			return cmp >= 0, nil
		}
	case cBetween:
		if lo, hi := vals[1], vals[2]; lo != nil && hi != nil && lo.kind == hi.kind {
			if c, ok := compareAV(lo, hi); ok && c > 0 {
				return false, validation("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
			}
		}
		a, ok1 := compareAV(vals[0], vals[1])
		b, ok2 := compareAV(vals[0], vals[2])
		return ok1 && ok2 && a >= 0 && b <= 0, nil
	case cIn:
		for _, v := range vals[1:] {
			if equalAV(vals[0], v) {
				return true, nil
			}
		}
		return false, nil
	}
	// functions
	v := vals[0]
	switch c.op {
	case "attribute_exists":
		return v != nil, nil
	case "attribute_not_exists":
		return v == nil, nil
	case "attribute_type":
		if vals[1] == nil || vals[1].kind != kindS {
			return false, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type")
		}
		return v != nil && v.typeName() == *vals[1].S, nil
	case "begins_with":
		p := vals[1]
		if p == nil || (p.kind != kindS && p.kind != kindB) {
			return false, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with")
		}
		if v == nil || v.kind != p.kind {
			return false, nil
		}
		if v.kind == kindS {
			return strings.HasPrefix(*v.S, *p.S), nil
		}
		return bytes.HasPrefix(v.B, p.B), nil
	case "contains":
		x := vals[1]
		if v == nil || x == nil {
			return false, nil
		}
		switch v.kind {
		case kindS:
			return x.kind == kindS && strings.Contains(*v.S, *x.S), nil
		case kindB:
			return x.kind == kindB && bytes.Contains(v.B, x.B), nil
		case kindSS, kindNS, kindBS:
			if kindNames[x.kind] != v.typeName()[:1] {
				return false, nil
			}
			k := keyString(x)[1:]
			for _, m := range setKeys(v) {
				if m == k {
					return true, nil
				}
			}
		case kindL:
			for _, e := range v.L {
				if equalAV(e, x) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return false, validation("unknown function %s", c.op)
}

// project returns only the given paths of item, keeping their nesting.
func project(item Item, paths []docPath) Item {
	if paths == nil || item == nil {
		return item
	}
	out := Item{}
	for _, p := range paths {
		v := get(item, p)
		if v == nil {
			continue
		}
		if len(p) == 1 {
			out[p[0].name] = v
			continue
		}
		// Nested paths keep their parents; list elements are compacted,
		// as DynamoDB does.
		setPath(out, p, v.clone(), true)
	}
	return out
}
