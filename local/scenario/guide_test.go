package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGuideExamples keeps docs/analysts.md honest: every fenced block
// tagged file=PATH must appear word for word in that file (which the
// compiler and TestServices exercise), and every image it shows exists.
func TestGuideExamples(t *testing.T) {
	const guide = "../../docs/analysts.md"
	src, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	fence := regexp.MustCompile("(?ms)^```[a-z]* file=(\\S+)\n(.*?)^```")
	blocks := fence.FindAllStringSubmatch(string(src), -1)
	if len(blocks) < 5 {
		t.Fatalf("only %d examples tagged file= in %s", len(blocks), guide)
	}
	for _, b := range blocks {
		path, body := b[1], b[2]
		data, err := os.ReadFile(filepath.Join("../..", path))
		if err != nil {
			t.Errorf("%s: example from %s: %v", guide, path, err)
			continue
		}
		if !strings.Contains(string(data), body) {
			t.Errorf("%s: this example is no longer in %s:\n%s", guide, path, body)
		}
	}
	for _, m := range regexp.MustCompile(`\]\((images/[^)]+)\)`).FindAllStringSubmatch(string(src), -1) {
		if _, err := os.Stat(filepath.Join("../../docs", m[1])); err != nil {
			t.Errorf("%s shows %s: %v", guide, m[1], err)
		}
	}
}
