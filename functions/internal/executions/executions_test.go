package executions_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/executions"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
)

// TestAgainstLocalStepFunctions runs the adapter through the real SDK
// client against the local Step Functions API (the same protocol as AWS).
func TestAgainstLocalStepFunctions(t *testing.T) {
	ctx := context.Background()
	eng := engine.New(engine.Config{Store: engine.NewMemStore()}) // no invoker: every Task fails
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{}).Handler())
	t.Cleanup(srv.Close)
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1})
	x := executions.New(c)

	failing, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "failing", Definition: `{"StartAt":"Prepare","States":{
	  "Prepare":{"Type":"Pass","Result":{"taxNumber":"3012345678"},"Next":"Check"},
	  "Check":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:registryread","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "waiting", Definition: `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":3600,"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	start := func(machine string) string {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ExecutionArn)
	}

	failed := start(failing.ARN)
	if _, err := eng.Await(ctx, failed); err != nil {
		t.Fatal(err)
	}
	d, err := x.FailedData(ctx, failed)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "Check" || string(d.Input) != `{"taxNumber":"3012345678"}` || d.Error == "" {
		t.Fatalf("failed data %+v", d)
	}
	if err := x.Redrive(ctx, failed); err != nil {
		t.Fatal(err)
	}
	again, err := eng.Await(ctx, failed)
	if err != nil || again.Status != engine.StatusFailed || again.RedriveCount != 1 {
		t.Fatalf("after redrive: %+v %v", again, err)
	}

	held := start(waiting.ARN)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"redrive a running execution", func() error { return x.Redrive(ctx, held) }, "ExecutionNotRedrivable"},
		{"failed data of a running execution", func() error { _, err := x.FailedData(ctx, held); return err }, "ExecutionNotRedrivable"},
		{"stop an unknown execution", func() error {
			return x.Stop(ctx, failing.ARN[:len(failing.ARN)-len("stateMachine:failing")]+"execution:failing:nope", "Support.Cancelled", "x")
		}, "ExecutionDoesNotExist"},
		{"history of a malformed arn", func() error { _, err := x.FailedData(ctx, "not-an-arn"); return err }, "InvalidArn"},
		{"resend without an overrides table", func() error {
			return x.Resend(ctx, failed, &executions.StepData{State: "Check", ApplicationID: "a", Step: "s"}, json.RawMessage(`{}`), "staff-7")
		}, executions.ErrNotSupported},
		{"stop", func() error { return x.Stop(ctx, held, "Support.Cancelled", "duplicate application") }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if got := posluha.ErrorName(err); got != tc.want {
				t.Fatalf("error %v (%q), want %q", err, got, tc.want)
			}
		})
	}
	d, err = x.FailedData(ctx, held)
	if err != nil || d.State != "Hold" || d.Error != "Support.Cancelled" {
		t.Fatalf("aborted execution's data: %+v %v", d, err)
	}
}

// fakeOverrides is a func-field fake of executions.Overrides.
type fakeOverrides struct {
	PutFn func(ctx context.Context, o *override.Override) error
}

func (f *fakeOverrides) Put(ctx context.Context, o *override.Override) error { return f.PutFn(ctx, o) }

// TestResend: the failed task's payload arguments and step come from the
// one history page; Resend stores them corrected with who and when, then
// redrives; bad arguments and states that are no task Lambda are refused
// before anything is stored.
func TestResend(t *testing.T) {
	ctx := context.Background()
	eng := engine.New(engine.Config{Store: engine.NewMemStore()}) // no invoker: every Task fails
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{}).Handler())
	t.Cleanup(srv.Close)
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1})
	var puts []*override.Override
	x := executions.New(c)
	x.Overrides = &fakeOverrides{PutFn: func(_ context.Context, o *override.Override) error { puts = append(puts, o); return nil }}
	when := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	x.Now = func() time.Time { return when }

	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "read", Definition: `{"StartAt":"Read","States":{
	  "Read":{"Type":"Task","Comment":"bpmn:Activity_read","Resource":"arn:aws:states:::lambda:invoke",
	    "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:111111111111:function:registryread",
	      "Payload":{"applicationId.$":"$.applicationId","step":"Activity_read","connector":"drrp.realty-rights","arguments":{"taxNumber.$":"$.tax"}}},
	    "End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m.ARN), Name: aws.String("APP-9"),
		Input: aws.String(`{"applicationId":"APP-9","tax":"1234567890"}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	if _, err := eng.Await(ctx, arn); err != nil {
		t.Fatal(err)
	}
	d, err := x.FailedData(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "Read" || d.Step != "Activity_read" || d.ApplicationID != "APP-9" || string(d.Input) != `{"taxNumber":"1234567890"}` {
		t.Fatalf("failed data %+v", d)
	}

	for _, tc := range []struct {
		name string
		d    *executions.StepData
		args string
		want string
	}{
		{"an array", d, `[1]`, executions.ErrInvalidInput},
		{"null", d, `null`, executions.ErrInvalidInput},
		{"not JSON", d, `{`, executions.ErrInvalidInput},
		{"a state that is no task Lambda", &executions.StepData{State: "Check"}, `{}`, executions.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := posluha.ErrorName(x.Resend(ctx, arn, tc.d, json.RawMessage(tc.args), "staff-7")); got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
		})
	}
	if len(puts) != 0 {
		t.Fatalf("refused resends stored %d overrides", len(puts))
	}
	if err := x.Resend(ctx, arn, d, json.RawMessage(`{"taxNumber":"3111412139"}`), "staff-7"); err != nil {
		t.Fatal(err)
	}
	if len(puts) != 1 || puts[0].ApplicationID != "APP-9" || puts[0].Step != "Activity_read" || puts[0].Who != "staff-7" ||
		!puts[0].When.Equal(when) || puts[0].Arguments["taxNumber"] != "3111412139" {
		t.Fatalf("override %+v", puts)
	}
	again, err := eng.Await(ctx, arn)
	if err != nil || again.RedriveCount != 1 {
		t.Fatalf("not redriven: %+v %v", again, err)
	}
	// Still no Lambda here: the redriven task failed again, and the one
	// history page shows the same payload (the override is the Lambda's
	// to apply).
	if d2, err := x.FailedData(ctx, arn); err != nil || d2.Step != "Activity_read" {
		t.Fatalf("failed data after redrive: %+v %v", d2, err)
	}
}
