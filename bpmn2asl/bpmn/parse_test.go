package bpmn

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// snapshot renders a parse result for golden comparison: the model as JSON,
// the resolved links (which JSON leaves out) and the diagnostics.
func snapshot(defs *Definitions, ds []diag.Diagnostic) []byte {
	var b bytes.Buffer
	if defs != nil {
		js, err := json.MarshalIndent(defs, "", "  ")
		if err != nil {
			fmt.Fprintf(&b, "marshal: %v\n", err)
		}
		b.Write(js)
		b.WriteString("\n\nlinks:\n")
		ids := func(fs []*Flow) string {
			var s []string
			for _, f := range fs {
				s = append(s, f.ID)
			}
			return strings.Join(s, ",")
		}
		for _, p := range defs.Processes {
			p.Walk(func(n *Node) bool {
				fmt.Fprintf(&b, "  %s %s @%s in=[%s] out=[%s]", n.Kind, n.ID, n.Pos, ids(n.Incoming), ids(n.Outgoing))
				if n.Parent != nil {
					fmt.Fprintf(&b, " parent=%s", n.Parent.ID)
				}
				if n.AttachedTo != nil {
					fmt.Fprintf(&b, " attachedTo=%s", n.AttachedTo.ID)
				}
				for _, x := range n.Boundaries {
					fmt.Fprintf(&b, " boundary=%s", x.ID)
				}
				if n.Default != nil {
					fmt.Fprintf(&b, " default=%s", n.Default.ID)
				}
				if n.Message != nil {
					fmt.Fprintf(&b, " message=%s", n.Message.ID)
				}
				for _, e := range n.Events {
					switch {
					case e.Message != nil:
						fmt.Fprintf(&b, " event.message=%s(key %q)", e.Message.ID, e.Message.CorrelationKey)
					case e.Error != nil:
						fmt.Fprintf(&b, " event.error=%s(code %q)", e.Error.ID, e.ErrorCode())
					case e.Signal != nil:
						fmt.Fprintf(&b, " event.signal=%s", e.Signal.ID)
					case e.Escalation != nil:
						fmt.Fprintf(&b, " event.escalation=%s", e.Escalation.ID)
					}
				}
				if n.Lane != "" {
					fmt.Fprintf(&b, " lane=%s", n.Lane)
				}
				b.WriteByte('\n')
				return true
			})
		}
		for _, c := range defs.Collaborations {
			for _, p := range c.Participants {
				if p.Process != nil {
					fmt.Fprintf(&b, "  participant %s -> %s\n", p.ID, p.Process.ID)
				}
			}
		}
	}
	b.WriteString("\ndiagnostics:\n")
	_ = diag.WriteText(&b, ds)
	return b.Bytes()
}

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
		t.Fatalf("missing golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// TestGolden parses every testdata/*.bpmn and compares a snapshot of the
// model with testdata/<name>.golden.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bpmn")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			defs, ds := Parse(filepath.Base(f), src)
			golden(t, strings.TrimSuffix(f, ".bpmn")+".golden", snapshot(defs, ds))
		})
	}
}
