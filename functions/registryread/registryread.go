// Package registryread is the External Reader Lambda: it reads a state
// registry through a connector template and returns the mapped response.
// Every read leaves an audit record (who asked, for which application,
// which registry, when, the outcome), because personal data is read only
// for a purpose; payloads never reach logs or audit records.
package registryread

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/connectors"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/query/value"
)

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

// Deps are what the handler needs.
type Deps struct {
	Connectors Connectors
	Audit      Auditor
	Log        *slog.Logger
	// Now is the clock of audit records; time.Now when nil.
	Now func() time.Time
	// Principal names who reads in audit records (the function's identity).
	Principal string
}

// Handler handles registry.read tasks.
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
	if d.Principal == "" {
		d.Principal = "registryread"
	}
	return &Handler{d: d}
}

// Handle reads the registry named by req.Connector with req.Arguments and
// returns the mapped response as JSON. The audit record is written before
// the data is returned; when it cannot be written, the data is not
// returned either.
//
// Errors: Task.Invalid, Registry.Unavailable, Registry.BadRequest,
// Registry.NotFound, Registry.BadResponse, and Internal when the audit
// record cannot be written.
func (h *Handler) Handle(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.Connector == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "connector is required")
	}
	t, ok := h.d.Connectors.Template(req.Connector)
	if !ok {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "unknown connector %q", req.Connector)
	}
	if t.Write {
		// Writes belong to eventwrite, which parks them through long
		// outages; the reader only reads.
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "connector %q writes: use an event.write task", req.Connector)
	}
	start := h.d.Now()
	res, callErr := h.d.Connectors.Call(ctx, req.Connector, connector.Args{
		ApplicationID: req.ApplicationID, Service: req.Service, Step: req.Step, Arguments: req.Arguments,
	}, req.IdempotencyKey())
	took := h.d.Now().Sub(start)
	outcome := "ok"
	if callErr != nil {
		outcome = posluha.ErrorName(callErr)
	}
	log := h.d.Log.With("applicationId", req.ApplicationID, "service", req.Service, "step", req.Step)
	rec := Record{
		Time: start.UTC(), Principal: h.d.Principal, ApplicationID: req.ApplicationID, Service: req.Service,
		Step: req.Step, Attempt: req.Attempt, Connector: req.Connector, Registry: t.Registry,
		Outcome: outcome, DurationMS: took.Milliseconds(),
	}
	if err := h.d.Audit.Record(ctx, rec); err != nil {
		return nil, fmt.Errorf("audit record of %s: %w", req.Connector, err)
	}
	// The one log line of the call: names and outcome, never the payload.
	log.InfoContext(ctx, "registry read", "connector", req.Connector, "registry", t.Registry,
		"attempt", req.Attempt, "outcome", outcome, "durationMs", took.Milliseconds())
	if callErr != nil {
		return nil, callErr
	}
	v, err := value.FromGo(res)
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: result outside JSON", req.Connector)
	}
	return json.RawMessage(value.Marshal(v)), nil
}

// Lambda returns the handler as the Lambda runtime must run it: errors
// converted by lambdaerr, so that Step Functions sees their names. The
// bootstrap binary and the local stack register this same function.
func (h *Handler) Lambda() func(context.Context, posluha.TaskRequest) (json.RawMessage, error) {
	return lambdaerr.Handler(h.d.Log, h.Handle)
}

// Wire builds the handler from the environment: the connector templates
// compiled into the binary (or POSLUHA_CONNECTORS_DIR), endpoint overrides
// and mTLS references from getenv. Audit records go to log until the
// DynamoDB audit table lands.
func Wire(ctx context.Context, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	var fsys fs.FS = connectors.FS
	if dir := getenv("POSLUHA_CONNECTORS_DIR"); dir != "" {
		fsys = os.DirFS(dir)
	}
	ts, err := connector.LoadFS(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("load connectors: %w", err)
	}
	set, err := connector.New(ts, connector.Options{Getenv: getenv})
	if err != nil {
		return nil, fmt.Errorf("prepare connectors: %w", err)
	}
	principal := getenv("AWS_LAMBDA_FUNCTION_NAME")
	return New(Deps{Connectors: set, Audit: NewMemoryAudit(log), Log: log, Principal: principal}), nil
}
