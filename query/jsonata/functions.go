package jsonata

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/posluha/posluha/query/value"
)

// builtins are the functions every expression sees, bound in the outermost scope.
var builtins map[string]*builtin

func init() {
	builtins = map[string]*builtin{}
	def := func(name string, arity int, sig string, fn func(c *call, args []any) any) {
		b := &builtin{name: name, arity: arity, fn: fn}
		if sig != "" {
			b.sig = mustSignature(sig)
		}
		builtins[name] = b
	}
	def("sum", 1, "<a<n>:n>", fnSum)
	def("count", 1, "<a:n>", fnCount)
	def("max", 1, "<a<n>:n>", fnMax)
	def("min", 1, "<a<n>:n>", fnMin)
	def("average", 1, "<a<n>:n>", fnAverage)
	def("string", 1, "<x-b?:s>", fnString)
	builtins["string"].params = 2
	def("substring", 3, "<s-nn?:s>", fnSubstring)
	def("substringBefore", 2, "<s-s:s>", fnSubstringBefore)
	def("substringAfter", 2, "<s-s:s>", fnSubstringAfter)
	def("lowercase", 1, "<s-:s>", fnLowercase)
	def("uppercase", 1, "<s-:s>", fnUppercase)
	def("length", 1, "<s-:n>", fnLength)
	def("trim", 1, "<s-:s>", fnTrim)
	def("pad", 3, "<s-ns?:s>", fnPad)
	def("match", 3, "<s-f<s:o>n?:a<o>>", fnMatch)
	def("contains", 2, "<s-(sf):b>", fnContains)
	def("replace", 4, "<s-(sf)(sf)n?:s>", fnReplace)
	def("split", 3, "<s-(sf)n?:a<s>>", fnSplit)
	def("join", 2, "<a<s>s?:s>", fnJoin)
	def("formatNumber", 3, "<n-so?:s>", fnFormatNumber)
	def("formatBase", 2, "<n-n?:s>", fnFormatBase)
	def("formatInteger", 2, "<n-s:s>", fnFormatInteger)
	def("parseInteger", 2, "<s-s:n>", fnParseInteger)
	def("number", 1, "<(nsb)-:n>", fnNumber)
	def("floor", 1, "<n-:n>", num1(math.Floor))
	def("ceil", 1, "<n-:n>", num1(math.Ceil))
	def("round", 2, "<n-n?:n>", fnRound)
	def("abs", 1, "<n-:n>", num1(math.Abs))
	def("sqrt", 1, "<n-:n>", fnSqrt)
	def("power", 2, "<n-n:n>", fnPower)
	def("random", 1, "<n?:n>", fnRandom)
	def("boolean", 1, "<x-:b>", fnBoolean)
	def("not", 1, "<x-:b>", fnNot)
	def("map", 2, "<af>", fnMap)
	def("zip", 0, "<a+>", fnZip)
	def("filter", 2, "<af>", fnFilter)
	def("single", 2, "<af?>", fnSingle)
	def("reduce", 3, "<afj?:j>", fnReduce)
	def("sift", 2, "<o-f?:o>", fnSift)
	def("keys", 1, "<x-:a<s>>", fnKeys)
	def("lookup", 2, "<x-s:x>", func(c *call, a []any) any {
		k, _ := a[1].(string)
		return lookupField(a[0], k)
	})
	def("append", 2, "<xx:a>", func(c *call, a []any) any { return appendValues(a[0], a[1]) })
	def("exists", 1, "<x:b>", func(c *call, a []any) any { return !isUndef(a[0]) })
	def("spread", 1, "<x-:a<o>>", fnSpread)
	def("merge", 1, "<a<o>:o>", fnMerge)
	def("reverse", 1, "<a:a>", fnReverse)
	def("each", 2, "<o-f:a>", fnEach)
	def("error", 1, "<s?:x>", fnError)
	def("assert", 2, "<bs?:x>", fnAssert)
	def("type", 1, "<x:s>", fnType)
	def("sort", 2, "<af?:a>", fnSort)
	def("shuffle", 1, "<a:a>", fnShuffle)
	def("distinct", 1, "<x:x>", fnDistinct)
	def("base64encode", 1, "<s-:s>", fnBase64Encode)
	def("base64decode", 1, "<s-:s>", fnBase64Decode)
	def("encodeUrlComponent", 1, "<s-:s>", urlFn("encodeUrlComponent", encodeURI(uriUnreservedComponent)))
	def("encodeUrl", 1, "<s-:s>", urlFn("encodeUrl", encodeURI(uriUnreserved)))
	def("decodeUrlComponent", 1, "<s-:s>", urlFn("decodeUrlComponent", decodeURI("")))
	def("decodeUrl", 1, "<s-:s>", urlFn("decodeUrl", decodeURI(";/?:@&=+$,#")))
	def("eval", 2, "<sx?:x>", fnEval)
	def("toMillis", 2, "<s-s?:n>", fnToMillis)
	def("fromMillis", 3, "<n-s?s?:s>", fnFromMillis)
	def("clone", 1, "<(oa)-:o>", fnClone)
	def("now", 2, "<s?s?:s>", fnNow)
	def("millis", 0, "<:n>", func(c *call, a []any) any { return float64(c.env.st.now.UnixMilli()) })
	// AWS Step Functions additions
	def("partition", 2, "<an:a>", fnPartition)
	def("range", 3, "<nnn?:a>", fnRange)
	def("hash", 2, "<s-s?:s>", fnHash)
	def("uuid", 0, "<:s>", fnUUID)
	def("parse", 1, "<s-:x>", fnParse)
}

