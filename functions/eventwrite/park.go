package eventwrite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/dynamo"
)

// Outcomes of retrying a parked write.
const (
	OutcomeResumed = "resumed" // written; the task was completed with the response
	OutcomeParked  = "parked"  // the registry is still unavailable
	OutcomeFailed  = "failed"  // the registry refused it; the task was failed with the error name
	OutcomeGone    = "gone"    // written or refused, but nobody waits any more (task timed out)
)

// ResumeReport counts what one ResumeParked sweep did.
type ResumeReport struct {
	Resumed int `json:"resumed"`
	Parked  int `json:"parked"` // still parked, tried or skipped
	Failed  int `json:"failed"`
	Gone    int `json:"gone"`
	Errors  int `json:"errors"` // could not be tried (store or SFN trouble); stays parked
}

// ResumeParked retries every parked write, oldest first. A registry that
// is still unavailable is tried once per sweep: its other writes wait for
// the next sweep without a call. The stack runs it periodically.
//
// Errors: the list of parked writes cannot be read. Trouble with one
// write is counted in the report and logged; the sweep goes on.
func (h *Handler) ResumeParked(ctx context.Context) (ResumeReport, error) {
	var r ResumeReport
	if h.d.Parking == nil || h.d.SFN == nil {
		return r, nil
	}
	ps, err := h.d.Parking.List(ctx)
	if err != nil {
		return r, fmt.Errorf("list parked writes: %w", err)
	}
	down := map[string]bool{}
	for _, p := range ps {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if down[p.Registry] {
			r.Parked++
			continue
		}
		outcome, err := h.retry(ctx, p)
		if err != nil {
			r.Errors++
			h.d.Log.ErrorContext(ctx, "resume parked write", "applicationId", p.Request.ApplicationID,
				"service", p.Request.Service, "step", p.Request.Step, "err", err)
			continue
		}
		switch outcome {
		case OutcomeResumed:
			r.Resumed++
		case OutcomeParked:
			r.Parked++
			down[p.Registry] = true
		case OutcomeFailed:
			r.Failed++
		case OutcomeGone:
			r.Gone++
		}
	}
	return r, nil
}

// Parked returns the parked writes, oldest first, for support staff. They
// hold the task's arguments, which are personal data: show, don't log.
func (h *Handler) Parked(ctx context.Context) ([]*dynamo.ParkedWrite, error) {
	if h.d.Parking == nil {
		return nil, nil
	}
	return h.d.Parking.List(ctx)
}

// Resend retries the write parked under key now, on support's request.
// Non-nil arguments replace the parked ones (the data was fixed); nil
// keeps them. It returns the outcome (OutcomeResumed, …).
//
// Errors: Application.NotFound when nothing is parked under key, and
// store or SFN failures.
func (h *Handler) Resend(ctx context.Context, key string, arguments map[string]any) (string, error) {
	if h.d.Parking == nil || h.d.SFN == nil {
		return "", posluha.Errorf(posluha.ErrApplicationNotFound, "no write parked as %s", key)
	}
	p, err := h.d.Parking.Get(ctx, key)
	if err != nil {
		return "", err
	}
	if arguments != nil {
		arguments = maps.Clone(arguments)
		if park, ok := p.Request.Arguments["parkOnOutage"]; ok {
			arguments["parkOnOutage"] = park
		}
		p.Request.Arguments = arguments
	}
	h.d.Log.InfoContext(ctx, "parked write resent by support", "applicationId", p.Request.ApplicationID,
		"service", p.Request.Service, "step", p.Request.Step, "argumentsChanged", arguments != nil)
	return h.retry(ctx, p)
}

// retry tries one parked write and settles it.
func (h *Handler) retry(ctx context.Context, p *dynamo.ParkedWrite) (string, error) {
	req := p.Request
	out, werr := h.write(ctx, req)
	name := posluha.ErrorName(werr)
	switch {
	case werr == nil:
		err := h.d.SFN.SendTaskSuccess(ctx, req.TaskToken, string(out))
		if gone(err) {
			return OutcomeGone, h.d.Parking.Remove(ctx, p.Key, req.TaskToken)
		}
		if err != nil {
			return "", fmt.Errorf("complete task %s: %w", p.Key, err)
		}
		h.d.Log.InfoContext(ctx, "parked write resumed", "applicationId", req.ApplicationID, "service", req.Service,
			"step", req.Step, "connector", req.Connector, "attempts", p.Attempts+1)
		return OutcomeResumed, h.d.Parking.Remove(ctx, p.Key, req.TaskToken)
	case name == posluha.ErrRegistryUnavailable:
		p.Attempts++
		p.Tried = h.d.Now().UTC()
		p.LastError = name
		err := h.d.Parking.Put(ctx, p, req.TaskToken)
		if posluha.ErrorName(err) == posluha.ErrApplicationConflict {
			return OutcomeParked, nil // parked again meanwhile: the newer park stands
		}
		if err != nil {
			return "", err
		}
		return OutcomeParked, nil
	case strings.HasPrefix(name, "Registry.") || name == posluha.ErrTaskInvalid:
		err := h.d.SFN.SendTaskFailure(ctx, req.TaskToken, name, posluha.ErrorMessage(werr))
		if gone(err) {
			return OutcomeGone, h.d.Parking.Remove(ctx, p.Key, req.TaskToken)
		}
		if err != nil {
			return "", fmt.Errorf("fail task %s: %w", p.Key, err)
		}
		h.d.Log.WarnContext(ctx, "parked write refused", "applicationId", req.ApplicationID, "service", req.Service,
			"step", req.Step, "connector", req.Connector, "error", name)
		return OutcomeFailed, h.d.Parking.Remove(ctx, p.Key, req.TaskToken)
	}
	// Our own trouble (the effects table): keep it parked for the next sweep.
	return "", werr
}

// gone reports whether an SFN error says the task no longer waits.
func gone(err error) bool {
	var e *posluha.Error
	return errors.As(err, &e) && e.Name == posluha.ErrApplicationNotFound
}
