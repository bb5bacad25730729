package jsonata

import (
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/posluha/posluha/query/value"
)

// regex is a compiled regular expression literal. Called as a function on a
// string it returns jsonata-js's match object {match, start, end, groups,
// next}. JavaScript syntax is translated to Go's RE2 where they differ;
// what RE2 cannot do (backreferences, lookaround) is a compile error.
type regex struct {
	src string
	re  *regexp.Regexp
	pos int
}

func compileRegex(lit *regexLit, pos int) (*regex, *Error) {
	pat, err := translateRegex(lit.pattern)
	if err != "" {
		return nil, &Error{Code: "S0303", Position: pos, Token: lit.pattern, Message: "Regular expression /" + lit.pattern + "/ is not supported: " + err}
	}
	flags := ""
	if strings.Contains(lit.flags, "i") {
		flags += "i"
	}
	if strings.Contains(lit.flags, "m") {
		flags += "m"
	}
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, e := regexp.Compile(pat)
	if e != nil {
		return nil, &Error{Code: "S0303", Position: pos, Token: lit.pattern, Message: "Regular expression /" + lit.pattern + "/ is not supported: " + e.Error()}
	}
	return &regex{src: lit.pattern, re: re, pos: pos}, nil
}

// translateRegex rewrites JavaScript regex syntax for Go. It returns a
// reason when the pattern needs a feature RE2 lacks.
func translateRegex(p string) (string, string) {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n >= '1' && n <= '9' && !inClass:
				return "", "backreferences"
			case n == 'd' || n == 'D' || n == 'w' || n == 'W' || n == 's' || n == 'S' || n == 'b' || n == 'B':
				if n == 's' {
					// JavaScript's \s includes Unicode spaces
					if inClass {
						sb.WriteString(`\s\x{a0}\x{feff}\p{Zs}\x{2028}\x{2029}`)
					} else {
						sb.WriteString(`[\s\x{a0}\x{feff}\p{Zs}\x{2028}\x{2029}]`)
					}
				} else {
					sb.WriteByte('\\')
					sb.WriteByte(n)
				}
			case n == 'u' && i+5 < len(p):
				sb.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 4
			case n == 'c' && i+2 < len(p):
				sb.WriteString(`\x{` + string("0123456789abcdef"[(p[i+2]%32)>>4]) + string("0123456789abcdef"[(p[i+2]%32)&15]) + `}`)
				i++
			case n == '/':
				sb.WriteByte('/')
			case n == '0':
				sb.WriteString(`\x00`)
			case n == 'k':
				return "", "named backreferences"
			default:
				sb.WriteByte('\\')
				sb.WriteByte(n)
			}
			i++
			continue
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '[' {
				sb.WriteString(`\[`)
				continue
			}
		case c == '[':
			inClass = true
			if strings.HasPrefix(p[i:], "[^]") {
				sb.WriteString(`[\x{0}-\x{10FFFF}]`)
				i += 2
				inClass = false
				continue
			}
			if strings.HasPrefix(p[i:], "[]") {
				sb.WriteString(`[^\x{0}-\x{10FFFF}]`)
				i++
				inClass = false
				continue
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?="), c == '(' && strings.HasPrefix(p[i:], "(?!"),
			c == '(' && strings.HasPrefix(p[i:], "(?<="), c == '(' && strings.HasPrefix(p[i:], "(?<!"):
			return "", "lookaround assertions"
		case c == '(' && strings.HasPrefix(p[i:], "(?<"):
			sb.WriteString("(?P<")
			i += 2
			continue
		case c == '.':
			// JavaScript's dot excludes all line terminators
			sb.WriteString(`[^\n\r\x{2028}\x{2029}]`)
			continue
		case c == '$':
			sb.WriteString(`(?:$)`)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String(), ""
}

// exec finds the first match at or after the UTF-16 offset from.
func (r *regex) exec(s string, from int) any {
	u := utf16Units(s)
	if from > len(u) {
		return undef
	}
	byteFrom := len(string(utf16.Decode(u[:from])))
	loc := r.re.FindStringSubmatchIndex(s[byteFrom:])
	if loc == nil {
		return undef
	}
	for i := range loc {
		if loc[i] >= 0 {
			loc[i] += byteFrom
		}
	}
	match := s[loc[0]:loc[1]]
	start := unitLen(s[:loc[0]])
	end := start + unitLen(match)
	o := value.NewObject(5)
	o.Set("match", match)
	o.Set("start", float64(start))
	o.Set("end", float64(end))
	groups := []any{}
	for g := 1; g < len(loc)/2; g++ {
		if loc[2*g] < 0 {
			groups = append(groups, undef)
			continue
		}
		groups = append(groups, s[loc[2*g]:loc[2*g+1]])
	}
	o.Set("groups", groups)
	// lastIndex after a zero-length match stays put in JavaScript's exec,
	// and next() then reports D1004; jsonata-js behaves the same.
	last := end
	o.Set("next", &builtin{name: "next", arity: 0, fn: func(c *call, args []any) any {
		if last >= len(u) {
			return undef
		}
		nx := r.exec(s, last)
		if m, ok := nx.(*value.Object); ok {
			if mv, _ := m.Get("match"); mv == "" {
				panic(&Error{Code: "D1004", Position: r.pos, Value: r.src})
			}
		}
		return nx
	}})
	return o
}

func unitLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
