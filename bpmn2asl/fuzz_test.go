package bpmn2asl

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

// FuzzCompile: no input may crash the compiler (an internal-error
// diagnostic is a crash caught by Compile's recover), a compiled result is
// deterministic and passes the ASL limit checks.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bpmn")
	files = append(files, corpus(f)...) // the shared corpus, when present
	for _, p := range files {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		res, ds := Compile("fuzz.bpmn", src, Options{Service: "fuzz"})
		for _, d := range ds {
			if d.Code == diag.Internal {
				t.Fatalf("internal error: %s\n%v", d.Message, d.Notes)
			}
		}
		if res == nil {
			return
		}
		again, _ := Compile("fuzz.bpmn", src, Options{Service: "fuzz"})
		if again == nil || !bytes.Equal(res.ASL, again.ASL) {
			t.Fatal("not deterministic")
		}
		if ps := asl.Check(res.Definition, len(res.ASL)); len(ps) > 0 {
			t.Fatalf("compiled definition fails checks: %v", ps)
		}
	})
}
