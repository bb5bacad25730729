package jsonpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// mustParse parses JSON test data.
func mustParse(tb testing.TB, s string) any {
	tb.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return v
}

const store = `{
 "store": {
  "book": [
   {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
   {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
   {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99},
   {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99, "onSale": true}
  ],
  "bicycle": {"color": "red", "price": 19.95}
 },
 "expensive": 10,
 "items": [0, 1, 2, 3, 4, 5],
 "empty": [],
 "nul": null,
 "str": "text",
 "odd key": 1,
 "quo'te": 2,
 "a.b": 3
}`

func TestCompileProperties(t *testing.T) {
	for _, tc := range []struct {
		expr, norm     string
		root           Root
		variable       string
		definite, refp bool
	}{
		{"$", "$", RootInput, "", true, true},
		{"$$", "$$", RootContext, "", true, true},
		{"$$.Execution.Id", "$$['Execution']['Id']", RootContext, "", true, true},
		{"$var", "$var", RootVariable, "var", true, true},
		{"$var.x[2]", "$var['x'][2]", RootVariable, "var", true, true},
		{"$.a.b[0]", "$['a']['b'][0]", RootInput, "", true, true},
		{"$['a'][\"b\"]", "$['a']['b']", RootInput, "", true, true},
		{"$.a[-1]", "$['a'][-1]", RootInput, "", true, false},
		{"$.a[*]", "$['a'][*]", RootInput, "", false, false},
		{"$.a.*", "$['a'][*]", RootInput, "", false, false},
		{"$.a[1:3]", "$['a'][1:3]", RootInput, "", false, false},
		{"$.a[1:]", "$['a'][1:]", RootInput, "", false, false},
		{"$.a[:2]", "$['a'][:2]", RootInput, "", false, false},
		{"$.a[0:6:2]", "$['a'][0:6:2]", RootInput, "", false, false},
		{"$.a[0,2]", "$['a'][0,2]", RootInput, "", false, false},
		{"$['a','b']", "$['a','b']", RootInput, "", true, false},
		{"$['a','b'].c", "$['a','b']['c']", RootInput, "", false, false},
		{"$..name", "$..['name']", RootInput, "", false, false},
		{"$..*", "$..[*]", RootInput, "", false, false},
		{"$..[0]", "$..[0]", RootInput, "", false, false},
		{"$.a[?(@.p < 10)].t", "$['a'][?]['t']", RootInput, "", false, false},
		{"$.a.length()", "$['a'].length()", RootInput, "", true, false},
		{"$.a-b.c:d", "$['a-b']['c:d']", RootInput, "", true, true},
		{"$[ 'x' , 'y' ]", "$['x','y']", RootInput, "", true, false},
		{"$.ключ", "$['ключ']", RootInput, "", true, true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tc.expr, err)
			}
			if got := p.Normalized(); got != tc.norm {
				t.Errorf("Normalized = %q, want %q", got, tc.norm)
			}
			if p.Root() != tc.root || p.Variable() != tc.variable {
				t.Errorf("Root, Variable = %v, %q; want %v, %q", p.Root(), p.Variable(), tc.root, tc.variable)
			}
			if p.Definite() != tc.definite || p.Reference() != tc.refp {
				t.Errorf("Definite, Reference = %v, %v; want %v, %v", p.Definite(), p.Reference(), tc.definite, tc.refp)
			}
			if p.String() != tc.expr {
				t.Errorf("String = %q, want %q", p.String(), tc.expr)
			}
			// The normalized form is itself a valid path with the same meaning.
			if q, err := Compile(p.Normalized()); err != nil || q.Normalized() != p.Normalized() {
				if tc.norm != "$['a'][?]['t']" {
					t.Errorf("Compile(Normalized) = %v, %v", q, err)
				}
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
		{"a.b", 0},
		{"$.", 2},
		{"$.a b", 3},
		{"$[", 2},
		{"$['a'", 1},
		{"$['a]", 2},
		{"$[a]", 2},
		{"$[1:2:0]", 6},
		{"$[1,]", 4},
		{"$.a.nosuch()", 4},
		{"$.a.length().b", 12},
		{"$[?(@.a <)]", 9},
		{"$[?(@.a == 'x']", 3},
		{"$[?(@.a =~ 'x')]", 14},
		{"$[?(@.a =~ /(/)]", 11},
		{"$[99999999999]", 2},
		{"$x y", 2},
		{"$.a]", 3},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Compile(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, want *SyntaxError", tc.expr, err)
			}
			if se.Offset != tc.offset || se.Expr != tc.expr {
				t.Errorf("Compile(%q): offset %d (%s), want %d", tc.expr, se.Offset, se.Msg, tc.offset)
			}
		})
	}
}

