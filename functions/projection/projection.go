// Package projection is the Lambda an EventBridge rule invokes with every
// execution status change of our state machines (source aws.states) and
// every step event the task Lambdas put (source posluha): it folds each
// into the support console's projection table (support.DynamoProjection),
// which the console Lambda reads instead of polling Step Functions.
//
// EventBridge invokes asynchronously, one event per invocation, at least
// once and in no particular order; the projection is idempotent and
// ordered by each event's sequence, so retries and reordering are safe.
// An error (storage only: unreadable events are skipped) makes Lambda
// retry the event, then send it to the rule's dead-letter queue.
package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/functions/console/support"
)

// Deps are the handler's collaborators.
type Deps struct {
	Store support.Store
	Log   *slog.Logger
}

// Handler applies events to the projection.
type Handler struct{ d Deps }

// New returns a handler.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Handle applies one EventBridge event.
func (h *Handler) Handle(ctx context.Context, e events.CloudWatchEvent) error {
	id, step := identify(e)
	log := h.d.Log.With("applicationId", id, "step", step, "eventId", e.ID, "detailType", e.DetailType)
	if err := h.d.Store.Apply(ctx, []events.CloudWatchEvent{e}); err != nil {
		log.ErrorContext(ctx, "projection: apply event", "err", err)
		return fmt.Errorf("apply event %s: %w", e.ID, err)
	}
	log.DebugContext(ctx, "projection: applied")
	return nil
}

// identify reads what the log lines carry (no personal data).
func identify(e events.CloudWatchEvent) (id, step string) {
	var d struct {
		ApplicationID string `json:"applicationId"`
		Name          string `json:"name"`
		Step          string `json:"step"`
	}
	_ = json.Unmarshal(e.Detail, &d) // only for logging
	if d.ApplicationID == "" {
		d.ApplicationID = d.Name
	}
	return d.ApplicationID, d.Step
}

// Lambda is the function lambda.Start takes.
func (h *Handler) Lambda() func(context.Context, events.CloudWatchEvent) error { return h.Handle }

// Wire builds the handler from the environment: PROJECTION_TABLE.
func Wire(_ context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	table := getenv("PROJECTION_TABLE")
	if table == "" {
		return nil, fmt.Errorf("PROJECTION_TABLE is not set")
	}
	return New(Deps{Store: &support.DynamoProjection{Client: dynamodb.NewFromConfig(cfg), Table: table}, Log: log}), nil
}
