package bpmn2asl

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/emit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// conformanceDir holds the shared corpus of real-world BPMN models.
const conformanceDir = "../../shared/conformance/bpmn/models"

func testCases(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.bpmn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.bpmn: %v", err)
	}
	sort.Strings(files)
	return files
}

func compileFile(t testing.TB, path string) (*Result, []diag.Diagnostic) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Compile(filepath.Base(path), src, Options{Service: "test-service"})
}

// golden compares got with the file, or rewrites it with -update. A
// missing golden file fails.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden %s (run go test -update): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n--- got\n%s", path, got)
	}
}

// TestGolden compiles every testdata model: <case>.asl.json holds the
// definition of a model that compiles, <case>.diag every diagnostic.
func TestGolden(t *testing.T) {
	for _, path := range testCases(t) {
		base := strings.TrimSuffix(path, ".bpmn")
		t.Run(filepath.Base(base), func(t *testing.T) {
			res, ds := compileFile(t, path)
			var text bytes.Buffer
			if err := diag.WriteText(&text, ds); err != nil {
				t.Fatal(err)
			}
			golden(t, base+".diag", text.Bytes())
			// The structure stage on its own.
			src, _ := os.ReadFile(path)
			if defs, _ := bpmn.Parse(filepath.Base(path), src); defs != nil && len(defs.Processes) > 0 {
				var sb strings.Builder
				for _, p := range defs.Processes {
					sb.WriteString(emit.Structure(defs, p))
				}
				golden(t, base+".structure", []byte(sb.String()))
			}
			aslPath := base + ".asl.json"
			bad := strings.HasPrefix(filepath.Base(base), "bad_")
			switch {
			case res != nil && bad:
				t.Errorf("bad model compiled; want an error diagnostic")
			case res == nil && !bad:
				t.Errorf("model did not compile:\n%s", text.String())
			}
			if res == nil {
				if *update {
					os.Remove(aslPath)
				} else if _, err := os.Stat(aslPath); err == nil {
					t.Errorf("%s exists but the model does not compile (stale golden)", aslPath)
				}
				return
			}
			golden(t, aslPath, res.ASL)
		})
	}
}

// TestDeterministic compiles each model twice: the bytes must be equal.
func TestDeterministic(t *testing.T) {
	for _, path := range testCases(t) {
		a, _ := compileFile(t, path)
		b, _ := compileFile(t, path)
		if a == nil || b == nil {
			continue
		}
		if !bytes.Equal(a.ASL, b.ASL) {
			t.Errorf("%s: two compilations differ", path)
		}
	}
}

type validated struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// validateASL runs asl-validator (npm) over the definitions and returns the
// errors per name; it skips the test when node or the package is missing.
func validateASL(t *testing.T, items []validated) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "asl-validator")); err != nil {
		t.Skip("asl-validator not installed (npm ci)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	in, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "testdata/aslvalidate.js", root)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, stderr.String())
	}
	var res map[string][]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("asl-validator output: %v\n%s", err, out)
	}
	return res
}

// TestASLValidator checks every compiled testdata definition with
// asl-validator.
func TestASLValidator(t *testing.T) {
	var items []validated
	for _, path := range testCases(t) {
		if res, _ := compileFile(t, path); res != nil {
			items = append(items, validated{path, res.ASL})
		}
	}
	for name, errs := range validateASL(t, items) {
		t.Errorf("%s is not valid ASL:\n  %s", name, strings.Join(errs, "\n  "))
	}
	t.Logf("%d definitions valid", len(items))
}

