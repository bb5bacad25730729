package jsonata

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

func mustParse(t testing.TB, s string) any {
	t.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// stepEnv is how Step Functions evaluates: no context item, the input as $states.input.
func stepEnv(t testing.TB, input string) Env {
	return Env{Vars: map[string]any{"states": value.ObjectOf("input", mustParse(t, input))}}
}

func TestEval(t *testing.T) {
	tests := []struct {
		name, expr, input string
		want              string // JSON; "" means undefined
	}{
		{"merge", `$merge([$states.input, {"x": $states.input.result.total * 2}])`, `{"a":1,"result":{"total":21}}`, `{"a":1,"result":{"total":21},"x":42}`},
		{"singleton stays scalar", `$states.input.items.id`, `{"items":[{"id":1}]}`, `1`},
		{"keep array", `$states.input.items.id[]`, `{"items":[{"id":1}]}`, `[1]`},
		{"undefined field", `$states.input.missing`, `{}`, ``},
		{"float formatting", `$states.input.a + 0.01`, `{"a":90.56}`, `90.57000000000001`},
		{"division keeps digits", `4/7`, `{}`, `0.5714285714285714`},
		{"integers stay integers", `2.5 * 4`, `{}`, `10`},
		{"string of number", `$string(10/3)`, `{}`, `"3.33333333333333"`},
		{"key order", `$keys({"b": 1, "a": 2})`, `{}`, `["b","a"]`},
		{"no context item", `$`, `{}`, ``},
		{"field at top level", `a`, `{}`, ``},
		{"parent", `$states.input.o.p.{"id": %.id, "v": v}`, `{"o":{"id":"x","p":[{"v":1},{"v":2}]}}`, `[{"id":"x","v":1},{"id":"x","v":2}]`},
		{"join", `$states.input.(orders@$o.lines[oid = $o.id].{"o": $o.id, "v": v})`, `{"orders":[{"id":1},{"id":2}],"lines":[{"oid":1,"v":7},{"oid":2,"v":8},{"oid":1,"v":9}]}`, `[{"o":1,"v":7},{"o":1,"v":9},{"o":2,"v":8}]`},
		{"tail calls", `($f := function($n, $acc) { $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(100000, 0))`, `{}`, `100000`},
		{"partition", `$partition([1,2,3,4,5], 2)`, `{}`, `[[1,2],[3,4],[5]]`},
		// jsonata-js never returns from these two (it scales -5 towards -∞)
		{"exponent picture, negative", `$formatNumber(-5, "0e0")`, `{}`, `"-5e0"`},
		{"exponent picture, zero", `$formatNumber(0, "0.0e0")`, `{}`, `"0.0e0"`},
		{"range", `$range(0, 10, 2)`, `{}`, `[0,2,4,6,8,10]`},
		{"range down", `$range(5, 1, -2)`, `{}`, `[5,3,1]`},
		{"range default step", `$range(1, 3)`, `{}`, `[1,2,3]`},
		{"range singleton", `$range(1, 9, 9)`, `{}`, `1`},
		{"partition singleton", `$partition([0], 2)`, `{}`, `[[0]]`},
		{"parse -0", `$parse("-0")`, `{}`, `0`},
		{"escaped space in regex", `$contains("hello$world", /^hello\ /)`, `{}`, `false`},
		{"escaped dollar in regex", `$contains('hello$world', /^hello\$/)`, `{}`, `true`},
		{"hash default sha-256", `$hash("abc")`, `{}`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{"hash md5", `$hash("abc", "MD5")`, `{}`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{"hash sha-1", `$hash("abc", "SHA-1")`, `{}`, `"a9993e364706816aba3e25717850c26c9cd0d89d"`},
		{"parse", `$parse('{"a": [1, {"b": null}]}')`, `{}`, `{"a":[1,{"b":null}]}`},
		{"parse input string", `$parse($states.input.body).n`, `{"body":"{\"n\": 5}"}`, `5`},
		{"seeded random is stable", `$random(42) = $random(42)`, `{}`, `true`},
		{"uuid shape", `$contains($uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)`, `{}`, `true`},
		{"now is fixed", `$now() = $now() and $millis() = $millis()`, `{}`, `true`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tc.expr, err)
			}
			got, ok, err := e.Eval(stepEnv(t, tc.input))
			if err != nil {
				t.Fatalf("Eval(%q) = %v", tc.expr, err)
			}
			if tc.want == "" {
				if ok {
					t.Fatalf("Eval(%q) = %s, want undefined", tc.expr, value.String(got))
				}
				return
			}
			if !ok || value.String(got) != tc.want {
				t.Fatalf("Eval(%q) = %s (defined %v), want %s", tc.expr, value.String(got), ok, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		expr, code, message string
		position            int
	}{
		{`1 +`, "S0207", "Unexpected end of expression", 3},
		{`(1`, "S0203", `Expected ")" before end of expression`, 2},
		{`"abc`, "S0101", "String literal must be terminated by a matching quote", 4},
		{`1 + "a"`, "T2002", `The right side of the "+" operator must evaluate to a number`, 3},
		{`$substring("a", "b")`, "T0410", `Argument 2 of function "substring" does not match function signature`, 0},
		{`$error("boom")`, "D3137", "boom", 0},
		{`$assert(1 = 2, "nope")`, "D3141", "nope", 0},
		{`$nosuch(1)`, "T1006", "Attempted to invoke a non-function", 0},
		{`$number("x")`, "D3030", `Unable to cast value to a number: "x"`, 0},
		{`{"a": 1, "a": 2}`, "D1009", `Multiple key definitions evaluate to same key: "a"`, 0},
		{`[1..20000000]`, "D2014", "The size of the sequence allocated by the range operator (..) must not exceed 1e6.  Attempted to allocate 20000000.", 0},
		{`($f := function($n) { 1 + $f($n) }; $f(1))`, "U1001", "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.", 0},
		{strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000), "U1001", "", 0},
		{`($inf := function($n) { $inf($n + 1) }; $inf(0))`, "U1002", "Expression evaluation timeout: Check for infinite loop", 0},
		{`1/0`, "D1001", "Number out of range: null", 0},
		{`$hash("a", "SHA-3")`, "D3030", `Unsupported hash algorithm "SHA-3": use MD5, SHA-1, SHA-256, SHA-384 or SHA-512`, 0},
		{`$parse("{")`, "D3030", "", 0},
		{`$partition([1], 0)`, "D3030", "The size argument of $partition must be a positive integer", 0},
		{`/a(?=b)/`, "S0303", "", 0},
		// a lone surrogate inside the expression's own text, as WTF-8 (how
		// query/value keeps a JSON "\ud800" of a {% %} template)
		{"$encodeUrlComponent('\xed\xa0\x80')", "D3140", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			var err error
			e, cerr := Compile(tc.expr)
			if cerr != nil {
				err = cerr
			} else {
				_, _, err = e.Eval(Env{})
			}
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("%s: got %v, want *Error %s", tc.expr, err, tc.code)
			}
			if je.Code != tc.code {
				t.Fatalf("%s: code %s (%s), want %s", tc.expr, je.Code, je.Message, tc.code)
			}
			if tc.message != "" && je.Message != tc.message {
				t.Errorf("%s: message %q, want %q", tc.expr, je.Message, tc.message)
			}
			if tc.position != 0 && je.Position != tc.position {
				t.Errorf("%s: position %d, want %d", tc.expr, je.Position, tc.position)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	e := MustCompile(`$`)
	got, ok, err := e.Eval(Env{Input: []any{1.0}, HasInput: true})
	if err != nil || !ok || value.String(got) != "[1]" {
		t.Fatalf("$ of [1] = %v %v %v, want [1]", value.String(got), ok, err)
	}
	e = MustCompile(`$x & $fromMillis($millis())`)
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	got, _, err = e.Eval(Env{Vars: map[string]any{"x": "t="}, Now: now})
	if err != nil || got != "t=2024-03-01T12:00:00.000Z" {
		t.Fatalf("got %v %v", got, err)
	}
	// Vars are not modified by := in the expression
	vars := map[string]any{"x": 1.0}
	if _, _, err := MustCompile(`($x := 2; $x)`).Eval(Env{Vars: vars}); err != nil || vars["x"] != 1.0 {
		t.Fatalf("vars changed: %v %v", vars, err)
	}
}

func TestTransformDoesNotMutateInput(t *testing.T) {
	in := mustParse(t, `{"a":{"b":1}}`)
	got, _, err := MustCompile(`$ ~> |a|{"b": 2}|`).Eval(Env{Input: in, HasInput: true})
	if err != nil {
		t.Fatal(err)
	}
	if value.String(got) != `{"a":{"b":2}}` || value.String(in) != `{"a":{"b":1}}` {
		t.Fatalf("got %s, input now %s", value.String(got), value.String(in))
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile(`$sum($states.input.items.(price * qty)) & "/" & $count($states.input.items)`)
	env := stepEnv(t, `{"items":[{"price":1.5,"qty":2},{"price":2,"qty":3}]}`)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				got, _, err := e.Eval(env)
				if err != nil || got != "9/2" {
					errs <- value.String(got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Fatalf("concurrent Eval = %s, want 9/2", s)
	}
}

func TestOutputHasNoInternalValues(t *testing.T) {
	got, ok, err := MustCompile(`{"f": function(){1}, "s": [1..3], "g": $sum}`).Eval(Env{})
	if err != nil || !ok {
		t.Fatal(err)
	}
	if s := value.String(got); s != `{"s":[1,2,3]}` || strings.Contains(s, "lambda") {
		t.Fatalf("got %s", s)
	}
}
