package bpmn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// corpusDir is the shared conformance corpus (absent on a bare checkout).
const corpusDir = "../../../shared/conformance/bpmn"

type manifestFile struct {
	Path         string `json:"path"`
	WellFormed   bool   `json:"wellFormedXML"`
	Class        string `json:"class"`
	Prefix       string `json:"definitionsPrefix"`
	ProcessCount int    `json:"processCount"`
	Encoding     struct {
		BOM      any     `json:"bom"`
		Declared *string `json:"declaredEncoding"`
	} `json:"encoding"`
	Histogram map[string]int `json:"elementHistogram"`
}

func loadManifest(t testing.TB) []manifestFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if os.IsNotExist(err) {
		t.Skipf("corpus %s absent", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Files []manifestFile `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Files
}

// TestCorpus parses every model of the corpus: no panic, malformed files
// get a positioned diagnostic, well-formed ones a model whose process and
// flow node counts agree with the manifest.
func TestCorpus(t *testing.T) {
	files := loadManifest(t)
	var parsed, diagnosed, clean int
	codes := map[diag.Code]int{}
	for _, mf := range files {
		src, err := os.ReadFile(filepath.Join(corpusDir, mf.Path))
		if err != nil {
			t.Errorf("%s: %v", mf.Path, err)
			continue
		}
		defs, ds := Parse(mf.Path, src)
		dup := false
		for _, d := range ds {
			dup = dup || d.Code == diag.DuplicateID
			codes[d.Code]++
			if d.Code == diag.Internal {
				t.Errorf("%s: internal error: %s", mf.Path, d.Message)
			}
		}
		if defs != nil {
			parsed++
		}
		if diag.HasErrors(ds) {
			diagnosed++
		} else {
			clean++
		}
		if !mf.WellFormed {
			if defs != nil {
				t.Errorf("%s: malformed XML parsed without error", mf.Path)
			}
			if len(ds) == 0 || ds[0].Line == 0 || ds[0].Code != diag.MalformedXML {
				t.Errorf("%s: malformed XML: want a positioned BPMN001, got %v", mf.Path, ds)
			}
			continue
		}
		if defs == nil {
			if mf.Class != "reject-with-diagnostic" || len(ds) == 0 || ds[0].Line == 0 {
				t.Errorf("%s: well-formed file not parsed: %v", mf.Path, ds)
			}
			continue
		}
		if got := len(defs.Processes); got != mf.ProcessCount && !dup {
			t.Errorf("%s: %d processes, manifest says %d", mf.Path, got, mf.ProcessCount)
		}
		if want := mf.Histogram["sequenceFlow"]; want != countFlows(defs) {
			t.Errorf("%s: %d sequence flows, manifest says %d", mf.Path, countFlows(defs), want)
		}
		if want := mf.Histogram["startEvent"]; want != countKind(defs, StartEvent) {
			t.Errorf("%s: %d start events, manifest says %d", mf.Path, countKind(defs, StartEvent), want)
		}
		if defs.Prefix != mf.Prefix {
			t.Errorf("%s: prefix %q, manifest says %q", mf.Path, defs.Prefix, mf.Prefix)
		}
		if mf.Class == "compile" && diag.HasErrors(ds) {
			t.Logf("%s (class compile): %v", mf.Path, ds)
		}
	}
	keys := make([]string, 0, len(codes))
	for c := range codes {
		keys = append(keys, string(c))
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %s: %d", k, codes[diag.Code(k)])
	}
	t.Logf("corpus: %d files, %d parsed to a model, %d with error diagnostics, %d clean", len(files), parsed, diagnosed, clean)
}

func countFlows(d *Definitions) int {
	n := 0
	var walk func(s *Scope)
	walk = func(s *Scope) {
		n += len(s.Flows)
		for _, x := range s.Nodes {
			if x.Sub != nil {
				walk(x.Sub)
			}
		}
	}
	for _, p := range d.Processes {
		walk(&p.Scope)
	}
	return n
}

func countKind(d *Definitions, k Kind) int {
	n := 0
	for _, p := range d.Processes {
		p.Walk(func(x *Node) bool {
			if x.Kind == k {
				n++
			}
			return true
		})
	}
	return n
}
