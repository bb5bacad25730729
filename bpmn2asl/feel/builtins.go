package feel

import (
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
)

// builtin translates one FEEL function; min/max bound its argument count
// (max < 0: variadic).
type builtin struct {
	min, max int
	emit     func(g *gen, c *call, s *scope) js
}

// jsonataFunctions are JSONata's built-ins plus the Step Functions
// additions. A process variable with one of these names would shadow the
// function for the whole expression, so such names are rejected.
var jsonataFunctions = setOf("abs", "append", "assert", "average", "base64decode", "base64encode",
	"boolean", "ceil", "contains", "count", "decodeUrl", "decodeUrlComponent", "distinct", "each",
	"encodeUrl", "encodeUrlComponent", "error", "eval", "exists", "filter", "floor", "formatBase",
	"formatInteger", "formatNumber", "fromMillis", "join", "keys", "length", "lookup", "lowercase",
	"map", "match", "max", "merge", "millis", "min", "not", "now", "number", "pad", "parseInteger",
	"power", "random", "reduce", "replace", "reverse", "round", "shuffle", "sift", "single", "sort",
	"split", "spread", "sqrt", "string", "substring", "substringAfter", "substringBefore", "sum",
	"toMillis", "trim", "type", "uppercase", "zip",
	// Step Functions' JSONata extensions.
	"partition", "range", "hash", "uuid", "parse")

// unsupportedFunctions are FEEL built-ins recognised (so that multi-word
// names parse as one call) but not translated.
var unsupportedFunctions = setOf("years and months duration", "index of", "insert before",
	"get entries", "context put", "context merge", "last day of month", "list replace",
	"median", "stddev", "mode", "extract", "is", "before", "after", "meets", "overlaps", "includes",
	"during", "starts", "finishes", "string format", "from json", "to json", "round half even",
	"random number", "uuid", "log", "exp", "partition", "duplicate values", "context", "time zone",
	"environment variable", "met by", "overlapped by", "started by", "finished by", "coincides")

var builtins map[string]builtin

// knownFunctions are all FEEL function names the parser recognises.
var knownFunctions = map[string]bool{}

