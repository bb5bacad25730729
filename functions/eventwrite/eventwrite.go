// Package eventwrite is the Event service Lambda: what a process does to
// the world. One task payload (posluha.TaskRequest) with an action:
//
//   - status: move the application to arguments.status (with the step id
//     and arguments.reason) and, when arguments.template is set, notify the
//     citizen. A retried step changes nothing: posluha.Application.Move
//     ignores a repeated status and step. A submitted application whose
//     process reports waiting or done first goes through processing at the
//     same step (submitted cannot become either directly). Returns
//     {"status": …}.
//   - notify: add the notification arguments.template to the citizen's
//     inbox and hand it to the outbox (push, e-mail). Its id is the
//     idempotency key applicationId/step, so a retry notifies once.
//     Returns {"notificationId": …}.
//   - write: call the write connector named by the task with the
//     idempotency key applicationId/step. The first outcome is recorded
//     (posluha.Effects), so a retry or a redrive returns it without calling
//     the registry again; registry failures come back named
//     (Registry.Unavailable is retried by the state machine's Retry).
//     Returns the connector's mapped response. A task that names a
//     connector and no action is a write.
//   - await: set status waiting, store the task token under the correlation
//     key (posluha.Awaits; default "<step>/<applicationId>") and notify when
//     arguments.template is set; returns at once, and the state machine
//     stays parked on the token until Answerer.Answer or Answerer.Fail (the
//     API, a partner callback) completes it, moving the application back
//     to processing.
//
// # Retry later (parkOnOutage)
//
// A write whose registry is down longer than the state machine's retries
// should wait can park instead of failing: the BPMN task sets the header
// parkOnOutage=true, and the task must be a callback task
// (lambda:invoke.waitForTaskToken with "taskToken" in the payload and the
// result read from $states.result, not .Payload; the compiler does not emit
// that yet, see asCallback in e2e_test.go for the shape). Without a token
// parkOnOutage is Task.Invalid.
// eventwrite tries the write once; when the registry is Unavailable it
// stores the task (token included) as a parked write and returns, leaving
// the state machine waiting on the token. ResumeParked, which the stack
// calls periodically (an EventBridge schedule invoking this function with
// {"action":"resumeParked"} in AWS; a ticker locally), retries every parked
// write, at most one failing call per registry and sweep: success sends
// SendTaskSuccess with the response, a registry rejection sends
// SendTaskFailure with the error name (the BPMN error boundary takes over),
// Unavailable keeps it parked. Support staff list parked writes (Parked)
// and resend one by hand (Resend), optionally with corrected arguments.
// The idempotency key is the same throughout, so however often a parked
// write is tried, the registry sees one effect.
//
// Logs carry applicationId, service, step and action, never arguments or
// notification texts: both hold personal data.
package eventwrite

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/query/value"
)

// maxKey bounds idempotency and correlation keys.
const maxKey = 1024

// ActionResumeParked is the action of the scheduled event that makes the
// function retry parked writes; it needs no application.
const ActionResumeParked = "resumeParked"

// Connectors calls registries; *connector.Set implements it.
type Connectors interface {
	// Call returns the mapped response. Errors: Task.Invalid,
	// Registry.Unavailable, Registry.BadRequest, Registry.NotFound,
	// Registry.BadResponse.
	Call(ctx context.Context, id string, args connector.Args, idempotencyKey string) (any, error)
	// Template returns a connector's template.
	Template(id string) (*connector.Template, bool)
}

var _ Connectors = (*connector.Set)(nil)

// Outbox delivers a notification to the citizen outside the app (push,
// e-mail). A repeated id must not be delivered twice.
type Outbox interface {
	// Send delivers n. Errors: Registry.Unavailable when the channel is
	// down (the task is retried).
	Send(ctx context.Context, n *posluha.Notification) error
}

// SFN completes callback tasks (Step Functions SendTaskSuccess and
// SendTaskFailure).
type SFN interface {
	// SendTaskSuccess completes the task with output (JSON). Errors:
	// Application.NotFound when the token is no longer valid (the task
	// finished, timed out or its execution stopped).
	SendTaskSuccess(ctx context.Context, token string, output string) error
	// SendTaskFailure fails the task with a named error. Errors as
	// SendTaskSuccess.
	SendTaskFailure(ctx context.Context, token, name, cause string) error
}

