package feel

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tStr
	tName     // plain name or keyword
	tBacktick // `quoted name` (Camunda extension)
	tOp       // punctuation and operators
)

// token is one lexeme; off and end are byte offsets into the source.
type token struct {
	kind tokKind
	text string // operator text, name, decoded string value or number text
	off  int
	end  int
}

// ops lists the operators longest first so that "**" wins over "*".
var ops = []string{"..", "!=", "<=", ">=", "**", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">", "+", "-", "*", "/", "?"}

// lex splits src[start:] into tokens. It fails (via fail) on characters
// FEEL does not use and on unterminated strings or comments.
func (p *parser) lex(start int) {
	src := p.src
	i := start
	for {
		// Skip whitespace and comments, which Camunda's FEEL accepts.
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			switch {
			case unicode.IsSpace(r):
				i += n
				continue
			case strings.HasPrefix(src[i:], "//"):
				j := strings.IndexByte(src[i:], '\n')
				if j < 0 {
					i = len(src)
				} else {
					i += j + 1
				}
				continue
			case strings.HasPrefix(src[i:], "/*"):
				j := strings.Index(src[i+2:], "*/")
				if j < 0 {
					p.fail(i, "unterminated comment", "close it with */")
				}
				i += 2 + j + 2
				continue
			}
			break
		}
		if i >= len(src) {
			p.toks = append(p.toks, token{kind: tEOF, off: len(src), end: len(src)})
			return
		}
		c := src[i]
		switch {
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			// A '.' is a fraction only when a digit follows, so 1..10 lexes
			// as 1, .., 10.
			if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
				j++
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			p.toks = append(p.toks, token{kind: tNum, text: src[i:j], off: i, end: j})
			i = j
		case c == '"':
			s, j := p.lexString(i)
			p.toks = append(p.toks, token{kind: tStr, text: s, off: i, end: j})
			i = j
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				p.fail(i, "unterminated `name`", "close the name with a backtick")
			}
			p.toks = append(p.toks, token{kind: tBacktick, text: src[i+1 : i+1+j], off: i, end: i + j + 2})
			i += j + 2
		case isNameStart(src[i:]):
			j := i
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
					break
				}
				j += n
			}
			p.toks = append(p.toks, token{kind: tName, text: src[i:j], off: i, end: j})
			i = j
		default:
			matched := false
			for _, op := range ops {
				if strings.HasPrefix(src[i:], op) {
					p.toks = append(p.toks, token{kind: tOp, text: op, off: i, end: i + len(op)})
					i += len(op)
					matched = true
					break
				}
			}
			if !matched {
				r, _ := utf8.DecodeRuneInString(src[i:])
				hint := ""
				switch r {
				case '\'':
					hint = "FEEL strings use double quotes"
				case '!':
					hint = "use not(...) for negation and != for inequality"
				case '&', '|':
					hint = "use the keywords 'and' / 'or'"
				}
				p.fail(i, "unexpected character "+quoteRune(r), hint)
			}
		}
	}
}

// lexString decodes the string literal starting at src[i] == '"'.
func (p *parser) lexString(i int) (string, int) {
	src := p.src
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch c {
		case '"':
			return b.String(), j + 1
		case '\\':
			if j+1 >= len(src) {
				p.fail(j, "unterminated string", "close the string with \"")
			}
			e := src[j+1]
			switch e {
			case '"', '\\', '\'', '/':
				b.WriteByte(e)
				j += 2
			case 'n':
				b.WriteByte('\n')
				j += 2
			case 'r':
				b.WriteByte('\r')
				j += 2
			case 't':
				b.WriteByte('\t')
				j += 2
			case 'u':
				r, n, ok := parseUnicodeEscape(src[j:])
				if !ok {
					p.fail(j, "bad \\u escape in string", "use \\uXXXX with four hex digits")
				}
				b.WriteRune(r)
				j += n
			default:
				p.fail(j, "unknown escape \\"+string(rune(e))+" in string", `supported escapes: \" \\ \n \r \t \uXXXX`)
			}
		default:
			r, n := utf8.DecodeRuneInString(src[j:])
			if r == utf8.RuneError && n == 1 {
				p.fail(j, "invalid UTF-8 in string", "")
			}
			b.WriteRune(r)
			j += n
		}
	}
	p.fail(i, "unterminated string", "close the string with \"")
	return "", 0
}

// parseUnicodeEscape reads \uXXXX (and a following low surrogate escape,
// if the first is a high surrogate).
func parseUnicodeEscape(s string) (rune, int, bool) {
	hex := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range s[2:6] {
			switch {
			case c >= '0' && c <= '9':
				r = r*16 + c - '0'
			case c >= 'a' && c <= 'f':
				r = r*16 + c - 'a' + 10
			case c >= 'A' && c <= 'F':
				r = r*16 + c - 'A' + 10
			default:
				return 0, false
			}
		}
		return r, true
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0, false
	}
	if r >= 0xD800 && r < 0xDC00 {
		if lo, ok := hex(s[6:]); ok && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12, true
		}
		return utf8.RuneError, 6, true
	}
	if r >= 0xDC00 && r < 0xE000 {
		return utf8.RuneError, 6, true
	}
	return r, 6, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

func quoteRune(r rune) string {
	if r == utf8.RuneError {
		return "(invalid UTF-8)"
	}
	return "'" + string(r) + "'"
}