func numArg(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func strArg(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

func items(v any) []any {
	if a, ok := arr(v); ok {
		return a
	}
	if isUndef(v) {
		return nil
	}
	return []any{v}
}

func fnSum(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	total := 0.0
	for _, v := range items(a[0]) {
		n, _ := numArg(v)
		total += n
	}
	return total
}

func fnCount(c *call, a []any) any {
	if isUndef(a[0]) {
		return 0.0
	}
	return float64(len(items(a[0])))
}

func fnMax(c *call, a []any) any {
	xs := items(a[0])
	if len(xs) == 0 {
		return undef
	}
	m := math.Inf(-1)
	for _, v := range xs {
		n, _ := numArg(v)
		m = math.Max(m, n)
	}
	return m
}

func fnMin(c *call, a []any) any {
	xs := items(a[0])
	if len(xs) == 0 {
		return undef
	}
	m := math.Inf(1)
	for _, v := range xs {
		n, _ := numArg(v)
		m = math.Min(m, n)
	}
	return m
}

func fnAverage(c *call, a []any) any {
	xs := items(a[0])
	if len(xs) == 0 {
		return undef
	}
	total := 0.0
	for _, v := range xs {
		n, _ := numArg(v)
		total += n
	}
	return total / float64(len(xs))
}

func fnString(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	pretty, _ := a[1].(bool)
	return toString(a[0], pretty)
}

// toString is $string: strings as is, functions as "", numbers with 15
// significant digits, everything else as JSON.
func toString(v any, pretty bool) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			panic(&Error{Code: "D3001", Value: t})
		}
		return value.FormatNumber(precision15(t))
	}
	if isFunction(v) {
		return ""
	}
	if s, ok := v.(*seq); ok && s.outerWrapper && len(s.v) > 0 {
		v = s.v[0]
	}
	conv := stringifyValue(v)
	if pretty {
		return string(value.AppendIndent(nil, conv, "", "  "))
	}
	return value.String(conv)
}

// stringifyValue prepares v for JSON text as $string writes it.
func stringifyValue(v any) any {
	switch t := v.(type) {
	case float64:
		if math.IsInf(t, 0) {
			panic(&Error{Code: "D1001", Value: t})
		}
		if math.IsNaN(t) {
			return nil
		}
		return precision15(t)
	case *seq:
		return stringifyValue(t.v)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			if isUndef(e) {
				out[i] = nil
				continue
			}
			if isFunction(e) {
				out[i] = ""
				continue
			}
			out[i] = stringifyValue(e)
		}
		return out
	case *value.Object:
		o := value.NewObject(t.Len())
		for _, m := range members(t) {
			if isUndef(m.Value) {
				continue
			}
			if isFunction(m.Value) {
				o.Set(m.Key, "")
				continue
			}
			o.Set(m.Key, stringifyValue(m.Value))
		}
		return o
	}
	if isFunction(v) {
		return ""
	}
	return v
}