// Parking stores parked writes; *dynamo.ParkedWrites and
// *dynamo.MemoryParked implement it.
type Parking interface {
	// Put stores p; with ifToken set, only over a write parked with that
	// task token. Errors: Application.Conflict when that write was parked
	// again (a newer token) or settled meanwhile.
	Put(ctx context.Context, p *dynamo.ParkedWrite, ifToken string) error
	// Get returns a parked write. Errors: Application.NotFound.
	Get(ctx context.Context, key string) (*dynamo.ParkedWrite, error)
	// List returns the parked writes, oldest first.
	List(ctx context.Context) ([]*dynamo.ParkedWrite, error)
	// Remove deletes a parked write if its token is ifToken (any when
	// ""); removing nothing is no error.
	Remove(ctx context.Context, key, ifToken string) error
}

var (
	_ Parking = (*dynamo.ParkedWrites)(nil)
	_ Parking = (*dynamo.MemoryParked)(nil)
)

// Deps are what the handler needs.
type Deps struct {
	Applications  posluha.Applications
	Notifications posluha.Notifications
	Awaits        posluha.Awaits
	Effects       posluha.Effects
	Parking       Parking
	Connectors    Connectors
	Outbox        Outbox
	SFN           SFN
	// Templates are the notification texts; DefaultTemplates when nil.
	Templates map[string]Template
	Log       *slog.Logger
	// Now is the clock of status changes and notifications; time.Now when
	// nil.
	Now func() time.Time
	// Steps reports the step of each task to the console's projection
	// (stepevents.FromEnv: STEP_EVENTS, AWS only); nil: off.
	Steps stepevents.Notifier
	// Overrides holds support's corrected arguments (override.FromEnv:
	// OVERRIDES_TABLE, AWS only); nil: the payload's arguments are used.
	Overrides override.Source
}

// Handler handles event.write tasks.
type Handler struct {
	d Deps
}

// New returns a handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Templates == nil {
		d.Templates = DefaultTemplates()
	}
	return &Handler{d: d}
}

// Lambda returns the handler as the Lambda runtime must run it: errors
// converted by lambdaerr, so that Step Functions sees their names. The
// bootstrap binary and the local stack register this same function.
func (h *Handler) Lambda() func(context.Context, posluha.TaskRequest) (json.RawMessage, error) {
	return lambdaerr.Handler(h.d.Log, h.Handle)
}

// Handle runs one task (see the package documentation for the actions).
//
// Errors: Task.Invalid (bad payload, unknown action, a read connector),
// Application.NotFound, Application.Conflict (a status move the
// application does not allow), Registry.Unavailable, Registry.BadRequest,
// Registry.NotFound, Registry.BadResponse, Internal.
func (h *Handler) Handle(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	if req.Action == ActionResumeParked {
		r, err := h.ResumeParked(ctx)
		if err != nil {
			return nil, err
		}
		return marshal(r)
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if _, err := override.Apply(ctx, h.d.Overrides, h.d.Log, &req); err != nil {
		return nil, err
	}
	if len(req.IdempotencyKey()) > maxKey || len(req.CorrelationKey) > maxKey {
		// Keys of DynamoDB items (at most 2048 bytes) and of registry
		// idempotency stores: refuse rather than fail deep down.
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "applicationId, step or correlationKey longer than %d bytes", maxKey)
	}
	if req.Action == "" && req.Connector != "" {
		req.Action = posluha.ActionWrite // an event.write task that names only its connector
	}
	stepevents.Enter(ctx, h.d.Steps, h.d.Log, &req)
	start := h.d.Now()
	var out json.RawMessage
	var err error
	switch req.Action {
	case posluha.ActionStatus:
		out, err = h.status(ctx, req)
	case posluha.ActionNotify:
		out, err = h.notify(ctx, req)
	case posluha.ActionWrite:
		out, err = h.writeTask(ctx, req)
	case posluha.ActionAwait:
		out, err = h.await(ctx, req)
	case "":
		err = posluha.Errorf(posluha.ErrTaskInvalid, "action is required: status, notify, write or await")
	default:
		err = posluha.Errorf(posluha.ErrTaskInvalid, "unknown action %q: want status, notify, write or await", req.Action)
	}
	outcome := "ok"
	if err != nil {
		outcome = posluha.ErrorName(err)
	}
	// The one log line of the task: names and outcome, never the payload.
	h.d.Log.InfoContext(ctx, "event write", "applicationId", req.ApplicationID, "service", req.Service,
		"step", req.Step, "action", req.Action, "connector", req.Connector, "attempt", req.Attempt,
		"outcome", outcome, "durationMs", h.d.Now().Sub(start).Milliseconds())
	return out, err
}

func marshal(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return b, nil
}

