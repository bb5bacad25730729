package sfnapi

import (
	"testing"
	"time"
)

func TestARNParts(t *testing.T) {
	const sm = "arn:aws:states:us-east-1:111111111111:stateMachine:apply"
	const x = "arn:aws:states:us-east-1:111111111111:execution:apply:app-1"
	cases := []struct {
		arn       string
		kinds     []string
		base, q   string
		wantError string
	}{
		{sm, []string{"stateMachine"}, sm, "", ""},
		{sm + ":3", []string{"stateMachine"}, sm, "3", ""},
		{sm + ":prod", []string{"stateMachine"}, sm, "prod", ""},
		{sm + ":", []string{"stateMachine"}, "", "", "InvalidArn"},
		{sm + ":1:2", []string{"stateMachine"}, "", "", "InvalidArn"},
		{x, []string{"execution", "express"}, x, "", ""},
		{x, []string{"stateMachine"}, "", "", "InvalidArn"},
		{"arn:aws-cn:states:cn-north-1:1:execution:a:b", []string{"execution"}, "arn:aws-cn:states:cn-north-1:1:execution:a:b", "", ""},
		{"arn:aws:lambda:us-east-1:1:function:f", []string{"stateMachine"}, "", "", "InvalidArn"},
		{"arn:aws:states:us-east-1:1:stateMachine:", []string{"stateMachine"}, "", "", "InvalidArn"},
		{"", []string{"stateMachine"}, "", "", "ValidationException"},
		{"x", []string{"stateMachine"}, "", "", "InvalidArn"},
	}
	for _, tc := range cases {
		base, q, err := arnParts(tc.arn, "arn", tc.kinds...)
		if got := code(err); got != tc.wantError || base != tc.base || q != tc.q {
			t.Errorf("arnParts(%q, %v) = %q, %q, %v; want %q, %q, %s", tc.arn, tc.kinds, base, q, err, tc.base, tc.q, tc.wantError)
		}
	}
}

func TestPageTokens(t *testing.T) {
	tok := encodeToken("executions", "arn:aws:states:us-east-1:1:execution:a:b")
	if c, err := decodeToken("executions", tok); err != nil || c != "arn:aws:states:us-east-1:1:execution:a:b" {
		t.Errorf("round trip = %q, %v", c, err)
	}
	for _, bad := range []string{"", "!!", tok + "x", encodeToken("history", "1")} {
		if _, err := decodeToken("executions", bad); code(err) != "InvalidToken" {
			t.Errorf("decodeToken(%q) = %v, want InvalidToken", bad, err)
		}
	}
}

func TestMatchesError(t *testing.T) {
	cases := []struct {
		list []string
		name string
		want bool
	}{
		{[]string{"Registry.Unavailable"}, "Registry.Unavailable", true},
		{[]string{"Registry.Unavailable"}, "Registry.NotFound", false},
		{[]string{"States.ALL"}, "Registry.NotFound", true},
		{[]string{"States.ALL"}, "States.Timeout", true},
		{[]string{"States.ALL"}, "States.Runtime", false},
		{[]string{"States.ALL"}, "States.DataLimitExceeded", false},
		{[]string{"States.TaskFailed"}, "Lambda.ServiceException", true},
		{[]string{"States.TaskFailed"}, "States.Timeout", false},
		{[]string{"States.TaskFailed"}, "States.HeartbeatTimeout", false},
		{[]string{"States.Runtime", "States.TaskFailed"}, "States.Runtime", true},
	}
	for _, tc := range cases {
		if got := matchesError(tc.list, tc.name); got != tc.want {
			t.Errorf("matchesError(%v, %s) = %v, want %v", tc.list, tc.name, got, tc.want)
		}
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(Quota{Rate: 10, Burst: 2})
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {0, true}, {0, false}, {50 * time.Millisecond, false}, {100 * time.Millisecond, true}, {time.Hour, true}, {time.Hour, true}, {time.Hour, false},
		{time.Hour - time.Second, false}} // a clock going back refills nothing
	for i, st := range steps {
		if got := b.take(t0.Add(st.at)); got != st.want {
			t.Errorf("step %d at %v: take = %v, want %v", i, st.at, got, st.want)
		}
	}
}
