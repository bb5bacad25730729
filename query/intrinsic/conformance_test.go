package intrinsic

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// casesDir holds the shared ASL conformance cases recorded against AWS.
const casesDir = "../../../shared/conformance/asl"

// TestConformance compiles every intrinsic call in a "key.$" field of a
// JSONPath-mode state of the recorded cases (AWS accepted them all), and
// for the single-Pass-state cases whose Parameters are only intrinsics
// and literals, evaluates them against the case input and compares with
// the output AWS recorded.
func TestConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "cases*", "*.json"))
	if len(files) == 0 {
		t.Skip("conformance cases not present")
	}
	compiled, evaluated := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := value.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tc := c.(*value.Object)
		def, _ := tc.Get("definition")
		for _, expr := range collectCalls(def, false) {
			compiled++
			if _, err := Compile(expr); err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
		if strings.HasPrefix(filepath.Base(f), "intrinsic_functions.") && evalCase(t, filepath.Base(f), tc) {
			evaluated++
		}
	}
	t.Logf("%d intrinsic calls compiled, %d cases evaluated against AWS output", compiled, evaluated)
	if evaluated == 0 {
		t.Error("no case was evaluated")
	}
}

// evalCase runs a case made of one Pass state whose Parameters hold only
// intrinsic calls and literals; it reports whether the case had that shape.
func evalCase(t *testing.T, name string, tc *value.Object) bool {
	def, _ := tc.Get("definition")
	states, _ := get(def, "States").(*value.Object)
	if states.Len() != 1 {
		return false
	}
	st, _ := states.Members()[0].Value.(*value.Object)
	params, ok := get(st, "Parameters").(*value.Object)
	if get(st, "Type") != "Pass" || !ok || st.Has("InputPath") || st.Has("ResultPath") || st.Has("OutputPath") {
		return false
	}
	expect, _ := tc.Get("expect")
	if get(expect, "status") != "SUCCEEDED" {
		return false
	}
	in, _ := tc.Get("input")
	ctx := value.ObjectOf("Execution", value.ObjectOf("Input", in))
	out := value.NewObject(params.Len())
	for _, m := range params.Members() {
		expr, isStr := m.Value.(string)
		if !strings.HasSuffix(m.Key, ".$") || !isStr {
			out.Set(m.Key, m.Value)
			continue
		}
		if !IsIntrinsic(expr) {
			return false
		}
		call, err := Compile(expr)
		if err != nil {
			return true // reported by the compile pass
		}
		v, err := call.Eval(resolver(in, ctx, nil))
		if err != nil {
			t.Errorf("%s: %s: %v", name, expr, err)
			return true
		}
		out.Set(strings.TrimSuffix(m.Key, ".$"), v)
	}
	if want := get(expect, "output"); !value.Equal(out, want) {
		t.Errorf("%s: output %s, AWS gave %s", name, value.String(out), value.String(want))
	}
	return true
}

func get(v any, key string) any {
	o, _ := v.(*value.Object)
	x, _ := o.Get(key)
	return x
}

// collectCalls finds "key.$": "States.…" values outside JSONata states and
// outside Pass Result (whose keys are literal data).
func collectCalls(v any, jsonata bool) []string {
	var out []string
	switch t := v.(type) {
	case *value.Object:
		if ql, ok := t.Get("QueryLanguage"); ok {
			jsonata = ql == "JSONata"
		}
		for _, m := range t.Members() {
			if m.Key == "Result" {
				continue
			}
			if s, ok := m.Value.(string); ok {
				if !jsonata && (strings.HasSuffix(m.Key, ".$") || strings.HasSuffix(m.Key, "Path")) && IsIntrinsic(s) {
					out = append(out, s)
				}
				continue
			}
			out = append(out, collectCalls(m.Value, jsonata)...)
		}
	case []any:
		for _, e := range t {
			out = append(out, collectCalls(e, jsonata)...)
		}
	}
	return out
}