func init() {
	builtins = map[string]builtin{
		"not":             {1, 1, func(g *gen, c *call, s *scope) js { return not(g.expr(c.args[0], s)) }},
		"string length":   {1, 1, fnN("$length", kNum, "string")},
		"upper case":      {1, 1, fnN("$uppercase", kStr, "string")},
		"lower case":      {1, 1, fnN("$lowercase", kStr, "string")},
		"substring":       {2, 3, substring},
		"contains":        {2, 2, fnN("$contains", kBool, "string", "string")},
		"starts with":     {2, 2, startsWith},
		"ends with":       {2, 2, endsWith},
		"matches":         {2, 3, matches},
		"replace":         {3, 4, replace},
		"split":           {2, 2, split},
		"string join":     {1, 2, stringJoin},
		"number":          {1, 1, numberFn},
		"string":          {1, 1, stringFn},
		"abs":             {1, 1, fnN("$abs", kNum, "number")},
		"floor":           {1, 1, fnN("$floor", kNum, "number")},
		"ceiling":         {1, 1, fnN("$ceil", kNum, "number")},
		"sqrt":            {1, 1, fnN("$sqrt", kNum, "number")},
		"decimal":         {2, 2, fnN("$round", kNum, "number", "number")},
		"round half up":   {1, 2, rounding("$floor", " + 0.5")},
		"round half down": {1, 2, rounding("$ceil", " - 0.5")},
		"round up":        {1, 2, rounding("$ceil", "")},
		"round down":      {1, 2, rounding("$floor", "")},
		"modulo":          {2, 2, modulo},
		"min":             {1, -1, aggregate("$min", kUnknown)},
		"max":             {1, -1, aggregate("$max", kUnknown)},
		"sum":             {1, -1, aggregate("$sum", kNum)},
		"mean":            {1, -1, aggregate("$average", kNum)},
		"count":           {1, 1, fnN("$count", kNum)},
		"all":             {1, -1, all},
		"any":             {1, -1, anyOf},
		"append":          {1, -1, appendFn},
		"concatenate":     {1, -1, concatenate},
		"list contains":   {2, 2, listContains},
		"distinct values": {1, 1, listFn("$distinct")},
		"reverse":         {1, 1, listFn("$reverse")},
		"flatten":         {1, 1, flatten},
		"sort":            {1, 2, sortFn},
		"is defined":      {1, 1, fnN("$exists", kBool)},
		"get or else":     {2, 2, getOrElse},
		"date":            {1, 3, dateFn},
		"time":            {1, 1, timeFn},
		"date and time":   {1, 2, dateTimeFn},
		"now":             {0, 0, func(*gen, *call, *scope) js { return js{text: "$now()", prec: pAtom, typ: kDateTime, total: true} }},
		"today": {0, 0, func(*gen, *call, *scope) js {
			return js{text: "$substring($now(), 0, 10)", prec: pAtom, typ: kDate, total: true}
		}},
		"duration":         {1, 1, durationFn},
		"substring before": {2, 2, substringAround("$substringBefore")},
		"substring after":  {2, 2, substringAround("$substringAfter")},
		"trim": {1, 1, func(g *gen, c *call, s *scope) js {
			return g.typedArgs(c, s, []string{"string"}, func(a []js) js {
				return js{text: "$replace(" + a[0].text + `, /^\s+|\s+$/, "")`, prec: pAtom, typ: kStr}
			})
		}},
		"is empty": {1, 1, func(g *gen, c *call, s *scope) js {
			return js{text: "$count(" + g.expr(c.args[0], s).text + ") = 0", prec: pCmp, typ: kBool, total: true}
		}},
		"product": {1, -1, func(g *gen, c *call, s *scope) js {
			return g.numbers(listArg(g, c, s), func(l js) js {
				return js{text: "$reduce(" + l.text + ", function($a, $b) { $a * $b })", prec: pAtom, typ: kNum}
			})
		}},
		"odd":           {1, 1, parity(" != 0")},
		"even":          {1, 1, parity(" = 0")},
		"get value":     {2, 2, fnN("$lookup", kUnknown)},
		"day of week":   {1, 1, datePicture(`"[FNn]"`, false)},
		"month of year": {1, 1, datePicture(`"[MNn]"`, false)},
		"day of year":   {1, 1, datePicture(`"[d]"`, true)},
		"week of year":  {1, 1, datePicture(`"[W]"`, true)},
		"sublist":       {2, 3, sublist},
		"remove":        {2, 2, remove},
		"union": {1, -1, func(g *gen, c *call, s *scope) js {
			r := concatenate(g, c, s)
			return js{text: "[$distinct(" + r.text + ")]", prec: pAtom, typ: kList, total: true, ctor: true}
		}},
	}
	for k := range builtins {
		knownFunctions[k] = true
	}
	for k := range unsupportedFunctions {
		knownFunctions[k] = true
	}
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// supportedList is the hint listing every supported function.
func supportedList() string {
	names := make([]string, 0, len(builtins))
	for k := range builtins {
		names = append(names, k)
	}
	sort.Strings(names)
	return "supported: " + strings.Join(names, ", ")
}

func (g *gen) call(c *call, s *scope) js {
	b, ok := builtins[c.fn]
	if !ok {
		g.fail(c.off, "FEEL function '"+c.fn+"' is not supported", supportedList())
	}
	if len(c.args) < b.min || b.max >= 0 && len(c.args) > b.max {
		want := strconv.Itoa(b.min)
		switch {
		case b.max < 0:
			want = "at least " + want
		case b.max != b.min:
			want += " to " + strconv.Itoa(b.max)
		}
		g.fail(c.off, "function '"+c.fn+"' takes "+want+" argument(s), got "+strconv.Itoa(len(c.args)), "")
	}
	return b.emit(g, c, s)
}

func (g *gen) args(c *call, s *scope) []string {
	out := make([]string, len(c.args))
	for i, a := range c.args {
		out[i] = g.expr(a, s).text
	}
	return out
}

// fnN maps a FEEL function onto a JSONata one; want lists the JSONata
// types the leading arguments must have (see gen.typed).
func fnN(name string, t kind, want ...string) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		return g.typedArgs(c, s, want, func(a []js) js {
			texts := make([]string, len(a))
			for i, x := range a {
				texts[i] = x.text
			}
			r := js{text: name + "(" + strings.Join(texts, ", ") + ")", prec: pAtom, typ: t}
			r.total = name == "$exists" || name == "$count"
			return r
		})
	}
}

// typedArgs translates the arguments of c and applies gen.typed to them.
func (g *gen) typedArgs(c *call, s *scope, want []string, body func([]js) js) js {
	ops := make([]js, len(c.args))
	offs := make([]int, len(c.args))
	w := make([]string, len(c.args))
	for i, a := range c.args {
		ops[i], offs[i] = g.expr(a, s), a.pos()
		if i < len(want) {
			w[i] = want[i]
		}
	}
	return g.typed(c.fn, offs, ops, w, body)
}

