package jsonata

import (
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

// Fuzz inputs are bounded: a long expression can legitimately build large
// values (ranges, string padding), which is not what the targets look for.
const maxFuzzLen = 300

var fuzzSeeds = []string{
	`$merge([$states.input, {"x": $states.input.result.Payload.total * 2}])`,
	`Account.Order.Product[Price > 30]{SKU: $sum(Price)}`,
	`Account.Order@$o.Product#$i.{"o": %.OrderID, "i": $i}`,
	`($f := function($n) { $n <= 1 ? 1 : $n * $f($n - 1) }; $f(5))`,
	`$formatNumber(1234.5, "#,##0.00") & $formatInteger(42, "w") & $fromMillis(0, "[Y]-[M01]-[D01]")`,
	`$toMillis("2020-01-02", "[Y]-[M]-[D]") ~> $string()`,
	`$ ~> |a|{"b": 1}, ["c"]|`, `$replace("abc", /(b)/i, "[$1]")`, `[1..3].($ * 2)^(>$)`,
	`{"a": [1, 2]}.a[$ > 1]`, `$split("a,b", ",") ~> $join("-")`, `**[0]`, `$.*.%`,
}

func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxFuzzLen {
			return
		}
		e, err := Compile(src)
		if err != nil {
			je, ok := err.(*Error)
			if !ok || je.Code == "" || je.Code == "D0000" {
				t.Fatalf("Compile(%q) = %v, want a coded *Error", src, err)
			}
			return
		}
		if e.String() != src {
			t.Fatalf("String() = %q, want %q", e.String(), src)
		}
	})
}

func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, `{"Account":{"Order":[{"OrderID":"o1","Product":[{"SKU":"a","Price":34.45}]}]},"a":{"c":1}}`)
	}
	f.Fuzz(func(t *testing.T, src, input string) {
		if len(src) > maxFuzzLen || len(input) > 2000 || strings.Contains(src, "..") {
			return
		}
		in, err := value.ParseString(input)
		if err != nil {
			return
		}
		e, err := Compile(src)
		if err != nil {
			return
		}
		got, ok, err := e.Eval(Env{Input: in, HasInput: true, Now: time.Unix(0, 0),
			Vars: map[string]any{"states": value.ObjectOf("input", in)}})
		if err != nil {
			if je, isErr := err.(*Error); !isErr || je.Code == "D0000" {
				t.Fatalf("Eval(%q) = %v", src, err)
			}
			return
		}
		if ok {
			// the result is in the data model: it must survive a JSON round trip
			if _, err := value.Parse(value.Marshal(got)); err != nil {
				t.Fatalf("Eval(%q) produced invalid JSON: %v", src, err)
			}
		}
	})
}
