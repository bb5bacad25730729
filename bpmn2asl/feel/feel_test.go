package feel

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// translateCases pin the emitted JSONata text; TestSemantics also checks
// that each output compiles with jsonata.
var translateCases = []struct{ feel, want string }{
	{"x", "$x"},
	{"=a.b.c", "$a.b.c"},
	{"a.`first name`", "$a.`first name`"},
	{"a.and", "$a.`and`"},
	{"1.50", "1.5"},
	{".5", "0.5"},
	{"1e3", "1000"},
	{"\"a\\\"b\"", "\"a\\\"b\""},
	{"true", "true"},
	{"null", "null"},
	{"[1, x]", "($__1 := function($v) { $type($v) = \"array\" ? [[$v]] : $exists($v) ? [$v] : [null] }; $append([1], $__1($x)))"},
	{"[1, \"a\", [2], {k: x}]", "[1, \"a\", [2], {\"k\": $x}]"},
	{"{a: 1, \"b c\": x}", "{\"a\": 1, \"b c\": $x}"},
	{"x = 5", "$x = 5"},
	{"x = null", "$not($x != null)"},
	{"x != null", "$x != null"},
	{"x != 5", "$not($x = 5)"},
	{"x = \"a\"", "$x = \"a\""},
	{"x > 5", "$type($x) = \"number\" and $x > 5"},
	{"x < y", "$type($x) in [\"number\", \"string\"] and $type($y) = $type($x) and $x < $y"},
	{"x >= \"m\"", "$type($x) = \"string\" and $x >= \"m\""},
	{"count(xs) > 2", "$count($xs) > 2"},
	{"a and b", "$a = true and $b = true"},
	{"a or b and c", "$a = true or $b = true and $c = true"},
	{"(a or b) and c", "($a = true or $b = true) and $c = true"},
	{"not(a)", "$a = false"},
	{"not(x > 1)", "$not($type($x) = \"number\" and $x > 1)"},
	{"1 + 2 * 3", "1 + 2 * 3"},
	{"(1 + 2) * 3", "(1 + 2) * 3"},
	{"a - (b - c)", "$type($a) = \"number\" ? $a - ($type($b) = \"number\" and $type($c) = \"number\" ? $b - $c)"},
	{"x + y", "$type($x) = \"string\" and $type($y) = \"string\" ? $x & $y : $type($x) = \"number\" and $type($y) = \"number\" ? $x + $y"},
	{"\"a\" + x", "$type($x) = \"string\" ? \"a\" & $x"},
	{"x + 1", "$type($x) = \"number\" ? $x + 1"},
	{"2 ** x", "$type($x) = \"number\" ? $power(2, $x)"},
	{"-x", "$type($x) = \"number\" ? -$x"},
	{"-(a + b)", "($__1 := $type($a) = \"string\" and $type($b) = \"string\" ? $a & $b : $type($a) = \"number\" and $type($b) = \"number\" ? $a + $b; $type($__1) = \"number\" ? -$__1)"},
	{"if x > 1 then a else b", "$type($x) = \"number\" and $x > 1 ? $a : $b"},
	{"x in [1, 2]", "$x in [1, 2]"},
	{"x in [1..10]", "$type($x) = \"number\" and $x >= 1 and $x <= 10"},
	{"x in (1..10]", "$type($x) = \"number\" and $x > 1 and $x <= 10"},
	{"x in > 5", "$type($x) = \"number\" and $x > 5"},
	{"x in (< 0, > 100)", "$type($x) = \"number\" and $x < 0 or $type($x) = \"number\" and $x > 100"},
	{"x in xs", "$x in $xs"},
	{"x between a and b", "$type($x) in [\"number\", \"string\"] and $type($a) = $type($x) and $type($b) = $type($x) and $x >= $a and $x <= $b"},
	{"some x in xs satisfies x > 3", "$count($filter($xs, function($x) { $type($x) = \"number\" and $x > 3 })) > 0"},
	{"every x in xs satisfies x.ok", "$count($filter($xs, function($x) { $x.ok = true })) = $count($xs)"},
	{"xs[item > 10]", "[$xs[$type($) = \"number\" and $ > 10]]"},
	{"xs[amount > 10]", "[$xs[($__1 := ($exists(amount) ? amount : $amount); $type($__1) = \"number\" and $__1 > 10)]]"},
	{"xs[amount > 10].id", "[$xs[($__1 := ($exists(amount) ? amount : $amount); $type($__1) = \"number\" and $__1 > 10)].id]"},
	{"xs[1]", "$xs[0]"},
	{"xs[-1]", "$xs[-1]"},
	{"xs[i]", "$xs[($__1 := ($exists(i) ? i : $i); $type($__1) = \"number\" ? ($__1 > 0 ? $__1 - 1 : $__1) : $__1 = true)]"},
	{"string length(s)", "$type($s) = \"string\" ? $length($s)"},
	{"substring(s, 2, 3)", "$type($s) = \"string\" ? $substring($s, 1, 3)"},
	{"substring(s, n)", "$type($s) = \"string\" and $type($n) = \"number\" ? $substring($s, $n > 0 ? $n - 1 : $n)"},
	{"upper case(s)", "$type($s) = \"string\" ? $uppercase($s)"},
	{"lower case(s)", "$type($s) = \"string\" ? $lowercase($s)"},
	{"contains(s, \"x\")", "$type($s) = \"string\" ? $contains($s, \"x\")"},
	{"starts with(s, \"ab\")", "$type($s) = \"string\" ? $substring($s, 0, $length(\"ab\")) = \"ab\""},
	{"ends with(s, \"yz\")", "$type($s) = \"string\" ? $length($s) >= $length(\"yz\") and $substring($s, $length($s) - $length(\"yz\")) = \"yz\""},
	{"matches(s, \"^a+/b$\", \"i\")", "$type($s) = \"string\" ? $contains($s, /^a+\\/b$/i)"},
	{"string join(xs, \", \")", "($__1 := $join($xs[$type($) = \"string\"], \", \"); $exists($__1) ? $__1 : \"\")"},
	{"number(s)", "$type($s) = \"string\" ? ($contains($s, /^-?(0|[1-9]\\d*)(\\.\\d+)?([eE][-+]?\\d+)?$/) ? $number($s))"},
	{"string(n)", "$n != null ? $string($n)"},
	{"abs(n)", "$type($n) = \"number\" ? $abs($n)"},
	{"floor(n)", "$type($n) = \"number\" ? $floor($n)"},
	{"ceiling(n)", "$type($n) = \"number\" ? $ceil($n)"},
	{"round half up(n, 2)", "$type($n) = \"number\" ? ($n < 0 ? -1 : 1) * $floor($round($abs($n) * 100, 9) + 0.5) / 100"},
	{"round half down(n, 0)", "$type($n) = \"number\" ? ($n < 0 ? -1 : 1) * $ceil($round($abs($n) * 1, 9) - 0.5)"},
	{"min(xs)", "$count($xs[$type($) != \"number\"]) = 0 ? $min($xs)"},
	{"max(a, b)", "$type($a) = \"number\" and $type($b) = \"number\" ? $max([$a, $b])"},
	{"sum(xs)", "$count($xs[$type($) != \"number\"]) = 0 ? $sum($xs)"},
	{"count(xs)", "$count($xs)"},
	{"mean(xs)", "$count($xs[$type($) != \"number\"]) = 0 ? $average($xs)"},
	{"all(xs)", "$count($xs[$ = true]) = $count($xs)"},
	{"any(xs)", "true in $xs"},
	{"append(xs, 1)", "$append($xs, [1])"},
	{"concatenate(xs, ys)", "$append($xs, $ys)"},
	{"list contains(xs, 1)", "1 in $xs"},
	{"distinct values(xs)", "[$distinct($xs)]"},
	{"flatten(xs)", "($__1 := function($l) { $type($l) = \"array\" ? $reduce($l, function($a, $v) { $append($a, $__1($v)) }, []) : [$l] }; $__1($xs))"},
	{"sort(xs)", "$count($xs[$type($) = \"number\"]) = $count($xs) or $count($xs[$type($) = \"string\"]) = $count($xs) ? [$sort($xs)]"},
	{"sort(xs, function(x, y) x > y)", "[$sort($xs, function($y, $x) { $type($x) in [\"number\", \"string\"] and $type($y) = $type($x) and $x > $y })]"},
	{"is defined(x)", "$exists($x)"},
	{"get or else(x, 0)", "$x != null ? $x : 0"},
	{"date(\"2024-01-01\")", "\"2024-01-01\""},
	{"date(d)", "$type($d) = \"string\" and $contains($d, /^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:?\\d\\d)?)?$/) ? $substring($d, 0, 10)"},
	{"date and time(\"2024-01-01T10:00:00Z\")", "\"2024-01-01T10:00:00Z\""},
	{"now()", "$now()"},
	{"today()", "$substring($now(), 0, 10)"},
	{"duration(\"P30D\")", "\"P30D\""},
	{"date(d) + duration(\"P1D\")", "$fromMillis($toMillis($type($d) = \"string\" and $contains($d, /^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:?\\d\\d)?)?$/) ? $substring($d, 0, 10)) + 86400000, \"[Y0001]-[M01]-[D01]\")"},
	{"now() - duration(\"PT1H\")", "$fromMillis($toMillis($now()) - 3600000)"},
	{"date(d) < today()", "($type($d) = \"string\" and $contains($d, /^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:?\\d\\d)?)?$/) ? $substring($d, 0, 10)) < $substring($now(), 0, 10)"},
	{"date and time(t) > now()", "$toMillis($type($t) = \"string\" and $contains($t, /^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:?\\d\\d)?)?$/) ? $t) > $toMillis($now())"},
	{"modulo(a, 3)", "$type($a) = \"number\" ? ($a % 3 + 3) % 3"},
	{"x in (1, 2, [5..7])", `$x = 1 or $x = 2 or $type($x) = "number" and $x >= 5 and $x <= 7`},
	{"count(xs) in (1, > 5)", `($__1 := $count($xs); $__1 = 1 or $__1 > 5)`},
	{"{a: 1, b: a + 1}", `($a := 1; $b := $a + 1; {"a": $a, "b": $b})`},
	{"xs[item > 1][1]", `([$xs[$type($) = "number" and $ > 1]])[0]`},
	{"xs[some y in ys satisfies y = item]", `[$xs[$count($filter(($exists(ys) ? ys : $ys), function($y) { $y = $ })) > 0]]`},
	{"  = x", "$x"},
	{"for x in xs return x.id", `$reduce($xs, function($__1, $x) { $append($__1, $type($x.id) = "array" ? [[$x.id]] : [$x.id]) }, [])`},
	{"for i in 1..3 return i * 2", `$reduce([1..3], function($__1, $i) { $append($__1, [$i * 2]) }, [])`},
}