// stringArg returns a string argument; a present value of another type is
// Task.Invalid.
func stringArg(args map[string]any, name string) (string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", posluha.Errorf(posluha.ErrTaskInvalid, "arguments.%s must be a string", name)
	}
	return s, nil
}

// boolArg reads a flag given as a JSON boolean or, from a BPMN task
// header, as the string "true" or "false".
func boolArg(args map[string]any, name string) (bool, error) {
	switch v := args[name].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		switch v {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.%s must be true or false", name)
}

func (h *Handler) status(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	st, err := stringArg(req.Arguments, "status")
	if err != nil {
		return nil, err
	}
	if !posluha.Status(st).Valid() {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.status %q is not a status", st)
	}
	reason, err := stringArg(req.Arguments, "reason")
	if err != nil {
		return nil, err
	}
	tmpl, err := stringArg(req.Arguments, "template")
	if err != nil {
		return nil, err
	}
	docs, err := documentsArg(req.Arguments)
	if err != nil {
		return nil, err
	}
	a, err := h.move(ctx, req, posluha.Status(st), reason, docs...)
	if err != nil {
		return nil, err
	}
	if tmpl != "" {
		if _, err := h.send(ctx, req, a, tmpl, reason); err != nil {
			return nil, err
		}
	}
	return marshal(map[string]string{"status": string(a.Status)})
}

// move applies one status change of step req.Step. A submitted
// application whose process reports waiting or done without a processing
// status step first (lockdown-payout goes straight to done) is moved
// through processing at the same step: its process has started, and
// submitted cannot become waiting or done directly.
func (h *Handler) move(ctx context.Context, req posluha.TaskRequest, st posluha.Status, reason string, docs ...posluha.Document) (*posluha.Application, error) {
	now := h.d.Now().UTC()
	return h.d.Applications.Update(ctx, req.ApplicationID, func(a *posluha.Application) error {
		for _, d := range docs {
			if !slices.ContainsFunc(a.Documents, func(x posluha.Document) bool { return x.Number == d.Number }) {
				a.Documents = append(a.Documents, d)
			}
		}
		if a.Status == posluha.StatusSubmitted && !a.Status.CanMove(st) && posluha.StatusProcessing.CanMove(st) {
			if err := a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: req.Step, Time: now}); err != nil {
				return err
			}
		}
		return a.Move(posluha.StatusChange{Status: st, Step: req.Step, Time: now, Reason: reason})
	})
}

// documentsArg reads the result documents a status step records on the
// application (the BPMN maps a document.pdf task's output into argument
// "document" or a list "documents"), so that the citizen can download them.
func documentsArg(args map[string]any) ([]posluha.Document, error) {
	var raw []any
	if d, ok := args["document"]; ok && d != nil {
		raw = append(raw, d)
	}
	if ds, ok := args["documents"].([]any); ok {
		raw = append(raw, ds...)
	}
	var out []posluha.Document
	for _, r := range raw {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.document: %v", err)
		}
		var d posluha.Document
		if err := json.Unmarshal(b, &d); err != nil || d.Number == "" || d.Key == "" {
			return nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.document needs number and key (the output of a document.pdf task)")
		}
		out = append(out, d)
	}
	return out, nil
}

func (h *Handler) notify(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	tmpl, err := stringArg(req.Arguments, "template")
	if err != nil {
		return nil, err
	}
	if tmpl == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.template is required to notify")
	}
	reason, err := stringArg(req.Arguments, "reason")
	if err != nil {
		return nil, err
	}
	a, err := h.d.Applications.Get(ctx, req.ApplicationID)
	if err != nil {
		return nil, err
	}
	id, err := h.send(ctx, req, a, tmpl, reason)
	if err != nil {
		return nil, err
	}
	return marshal(map[string]string{"notificationId": id})
}

// send puts the notification of step req.Step in the inbox and the
// outbox; both ignore an id they have, so retries notify once.
func (h *Handler) send(ctx context.Context, req posluha.TaskRequest, a *posluha.Application, tmpl, reason string) (string, error) {
	if a.Citizen == "" {
		return "", posluha.Errorf(posluha.ErrApplicationInvalid, "application %s has no citizen to notify", a.ID)
	}
	title, body := render(h.d.Templates, tmpl, a, reason)
	n := &posluha.Notification{
		ID: req.IdempotencyKey(), Citizen: a.Citizen, ApplicationID: a.ID, Template: tmpl,
		Title: title, Body: body, Time: h.d.Now().UTC(),
	}
	if err := h.d.Notifications.Add(ctx, n); err != nil {
		return "", fmt.Errorf("notification %s to inbox: %w", n.ID, err)
	}
	if h.d.Outbox != nil {
		if err := h.d.Outbox.Send(ctx, n); err != nil {
			return "", fmt.Errorf("notification %s to outbox: %w", n.ID, err)
		}
	}
	return n.ID, nil
}