// precision15 is Number(x.toPrecision(15)).
func precision15(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'e', 14, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// runes of a string as JavaScript's Array.from sees them (code points).
func codePoints(s string) []rune { return []rune(s) }

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsSliceIndex converts a JavaScript slice index for a sequence of length n.
func jsSliceIndex(f float64, n int) int {
	if math.IsNaN(f) {
		return 0
	}
	f = math.Trunc(f)
	if f < 0 {
		f += float64(n)
		if f < 0 {
			return 0
		}
	}
	if f > float64(n) {
		return n
	}
	return int(f)
}

func fnSubstring(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	cp := codePoints(s)
	n := len(cp)
	start, ok := numArg(a[1])
	if !ok {
		// an undefined start is NaN in jsonata-js's arithmetic
		if isUndef(a[2]) {
			return s
		}
		return ""
	}
	if float64(n)+start < 0 {
		start = 0
	}
	if length, ok := numArg(a[2]); ok {
		if length <= 0 {
			return ""
		}
		var end float64
		if start >= 0 {
			end = start + length
		} else {
			end = float64(n) + start + length
		}
		i, j := jsSliceIndex(start, n), jsSliceIndex(end, n)
		if i >= j {
			return ""
		}
		return string(cp[i:j])
	}
	return string(cp[jsSliceIndex(start, n):])
}

func fnSubstringBefore(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	sep, ok := strArg(a[1])
	if !ok {
		return s // indexOf(undefined) looks for "undefined"
	}
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i]
	}
	return s
}

