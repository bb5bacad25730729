package intrinsic

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/posluha/posluha/query/jsonpath"
)

// maxDepth bounds nesting of calls so hostile input cannot exhaust the stack.
const maxDepth = 50

type parser struct {
	src   string
	pos   int
	depth int
}

func (p *parser) fail(at int, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

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

// Compile parses expr, e.g. "States.Format('Hello {}', $.name)". Errors are
// *SyntaxError; they include unknown functions and wrong argument counts,
// which AWS rejects when the definition is created.
func Compile(expr string) (*Call, error) {
	p := &parser{src: expr}
	c, err := p.call()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.fail(p.pos, "unexpected %q after the call", p.peek())
	}
	return c, nil
}

func (p *parser) call() (*Call, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.fail(p.pos, "calls nested too deeply")
	}
	start := p.pos
	if !strings.HasPrefix(p.src[p.pos:], "States.") {
		return nil, p.fail(p.pos, "want a States.<Function>(…) call")
	}
	p.pos += len("States.")
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	fn, ok := functions[name]
	if !ok {
		return nil, p.fail(start, "unknown intrinsic function %s", name)
	}
	p.skipSpace()
	if p.peek() != '(' {
		return nil, p.fail(p.pos, "want '(' after %s", name)
	}
	open := p.pos
	p.pos++
	c := &Call{name: name, fn: fn}
	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.skipSpace()
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if p.peek() == ')' {
				p.pos++
				break
			}
			if p.pos >= len(p.src) {
				return nil, p.fail(open, "unclosed '(' of %s", name)
			}
			return nil, p.fail(p.pos, "want ',' or ')' in %s, got %q", name, p.peek())
		}
	}
	c.src = p.src[start:p.pos]
	if n := len(c.args); n < fn.minArgs || (fn.maxArgs >= 0 && n > fn.maxArgs) {
		return nil, p.fail(start, "%s takes %s, got %d", name, fn.arity(), n)
	}
	if fn.check != nil {
		if msg := fn.check(c); msg != "" {
			return nil, p.fail(start, "%s", msg)
		}
	}
	return c, nil
}

func isIdentChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) arg() (arg, error) {
	start := p.pos
	switch c := p.peek(); {
	case c == '\'':
		return p.stringLit()
	case c == '$':
		return p.pathArg()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case strings.HasPrefix(p.src[p.pos:], "States."):
		call, err := p.call()
		if err != nil {
			return arg{}, err
		}
		return arg{kind: argCall, call: call}, nil
	case c == 0:
		return arg{}, p.fail(start, "unexpected end of input, want an argument")
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		rest := p.src[p.pos:]
		if strings.HasPrefix(rest, w.word) && (len(rest) == len(w.word) || !isIdentChar(rest[len(w.word)])) {
			p.pos += len(w.word)
			return arg{kind: argLiteral, lit: w.v}, nil
		}
	}
	return arg{}, p.fail(start, "unexpected %q, want an argument", p.peek())
}

// stringLit parses '…'. The escapes \' \{ \} \\ stand for the character;
// an unescaped {} is a placeholder for States.Format. A backslash before
// any other character is kept, so JSON text such as '{"a":"\"q\""}' stays
// intact for States.StringToJson.
func (p *parser) stringLit() (arg, error) {
	start := p.pos
	p.pos++
	var cur strings.Builder
	var tmpl []string
	for {
		if p.pos >= len(p.src) {
			return arg{}, p.fail(start, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '\'':
			p.pos++
			tmpl = append(tmpl, cur.String())
			return arg{kind: argLiteral, lit: strings.Join(tmpl, "{}"), tmpl: tmpl}, nil
		case c == '\\' && p.pos+1 < len(p.src) && strings.IndexByte(`'{}\`, p.src[p.pos+1]) >= 0:
			cur.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '{' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '}':
			tmpl = append(tmpl, cur.String())
			cur.Reset()
			p.pos += 2
		default:
			cur.WriteByte(c)
			p.pos++
		}
	}
}

// pathArg takes the text up to the ',' or ')' that ends the argument,
// skipping brackets, parentheses and quotes of the JSONPath itself, and
// compiles it.
func (p *parser) pathArg() (arg, error) {
	start := p.pos
	depth := 0
	var quote byte
loop:
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case quote != 0:
			if c == '\\' {
				p.pos++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			if depth == 0 {
				break loop
			}
			depth--
		case c == ',' && depth == 0:
			break loop
		}
		p.pos++
	}
	p.pos = min(p.pos, len(p.src)) // a trailing backslash in a quote steps past the end
	text := strings.TrimRight(p.src[start:p.pos], " \t\r\n")
	path, err := jsonpath.Compile(text)
	if err != nil {
		if se, ok := err.(*jsonpath.SyntaxError); ok {
			return arg{}, p.fail(start+se.Offset, "in path %s: %s", text, se.Msg)
		}
		return arg{}, p.fail(start, "in path %s: %v", text, err)
	}
	return arg{kind: argPath, path: path}, nil
}

func (p *parser) number() (arg, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
		c := p.src[p.pos]
		if (c == '+' || c == '-') && !(p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') {
			break
		}
		p.pos++
	}
	f, err := strconv.ParseFloat(p.src[start:p.pos], 64)
	if err != nil || math.IsInf(f, 0) {
		return arg{}, p.fail(start, "bad number %q", p.src[start:p.pos])
	}
	return arg{kind: argLiteral, lit: f}, nil
}
