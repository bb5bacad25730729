package sfnapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha/local/engine"
)

// registry is a fake Lambda: "ok" answers with the person, "down"
// fails with Registry.Unavailable.
type registry struct{ calls int }

func (r *registry) InvokeFunction(_ context.Context, arn string, payload []byte) ([]byte, error) {
	r.calls++
	if arn == "arn:aws:lambda:local:000000000000:function:down" {
		return nil, &engine.LambdaError{Type: "Registry.Unavailable", Message: "maintenance window"}
	}
	return []byte(`{"person":{"rnokpp":"1234567890"}}`), nil
}

func TestTestState(t *testing.T) {
	reg := &registry{}
	s := newStack(t, stackConfig{invoker: &engine.Router{Lambda: reg}})
	task := func(fn, extra string) string {
		return `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:` + fn + `","Payload.$":"$"},"ResultSelector":{"p.$":"$.Payload.person"},"ResultPath":"$.r","Next":"Save"` + extra + `}`
	}
	cases := []struct {
		name       string
		in         sfn.TestStateInput
		wantStatus types.TestExecutionStatus
		wantOutput string // compared as JSON; "" = no output
		wantNext   string
		wantError  string
		check      func(t *testing.T, out *sfn.TestStateOutput)
	}{
		{name: "pass", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Parameters":{"x.$":"$.a"},"Next":"B"}`), Input: aws.String(`{"a":1}`)},
			wantStatus: "SUCCEEDED", wantOutput: `{"x":1}`, wantNext: "B"},
		{name: "input path", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","InputPath":"$.person","End":true}`), Input: aws.String(`{"person":{"n":1},"x":2}`), InspectionLevel: types.InspectionLevelDebug},
			wantStatus: "SUCCEEDED", wantOutput: `{"n":1}`,
			check: func(t *testing.T, out *sfn.TestStateOutput) {
				if d := out.InspectionData; d == nil || aws.ToString(d.AfterInputPath) != `{"n":1}` || aws.ToString(d.Input) != `{"person":{"n":1},"x":2}` {
					t.Errorf("inspection data = %+v", d)
				}
			}},
		{name: "end state", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Input: aws.String(`[1]`)},
			wantStatus: "SUCCEEDED", wantOutput: `[1]`},
		{name: "choice", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Choice","Choices":[{"Variable":"$.age","NumericGreaterThanEquals":18,"Next":"Adult"}],"Default":"Minor"}`), Input: aws.String(`{"age":17}`)},
			wantStatus: "SUCCEEDED", wantOutput: `{"age":17}`, wantNext: "Minor"},
		{name: "choice loops to itself", in: sfn.TestStateInput{Definition: aws.String(`{"StartAt":"Poll","States":{"Poll":{"Type":"Choice","Choices":[{"Variable":"$.done","BooleanEquals":false,"Next":"Poll"}],"Default":"End"},"End":{"Type":"Succeed"}}}`), StateName: aws.String("Poll"), Input: aws.String(`{"done":false}`)},
			wantStatus: "SUCCEEDED", wantOutput: `{"done":false}`, wantNext: "Poll"},
		{name: "fail state", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Fail","Error":"Application.Rejected","Cause":"not eligible"}`)},
			wantStatus: "FAILED", wantError: "Application.Rejected"},
		{name: "jsonata state of a jsonata machine", in: sfn.TestStateInput{Definition: aws.String(`{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Pass","Output":"{% $states.input.a + $n %}","End":true}}}`), Input: aws.String(`{"a":2}`), Variables: aws.String(`{"n":40}`)},
			wantStatus: "SUCCEEDED", wantOutput: `42`},
		{name: "wait takes no time", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Wait","Seconds":86400,"Next":"Go"}`)},
			wantStatus: "SUCCEEDED", wantOutput: `{}`, wantNext: "Go"},
		{name: "lambda task with inspection", in: sfn.TestStateInput{Definition: aws.String(task("ok", "")), Input: aws.String(`{"id":"a1"}`), InspectionLevel: types.InspectionLevelDebug},
			wantStatus: "SUCCEEDED", wantOutput: `{"id":"a1","r":{"p":{"rnokpp":"1234567890"}}}`, wantNext: "Save",
			check: func(t *testing.T, out *sfn.TestStateOutput) {
				d := out.InspectionData
				if d == nil || aws.ToString(d.Input) != `{"id":"a1"}` || aws.ToString(d.AfterParameters) == "" || aws.ToString(d.Result) == "" || aws.ToString(d.AfterResultPath) == "" {
					t.Errorf("inspection data = %+v", d)
				}
			}},
		{name: "retriable error", in: sfn.TestStateInput{Definition: aws.String(task("down", `,"Retry":[{"ErrorEquals":["Registry.Unavailable"],"MaxAttempts":3}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Fallback"}]`))},
			wantStatus: "RETRIABLE", wantError: "Registry.Unavailable"},
		{name: "retries exhausted, caught", in: sfn.TestStateInput{Definition: aws.String(task("down", `,"Retry":[{"ErrorEquals":["Registry.Unavailable"],"MaxAttempts":3}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Fallback"}]`)),
			Input: aws.String(`{"id":"a2"}`), StateConfiguration: &types.TestStateConfiguration{RetrierRetryCount: aws.Int32(3)}},
			wantStatus: "CAUGHT_ERROR", wantError: "Registry.Unavailable", wantNext: "Fallback",
			check: func(t *testing.T, out *sfn.TestStateOutput) {
				var o struct{ Err struct{ Error string } }
				if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &o); err != nil || o.Err.Error != "Registry.Unavailable" {
					t.Errorf("caught output = %s", aws.ToString(out.Output))
				}
			}},
		{name: "uncaught failure", in: sfn.TestStateInput{Definition: aws.String(task("down", ""))},
			wantStatus: "FAILED", wantError: "Registry.Unavailable"},
		{name: "mocked callback", in: sfn.TestStateInput{Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"sign","Payload":{"t.$":"$$.Task.Token"}},"End":true}`),
			Mock: &types.MockInput{Result: aws.String(`{"cms":"MIIB"}`)}},
			wantStatus: "SUCCEEDED", wantOutput: `{"cms":"MIIB"}`},
		{name: "mocked error", in: sfn.TestStateInput{Definition: aws.String(task("ok", "")), Mock: &types.MockInput{ErrorOutput: &types.MockErrorOutput{Error: aws.String("Registry.NotFound"), Cause: aws.String("no person")}}},
			wantStatus: "FAILED", wantError: "Registry.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.RoleArn = aws.String(role)
			out, err := s.client.TestState(context.Background(), &in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.wantStatus || aws.ToString(out.NextState) != tc.wantNext || aws.ToString(out.Error) != tc.wantError {
				t.Errorf("= status %s next %q error %q (cause %q), want %s %q %q", out.Status, aws.ToString(out.NextState), aws.ToString(out.Error), aws.ToString(out.Cause), tc.wantStatus, tc.wantNext, tc.wantError)
			}
			if tc.wantOutput != "" && !jsonEqual(aws.ToString(out.Output), tc.wantOutput) {
				t.Errorf("output = %s, want %s", aws.ToString(out.Output), tc.wantOutput)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
	before := reg.calls
	if _, err := s.client.TestState(context.Background(), &sfn.TestStateInput{Definition: aws.String(task("down", `,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}]`)), RoleArn: aws.String(role)}); err != nil {
		t.Fatal(err)
	}
	if n := reg.calls - before; n != 1 {
		t.Errorf("a caught error invoked the function %d times, want once", n)
	}

	errCases := []struct {
		name string
		in   sfn.TestStateInput
		want func(*testing.T, error)
	}{
		{"invalid state", sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Next":"B","End":true}`)}, wantAPIError[*types.InvalidDefinition]},
		{"not JSON", sfn.TestStateInput{Definition: aws.String(`{`)}, wantAPIError[*types.InvalidDefinition]},
		{"unknown state name", sfn.TestStateInput{Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`), StateName: aws.String("B")}, wantAPIError[*types.ValidationException]},
		{"callback without mock", sfn.TestStateInput{Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}`)}, wantAPIError[*types.ValidationException]},
		{"input not JSON", sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Input: aws.String(`{`)}, wantAPIError[*types.InvalidExecutionInput]},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.RoleArn = aws.String(role)
			_, err := s.client.TestState(context.Background(), &in)
			tc.want(t, err)
		})
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