func corpus(t testing.TB) []string {
	var files []string
	filepath.WalkDir(conformanceDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".bpmn") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

// TestConformanceCorpus compiles every model of the shared corpus: none may
// crash (an internal-error diagnostic), every compiled one must pass
// asl-validator; the counts are logged.
func TestConformanceCorpus(t *testing.T) {
	files := corpus(t)
	if len(files) == 0 {
		t.Skip("no conformance corpus at " + conformanceDir)
	}
	var compiled, rejected, crashed int
	codes := map[diag.Code]int{}
	// Expected class per file (manifest.json of the corpus).
	class := map[string]string{}
	var manifest struct {
		Files []struct{ Path, Class string } `json:"files"`
	}
	if data, err := os.ReadFile(filepath.Join(filepath.Dir(conformanceDir), "manifest.json")); err == nil && json.Unmarshal(data, &manifest) == nil {
		for _, f := range manifest.Files {
			class[filepath.Join(filepath.Dir(conformanceDir), f.Path)] = f.Class
		}
	}
	byClass := map[string][2]int{} // class → {compiled, rejected}
	var items []validated
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, ds := Compile(p, src, Options{Service: "corpus"})
		crash := false
		for _, d := range ds {
			if d.Code == diag.Internal {
				crash = true
				t.Errorf("%s: %s", p, d.Text())
			}
		}
		c := byClass[class[p]]
		if res != nil {
			c[0]++
		} else {
			c[1]++
		}
		byClass[class[p]] = c
		switch {
		case crash:
			crashed++
		case res != nil:
			compiled++
			items = append(items, validated{p, res.ASL})
		default:
			rejected++
			if !diag.HasErrors(ds) {
				t.Errorf("%s: rejected without an error diagnostic", p)
			}
			seen := map[diag.Code]bool{}
			for _, d := range ds {
				if d.Severity == diag.Error && !seen[d.Code] {
					seen[d.Code] = true
					codes[d.Code]++
				}
				if d.Severity == diag.Error && d.Line == 0 && d.ElementID == "" && d.Code != diag.MalformedXML {
					t.Logf("%s: diagnostic without position or element: %s", p, d.Text())
				}
			}
		}
	}
	t.Logf("conformance corpus: %d models: %d compiled, %d rejected with diagnostic, %d crashed", len(files), compiled, rejected, crashed)
	for _, cl := range []string{"compile", "reject-with-diagnostic", "unsupported-feature", ""} {
		if c, ok := byClass[cl]; ok {
			t.Logf("  class %q: %d compiled, %d rejected with diagnostic", cl, c[0], c[1])
		}
	}
	lenient := 0
	for _, p := range files {
		src, _ := os.ReadFile(p)
		if res, _ := Compile(p, src, Options{Service: "corpus", AllowUnknownTaskTypes: true}); res != nil {
			lenient++
		}
	}
	t.Logf("with foreign task types allowed (AllowUnknownTaskTypes): %d compiled", lenient)
	var keys []string
	for c, n := range codes {
		keys = append(keys, string(c)+"×"+itoa(n))
	}
	sort.Strings(keys)
	t.Logf("rejections by code (models): %s", strings.Join(keys, " "))
	if crashed > 0 {
		t.Errorf("%d models crashed the compiler", crashed)
	}
	if testing.Short() {
		return
	}
	invalid := validateASL(t, items)
	for name, errs := range invalid {
		t.Errorf("%s compiled to invalid ASL:\n  %s", name, strings.Join(errs, "\n  "))
	}
	t.Logf("%d compiled definitions checked by asl-validator, %d invalid", len(items), len(invalid))
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// BenchmarkCompileTestdata measures compiling each testdata model.
func BenchmarkCompileTestdata(b *testing.B) {
	for _, path := range testCases(b) {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(path), ".bpmn"), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				Compile(path, src, Options{Service: "bench"})
			}
		})
	}
}

// BenchmarkCompileCorpus measures compiling the whole conformance corpus
// once per iteration (the goal is well under 2 s).
func BenchmarkCompileCorpus(b *testing.B) {
	files := corpus(b)
	if len(files) == 0 {
		b.Skip("no corpus")
	}
	srcs := make([][]byte, len(files))
	for i, p := range files {
		srcs[i], _ = os.ReadFile(p)
	}
	for b.Loop() {
		for i, p := range files {
			Compile(p, srcs[i], Options{Service: "bench"})
		}
	}
}
