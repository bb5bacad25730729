package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

const corpusDir = "../../../../shared/conformance/bpmn"

// TestCorpusCompile runs the compiler over every model of the shared
// conformance corpus and reports compiled / rejected-with-diagnostic /
// crashed counts, per expected class. No model may crash (a BPMN999
// diagnostic is a recovered panic) or hang; every rejection must carry an
// error diagnostic.
func TestCorpusCompile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if os.IsNotExist(err) {
		t.Skipf("corpus %s absent", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Files []struct {
			Path  string `json:"path"`
			Class string `json:"class"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	type counts struct{ compiled, rejected, crashed int }
	byClass := map[string]*counts{}
	var total counts
	codes := map[diag.Code]int{}
	start := time.Now()
	for _, f := range m.Files {
		src, err := os.ReadFile(filepath.Join(corpusDir, f.Path))
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
			continue
		}
		c := byClass[f.Class]
		if c == nil {
			c = &counts{}
			byClass[f.Class] = c
		}
		type result struct {
			res *bpmn2asl.Result
			ds  []diag.Diagnostic
		}
		done := make(chan result, 1)
		go func() {
			r, ds := bpmn2asl.Compile(f.Path, src, bpmn2asl.Options{Service: "corpus"})
			done <- result{r, ds}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("%s: compile did not finish in 30s", f.Path)
			c.crashed++
			total.crashed++
			continue
		}
		crashed := false
		for _, d := range r.ds {
			if d.Severity == diag.Error {
				codes[d.Code]++
			}
			if d.Code == diag.Internal {
				crashed = true
				t.Errorf("%s: crash: %s", f.Path, d.Message)
			}
		}
		switch {
		case crashed:
			c.crashed++
			total.crashed++
		case r.res != nil:
			if !json.Valid(r.res.ASL) {
				t.Errorf("%s: compiled definition is not valid JSON", f.Path)
			}
			if g := MermaidFlows(r.res.Definition, &Coverage{}, flowsOf(f.Path, src)); !strings.HasPrefix(g, "flowchart TD\n") {
				t.Errorf("%s: graph does not start with flowchart TD", f.Path)
			}
			c.compiled++
			total.compiled++
		case diag.HasErrors(r.ds):
			c.rejected++
			total.rejected++
		default:
			t.Errorf("%s: no result and no error diagnostic", f.Path)
			c.crashed++
			total.crashed++
		}
	}
	elapsed := time.Since(start)
	classes := make([]string, 0, len(byClass))
	for k := range byClass {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		c := byClass[k]
		t.Logf("class %-22s compiled %3d  rejected-with-diagnostic %3d  crashed %d", k, c.compiled, c.rejected, c.crashed)
	}
	var top []string
	for c, n := range codes {
		top = append(top, string(c)+"×"+itoa(n))
	}
	sort.Strings(top)
	t.Logf("error codes: %s", strings.Join(top, " "))
	t.Logf("corpus: %d models: compiled %d, rejected-with-diagnostic %d, crashed %d in %v",
		len(m.Files), total.compiled, total.rejected, total.crashed, elapsed.Round(time.Millisecond))
	if total.crashed > 0 {
		t.Errorf("%d models crashed the compiler", total.crashed)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
