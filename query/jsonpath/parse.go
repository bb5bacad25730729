package jsonpath

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNesting bounds filter nesting so hostile input cannot exhaust the stack.
const maxNesting = 100

// parser is a hand-written recursive-descent parser over the source text.
// Paths in filters ("@.a", "$.b") reuse it with inFilter set, where names
// also stop at operator characters.
type parser struct {
	src   string
	pos   int
	depth int
}

func (p *parser) fail(at int, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

// path parses a whole top-level expression.
func (p *parser) path() (*Path, error) {
	if !strings.HasPrefix(p.src, "$") {
		return nil, p.fail(0, "a path must start with '$'")
	}
	path := &Path{src: p.src}
	p.pos = 1
	switch {
	case p.peek() == '$':
		path.root = RootContext
		p.pos++
	case !p.eof() && p.peek() != '.' && p.peek() != '[':
		start := p.pos
		for !p.eof() && p.peek() != '.' && p.peek() != '[' {
			c := p.peek()
			if c == ' ' || c == '(' || c == ')' || c == '\'' || c == '"' || c == ',' {
				return nil, p.fail(p.pos, "unexpected %q in variable name", c)
			}
			p.pos++
		}
		path.root = RootVariable
		path.varName = p.src[start:p.pos]
	}
	if err := p.segments(path, false); err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.fail(p.pos, "unexpected %q", p.peek())
	}
	path.finish()
	return path, nil
}

// finish computes the derived properties once, so Get does no work for them.
func (p *Path) finish() {
	p.definite = true
	p.reference = p.fn == ""
	for i := range p.segs {
		s := &p.segs[i]
		leaf := i == len(p.segs)-1
		switch {
		case s.deep:
			p.definite = false
		case s.kind == segName, s.kind == segIndex:
		case s.kind == segNames && leaf:
		default:
			p.definite = false
		}
		if s.deep || !(s.kind == segName || (s.kind == segIndex && s.index >= 0)) {
			p.reference = false
		}
	}
	var b strings.Builder
	b.WriteString(p.normalizedPrefix(len(p.segs)))
	if p.fn != "" {
		b.WriteString("." + p.fn + "()")
	}
	p.norm = b.String()
}

// functions Jayway offers at the end of a path that make sense on our data.
var functions = map[string]bool{
	"length": true, "size": true, "min": true, "max": true, "avg": true,
	"sum": true, "stddev": true, "first": true, "last": true, "keys": true,
}

// segments parses steps until something that is not a step; in a filter
// that is where the operand ends.
func (p *parser) segments(path *Path, inFilter bool) error {
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '.' && strings.HasPrefix(p.src[p.pos:], ".."):
			p.pos += 2
			switch p.peek() {
			case '[':
				s, err := p.bracket()
				if err != nil {
					return err
				}
				s.deep = true
				path.segs = append(path.segs, s)
			case '*':
				p.pos++
				path.segs = append(path.segs, segment{kind: segWild, deep: true})
			default:
				name, err := p.dotName(inFilter)
				if err != nil {
					return err
				}
				path.segs = append(path.segs, segment{kind: segName, name: name, deep: true})
			}
		case c == '.':
			p.pos++
			if p.peek() == '*' {
				p.pos++
				path.segs = append(path.segs, segment{kind: segWild})
				continue
			}
			at := p.pos
			name, err := p.dotName(inFilter)
			if err != nil {
				return err
			}
			if p.peek() == '(' {
				if !functions[name] {
					return p.fail(at, "unknown function %s()", name)
				}
				p.pos++
				p.skipSpace()
				if p.peek() != ')' {
					return p.fail(p.pos, "function %s() takes no arguments", name)
				}
				p.pos++
				path.fn = name
				if !p.eof() && !inFilter {
					return p.fail(p.pos, "a function must end the path")
				}
				return nil
			}
			path.segs = append(path.segs, segment{kind: segName, name: name})
		case c == '[':
			s, err := p.bracket()
			if err != nil {
				return err
			}
			path.segs = append(path.segs, s)
		default:
			if inFilter {
				return nil
			}
			return p.fail(p.pos, "unexpected %q; want '.' or '['", c)
		}
	}
	return nil
}

// dotName reads a property name in dot notation. Like Jayway it takes any
// character up to '.', '[' or '(' and rejects blanks (and a stray ']'); in a filter it also
// stops at operator characters.
func (p *parser) dotName(inFilter bool) (string, error) {
	start := p.pos
	for !p.eof() {
		c := p.peek()
		if c == '.' || c == '[' || c == '(' || c == ']' {
			break
		}
		if inFilter && strings.IndexByte(" \t\n\r)]<>=!&|,", c) >= 0 {
			break
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return "", p.fail(p.pos, "use bracket notation ['my prop'] for names with blanks")
		}
		p.pos++
	}
	if p.pos == start {
		return "", p.fail(start, "want a property name")
	}
	return p.src[start:p.pos], nil
}