// numberFn converts a string in JSON number syntax, which is what
// JSONata's $number accepts; anything else is null, as in FEEL (where
// $number would raise an error).
func numberFn(g *gen, c *call, s *scope) js {
	return g.typedArgs(c, s, []string{"string"}, func(a []js) js {
		return g.bind(a[0], func(v js) js {
			return js{text: "$contains(" + v.text + `, /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/) ? $number(` + v.text + ")", prec: pCond, typ: kNum}
		})
	})
}

// stringFn keeps null as null (JSONata's $string(null) is "null").
func stringFn(g *gen, c *call, s *scope) js {
	x := g.expr(c.args[0], s)
	if x.typ == kStr || x.typ == kDate || x.typ == kDateTime || x.typ == kTime || x.typ == kDuration {
		return x
	}
	if x.total && x.typ != kUnknown && x.typ != kNull {
		return js{text: "$string(" + x.text + ")", prec: pAtom, typ: kStr, total: true}
	}
	return g.bind(x, func(v js) js {
		return js{text: wrap(v, pCmp+1) + " != null ? $string(" + v.text + ")", prec: pCond, typ: kStr}
	})
}

// stringJoin skips nulls like FEEL (JSONata's $join rejects them).
func stringJoin(g *gen, c *call, s *scope) js {
	l := g.expr(c.args[0], s)
	base := wrap(l, pPath)
	if l.ctor {
		base = "(" + l.text + ")"
	}
	list := base + `[$type($) = "string"]`
	// An empty list joins to "" (JSONata: undefined).
	orEmpty := func(j js) js {
		return g.bind(j, func(v js) js {
			return js{text: "$exists(" + v.text + `) ? ` + v.text + ` : ""`, prec: pCond, typ: kStr, total: true}
		})
	}
	if len(c.args) == 1 {
		return orEmpty(js{text: "$join(" + list + ")", prec: pAtom, typ: kStr})
	}
	return g.typed(c.fn, []int{c.args[1].pos()}, []js{g.expr(c.args[1], s)}, []string{"string"}, func(d []js) js {
		return orEmpty(js{text: "$join(" + list + ", " + d[0].text + ")", prec: pAtom, typ: kStr})
	})
}

// listFn keeps FEEL's list result even for one element, which JSONata
// functions return unwrapped.
func listFn(name string) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		return js{text: "[" + name + "(" + g.expr(c.args[0], s).text + ")]", prec: pAtom, typ: kList, total: true, ctor: true}
	}
}

// aggregate handles FEEL's two call forms: f(list) and f(a, b, c). The
// JSONata functions accept numbers only and raise an error on anything
// else; then the result is undefined (FEEL: null) instead.
func aggregate(name string, t kind) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		if len(c.args) > 1 {
			ops := make([]js, len(c.args))
			offs := make([]int, len(c.args))
			want := make([]string, len(c.args))
			for i, a := range c.args {
				ops[i], offs[i], want[i] = g.expr(a, s), a.pos(), "number"
			}
			return g.typed(c.fn, offs, ops, want, func(a []js) js {
				texts := make([]string, len(a))
				for i, x := range a {
					texts[i] = x.text
				}
				return js{text: name + "([" + strings.Join(texts, ", ") + "])", prec: pAtom, typ: t}
			})
		}
		return g.numbers(g.expr(c.args[0], s), func(l js) js {
			return js{text: name + "(" + l.text + ")", prec: pAtom, typ: t}
		})
	}
}

// numbers guards a list for the numeric JSONata aggregates.
func (g *gen) numbers(l js, body func(js) js) js {
	return g.bind(l, func(l js) js {
		base := wrap(l, pPath)
		if l.ctor {
			base = "(" + l.text + ")"
		}
		return js{text: "$count(" + base + `[$type($) != "number"]) = 0 ? ` + wrap(body(l), pCond+1), prec: pCond, typ: kNum}
	})
}

func listArg(g *gen, c *call, s *scope) js {
	if len(c.args) == 1 {
		return g.expr(c.args[0], s)
	}
	return js{text: "[" + strings.Join(g.args(c, s), ", ") + "]", prec: pAtom, typ: kList, total: true, ctor: true}
}

