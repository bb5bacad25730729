package jsonata

import (
	"strings"
	"unicode/utf8"
)

const (
	uriUnreservedComponent = "-_.!~*'()"
	uriUnreserved          = "-_.!~*'();,/?:@&=+$#"
)

// encodeURI is JavaScript's encodeURI / encodeURIComponent with the given
// characters left as they are besides letters and digits.
func encodeURI(keep string) func(string) (string, bool) {
	return func(s string) (string, bool) {
		if !utf8.ValidString(s) {
			return "", false
		}
		var sb strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0) {
				sb.WriteByte(c)
				continue
			}
			sb.WriteByte('%')
			sb.WriteByte("0123456789ABCDEF"[c>>4])
			sb.WriteByte("0123456789ABCDEF"[c&15])
		}
		return sb.String(), true
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeURI is JavaScript's decodeURI / decodeURIComponent; escapes of the
// characters in reserved are kept as written.
func decodeURI(reserved string) func(string) (string, bool) {
	return func(s string) (string, bool) {
		var sb strings.Builder
		for i := 0; i < len(s); {
			if s[i] != '%' {
				sb.WriteByte(s[i])
				i++
				continue
			}
			var buf []byte
			start := i
			for i < len(s) && s[i] == '%' {
				if i+2 >= len(s) {
					return "", false
				}
				h, l := unhex(s[i+1]), unhex(s[i+2])
				if h < 0 || l < 0 {
					return "", false
				}
				buf = append(buf, byte(h<<4|l))
				i += 3
				if utf8.FullRune(buf) {
					break
				}
			}
			r, size := utf8.DecodeRune(buf)
			if r == utf8.RuneError || size != len(buf) {
				return "", false
			}
			if r < 0x80 && strings.ContainsRune(reserved, r) {
				sb.WriteString(s[start:i])
				continue
			}
			sb.Write(buf)
		}
		return sb.String(), true
	}
}

func urlFn(name string, f func(string) (string, bool)) func(c *call, a []any) any {
	return func(c *call, a []any) any {
		s, ok := strArg(a[0])
		if !ok {
			return undef
		}
		r, ok := f(s)
		if !ok {
			e := &Error{Code: "D3140", Token: c.name, Value: s, Position: c.pos}
			e.populate(map[string]any{"functionName": name})
			panic(e)
		}
		return r
	}
}