// bracket parses [...] starting at '['.
func (p *parser) bracket() (segment, error) {
	open := p.pos
	p.pos++ // [
	p.skipSpace()
	var s segment
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		for {
			name, err := p.quoted()
			if err != nil {
				return s, err
			}
			s.names = append(s.names, name)
			p.skipSpace()
			if p.peek() != ',' {
				break
			}
			p.pos++
			p.skipSpace()
			if c := p.peek(); c != '\'' && c != '"' {
				return s, p.fail(p.pos, "want a quoted name after ','")
			}
		}
		if len(s.names) == 1 {
			s.kind, s.name, s.names = segName, s.names[0], nil
		} else {
			s.kind = segNames
		}
	case c == '*':
		p.pos++
		s.kind = segWild
	case c == '?':
		p.pos++
		p.skipSpace()
		n, err := p.orExpr()
		if err != nil {
			return s, err
		}
		s.kind, s.filter = segFilter, n
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		if err := p.indexes(&s); err != nil {
			return s, err
		}
	case c == 0:
		return s, p.fail(p.pos, "unterminated '['")
	default:
		return s, p.fail(p.pos, "unexpected %q after '['", c)
	}
	p.skipSpace()
	if p.peek() != ']' {
		if p.eof() {
			return s, p.fail(open, "unterminated '['")
		}
		return s, p.fail(p.pos, "want ']', got %q", p.peek())
	}
	p.pos++
	return s, nil
}

// indexes parses [n], [n,m,...] and slices [a:b], [a:], [:b], [a:b:step].
func (p *parser) indexes(s *segment) error {
	first, hasFirst, err := p.optInt()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.peek() == ':' {
		p.pos++
		p.skipSpace()
		s.kind, s.step = segSlice, 1
		s.from, s.hasFrom = first, hasFirst
		if s.to, s.hasTo, err = p.optInt(); err != nil {
			return err
		}
		p.skipSpace()
		if p.peek() == ':' {
			p.pos++
			p.skipSpace()
			at := p.pos
			step, ok, err := p.optInt()
			if err != nil {
				return err
			}
			if ok {
				if step <= 0 {
					return p.fail(at, "slice step must be positive")
				}
				s.step = step
			}
		}
		return nil
	}
	if !hasFirst {
		return p.fail(p.pos, "want an index")
	}
	s.kind, s.index = segIndex, first
	for p.skipSpace(); p.peek() == ','; p.skipSpace() {
		p.pos++
		p.skipSpace()
		n, ok, err := p.optInt()
		if err != nil {
			return err
		}
		if !ok {
			return p.fail(p.pos, "want an index after ','")
		}
		if s.kind == segIndex {
			s.kind, s.indexes = segIndexes, []int{s.index}
		}
		s.indexes = append(s.indexes, n)
	}
	return nil
}

// optInt reads an optional integer.
func (p *parser) optInt() (int, bool, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
		p.pos++
	}
	text := p.src[start:p.pos]
	if text == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		return 0, false, p.fail(start, "bad index %q", text)
	}
	return n, true, nil
}

// quoted reads a '…' or "…" string with backslash escapes.
func (p *parser) quoted() (string, error) {
	quote := p.peek()
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.fail(start, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return b.String(), nil
		case c == '\\':
			p.pos++
			if p.eof() {
				return "", p.fail(start, "unterminated string")
			}
			e := p.src[p.pos]
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.pos+4 > len(p.src) {
					return "", p.fail(p.pos, "bad \\u escape")
				}
				r, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return "", p.fail(p.pos, "bad \\u escape")
				}
				p.pos += 4
				b.WriteRune(rune(r))
			default:
				b.WriteByte(e)
			}
		default:
			_, size := utf8.DecodeRuneInString(p.src[p.pos:])
			b.WriteString(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

// orExpr := andExpr ('||' andExpr)*
func (p *parser) orExpr() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, p.fail(p.pos, "filter nested too deeply")
	}
	left, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.skipSpace(); strings.HasPrefix(p.src[p.pos:], "||"); p.skipSpace() {
		p.pos += 2
		right, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		left = &orNode{left, right}
	}
	return left, nil
}

// andExpr := unary ('&&' unary)*
func (p *parser) andExpr() (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.skipSpace(); strings.HasPrefix(p.src[p.pos:], "&&"); p.skipSpace() {
		p.pos += 2
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &andNode{left, right}
	}
	return left, nil
}

