package jsonata

import (
	"os"
	"testing"

	"github.com/posluha/posluha/query/value"
)

func TestDebug(t *testing.T) {
	src := os.Getenv("JX")
	if src == "" {
		t.Skip()
	}
	in, _ := value.ParseString(os.Getenv("JIN"))
	e, err := Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := e.Eval(Env{Input: in, HasInput: os.Getenv("JIN") != ""})
	t.Logf("%s %v %v", value.String(v), ok, err)
}
