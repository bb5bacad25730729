package bpmn

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// FuzzParse checks that Parse never panics (an Internal diagnostic is the
// recovered form of a panic), that every diagnostic is positioned in a
// file, and that parsing is deterministic.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.bpmn")
	for _, pattern := range []string{
		"models/lib-bpmn-engine/test-cases/*.bpmn",
		"models/miwg/bpmn.io_Camunda_Modeler_18.6.1/*.bpmn",
		"models/bpmn-js/test/fixtures/bpmn/draw/gateway-type-default.bpmn",
	} {
		more, _ := filepath.Glob(filepath.Join(corpusDir, pattern))
		if len(more) > 12 {
			more = more[:12]
		}
		seeds = append(seeds, more...)
	}
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(doc("bpmn", `<x:task id="a"/>`)))
	f.Add([]byte{0xFF, 0xFE, '<', 0})
	f.Fuzz(func(t *testing.T, src []byte) {
		d1, ds1 := Parse("f.bpmn", src)
		for _, d := range ds1 {
			if d.Code == diag.Internal {
				t.Fatalf("internal error: %s", d.Text())
			}
			if d.File != "f.bpmn" {
				t.Fatalf("diagnostic without file: %s", d.Text())
			}
			if d.Line <= 0 && d.Code == diag.MalformedXML {
				t.Fatalf("malformed XML without line: %s", d.Text())
			}
		}
		if d1 == nil && !diag.HasErrors(ds1) {
			t.Fatal("nil model without error")
		}
		d2, ds2 := Parse("f.bpmn", src)
		if !bytes.Equal(snapshot(d1, ds1), snapshot(d2, ds2)) {
			t.Fatal("parse is not deterministic")
		}
	})
}

// BenchmarkParse measures parse time per model over the testdata files
// and, when present, the whole conformance corpus.
func BenchmarkParse(b *testing.B) {
	type file struct {
		name string
		src  []byte
	}
	var files []file
	paths, _ := filepath.Glob("testdata/*.bpmn")
	for _, p := range paths {
		src, _ := os.ReadFile(p)
		files = append(files, file{filepath.Base(p), src})
	}
	for _, f := range files {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(f.src)))
			for b.Loop() {
				Parse(f.name, f.src)
			}
		})
	}
	var corpus []file
	var total int64
	_ = filepath.WalkDir(filepath.Join(corpusDir, "models"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".bpmn" {
			src, _ := os.ReadFile(p)
			corpus = append(corpus, file{p, src})
			total += int64(len(src))
		}
		return nil
	})
	if len(corpus) == 0 {
		return
	}
	b.Run("corpus", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, f := range corpus {
				Parse(f.name, f.src)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(corpus))/1e3, "µs/model")
	})
}