// zeroBased converts a FEEL 1-based string position (negative: from the
// end) to JSONata's 0-based one.
func (g *gen) zeroBased(p js, off int) js {
	if p.isNum {
		switch {
		case p.num == 0:
			g.fail(off, "FEEL positions start at 1", "")
		case p.num > 0:
			return numJS(p.num - 1)
		}
		return p
	}
	return g.bind(p, func(v js) js {
		return js{text: v.text + " > 0 ? " + v.text + " - 1 : " + v.text, prec: pCond, typ: kNum}
	})
}

func substring(g *gen, c *call, s *scope) js {
	return g.typedArgs(c, s, []string{"string", "number", "number"}, func(a []js) js {
		texts := []string{a[0].text, g.zeroBased(a[1], c.args[1].pos()).text}
		if len(a) == 3 {
			texts = append(texts, a[2].text)
		}
		return js{text: "$substring(" + strings.Join(texts, ", ") + ")", prec: pAtom, typ: kStr}
	})
}

func startsWith(g *gen, c *call, s *scope) js {
	return g.typedArgs(c, s, []string{"string", "string"}, func(a []js) js {
		return g.bind(a[1], func(p js) js {
			return js{text: "$substring(" + a[0].text + ", 0, $length(" + p.text + ")) = " + wrap(p, pCmp+1), prec: pCmp, typ: kBool, total: true}
		})
	})
}

func endsWith(g *gen, c *call, s *scope) js {
	return g.typedArgs(c, s, []string{"string", "string"}, func(a []js) js {
		return g.bind(a[0], func(str js) js {
			return g.bind(a[1], func(p js) js {
				return js{text: "$length(" + str.text + ") >= $length(" + p.text + ") and $substring(" + str.text +
					", $length(" + str.text + ") - $length(" + p.text + ")) = " + wrap(p, pCmp+1), prec: pAnd, typ: kBool, total: true}
			})
		})
	})
}

// regex turns a FEEL pattern (a string literal) and flags into a JSONata
// regex literal. JSONata needs the pattern at parse time, so dynamic
// patterns are rejected; patterns are checked with Go's parser, whose
// syntax is close to the JavaScript engine's for the common subset.
func (g *gen) regex(pat node, flags node, emptyOK bool) string {
	lit, ok := pat.(*strLit)
	if !ok {
		g.fail(pat.pos(), "the pattern must be a string literal", "JSONata regular expressions are fixed when the expression is parsed")
	}
	if lit.val == "" {
		g.fail(pat.pos(), "empty pattern", "")
	}
	if strings.Contains(lit.val, "(?") && regexp.MustCompile(`\(\?[a-zA-Z]`).MatchString(lit.val) && !strings.Contains(lit.val, "(?<") {
		g.fail(pat.pos(), "inline flags (?i) are not supported", "pass flags as the last argument, e.g. matches(x, \"a\", \"i\")")
	}
	if _, err := syntax.Parse(lit.val, syntax.Perl); err != nil {
		g.fail(pat.pos(), "invalid pattern: "+err.Error(), "")
	}
	if re, err := regexp.Compile(lit.val); err == nil && re.MatchString("") && !emptyOK {
		g.fail(pat.pos(), "the pattern matches the empty string", "JSONata's $replace and $split reject such patterns; use + instead of *")
	}
	fl := ""
	if flags != nil {
		f, ok := flags.(*strLit)
		if !ok {
			g.fail(flags.pos(), "flags must be a string literal", "")
		}
		for _, r := range f.val {
			switch r {
			case 'i', 'm':
				if !strings.ContainsRune(fl, r) {
					fl += string(r)
				}
			default:
				g.fail(flags.pos(), "flag '"+string(r)+"' is not supported", "JSONata supports the flags i and m")
			}
		}
	}
	// Escape '/' that is not already escaped: it would end the literal.
	var b strings.Builder
	esc := false
	for _, r := range lit.val {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r == '/':
			b.WriteByte('\\')
		case r == '\n':
			b.WriteString(`\n`)
			continue
		case r == '\r':
			b.WriteString(`\r`)
			continue
		}
		b.WriteRune(r)
	}
	return "/" + b.String() + "/" + fl
}

func matches(g *gen, c *call, s *scope) js {
	var flags node
	if len(c.args) == 3 {
		flags = c.args[2]
	}
	re := g.regex(c.args[1], flags, true)
	return g.typed(c.fn, []int{c.args[0].pos()}, []js{g.expr(c.args[0], s)}, []string{"string"}, func(a []js) js {
		return js{text: "$contains(" + a[0].text + ", " + re + ")", prec: pAtom, typ: kBool, total: a[0].total}
	})
}

