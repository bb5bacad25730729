package sfnapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
)

// newHandler is the API over a fresh in-memory engine, without a client.
func newHandler(tb testing.TB) http.Handler {
	tb.Helper()
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	tb.Cleanup(func() { _ = eng.Close() })
	return sfnapi.New(eng, sfnapi.Options{MaxBodyBytes: 1 << 16, SyncTimeout: 50 * time.Millisecond}).Handler()
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func post(h http.Handler, method, target, body string) (*http.Response, []byte) {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestProtocolErrors: bad requests get AWS's error shape and a 4xx, with
// the exception name both in __type and in X-Amzn-ErrorType.
func TestProtocolErrors(t *testing.T) {
	h := newHandler(t)
	cases := []struct {
		name, method, target, body string
		status                     int
		want                       string
	}{
		{"GET", http.MethodGet, "AWSStepFunctions.ListStateMachines", "{}", 405, "UnknownOperationException"},
		{"no target", http.MethodPost, "", "{}", 400, "UnknownOperationException"},
		{"other service", http.MethodPost, "DynamoDB_20120810.ListTables", "{}", 400, "UnknownOperationException"},
		{"unknown operation", http.MethodPost, "AWSStepFunctions.Frobnicate", "{}", 400, "UnknownOperationException"},
		{"alias operations", http.MethodPost, "AWSStepFunctions.CreateStateMachineAlias", "{}", 400, "UnknownOperationException"},
		{"malformed JSON", http.MethodPost, "AWSStepFunctions.ListStateMachines", "{", 400, "SerializationException"},
		{"array body", http.MethodPost, "AWSStepFunctions.ListStateMachines", "[]", 400, "SerializationException"},
		{"trailing data", http.MethodPost, "AWSStepFunctions.ListStateMachines", "{} {}", 400, "SerializationException"},
		{"wrong member type", http.MethodPost, "AWSStepFunctions.ListStateMachines", `{"maxResults":"ten"}`, 400, "SerializationException"},
		{"missing member", http.MethodPost, "AWSStepFunctions.DescribeExecution", `{}`, 400, "ValidationException"},
		{"missing definition", http.MethodPost, "AWSStepFunctions.CreateStateMachine", `{"name":"a","roleArn":"r"}`, 400, "ValidationException"},
		{"missing role", http.MethodPost, "AWSStepFunctions.CreateStateMachine", `{"name":"a","definition":"{}"}`, 400, "ValidationException"},
		{"bad type", http.MethodPost, "AWSStepFunctions.CreateStateMachine", `{"name":"a","roleArn":"r","definition":"{}","type":"FAST"}`, 400, "ValidationException"},
		{"alias arn", http.MethodPost, "AWSStepFunctions.DescribeStateMachine", `{"stateMachineArn":"arn:aws:states:us-east-1:111111111111:stateMachine:a:prod"}`, 400, "StateMachineDoesNotExist"},
		{"too many arn parts", http.MethodPost, "AWSStepFunctions.DescribeExecution", `{"executionArn":"arn:aws:states:us-east-1:111111111111:execution:a:b:c:d"}`, 400, "InvalidArn"},
		{"history token of another listing", http.MethodPost, "AWSStepFunctions.ListStateMachines", `{"nextToken":"aGlzdG9yeQAx"}`, 400, "InvalidToken"},
		{"body too large", http.MethodPost, "AWSStepFunctions.ValidateStateMachineDefinition", `{"definition":"` + strings.Repeat("x", 1<<17) + `"}`, 413, "ValidationException"},
		{"empty task token", http.MethodPost, "AWSStepFunctions.SendTaskHeartbeat", `{"taskToken":""}`, 400, "ValidationException"},
		{"success without output", http.MethodPost, "AWSStepFunctions.SendTaskSuccess", `{"taskToken":"t"}`, 400, "ValidationException"},
		{"map runs", http.MethodPost, "AWSStepFunctions.ListExecutions", `{"mapRunArn":"arn:aws:states:us-east-1:111111111111:mapRun:a/b:c"}`, 400, "ResourceNotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, b := post(h, tc.method, tc.target, tc.body)
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (%s)", res.StatusCode, tc.status, b)
			}
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("body %q: %v", b, err)
			}
			if e.Type != tc.want || e.Message == "" {
				t.Errorf("error = %+v, want __type %s with a message", e, tc.want)
			}
			if got := res.Header.Get("X-Amzn-ErrorType"); got != tc.want {
				t.Errorf("X-Amzn-ErrorType = %q", got)
			}
		})
	}
}

