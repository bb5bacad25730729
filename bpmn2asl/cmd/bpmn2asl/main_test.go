package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// run boots the command in-process and returns exit code, stdout, stderr.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errb
	m.Getenv = func(k string) string { return env[k] }
	if err := m.ParseFlags(args); err != nil {
		return exitUsage, out.String(), err.Error()
	}
	return m.Run(context.Background()), out.String(), errb.String()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

const (
	good   = "testdata/statemachines/propyska/process.bpmn"
	broken = "testdata/statemachines/broken/process.bpmn"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no args", nil},
		{"unknown command", []string{"frobnicate"}},
		{"check without files", []string{"check"}},
		{"bad format", []string{"check", "--format", "xml", good}},
		{"compile two files", []string{"compile", good, broken}},
		{"compile --all with file", []string{"compile", "--all", "x", good}},
		{"--check without --all", []string{"compile", good, "--check"}},
		{"graph without file", []string{"graph"}},
		{"unknown flag", []string{"check", "--nope", good}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, nil, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, "usage") && !strings.Contains(stderr, "--") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"good file", nil, []string{"check", good}, exitOK, nil, nil},
		{"broken file", nil, []string{"check", broken}, exitError, nil,
			[]string{broken + ":6:17: error[BPMN012]: duplicate id \"t1\"", "hint: "}},
		{"parse only", nil, []string{"check", "--parse-only", broken}, exitError, nil, []string{"BPMN014"}},
		{"directory", nil, []string{"check", "testdata/statemachines"}, exitError, nil,
			[]string{"2 files checked, 1 with errors"}},
		{"missing file", nil, []string{"check", "nope.bpmn"}, exitError, nil, []string{"nope.bpmn: error[BPMN900]"}},
		{"json", nil, []string{"check", "--format", "json", broken}, exitError,
			[]string{`"code": "BPMN012"`, `"severity": "error"`, `"line": 6`}, nil},
		{"github", map[string]string{"GITHUB_ACTIONS": "true"}, []string{"check", broken}, exitError,
			[]string{"::error file=" + broken + ",line=6,col=17,title=BPMN012::duplicate id"}, []string{"error[BPMN012]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.env, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestCheckJSONIsOneDocument(t *testing.T) {
	_, stdout, stderr := run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "check", "--format", "json", good, broken)
	if !strings.Contains(stderr, "::error ") {
		t.Errorf("annotations not on stderr with --format json: %q", stderr)
	}
	var r diag.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	if r.Errors == 0 || len(r.Diagnostics) != r.Errors+r.Warnings {
		t.Errorf("report counts: %+v", r)
	}
}

func TestCompile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.asl.json")
	code, _, stderr := run(t, nil, "compile", good, "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sm map[string]any
	if err := json.Unmarshal(b, &sm); err != nil || sm["StartAt"] == nil {
		t.Fatalf("not a state machine: %v\n%s", err, b)
	}
	// The service id defaults to the folder name and is sent to tasks.
	if !bytes.Contains(b, []byte(`"propyska"`)) {
		t.Errorf("service id not in the definition")
	}
	// Without -o the definition goes to stdout, byte-identical, even on
	// GitHub Actions (annotations go to stderr then).
	code, stdout, _ := run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "compile", good)
	if code != exitOK || stdout != string(b) {
		t.Errorf("stdout compile differs from -o (exit %d)", code)
	}
	code, _, stderr = run(t, nil, "compile", broken, "-o", filepath.Join(dir, "b.json"))
	if code != exitError || !strings.Contains(stderr, "BPMN012") {
		t.Errorf("broken: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.json")); err == nil {
		t.Error("output written despite errors")
	}
}

