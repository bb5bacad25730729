package executions_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/executions"
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
		{"resend", func() error { return x.Resend(ctx, failed) }, executions.ErrNotSupported},
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