func TestTranslate(t *testing.T) {
	for _, tc := range translateCases {
		t.Run(tc.feel, func(t *testing.T) {
			got, err := Translate(tc.feel)
			if err != nil {
				t.Fatalf("Translate(%q) error: %v", tc.feel, err)
			}
			if got != tc.want {
				t.Errorf("Translate(%q) = %s, want %s", tc.feel, got, tc.want)
			}
			if err := balanced(got); err != "" {
				t.Errorf("Translate(%q) = %s: %s", tc.feel, got, err)
			}
		})
	}
}

func TestTranslateCondition(t *testing.T) {
	for _, tc := range []struct{ feel, want string }{
		{"x > 5", `$type($x) = "number" and $x > 5`},
		{"approved", "$approved = true"},
		{`contains(s, "a")`, `($type($s) = "string" ? $contains($s, "a")) = true`},
		{"a or b", "$a = true or $b = true"},
		{"if a then b else c", "($a = true ? $b : $c) = true"},
		{"is defined(x)", "$exists($x)"},
	} {
		got, err := TranslateCondition(tc.feel)
		if err != nil || got != tc.want {
			t.Errorf("TranslateCondition(%q) = %s, %v, want %s", tc.feel, got, err, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		feel string
		want []string
	}{
		{"x", []string{"x"}},
		{"a.b.c + a.d", []string{"a"}},
		{"b > 1 and a < 2", []string{"a", "b"}},
		{"some x in xs satisfies x > limit", []string{"limit", "xs"}},
		{"xs[amount > limit]", []string{"xs"}},
		{"{a: 1, b: a + c}", []string{"c"}},
		{"sort(xs, function(a, b) a < b)", []string{"xs"}},
		{"for x in xs, i in 1..n return x + i + y", []string{"n", "xs", "y"}},
		{"1 + 2", []string{}},
		{"now()", []string{}},
	} {
		got, err := Names(tc.feel)
		if err != nil {
			t.Errorf("Names(%q) error: %v", tc.feel, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Names(%q) = %q, want %q", tc.feel, got, tc.want)
		}
	}
	if _, err := Names("x +"); err == nil {
		t.Error("Names(\"x +\") succeeded, want an error")
	}
}

func TestCheckVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"amount", true}, {"_x1", true}, {"first name", false}, {"1x", false}, {"states", false}, {"__t", false}, {"count", false}, {"змінна", false}} {
		if err := CheckVariable(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckVariable(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func expectError(t *testing.T, src, want string) {
	t.Helper()
	_, err := Translate(src)
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("Translate(%q) = %v, want error %q", src, err, want)
		return
	}
	if got := e.Error(); got != want {
		t.Errorf("Translate(%q) error = %q, want %q", src, got, want)
	}
	if e.Offset < 0 || e.Offset > len(src) {
		t.Errorf("Translate(%q) error offset %d out of range", src, e.Offset)
	}
}

func TestErrors(t *testing.T) {
	expectError(t, "", "1:1: empty expression")
	expectError(t, "=", "1:2: empty expression")
	expectError(t, "x +", "1:4: unexpected end of expression")
	expectError(t, "first name = 1", "1:7: unexpected 'name'")
	expectError(t, "`first name` = 1", "1:1: variable name \"first name\" is not an identifier")
	expectError(t, "`count`", "1:1: variable name \"count\" clashes with the JSONata function $count")
	expectError(t, "змінна > 1", "1:1: variable name \"змінна\" is not an identifier")
	expectError(t, "states.input", "1:1: variable name \"states\" is reserved by Step Functions ($states)")
	expectError(t, "__x", "1:1: variable names starting with \"__\" are reserved")
	expectError(t, "count > 1", "1:1: variable name \"count\" clashes with the JSONata function $count")
	expectError(t, "foo(1)", "1:1: FEEL function 'foo' is not supported")
	expectError(t, "x + index of(a, b)", "1:5: FEEL function 'index of' is not supported")
	expectError(t, "substring(s)", "1:1: function 'substring' takes 2 to 3 argument(s), got 1")
	expectError(t, "now(1)", "1:1: function 'now' takes 0 argument(s), got 1")
	expectError(t, "substring(string: s, start position: 1)", "1:11: named arguments are not supported")
	expectError(t, "x instance of number", "1:3: 'instance of' is not supported")
	expectError(t, "for x in xs x", "1:13: unexpected 'x'")
	expectError(t, `for i in "a".."b" return i`, "1:10: a range to iterate over needs numbers")
	expectError(t, "[1..10]", "1:3: ranges are only supported after 'in'")
	expectError(t, "xs[1..2]", "1:5: ranges are only supported after 'in'")
	expectError(t, "x = 'a'", "1:5: unexpected character '''")
	expectError(t, "x && y", "1:3: unexpected character '&'")
	expectError(t, "!x", "1:1: unexpected character '!'")
	expectError(t, `"abc`, "1:1: unterminated string")
	expectError(t, `"a\qb"`, `1:3: unknown escape \q in string`)
	expectError(t, "x /* open", "1:3: unterminated comment")
	expectError(t, "1 < 2 < 3", "1:7: comparisons cannot be chained")
	expectError(t, `1 < "a"`, "1:3: cannot compare a number with a string")
	expectError(t, "x < true", "1:3: cannot order boolean values")
	expectError(t, `"a" - 1`, "1:5: cannot use a string with '-'")
	expectError(t, "[1] + 1", "1:5: cannot use list values with '+'")
	expectError(t, "xs[0]", "1:4: FEEL list indexes start at 1")
	expectError(t, "xs[1.5]", "1:4: list index must be an integer")
	expectError(t, `substring(s, 0)`, "1:14: FEEL positions start at 1")
	expectError(t, `matches(s, p)`, "1:12: the pattern must be a string literal")
	expectError(t, `matches(s, "(")`, "1:12: invalid pattern: error parsing regexp: missing closing ): `(`")
	expectError(t, `matches(s, "(?i)a")`, "1:12: inline flags (?i) are not supported")
	expectError(t, `matches(s, "a", "x")`, "1:17: flag 'x' is not supported")
	expectError(t, `date("2024-02-30")`, `1:6: invalid date "2024-02-30"`)
	expectError(t, `time("25:00:00")`, `1:6: invalid time "25:00:00"`)
	expectError(t, `date and time("2024-01-01")`, `1:15: invalid date and time "2024-01-01"`)
	expectError(t, `duration("30 days")`, `1:10: invalid duration "30 days"`)
	expectError(t, `duration(d)`, "1:10: duration() needs a string literal")
	expectError(t, `date(a) - date(b)`, "1:9: a date difference can only be compared with a literal duration")
	expectError(t, `date(a) - date(b) > 5`, "1:19: a date difference can only be compared with a literal days-time duration")
	expectError(t, `date(a) - date(b) > duration("P1M")`, "1:19: a date difference can only be compared with a literal days-time duration")
	expectError(t, `date(a) - now() + duration("P1D") > duration("P1D")`, "1:9: a date difference can only be compared with a literal duration")
	expectError(t, `date(a) + 1`, "1:9: this date/time arithmetic is not supported")
	expectError(t, `sort(xs, f)`, "1:10: sort needs a function(x, y) literal as its second argument")
	expectError(t, `function(a) a`, "1:1: function definitions are only supported as the second argument of sort()")
	expectError(t, "x in", "1:5: unexpected end of expression")
	expectError(t, "x in [1..10", "1:12: expected ']' or ')' to close the range but found end of expression")
	expectError(t, "if x then 1", "1:12: expected 'else' but found end of expression")
	expectError(t, "some x in xs x > 1", "1:14: unexpected 'x'")
	expectError(t, "{a: 1, a: 2}", "1:8: duplicate context key \"a\"")
	expectError(t, "x ? 1", "1:3: unexpected '?'")
	expectError(t, "a.1", "1:2: unexpected number .1")
	expectError(t, "date(d).hour", "1:9: a date has no property 'hour'")
	expectError(t, "duration(\"P1D\").days", "1:17: properties of durations are not supported")
	expectError(t, "(x)(1)", "1:4: only named functions can be called")
	expectError(t, "x\n  and\n  y ==", "3:6: unexpected '='")
	expectError(t, "round half up(x, 400)", "1:18: scale must be an integer between -20 and 20")
	expectError(t, "(1).a", "1:5: a number value has no member 'a'")
	expectError(t, "x / 0", "1:3: division by zero")
	expectError(t, `replace(s, "a*", "b")`, "1:12: the pattern matches the empty string")
	expectError(t, "1e999", "1:1: number 1e999 is out of range")
}

func TestErrorHint(t *testing.T) {
	_, err := Translate("foo(1)")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Hint, "string length") {
		t.Errorf("Translate(\"foo(1)\") hint = %q, want the list of supported functions", e.Hint)
	}
	_, err = Translate("first name = 1")
	if !errors.As(err, &e) || !strings.Contains(e.Hint, "identifiers") {
		t.Errorf("hint for names with spaces = %q", e.Hint)
	}
}

// balanced reports unbalanced brackets or unterminated strings, regexes and
// back-quoted names in JSONata text ("" when fine).
func balanced(s string) string {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '"', '`':
			j := i + 1
			for ; j < len(rs) && rs[j] != r; j++ {
				if rs[j] == '\\' && r == '"' {
					j++
				}
			}
			if j >= len(rs) {
				return "unterminated " + string(r)
			}
			i = j
		case '/':
			// A regex literal follows '(' or ',' in our output.
			k := i - 1
			for k >= 0 && rs[k] == ' ' {
				k--
			}
			if k >= 0 && (rs[k] == ',' || rs[k] == '(') {
				j := i + 1
				for ; j < len(rs) && rs[j] != '/'; j++ {
					if rs[j] == '\\' {
						j++
					}
				}
				if j >= len(rs) {
					return "unterminated regex"
				}
				i = j
			}
		case '(', '[', '{':
			stack = append(stack, r)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return "unbalanced " + string(r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack[len(stack)-1])
	}
	return ""
}
