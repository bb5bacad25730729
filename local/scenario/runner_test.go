package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serviceWith makes a service folder holding e-propyska's process.bpmn and
// the given scenario files.
func serviceWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "e-propyska")
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../statemachines/e-propyska/process.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "process.bpmn"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, "tests", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const soleOwner = `citizen: {taxNumber: "1"}
form: {reestrNum: "1234567"}
answers:
  read_owners: {result: {owners: [{taxNumber: "1"}], address: "Київ"}}
`

// TestScenariosThatMustFail checks that the runner catches a wrong path,
// a missing notification, a wrong status and the rest, and says where.
func TestScenariosThatMustFail(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the failures, in order
	}{
		{"wrong path", soleOwner + "expect:\n  path: [read_owners, co_owner_consent, registered]\n",
			[]string{"x.yaml:6:23: path: co_owner_consent was not reached after read_owners"}},
		{"wrong order", soleOwner + "expect:\n  path: [certificate, read_owners]\n",
			[]string{"path: read_owners was not reached after certificate"}},
		{"exact path", soleOwner + "expect:\n  exactPath: true\n  path: [submitted, read_owners]\n",
			[]string{"path: want exactly submitted → read_owners, got submitted → status_processing"}},
		{"reached but must not be", soleOwner + "expect:\n  notReached: [certificate]\n",
			[]string{"x.yaml:6:16: path: certificate was reached but must not be"}},
		{"missing notification", soleOwner + "expect:\n  notifications:\n    - {status: processing}\n    - {status: rejected, reason: not-owner}\n",
			[]string{"x.yaml:8:7: notifications: {\"reason\":\"not-owner\",\"status\":\"rejected\"} was not sent (in this order)"}},
		{"notifications out of order", soleOwner + "expect:\n  notifications:\n    - {status: done}\n    - {status: processing}\n",
			[]string{"notifications: {\"status\":\"processing\"} was not sent (in this order)"}},
		{"missing document", soleOwner + "expect:\n  documents: [{template: refusal}]\n",
			[]string{"documents: {\"template\":\"refusal\"} was not sent"}},
		{"wrong status", soleOwner + "expect:\n  status: FAILED\n  error: Registry.Unavailable\n",
			[]string{"status: want FAILED, got SUCCEEDED", "error: want Registry.Unavailable"}},
		{"wrong output", soleOwner + "expect:\n  output: {propertyAddress: Львів, nothing: 1}\n",
			[]string{"output: nothing is missing", "output: propertyAddress: want \"Львів\", got \"Київ\""}},
		{"wrong variable", soleOwner + "expect:\n  variables: {owners: []}\n",
			[]string{"x.yaml:6:23: variables: owners: want [], got [{\"taxNumber\":\"1\"}]"}},
		{"wrong call count", soleOwner + "expect:\n  calls: {read_owners: 2}\n",
			[]string{"calls: want 2 calls of read_owners, got 1"}},
		{"stuck on a signature", `citizen: {taxNumber: "1"}
answers:
  read_owners: {result: {owners: [{taxNumber: "1"}, {taxNumber: "2"}]}}
  co_owner_consent: {never: true}
expect:
  path: [registered]
`, []string{"path: registered was not reached"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := serviceWith(t, map[string]string{"x.yaml": tc.yaml})
			rep, err := Run(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res := rep.Results[0]
			if res.Passed {
				t.Fatalf("the scenario passed; want failures %q", tc.want)
			}
			got := strings.Join(res.Failures, "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("failures:\n%s\nwant one containing %q", got, w)
				}
			}
		})
	}
}

// TestMalformedScenario checks that bad files get file:line:col errors and
// no crash.
func TestMalformedScenario(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"syntax", "name: x\nanswers: {read_owners: [\n", "x.yaml:"},
		{"unknown field", "name: x\nexpect:\n  pathh: [a]\n", "x.yaml:3:3: unknown field \"pathh\""},
		{"wrong type", "name: x\nexpect:\n  path: 3\n", "x.yaml:3:9:"},
		{"unknown answer field", "answers:\n  read_owners:\n    - {result: {}, eror: X}\n", "x.yaml:3:20: unknown field \"eror\""},
		{"two kinds of answer", "answers:\n  read_owners:\n    - {result: {}, error: X}\n", "x.yaml:3:7: answer for \"read_owners\": give one of result, error, never"},
		{"bad status", "expect:\n  status: DONE\n", "x.yaml:2:11: expect.status: \"DONE\" is not SUCCEEDED"},
		{"unknown element", "answers:\n  read_owner: {result: {}}\n", "x.yaml:2:15: answers: \"read_owner\" is neither a BPMN element id nor a connector"},
		{"unknown path element", "expect:\n  path: [submitted, nowhere]\n", "x.yaml:2:21: \"nowhere\" is not an element id or name"},
		{"tabs", "name: x\n\tform: {}\n", "x.yaml:"},
		{"not a mapping", "- a\n- b\n", "x.yaml:"},
		{"binary", "\x00\x01\x02", "x.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := serviceWith(t, map[string]string{"x.yaml": tc.yaml})
			_, err := Run(context.Background(), dir, Options{})
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzParse checks that no scenario file crashes the reader.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../statemachines/*/tests/*.yaml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		Parse("fuzz.yaml", src)
	})
}

// TestMainFormats runs the command in each format over a folder with a
// passing and a failing scenario.
func TestMainFormats(t *testing.T) {
	dir := serviceWith(t, map[string]string{
		"ok.yaml":  soleOwner + "expect:\n  path: [registered]\n",
		"bad.yaml": soleOwner + "expect:\n  path: [rejected]\n",
	})
	cov := filepath.Join(t.TempDir(), "cov.json")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--coverage", cov, dir}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	for _, w := range []string{"PASS  ok", "FAIL  bad", "✗ ", "bad.yaml:6:10: path: rejected was not reached", "○ registered", "1/2 scenarios passed", "flows never taken:"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, out.String())
		}
	}
	var c Coverage
	b, err := os.ReadFile(cov)
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("coverage file: %v %s", err, b)
	}
	if c.Elements["read_owners"] != 2 || c.Flows["f_read"] != 2 || c.Elements["co_owner_consent"] != 0 {
		t.Errorf("coverage %+v", c)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"--format", "junit", dir}, &out, &errb); code != 1 {
		t.Fatalf("junit exit %d", code)
	}
	for _, w := range []string{`<testsuite name="e-propyska" tests="2" failures="1"`, `<failure message=`, `<testcase name="ok"`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("junit lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if code := Main(context.Background(), []string{"--format", "json", "--run", "^ok$", dir}, &out, &errb); code != 0 {
		t.Fatalf("json exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"passed": true`) || strings.Contains(out.String(), `"bad"`) {
		t.Errorf("json:\n%s", out.String())
	}
	if code := Main(context.Background(), []string{"--format", "xml", dir}, &out, &errb); code != 2 {
		t.Errorf("bad format: exit %d", code)
	}
}

// TestBrokenProcess checks that a BPMN the compiler rejects stops the run
// with its diagnostics, and Main exits 2.
func TestBrokenProcess(t *testing.T) {
	dir := serviceWith(t, map[string]string{"x.yaml": soleOwner})
	if err := os.WriteFile(filepath.Join(dir, "process.bpmn"), []byte("<definitions>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "process.bpmn") || !strings.Contains(err.Error(), "BPMN") {
		t.Fatalf("error %v, want the compiler's diagnostics", err)
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{dir}, &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
