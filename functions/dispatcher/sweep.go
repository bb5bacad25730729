package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha"
)

// The API stores an application and only then sends it to the queue; when
// the send fails the citizen gets 503 and is expected to retry with the
// same Idempotency-Key, which sends again. A citizen who never retries
// leaves the application stored and submitted with nothing to start it.
// Sweep finds those (Applications.ListSubmitted, a sparse index) and
// starts them through the same paced StartExecution as a queued message:
// the execution name is the application id, so an application whose
// message is merely late starts once either way.

// SweepOptions bound one sweep.
type SweepOptions struct {
	// Age is how long an application may stay submitted before it counts
	// as never queued (default 2 minutes: well past a normal queue wait,
	// well before a citizen gives up on their status page).
	Age time.Duration
	// Limit is how many applications one sweep takes at most (default
	// 500); the rest wait for the next sweep.
	Limit int
}

// SweepResult is what a sweep did.
type SweepResult struct {
	Backlog int `json:"backlog"` // messages in the queue: when not zero nothing else was done
	Found   int `json:"found"`   // submitted applications older than Age
	Started int `json:"started"` // executions started (or found already started with the same input)
	Running int `json:"running"` // an execution of that name exists with another input: the queue's message got there first
	Failed  int `json:"failed"`  // left for the next sweep (throttled throughout, Step Functions down)
}

// Sweep starts the executions of applications stored but never handed
// over. It needs Deps.Applications. Errors: only a failed listing; a
// failed start is counted and left for the next sweep.
func (h *Handler) Sweep(ctx context.Context, o SweepOptions) (SweepResult, error) {
	var r SweepResult
	if h.d.Applications == nil {
		return r, errors.New("sweep: no applications store configured")
	}
	if o.Age <= 0 {
		o.Age = 2 * time.Minute
	}
	if o.Limit <= 0 {
		o.Limit = 500
	}
	if h.d.Backlog != nil {
		n, err := h.d.Backlog(ctx)
		switch {
		case err != nil:
			// The queue unreachable is when applications go unqueued:
			// sweep anyway.
			h.d.Log.WarnContext(ctx, "queue backlog unknown, sweeping anyway", "step", "sweep", "err", err)
		case n > 0:
			r.Backlog = n
			return r, nil
		}
	}
	apps, err := h.d.Applications.ListSubmitted(ctx, h.d.Now().Add(-o.Age), o.Limit)
	if err != nil {
		return r, fmt.Errorf("sweep: %w", err)
	}
	r.Found = len(apps)
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, h.d.Workers)
	)
	for _, a := range apps {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := h.start(ctx, a.ID, a.Service, sweptInput(a))
			log := h.d.Log.With("applicationId", a.ID, "service", a.Service, "step", "sweep")
			if err == nil || errors.Is(err, ErrExists) {
				// Out of the sweep from now on: a long process that keeps
				// the application submitted must not fill every sweep and
				// hide a younger application that really has no execution.
				if merr := h.d.Applications.MarkStarted(ctx, a.ID); merr != nil {
					log.WarnContext(ctx, "mark swept application started", "err", merr)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				r.Started++
				log.WarnContext(ctx, "submitted application was never queued: started by the sweeper", "created", a.Created)
			case errors.Is(err, ErrExists):
				r.Running++
			default:
				r.Failed++
			}
		}()
	}
	wg.Wait()
	return r, nil
}

// sweptInput is the execution input the API would have queued, as far as
// the record keeps it: the name and age the API had from the citizen's
// token are not stored, so a process reading $citizen.name gets none.
func sweptInput(a *posluha.Application) string {
	form := a.Form
	if form == nil {
		form = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{
		"applicationId": a.ID, "service": a.Service,
		"citizen": map[string]any{"taxNumber": a.Citizen}, "form": form,
	})
	return string(b)
}

// Invoke is the Lambda entry point: an SQS batch (with Records) is
// dispatched as Handle does, {"action":"sweep"} sweeps. Anything else is
// an error, so that a wrongly wired trigger shows in the function's
// errors instead of passing silently.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records json.RawMessage `json:"Records"`
		Action  string          `json:"action"`
		Age     string          `json:"age"`
		Limit   int             `json:"limit"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("dispatcher: event is not JSON: %w", err)
	}
	switch {
	case probe.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("dispatcher: SQS event: %w", err)
		}
		return h.Handle(ctx, ev)
	case probe.Action == "sweep":
		o := SweepOptions{Limit: probe.Limit}
		if probe.Age != "" {
			d, err := time.ParseDuration(probe.Age)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("dispatcher: sweep age %q is not a positive duration", probe.Age)
			}
			o.Age = d
		}
		r, err := h.Sweep(ctx, o)
		if err == nil {
			h.d.Log.InfoContext(ctx, "sweep", "backlog", r.Backlog, "found", r.Found, "started", r.Started, "running", r.Running, "failed", r.Failed)
		}
		return r, err
	}
	return nil, errors.New(`dispatcher: neither an SQS batch nor {"action":"sweep"}`)
}
