package bpmndiff

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

func TestMatch(t *testing.T) {
	ref := `["a", {"parallel": [["b", "c"], ["d"], []]}, {"subProcess": "s", "body": ["e"]}, {"loop": "m", "iterations": 2, "multiInstance": true}]`
	tests := []struct {
		got  string
		want bool
	}{
		{"a b c d e m m", true},
		{"a d b c e m m", true},
		{"a b d c e m m", true},  // branches interleave
		{"a c b d e m m", false}, // a branch keeps its order
		{"a b c e m m", false},   // a branch is missing
		{"a b c d e m", false},   // one iteration short
		{"a b c d e m m m", false},
		{"a b c d d e m m", false},
		{"", false},
	}
	var raw []any
	if err := json.Unmarshal([]byte(ref), &raw); err != nil {
		t.Fatal(err)
	}
	items := Normalise(raw)
	for _, tc := range tests {
		got, _ := Match(items, strings.Fields(tc.got))
		if got != tc.want {
			t.Errorf("Match(%s, %q) = %v, want %v", String(items), tc.got, got, tc.want)
		}
	}
}

// TestWrongScenarioMismatches checks that the differential is not
// vacuous: forcing another flow than the reference's makes it fail.
func TestWrongScenarioMismatches(t *testing.T) {
	src, err := os.ReadFile("../../bpmn2asl/testdata/exclusive.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	var cases []Case
	data, _ := os.ReadFile("../../bpmn2asl/testdata/exclusive.traces.json")
	if err := json.Unmarshal(data, &cases); err != nil || len(cases) < 2 {
		t.Fatalf("traces: %v", err)
	}
	defs, _ := bpmn.Parse("exclusive.bpmn", src)
	res, _ := bpmn2asl.Compile("exclusive.bpmn", src, bpmn2asl.Options{Service: "diff"})
	if res == nil {
		t.Fatal("exclusive.bpmn does not compile")
	}
	// The scenario of case 1 with the trace of case 0.
	c := cases[1]
	c.Trace = cases[0].Trace
	out, err := Run(context.Background(), defs, res, c, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var raw []any
	_ = json.Unmarshal(c.Trace, &raw)
	if ok, _ := Match(Normalise(raw), out.Activities); ok {
		t.Errorf("a forced other flow still matched: ran %v", out.Activities)
	}
}
