package bpmn

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLargeOneLine guards against quadratic position computation on
// minified files (everything on one line).
func TestLargeOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	var b strings.Builder
	b.WriteString(`<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="P">`)
	const n = 20000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<task id="t%d" name="Задача %d"/><sequenceFlow id="f%d" sourceRef="t%d" targetRef="t%d"/>`, i, i, i, i, (i+1)%n)
	}
	b.WriteString(`</process></definitions>`)
	start := time.Now()
	defs, ds := Parse("big.bpmn", []byte(b.String()))
	el := time.Since(start)
	if defs == nil || len(ds) != 0 {
		t.Fatalf("parse failed: %v", ds[:min(3, len(ds))])
	}
	last := defs.Node(fmt.Sprintf("t%d", n-1))
	if last == nil || last.Pos.Line != 1 || last.Pos.Col < n*50 {
		t.Errorf("last task at %v", last.Pos)
	}
	t.Logf("%d bytes on one line parsed in %v", b.Len(), el)
}