func TestCompileAll(t *testing.T) {
	dir := t.TempDir()
	for _, svc := range []string{"propyska", "other"} {
		if err := os.MkdirAll(filepath.Join(dir, svc), 0o755); err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(good)
		if err := os.WriteFile(filepath.Join(dir, svc, "process.bpmn"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.MkdirAll(filepath.Join(dir, "assets"), 0o755)

	code, _, stderr := run(t, nil, "compile", "--all", dir, "--check")
	if code != exitError || !strings.Contains(stderr, "2 stale") {
		t.Errorf("--check before compile: exit %d %s", code, stderr)
	}
	code, _, stderr = run(t, nil, "compile", "--all", dir)
	if code != exitOK || !strings.Contains(stderr, "2 services, 2 definitions written") {
		t.Fatalf("compile --all: exit %d %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "propyska", "process.asl.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "other", "process.asl.json"))
	if !bytes.Contains(a, []byte(`"propyska"`)) || !bytes.Contains(b, []byte(`"other"`)) {
		t.Errorf("service id is not the folder name")
	}
	code, _, stderr = run(t, nil, "compile", "--all", dir)
	if code != exitOK || !strings.Contains(stderr, "0 definitions written (2 up to date)") {
		t.Errorf("second compile --all: exit %d %s", code, stderr)
	}
	code, _, stderr = run(t, nil, "compile", "--all", dir, "--check")
	if code != exitOK {
		t.Errorf("--check after compile: exit %d %s", code, stderr)
	}
	// The repository's own testdata has a broken service: exit 1, the
	// good one still written.
	code, _, _ = run(t, nil, "compile", "--all", "testdata/statemachines", "--check")
	if code != exitError {
		t.Errorf("broken service: exit %d", code)
	}
}

func TestGraph(t *testing.T) {
	code, stdout, stderr := run(t, nil, "graph", good)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "propyska.mmd.golden", []byte(stdout))

	code, stdout, stderr = run(t, nil, "graph", good, "--coverage", "testdata/coverage.json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "propyska.coverage.mmd.golden", []byte(stdout))
	for _, w := range []string{"classDef reached", "class ", " unreached", "linkStyle ", "%% coverage: "} {
		if !strings.Contains(stdout, w) {
			t.Errorf("coverage graph lacks %q", w)
		}
	}

	bad := filepath.Join(t.TempDir(), "cov.json")
	_ = os.WriteFile(bad, []byte(`{"nodes": {}}`), 0o644)
	code, _, stderr = run(t, nil, "graph", good, "--coverage", bad)
	if code != exitError || !strings.Contains(stderr, "BPMN901") {
		t.Errorf("bad coverage: exit %d %s", code, stderr)
	}
}

// TestFakeCompiler checks that the CLI relies only on the Compile contract.
func TestFakeCompiler(t *testing.T) {
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Compile: func(file string, src []byte, opts bpmn2asl.Options) (*bpmn2asl.Result, []diag.Diagnostic) {
		return nil, []diag.Diagnostic{{Severity: diag.Warning, Code: diag.StateNameAdjusted, File: file, Line: 1, Col: 1, Message: "svc=" + opts.Service}}
	}}
	if err := m.ParseFlags([]string{"check", good, "--service", "x"}); err != nil {
		t.Fatal(err)
	}
	if code := m.Run(context.Background()); code != exitOK || !strings.Contains(errb.String(), "warning[BPMN210]: svc=x") {
		t.Errorf("exit %d, %s", code, errb.String())
	}
}

func TestMermaidEscaping(t *testing.T) {
	if got := quote(`a "b" <c> #1 | d`); got != `"a #quot;b#quot; #lt;c#gt; #35;1 #124; d"` {
		t.Errorf("quote = %s", got)
	}
	for in, want := range map[string]string{
		"bpmn:Task_1":                 "Task_1",
		"multi-instance of bpmn:Sign": "Sign",
		"loop of bpmn:L (again)":      "L",
		"no id here":                  "",
	} {
		if got, _ := bpmnID(in); got != want {
			t.Errorf("bpmnID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	code, stdout, _ := run(t, nil, "explain", "bpmn014")
	if code != exitOK || !strings.HasPrefix(stdout, "BPMN014  error") {
		t.Errorf("explain BPMN014: %d %q", code, stdout)
	}
	code, stdout, _ = run(t, nil, "explain")
	if code != exitOK || strings.Count(stdout, "\n") != len(diag.Codes()) {
		t.Errorf("explain: %d, %d lines", code, strings.Count(stdout, "\n"))
	}
	if code, _, _ := run(t, nil, "explain", "BPMN998"); code != exitError {
		t.Errorf("unknown code: exit %d", code)
	}
}