// unary := '!' unary | '(' orExpr ')' | comparison
func (p *parser) unary() (node, error) {
	p.skipSpace()
	switch p.peek() {
	case '!':
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, p.fail(p.pos, "filter nested too deeply")
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{n}, nil
	case '(':
		open := p.pos
		p.pos++
		n, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return nil, p.fail(open, "unbalanced '('")
		}
		p.pos++
		return n, nil
	}
	return p.comparison()
}

// comparison operators, longest first so "<=" wins over "<".
var symbolOps = []string{"==", "!=", "<=", ">=", "=~", "<", ">"}
var wordOps = []string{"nin", "in", "contains", "size", "empty", "subsetof", "anyof", "noneof"}

func (p *parser) comparison() (node, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	op := ""
	for _, o := range symbolOps {
		if strings.HasPrefix(p.src[p.pos:], o) {
			op = o
			break
		}
	}
	if op == "" {
		for _, o := range wordOps {
			rest := p.src[p.pos:]
			if strings.HasPrefix(rest, o) && (len(rest) == len(o) || !isWordChar(rest[len(o)])) {
				op = o
				break
			}
		}
	}
	if op == "" {
		return &cmpNode{left: left}, nil
	}
	p.pos += len(op)
	p.skipSpace()
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	if op == "=~" && right.re == nil {
		return nil, p.fail(p.pos, "=~ wants a /regex/ on the right")
	}
	return &cmpNode{left: left, op: op, right: right}, nil
}

func isWordChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// operand := '@' steps | '$' steps | literal | /regex/
func (p *parser) operand() (operand, error) {
	p.skipSpace()
	start := p.pos
	switch c := p.peek(); {
	case c == '@' || c == '$':
		p.pos++
		path := &Path{src: p.src}
		if c == '$' && p.peek() == '$' {
			return operand{}, p.fail(start, "$$ is not allowed in a filter")
		}
		if err := p.segments(path, true); err != nil {
			return operand{}, err
		}
		path.src = p.src[start:p.pos]
		path.finish()
		return operand{path: path, absolute: c == '$'}, nil
	case c == '/':
		return p.regex()
	}
	v, err := p.literal()
	if err != nil {
		return operand{}, err
	}
	return operand{lit: v, isLit: true}, nil
}

// literal parses a number, quoted string, true/false/null or a [..] list.
func (p *parser) literal() (any, error) {
	p.skipSpace()
	start := p.pos
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		return p.quoted()
	case c == '-' || (c >= '0' && c <= '9'):
		if c == '-' {
			p.pos++
		}
		for !p.eof() && strings.IndexByte("0123456789.eE+-", p.peek()) >= 0 {
			if (p.peek() == '+' || p.peek() == '-') && !(p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') {
				break
			}
			p.pos++
		}
		f, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, p.fail(start, "bad number %q", p.src[start:p.pos])
		}
		return f, nil
	case c == '[':
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, p.fail(p.pos, "literal nested too deeply")
		}
		list := []any{}
		p.skipSpace()
		if p.peek() == ']' {
			p.pos++
			return list, nil
		}
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.skipSpace()
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return list, nil
			default:
				return nil, p.fail(p.pos, "want ',' or ']' in list")
			}
		}
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		rest := p.src[p.pos:]
		if strings.HasPrefix(rest, w.word) && (len(rest) == len(w.word) || !isWordChar(rest[len(w.word)])) {
			p.pos += len(w.word)
			return w.v, nil
		}
	}
	if p.eof() {
		return nil, p.fail(start, "unexpected end of filter")
	}
	return nil, p.fail(start, "unexpected %q in filter", p.peek())
}

// regex parses /pattern/flags. Jayway uses Java's Matcher.matches, a match
// of the whole string, so the pattern is anchored.
func (p *parser) regex() (operand, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return operand{}, p.fail(start, "unterminated regex")
		}
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/' {
			b.WriteByte('/')
			p.pos += 2
			continue
		}
		if c == '\\' && p.pos+1 < len(p.src) {
			b.WriteString(p.src[p.pos : p.pos+2])
			p.pos += 2
			continue
		}
		p.pos++
		if c == '/' {
			break
		}
		b.WriteByte(c)
	}
	flags := ""
	for !p.eof() && strings.IndexByte("imsx", p.peek()) >= 0 {
		if p.peek() != 'x' {
			flags += string(p.peek())
		}
		p.pos++
	}
	pat := "^(?:" + b.String() + ")$"
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return operand{}, p.fail(start, "bad regex: %v", err)
	}
	return operand{re: re}, nil
}
