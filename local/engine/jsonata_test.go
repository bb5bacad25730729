package engine

import (
	"testing"

	"github.com/posluha/posluha/query/value"
)

// TestJSONataStates covers the JSONata-mode fields: Arguments, Output,
// Assign (old values visible in the same state), Condition, Items,
// $states.context, Catch Output with $states.errorOutput, and mixing
// languages per state.
func TestJSONataStates(t *testing.T) {
	tests := []struct {
		name, def, input   string
		status, output, er string
	}{
		{
			name:   "output and assign see the old variables",
			def:    `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"Next":"B"},"B":{"Type":"Pass","Assign":{"x":"{% $x + 1 %}"},"Output":{"old":"{% $x %}","in":"{% $states.input.v %}"},"Next":"C"},"C":{"Type":"Pass","Output":"{% $x %}","End":true}}}`,
			input:  `{"v":7}`,
			status: StatusSucceeded, output: `2`,
		},
		{
			name:   "choice condition and context",
			def:    `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 1 %}","Next":"Big","Output":{"state":"{% $states.context.State.Name %}"}}],"Default":"Small"},"Big":{"Type":"Succeed"},"Small":{"Type":"Fail","Error":"Small"}}}`,
			input:  `{"n":2}`,
			status: StatusSucceeded, output: `{"state":"C"}`,
		},
		{
			name:   "map items and item selector",
			def:    `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.xs %}","ItemSelector":{"v":"{% $states.context.Map.Item.Value * 10 %}","i":"{% $states.context.Map.Item.Index %}"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `{"xs":[1,2]}`,
			status: StatusSucceeded, output: `[{"v":10,"i":0},{"v":20,"i":1}]`,
		},
		{
			name:   "items not an array",
			def:    `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `{"a":1}`,
			status: StatusFailed, er: "States.QueryEvaluationError",
		},
		{
			name:   "undefined result is an error",
			def:    `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.nothing %}","End":true}}}`,
			input:  `{}`,
			status: StatusFailed, er: "States.QueryEvaluationError",
		},
		{
			name:   "catch output with errorOutput",
			def:    `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::x:y","Arguments":{"a":"{% $states.input.a %}"},"Catch":[{"ErrorEquals":["States.ALL"],"Output":{"e":"{% $states.errorOutput.Error %}","a":"{% $states.input.a %}"},"Next":"D"}],"End":true},"D":{"Type":"Succeed"}}}`,
			input:  `{"a":5}`,
			status: StatusSucceeded, output: `{"e":"States.TaskFailed","a":5}`,
		},
		{
			name:   "jsonpath state reads a jsonata variable",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONata","Assign":{"v":"{% [1,2] %}"},"Next":"B"},"B":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($v)"},"End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `{"n":2}`,
		},
		{
			name:   "wait seconds expression",
			def:    `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s %}","End":true}}}`,
			input:  `{"s":3600}`,
			status: StatusSucceeded, output: `{"s":3600}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &Router{})
			x := h.run(tc.def, tc.input)
			if x.Status != tc.status {
				t.Fatalf("status = %s (%s: %s), want %s", x.Status, x.Error, x.Cause, tc.status)
			}
			if tc.output != "" && !value.Equal(x.Output.V, mustJSON(t, tc.output)) {
				t.Errorf("output = %s, want %s", value.String(x.Output.V), tc.output)
			}
			if x.Error != tc.er {
				t.Errorf("error = %q, want %q (%s)", x.Error, tc.er, x.Cause)
			}
		})
	}
}
