package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// TestRedriveWithFailedStepData: a payment refuses a bad account; the
// redrive with fixed data reruns the failed state on the new input and
// variables, and the history says the input changed.
func TestRedriveWithFailedStepData(t *testing.T) {
	inv := InvokerFunc(func(ctx context.Context, c *Call) (any, error) {
		o, _ := c.Input.(*value.Object)
		acc, _ := o.Get("account")
		if acc != "UA21" {
			return nil, &Failure{Name: "Payment.BadAccount", Cause: "account " + value.String(acc)}
		}
		return "paid", nil
	})
	h := newHarness(t, inv)
	x := h.run(`{"QueryLanguage":"JSONata","StartAt":"Prep","States":{
		"Prep":{"Type":"Pass","Assign":{"who":"citizen"},"Next":"Pay"},
		"Pay":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:pay","Arguments":{"account":"{% $states.input.account %}"},"Output":{"r":"{% $states.result %}","who":"{% $who %}"},"End":true}}}`, `{"account":"UA00"}`)
	if x.Status != StatusFailed || x.Error != "Payment.BadAccount" {
		t.Fatalf("first run: %s %s", x.Status, x.Error)
	}
	ctx := context.Background()
	failed := FailedStep(x)
	if failed == nil || failed.State != "Pay" {
		t.Fatalf("failed step %+v", failed)
	}
	tests := []struct {
		name   string
		thread string
		input  any
		code   string
	}{
		{"another thread", "0.1", value.ObjectOf("account", "UA21"), "ExecutionNotRedrivable"},
		{"input over 256 KiB", failed.ID, value.ObjectOf("account", strings.Repeat("x", maxPayload)), "InvalidExecutionInput"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.eng.RedriveExecution(ctx, x.ARN, WithFailedStepData(tc.thread, tc.input, nil))
			var api *APIError
			if !errors.As(err, &api) || api.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if got, _ := h.eng.DescribeExecution(ctx, x.ARN); got.Status != StatusFailed || got.RedriveCount != 0 {
				t.Errorf("after a refused redrive: %s, redriveCount %d", got.Status, got.RedriveCount)
			}
		})
	}
	if _, err := h.eng.RedriveExecution(ctx, x.ARN, WithFailedStepData(failed.ID, value.ObjectOf("account", "UA21"), value.ObjectOf("who", "support"))); err != nil {
		t.Fatal(err)
	}
	done, err := h.eng.Await(ctx, x.ARN)
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("after resend: %v %v", done.Status, err)
	}
	if got := value.String(done.Output.V); got != `{"r":"paid","who":"support"}` {
		t.Errorf("output %s", got)
	}
	ev, err := h.eng.History(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	var redriven *Event
	for i := range ev {
		if ev[i].Type == "ExecutionRedriven" {
			redriven = &ev[i]
		}
	}
	if redriven == nil {
		t.Fatal("no ExecutionRedriven event")
	}
	if got := value.String(redriven.Details); got != `{"redriveCount":1,"inputChanged":true,"thread":"0","state":"Pay","variablesChanged":true}` {
		t.Errorf("ExecutionRedriven details %s", got)
	}
	// Succeeded now: a second resend is refused.
	_, err = h.eng.RedriveExecution(ctx, x.ARN, WithFailedStepData(failed.ID, value.ObjectOf("account", "UA21"), nil))
	var api *APIError
	if !errors.As(err, &api) || api.Code != "ExecutionNotRedrivable" {
		t.Errorf("resend of a succeeded execution: %v", err)
	}
}
