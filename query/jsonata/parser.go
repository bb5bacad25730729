package jsonata

// The parser is a Pratt (top-down operator precedence) parser, as jsonata-js
// uses, in two passes: parse builds a raw tree whose shape follows the
// operators; process (ast.go) then turns it into the tree the evaluator runs:
// paths as step lists, predicates as stages, ancestry slots resolved.

// node is a syntax tree node, raw or processed.
type node struct {
	typ   string // raw: binary, unary, name, variable, string, number, value, regex, function, partial, lambda, condition, block, transform, wildcard, descendant, parent, operator; processed adds path, bind, apply, sort
	op    string // operator or name or variable name
	value any    // literal value
	pos   int

	lhs, rhs *node
	expr     *node   // unary operand
	exprs    []*node // array constructor items, block expressions
	pairs    [][2]*node
	objLHS   bool // binary '{' (group-by on lhs)
	terms    []sortTerm

	procedure *node
	args      []*node
	params    []string
	sig       *signature
	body      *node

	cond, then, els         *node
	pattern, update, delete *node

	steps     []*node
	stages    []*stage
	predicate []*stage
	group     *group

	keepArray          bool
	keepSingletonArray bool
	consarray          bool
	tuple              bool
	thunk              bool
	focus              string
	index              string
	ancestor           *slot
	slot               *slot
	seekingParent      []*slot
	re                 *regex
}

type sortTerm struct {
	descending bool
	expr       *node
}

type stage struct {
	typ   string // filter or index
	expr  *node
	index string
	pos   int
}

type group struct {
	pairs [][2]*node
	pos   int
}

// slot is a parent-operator (%) reference waiting to be bound to an ancestor step.
type slot struct {
	label string
	level int
	index int
}

type parser struct {
	lex   lexer
	tok   *token // current token
	sym   string // symbol id of the current token
	depth int
}

// maxNesting bounds how deeply expressions nest, so that a hostile source
// cannot exhaust the Go stack while parsing.
const maxNesting = 1000

func (p *parser) fail(code string, pos int, tok any, val any) {
	e := &Error{Code: code, Position: pos, Value: val}
	switch t := tok.(type) {
	case string:
		e.Token = t
	case nil:
	default:
		e.Token = toJSString(t)
	}
	panic(e)
}

// advance moves to the next token, checking that the current one is id if
// id is not empty.
func (p *parser) advance(id string, infix bool) {
	if id != "" && p.sym != id {
		code := "S0202"
		if p.sym == "(end)" {
			code = "S0203"
		}
		p.fail(code, p.tok.pos, p.tokValue(), id)
	}
	t, err := p.lex.next(infix)
	if err != nil {
		panic(err)
	}
	if t == nil {
		p.tok = &token{kind: tokEnd, pos: len(p.lex.src)}
		p.sym = "(end)"
		return
	}
	p.tok = t
	switch t.kind {
	case tokName, tokVariable:
		p.sym = "(name)"
	case tokOperator:
		if _, ok := symbols[t.str]; !ok {
			p.fail("S0204", t.pos, t.str, nil)
		}
		p.sym = t.str
	case tokRegex:
		p.sym = "(regex)"
	default:
		p.sym = "(literal)"
	}
}

func (p *parser) tokValue() any {
	switch p.tok.kind {
	case tokEnd:
		return "(end)"
	case tokName, tokVariable, tokOperator:
		return p.tok.str
	case tokString:
		return p.tok.str
	}
	return p.tok.value
}

// symbols holds the left binding power of each operator symbol known to the
// parser; '!' and '~' are lexed but are not symbols.
var symbols = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80,
	";": 0, ":": 0, "?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 0, "=": 40,
	"<": 40, ">": 40, "^": 40, "**": 0, "..": 0, ":=": 10, "!=": 40, "<=": 40, ">=": 40,
	"~>": 40, "and": 30, "or": 25, "in": 40, "&": 50,
}

