package statemachines

import (
	"bytes"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/connectors"
)

func TestBuiltInServicesLoad(t *testing.T) {
	services, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range services {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "e-propyska,fop-registration,lockdown-payout" {
		t.Fatalf("services = %s", got)
	}
	for _, s := range services {
		if s.Form["type"] != "object" {
			t.Errorf("%s: form schema type = %v", s.ID, s.Form["type"])
		}
		if s.Retention.Duration == 0 {
			t.Errorf("%s: no retention period", s.ID)
		}
	}
}

// TestCompiledDefinitionsAreCurrent is the check CI runs on every analyst
// commit: each process.asl.json is exactly what the compiler makes of its
// process.bpmn, without errors or warnings.
func TestCompiledDefinitionsAreCurrent(t *testing.T) {
	files, _ := fs.Glob(FS, "*/process.bpmn")
	if len(files) == 0 {
		t.Fatal("no services")
	}
	for _, f := range files {
		src, _ := fs.ReadFile(FS, f)
		res, ds := bpmn2asl.Compile(f, src, bpmn2asl.Options{Service: path.Dir(f)})
		for _, d := range ds {
			t.Errorf("%s:%d:%d: %s %s (%s)", f, d.Line, d.Col, d.Code, d.Message, d.ElementID)
		}
		if res == nil {
			continue
		}
		want, err := fs.ReadFile(FS, path.Join(path.Dir(f), "process.asl.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(res.ASL), bytes.TrimSpace(want)) {
			t.Errorf("%s: process.asl.json is stale; run: go run ./bpmn2asl/cmd/bpmn2asl compile --all statemachines/", f)
		}
	}
}

// TestConnectorsExist checks that every connector a service lists, and
// every connector header in its BPMN, is a template in connectors/.
func TestConnectorsExist(t *testing.T) {
	known := map[string]bool{}
	templates, _ := fs.Glob(connectors.FS, "*.yaml")
	for _, f := range templates {
		src, _ := fs.ReadFile(connectors.FS, f)
		for _, line := range strings.Split(string(src), "\n") {
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				known[strings.TrimSpace(id)] = true
			}
		}
	}
	services, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		bpmn, _ := fs.ReadFile(FS, s.ID+"/process.bpmn")
		for _, c := range s.Connectors {
			if !known[c] {
				t.Errorf("%s: service.yaml names unknown connector %q", s.ID, c)
			}
			if !strings.Contains(string(bpmn), `value="`+c+`"`) {
				t.Errorf("%s: connector %q listed but not used in process.bpmn", s.ID, c)
			}
		}
	}
}

func TestBadServiceFiles(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown field", "id: x-service\ntitle: {uk: X}\nstatus: active\nowner: me\nretension: 30d\n", `service.yaml:5:1: unknown field "retension"`},
		{"bad status", "id: x-service\ntitle: {uk: X}\nstatus: live\n", `status "live"`},
		{"bad id", "id: X\ntitle: {uk: X}\nstatus: active\n", `id "X"`},
		{"bad duration", "id: x-service\ntitle: {uk: X}\nstatus: active\nretention: soon\n", "duration"},
		{"not yaml", "id: [\n", "service.yaml:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("service.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	fsys := fstest.MapFS{"other/service.yaml": {Data: []byte("id: x-service\ntitle: {uk: X}\nstatus: active\n")}}
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "folder name") {
		t.Fatalf("id/folder mismatch: %v", err)
	}
}
