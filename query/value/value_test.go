package value

import (
	"encoding/json"
	"math"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null],"c":{"z":"x","y":1.5}}`, `{"b":1,"a":[true,false,null],"c":{"z":"x","y":1.5}}`},
		{` [ 1 , 2.0 , -0.5e1 ] `, `[1,2,-5]`},
		{`"\u00e9\n\"\\\/"`, `"é\n\"\\/"`},
		{`"\ud83d\ude00"`, `"😀"`},
		{`{"a":1,"a":2}`, `{"a":2}`},
		{`1e21`, `1e+21`},
		{`1e-7`, `1e-7`},
		{`0.000001`, `0.000001`},
		{`123456789012345680000`, `123456789012345680000`},
		{`90.57000000000001`, `90.57000000000001`},
		{`"\u0001"`, `"\u0001"`},
	}
	for _, tc := range tests {
		v, err := ParseString(tc.in)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.in, err)
		}
		if got := String(v); got != tc.want {
			t.Errorf("String(Parse(%s)) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `[1,]`, `{"a"}`, `01`, `"abc`, `tru`, `1 2`, `{"a":1,}`, `"\x"`, `-`, `1.`, `1e`} {
		if _, err := ParseString(in); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", in)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tenth := 0.1
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {-1, "-1"}, {tenth + 0.2, "0.30000000000000004"}, {1e21, "1e+21"}, {-1.5e-7, "-1.5e-7"},
		{1e20, "100000000000000000000"}, {4.0 / 7, "0.5714285714285714"}, {math.NaN(), "null"}, {123.456, "123.456"},
	}
	for _, tc := range tests {
		if got := FormatNumber(tc.f); got != tc.want {
			t.Errorf("FormatNumber(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestObjectOrderAndIndex(t *testing.T) {
	o := NewObject(0)
	for i := 0; i < 40; i++ {
		o.Set(string(rune('A'+i)), float64(i))
	}
	o.Set("C", "x")
	o.Delete("B")
	if v, _ := o.Get("C"); v != "x" {
		t.Fatalf("Get(C) = %v", v)
	}
	if o.Has("B") || o.Len() != 39 {
		t.Fatalf("after Delete: has B=%v len=%d", o.Has("B"), o.Len())
	}
	if k := o.Keys(); k[0] != "A" || k[1] != "C" || k[38] != string(rune('A'+39)) {
		t.Fatalf("keys out of order: %v", k)
	}
	if v, _ := o.Get(string(rune('A' + 39))); v != 39.0 {
		t.Fatalf("index stale after delete: %v", v)
	}
}

func TestEncodingJSONInterop(t *testing.T) {
	var s struct{ O *Object }
	if err := json.Unmarshal([]byte(`{"O":{"z":1,"a":2}}`), &s); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	if string(b) != `{"O":{"z":1,"a":2}}` {
		t.Fatalf("round trip = %s", b)
	}
	v, err := FromGo(map[string]any{"b": 1, "a": []any{int64(2), json.Number("3.5")}})
	if err != nil || String(v) != `{"a":[2,3.5],"b":1}` {
		t.Fatalf("FromGo = %s, %v", String(v), err)
	}
	if !Equal(v, ToGoRoundTrip(t, v)) {
		t.Fatal("ToGo/FromGo not equal")
	}
}

func ToGoRoundTrip(t *testing.T, v any) any {
	t.Helper()
	back, err := FromGo(ToGo(v))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d"`, `-0.0e-0`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b)
		if err != nil {
			return
		}
		out := Marshal(v)
		v2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !Equal(v, v2) {
			t.Fatalf("round trip changed value: %s", out)
		}
		var std any
		if json.Unmarshal(b, &std) != nil {
			t.Fatalf("we accepted %q, encoding/json did not", b)
		}
	})
}

func TestCloneIsIndependent(t *testing.T) {
	for _, n := range []int{3, 30} {
		o := NewObject(n)
		for i := 0; i < n; i++ {
			o.Set(FormatNumber(float64(i)), float64(i))
		}
		c := o.Clone()
		c.Set("new", true)
		c.Set("0", "changed")
		c.Delete("1")
		if o.Has("new") || o.Len() != n {
			t.Fatalf("n=%d: clone changed the original: %s", n, String(o))
		}
		if v, _ := o.Get("0"); v != 0.0 {
			t.Fatalf("n=%d: original value changed: %v", n, v)
		}
		if v, _ := c.Get(FormatNumber(float64(n - 1))); v != float64(n-1) {
			t.Fatalf("n=%d: clone lookup after delete = %v", n, v)
		}
	}
}

func TestLoneSurrogatesSurvive(t *testing.T) {
	for in, want := range map[string]string{`"\ud800"`: `"\ud800"`, `"a\uDC00b"`: `"a\udc00b"`, `"\ud83d\ude00\ud800"`: `"😀\ud800"`} {
		v, err := ParseString(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(v); got != want {
			t.Errorf("String(Parse(%s)) = %s, want %s", in, got, want)
		}
	}
	if got := String("bad\xffbyte"); got != `"bad`+"\ufffd"+`byte"` {
		t.Errorf("invalid byte: %s", got)
	}
}