// TestEmptyBody: the CLI sends no body for operations without members.
func TestEmptyBody(t *testing.T) {
	res, b := post(newHandler(t), http.MethodPost, "AWSStepFunctions.ListStateMachines", "")
	if res.StatusCode != 200 || string(b) != `{"stateMachines":[]}` {
		t.Errorf("= %d %s", res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("content type = %s", ct)
	}
}

// FuzzRequest feeds arbitrary bodies to every operation: the server
// answers 200 or a 4xx in AWS's error shape, never a panic or a 500.
func FuzzRequest(f *testing.F) {
	ops := []string{
		"CreateStateMachine", "UpdateStateMachine", "DescribeStateMachine", "ListStateMachines", "DeleteStateMachine",
		"PublishStateMachineVersion", "ListStateMachineVersions", "ValidateStateMachineDefinition", "StartExecution",
		"StartSyncExecution", "DescribeExecution", "DescribeStateMachineForExecution", "ListExecutions", "StopExecution",
		"GetExecutionHistory", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "RedriveExecution", "TestState",
		"ListTagsForResource", "Nope",
	}
	sm := "arn:aws:states:us-east-1:111111111111:stateMachine:m"
	seeds := []struct {
		op   int
		body string
	}{
		{0, `{"name":"m","roleArn":"r","definition":"{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}","type":"EXPRESS"}`},
		{1, `{"stateMachineArn":"` + sm + `","definition":"{}"}`},
		{2, `{"stateMachineArn":"` + sm + `:1"}`},
		{3, `{"maxResults":1,"nextToken":"bWFjaGluZXMAYQ"}`},
		{6, `{"stateMachineArn":"` + sm + `","nextToken":"dmVyc2lvbnMAMg"}`},
		{7, `{"definition":"{\"StartAt\":1}","severity":"WARNING","maxResults":2}`},
		{8, `{"stateMachineArn":"` + sm + `","name":"x","input":"{\"a\":[1,2]}"}`},
		{9, `{"stateMachineArn":"` + sm + `","input":"[]"}`},
		{12, `{"stateMachineArn":"` + sm + `","statusFilter":"RUNNING","maxResults":1000}`},
		{14, `{"executionArn":"arn:aws:states:us-east-1:111111111111:execution:m:x","reverseOrder":true,"maxResults":1,"includeExecutionData":false}`},
		{15, `{"taskToken":"` + strings.Repeat("a", 64) + `","output":"{}"}`},
		{19, `{"definition":"{\"Type\":\"Pass\",\"End\":true}","input":"{}","inspectionLevel":"DEBUG"}`},
		{21, `{}`},
		{3, `{"maxResults":-1}`},
		{3, "\x00"},
	}
	for _, s := range seeds {
		f.Add(uint8(s.op), []byte(s.body))
	}
	h := newHandler(f)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		target := "AWSStepFunctions." + ops[int(op)%len(ops)]
		res, b := post(h, http.MethodPost, target, string(body))
		switch {
		case res.StatusCode == 200:
			if !json.Valid(b) {
				t.Fatalf("%s: invalid JSON response %q", target, b)
			}
		case res.StatusCode >= 400 && res.StatusCode < 500:
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil || e.Type == "" {
				t.Fatalf("%s: error body %q", target, b)
			}
		default:
			t.Fatalf("%s %q: status %d %s", target, body, res.StatusCode, b)
		}
	})
}
