package jsonpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// casesDir holds the shared ASL conformance cases recorded against AWS.
const casesDir = "../../../shared/conformance/asl"

// TestConformancePathsCompile compiles every JSONPath that a JSONPath-mode
// state of the recorded cases uses: "key.$" values, InputPath, OutputPath,
// ResultPath, ItemsPath, Choice Variable and *Path fields. AWS accepted all
// these definitions, so all must compile.
func TestConformancePathsCompile(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "cases*", "*.json"))
	if len(files) == 0 {
		t.Skip("conformance cases not present")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := value.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		def, _ := c.(*value.Object).Get("definition")
		for _, expr := range collectPaths(def, false) {
			n++
			if _, err := Compile(expr); err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
	}
	t.Logf("%d paths from %d cases compiled", n, len(files))
}

// collectPaths walks a definition; jsonata marks subtrees whose query
// language is JSONata, where "$…" strings are not JSONPath.
func collectPaths(v any, jsonata bool) []string {
	var out []string
	switch t := v.(type) {
	case *value.Object:
		if ql, ok := t.Get("QueryLanguage"); ok {
			jsonata = ql == "JSONata"
		}
		for _, m := range t.Members() {
			if m.Key == "Result" || (m.Key == "Assign" && jsonata) {
				continue // literal data
			}
			s, isStr := m.Value.(string)
			switch {
			case !isStr:
				out = append(out, collectPaths(m.Value, jsonata)...)
			case jsonata || !strings.HasPrefix(s, "$"):
			case strings.HasSuffix(m.Key, ".$"), strings.HasSuffix(m.Key, "Path"), m.Key == "Variable":
				out = append(out, s)
			}
		}
	case []any:
		for _, e := range t {
			out = append(out, collectPaths(e, jsonata)...)
		}
	}
	return out
}