func replace(g *gen, c *call, s *scope) js {
	var flags node
	if len(c.args) == 4 {
		flags = c.args[3]
	}
	re := g.regex(c.args[1], flags, false)
	ops := []js{g.expr(c.args[0], s), g.expr(c.args[2], s)}
	return g.typed(c.fn, []int{c.args[0].pos(), c.args[2].pos()}, ops, []string{"string", "string"}, func(a []js) js {
		return js{text: "$replace(" + a[0].text + ", " + re + ", " + a[1].text + ")", prec: pAtom, typ: kStr}
	})
}

func split(g *gen, c *call, s *scope) js {
	re := g.regex(c.args[1], nil, false)
	return g.typed(c.fn, []int{c.args[0].pos()}, []js{g.expr(c.args[0], s)}, []string{"string"}, func(a []js) js {
		return js{text: "[$split(" + a[0].text + ", " + re + ")]", prec: pAtom, typ: kList, ctor: true}
	})
}

// rounding implements FEEL's round half up/down, up and down (away from or
// toward zero) on |n|·10^scale. $round(…, 9) first removes binary
// floating-point noise (2.675·100 = 267.49999…) that FEEL's decimals do
// not have.
func rounding(fn, adjust string) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		return g.typedArgs(c, s, []string{"number", "number"}, func(a []js) js {
			scale := "1"
			if len(a) == 2 {
				sc := a[1]
				if sc.isNum {
					if sc.num != math.Trunc(sc.num) || math.Abs(sc.num) > 20 {
						g.fail(c.args[1].pos(), "scale must be an integer between -20 and 20", "")
					}
					scale = numJS(math.Pow(10, sc.num)).text
				} else {
					scale = "$power(10, " + sc.text + ")"
				}
			}
			return g.bind(a[0], func(n js) js {
				body := fn + "($round($abs(" + n.text + ") * " + scale + ", 9)" + adjust + ")"
				if scale != "1" {
					body += " / " + wrap(js{text: scale, prec: pAtom}, pMul+1)
				}
				return js{text: "(" + wrap(n, pCmp+1) + " < 0 ? -1 : 1) * " + body, prec: pMul, typ: kNum}
			})
		})
	}
}

// modulo follows FEEL: the result has the divisor's sign (JavaScript's %
// has the dividend's).
func modulo(g *gen, c *call, s *scope) js {
	return g.typedArgs(c, s, []string{"number", "number"}, func(a []js) js {
		return g.bind(a[1], func(b js) js {
			return js{text: "(" + wrap(a[0], pMul) + " % " + wrap(b, pMul+1) + " + " + wrap(b, pAdd+1) + ") % " + wrap(b, pMul+1), prec: pMul, typ: kNum}
		})
	})
}

// all is true when every element is true (FEEL's null cases give false).
func all(g *gen, c *call, s *scope) js {
	return g.bind(listArg(g, c, s), func(l js) js {
		return js{text: "$count(" + wrap(l, pPath) + "[$ = true]) = $count(" + l.text + ")", prec: pCmp, typ: kBool, total: true}
	})
}

func anyOf(g *gen, c *call, s *scope) js {
	return js{text: "true in " + wrap(listArg(g, c, s), pCmp+1), prec: pCmp, typ: kBool, total: true}
}

// appendFn adds each item as one element, also when the item is itself a
// list: in a JSONata array constructor a nested constructor stays one
// element while any other list value is spliced in.
func appendFn(g *gen, c *call, s *scope) js {
	acc := g.expr(c.args[0], s)
	var elems []string
	flush := func() {
		if len(elems) > 0 {
			acc = js{text: "$append(" + acc.text + ", [" + strings.Join(elems, ", ") + "])", prec: pAtom, typ: kList}
			elems = nil
		}
	}
	for _, a := range c.args[1:] {
		it := g.expr(a, s)
		switch {
		case it.typ == kList && it.ctor:
			elems = append(elems, it.text)
		case it.typ == kList:
			elems = append(elems, "["+it.text+"]")
		case it.typ != kUnknown:
			elems = append(elems, it.text)
		default:
			flush()
			prev := acc
			acc = g.bind(it, func(v js) js {
				return js{text: "$append(" + prev.text + ", $type(" + v.text + `) = "array" ? [[` + v.text + "]] : [" + v.text + "])", prec: pAtom, typ: kList}
			})
		}
	}
	flush()
	if acc.typ != kList {
		acc = js{text: "[" + acc.text + "]", prec: pAtom, typ: kList, total: true, ctor: true}
	}
	return acc
}

