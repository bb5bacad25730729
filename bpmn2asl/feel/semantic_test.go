package feel

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// semCase is one FEEL expression, the variables it runs with, and the
// result FEEL gives (JSON). note, when set, records where the translation
// deliberately differs from FEEL (see doc.go) and want is our result.
type semCase struct {
	feel string
	vars string
	want string
	note string
}

var semCases = []semCase{
	// Literals.
	{"1", `{}`, `1`, ""},
	{"=1.5", `{}`, `1.5`, ""},
	{".5", `{}`, `0.5`, ""},
	{"-3", `{}`, `-3`, ""},
	{`"a\"b\\c\n\u00e9"`, `{}`, `"a\"b\\c\né"`, ""},
	{`"Київ"`, `{}`, `"Київ"`, ""},
	{"true", `{}`, `true`, ""},
	{"false", `{}`, `false`, ""},
	{"null", `{}`, `null`, ""},
	{"[1, 2, 3]", `{}`, `[1,2,3]`, ""},
	{"[]", `{}`, `[]`, ""},
	{`{a: 1, "b c": 2}`, `{}`, `{"a":1,"b c":2}`, ""},
	{`{a: 1, b: a + 1}`, `{}`, `{"a":1,"b":2}`, ""},
	{`{first name: "Ivan"}`, `{}`, `{"first name":"Ivan"}`, ""},
	{`{a: {b: [1, 2]}}.a.b`, `{}`, `[1,2]`, ""},
	// Paths.
	{"x", `{"x": 5}`, `5`, ""},
	{"a.b.c", `{"a": {"b": {"c": "deep"}}}`, `"deep"`, ""},
	{"a.b", `{"a": {}}`, `null`, ""},
	{"missing", `{}`, `null`, ""},
	{"a.`first name`", `{"a": {"first name": "Olena"}}`, `"Olena"`, ""},
	{"a.and", `{"a": {"and": 1}}`, `1`, ""},
	{"xs.name", `{"xs": [{"name": "a"}, {"name": "b"}]}`, `["a","b"]`, ""},
	// Comparison.
	{"x = 5", `{"x": 5}`, `true`, ""},
	{"x = 5", `{"x": 6}`, `false`, ""},
	{"x = 5", `{}`, `false`, ""},
	{`x = "a"`, `{"x": "a"}`, `true`, ""},
	{"x = null", `{"x": null}`, `true`, ""},
	{"x = null", `{}`, `true`, ""},
	{"x = null", `{"x": 0}`, `false`, ""},
	{"null = x", `{}`, `true`, ""},
	{"x != null", `{"x": 0}`, `true`, ""},
	{"x != null", `{"x": null}`, `false`, ""},
	{"x != null", `{}`, `false`, ""},
	{"x != 5", `{"x": 5}`, `false`, ""},
	{"x != 5", `{"x": 4}`, `true`, ""},
	{"x != 5", `{}`, `true`, ""},
	{"null = null", `{}`, `true`, ""},
	{"1 != 2", `{}`, `true`, ""},
	{"a = b", `{"a": [1, {"k": 2}], "b": [1, {"k": 2}]}`, `true`, ""},
	{"x > 5", `{"x": 7}`, `true`, ""},
	{"x > 5", `{"x": 5}`, `false`, ""},
	{"x >= 5", `{"x": 5}`, `true`, ""},
	{"x < 5", `{"x": 4.9}`, `true`, ""},
	{"x <= 5", `{"x": 6}`, `false`, ""},
	{"x > 5", `{"x": null}`, `false`, "FEEL: null"},
	{"x > 5", `{}`, `false`, "FEEL: null"},
	{"x > 5", `{"x": "7"}`, `false`, "FEEL: null"},
	{`x < "b"`, `{"x": "a"}`, `true`, ""},
	{"x < y", `{"x": "a", "y": "b"}`, `true`, ""},
	{"x < y", `{"x": 1, "y": 2}`, `true`, ""},
	{"x < y", `{"x": 1, "y": "2"}`, `false`, "FEEL: null"},
	{"x < y", `{"x": true, "y": false}`, `false`, "FEEL: null"},
	{"x + 1 > y * 2", `{"x": 5, "y": 2}`, `true`, ""},
	// Boolean logic.
	{"a and b", `{"a": true, "b": true}`, `true`, ""},
	{"a and b", `{"a": true, "b": false}`, `false`, ""},
	{"a or b", `{"a": false, "b": true}`, `true`, ""},
	{"a or b", `{"a": false, "b": false}`, `false`, ""},
	{"a and b", `{"a": true}`, `false`, "FEEL: null"},
	{"a or b", `{"a": true}`, `true`, ""},
	{"a and b", `{"a": "yes", "b": true}`, `false`, "FEEL: null"},
	{"not(a)", `{"a": true}`, `false`, ""},
	{"not(a)", `{"a": false}`, `true`, ""},
	{"not(a)", `{}`, `false`, "FEEL: null"},
	{"not(x > 5)", `{"x": 3}`, `true`, ""},
	{"not(x > 5) and x < 10 or x = 100", `{"x": 100}`, `true`, ""},
	{"x > 1 and x < 10 or x = 100", `{"x": 5}`, `true`, ""},
	// Arithmetic.
	{"1 + 2 * 3", `{}`, `7`, ""},
	{"(1 + 2) * 3", `{}`, `9`, ""},
	{"10 - 4 - 3", `{}`, `3`, ""},
	{"10 - (4 - 3)", `{}`, `9`, ""},
	{"12 / 4 / 3", `{}`, `1`, ""},
	{"2 ** 10", `{}`, `1024`, ""},
	{"-2 ** 2", `{}`, `4`, ""},
	{"2 ** 3 ** 2", `{}`, `64`, ""},
	{"-x ** 2", `{"x": 3}`, `9`, ""},
	{"2 ** -1", `{}`, `0.5`, ""},
	{"-x", `{"x": 3}`, `-3`, ""},
	{"- -x", `{"x": 3}`, `3`, ""},
	{"x + y", `{"x": 1, "y": 2}`, `3`, ""},
	{"x + y", `{"x": "a", "y": "b"}`, `"ab"`, ""},
	{`x + "!"`, `{"x": "hi"}`, `"hi!"`, ""},
	{`"n=" + string(x)`, `{"x": 5}`, `"n=5"`, ""},
	{"a.price * a.qty", `{"a": {"price": 2.5, "qty": 4}}`, `10`, ""},
	{"x * 2 + 1", `{"x": 4}`, `9`, ""},
	{"x - 1", `{"x": 1.5}`, `0.5`, ""},
	// if/then/else.
	{"if x > 5 then \"big\" else \"small\"", `{"x": 7}`, `"big"`, ""},
	{"if x > 5 then \"big\" else \"small\"", `{"x": 1}`, `"small"`, ""},
	{"if x then 1 else 2", `{"x": true}`, `1`, ""},
	{"if x then 1 else 2", `{}`, `2`, ""},
	{"if x then 1 else 2", `{"x": "yes"}`, `2`, ""},
	{"if a then if b then 1 else 2 else 3", `{"a": true, "b": false}`, `2`, ""},
	{"(if x > 1 then 10 else 20) + 1", `{"x": 2}`, `11`, ""},
	// in: lists, ranges, unary tests.
	{"x in [1, 2, 3]", `{"x": 2}`, `true`, ""},
	{"x in [1, 2, 3]", `{"x": 4}`, `false`, ""},
	{`x in ["a", "b"]`, `{"x": "b"}`, `true`, ""},
	{"x in xs", `{"x": 2, "xs": [1, 2]}`, `true`, ""},
	{"x in 5", `{"x": 5}`, `true`, ""},
	{"x in [1..10]", `{"x": 10}`, `true`, ""},
	{"x in [1..10]", `{"x": 11}`, `false`, ""},
	{"x in (1..10]", `{"x": 1}`, `false`, ""},
	{"x in ]1..10]", `{"x": 1}`, `false`, ""},
	{"x in [1..10)", `{"x": 10}`, `false`, ""},
	{"x in [1..10[", `{"x": 9.5}`, `true`, ""},
	{"x in [1..10]", `{"x": "5"}`, `false`, "FEEL: null"},
	{`x in ["a".."c"]`, `{"x": "b"}`, `true`, ""},
	{"x in [lo..hi]", `{"x": 5, "lo": 1, "hi": 9}`, `true`, ""},
	{"x in (> 5)", `{"x": 6}`, `true`, ""},
	{"x in > 5", `{"x": 5}`, `false`, ""},
	{"x in (< 0, > 100)", `{"x": 101}`, `true`, ""},
	{"x in (< 0, > 100)", `{"x": 50}`, `false`, ""},
	{"x in (1, 2, [5..7])", `{"x": 6}`, `true`, ""},
	{"x in (null)", `{}`, `true`, ""},
	{"x in (!= 3)", `{"x": 4}`, `true`, ""},
	{"x in (= 3)", `{"x": 3}`, `true`, ""},
	{"x + 1 in [2..3]", `{"x": 1}`, `true`, ""},
	{"x between 1 and 10", `{"x": 1}`, `true`, ""},
	{"x between 1 and 10", `{"x": 0}`, `false`, ""},
	{"x between 1 and 10 and y", `{"x": 5, "y": true}`, `true`, ""},
	{`date(d) between date("2024-01-01") and date("2024-12-31")`, `{"d": "2024-06-01"}`, `true`, ""},
	// some / every.
	{"some x in xs satisfies x > 3", `{"xs": [1, 5]}`, `true`, ""},
	{"some x in xs satisfies x > 3", `{"xs": [1, 2]}`, `false`, ""},
	{"some x in xs satisfies x > 3", `{"xs": []}`, `false`, ""},
	{"every x in xs satisfies x > 0", `{"xs": [1, 5]}`, `true`, ""},
	{"every x in xs satisfies x > 1", `{"xs": [1, 5]}`, `false`, ""},
	{"every x in xs satisfies x > 1", `{"xs": []}`, `true`, ""},
	{"some x in [1, 2], y in [2, 3] satisfies x = y", `{}`, `true`, ""},
	{"every x in [1, 2], y in [3, 4] satisfies x < y", `{}`, `true`, ""},
	{"some p in people satisfies p.age >= 18", `{"people": [{"age": 10}, {"age": 20}]}`, `true`, ""},
	{"some x in xs satisfies x > limit", `{"xs": [1, 5], "limit": 4}`, `true`, ""},
	// Filters and indexing.
	{"xs[item > 10]", `{"xs": [5, 12, 20]}`, `[12,20]`, ""},
	{"xs[item > 10]", `{"xs": [5, 12]}`, `[12]`, ""},
	{"xs[item > 10]", `{"xs": [5]}`, `[]`, ""},
	{"xs[amount > 10]", `{"xs": [{"amount": 5}, {"amount": 15}]}`, `[{"amount":15}]`, ""},
	{"xs[amount > 10].id", `{"xs": [{"id": 1, "amount": 5}, {"id": 2, "amount": 15}]}`, `[2]`, ""},
	{"xs[amount > limit]", `{"xs": [{"amount": 5}, {"amount": 15}], "limit": 10}`, `[{"amount":15}]`, ""},
	{"xs[item.amount > 10]", `{"xs": [{"amount": 5}, {"amount": 15}]}`, `[{"amount":15}]`, ""},
	{`xs[type = "a"]`, `{"xs": [{"type": "a"}, {"type": "b"}, {"type": "a"}]}`, `[{"type":"a"},{"type":"a"}]`, ""},
	{"count(xs[item > 1])", `{"xs": [1, 2, 3]}`, `2`, ""},
	{"xs[1]", `{"xs": [10, 20, 30]}`, `10`, ""},
	{"xs[3]", `{"xs": [10, 20, 30]}`, `30`, ""},
	{"xs[-1]", `{"xs": [10, 20, 30]}`, `30`, ""},
	{"xs[-2]", `{"xs": [10, 20, 30]}`, `20`, ""},
	{"xs[4]", `{"xs": [10, 20, 30]}`, `null`, ""},
	{"xs[i]", `{"xs": [10, 20, 30], "i": 2}`, `20`, ""},
	{"xs[i + 1]", `{"xs": [10, 20, 30], "i": 2}`, `30`, ""},
	{"a.items[1].name", `{"a": {"items": [{"name": "x"}, {"name": "y"}]}}`, `"x"`, ""},
	{"[1, 2, 3][item >= 2]", `{}`, `[2,3]`, ""},
	{"xs[item > 1][1]", `{"xs": [1, 2, 3]}`, `2`, ""},
	{"xs[some y in ys satisfies y = item]", `{"xs": [1, 2, 3], "ys": [3, 1]}`, `[1,3]`, ""},
	// String functions.
	{"string length(s)", `{"s": "абв"}`, `3`, ""},
	{`string length("")`, `{}`, `0`, ""},
	{`substring("foobar", 3)`, `{}`, `"obar"`, ""},
	{`substring("foobar", 3, 3)`, `{}`, `"oba"`, ""},
	{`substring("foobar", -2, 1)`, `{}`, `"a"`, ""},
	{`substring(s, n)`, `{"s": "foobar", "n": 2}`, `"oobar"`, ""},
	{`substring(s, n, 2)`, `{"s": "foobar", "n": -3}`, `"ba"`, ""},
	{`upper case("aBc")`, `{}`, `"ABC"`, ""},
	{`lower case(s)`, `{"s": "ÀB"}`, `"àb"`, ""},
	{`contains(s, "ob")`, `{"s": "foobar"}`, `true`, ""},
	{`contains(s, "x")`, `{"s": "foobar"}`, `false`, ""},
	{`starts with(s, "foo")`, `{"s": "foobar"}`, `true`, ""},
	{`starts with(s, "bar")`, `{"s": "foobar"}`, `false`, ""},
	{`ends with(s, "bar")`, `{"s": "foobar"}`, `true`, ""},
	{`ends with(s, "foo")`, `{"s": "foobar"}`, `false`, ""},
	{`ends with(s, "longer than s")`, `{"s": "bar"}`, `false`, ""},
	{`matches(s, "^fo+b")`, `{"s": "foobar"}`, `true`, ""},
	{`matches(s, "^B")`, `{"s": "bar"}`, `false`, ""},
	{`matches(s, "^B", "i")`, `{"s": "bar"}`, `true`, ""},
	{`matches(s, "^\\d{10}$")`, `{"s": "1234567890"}`, `true`, ""},
	{`matches(s, "a/b")`, `{"s": "xa/b"}`, `true`, ""},
	{`replace(s, "a", "o")`, `{"s": "banana"}`, `"bonono"`, ""},
	{`replace(s, "(\\d+)-(\\d+)", "$2-$1")`, `{"s": "12-34"}`, `"34-12"`, ""},
	{`split("a,b,c", ",")`, `{}`, `["a","b","c"]`, ""},
	{`string join(["a", "b"], "-")`, `{}`, `"a-b"`, ""},
	{`string join(xs)`, `{"xs": ["a", "b"]}`, `"ab"`, ""},
	{`string(1.5)`, `{}`, `"1.5"`, ""},
	{`string(b)`, `{"b": true}`, `"true"`, ""},
	{`number("12.5") + 1`, `{}`, `13.5`, ""},
	{`number(s)`, `{"s": "-3"}`, `-3`, ""},
	// Numeric functions.
	{"abs(-5)", `{}`, `5`, ""},
	{"abs(x)", `{"x": 2}`, `2`, ""},
	{"floor(1.7)", `{}`, `1`, ""},
	{"floor(-1.2)", `{}`, `-2`, ""},
	{"ceiling(1.2)", `{}`, `2`, ""},
	{"ceiling(-1.7)", `{}`, `-1`, ""},
	{"decimal(1.125, 2)", `{}`, `1.12`, ""},
	{"round half up(5.5, 0)", `{}`, `6`, ""},
	{"round half up(-5.5, 0)", `{}`, `-6`, ""},
	{"round half up(1.125, 2)", `{}`, `1.13`, ""},
	{"round half up(2.675, 2)", `{}`, `2.68`, ""},
	{"round half down(5.5, 0)", `{}`, `5`, ""},
	{"round half down(-5.5, 0)", `{}`, `-5`, ""},
	{"round half down(1.126, 2)", `{}`, `1.13`, ""},
	{"round up(5.1, 0)", `{}`, `6`, ""},
	{"round up(-5.1, 0)", `{}`, `-6`, ""},
	{"round down(5.9, 0)", `{}`, `5`, ""},
	{"round down(-5.9, 0)", `{}`, `-5`, ""},
	{"round half up(x, n)", `{"x": 1.005, "n": 2}`, `1.01`, ""},
	{"modulo(10, 3)", `{}`, `1`, ""},
	{"modulo(-10, 3)", `{}`, `2`, ""},
	{"modulo(10, -3)", `{}`, `-2`, ""},
	{"modulo(x, y)", `{"x": 10.5, "y": 3}`, `1.5`, ""},
	{"sqrt(16)", `{}`, `4`, ""},
	// List functions.
	{"min([3, 1, 2])", `{}`, `1`, ""},
	{"min(3, 1, 2)", `{}`, `1`, ""},
	{"max(xs)", `{"xs": [3, 1, 2]}`, `3`, ""},
	{"max(3, x)", `{"x": 5}`, `5`, ""},
	{"sum(xs)", `{"xs": [1, 2, 3.5]}`, `6.5`, ""},
	{"sum(1, 2)", `{}`, `3`, ""},
	{"count(xs)", `{"xs": [1, 2, 3]}`, `3`, ""},
	{"count([])", `{}`, `0`, ""},
	{"mean([1, 2, 3, 4])", `{}`, `2.5`, ""},
	{"mean(xs.v)", `{"xs": [{"v": 2}, {"v": 4}]}`, `3`, ""},
	{"all([true, true])", `{}`, `true`, ""},
	{"all([true, false])", `{}`, `false`, ""},
	{"all([])", `{}`, `true`, ""},
	{"all(xs)", `{"xs": [true]}`, `true`, ""},
	{"all(a, b)", `{"a": true, "b": true}`, `true`, ""},
	{"any([false, true])", `{}`, `true`, ""},
	{"any([false])", `{}`, `false`, ""},
	{"any([])", `{}`, `false`, ""},
	{"any(xs)", `{"xs": [false, false]}`, `false`, ""},
	{"append([1], 2, 3)", `{}`, `[1,2,3]`, ""},
	{"append(xs, x)", `{"xs": [1], "x": [2, 3]}`, `[1,[2,3]]`, ""},
	{"append(xs, x)", `{"xs": [1], "x": 2}`, `[1,2]`, ""},
	{"append(xs, [2])", `{"xs": [1]}`, `[1,[2]]`, ""},
	{"append(xs, ys[item > 0])", `{"xs": [1], "ys": [5]}`, `[1,[5]]`, ""},
	{"concatenate([1], [2, 3], xs)", `{"xs": [4]}`, `[1,2,3,4]`, ""},
	{"list contains(xs, 2)", `{"xs": [1, 2]}`, `true`, ""},
	{`list contains(["a"], x)`, `{"x": "b"}`, `false`, ""},
	{"distinct values([1, 2, 1, 3, 2])", `{}`, `[1,2,3]`, ""},
	{"distinct values([1, 1])", `{}`, `[1]`, ""},
	{"flatten([1, [2, [3, [4]]], 5])", `{}`, `[1,2,3,4,5]`, ""},
	{"flatten(xs)", `{"xs": [[1], [2]]}`, `[1,2]`, ""},
	{"sort([3, 1, 2])", `{}`, `[1,2,3]`, ""},
	{"sort([3, 1, 2], function(x, y) x < y)", `{}`, `[1,2,3]`, ""},
	{"sort([3, 1, 2], function(x, y) x > y)", `{}`, `[3,2,1]`, ""},
	{"sort(xs, function(a, b) a.n < b.n)[1].id", `{"xs": [{"id": "b", "n": 2}, {"id": "a", "n": 1}]}`, `"a"`, ""},
	{"sort([5])", `{}`, `[5]`, ""},
	{"reverse([1, 2, 3])", `{}`, `[3,2,1]`, ""},
	// Context and definedness.
	{"is defined(x)", `{"x": 1}`, `true`, ""},
	{"is defined(x)", `{}`, `false`, ""},
	{"is defined(a.b)", `{"a": {}}`, `false`, ""},
	{"is defined(x)", `{"x": null}`, `true`, ""},
	{"get or else(x, 5)", `{}`, `5`, ""},
	{"get or else(x, 5)", `{"x": null}`, `5`, ""},
	{"get or else(x, 5)", `{"x": 1}`, `1`, ""},
	{`get or else(a.b, "none")`, `{"a": {"b": "set"}}`, `"set"`, ""},
	// Dates and durations.
	{`date("2024-03-01")`, `{}`, `"2024-03-01"`, ""},
	{`date(2024, 3, 1)`, `{}`, `"2024-03-01"`, ""},
	{`date(y, m, d)`, `{"y": 2024, "m": 3, "d": 9}`, `"2024-03-09"`, ""},
	{`date(dt)`, `{"dt": "2024-03-01T10:00:00Z"}`, `"2024-03-01"`, ""},
	{`date("2024-03-01") < date("2024-03-02")`, `{}`, `true`, ""},
	{`date(d) >= date("2024-01-01")`, `{"d": "2023-12-31"}`, `false`, ""},
	{`date(d) = date("2024-01-01")`, `{"d": "2024-01-01"}`, `true`, ""},
	{`date("2024-01-31") + duration("P1D")`, `{}`, `"2024-02-01"`, ""},
	{`date(d) + duration("P30D")`, `{"d": "2024-02-15"}`, `"2024-03-16"`, ""},
	{`date(d) - duration("P1D")`, `{"d": "2024-03-01"}`, `"2024-02-29"`, ""},
	{`duration("P30D") + date("2024-01-01")`, `{}`, `"2024-01-31"`, ""},
	{`date and time("2024-01-01T10:00:00Z") + duration("PT1H30M")`, `{}`, `"2024-01-01T11:30:00.000Z"`, "FEEL prints 2024-01-01T11:30:00Z"},
	{`date and time(t) - duration("P1DT1S") < date and time("2024-01-01T00:00:00Z")`, `{"t": "2024-01-02T00:00:00Z"}`, `true`, ""},
	{`date and time("2024-01-01T12:00:00+02:00") = date and time("2024-01-01T10:00:00Z")`, `{}`, `true`, ""},
	{`date and time("2024-01-01T12:00:00+02:00") < date and time("2024-01-01T10:30:00Z")`, `{}`, `true`, ""},
	{`date and time(d, t)`, `{"d": "2024-01-01", "t": "10:00:00"}`, `"2024-01-01T10:00:00"`, ""},
	{`date and time(date("2024-01-01"), time("10:00:00"))`, `{}`, `"2024-01-01T10:00:00"`, ""},
	{`time("10:30:00") < time("11:00:00")`, `{}`, `true`, ""},
	{`time(t) >= time("09:00:00")`, `{"t": "08:59:59"}`, `false`, ""},
	{`duration("P30D")`, `{}`, `"P30D"`, ""},
	{`now() > date and time("2020-01-01T00:00:00Z")`, `{}`, `true`, ""},
	{`today() > date("2020-01-01")`, `{}`, `true`, ""},
	{`date(deadline) + duration("P14D") < today()`, `{"deadline": "2020-01-01"}`, `true`, ""},
	{`string length(string(today()))`, `{}`, `10`, ""},
	{`date and time(d) > now()`, `{"d": "2999-01-01T00:00:00Z"}`, `true`, ""},
	// Combined, as analysts write them.
	{`applicant.age >= 18 and applicant.citizenship = "UA"`, `{"applicant": {"age": 30, "citizenship": "UA"}}`, `true`, ""},
	{`count(documents[type = "passport"]) > 0`, `{"documents": [{"type": "passport"}]}`, `true`, ""},
	{`if is defined(income) and income < 10000 then "eligible" else "not eligible"`, `{"income": 5000}`, `"eligible"`, ""},
	{`if is defined(income) and income < 10000 then "eligible" else "not eligible"`, `{}`, `"not eligible"`, ""},
	{`{status: if approved then "approved" else "rejected", total: sum(items.price)}`, `{"approved": true, "items": [{"price": 1}, {"price": 2}]}`, `{"status":"approved","total":3}`, ""},
	{`upper case(person.lastName) + ", " + person.firstName`, `{"person": {"firstName": "Ivan", "lastName": "Franko"}}`, `"FRANKO, Ivan"`, ""},
	{`region in ["Kyiv", "Lviv"] and amount between 100 and 1000`, `{"region": "Lviv", "amount": 100}`, `true`, ""},
	{`every d in documents satisfies d.signed`, `{"documents": [{"signed": true}, {"signed": true}]}`, `true`, ""},
	{`every d in documents satisfies d.signed`, `{"documents": [{"signed": true}, {}]}`, `false`, ""},
	{`sum(orders[status = "paid"].amount) >= 100`, `{"orders": [{"status": "paid", "amount": 60}, {"status": "new", "amount": 70}, {"status": "paid", "amount": 40}]}`, `true`, ""},
	{`date and time(t) > now()`, `{"t": null}`, `null`, ""},
	{`now() > x`, `{"x": 5}`, `false`, "FEEL: null"},
	{`now() = x`, `{"x": 5}`, `false`, ""},
	{`date and time(t) = date and time("2024-01-01T10:00:00Z")`, `{"t": "2024-01-01T12:00:00+02:00"}`, `true`, ""},
	{`date(d) < today()`, `{"d": null}`, `null`, ""},
	{`date(d) + duration("P1D")`, `{}`, `null`, ""},
	{`date(d) + duration("P1M")`, `{}`, `null`, ""},
	{`date and time(d, t)`, `{"d": "2024-01-01"}`, `null`, ""},
	{`string length(s) + 1`, `{"s": null}`, `null`, ""},
	{`upper case(s)`, `{"s": 5}`, `null`, ""},
	{`contains(s, "a")`, `{}`, `null`, ""},
	{`sum(xs)`, `{"xs": [1, null]}`, `null`, ""},
	{`sum(xs)`, `{"xs": [1, "2"]}`, `null`, ""},
	{`max(xs)`, `{"xs": []}`, `null`, ""},
	{`abs(x)`, `{"x": "-1"}`, `null`, ""},
	{`number("abc")`, `{}`, `null`, ""},
	{`number(" 12 ")`, `{}`, `null`, ""},
	{`number("-0.5")`, `{}`, `-0.5`, ""},
	{`number("-.5")`, `{}`, `null`, "FEEL: -0.5; only JSON number syntax converts"},
	{`number(s)`, `{"s": "1e3"}`, `1000`, ""},
	{`string(x)`, `{"x": null}`, `null`, ""},
	{`string(x)`, `{}`, `null`, ""},
	{`string(x)`, `{"x": {"a": 1}}`, `"{\"a\":1}"`, ""},
	{`string join(xs, ",")`, `{"xs": ["a", null, "b"]}`, `"a,b"`, ""},
	{`string join([])`, `{}`, `""`, ""},
	{`substring(s, 2)`, `{"s": null}`, `null`, ""},
	{`modulo(x, 2)`, `{"x": null}`, `null`, ""},
	{`round half up(x, 1)`, `{}`, `null`, ""},
	{`day of week(d)`, `{"d": null}`, `null`, ""},
	{`time(t) > time("10:00:00")`, `{"t": 5}`, `null`, ""},
	// Years-months arithmetic.
	{`date("2024-01-31") + duration("P1M")`, `{}`, `"2024-02-29"`, ""},
	{`date("2023-01-31") + duration("P1M")`, `{}`, `"2023-02-28"`, ""},
	{`date("2024-02-29") + duration("P1Y")`, `{}`, `"2025-02-28"`, ""},
	{`date("2024-03-15") - duration("P3M")`, `{}`, `"2023-12-15"`, ""},
	{`date("2024-03-15") + duration("P1Y10M")`, `{}`, `"2026-01-15"`, ""},
	{`date("2024-03-15") - duration("-P2M")`, `{}`, `"2024-05-15"`, ""},
	{`date(birth) + duration("P18Y") <= today()`, `{"birth": "2000-05-01"}`, `true`, ""},
	{`date(birth) + duration("P18Y") <= date("2018-04-30")`, `{"birth": "2000-05-01"}`, `false`, ""},
	{`date and time("2024-01-31T10:00:00+02:00") + duration("P1M")`, `{}`, `"2024-02-29T10:00:00+02:00"`, ""},
	{`duration("P2Y") + date("2000-01-01")`, `{}`, `"2002-01-01"`, ""},
	// Date differences compared with durations.
	{`date("2024-03-01") - date("2024-01-01") > duration("P59D")`, `{}`, `true`, ""},
	{`date("2024-03-01") - date("2024-01-01") > duration("P60D")`, `{}`, `false`, ""},
	{`today() - date(submitted) > duration("P30D")`, `{"submitted": "2020-01-01"}`, `true`, ""},
	{`duration("PT1H") <= date and time(b) - date and time(a)`, `{"a": "2024-01-01T10:00:00Z", "b": "2024-01-01T12:00:00+01:00"}`, `true`, ""},
	{`today() - date(submitted) > duration("P30D")`, `{}`, `null`, ""},
	// More built-ins and temporal properties.
	{`substring before("foobar", "bar")`, `{}`, `"foo"`, ""},
	{`substring before("foobar", "x")`, `{}`, `""`, ""},
	{`substring after(s, "ob")`, `{"s": "foobar"}`, `"ar"`, ""},
	{`substring after(s, "x")`, `{"s": "foobar"}`, `""`, ""},
	{`trim("  a  b ")`, `{}`, `"a  b"`, ""},
	{`is empty([])`, `{}`, `true`, ""},
	{`is empty(xs)`, `{"xs": [1]}`, `false`, ""},
	{`product([2, 3, 4])`, `{}`, `24`, ""},
	{`product(2, 3)`, `{}`, `6`, ""},
	{`odd(5)`, `{}`, `true`, ""},
	{`odd(-5)`, `{}`, `true`, ""},
	{`even(x)`, `{"x": 4}`, `true`, ""},
	{`get value({a: 1}, "a")`, `{}`, `1`, ""},
	{`get value(m, k)`, `{"m": {"b c": 2}, "k": "b c"}`, `2`, ""},
	{`day of week(date("2024-03-04"))`, `{}`, `"Monday"`, ""},
	{`day of week(d)`, `{"d": "2024-03-10T23:30:00+02:00"}`, `"Sunday"`, ""},
	{`month of year(date("2024-03-04"))`, `{}`, `"March"`, ""},
	{`day of year(date("2024-03-04"))`, `{}`, `64`, ""},
	{`week of year(date("2024-12-30"))`, `{}`, `1`, ""},
	{`week of year(date("2024-03-04"))`, `{}`, `10`, ""},
	{`sublist([1, 2, 3, 4], 2)`, `{}`, `[2,3,4]`, ""},
	{`sublist([1, 2, 3, 4], 2, 2)`, `{}`, `[2,3]`, ""},
	{`sublist(xs, -2)`, `{"xs": [1, 2, 3, 4]}`, `[3,4]`, ""},
	{`sublist(xs, n, 1)`, `{"xs": [1, 2, 3, 4], "n": 3}`, `[3]`, ""},
	{`remove([1, 2, 3], 2)`, `{}`, `[1,3]`, ""},
	{`remove(xs, -1)`, `{"xs": [1, 2, 3]}`, `[1,2]`, ""},
	{`union([1, 2], [2, 3])`, `{}`, `[1,2,3]`, ""},
	{`date("2024-03-04").year`, `{}`, `2024`, ""},
	{`date(d).month`, `{"d": "2024-03-04"}`, `3`, ""},
	{`date(d).day`, `{"d": "2024-03-04"}`, `4`, ""},
	{`date(d).weekday`, `{"d": "2024-03-04"}`, `1`, ""},
	{`date and time("2024-03-04T10:11:12Z").hour`, `{}`, `10`, ""},
	{`date and time(t).second`, `{"t": "2024-03-04T10:11:12Z"}`, `12`, ""},
	{`time("10:11:12").minute`, `{}`, `11`, ""},
	{`today().year >= 2024`, `{}`, `true`, ""},
	{`date(birth).year + 18 <= today().year`, `{"birth": "2000-05-01"}`, `true`, ""},
	// for loops.
	{"for x in xs return x * 2", `{"xs": [1, 2, 3]}`, `[2,4,6]`, ""},
	{"for x in xs return x * 2", `{"xs": [5]}`, `[10]`, ""},
	{"for x in xs return x * 2", `{"xs": []}`, `[]`, ""},
	{"for d in docs return d.id", `{"docs": [{"id": "a"}, {"id": "b"}]}`, `["a","b"]`, ""},
	{"for x in xs return [x]", `{"xs": [1, 2]}`, `[[1],[2]]`, ""},
	{"for x in xs return y", `{"xs": [1], "y": [1, 2]}`, `[[1,2]]`, ""},
	{"for x in [1, 2], y in [10, 20] return x + y", `{}`, `[11,21,12,22]`, ""},
	{"for i in 1..3 return i * i", `{}`, `[1,4,9]`, ""},
	{"for i in 3..1 return i", `{}`, `[3,2,1]`, ""},
	{"for i in 1..n return i", `{"n": 2}`, `[1,2]`, ""},
	{"sum(for o in orders return o.price * o.qty)", `{"orders": [{"price": 2, "qty": 3}, {"price": 1, "qty": 4}]}`, `10`, ""},
	{"some i in 1..5 satisfies i * i = 16", `{}`, `true`, ""},
	{"every i in 1..3 satisfies i < 3", `{}`, `false`, ""},
	// Documented differences from FEEL (doc.go).
	{`1 != "1"`, `{}`, `true`, "FEEL: null"},
	{`x = "1"`, `{"x": 1}`, `false`, "FEEL: null"},
	{"0.1 + 0.2", `{}`, `0.30000000000000004`, "FEEL: 0.3 (decimals)"},
	{"decimal(0.1 + 0.2, 2) = 0.3", `{}`, `true`, ""},
	{"x / y", `{"x": 1, "y": 0}`, `null`, ""},
	{"x / y", `{"x": 1, "y": 4}`, `0.25`, ""},
	{"[1, xs]", `{"xs": [2, 3]}`, `[1,[2,3]]`, ""},
	{"[x, 1, y]", `{"y": 2}`, `[null,1,2]`, ""},
	{"[x]", `{"x": "a"}`, `["a"]`, ""},
	{"count([a, b])", `{"b": 1}`, `2`, ""},
	{"[a, [b], b]", `{"a": [1], "b": [2]}`, `[[1],[[2]],[2]]`, ""},
	{"x in [a, b]", `{"x": 2, "b": 2}`, `true`, ""},
	{"[1, [2, 3]]", `{}`, `[1,[2,3]]`, ""},
	{"xs.name", `{"xs": [{"name": "a"}]}`, `"a"`, "FEEL: [\"a\"]"},
	{"x + y", `{"x": "a", "y": 1}`, `null`, ""},
	{"x + 1", `{"x": null}`, `null`, ""},
	{"x + 1", `{"x": "1"}`, `null`, ""},
	{"x * 2 > 1", `{"x": null}`, `null`, ""},
	{"string length(s) > 1", `{"s": 5}`, `null`, ""},
	{"if string length(s) > 1 then 1 else 2", `{}`, `2`, ""},
	{"-x", `{"x": "a"}`, `null`, ""},
	{`"a" + x`, `{}`, `null`, ""},
	{`"a" + x`, `{"x": 1}`, `null`, ""},
	{"not(x)", `{"x": "no"}`, `false`, "FEEL: null"},
	{"if x > 1 then 1 else 2", `{"x": null}`, `2`, ""},
	// Escaping and names.
	{`"{% not a template %}"`, `{}`, `"{% not a template %}"`, ""},
	{`"$x \u0041 \"q\""`, `{"x": 1}`, `"$x A \"q\""`, ""},
	{`"tab\there"`, `{}`, `"tab\there"`, ""},
	{`"😀" + "ї"`, `{}`, `"😀ї"`, ""},
	{`"\ud83d\ude00"`, `{}`, `"😀"`, ""},
	{"`x` + 1", `{"x": 1}`, `2`, ""},
	{"_x1 + x_2", `{"_x1": 1, "x_2": 2}`, `3`, ""},
	{"a.in.or", `{"a": {"in": {"or": 5}}}`, `5`, ""},
	{"a.`with space`.b", `{"a": {"with space": {"b": true}}}`, `true`, ""},
	{"a.змінна", `{"a": {"змінна": 7}}`, `7`, ""},
	{"xs[item = \"a\"]", `{"xs": ["a", "b", "a"]}`, `["a","a"]`, ""},
	{"xs[type = 1]", `{"xs": [{"type": 1}, {"type": 2}]}`, `[{"type":1}]`, ""},
	{"xs[x > 1]", `{"xs": [{"x": 1}, {"x": 2}], "x": 0}`, `[{"x":2}]`, ""},
	{"some x in xs satisfies x = item", `{"xs": [1], "item": 1}`, `true`, ""},
	{"{a: 1}.a + {b: {c: 2}}.b.c", `{}`, `3`, ""},
	{"{a: x, b: {c: a}}", `{"x": 5}`, `{"a":5,"b":{"c":5}}`, ""},
	{"count(xs[amount > 10 and status = \"paid\"])", `{"xs": [{"amount": 20, "status": "paid"}, {"amount": 30, "status": "new"}]}`, `1`, ""},
	{"xs[n]", `{"xs": [{"a": 2}, {"a": 3}], "n": -1}`, `{"a":3}`, ""},
	{"get or else(xs[item > 5][1], 0)", `{"xs": [1, 2]}`, `0`, ""},
	{"substring(upper case(s), 1, 3) + \"…\"", `{"s": "привіт"}`, `"ПРИ…"`, ""},
	{"string length(string join(for_names, \", \"))", `{"for_names": ["a", "b"]}`, `4`, ""},
	{"5[item > 1]", `{}`, `[5]`, ""},
	{`"a"[1]`, `{}`, `"a"`, ""},
	{`// comment
x /* inline */ + 1`, `{"x": 1}`, `2`, ""},
}

