package intrinsic_test

import (
	"fmt"

	"github.com/posluha/posluha/query/intrinsic"
	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

func Example() {
	input, _ := value.ParseString(`{"name":"Olena","files":"a.pdf,b.p7s"}`)
	resolve := func(p *jsonpath.Path) (any, error) { return p.Get(input) }

	call, err := intrinsic.Compile("States.Format('Hello, {}: {} file(s)', $.name, States.ArrayLength(States.StringSplit($.files, ',')))")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := call.Eval(resolve)
	fmt.Println(v)
	// Output: Hello, Olena: 2 file(s)
}