func concatenate(g *gen, c *call, s *scope) js {
	a := g.args(c, s)
	acc := "[" + a[0] + "]"
	if len(a) > 1 {
		acc = a[0]
	}
	for _, x := range a[1:] {
		acc = "$append(" + acc + ", " + x + ")"
	}
	return js{text: acc, prec: pAtom, typ: kList}
}

func listContains(g *gen, c *call, s *scope) js {
	l, e := g.expr(c.args[0], s), g.expr(c.args[1], s)
	if e.typ == kNull {
		return js{text: "null in " + wrap(l, pCmp+1), prec: pCmp, typ: kBool, total: true}
	}
	return js{text: wrap(e, pCmp+1) + " in " + wrap(l, pCmp+1), prec: pCmp, typ: kBool, total: true}
}

// flatten flattens nested lists at every depth with a recursive lambda.
func flatten(g *gen, c *call, s *scope) js {
	f := g.temp()
	return js{text: "(" + f + " := function($l) { $type($l) = \"array\" ? $reduce($l, function($a, $v) { $append($a, " + f +
		"($v)) }, []) : [$l] }; " + f + "(" + g.expr(c.args[0], s).text + "))", prec: pAtom, typ: kList, total: true}
}

// sortFn maps FEEL's precedes(x, y) ("x comes first") onto JSONata's
// comparator(a, b) ("swap: a comes after b"), i.e. precedes(b, a).
func sortFn(g *gen, c *call, s *scope) js {
	l := g.expr(c.args[0], s)
	if len(c.args) == 1 {
		// $sort without a comparator raises an error on mixed types.
		return g.bind(l, func(l js) js {
			base := wrap(l, pPath)
			if l.ctor {
				base = "(" + l.text + ")"
			}
			return js{text: "$count(" + base + `[$type($) = "number"]) = $count(` + l.text + ") or $count(" + base +
				`[$type($) = "string"]) = $count(` + l.text + ") ? [$sort(" + l.text + ")]", prec: pCond, typ: kList}
		})
	}
	f, ok := c.args[1].(*fnDef)
	if !ok || len(f.params) != 2 {
		g.fail(c.args[1].pos(), "sort needs a function(x, y) literal as its second argument", "write: sort(xs, function(x, y) x < y)")
	}
	x, y := g.local(f.params[0]), g.local(f.params[1])
	if x == y {
		y = g.temp()
	}
	inner := &scope{parent: s, vars: map[string]js{f.params[0]: {text: x, prec: pAtom, simple: true}, f.params[1]: {text: y, prec: pAtom, simple: true}}}
	body := boolish(g.expr(f.body, inner))
	return js{text: "[$sort(" + l.text + ", function(" + y + ", " + x + ") { " + body.text + " })]", prec: pAtom, typ: kList, total: true, ctor: true}
}

func getOrElse(g *gen, c *call, s *scope) js {
	d := g.expr(c.args[1], s)
	return g.bind(g.expr(c.args[0], s), func(v js) js {
		r := js{text: wrap(v, pCmp+1) + " != null ? " + v.text + " : " + wrap(d, pCond+1), prec: pCond, total: d.total}
		if v.typ == d.typ {
			r.typ = v.typ
		}
		return r
	})
}

