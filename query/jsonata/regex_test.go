package jsonata

import (
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

func TestRegexTranslation(t *testing.T) {
	tests := []struct {
		pattern, flags, input string
		want                  string // JSON of $match(input, /pattern/flags).match, or "error"
	}{
		{`a.c`, "", "abc", `"abc"`},
		{`a.c`, "", "a\nc", ``},
		{`\d+`, "", "x123", `"123"`},
		{`[^]`, "", "\n", `"\n"`},
		{`\u00e9`, "", "café", `"é"`},
		{`\/`, "", "a/b", `"/"`},
		{`(?<y>\d{4})`, "", "in 2024", `"2024"`},
		{`\s`, "", "a\u00a0b", "\"\u00a0\""},
		{`^b`, "m", "a\nb", `"b"`},
		{`B`, "i", "abc", `"b"`},
		{`$`, "", "ab", `""`},
		{`(a)\1`, "", "aa", "error"},
		{`a(?=b)`, "", "ab", "error"},
		{`(?<!x)a`, "", "a", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			src := "$match(" + value.String(tc.input) + ", /" + tc.pattern + "/" + tc.flags + ")[0].match"
			e, err := Compile(src)
			if tc.want == "error" {
				if err == nil || err.(*Error).Code != "S0303" {
					t.Fatalf("Compile(%s) = %v, want S0303", src, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile(%s) = %v", src, err)
			}
			got, ok, err := e.Eval(Env{})
			if err != nil {
				t.Fatalf("Eval(%s) = %v", src, err)
			}
			if s := value.String(got); (tc.want == "" && ok) || (tc.want != "" && s != tc.want) {
				t.Fatalf("%s = %s (defined %v), want %s", src, s, ok, tc.want)
			}
		})
	}
}

func TestJSKeyOrder(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":2}`, `{"b":1,"a":2}`},
		{`{"b":1,"10":2,"2":3,"a":4}`, `{"2":3,"10":2,"b":1,"a":4}`},
		{`{"01":1,"1":2,"-1":3,"4294967295":4,"4294967294":5}`, `{"1":2,"4294967294":5,"01":1,"-1":3,"4294967295":4}`},
	}
	for _, tc := range tests {
		got, _, err := MustCompile(`$`).Eval(Env{Input: mustParse(t, tc.in), HasInput: true})
		if err != nil {
			t.Fatal(err)
		}
		if s := value.String(got); s != tc.want {
			t.Errorf("order of %s = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestSignatureErrors(t *testing.T) {
	tests := []struct{ sig, code string }{
		{"<s<s>>", "S0401"},
		{"<(s<s>)>", "S0402"},
	}
	for _, tc := range tests {
		_, err := Compile("function($x) " + tc.sig + " { $x }")
		if err == nil || !strings.HasPrefix(err.Error(), tc.code) {
			t.Errorf("signature %s: %v, want %s", tc.sig, err, tc.code)
		}
	}
}
