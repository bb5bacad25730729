package feel_test

import (
	"errors"
	"fmt"

	"github.com/posluha/posluha/bpmn2asl/feel"
)

func ExampleTranslate() {
	j, err := feel.Translate(`=applicant.age >= 18 and region in ["Kyiv", "Lviv"]`)
	fmt.Println(j, err)
	// Output: $type($applicant.age) = "number" and $applicant.age >= 18 and $region in ["Kyiv", "Lviv"] <nil>
}

func ExampleTranslate_error() {
	_, err := feel.Translate(`= first name = "Ivan"`)
	fmt.Println(err)
	var e *feel.Error
	if errors.As(err, &e) {
		fmt.Println(e.Hint)
	}
	// Output:
	// 1:9: unexpected 'name'
	// names with spaces are not supported: variables must be identifiers such as firstName
}

func ExampleNames() {
	names, _ := feel.Names(`sum(orders[status = "paid"].amount) > limit`)
	fmt.Println(names)
	// Output: [limit orders]
}