// nodeScript evaluates each {expr, vars} with jsonata and prints one JSON
// result per case: {"v": value}, {"undef": true} or {"err": message}.
const nodeScript = `
const jsonata = require(process.argv[2]);
const cases = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
(async () => {
  const out = [];
  for (const c of cases) {
    try {
      const e = jsonata(c.expr);
      if (c.compileOnly) { out.push({v: null}); continue; }
      const r = await e.evaluate({}, c.vars);
      out.push(r === undefined ? {undef: true} : {v: JSON.parse(JSON.stringify(r))});
    } catch (err) {
      out.push({err: (err.code || '') + ' ' + err.message});
    }
  }
  console.log(JSON.stringify(out));
})();
`

type nodeCase struct {
	Expr        string          `json:"expr"`
	Vars        json.RawMessage `json:"vars,omitempty"`
	CompileOnly bool            `json:"compileOnly,omitempty"`
}

type nodeResult struct {
	V     any    `json:"v"`
	Undef bool   `json:"undef"`
	Err   string `json:"err"`
}

// evalJSONata runs all cases through jsonata@2.0.6 in one node process.
func evalJSONata(t *testing.T, cases []nodeCase) []nodeResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found")
	}
	mod, err := filepath.Abs("../../node_modules/jsonata")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mod); err != nil {
		t.Skip("jsonata not installed in node_modules")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "eval.js")
	input := filepath.Join(dir, "cases.json")
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(nodeScript), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, mod, input)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res []nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if len(res) != len(cases) {
		t.Fatalf("node returned %d results for %d cases", len(res), len(cases))
	}
	return res
}

