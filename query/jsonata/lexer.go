package jsonata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// token kinds produced by the lexer.
const (
	tokEnd = iota
	tokName
	tokVariable
	tokOperator
	tokString
	tokNumber
	tokValue // true, false, null
	tokRegex
)

type token struct {
	kind  int
	str   string // operator, name, variable name, string value
	value any    // literal value (number, bool, nil) or *regexLit
	pos   int    // offset just after the token, as jsonata-js reports it
}

// regexLit is a regular expression literal as written: pattern and flags.
type regexLit struct {
	pattern string
	flags   string
}

var twoCharOps = []string{"..", ":=", "!=", ">=", "<=", "**", "~>"}

type lexer struct {
	src []rune // jsonata-js works in UTF-16 units; runes are close enough for positions
	pos int
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v'
}

func isOpChar(r rune) bool {
	switch r {
	case '.', '[', ']', '{', '}', '(', ')', ',', '@', '#', ';', ':', '?', '+', '-', '*', '/', '%', '|', '=', '<', '>', '^', '&', '!', '~':
		return true
	}
	return false
}

// next returns the next token. infix reports that an operator is expected,
// so that '/' means division rather than the start of a regex.
func (l *lexer) next(infix bool) (*token, error) {
	n := len(l.src)
	for {
		for l.pos < n && isSpace(l.src[l.pos]) {
			l.pos++
		}
		if l.pos+1 < n && l.src[l.pos] == '/' && l.src[l.pos+1] == '*' {
			start := l.pos
			l.pos += 2
			for {
				if l.pos+1 >= n {
					l.pos = n
					return nil, &Error{Code: "S0106", Position: start}
				}
				if l.src[l.pos] == '*' && l.src[l.pos+1] == '/' {
					l.pos += 2
					break
				}
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= n {
		return nil, nil
	}
	c := l.src[l.pos]
	if !infix && c == '/' {
		l.pos++
		return l.scanRegex()
	}
	if l.pos+1 < n {
		two := string(l.src[l.pos : l.pos+2])
		for _, op := range twoCharOps {
			if two == op {
				l.pos += 2
				return &token{kind: tokOperator, str: op, pos: l.pos}, nil
			}
		}
	}
	if isOpChar(c) {
		l.pos++
		return &token{kind: tokOperator, str: string(c), pos: l.pos}, nil
	}
	if c == '"' || c == '\'' {
		return l.scanString(c)
	}
	if c >= '0' && c <= '9' {
		return l.scanNumber()
	}
	if c == '`' {
		l.pos++
		end := -1
		for i := l.pos; i < n; i++ {
			if l.src[i] == '`' {
				end = i
				break
			}
		}
		if end < 0 {
			l.pos = n
			return nil, &Error{Code: "S0105", Position: n}
		}
		name := string(l.src[l.pos:end])
		l.pos = end + 1
		return &token{kind: tokName, str: name, pos: l.pos}, nil
	}
	i := l.pos
	for i < n && !isSpace(l.src[i]) && !isOpChar(l.src[i]) {
		i++
	}
	if c == '$' {
		name := string(l.src[l.pos+1 : i])
		l.pos = i
		return &token{kind: tokVariable, str: name, pos: l.pos}, nil
	}
	name := string(l.src[l.pos:i])
	l.pos = i
	switch name {
	case "and", "or", "in":
		return &token{kind: tokOperator, str: name, pos: l.pos}, nil
	case "true":
		return &token{kind: tokValue, value: true, pos: l.pos}, nil
	case "false":
		return &token{kind: tokValue, value: false, pos: l.pos}, nil
	case "null":
		return &token{kind: tokValue, value: nil, pos: l.pos}, nil
	}
	return &token{kind: tokName, str: name, pos: l.pos}, nil
}

func (l *lexer) scanRegex() (*token, error) {
	n := len(l.src)
	start := l.pos
	depth := 0
	for l.pos < n {
		c := l.src[l.pos]
		if c == '/' && depth == 0 {
			bs := 0
			for l.pos-(bs+1) >= 0 && l.src[l.pos-(bs+1)] == '\\' {
				bs++
			}
			if bs%2 == 0 {
				pattern := string(l.src[start:l.pos])
				if pattern == "" {
					return nil, &Error{Code: "S0301", Position: l.pos}
				}
				l.pos++
				fs := l.pos
				for l.pos < n && (l.src[l.pos] == 'i' || l.src[l.pos] == 'm') {
					l.pos++
				}
				return &token{kind: tokRegex, value: &regexLit{pattern: pattern, flags: string(l.src[fs:l.pos])}, pos: l.pos}, nil
			}
		}
		prevEsc := l.pos > 0 && l.src[l.pos-1] == '\\'
		if (c == '(' || c == '[' || c == '{') && !prevEsc {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && !prevEsc {
			depth--
		}
		l.pos++
	}
	return nil, &Error{Code: "S0302", Position: l.pos}
}

func (l *lexer) scanString(quote rune) (*token, error) {
	n := len(l.src)
	l.pos++
	var sb strings.Builder
	for l.pos < n {
		c := l.src[l.pos]
		if c == '\\' {
			l.pos++
			if l.pos >= n {
				break
			}
			c = l.src[l.pos]
			switch c {
			case '"', '\\', '/':
				sb.WriteRune(c)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				if l.pos+4 >= n {
					return nil, &Error{Code: "S0104", Position: l.pos}
				}
				u, err := strconv.ParseUint(string(l.src[l.pos+1:l.pos+5]), 16, 16)
				if err != nil {
					return nil, &Error{Code: "S0104", Position: l.pos}
				}
				l.pos += 4
				r := rune(u)
				// a surrogate pair arrives as two escapes
				if utf16.IsSurrogate(r) && l.pos+6 < n && l.src[l.pos+1] == '\\' && l.src[l.pos+2] == 'u' {
					if u2, err := strconv.ParseUint(string(l.src[l.pos+3:l.pos+7]), 16, 16); err == nil {
						if d := utf16.DecodeRune(r, rune(u2)); d != utf8.RuneError {
							r = d
							l.pos += 6
						}
					}
				}
				writeWTF8(&sb, r)
			default:
				return nil, &Error{Code: "S0103", Position: l.pos, Token: string(c)}
			}
		} else if c == quote {
			l.pos++
			return &token{kind: tokString, str: sb.String(), value: sb.String(), pos: l.pos}, nil
		} else {
			writeWTF8(&sb, c)
		}
		l.pos++
	}
	return nil, &Error{Code: "S0101", Position: l.pos}
}

// writeWTF8 writes r as UTF-8, and a lone surrogate as its WTF-8 bytes, so
// that functions that reject one in JavaScript (encodeUrl…) can too.
func writeWTF8(sb *strings.Builder, r rune) {
	if !utf16.IsSurrogate(r) {
		sb.WriteRune(r)
		return
	}
	sb.WriteByte(byte(0xE0 | r>>12))
	sb.WriteByte(byte(0x80 | (r>>6)&0x3F))
	sb.WriteByte(byte(0x80 | r&0x3F))
}

// wtf8Runes is []rune(s), except that a lone surrogate held as its WTF-8
// bytes (as query/value keeps one read from a JSON "\ud800" escape, e.g.
// inside a state machine's {% %} template) becomes that surrogate, not
// three U+FFFD.
func wtf8Runes(s string) []rune {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 && i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
			r, size = rune(s[i]&0x0F)<<12|rune(s[i+1]&0x3F)<<6|rune(s[i+2]&0x3F), 3
		}
		out = append(out, r)
		i += size
	}
	return out
}

func (l *lexer) scanNumber() (*token, error) {
	n := len(l.src)
	i := l.pos
	digits := func() int {
		s := i
		for i < n && l.src[i] >= '0' && l.src[i] <= '9' {
			i++
		}
		return i - s
	}
	if l.src[i] == '0' {
		i++
	} else {
		digits()
	}
	if i+1 < n && l.src[i] == '.' && l.src[i+1] >= '0' && l.src[i+1] <= '9' {
		i++
		digits()
	}
	if i < n && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i
		i++
		if i < n && (l.src[i] == '+' || l.src[i] == '-') {
			i++
		}
		if digits() == 0 {
			i = j
		}
	}
	text := string(l.src[l.pos:i])
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, &Error{Code: "S0102", Position: l.pos, Token: text}
	}
	l.pos = i
	return &token{kind: tokNumber, value: f, pos: l.pos}, nil
}
