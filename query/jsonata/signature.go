package jsonata

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/posluha/posluha/query/value"
)

type valueObject = value.Object

// signature is a parsed function signature such as "<s-nn?:s>". Arguments
// are validated, as in jsonata-js, by matching a regular expression over
// one letter per argument type.
type signature struct {
	def    string
	params []sigParam
	re     *regexp.Regexp
	// matches caches the submatch indexes per argument-type string: a
	// program calls a function with few distinct type combinations.
	matches sync.Map // string → []int (nil: no match)
}

type sigParam struct {
	regex     string
	typ       string
	array     bool
	context   bool
	contextRe *regexp.Regexp
	subtype   string
}

var transformSig = mustSignature("<(oa):o>")

func mustSignature(s string) *signature {
	sig, err := parseSignature(s)
	if err != nil {
		panic(err) // only for built-in signatures, fixed at compile time
	}
	return sig
}

func parseSignature(s string) (*signature, *Error) {
	sig := &signature{def: s}
	var params []sigParam
	param := sigParam{}
	prev := -1 // index in params of the previous parameter
	next := func() {
		params = append(params, param)
		prev = len(params) - 1
		param = sigParam{}
	}
	closing := func(start int, open, close byte) int {
		depth := 1
		pos := start
		for pos < len(s) {
			pos++
			if pos >= len(s) {
				break
			}
			if s[pos] == close {
				depth--
				if depth == 0 {
					break
				}
			} else if s[pos] == open {
				depth++
			}
		}
		return pos
	}
	for pos := 1; pos < len(s); pos++ {
		sym := s[pos]
		if sym == ':' {
			break
		}
		switch sym {
		case 's', 'n', 'b', 'l', 'o':
			param.regex = "[" + string(sym) + "m]"
			param.typ = string(sym)
			next()
		case 'a':
			param.regex = "[asnblfom]"
			param.typ = "a"
			param.array = true
			next()
		case 'f':
			param.regex = "f"
			param.typ = "f"
			next()
		case 'j':
			param.regex = "[asnblom]"
			param.typ = "j"
			next()
		case 'x':
			param.regex = "[asnblfom]"
			param.typ = "x"
			next()
		case '-':
			if prev >= 0 {
				p := &params[prev]
				p.context = true
				p.contextRe = regexp.MustCompile("^(?:" + p.regex + ")")
				p.regex += "?"
			}
		case '?', '+':
			if prev >= 0 {
				params[prev].regex += string(sym)
			}
		case '(':
			end := closing(pos, '(', ')')
			if end > len(s) {
				end = len(s)
			}
			choice := s[pos+1 : min(end, len(s))]
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Value: choice, Position: pos}
			}
			param.regex = "[" + choice + "m]"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev >= 0 && (params[prev].typ == "a" || params[prev].typ == "f") {
				end := closing(pos, '<', '>')
				params[prev].subtype = s[pos+1 : min(end, len(s))]
				pos = end
			} else {
				t := ""
				if prev >= 0 {
					t = params[prev].typ
				}
				return nil, &Error{Code: "S0401", Value: t, Position: pos}
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("^")
	for _, p := range params {
		sb.WriteString("(" + p.regex + ")")
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, &Error{Code: "S0401", Value: s}
	}
	sig.params = params
	sig.re = re
	return sig, nil
}

func typeSymbol(v any) byte {
	if isFunction(v) {
		return 'f'
	}
	switch v.(type) {
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case nil:
		return 'l'
	case []any, *seq:
		return 'a'
	case *value.Object:
		return 'o'
	}
	return 'm'
}

var arrayMessage = map[string]string{"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}

func (s *signature) validate(args []any, context any, name string, pos int) []any {
	supplied := make([]byte, len(args))
	for i, a := range args {
		supplied[i] = typeSymbol(a)
	}
	var m []int
	if c, ok := s.matches.Load(string(supplied)); ok {
		m = c.([]int)
	} else {
		m = s.re.FindStringSubmatchIndex(string(supplied))
		if len(supplied) <= 6 { // bounded: variadic calls would grow it without end
			s.matches.Store(string(supplied), m)
		}
	}
	if m == nil {
		s.throwValidation(args, string(supplied), name, pos)
	}
	out := make([]any, 0, len(s.params))
	argIndex := 0
	for i, p := range s.params {
		match := string(supplied)[m[2*i+2]:m[2*i+3]]
		if match == "" {
			if p.context && p.contextRe != nil {
				ct := string(typeSymbol(context))
				if p.contextRe.MatchString(ct) {
					out = append(out, context)
				} else {
					panic(&Error{Code: "T0411", Position: pos, Token: name, Value: context, Message: msgIndex("T0411", argIndex+1, name)})
				}
			} else {
				out = append(out, argAt(args, argIndex))
				argIndex++
			}
			continue
		}
		for _, single := range []byte(match) {
			arg := argAt(args, argIndex)
			if p.typ == "a" {
				if single == 'm' {
					arg = undef
				} else {
					ok := true
					if p.subtype != "" {
						if single != 'a' && match != p.subtype {
							ok = false
						} else if single == 'a' {
							items, _ := arr(arg)
							if len(items) > 0 {
								it := typeSymbol(items[0])
								if it != p.subtype[0] {
									ok = false
								} else {
									for _, v := range items {
										if typeSymbol(v) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						e := &Error{Code: "T0412", Position: pos, Token: name, Value: arg}
						e.Message = "Argument " + strconv.Itoa(argIndex+1) + " of function " + quoteJSON(name) + " must be an array of " + arrayMessage[p.subtype]
						panic(e)
					}
					if single != 'a' {
						arg = []any{arg}
					}
				}
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out
}

func (s *signature) throwValidation(args []any, supplied, name string, pos int) {
	partial := "^"
	goodTo := 0
	for _, p := range s.params {
		partial += p.regex
		re, err := regexp.Compile(partial)
		if err != nil {
			break
		}
		loc := re.FindStringIndex(supplied)
		if loc == nil {
			break
		}
		goodTo = loc[1]
	}
	panic(&Error{Code: "T0410", Position: pos, Token: name, Value: argAt(args, goodTo), Message: msgIndex("T0410", goodTo+1, name)})
}

func msgIndex(code string, index int, name string) string {
	e := &Error{Code: code, Token: name}
	e.populate(map[string]any{"index": float64(index)})
	return e.Message
}

func quoteJSON(s string) string { return value.String(s) }