func (h *Handler) await(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	if req.TaskToken == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "await needs a task token (a waitForTaskToken task)")
	}
	tmpl, err := stringArg(req.Arguments, "template")
	if err != nil {
		return nil, err
	}
	key := req.CorrelationKey
	if key == "" {
		key = req.Step + "/" + req.ApplicationID
	}
	// Status first: an application that cannot wait (cancelled meanwhile)
	// leaves no token behind. Then the token, then the citizen is told:
	// nobody answers before the token is stored.
	a, err := h.move(ctx, req, posluha.StatusWaiting, "")
	if err != nil {
		return nil, err
	}
	err = h.d.Awaits.Put(ctx, &posluha.Await{
		Key: key, ApplicationID: req.ApplicationID, Step: req.Step, Token: req.TaskToken, Created: h.d.Now().UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("store await %s: %w", key, err)
	}
	if tmpl != "" {
		if _, err := h.send(ctx, req, a, tmpl, ""); err != nil {
			return nil, err
		}
	}
	return marshal(map[string]string{"correlationKey": key})
}

// writeTask runs a write task, parking it through an outage when asked.
func (h *Handler) writeTask(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	park, err := boolArg(req.Arguments, "parkOnOutage")
	if err != nil {
		return nil, err
	}
	if park && req.TaskToken == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "parkOnOutage needs a callback task (waitForTaskToken) with a task token")
	}
	if park && (h.d.Parking == nil || h.d.SFN == nil) {
		return nil, fmt.Errorf("parkOnOutage: no parking or Step Functions client configured")
	}
	t, err := h.writeConnector(req.Connector)
	if err != nil {
		return nil, err
	}
	out, err := h.write(ctx, req)
	if !park {
		return out, err
	}
	switch {
	case err == nil:
		if err := h.d.SFN.SendTaskSuccess(ctx, req.TaskToken, string(out)); err != nil {
			return nil, fmt.Errorf("complete task %s: %w", req.IdempotencyKey(), err)
		}
		return out, nil
	case posluha.ErrorName(err) == posluha.ErrRegistryUnavailable:
		now := h.d.Now().UTC()
		p := &dynamo.ParkedWrite{Key: req.IdempotencyKey(), Request: req, Registry: t.Registry,
			Parked: now, Tried: now, Attempts: 1, LastError: posluha.ErrRegistryUnavailable}
		if err := h.d.Parking.Put(ctx, p, ""); err != nil {
			return nil, fmt.Errorf("park write %s: %w", p.Key, err)
		}
		h.d.Log.WarnContext(ctx, "write parked", "applicationId", req.ApplicationID, "service", req.Service,
			"step", req.Step, "connector", req.Connector, "registry", t.Registry)
		return marshal(map[string]string{"parked": p.Key})
	}
	return nil, err
}

func (h *Handler) writeConnector(id string) (*connector.Template, error) {
	if id == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "connector is required for a write")
	}
	t, ok := h.d.Connectors.Template(id)
	if !ok {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "unknown connector %q", id)
	}
	if !t.Write {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "connector %q reads: use a registry.read task", id)
	}
	return t, nil
}

// write makes the external write of req once: a recorded outcome is
// returned as it is, otherwise the connector is called with the
// idempotency key and a success is recorded.
func (h *Handler) write(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	key := req.IdempotencyKey()
	if b, ok, err := h.d.Effects.Get(ctx, key); err != nil {
		return nil, fmt.Errorf("read effect %s: %w", key, err)
	} else if ok {
		return b, nil
	}
	args := maps.Clone(req.Arguments)
	delete(args, "parkOnOutage") // ours, not the registry's
	res, err := h.d.Connectors.Call(ctx, req.Connector, connector.Args{
		ApplicationID: req.ApplicationID, Service: req.Service, Step: req.Step, Arguments: args,
	}, key)
	if err != nil {
		return nil, err
	}
	v, err := value.FromGo(res)
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: result outside JSON", req.Connector)
	}
	out := value.Marshal(v)
	// Should this fail, the retry calls the registry again with the same
	// key, and the registry answers from its own idempotency store.
	if err := h.d.Effects.Put(ctx, key, out); err != nil {
		return nil, fmt.Errorf("record effect %s: %w", key, err)
	}
	return out, nil
}
