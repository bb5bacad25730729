package intrinsic

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

func mustParse(tb testing.TB, s string) any {
	tb.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return v
}

// resolver answers paths from an input ($), a context ($$) and variables.
func resolver(input, ctx any, vars map[string]any) func(*jsonpath.Path) (any, error) {
	return func(p *jsonpath.Path) (any, error) {
		switch p.Root() {
		case jsonpath.RootContext:
			return p.Get(ctx)
		case jsonpath.RootVariable:
			v, ok := vars[p.Variable()]
			if !ok {
				return nil, errors.New("no variable " + p.Variable())
			}
			return p.Get(v)
		}
		return p.Get(input)
	}
}

const input = `{
 "name": "World", "n": 3, "f": 1.5, "t": true, "nul": null,
 "arr": [1, 2, 2, "a", "a", {"x": 1}, {"x": 1}, [1], [1]],
 "obj": {"k": "v", "list": [1, "two", {"z": null}]},
 "o1": {"a": {"a1": 1}, "b": 2}, "o2": {"a": {"a2": 2}, "c": 3},
 "csv": "a,b;c", "json": "{\"p\":[1,2]}", "b64": "aGVsbG8=", "tmpl": "x={} y={}"
}`

func TestEval(t *testing.T) {
	doc := mustParse(t, input)
	ctx := mustParse(t, `{"Execution":{"Id":"arn:exec:1","Input":{"a":"b"}}}`)
	vars := map[string]any{"greeting": "Hi", "cfg": mustParse(t, `{"size":2}`)}
	for _, tc := range []struct {
		expr, want string
	}{
		{`States.Format('Hello, {}!', $.name)`, `"Hello, World!"`},
		{`States.Format('{} and {}', $.n, $.f)`, `"3 and 1.5"`},
		{`States.Format('{}|{}|{}', $.t, $.nul, $.obj)`, `"true|null|{k=v, list=[1, two, {z=null}]}"`},
		{`States.Format('no placeholders')`, `"no placeholders"`},
		{`States.Format('esc \{\} \' \\ {}', 1)`, `"esc {} ' \\ 1"`},
		{`States.Format('{}{}', 'a', 'b')`, `"ab"`},
		{`States.Format($.tmpl, 1, 'z')`, `"x=1 y=z"`},
		{`States.Format('{} {}', $greeting, $$.Execution.Id)`, `"Hi arn:exec:1"`},
		{`States.Format('{}', States.Array(1, 'x'))`, `"[1, x]"`},
		{`States.StringToJson($.json)`, `{"p":[1,2]}`},
		{`States.StringToJson('"s"')`, `"s"`},
		{`States.StringToJson(' -0 ')`, `0`},
		{`States.JsonToString($.obj)`, `"{\"k\":\"v\",\"list\":[1,\"two\",{\"z\":null}]}"`},
		{`States.JsonToString('s')`, `"\"s\""`},
		{`States.JsonToString(null)`, `"null"`},
		{`States.Array()`, `[]`},
		{`States.Array(1, 'a', true, null, $.obj.k, States.Array())`, `[1,"a",true,null,"v",[]]`},
		{`States.ArrayPartition($.arr, 4)`, `[[1,2,2,"a"],["a",{"x":1},{"x":1},[1]],[[1]]]`},
		{`States.ArrayPartition(States.Array(), 3)`, `[]`},
		{`States.ArrayPartition(States.Array(1,2), 5)`, `[[1,2]]`},
		{`States.ArrayContains($.arr, 'a')`, `true`},
		{`States.ArrayContains($.arr, $.obj)`, `false`},
		{`States.ArrayContains($.arr, States.StringToJson('{"x":1}'))`, `true`},
		{`States.ArrayContains($.arr, States.Array(1))`, `true`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(0, 10, 3)`, `[0,3,6,9]`},
		{`States.ArrayRange(1, 9, 9)`, `[1]`},
		{`States.ArrayRange(5, 1, 2)`, `[]`},
		{`States.ArrayRange(0.6, 3.4, 1)`, `[1,2,3]`},
		{`States.ArrayGetItem($.arr, 5)`, `{"x":1}`},
		{`States.ArrayGetItem(States.StringSplit('a.b', '.'), 1)`, `"b"`},
		{`States.ArrayLength($.arr)`, `9`},
		{`States.ArrayUnique($.arr)`, `[1,2,"a",{"x":1},[1]]`},
		{`States.Base64Encode('hello')`, `"aGVsbG8="`},
		{`States.Base64Encode('')`, `""`},
		{`States.Base64Decode($.b64)`, `"hello"`},
		{`States.Hash('input data', 'MD5')`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('input data', 'SHA-256')`, `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{`States.Hash('input data', 'SHA-384')`, `"d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"`},
		{`States.Hash('input data', 'SHA-512')`, `"6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"`},
		{`States.JsonMerge($.o1, $.o2, false)`, `{"a":{"a2":2},"b":2,"c":3}`},
		{`States.MathAdd(1.49, 1.5)`, `3`},
		{`States.MathAdd(-1.5, 0)`, `-1`},
		{`States.MathAdd(-1.51, 0)`, `-2`},
		{`States.MathAdd(-0.5, 0.5)`, `1`},
		{`States.MathAdd(-3.5, 0)`, `-3`},
		{`States.MathAdd($.n, -1)`, `2`},
		{`States.MathAdd(States.ArrayLength($.arr), 1)`, `10`},
		{`States.StringSplit($.csv, ',;')`, `["a","b","c"]`},
		{`States.StringSplit(' , ', ',')`, `[" "," "]`},
		{`States.StringSplit('', ',')`, `[]`},
		{`States.StringSplit('a,,b', ',')`, `["a","b"]`},
		{"States.StringSplit('split on T and \nnew line', 'T\n')", `["split on "," and ","new line"]`},
		{`States.StringSplit($$.Execution.Input.a, ',')`, `["b"]`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			c, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile = %v", err)
			}
			got, err := c.Eval(resolver(doc, ctx, vars))
			if err != nil {
				t.Fatalf("Eval = %v", err)
			}
			if want := mustParse(t, tc.want); !value.Equal(got, want) {
				t.Errorf("Eval = %s, want %s", value.String(got), tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	doc := mustParse(t, input)
	for _, tc := range []struct {
		expr, cause string // cause: a substring of the expected cause
	}{
		{`States.Format($.tmpl, 1)`, "does not match the number of placeholders"},
		{`States.Format($.n)`, "argument 1 of States.Format must be of type string"},
		{`States.StringToJson($.n)`, "must be of type string, but was number: 3"},
		{`States.StringToJson('{')`, "not valid JSON"},
		{`States.StringToJson('')`, "not valid JSON"},
		{`States.ArrayPartition($.obj, 2)`, "must be of type array, but was object"},
		{`States.ArrayPartition($.arr, 0)`, "must be a positive integer"},
		{`States.ArrayPartition($.arr, 1.5)`, "must be an integer"},
		{`States.ArrayContains('x', 1)`, "must be of type array"},
		{`States.ArrayRange(0, 10, 0)`, "must be a positive integer"},
		{`States.ArrayRange(5, 1, -2)`, "must be a positive integer"},
		{`States.ArrayRange(0, 2000, 1)`, "at most 1000"},
		{`States.ArrayRange('a', 1, 1)`, "must be of type number"},
		{`States.ArrayGetItem($.arr, 9)`, "out of bounds"},
		{`States.ArrayGetItem($.arr, -1)`, "out of bounds"},
		{`States.ArrayLength($.name)`, "must be of type array"},
		{`States.ArrayUnique(null)`, "must be of type array, but was null"},
		{`States.Base64Encode($.n)`, "must be of type string"},
		{`States.Base64Decode('***')`, "not valid base64"},
		{`States.Hash('x', $.name)`, "not supported"},
		{`States.JsonMerge($.o1, $.arr, false)`, "argument 2 of States.JsonMerge must be of type object"},
		{`States.JsonMerge($.o1, $.o2, $.t)`, "must be false"},
		{`States.MathRandom(5, 5)`, "must be greater than the start"},
		{`States.MathAdd($.name, 1)`, "must be of type number"},
		{`States.MathAdd(3000000000, 1)`, "outside the integer range"},
		{`States.Hash($.obj, 'MD5')`, "argument 1 of States.Hash must be of type string"},
		{`States.MathRandom('1', 5)`, "must be of type number"},
		{`States.StringSplit($.n, ',')`, "argument 1 of States.StringSplit must be of type string"},
		{`States.StringSplit('a', 1)`, "argument 2 of States.StringSplit must be of type string"},
		{`States.Array(States.ArrayGetItem($.arr, 99))`, "out of bounds"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			c, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile = %v", err)
			}
			got, err := c.Eval(resolver(doc, nil, nil))
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("Eval = %s, %v; want *Error", value.String(got), err)
			}
			if ie.Name != "States.Runtime" || !strings.Contains(ie.Cause, tc.cause) {
				t.Errorf("Eval error = %s / %q, want States.Runtime / …%s…", ie.Name, ie.Cause, tc.cause)
			}
		})
	}
}

func TestEvalPassesResolverErrors(t *testing.T) {
	c, err := Compile(`States.Format('{}', States.Array($.missing))`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Eval(resolver(mustParse(t, `{}`), nil, nil))
	var nr *jsonpath.NoResultsError
	if !errors.As(err, &nr) || err.Error() != "No results for path: $['missing']" {
		t.Errorf("Eval = %v, want the resolver's *jsonpath.NoResultsError", err)
	}
}

func TestUUID(t *testing.T) {
	c, err := Compile("States.UUID()")
	if err != nil {
		t.Fatal(err)
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, _ := c.Eval(nil)
	b, _ := c.Eval(nil)
	for _, u := range []any{a, b} {
		if s, ok := u.(string); !ok || !v4.MatchString(s) {
			t.Errorf("UUID = %v, want a v4 UUID", u)
		}
	}
	if a == b {
		t.Errorf("two UUIDs are equal: %v", a)
	}
}

func TestMathRandom(t *testing.T) {
	unseeded, _ := Compile("States.MathRandom(1, 4)")
	seen := map[float64]bool{}
	for range 200 {
		v, err := unseeded.Eval(nil)
		if err != nil {
			t.Fatal(err)
		}
		f := v.(float64)
		if f < 1 || f >= 4 || f != float64(int(f)) {
			t.Fatalf("MathRandom(1, 4) = %v, want an integer in [1, 4)", f)
		}
		seen[f] = true
	}
	if len(seen) != 3 {
		t.Errorf("200 draws of MathRandom(1, 4) gave only %v", seen)
	}
	rounded, _ := Compile("States.MathRandom(0.6, 2.4)")
	if v, err := rounded.Eval(nil); err != nil || v != 1.0 {
		t.Errorf("MathRandom(0.6, 2.4) = %v, %v; want 1 (bounds rounded to [1, 2))", v, err)
	}
	seeded, _ := Compile("States.MathRandom(0, 1000000, 42)")
	x, _ := seeded.Eval(nil)
	y, _ := seeded.Eval(nil)
	if x != y {
		t.Errorf("seeded MathRandom differs: %v, %v", x, y)
	}
}

func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		expr, name string
		paths      []string
	}{
		{"States.UUID()", "States.UUID", nil},
		{"States.Array( )", "States.Array", nil},
		{"States.Format('{}', $.a)", "States.Format", []string{"$.a"}},
		{"States.Array($.a[0], $['b,c'], $.d[?(@.x, 1)], $$.Execution.Id, $v.x)", "States.Array",
			[]string{"$.a[0]", "$['b,c']", "$.d[?(@.x, 1)]", "$$.Execution.Id", "$v.x"}},
		{"States.Array( $.a , States.Array($.b) )", "States.Array", []string{"$.a", "$.b"}},
		{"States.MathAdd(-1, 2.5e1)", "States.MathAdd", nil},
		{"States.Format('it\\'s {}', 'x')", "States.Format", nil},
		{"States.Format('\\{\\}')", "States.Format", nil},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			c, err := Compile(tc.expr)
			if strings.Contains(tc.expr, "?(@.x, 1)") {
				// A filter with a comma is not valid JSONPath, but the
				// argument must still be cut at the right place.
				var se *SyntaxError
				if !errors.As(err, &se) || !strings.Contains(se.Msg, "$.d[?(@.x, 1)]") {
					t.Fatalf("Compile = %v, want an error about $.d[?(@.x, 1)]", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile = %v", err)
			}
			if c.Name() != tc.name || c.String() != tc.expr {
				t.Errorf("Name, String = %q, %q", c.Name(), c.String())
			}
			var got []string
			for _, p := range c.Paths() {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.paths, " ") {
				t.Errorf("Paths = %q, want %q", got, tc.paths)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		offset int
	}{
		{"", 0},
		{"Format('x')", 0},
		{"States.NoSuch()", 0},
		{"States.format('x')", 0},
		{"States.UUID", 11},
		{"States.UUID(", 12},
		{"States.UUID(1)", 0},
		{"States.MathAdd(1)", 0},
		{"States.MathRandom(1, 2, 3, 4)", 0},
		{"States.Array(1,)", 15},
		{"States.Array(1 2)", 15},
		{"States.Array('x)", 13},
		{"States.Array(x)", 13},
		{"States.Array(1) x", 16},
		{"States.Array($.a b)", 16},
		{"States.Array($.)", 15},
		{"States.Array(1e999)", 13},
		{"States.Format('{} {}', 1)", 0},
		{"States.Format(1)", 0},
		{"States.Hash('x', 'SHA-3')", 0},
		{"States.JsonMerge($.a, $.b, true)", 0},
		{"States.Array(" + strings.Repeat("States.Array(", 60) + strings.Repeat(")", 61), 0},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Compile(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, want *SyntaxError", tc.expr, err)
			}
			if tc.offset != 0 && se.Offset != tc.offset {
				t.Errorf("offset = %d (%s), want %d", se.Offset, se.Msg, tc.offset)
			}
		})
	}
}

func TestIsIntrinsic(t *testing.T) {
	for s, want := range map[string]bool{
		"States.Format('x')": true, "States.": true, "$.a": false, "states.Format()": false, "": false,
	} {
		if got := IsIntrinsic(s); got != want {
			t.Errorf("IsIntrinsic(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"States.Format('Hello {}', $.name)", "States.UUID()",
		"States.Array(1, -2.5, true, false, null, 'x\\'y', $$.a, $v.b[0])",
		"States.ArrayGetItem(States.StringSplit($.s, ','), 0)", "States.Format('\\{\\} {}', $['a,b'])",
		"States.MathRandom(1, 10, 3)", "States.JsonMerge($.a, $.b, false)"} {
		f.Add(s)
	}
	doc := mustParse(f, input)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := Compile(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(expr) {
				t.Fatalf("Compile(%q) = %v, want *SyntaxError with offset in range", expr, err)
			}
			return
		}
		if strings.TrimSpace(c.String()) != strings.TrimSpace(expr) {
			t.Fatalf("String = %q, want %q", c.String(), expr)
		}
		again, err := Compile(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("recompile %q = %v, %v", c.String(), again, err)
		}
		// ArrayRange and MathRandom are bounded, so evaluating is cheap.
		_, _ = c.Eval(resolver(doc, doc, map[string]any{}))
	})
}

func BenchmarkFormat(b *testing.B) {
	doc := mustParse(b, input)
	c, _ := Compile("States.Format('Hello, {}! You have {} items.', $.name, $.n)")
	r := resolver(doc, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(r); err != nil {
			b.Fatal(err)
		}
	}
}
