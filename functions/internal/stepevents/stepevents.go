// Package stepevents puts "Posluha Step Changed" events on EventBridge
// from the task Lambdas. In AWS, Step Functions sends execution status
// changes to EventBridge itself but nothing per state, and the console's
// per-step counts need to know where each application is; the local stack
// derives these events from the engine's saves (local/bus), in AWS each
// task Lambda puts one when it starts working on a step.
//
// The detail is local/bus.StepDetail's JSON (a test keeps them equal);
// this package does not import it, so that task Lambdas do not link the
// local stack. What a Lambda cannot know is left out: the ASL state name
// and engine thread, and the other branches of a Parallel (Steps is the
// one step).
//
// A failed put is logged by the caller and otherwise ignored: the status
// record is the application's truth, the step view is a projection.
package stepevents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/posluha/posluha"
)

// Source and DetailType of the events (local/bus.SourcePosluha and
// DetailTypeStep).
const (
	Source     = "posluha"
	DetailType = "Posluha Step Changed"
)

// Detail is the event's detail.
type Detail struct {
	ApplicationID string    `json:"applicationId"`
	Service       string    `json:"service"`
	ExecutionARN  string    `json:"executionArn"`
	Step          string    `json:"step"`
	State         string    `json:"state"`
	Status        string    `json:"status"`
	Thread        string    `json:"thread"`
	Steps         []string  `json:"steps"`
	Time          time.Time `json:"time"`
	// Sequence is the time in Unix nanoseconds: the console orders an
	// application's step events by it (see local/console awsSequence).
	Sequence int64 `json:"sequence"`
}

// PutEventsAPI is the part of the EventBridge API the emitter uses.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Emitter puts step events on a bus.
type Emitter struct {
	Client PutEventsAPI
	Bus    string // EventBridge bus name or ARN; "" is the default bus
	Now    func() time.Time
}

// Entered reports that an application's execution is at the task's step.
func (e *Emitter) Entered(ctx context.Context, req *posluha.TaskRequest) error {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now().UTC()
	d := Detail{ApplicationID: req.ApplicationID, Service: req.Service, Step: req.Step, Status: "ENTERED",
		Steps: []string{req.Step}, Time: t, Sequence: t.UnixNano()}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode step event: %w", err)
	}
	in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String(Source), DetailType: aws.String(DetailType), Detail: aws.String(string(b)), Time: aws.Time(t)}}}
	if e.Bus != "" {
		in.Entries[0].EventBusName = aws.String(e.Bus)
	}
	out, err := e.Client.PutEvents(ctx, in)
	if err != nil {
		return fmt.Errorf("put step event %s/%s: %w", req.ApplicationID, req.Step, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return fmt.Errorf("put step event %s/%s: %s: %s", req.ApplicationID, req.Step,
			aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}