func (p *parser) lbp() int {
	switch p.sym {
	case "(end)", "(name)", "(literal)", "(regex)":
		return 0
	}
	return symbols[p.sym]
}

// current returns a node for the current token.
func (p *parser) current() *node {
	t := p.tok
	n := &node{pos: t.pos}
	switch t.kind {
	case tokEnd:
		n.typ = "(end)"
	case tokName:
		n.typ, n.op = "name", t.str
	case tokVariable:
		n.typ, n.op = "variable", t.str
	case tokOperator:
		n.typ, n.op = "operator", t.str
	case tokString:
		n.typ, n.value = "string", t.str
	case tokNumber:
		n.typ, n.value = "number", t.value
	case tokValue:
		n.typ, n.value = "value", t.value
	case tokRegex:
		n.typ, n.value = "regex", t.value
	}
	return n
}

func (p *parser) expression(rbp int) *node {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		p.fail("U1001", p.tok.pos, nil, nil)
	}
	t, sym := p.current(), p.sym
	p.advance("", true)
	left := p.nud(t, sym)
	for rbp < p.lbp() {
		t, sym = p.current(), p.sym
		p.advance("", false)
		left = p.led(t, sym, left)
	}
	return left
}

func (p *parser) nud(t *node, sym string) *node {
	switch sym {
	case "(name)", "(literal)", "(regex)", "and", "or", "in", "(end)":
		return t
	case "-":
		t.typ = "unary"
		t.expr = p.expression(70)
		return t
	case "*":
		t.typ = "wildcard"
		return t
	case "**":
		t.typ = "descendant"
		return t
	case "%":
		t.typ = "parent"
		return t
	case "(":
		var exprs []*node
		for p.sym != ")" {
			exprs = append(exprs, p.expression(0))
			if p.sym != ";" {
				break
			}
			p.advance(";", false)
		}
		p.advance(")", true)
		t.typ = "block"
		t.exprs = exprs
		return t
	case "[":
		var items []*node
		if p.sym != "]" {
			for {
				item := p.expression(0)
				if p.sym == ".." {
					r := &node{typ: "binary", op: "..", pos: p.tok.pos, lhs: item}
					p.advance("..", false)
					r.rhs = p.expression(0)
					item = r
				}
				items = append(items, item)
				if p.sym != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance("]", true)
		t.typ = "unary"
		t.exprs = items
		return t
	case "{":
		t.pairs = p.objectPairs()
		t.typ = "unary"
		return t
	case "|":
		t.typ = "transform"
		t.pattern = p.expression(0)
		p.advance("|", false)
		t.update = p.expression(0)
		if p.sym == "," {
			p.advance(",", false)
			t.delete = p.expression(0)
		}
		p.advance("|", false)
		return t
	}
	p.fail("S0211", t.pos, t.op, nil)
	return nil
}

func (p *parser) objectPairs() [][2]*node {
	var pairs [][2]*node
	if p.sym != "}" {
		for {
			k := p.expression(0)
			p.advance(":", false)
			v := p.expression(0)
			pairs = append(pairs, [2]*node{k, v})
			if p.sym != "," {
				break
			}
			p.advance(",", false)
		}
	}
	p.advance("}", true)
	return pairs
}

func (p *parser) led(t *node, sym string, left *node) *node {
	bp := symbols[sym]
	switch sym {
	case ".", "+", "-", "*", "/", "%", "=", "<", ">", "!=", "<=", ">=", "&", "and", "or", "in", "~>":
		t.typ = "binary"
		t.lhs = left
		t.rhs = p.expression(bp)
		return t
	case "(":
		t.procedure = left
		t.typ = "function"
		if p.sym != ")" {
			for {
				if p.tok.kind == tokOperator && p.sym == "?" {
					t.typ = "partial"
					t.args = append(t.args, &node{typ: "operator", op: "?", pos: p.tok.pos})
					p.advance("?", false)
				} else {
					t.args = append(t.args, p.expression(0))
				}
				if p.sym != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance(")", true)
		if left.typ == "name" && (left.op == "function" || left.op == "λ") {
			for i, a := range t.args {
				if a.typ != "variable" {
					p.fail("S0208", a.pos, nodeToken(a), i+1)
				}
				t.params = append(t.params, a.op)
			}
			t.typ = "lambda"
			if p.sym == "<" {
				sigPos := p.tok.pos
				depth := 1
				sig := "<"
				for depth > 0 && p.sym != "{" && p.sym != "(end)" {
					p.advance("", false)
					if p.sym == ">" {
						depth--
					} else if p.sym == "<" {
						depth++
					}
					sig += tokenText(p.tok)
				}
				p.advance(">", false)
				s, err := parseSignature(sig)
				if err != nil {
					err.Position = sigPos + err.Position
					panic(err)
				}
				t.sig = s
			}
			p.advance("{", false)
			t.body = p.expression(0)
			p.advance("}", false)
		}
		return t
	case "[":
		if p.sym == "]" {
			step := left
			for step != nil && step.typ == "binary" && step.op == "[" {
				step = step.lhs
			}
			step.keepArray = true
			p.advance("]", false)
			return left
		}
		t.typ = "binary"
		t.lhs = left
		t.rhs = p.expression(0)
		p.advance("]", true)
		return t
	case "^":
		p.advance("(", false)
		var terms []sortTerm
		for {
			term := sortTerm{}
			if p.sym == "<" {
				p.advance("<", false)
			} else if p.sym == ">" {
				term.descending = true
				p.advance(">", false)
			}
			term.expr = p.expression(0)
			terms = append(terms, term)
			if p.sym != "," {
				break
			}
			p.advance(",", false)
		}
		p.advance(")", false)
		t.typ = "binary"
		t.lhs = left
		t.terms = terms
		return t
	case "{":
		t.typ = "binary"
		t.lhs = left
		t.pairs = p.objectPairs()
		t.objLHS = true
		return t
	case ":=":
		if left.typ != "variable" {
			p.fail("S0212", left.pos, nodeToken(left), nil)
		}
		t.typ = "binary"
		t.lhs = left
		t.rhs = p.expression(bp - 1)
		return t
	case "@", "#":
		t.typ = "binary"
		t.lhs = left
		t.rhs = p.expression(bp)
		if t.rhs.typ != "variable" {
			p.fail("S0214", t.rhs.pos, sym, nil)
		}
		return t
	case "?":
		t.typ = "condition"
		t.cond = left
		t.then = p.expression(0)
		if p.sym == ":" {
			p.advance(":", false)
			t.els = p.expression(0)
		}
		return t
	}
	// symbols with binding power but no infix meaning cannot get here
	p.fail("S0201", t.pos, sym, nil)
	return nil
}

// tokenText is the text a token contributes to a lambda signature.
func tokenText(t *token) string {
	switch t.kind {
	case tokName, tokOperator:
		return t.str
	case tokVariable:
		return "$" + t.str
	case tokString:
		return t.str
	}
	return ""
}

func nodeToken(n *node) any {
	switch n.typ {
	case "string", "number", "value":
		return n.value
	}
	return n.op
}

// parse compiles src into a processed tree.
func parse(src string) (root *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			root, err = nil, e
		}
	}()
	p := &parser{lex: lexer{src: wtf8Runes(src)}}
	p.advance("", false)
	raw := p.expression(0)
	if p.sym != "(end)" {
		p.fail("S0201", p.tok.pos, p.tokValue(), nil)
	}
	a := &astProcessor{}
	root = a.process(raw)
	if root.typ == "parent" || root.seekingParent != nil {
		a.fail("S0217", root.pos, root.typ, nil)
	}
	return root, nil
}
