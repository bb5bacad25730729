package diag

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name; -update rewrites it. A missing
// golden file fails.
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
		t.Fatalf("missing golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestCodes snapshots the list of codes: codes are API, so a change to
// this golden file is a change to the API.
func TestCodes(t *testing.T) {
	var b strings.Builder
	re := regexp.MustCompile(`^BPMN\d{3}$`)
	seen := map[Code]bool{}
	prev := Code("")
	for _, i := range Codes() {
		if !re.MatchString(string(i.Code)) {
			t.Errorf("code %q is not BPMNnnn", i.Code)
		}
		if seen[i.Code] {
			t.Errorf("code %s listed twice", i.Code)
		}
		if i.Code <= prev {
			t.Errorf("code %s out of order after %s", i.Code, prev)
		}
		if i.Summary == "" {
			t.Errorf("code %s has no summary", i.Code)
		}
		seen[i.Code], prev = true, i.Code
		fmt.Fprintf(&b, "%s %-7s %s\n", i.Code, i.Severity, i.Summary)
	}
	golden(t, "codes.golden", []byte(b.String()))
}

func TestCodeSeverity(t *testing.T) {
	tests := []struct {
		code Code
		want Severity
	}{
		{MalformedXML, Error},
		{UnknownElement, Warning},
		{"BPMN998", Error}, // unregistered codes are errors
	}
	for _, tc := range tests {
		if got := tc.code.Severity(); got != tc.want {
			t.Errorf("Code(%s).Severity() = %v, want %v", tc.code, got, tc.want)
		}
	}
}

var sample = []Diagnostic{
	{Severity: Warning, Code: UnknownElement, File: "b.bpmn", Line: 3, Col: 5, ElementID: "X_1", Message: "unknown element <foo>"},
	{Severity: Error, Code: DanglingFlowRef, File: "a.bpmn", Line: 12, Col: 40, ElementID: "Flow_1", ElementName: "yes, 100%",
		Message: "sequence flow \"Flow_1\": targetRef \"Task_9\" names no element", Hint: "reconnect the flow",
		Notes: []Note{{File: "a.bpmn", Line: 8, Col: 5, ElementID: "Gateway_1", Message: "the gateway"}}},
	{Severity: Error, Code: MissingDefaultFlow, File: "a.bpmn", Line: 12, Col: 3, ElementID: "Gateway_1", Message: "no default\nflow"},
	{Severity: Error, Code: CannotRead, Message: "open x: no such file"},
}

func TestListDone(t *testing.T) {
	var l List
	for _, d := range sample {
		l.Add(d)
	}
	l.Add(sample[0]) // exact duplicate is dropped
	p := l.Report(Unreachable, "task %q is unreachable", "Task_2")
	p.File, p.Line, p.Col = "a.bpmn", 12, 3
	got := l.Done()
	var order []string
	for _, d := range got {
		order = append(order, fmt.Sprintf("%s:%d:%d:%s", d.File, d.Line, d.Col, d.Code))
	}
	want := []string{":0:0:BPMN900", "a.bpmn:12:3:BPMN103", "a.bpmn:12:3:BPMN104", "a.bpmn:12:40:BPMN014", "b.bpmn:3:5:BPMN020"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("Done() order = %v, want %v", order, want)
	}
	if !l.HasErrors() || l.Len() != 6 {
		t.Errorf("HasErrors/Len = %v/%d", l.HasErrors(), l.Len())
	}
	if e, w := Count(got); e != 4 || w != 1 {
		t.Errorf("Count = %d, %d", e, w)
	}
	if s := Summary(got); s != "4 errors, 1 warning" {
		t.Errorf("Summary = %q", s)
	}
	if s := Summary(nil); s != "no problems" {
		t.Errorf("Summary(nil) = %q", s)
	}
}

func TestFormats(t *testing.T) {
	ds := append([]Diagnostic(nil), sample...)
	Sort(ds)
	var text, js, gh bytes.Buffer
	if err := WriteText(&text, ds); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, ds); err != nil {
		t.Fatal(err)
	}
	if err := WriteGitHub(&gh, ds); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.txt.golden", text.Bytes())
	golden(t, "sample.json.golden", js.Bytes())
	golden(t, "sample.github.golden", gh.Bytes())

	// JSON round-trips.
	var r Report
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Diagnostics) != len(ds) || r.Errors != 3 || r.Warnings != 1 || r.Diagnostics[3].Severity != Warning {
		t.Errorf("round trip: %+v", r)
	}
	var empty bytes.Buffer
	_ = WriteJSON(&empty, nil)
	if !strings.Contains(empty.String(), `"diagnostics": []`) {
		t.Errorf("WriteJSON(nil) = %s", empty.String())
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		d    Diagnostic
		want string
	}{
		{"full", Diagnostic{Code: DanglingFlowRef, File: "p.bpmn", Line: 4, Col: 9, ElementID: "F", ElementName: "go", Message: "m", Hint: "h"},
			"p.bpmn:4:9: error[BPMN014]: m (element F \"go\")\n  hint: h\n"},
		{"no name", Diagnostic{Severity: Warning, Code: UnknownElement, File: "p.bpmn", Line: 4, ElementID: "F", Message: "m"},
			"p.bpmn:4: warning[BPMN020]: m (element F)\n"},
		{"no position", Diagnostic{Code: CannotRead, File: "p.bpmn", Message: "m"},
			"p.bpmn: error[BPMN900]: m\n"},
		{"nothing", Diagnostic{Code: Internal, Message: "m"}, "error[BPMN999]: m\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Text(); got != tc.want {
				t.Errorf("Text() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGitHubEscaping(t *testing.T) {
	d := Diagnostic{Code: BadTimer, File: "a,b:c.bpmn", Line: 2, Col: 3, Message: "50% off\r\nnow"}
	want := "::error file=a%2Cb%3Ac.bpmn,line=2,col=3,title=BPMN203::50%25 off%0D%0Anow\n"
	if got := d.GitHub(); got != want {
		t.Errorf("GitHub() = %q, want %q", got, want)
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{Error, Warning} {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("round trip %v: %v %v", s, back, err)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("fatal")); err == nil {
		t.Error("UnmarshalText(fatal) succeeded")
	}
}
