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
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/connectors"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/functions/internal/stepevents"
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
	// Steps reports the step of each task to the console's projection
	// (stepevents.FromEnv: STEP_EVENTS, AWS only); nil: off.
	Steps stepevents.Notifier
	// Overrides holds support's corrected arguments (override.FromEnv:
	// OVERRIDES_TABLE, AWS only); nil: the payload's arguments are used.
	Overrides override.Source
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
// Registry.NotFound, Registry.BadResponse; Registry.Unavailable also when
// the audit record cannot be written (retryable: a read repeats safely).
func (h *Handler) Handle(ctx context.Context, req posluha.TaskRequest) (json.RawMessage, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if _, err := override.Apply(ctx, h.d.Overrides, h.d.Log, &req); err != nil {
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
	stepevents.Enter(ctx, h.d.Steps, h.d.Log, &req)
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
		// Data read without a record of it must not leave: the caller
		// retries the whole read.
		log.ErrorContext(ctx, "audit record not stored", "connector", req.Connector, "err", err)
		return nil, fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: the read's audit record was not stored", req.Connector), err)
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
// and mTLS references from getenv; registry limits shared through the
// DynamoDB table LIMITS_TABLE (POSLUHA_LIMITER=local: in-process only) and
// audit records in READ_AUDIT_TABLE, both through cfg.
// READ_AUDIT_RETENTION_DAYS, when set, makes records expire (TTL).
// OVERRIDES_TABLE, when set, holds support's corrected arguments, read
// at the start of every task.
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	var fsys fs.FS = connectors.FS
	if dir := getenv("POSLUHA_CONNECTORS_DIR"); dir != "" {
		fsys = os.DirFS(dir)
	}
	ts, err := connector.LoadFS(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("load connectors: %w", err)
	}
	db := dynamo.NewClientFromConfig(cfg)
	limiter, err := dynamo.LimiterFromEnv(db, getenv, log)
	if err != nil {
		return nil, err
	}
	set, err := connector.New(ts, connector.Options{Getenv: getenv, Limiter: limiter})
	if err != nil {
		return nil, fmt.Errorf("prepare connectors: %w", err)
	}
	audit := dynamo.NewReadAudit(db, dynamo.TablesFromEnv(getenv).ReadAudit)
	if v := getenv("READ_AUDIT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return nil, fmt.Errorf("READ_AUDIT_RETENTION_DAYS: %q is not a positive number of days", v)
		}
		audit.Retention = time.Duration(days) * 24 * time.Hour
	}
	principal := getenv("AWS_LAMBDA_FUNCTION_NAME")
	return New(Deps{Connectors: set, Audit: &DynamoAudit{Table: audit}, Log: log, Principal: principal,
		Steps: stepevents.FromEnv(cfg, getenv), Overrides: override.FromEnv(db, getenv)}), nil
}