// TestSemantics is the proof of the translation: each FEEL expression is
// translated, evaluated by the real JSONata engine with the variables bound
// as Step Functions binds them, and compared with FEEL's result.
func TestSemantics(t *testing.T) {
	var cases []nodeCase
	var idx []int
	for i, c := range semCases {
		got, err := Translate(c.feel)
		if err != nil {
			t.Errorf("Translate(%q): %v", c.feel, err)
			continue
		}
		cases = append(cases, nodeCase{Expr: got, Vars: json.RawMessage(c.vars)})
		idx = append(idx, i)
		// Conditions must always yield a boolean.
		cond, err := TranslateCondition(c.feel)
		if err != nil {
			t.Errorf("TranslateCondition(%q): %v", c.feel, err)
			continue
		}
		cases = append(cases, nodeCase{Expr: cond, Vars: json.RawMessage(c.vars)})
		idx = append(idx, -1-i)
	}
	// Every table-test output must also compile.
	for _, c := range translateCases {
		cases = append(cases, nodeCase{Expr: c.want, CompileOnly: true})
		idx = append(idx, len(semCases))
	}
	res := evalJSONata(t, cases)
	for k, r := range res {
		i := idx[k]
		switch {
		case i == len(semCases):
			if r.Err != "" {
				t.Errorf("table output %q does not compile: %s", cases[k].Expr, r.Err)
			}
		case i < 0:
			c := semCases[-1-i]
			if _, ok := r.V.(bool); !ok || r.Err != "" {
				t.Errorf("condition %q → %s: got %+v, want a boolean", c.feel, cases[k].Expr, r)
			}
		default:
			c := semCases[i]
			var want any
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatalf("bad want %q: %v", c.want, err)
			}
			got := r.V
			if r.Undef {
				got = nil // JSONata's undefined is FEEL's null (an absent value)
			}
			if r.Err != "" || !reflect.DeepEqual(got, want) {
				t.Errorf("%s with %s\n  jsonata: %s\n  got %v (err %q), want %s", c.feel, c.vars, cases[k].Expr, jsonString(got), r.Err, c.want)
			}
		}
	}
	t.Logf("%d semantic cases, %d compile checks", len(semCases), len(translateCases))
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
