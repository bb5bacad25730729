package jsonata

import (
	"testing"

	"github.com/posluha/posluha/query/value"
)

const benchExpr = `$merge([$states.input, {"x": $states.result.Payload.total * 2, "ok": $states.result.StatusCode = 200}])`

func benchEnv(b *testing.B) Env {
	in := mustParse(b, `{"applicationId":"a-1","service":"propyska","step":"Activity_1","citizen":{"name":"Ivan","taxNumber":"1234567890"}}`)
	res := mustParse(b, `{"StatusCode":200,"Payload":{"total":21,"items":[1,2,3]}}`)
	return Env{Vars: map[string]any{"states": value.ObjectOf("input", in, "result", res)}}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchExpr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	e := MustCompile(benchExpr)
	env := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}