func TestGet(t *testing.T) {
	doc := mustParse(t, store)
	for _, tc := range []struct {
		expr, want string
	}{
		{"$.expensive", `10`},
		{"$.store.bicycle.color", `"red"`},
		{"$['store']['bicycle']['color']", `"red"`},
		{"$.store.book[0].author", `"Nigel Rees"`},
		{"$.store.book[-1].title", `"LOTR"`},
		{"$.nul", `null`},
		{"$['odd key']", `1`},
		{`$['quo\'te']`, `2`},
		{"$['a.b']", `3`},
		{"$.store.book[*].author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"$.store.*.color", `["red"]`},
		{"$.store.bicycle.*", `["red",19.95]`},
		{"$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"$.store..price", `[8.95,12.99,8.99,22.99,19.95]`},
		{"$..book[2].title", `["Moby Dick"]`},
		{"$..book[0,1].title", `["Sayings","Sword"]`},
		{"$.items[1:3]", `[1,2]`},
		{"$.items[4:]", `[4,5]`},
		{"$.items[:2]", `[0,1]`},
		{"$.items[-2:]", `[4,5]`},
		{"$.items[:-4]", `[0,1]`},
		{"$.items[0:6:2]", `[0,2,4]`},
		{"$.items[10:]", `[]`},
		{"$.items[0,2,-1]", `[0,2,5]`},
		{"$.items[0,99]", `[0]`},
		{"$['expensive','nul','missing']", `{"expensive":10,"nul":null}`},
		{"$.store.book[?(@.price < 10)].title", `["Sayings","Moby Dick"]`},
		{"$.store.book[?(@.price <= 8.99)].title", `["Sayings","Moby Dick"]`},
		{"$.store.book[?(@.price > $.expensive)].title", `["Sword","LOTR"]`},
		{"$.store.book[?(@.isbn)].title", `["Moby Dick","LOTR"]`},
		{"$.store.book[?(!@.isbn)].title", `["Sayings","Sword"]`},
		{"$.store.book[?(@.category == 'fiction' && @.price < 20)].title", `["Sword","Moby Dick"]`},
		{`$.store.book[?(@.category == "reference" || @.onSale == true)].title`, `["Sayings","LOTR"]`},
		{"$.store.book[?(@.category != 'fiction')].title", `["Sayings"]`},
		{"$.store.book[?((@.price > 20 || @.price < 9) && @.isbn)].title", `["Moby Dick","LOTR"]`},
		{"$.store.book[?(@.author =~ /.*ville/)].title", `["Moby Dick"]`},
		{"$.store.book[?(@.author =~ /nigel.*/i)].title", `["Sayings"]`},
		{"$.store.book[?(@.category in ['reference', 'poetry'])].title", `["Sayings"]`},
		{"$.store.book[?(@.category nin ['fiction'])].title", `["Sayings"]`},
		{"$.store.book[?(@.title contains 'Dick')].price", `[8.99]`},
		{"$.store.book[?(@.title size 4)].title", `["LOTR"]`},
		{"$.store.book[?(@.price >= 22.99)].title", `["LOTR"]`},
		{"$.store.book[?(@.price == '8.95')].title", `[]`},
		{"$.store.book[?(@.nosuch < 10)].title", `[]`},
		{"$.items[?(@ > 3)]", `[4,5]`},
		{"$.store.bicycle[?(@.color == 'red')].price", `[19.95]`},
		{"$.items.length()", `6`},
		{"$.store.book.length()", `4`},
		{"$.store.book[*].price.length()", `4`},
		{"$.items.sum()", `15`},
		{"$.items.max()", `5`},
		{"$.store.bicycle.keys()", `["color","price"]`},
		{"$.store.book[?(@.title.length() == 4)].title", `["LOTR"]`},
		// AWS returns [] for wildcards and slices over missing data.
		{"$.item.items[*]", `[]`},
		{"$.items[*].itemValue", `[]`},
		{"$.nosuch[1:5]", `[]`},
		{"$.str[*]", `[]`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := p.Get(doc)
			if err != nil {
				t.Fatalf("Get = %v", err)
			}
			if want := mustParse(t, tc.want); !value.Equal(got, want) {
				t.Errorf("Get = %s, want %s", value.String(got), tc.want)
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	doc := mustParse(t, store)
	for _, tc := range []struct {
		expr, msg string
	}{
		{"$.NoSuchInputPath", "No results for path: $['NoSuchInputPath']"},
		{"$.no.such.result.path", "Missing property in path $['no']"},
		{"$.store.nosuch", "No results for path: $['store']['nosuch']"},
		{"$.store.nosuch.x", "Missing property in path $['store']['nosuch']"},
		{"$.items[6]", "No results for path: $['items'][6]"},
		{"$.items[-7]", "No results for path: $['items'][-7]"},
		{"$.empty[0].x", "No results for path: $['empty'][0]['x']"},
		{"$.str.x", "Expected to find an object with property ['x'] in path $['str'] but found 'string'"},
		{"$.nul[0]", "The path $['nul'] is null"},
		{"$.str[0]", `Filter: [0] can only be applied to arrays. Current context is: "text"`},
		{"$.store.bicycle[0].x", `Filter: [0]['x'] can only be applied to arrays. Current context is: {"color":"red","price":19.95}`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p := MustCompile(tc.expr)
			v, err := p.Get(doc)
			var nr *NoResultsError
			if !errors.As(err, &nr) {
				t.Fatalf("Get = %s, %v; want *NoResultsError", value.String(v), err)
			}
			if err.Error() != tc.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.msg)
			}
			if nr.Path != tc.expr || nr.Normalized != p.Normalized() {
				t.Errorf("Path, Normalized = %q, %q", nr.Path, nr.Normalized)
			}
		})
	}
}

func TestGetRoots(t *testing.T) {
	// The caller picks the document for each root; Get only walks it.
	ctx := mustParse(t, `{"Execution":{"Id":"arn:x","Input":{"a":1}}}`)
	if got, err := MustCompile("$$.Execution.Input.a").Get(ctx); err != nil || got != 1.0 {
		t.Errorf("$$.Execution.Input.a = %v, %v", got, err)
	}
	v := mustParse(t, `{"field":[true]}`)
	if got, err := MustCompile("$myVar.field[0]").Get(v); err != nil || got != true {
		t.Errorf("$myVar.field[0] = %v, %v", got, err)
	}
	if got, err := MustCompile("$").Get("scalar"); err != nil || got != "scalar" {
		t.Errorf("$ on a scalar = %v, %v", got, err)
	}
}

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		doc, expr, v, want string
	}{
		{`{"a":1}`, "$", `{"r":2}`, `{"r":2}`},
		{`{"a":1}`, "$.r", `2`, `{"a":1,"r":2}`},
		{`{"a":1}`, "$.a", `[3]`, `{"a":[3]}`},
		{`{"a":1}`, "$.x.y.z", `true`, `{"a":1,"x":{"y":{"z":true}}}`},
		{`{"a":{"b":1,"c":2}}`, "$.a.c", `null`, `{"a":{"b":1,"c":null}}`},
		{`{"a":[{"b":1},{"b":2}]}`, "$.a[1].b", `9`, `{"a":[{"b":1},{"b":9}]}`},
		{`{"a":[1,2]}`, "$.a[0]", `"x"`, `{"a":["x",2]}`},
		{`"scalar"`, "$", `1`, `1`},
		{`{"a":1}`, "$$.x", `1`, `{"a":1,"x":1}`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			doc := mustParse(t, tc.doc)
			got, err := Set(doc, MustCompile(tc.expr), mustParse(t, tc.v))
			if err != nil {
				t.Fatalf("Set = %v", err)
			}
			if want := mustParse(t, tc.want); !value.Equal(got, want) {
				t.Errorf("Set = %s, want %s", value.String(got), tc.want)
			}
			if !value.Equal(doc, mustParse(t, tc.doc)) {
				t.Errorf("Set modified its input: %s", value.String(doc))
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	for _, tc := range []struct{ doc, expr string }{
		{`{"a":1}`, "$.a.b"},
		{`{"a":null}`, "$.a.b"},
		{`[1]`, "$.a"},
		{`"s"`, "$.a"},
		{`{"a":[1]}`, "$.a[1]"},
		{`{"a":{}}`, "$.a[0]"},
		{`{}`, "$.a[0]"},
		{`{"a":[1]}`, "$.a[*]"},
		{`{"a":[1]}`, "$.a[-1]"},
		{`{"a":[1]}`, "$..a"},
		{`{"a":[1]}`, "$.a.length()"},
	} {
		t.Run(tc.doc+" "+tc.expr, func(t *testing.T) {
			_, err := Set(mustParse(t, tc.doc), MustCompile(tc.expr), 1.0)
			var se *SetError
			if !errors.As(err, &se) || se.Path != tc.expr {
				t.Errorf("Set = %v, want *SetError", err)
			}
		})
	}
}

func TestSetSharesNothingWritable(t *testing.T) {
	// Writing into the result must not show through the original document.
	doc := mustParse(t, `{"a":{"b":{"c":1}},"keep":{"k":1}}`)
	out, err := Set(doc, MustCompile("$.a.b.d"), 2.0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := MustCompile("$.a.b").Get(out)
	got.(*value.Object).Set("c", 99.0)
	if c, _ := MustCompile("$.a.b.c").Get(doc); c != 1.0 {
		t.Errorf("original changed: $.a.b.c = %v", c)
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompile did not panic on a bad path")
		}
	}()
	MustCompile("bad")
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"$", "$$.Execution.Id", "$v.a[0]", "$.a.b[-1]", "$['a','b']", "$..x[*]",
		"$.a[1:3:2]", "$.a[?(@.p < 10 && (@.q || !@.r))]", "$.a[?(@.s =~ /x.*/i)]", "$.a.length()",
		`$["q\"x"]`, "$.a[?(@.x in [1,'a',[true]])]"} {
		f.Add(s)
	}
	doc := mustParse(f, store)
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := Compile(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(expr) {
				t.Fatalf("Compile(%q) = %v, want *SyntaxError with offset in range", expr, err)
			}
			return
		}
		if p.String() != expr {
			t.Fatalf("String = %q, want %q", p.String(), expr)
		}
		// Normalized text compiles to the same normalized text. Filters
		// print as [?], and like Jayway names are printed unescaped, so
		// paths with those are skipped.
		if reparsable(p) {
			q, err := Compile(p.Normalized())
			if err != nil {
				t.Fatalf("Compile(Normalized %q) = %v", p.Normalized(), err)
			}
			if q.Normalized() != p.Normalized() {
				t.Fatalf("Normalized not stable: %q -> %q", p.Normalized(), q.Normalized())
			}
		}
		_, _ = p.Get(doc)
		_, _ = Set(doc, p, 1.0)
	})
}

func reparsable(p *Path) bool {
	if strings.ContainsAny(p.varName, "'\\") {
		return false
	}
	for _, s := range p.segs {
		if s.kind == segFilter || strings.ContainsAny(s.name, "'\\") {
			return false
		}
		for _, n := range s.names {
			if strings.ContainsAny(n, "'\\") {
				return false
			}
		}
	}
	return true
}

func BenchmarkGetDefinite(b *testing.B) {
	doc := mustParse(b, store)
	p := MustCompile("$.store.book[2].author")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFilter(b *testing.B) {
	doc := mustParse(b, store)
	p := MustCompile("$.store.book[?(@.price < 10)].title")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	doc := mustParse(b, store)
	p := MustCompile("$.store.result")
	v := mustParse(b, `{"ok":true}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Set(doc, p, v); err != nil {
			b.Fatal(err)
		}
	}
}
