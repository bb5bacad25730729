package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/posluha/posluha/query/value"
)

// TestStateOutput is TestState's result.
type TestStateOutput struct {
	Status    string // SUCCEEDED, FAILED, CAUGHT_ERROR, RETRIABLE
	Output    any
	HasOutput bool
	Error     string
	Cause     string
	NextState string
}

// TestState runs one state definition (the JSON of a single state) on an
// input, as the TestState API does: Task states call the engine's invoker,
// Next is reported rather than followed, a caught error is CAUGHT_ERROR.
// Errors: InvalidDefinition.
func (e *Engine) TestState(ctx context.Context, stateDef, input string) (*TestStateOutput, error) {
	sv, err := value.ParseString(stateDef)
	if err != nil {
		return nil, apiErr("InvalidDefinition", "Invalid State Definition: %s", err.Error())
	}
	so, ok := sv.(*value.Object)
	if !ok {
		return nil, apiErr("InvalidDefinition", "Invalid State Definition: want a JSON object")
	}
	// Run it as a one-state machine whose transitions all end: the target
	// state names become placeholder Succeed states.
	states := value.NewObject(4)
	states.Set("TestState", so)
	targets := map[string]bool{}
	collectTargets(so, targets)
	for name := range targets {
		states.Set(name, value.ObjectOf("Type", "Succeed"))
	}
	def := value.ObjectOf("StartAt", "TestState", "States", states)
	if ql, ok := so.Get("QueryLanguage"); ok {
		def.Set("QueryLanguage", ql)
	}
	name := "teststate-" + newSalt()[:12]
	sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: name, Definition: value.String(def), RoleARN: "arn:aws:iam::" + e.account + ":role/TestState"})
	if err != nil {
		return nil, err
	}
	defer func() { _ = e.store.DeleteMachine(context.WithoutCancel(ctx), sm.ARN) }()
	x, err := e.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Input: input})
	if err != nil {
		return nil, err
	}
	x, err = e.AwaitSettled(ctx, x.ARN)
	if err != nil {
		return nil, err
	}
	out := &TestStateOutput{Status: x.Status}
	events, err := e.store.History(ctx, x.ARN)
	if err != nil {
		return nil, fmt.Errorf("test state history: %w", err)
	}
	for _, ev := range events {
		if ev.Type == "SucceedStateEntered" {
			n, _ := ev.Details.Get("name")
			out.NextState, _ = n.(string)
		}
	}
	switch x.Status {
	case StatusSucceeded:
		out.Output, out.HasOutput = x.Output.V, true
		for _, ev := range events {
			if ev.Type == "TaskFailed" || ev.Type == "LambdaFunctionFailed" || ev.Type == "MapStateFailed" || ev.Type == "ParallelStateFailed" {
				out.Status = "CAUGHT_ERROR"
				d := ev.Details
				if v, ok := d.Get("error"); ok {
					out.Error, _ = v.(string)
				}
				if v, ok := d.Get("cause"); ok {
					out.Cause, _ = v.(string)
				}
			}
		}
	case StatusFailed:
		out.Error, out.Cause = x.Error, x.Cause
	default:
		return nil, errors.New("test state: the state did not finish (it waits for a task token)")
	}
	return out, nil
}

func collectTargets(so *value.Object, out map[string]bool) {
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out[s] = true
		}
	}
	if v, ok := so.Get("Next"); ok {
		add(v)
	}
	if v, ok := so.Get("Default"); ok {
		add(v)
	}
	for _, key := range []string{"Choices", "Catch"} {
		if v, ok := so.Get(key); ok {
			if arr, ok := v.([]any); ok {
				for _, r := range arr {
					if ro, ok := r.(*value.Object); ok {
						if n, ok := ro.Get("Next"); ok {
							add(n)
						}
					}
				}
			}
		}
	}
}
