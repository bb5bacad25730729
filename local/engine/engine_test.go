package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type harness struct {
	t     testing.TB
	eng   *Engine
	store *MemStore
	clock *VirtualClock
}

// newHarness boots an engine on a MemStore and a virtual clock that the
// timer loop advances whenever nothing runs.
func newHarness(tb testing.TB, inv Invoker) *harness {
	tb.Helper()
	h := &harness{t: tb, store: NewMemStore(), clock: NewVirtualClock(t0)}
	h.eng = h.boot(inv, true)
	return h
}

func (h *harness) boot(inv Invoker, auto bool) *Engine {
	e := New(Config{Store: h.store, Clock: h.clock, Invoker: inv, AutoAdvance: auto})
	if err := e.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = e.Close() })
	return e
}

// run creates a machine from def and runs one execution to its end.
func (h *harness) run(def, input string) *Execution {
	h.t.Helper()
	x := h.start(def, input)
	x, err := h.eng.Await(context.Background(), x.ARN)
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func (h *harness) start(def, input string) *Execution {
	h.t.Helper()
	sm, err := h.eng.CreateMachine(context.Background(), CreateMachineInput{Name: machineName(h.t.Name()), Definition: def})
	if err != nil {
		h.t.Fatal(err)
	}
	x, err := h.eng.StartExecution(context.Background(), StartInput{MachineARN: sm.ARN, Name: "x", Input: input})
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func machineName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 70 {
		b = b[len(b)-70:]
	}
	return "m" + string(b)
}

func (h *harness) eventTypes(arn string) []string {
	ev, err := h.eng.History(context.Background(), arn)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, len(ev))
	for i, e := range ev {
		out[i] = e.Type
	}
	return out
}

func mustJSON(tb testing.TB, s string) any {
	tb.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return v
}

func TestStates(t *testing.T) {
	tests := []struct {
		name, def, input string
		status, output   string // output as JSON
		err, cause       string
	}{
		{
			name:   "pass result path",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{"a":1,"r":{"x":1}}`,
		},
		{
			name:   "parameters with paths, context and intrinsic",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$.a","n.$":"$$.State.Name","f.$":"States.Format('x{}',$.a)","lit":"$.a"},"End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{"v":1,"n":"A","f":"x1","lit":"$.a"}`,
		},
		{
			name:   "input and output path null",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"OutputPath":"$.b","Result":{"b":2},"End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `2`,
		},
		{
			name:   "missing input path",
			def:    `{"StartAt":"pass","States":{"pass":{"Type":"Pass","InputPath":"$.NoSuchInputPath","End":true}}}`,
			input:  `{}`,
			status: StatusFailed, err: "States.Runtime",
			cause: "An error occurred while executing the state 'pass' (entered at the event id #2). Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
		},
		{
			name:   "choice operators and default",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringMatches":"ab*"}],"Next":"Yes"},{"Not":{"Variable":"$.missing","IsPresent":true},"Next":"No"}]},"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`,
			input:  `{"n":2,"s":"abc"}`,
			status: StatusSucceeded, output: `"yes"`,
		},
		{
			name:   "no choice matched",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"E"}]},"E":{"Type":"Succeed"}}}`,
			input:  `{"n":2}`,
			status: StatusFailed, err: "States.NoChoiceMatched", cause: "No Matches! in state 'C'",
		},
		{
			name:   "fail without error",
			def:    `{"StartAt":"F","States":{"F":{"Type":"Fail"}}}`,
			input:  `{}`,
			status: StatusFailed,
		},
		{
			name:   "fail error path",
			def:    `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('c{}',$.e)"}}}`,
			input:  `{"e":"E1"}`,
			status: StatusFailed, err: "E1", cause: "cE1",
		},
		{
			name:   "parallel",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`,
			input:  `{"x":1}`,
			status: StatusSucceeded, output: `[1,{"x":1}]`,
		},
		{
			name:   "map with item selector",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `{"items":["a","b"]}`,
			status: StatusSucceeded, output: `[{"v":"a","i":0},{"v":"b","i":1}]`,
		},
		{
			name:   "map catch",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}},"ItemsPath":"$.items","Catch":[{"ErrorEquals":["E"],"ResultPath":"$.err","Next":"Done"}],"End":true},"Done":{"Type":"Succeed"}}}`,
			input:  `{"items":[1]}`,
			status: StatusSucceeded, output: `{"items":[1],"err":{"Error":"E","Cause":"C"}}`,
		},
		{
			name:   "map tolerated failures",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"P"},"F":{"Type":"Fail","Error":"E"},"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `[1,2,3]`,
			status: StatusSucceeded, output: `[1,3]`,
		},
		{
			name:   "map tolerance exceeded",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":0,"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}},"End":true}}}`,
			input:  `[1]`,
			status: StatusFailed, err: "States.ExceedToleratedFailureThreshold", cause: "The specified tolerated failure threshold was exceeded",
		},
		{
			name:   "variables scoped to map iterations",
			def:    `{"StartAt":"S","States":{"S":{"Type":"Pass","Assign":{"x":42},"Next":"M"},"M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"inner.$":"$x"},"Parameters":{"x.$":"$x"},"End":true}}},"Next":"E"},"E":{"Type":"Pass","Parameters":{"x.$":"$x"},"End":true}}}`,
			input:  `[1]`,
			status: StatusSucceeded, output: `{"x":42}`,
		},
		{
			name:   "result path into a string fails",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`,
			input:  `{"a":"s"}`,
			status: StatusFailed, err: "States.ResultPathMatchFailure",
		},
		{
			name:   "data limit",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}`,
			input:  `{"s":"` + strings.Repeat("x", 200*1024) + `"}`,
			status: StatusFailed, err: "States.DataLimitExceeded",
			cause: "The state/task 'A' returned a result with a size exceeding the maximum number of bytes service limit.",
		},
		{
			name:   "wait seconds path fraction",
			def:    `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
			input:  `{"s":1.5}`,
			status: StatusFailed, err: "States.Runtime",
			cause: "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			x := h.run(tc.def, tc.input)
			if x.Status != tc.status {
				t.Fatalf("status = %s (%s: %s), want %s", x.Status, x.Error, x.Cause, tc.status)
			}
			if tc.output != "" && !value.Equal(x.Output.V, mustJSON(t, tc.output)) {
				t.Errorf("output = %s, want %s", value.String(x.Output.V), tc.output)
			}
			if x.Error != tc.err {
				t.Errorf("error = %q, want %q", x.Error, tc.err)
			}
			if tc.cause != "" && x.Cause != tc.cause {
				t.Errorf("cause = %q, want %q", x.Cause, tc.cause)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, def, want string }{
		{"not json", `{`, "INVALID_JSON_DESCRIPTION"},
		{"missing next", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, `Missing required field "Next" or "End" at /States/A`},
		{"bad target", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"},
		{"bad type", `{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`, "/States/A/Type"},
		{"jsonpath field in jsonata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}}`, `"InputPath" is not supported for JSONata`},
		{"bad jsonpath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$[","End":true}}}`, "/States/A/InputPath"},
		{"states.all not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, "States.ALL"},
		{"nested branch error", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}],"End":true}}}`, "/States/P/Branches/0/States/A/Next"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Parse = %v, want a *DefinitionError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStringMatches(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"log.txt", "*.txt", true},
		{"log.txt", "*.log", false},
		{"a*b", `a\*b`, true},
		{"axb", `a\*b`, false},
		{"abc", "a*c*", true},
		{"", "*", true},
	}
	for _, tc := range tests {
		if got := stringMatches(tc.s, tc.p); got != tc.want {
			t.Errorf("stringMatches(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}
