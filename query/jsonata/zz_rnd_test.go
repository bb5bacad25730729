package jsonata

import (
	"encoding/json"
	"os"
	"testing"
)

func TestRnd(t *testing.T) {
	f := os.Getenv("RND")
	if f == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(f)
	var exprs []string
	json.Unmarshal(data, &exprs)
	doc := mustParse(t, diffDoc)
	var out []diffResult
	for _, e := range exprs {
		out = append(out, evalForDiff(e, doc))
	}
	b, _ := json.Marshal(out)
	os.WriteFile(f+".go.json", b, 0o644)
}
