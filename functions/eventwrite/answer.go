package eventwrite

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/posluha/posluha"
)

// Answerer completes the tasks that await parked (userTask, receiveTask,
// message catch events): the API calls it for a citizen's action, a
// partner or registry callback for theirs.
type Answerer struct {
	Awaits posluha.Awaits
	SFN    SFN
	// Applications, when set, moves the application back to processing
	// once its task is answered (waiting ⇄ processing).
	Applications posluha.Applications
	Log          *slog.Logger
	// Now is the clock of the status change; time.Now when nil.
	Now func() time.Time
}

// Answer completes the task waiting under the correlation key with output
// (a JSON value, the task's result in the state machine) and returns the
// await it answered. The await is taken first, so of two racing answers
// one completes the task; if Step Functions cannot be reached the await
// is put back and the answer can be retried.
//
// Errors: Application.NotFound when nothing waits under key (already
// answered, or the task timed out), Task.Invalid when output is not JSON.
func (r *Answerer) Answer(ctx context.Context, key string, output json.RawMessage) (*posluha.Await, error) {
	if len(output) == 0 {
		output = json.RawMessage("{}")
	}
	if !json.Valid(output) {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "answer to %s is not JSON", key)
	}
	return r.complete(ctx, key, func(token string) error {
		return r.SFN.SendTaskSuccess(ctx, token, string(output))
	})
}

// Fail fails the task waiting under key with a named error (a partner
// said no), which a BPMN error boundary catches. Errors as Answer.
func (r *Answerer) Fail(ctx context.Context, key, name, cause string) (*posluha.Await, error) {
	if name == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "an error name is required to fail %s", key)
	}
	return r.complete(ctx, key, func(token string) error {
		return r.SFN.SendTaskFailure(ctx, token, name, cause)
	})
}

func (r *Answerer) complete(ctx context.Context, key string, send func(token string) error) (*posluha.Await, error) {
	a, err := r.Awaits.Take(ctx, key)
	if err != nil {
		return nil, err
	}
	// The status moves before the task is completed: once it is, the
	// process runs on and its next status task must find processing.
	moved := r.setStatus(ctx, a, posluha.StatusWaiting, posluha.StatusProcessing, "answered")
	if err := send(a.Token); err != nil {
		if gone(err) {
			return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "the task waiting for %s no longer waits", key)
		}
		// Transient: give the token back so that the answer can be retried.
		if moved {
			r.setStatus(ctx, a, posluha.StatusProcessing, posluha.StatusWaiting, "answer not delivered")
		}
		if perr := r.Awaits.Put(ctx, a); perr != nil {
			return nil, fmt.Errorf("answer %s: %w (and the await could not be restored: %v)", key, err, perr)
		}
		return nil, fmt.Errorf("answer %s: %w", key, err)
	}
	return a, nil
}

// setStatus moves the application of a from status from to status to at
// the await's step, if Applications is set and the application is where
// the await left it. It reports whether it moved; a failure is logged, not
// returned: the answer matters more than the status, which the next
// status task catches up on.
func (r *Answerer) setStatus(ctx context.Context, a *posluha.Await, from, to posluha.Status, reason string) bool {
	if r.Applications == nil {
		return false
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now().UTC()
	moved := false
	_, err := r.Applications.Update(ctx, a.ApplicationID, func(app *posluha.Application) error {
		if app.Status != from || app.Step != a.Step {
			return nil // moved on already (another branch, a status task)
		}
		moved = true
		return app.Move(posluha.StatusChange{Status: to, Step: a.Step, Time: t, Reason: reason})
	})
	if err != nil {
		moved = false
		if r.Log != nil {
			r.Log.WarnContext(ctx, "status after answer", "applicationId", a.ApplicationID, "step", a.Step, "err", err)
		}
	}
	return moved
}
