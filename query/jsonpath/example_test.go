package jsonpath_test

import (
	"fmt"

	"github.com/posluha/posluha/query/jsonpath"
	"github.com/posluha/posluha/query/value"
)

func Example() {
	doc, _ := value.ParseString(`{"order":{"lines":[{"sku":"a","qty":2},{"sku":"b","qty":0}]}}`)

	first := jsonpath.MustCompile("$.order.lines[0].sku")
	v, _ := first.Get(doc)
	fmt.Println(value.String(v))

	open := jsonpath.MustCompile("$.order.lines[?(@.qty > 0)].sku")
	v, _ = open.Get(doc)
	fmt.Println(value.String(v))

	_, err := jsonpath.MustCompile("$.order.total").Get(doc)
	fmt.Println(err)

	out, _ := jsonpath.Set(doc, jsonpath.MustCompile("$.result.ok"), true)
	fmt.Println(value.String(out))
	// Output:
	// "a"
	// ["a"]
	// No results for path: $['order']['total']
	// {"order":{"lines":[{"sku":"a","qty":2},{"sku":"b","qty":0}]},"result":{"ok":true}}
}
