package value

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Marshal returns the compact JSON text of v.
func Marshal(v any) []byte { return Append(nil, v) }

// String returns the compact JSON text of v.
func String(v any) string { return string(Append(nil, v)) }

// Append appends the compact JSON text of v to dst. Values outside the data
// model are written as null, as JSON.stringify drops what JSON cannot hold.
func Append(dst []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if t {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case float64:
		return AppendNumber(dst, t)
	case string:
		return AppendString(dst, t)
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = Append(dst, e)
		}
		return append(dst, ']')
	case *Object:
		dst = append(dst, '{')
		for i, m := range t.Members() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, m.Key)
			dst = append(dst, ':')
			dst = Append(dst, m.Value)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// AppendIndent appends v as JSON indented by indent per level, the way
// JSON.stringify(v, null, indent) writes it.
func AppendIndent(dst []byte, v any, prefix, indent string) []byte {
	return appendIndent(dst, v, prefix, indent)
}

func appendIndent(dst []byte, v any, cur, indent string) []byte {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return append(dst, "[]"...)
		}
		dst = append(dst, '[')
		in := cur + indent
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
			dst = append(dst, in...)
			dst = appendIndent(dst, e, in, indent)
		}
		dst = append(dst, '\n')
		dst = append(dst, cur...)
		return append(dst, ']')
	case *Object:
		if t.Len() == 0 {
			return append(dst, "{}"...)
		}
		dst = append(dst, '{')
		in := cur + indent
		for i, m := range t.Members() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
			dst = append(dst, in...)
			dst = AppendString(dst, m.Key)
			dst = append(dst, ": "...)
			dst = appendIndent(dst, m.Value, in, indent)
		}
		dst = append(dst, '\n')
		dst = append(dst, cur...)
		return append(dst, '}')
	}
	return Append(dst, v)
}

// FormatNumber formats f as JavaScript's Number.prototype.toString does
// (shortest round-trip digits; exponent form below 1e-6 and from 1e21).
// NaN and infinities, which JSON cannot hold, come out as "null".
func FormatNumber(f float64) string { return string(AppendNumber(nil, f)) }

// AppendNumber appends FormatNumber(f) to dst.
func AppendNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if math.Abs(f) < 1<<53 {
			return strconv.AppendInt(dst, int64(f), 10)
		}
		return appendBigInteger(dst, f)
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	// Exponent form: digits d.ddd, then e+N / e-N.
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // like -1.5e-07
	mant, exp := s, []byte(nil)
	for i, c := range s {
		if c == 'e' {
			mant, exp = s[:i], s[i+1:]
			break
		}
	}
	dst = append(dst, mant...)
	dst = append(dst, 'e')
	sign := exp[0]
	digits := exp[1:]
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	dst = append(dst, sign)
	return append(dst, digits...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal, escaping as
// JSON.stringify does (control characters, quote, backslash; a lone
// surrogate kept in WTF-8 by Parse is written back as \udXXX; other invalid
// UTF-8 becomes U+FFFD).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			if sr, ok := surrogateAt(s, i); ok {
				dst = append(dst, '\\', 'u', hexDigits[sr>>12], hexDigits[sr>>8&0xf], hexDigits[sr>>4&0xf], hexDigits[sr&0xf])
				i += 3
			} else {
				dst = append(dst, "\ufffd"...)
				i += size
			}
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendBigInteger writes an integral |f| ≥ 2^53 with its shortest digits
// padded by zeros, as JavaScript does (123456789012345680000, not …83968).
func appendBigInteger(dst []byte, f float64) []byte {
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // -1.2345678901234568e+20
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	var digits []byte
	i := 0
	for ; s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits = append(digits, s[i])
		}
	}
	exp, _ := strconv.Atoi(string(s[i+2:]))
	dst = append(dst, digits...)
	for n := exp + 1 - len(digits); n > 0; n-- {
		dst = append(dst, '0')
	}
	return dst
}
