package feel

import (
	"math/rand/v2"
	"testing"
)

// randomFEEL builds a random expression from the supported grammar (and a
// few things outside it), so that many combinations of constructs reach
// the generator.
func randomFEEL(r *rand.Rand, depth int) string {
	leaves := []string{"x", "y", "a.b", "xs", "1", "2.5", `"s"`, "true", "null", "item", "amount", `date("2024-01-01")`, "now()", `duration("P1D")`, `duration("P1M")`,
		"[1, 2]", "{k: 1}", "date(x)", "date and time(y)", "time(x)", "a.b.c", "xs[1]", "date and time(x, y)", "today()"}
	if depth <= 0 {
		return leaves[r.IntN(len(leaves))]
	}
	sub := func() string { return randomFEEL(r, depth-1) }
	switch r.IntN(22) {
	case 0:
		return sub() + " + " + sub()
	case 1:
		return sub() + " - " + sub()
	case 2:
		return sub() + " * " + sub()
	case 3:
		return sub() + []string{" = ", " != ", " < ", " <= ", " > ", " >= "}[r.IntN(6)] + sub()
	case 4:
		return sub() + " and " + sub()
	case 5:
		return sub() + " or " + sub()
	case 6:
		return "not(" + sub() + ")"
	case 7:
		return "if " + sub() + " then " + sub() + " else " + sub()
	case 8:
		return sub() + " in [" + sub() + ".." + sub() + "]"
	case 9:
		return sub() + " in (> " + sub() + ", " + sub() + ")"
	case 10:
		return sub() + " between " + sub() + " and " + sub()
	case 11:
		return "some v in " + sub() + " satisfies " + sub()
	case 12:
		return "every v in " + sub() + " satisfies " + sub()
	case 13:
		return "xs[" + sub() + "]"
	case 14:
		return "(" + sub() + ")." + []string{"a", "b c", "and"}[r.IntN(3)]
	case 15:
		return "[" + sub() + ", " + sub() + "]"
	case 16:
		return "{a: " + sub() + ", b: a}"
	case 17:
		fns := []string{"string length", "upper case", "count", "sum", "abs", "floor", "is defined", "distinct values", "flatten", "sort", "all", "any", "string", "number", "date", "mean", "min"}
		return fns[r.IntN(len(fns))] + "(" + sub() + ")"
	case 18:
		fns := []string{"contains", "starts with", "ends with", "append", "concatenate", "list contains", "get or else", "substring", "modulo", "round half up", "max", "string join", "decimal"}
		return fns[r.IntN(len(fns))] + "(" + sub() + ", " + sub() + ")"
	case 19:
		return "-" + sub()
	case 20:
		if r.IntN(2) == 0 {
			return "for v in " + sub() + " return " + sub()
		}
		return sub() + " ** " + sub()
	default:
		return `matches(` + sub() + `, "^a/[b]+$", "i")`
	}
}

// TestRandomOutputsCompile compiles the JSONata of many random FEEL
// expressions with jsonata itself (one node process).
func TestRandomOutputsCompile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var cases []nodeCase
	var srcs []string
	for len(cases) < 600 {
		src := randomFEEL(r, 1+r.IntN(4))
		got, err := Translate(src)
		if err != nil {
			continue
		}
		if msg := balanced(got); msg != "" {
			t.Errorf("Translate(%q) = %s: %s", src, got, msg)
		}
		cases = append(cases, nodeCase{Expr: got, CompileOnly: true})
		srcs = append(srcs, src)
	}
	res := evalJSONata(t, cases)
	for i, r := range res {
		if r.Err != "" {
			t.Errorf("Translate(%q) = %s does not compile: %s", srcs[i], cases[i].Expr, r.Err)
		}
	}
}

// TestRandomNoRuntimeErrors evaluates random translations with random
// variable values (null, wrong types, bad dates): JSONata must never raise
// an error, since FEEL yields null in those cases and an error would fail
// the Step Functions execution.
func TestRandomNoRuntimeErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vals := []string{`null`, `1`, `-2.5`, `0`, `"abc"`, `""`, `"2024-01-01"`, `"2024-01-01T10:00:00Z"`, `"10:00:00"`, `"2024-1-1"`,
		`true`, `[1, 2]`, `["a"]`, `[]`, `[null]`, `{"b": 1}`, `{"b": "2024-01-01"}`, `[{"amount": 5}]`}
	var cases []nodeCase
	var srcs []string
	for len(cases) < 2000 {
		src := randomFEEL(r, 1+r.IntN(3))
		got, err := Translate(src)
		if err != nil {
			continue
		}
		vars := "{"
		for i, n := range []string{"x", "y", "a", "xs", "item", "amount"} {
			if i > 0 {
				vars += ", "
			}
			vars += `"` + n + `": ` + vals[r.IntN(len(vals))]
		}
		cases = append(cases, nodeCase{Expr: got, Vars: []byte(vars + "}")})
		srcs = append(srcs, src)
	}
	for i, r := range evalJSONata(t, cases) {
		if r.Err != "" {
			t.Errorf("%s with %s\n  jsonata: %s\n  error: %s", srcs[i], cases[i].Vars, cases[i].Expr, r.Err)
		}
	}
}