func fnSubstringAfter(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	sep, ok := strArg(a[1])
	if !ok {
		return s // indexOf(undefined) looks for "undefined"
	}
	if i := strings.Index(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}

func fnLowercase(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	return jsLower(s)
}

func fnUppercase(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	return jsUpper(s)
}

func fnLength(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	return float64(utf8.RuneCountInString(s))
}

var spaceRun = regexp.MustCompile(`[ \t\n\r]+`)

func fnTrim(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	r := spaceRun.ReplaceAllString(s, " ")
	r = strings.TrimPrefix(r, " ")
	r = strings.TrimSuffix(r, " ")
	return r
}

// maxString bounds strings built by $pad: V8 stops at 2^29 units; this is
// lower so that one expression cannot take gigabytes.
const maxString = 1 << 26

func fnPad(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	width, _ := numArg(a[1])
	ch, _ := strArg(a[2])
	if ch == "" {
		ch = " "
	}
	w := math.Abs(math.Trunc(width))
	if w*float64(len(ch)) > maxString {
		// JavaScript fails here too, with "Invalid string length"
		panic(&Error{Code: "D3001", Token: c.name, Value: width, Position: c.pos, Message: "The width given to $pad makes the string too long"})
	}
	padLen := int(w) - utf8.RuneCountInString(s)
	if padLen <= 0 {
		return s
	}
	padding := []rune(strings.Repeat(ch, padLen))
	padding = padding[:padLen]
	if width > 0 {
		return s + string(padding)
	}
	return string(padding) + s
}

// matcher calls a regex or a custom matcher function on str.
func (c *call) matcher(m any, args ...any) *value.Object {
	res := c.callFn(m, args...)
	if isUndef(res) || res == nil {
		return nil
	}
	o, ok := res.(*value.Object)
	if !ok {
		if b, ok := res.(bool); ok && !b {
			return nil
		}
		panic(&Error{Code: "T1010", Token: c.name, Position: c.pos})
	}
	start, _ := o.Get("start")
	groups, _ := o.Get("groups")
	next, _ := o.Get("next")
	if _, ok := start.(float64); !ok && !isArray(groups) && !isFunction(next) {
		panic(&Error{Code: "T1010", Token: c.name, Position: c.pos})
	}
	return o
}

func (c *call) nextMatch(m *value.Object) *value.Object {
	next, ok := m.Get("next")
	if !ok || !isFunction(next) {
		return nil
	}
	return c.matcher(next)
}

func matchFields(m *value.Object) (match string, start, end int, groups []any) {
	mv, _ := m.Get("match")
	match, _ = mv.(string)
	sv, _ := m.Get("start")
	sf, _ := sv.(float64)
	ev, _ := m.Get("end")
	ef, ok := ev.(float64)
	if !ok {
		ef = sf + float64(len(utf16Units(match)))
	}
	gv, _ := m.Get("groups")
	groups, _ = arr(gv)
	return match, int(sf), int(ef), groups
}

func fnMatch(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	limit, hasLimit := numArg(a[2])
	if hasLimit && limit < 0 {
		panic(&Error{Code: "D3040", Token: c.name, Value: limit, Position: c.pos})
	}
	result := newSeq()
	if hasLimit && limit == 0 {
		return result
	}
	count := 0
	for m := c.matcher(a[1], s); m != nil && (!hasLimit || float64(count) < limit); m = c.nextMatch(m) {
		match, start, _, groups := matchFields(m)
		o := value.NewObject(3)
		o.Set("match", match)
		o.Set("index", float64(start))
		if groups == nil {
			groups = []any{}
		}
		o.Set("groups", groups)
		result.v = append(result.v, o)
		count++
	}
	return result
}

func fnContains(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	if t, ok := a[1].(string); ok {
		return strings.Contains(s, t)
	}
	return c.matcher(a[1], s) != nil
}

// u16 helps with JavaScript string offsets, counted in UTF-16 units.
type u16 []uint16

func (u u16) slice(i, j int) string {
	if i < 0 {
		i = 0
	}
	if j > len(u) {
		j = len(u)
	}
	if i >= j {
		return ""
	}
	return string(utf16.Decode(u[i:j]))
}

func fnReplace(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	if p, ok := a[1].(string); ok && p == "" {
		panic(&Error{Code: "D3010", Token: c.name, Value: p, Position: c.pos})
	}
	limit, hasLimit := numArg(a[3])
	if hasLimit && limit < 0 {
		panic(&Error{Code: "D3011", Token: c.name, Value: limit, Position: c.pos})
	}
	if hasLimit && limit == 0 {
		return s
	}
	if p, ok := a[1].(string); ok {
		repl, _ := a[2].(string)
		if !isUndef(a[2]) && !isFunction(a[2]) {
			repl = toJSString(a[2])
		}
		var sb strings.Builder
		count := 0
		pos := 0
		for {
			i := strings.Index(s[pos:], p)
			if i < 0 || (hasLimit && float64(count) >= limit) {
				break
			}
			sb.WriteString(s[pos : pos+i])
			sb.WriteString(repl)
			pos += i + len(p)
			count++
		}
		sb.WriteString(s[pos:])
		return sb.String()
	}
	var replacer func(m *value.Object) any
	if r, ok := a[2].(string); ok {
		replacer = func(m *value.Object) any { return substitute(r, m) }
	} else {
		replacer = func(m *value.Object) any { return c.callFn(a[2], m) }
	}
	u := u16(utf16Units(s))
	m := c.matcher(a[1], s)
	if m == nil {
		return s
	}
	var sb strings.Builder
	pos := 0
	count := 0
	for m != nil && (!hasLimit || float64(count) < limit) {
		match, start, _, _ := matchFields(m)
		sb.WriteString(u.slice(pos, start))
		r := replacer(m)
		rs, ok := r.(string)
		if !ok {
			panic(&Error{Code: "D3012", Token: c.name, Value: r, Position: c.pos})
		}
		sb.WriteString(rs)
		pos = start + len(utf16Units(match))
		count++
		m = c.nextMatch(m)
	}
	sb.WriteString(u.slice(pos, len(u)))
	return sb.String()
}

// toJSString is String(v) in JavaScript, for odd arguments reaching a native.
func toJSString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return value.FormatNumber(t)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return "null"
	}
	return ""
}

