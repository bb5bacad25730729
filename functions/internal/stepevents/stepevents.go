// Package stepevents puts "Posluha Step Changed" events on EventBridge
// from the task Lambdas. In AWS, Step Functions sends execution status
// changes to EventBridge itself but nothing per state, and the console's
// per-step counts need to know where each application is; the local stack
// derives these events from the engine's saves (local/bus), in AWS each
// task Lambda puts one when it starts working on a step.
//
// The detail is posluha.StepChangedDetail, the contract the local bus and
// the console's projection share. What a Lambda cannot know is left out:
// the ASL state name and engine thread, and the other branches of a
// Parallel (Steps is the one step).
//
// # The hook
//
// Each task handler's Deps has a Steps Notifier, set by its Wire from
// FromEnv (env STEP_EVENTS) and nil otherwise, and its Handle calls Enter
// once the request is valid, before the task's work. The local stack never
// sets STEP_EVENTS: its bus derives the same events from the engine's
// saves, and a second source would only reorder them.
//
// A failed put is logged and otherwise ignored (Enter): the status record
// is the application's truth, the step view is a projection.
package stepevents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/posluha/posluha"
)

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
	// Sequence is the time in Unix nanoseconds: the console orders an
	// application's step events by it and its status events by their
	// dates, so a terminal status hides the step events before it.
	d := posluha.StepChangedDetail{ApplicationID: req.ApplicationID, Service: req.Service, Step: req.Step,
		Status: posluha.StepEntered, Steps: []string{req.Step}, Time: t, Sequence: t.UnixNano()}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode step event: %w", err)
	}
	in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String(posluha.SourcePosluha), DetailType: aws.String(posluha.DetailTypeStepChanged), Detail: aws.String(string(b)), Time: aws.Time(t)}}}
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

// Notifier reports that an application's execution is at a task's step;
// *Emitter is one.
type Notifier interface {
	Entered(ctx context.Context, req *posluha.TaskRequest) error
}

var _ Notifier = (*Emitter)(nil)

// Enter is the task handlers' hook: it reports req's step through n (nil:
// step events are off) and logs a failure without failing the task.
func Enter(ctx context.Context, n Notifier, log *slog.Logger, req *posluha.TaskRequest) {
	if n == nil {
		return
	}
	if err := n.Entered(ctx, req); err != nil {
		if log == nil {
			log = slog.Default()
		}
		log.WarnContext(ctx, "step event not put", "applicationId", req.ApplicationID, "service", req.Service,
			"step", req.Step, "err", err)
	}
}

// FromEnv returns the notifier STEP_EVENTS asks for: nil when it is unset,
// else an Emitter on the EventBridge bus it names ("default": the
// account's default bus, where Step Functions sends its status changes).
func FromEnv(cfg aws.Config, getenv func(string) string) Notifier {
	name := getenv("STEP_EVENTS")
	if name == "" {
		return nil
	}
	e := &Emitter{Client: eventbridge.NewFromConfig(cfg)}
	if name != "default" {
		e.Bus = name
	}
	return e
}