var (
	dateRe     = regexp.MustCompile(`^-?\d{4,9}-\d{2}-\d{2}$`)
	timeRe     = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
	durationRe = regexp.MustCompile(`^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func validTime(s string) bool {
	if !timeRe.MatchString(s) {
		return false
	}
	h, _ := strconv.Atoi(s[0:2])
	m, _ := strconv.Atoi(s[3:5])
	sec, _ := strconv.Atoi(s[6:8])
	return h < 24 && m < 60 && sec < 60
}

func dateFn(g *gen, c *call, s *scope) js {
	switch len(c.args) {
	case 1:
		a := g.expr(c.args[0], s)
		if lit, ok := c.args[0].(*strLit); ok {
			if !validDate(lit.val) {
				g.fail(c.args[0].pos(), "invalid date \""+lit.val+"\"", "write date(\"2024-12-31\")")
			}
			return strJS(lit.val, kDate)
		}
		if a.typ == kDate {
			return a
		}
		// The date part of an ISO date or date-time string.
		return g.typed(c.fn, []int{c.args[0].pos()}, []js{a}, []string{"datetime"}, func(a []js) js {
			return js{text: "$substring(" + a[0].text + ", 0, 10)", prec: pAtom, typ: kDate}
		})
	case 3:
		ys := make([]js, 3)
		allLit := true
		for i, a := range c.args {
			ys[i] = g.expr(a, s)
			allLit = allLit && ys[i].isNum
		}
		if allLit {
			d := strconv.FormatFloat(ys[0].num, 'f', -1, 64)
			for len(d) < 4 {
				d = "0" + d
			}
			lit := d + "-" + pad2(ys[1].num) + "-" + pad2(ys[2].num)
			if !validDate(lit) {
				g.fail(c.off, "invalid date "+lit, "")
			}
			return strJS(lit, kDate)
		}
		offs := []int{c.args[0].pos(), c.args[1].pos(), c.args[2].pos()}
		return g.typed(c.fn, offs, ys, []string{"number", "number", "number"}, func(ys []js) js {
			return js{text: "$formatInteger(" + ys[0].text + `, "0000") & "-" & $formatInteger(` + ys[1].text +
				`, "00") & "-" & $formatInteger(` + ys[2].text + `, "00")`, prec: pAdd, typ: kDate}
		})
	}
	g.fail(c.off, "function 'date' takes 1 or 3 arguments", "")
	return js{}
}

func pad2(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

func timeFn(g *gen, c *call, s *scope) js {
	a := g.expr(c.args[0], s)
	if lit, ok := c.args[0].(*strLit); ok {
		if !validTime(lit.val) {
			g.fail(c.args[0].pos(), "invalid time \""+lit.val+"\"", "write time(\"10:30:00\")")
		}
		return strJS(lit.val, kTime)
	}
	dt := a.typ == kDateTime
	return g.typed(c.fn, []int{c.args[0].pos()}, []js{a}, []string{"string"}, func(a []js) js {
		if dt {
			return js{text: "$substring(" + a[0].text + ", 11, 8)", prec: pAtom, typ: kTime}
		}
		r := a[0]
		r.typ = kTime
		return r
	})
}

func dateTimeFn(g *gen, c *call, s *scope) js {
	if len(c.args) == 2 {
		d, t := g.expr(c.args[0], s), g.expr(c.args[1], s)
		if d.typ == kDateTime {
			d = js{text: "$substring(" + d.text + ", 0, 10)", prec: pAtom, typ: kDate, total: d.total}
		}
		offs := []int{c.args[0].pos(), c.args[1].pos()}
		return g.typed(c.fn, offs, []js{d, t}, []string{"string", "string"}, func(a []js) js {
			// Only a valid ISO date-time is one (later $toMillis would fail).
			return g.bind(g.concat(g.concat(a[0], strJS("T", kStr)), a[1]), func(r js) js {
				return js{text: "$contains(" + r.text + ", " + isoRegex + ") ? " + r.text, prec: pCond, typ: kDateTime}
			})
		})
	}
	a := g.expr(c.args[0], s)
	if lit, ok := c.args[0].(*strLit); ok {
		i := strings.IndexByte(lit.val, 'T')
		if i < 0 || !validDate(lit.val[:i]) || !validTime(lit.val[i+1:]) {
			g.fail(c.args[0].pos(), "invalid date and time \""+lit.val+"\"", "write date and time(\"2024-12-31T10:30:00Z\")")
		}
		return strJS(lit.val, kDateTime)
	}
	date := a.typ == kDate
	return g.typed(c.fn, []int{c.args[0].pos()}, []js{a}, []string{"datetime"}, func(a []js) js {
		r := a[0]
		if date {
			r = g.concat(r, strJS("T00:00:00", kStr))
		}
		r.typ = kDateTime
		return r
	})
}

// durationFn accepts literal ISO 8601 durations only: arithmetic needs the
// length at translation time (JSONata has no duration type).
func durationFn(g *gen, c *call, s *scope) js {
	lit, ok := c.args[0].(*strLit)
	if !ok {
		g.fail(c.args[0].pos(), "duration() needs a string literal", "write duration(\"P30D\")")
	}
	m := durationRe.FindStringSubmatch(lit.val)
	if m == nil || lit.val == "P" || lit.val == "-P" || strings.HasSuffix(lit.val, "T") {
		g.fail(c.args[0].pos(), "invalid duration \""+lit.val+"\"", "write ISO 8601 such as \"P30D\" or \"PT12H\"")
	}
	num := func(s string) float64 {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	r := strJS(lit.val, kDuration)
	r.ym = m[2] != "" || m[3] != ""
	if r.ym && (m[4] != "" || m[5] != "" || m[6] != "" || m[7] != "") {
		g.fail(c.args[0].pos(), "a duration mixes years/months with days/time", "FEEL durations are either years-months or days-time")
	}
	ms := ((num(m[4])*24+num(m[5]))*60+num(m[6]))*60*1000 + num(m[7])*1000
	if ms > 1e15 {
		g.fail(c.args[0].pos(), "duration too long", "")
	}
	r.ms = int64(math.Round(ms))
	if r.ym {
		months := num(m[2])*12 + num(m[3])
		if months > 1e6 {
			g.fail(c.args[0].pos(), "duration too long", "")
		}
		r.ms = int64(months)
	}
	if m[1] != "" {
		r.ms = -r.ms
	}
	return r
}

// substringAround guards $substringBefore/After, which return the whole
// string when the match is missing where FEEL returns "".
func substringAround(fn string) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		return g.typedArgs(c, s, []string{"string", "string"}, func(a []js) js {
			return g.bind(a[0], func(str js) js {
				return g.bind(a[1], func(m js) js {
					return js{text: "$contains(" + str.text + ", " + m.text + ") ? " + fn + "(" + str.text + ", " + m.text + `) : ""`, prec: pCond, typ: kStr}
				})
			})
		})
	}
}

func parity(test string) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		return g.typedArgs(c, s, []string{"number"}, func(a []js) js {
			return js{text: wrap(a[0], pMul+1) + " % 2" + test, prec: pCmp, typ: kBool, total: true}
		})
	}
}

// dateOnly returns the ISO date part of a date, date-time or string, so
// calendar functions see the written local date rather than UTC.
func (g *gen) dateOnly(n node, s *scope) js {
	d := g.expr(n, s)
	if d.typ == kDate {
		return d
	}
	return g.typed("date function", []int{n.pos()}, []js{d}, []string{"datetime"}, func(a []js) js {
		return js{text: "$substring(" + a[0].text + ", 0, 10)", prec: pAtom, typ: kDate}
	})
}

// datePicture formats a date with an XPath picture ([FNn] = Monday).
func datePicture(picture string, number bool) func(*gen, *call, *scope) js {
	return func(g *gen, c *call, s *scope) js {
		t := "$fromMillis($toMillis(" + g.dateOnly(c.args[0], s).text + "), " + picture + ")"
		if number {
			return js{text: "$number(" + t + ")", prec: pAtom, typ: kNum}
		}
		return js{text: t, prec: pAtom, typ: kStr}
	}
}

// position0 converts a FEEL 1-based list position (negative from the end)
// into a 0-based index into the bound list l.
func (g *gen) position0(n node, l js, s *scope) js {
	p := g.expr(n, s)
	if p.isNum {
		switch {
		case p.num > 0:
			return numJS(p.num - 1)
		case p.num < 0:
			return js{text: "$count(" + l.text + ") - " + numJS(-p.num).text, prec: pAdd, typ: kNum}
		}
		g.fail(n.pos(), "FEEL positions start at 1", "")
	}
	return g.bind(p, func(v js) js {
		return js{text: v.text + " > 0 ? " + v.text + " - 1 : $count(" + l.text + ") + " + v.text, prec: pCond, typ: kNum}
	})
}

func sublist(g *gen, c *call, s *scope) js {
	return g.bind(g.expr(c.args[0], s), func(l js) js {
		return g.bind(g.position0(c.args[1], l, s), func(start js) js {
			cond := "$i >= " + wrap(start, pCmp+1)
			if len(c.args) == 3 {
				cond += " and $i < " + wrap(start, pAdd) + " + " + wrap(g.expr(c.args[2], s), pAdd+1)
			}
			return js{text: "[$filter(" + l.text + ", function($v, $i) { " + cond + " })]", prec: pAtom, typ: kList, total: true, ctor: true}
		})
	})
}

func remove(g *gen, c *call, s *scope) js {
	return g.bind(g.expr(c.args[0], s), func(l js) js {
		p := g.position0(c.args[1], l, s)
		return js{text: "[$filter(" + l.text + ", function($v, $i) { $i != " + wrap(p, pCmp+1) + " })]", prec: pAtom, typ: kList, total: true, ctor: true}
	})
}