// substitute expands $0, $n and $$ in a replacement string.
func substitute(repl string, m *value.Object) string {
	match, _, _, groups := matchFields(m)
	var sb strings.Builder
	pos := 0
	for {
		idx := strings.IndexByte(repl[pos:], '$')
		if idx < 0 || pos >= len(repl) {
			break
		}
		idx += pos
		sb.WriteString(repl[pos:idx])
		pos = idx + 1
		var d byte
		if pos < len(repl) {
			d = repl[pos]
		}
		switch {
		case d == '$':
			sb.WriteByte('$')
			pos++
		case d == '0':
			sb.WriteString(match)
			pos++
		default:
			maxDigits := 1
			if len(groups) > 0 {
				maxDigits = int(math.Floor(math.Log(float64(len(groups)))*math.Log10E)) + 1
			}
			n, ok := leadingInt(repl[pos:min(pos+maxDigits, len(repl))])
			if maxDigits > 1 && ok && n > len(groups) {
				n, ok = leadingInt(repl[pos:min(pos+maxDigits-1, len(repl))])
			}
			if ok {
				if len(groups) > 0 && n >= 1 && n <= len(groups) {
					if g, ok := groups[n-1].(string); ok {
						sb.WriteString(g)
					}
				}
				pos += len(strconv.Itoa(n))
			} else {
				sb.WriteByte('$')
			}
		}
	}
	if pos < len(repl) {
		sb.WriteString(repl[pos:])
	}
	return sb.String()
}

// leadingInt is parseInt(s, 10) for the digits s starts with.
func leadingInt(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, true
}

func fnSplit(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	limit, hasLimit := numArg(a[2])
	if hasLimit && limit < 0 {
		panic(&Error{Code: "D3020", Token: c.name, Value: limit, Position: c.pos})
	}
	result := []any{}
	if hasLimit && limit == 0 {
		return result
	}
	if sep, ok := a[1].(string); ok {
		var parts []string
		if sep == "" {
			for _, u := range utf16Units(s) {
				parts = append(parts, string(utf16.Decode([]uint16{u})))
			}
			if s == "" {
				parts = nil
			}
		} else {
			parts = strings.Split(s, sep)
		}
		for _, p := range parts {
			if hasLimit && float64(len(result)) >= math.Floor(limit) {
				break
			}
			result = append(result, p)
		}
		return result
	}
	u := u16(utf16Units(s))
	m := c.matcher(a[1], s)
	if m == nil {
		return append(result, s)
	}
	start := 0
	count := 0
	for m != nil && (!hasLimit || float64(count) < limit) {
		_, ms, me, _ := matchFields(m)
		result = append(result, u.slice(start, ms))
		start = me
		m = c.nextMatch(m)
		count++
	}
	if !hasLimit || float64(count) < limit {
		result = append(result, u.slice(start, len(u)))
	}
	return result
}

func fnJoin(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	sep, _ := strArg(a[1])
	var parts []string
	for _, v := range items(a[0]) {
		parts = append(parts, toJSString(v))
	}
	return strings.Join(parts, sep)
}

func fnNumber(c *call, a []any) any {
	switch t := a[0].(type) {
	case undefinedT:
		return undef
	case float64:
		return t
	case bool:
		if t {
			return 1.0
		}
		return 0.0
	case string:
		if decimalRe.MatchString(t) {
			if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) {
				return f
			}
		}
		if radixRe.MatchString(t) {
			s := t
			base := 16
			switch {
			case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
				base = 16
			case strings.HasPrefix(s, "0o"), strings.HasPrefix(s, "0O"):
				base = 8
			case strings.HasPrefix(s, "0b"), strings.HasPrefix(s, "0B"):
				base = 2
			}
			if n, err := strconv.ParseUint(s[2:], base, 64); err == nil {
				return float64(n)
			}
		}
	}
	panic(&Error{Code: "D3030", Token: c.name, Value: a[0], Position: c.pos})
}

var (
	decimalRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$`)
	radixRe   = regexp.MustCompile(`^(?:0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][0-1]+)$`)
)

func num1(f func(float64) float64) func(c *call, a []any) any {
	return func(c *call, a []any) any {
		n, ok := numArg(a[0])
		if !ok {
			return undef
		}
		return f(n) + 0 // + 0 turns -0 into 0 as JSON output does
	}
}

func fnSqrt(c *call, a []any) any {
	n, ok := numArg(a[0])
	if !ok {
		return undef
	}
	if n < 0 {
		panic(&Error{Code: "D3060", Token: c.name, Value: n, Position: c.pos})
	}
	return math.Sqrt(n)
}

func fnPower(c *call, a []any) any {
	b, ok := numArg(a[0])
	if !ok {
		return undef
	}
	e, _ := numArg(a[1])
	r := math.Pow(b, e)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		err := &Error{Code: "D3061", Token: c.name, Value: b, Position: c.pos}
		err.populate(map[string]any{"exp": e})
		panic(err)
	}
	return r
}

// jsRound is Math.round: halves go towards +∞.
func jsRound(x float64) float64 {
	return math.Floor(x + 0.5)
}

func fnRound(c *call, a []any) any {
	x, ok := numArg(a[0])
	if !ok {
		return undef
	}
	prec, _ := numArg(a[1])
	prec = math.Trunc(prec)
	if prec != 0 {
		x = shiftDecimal(x, prec)
	}
	r := jsRound(x)
	if d := r - x; math.Abs(d) == 0.5 && math.Abs(math.Mod(r, 2)) == 1 {
		r--
	}
	if prec != 0 {
		r = shiftDecimal(r, -prec)
	}
	return r + 0
}

// shiftDecimal multiplies by 10^p through the decimal text, as jsonata-js
// does, to avoid binary rounding errors.
func shiftDecimal(x, p float64) float64 {
	s := value.FormatNumber(x)
	mant, exp := s, 0.0
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant = s[:i]
		e, _ := strconv.ParseFloat(s[i+1:], 64)
		exp = e
	}
	f, err := strconv.ParseFloat(mant+"e"+strconv.FormatFloat(exp+p, 'f', -1, 64), 64)
	if err != nil {
		return x * math.Pow(10, p)
	}
	return f
}

func fnRandom(c *call, a []any) any {
	if seed, ok := numArg(a[0]); ok {
		r := rand.New(rand.NewPCG(math.Float64bits(seed), 0x9e3779b97f4a7c15))
		return r.Float64()
	}
	return rand.Float64()
}

// toBoolean is JSONata's truthiness; undefined is false.
func toBoolean(v any) bool {
	switch t := v.(type) {
	case undefinedT, nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0 && !math.IsNaN(t)
	case []any, *seq:
		xs, _ := arr(t)
		if len(xs) == 1 {
			return toBoolean(xs[0])
		}
		for _, x := range xs {
			if toBoolean(x) {
				return true
			}
		}
		return false
	case *value.Object:
		return t.Len() > 0
	case *lambda:
		return true
	}
	return false
}

// A function passed to a built-in arrives in jsonata-js wrapped in a native
// closure, which $boolean counts as false.
func fnBoolean(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	if isFunction(a[0]) {
		return false
	}
	return toBoolean(a[0])
}

func fnNot(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	if isFunction(a[0]) {
		return true
	}
	return !toBoolean(a[0])
}

func fnMap(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	xs := items(a[0])
	result := newSeq()
	for i, v := range xs {
		r := c.callFn(a[1], hofArgs(a[1], v, i, a[0])...)
		if !isUndef(r) {
			result.v = append(result.v, r)
		}
	}
	return result
}

func fnFilter(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	xs := items(a[0])
	result := newSeq()
	for i, v := range xs {
		if toBoolean(c.callFn(a[1], hofArgs(a[1], v, i, a[0])...)) {
			result.v = append(result.v, v)
		}
	}
	return result
}

func fnSingle(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	found := false
	var result any = undef
	for i, v := range items(a[0]) {
		ok := true
		if !isUndef(a[1]) {
			ok = toBoolean(c.callFn(a[1], hofArgs(a[1], v, i, a[0])...))
		}
		if ok {
			if found {
				panic(&Error{Code: "D3138", Token: c.name, Position: c.pos})
			}
			result = v
			found = true
		}
	}
	if !found {
		panic(&Error{Code: "D3139", Token: c.name, Position: c.pos})
	}
	return result
}

func fnReduce(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	n := arity(a[1])
	if n < 2 {
		panic(&Error{Code: "D3050", Token: c.name, Position: c.pos})
	}
	xs := items(a[0])
	var result any
	i := 0
	if isUndef(a[2]) && len(xs) > 0 {
		result = xs[0]
		i = 1
	} else {
		result = a[2]
	}
	for ; i < len(xs); i++ {
		args := []any{result, xs[i]}
		if n >= 3 {
			args = append(args, float64(i))
		}
		if n >= 4 {
			args = append(args, a[0])
		}
		result = c.callFn(a[1], args...)
	}
	return result
}

func fnSift(c *call, a []any) any {
	o, ok := a[0].(*value.Object)
	if !ok {
		return undef
	}
	result := value.NewObject(0)
	n := arity(a[1])
	for _, m := range members(o) {
		args := []any{m.Value}
		if n >= 2 {
			args = append(args, m.Key)
		}
		if n >= 3 {
			args = append(args, o)
		}
		if toBoolean(c.callFn(a[1], args...)) {
			result.Set(m.Key, m.Value)
		}
	}
	if result.Len() == 0 {
		return undef
	}
	return result
}

func fnEach(c *call, a []any) any {
	o, ok := a[0].(*value.Object)
	result := newSeq()
	if !ok {
		return result
	}
	n := arity(a[1])
	for _, m := range members(o) {
		args := []any{m.Value}
		if n >= 2 {
			args = append(args, m.Key)
		}
		if n >= 3 {
			args = append(args, o)
		}
		if r := c.callFn(a[1], args...); !isUndef(r) {
			result.v = append(result.v, r)
		}
	}
	return result
}

func fnKeys(c *call, a []any) any {
	result := newSeq()
	switch t := a[0].(type) {
	case []any, *seq:
		seen := newJSObject()
		for _, item := range items(t) {
			if o, ok := item.(*value.Object); ok {
				for _, m := range members(o) {
					seen.set(m.Key, true)
				}
			}
		}
		for _, k := range seen.keys() {
			result.v = append(result.v, k)
		}
	case *value.Object:
		for _, m := range members(t) {
			result.v = append(result.v, m.Key)
		}
	}
	return result
}

func fnSpread(c *call, a []any) any {
	switch t := a[0].(type) {
	case []any, *seq:
		var result any = newSeq()
		for _, item := range items(t) {
			result = appendValues(result, fnSpread(c, []any{item}))
		}
		return result
	case *value.Object:
		result := newSeq()
		for _, m := range members(t) {
			o := value.NewObject(1)
			o.Set(m.Key, m.Value)
			result.v = append(result.v, o)
		}
		return result
	}
	return a[0]
}

func fnMerge(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	result := newJSObject()
	for _, item := range items(a[0]) {
		if o, ok := item.(*value.Object); ok {
			for _, m := range members(o) {
				result.set(m.Key, m.Value)
			}
		}
	}
	return result.object()
}

func fnReverse(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	xs := items(a[0])
	if len(xs) <= 1 {
		return a[0]
	}
	out := make([]any, len(xs))
	for i, v := range xs {
		out[len(xs)-1-i] = v
	}
	return out
}

func fnError(c *call, a []any) any {
	msg, ok := strArg(a[0])
	if !ok || msg == "" {
		msg = "$error() function evaluated"
	}
	panic(&Error{Code: "D3137", Token: c.name, Message: msg})
}

func fnAssert(c *call, a []any) any {
	if b, ok := a[0].(bool); ok && !b {
		msg, ok := strArg(a[1])
		if !ok || msg == "" {
			msg = "$assert() statement failed"
		}
		panic(&Error{Code: "D3141", Token: c.name, Message: msg})
	}
	return undef
}

func fnType(c *call, a []any) any {
	switch a[0].(type) {
	case undefinedT:
		return undef
	case nil:
		return "null"
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any, *seq:
		return "array"
	}
	if isFunction(a[0]) {
		return "function"
	}
	return "object"
}

// jsTruthy is JavaScript's truthiness, which $sort applies to a comparator's result.
func jsTruthy(v any) bool {
	switch t := v.(type) {
	case undefinedT, nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case string:
		return t != ""
	}
	return true
}

func fnSort(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	xs := items(a[0])
	if len(xs) <= 1 {
		return a[0]
	}
	var swap func(x, y any) bool
	if isUndef(a[1]) {
		if !isArrayOfNumbers(xs) && !isArrayOfStrings(xs) {
			panic(&Error{Code: "D3070", Token: c.name, Position: c.pos})
		}
		swap = func(x, y any) bool {
			if xf, ok := x.(float64); ok {
				return xf > y.(float64)
			}
			return compareStrings(x.(string), y.(string)) > 0
		}
	} else {
		swap = func(x, y any) bool { return jsTruthy(c.callFn(a[1], x, y)) }
	}
	out := append([]any(nil), xs...)
	mergeSort(out, swap)
	return out
}

func fnShuffle(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	out := append([]any(nil), items(a[0])...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func fnDistinct(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	xs, ok := arr(a[0])
	if !ok || len(xs) <= 1 {
		return a[0]
	}
	var out []any
	for _, v := range xs {
		dup := false
		for _, r := range out {
			if deepEqual(v, r) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	if isSequence(a[0]) {
		return &seq{v: out, sequence: true}
	}
	return out
}

func fnZip(c *call, a []any) any {
	result := []any{}
	if len(a) == 0 {
		return result
	}
	n := math.MaxInt
	for _, x := range a {
		xs, ok := arr(x)
		if !ok {
			n = 0
			break
		}
		n = min(n, len(xs))
	}
	for i := 0; i < n; i++ {
		t := make([]any, len(a))
		for j, x := range a {
			xs, _ := arr(x)
			t[j] = xs[i]
		}
		result = append(result, t)
	}
	return result
}

// Node's Buffer with the 'binary' encoding: one byte per UTF-16 unit, the
// high bits dropped.
func fnBase64Encode(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	units := utf16Units(s)
	b := make([]byte, len(units))
	for i, u := range units {
		b[i] = byte(u)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func fnBase64Decode(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	// Node's decoder is lenient: it ignores padding and stray characters.
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/':
			return r
		case r == '-':
			return '+'
		case r == '_':
			return '/'
		}
		return -1
	}, s)
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	b, _ := base64.RawStdEncoding.DecodeString(clean)
	rs := make([]rune, len(b))
	for i, x := range b {
		rs[i] = rune(x)
	}
	return string(rs)
}

func fnClone(c *call, a []any) any {
	if isUndef(a[0]) {
		return undef
	}
	// jsonata-js clones through $string's JSON text, so numbers keep 15
	// significant digits and functions become ""
	return stringifyValue(a[0])
}

func fnEval(c *call, a []any) any {
	src, ok := strArg(a[0])
	if !ok {
		return undef
	}
	input := c.input
	if !isUndef(a[1]) {
		input = a[1]
		if x, ok := input.([]any); ok {
			input = &seq{v: []any{x}, sequence: true, outerWrapper: true}
		}
	}
	root, err := parse(src)
	if err != nil {
		e := err.(*Error)
		e.populate(nil)
		panic(&Error{Code: "D3120", Token: c.name, Value: e.Message, Position: c.pos})
	}
	return evalCatching(c.env, root, input)
}

// evalCatching runs $eval's nested evaluation; its errors become D3121.
func evalCatching(env *frame, root *node, input any) any {
	res, err := runGuarded(func() any { return env.eval(root, input) })
	if err != nil {
		err.populate(nil)
		panic(&Error{Code: "D3121", Token: "eval", Value: err.Message})
	}
	return res
}
