// Package console is the support console as a Lambda behind the HttpApi
// (payload 2.0, through aws-lambda-go-api-proxy): the same HTTP handler
// the local stack serves (functions/console/support), on the DynamoDB projection that
// functions/projection fills, the DynamoDB audit log, and Step Functions
// through functions/internal/executions.
//
// # Differences from the local stack
//
//   - Sign-in and tokens. The HttpApi's JWT authorizer reads only the
//     Authorization header, and the console page keeps its session in an
//     HttpOnly cookie it never reads, so the console's routes are on the
//     HttpApi without the authorizer and this function verifies every
//     token itself, as the authorizer would: RS256 signature against the
//     issuer's JWKS, issuer, audience, expiry (OIDC_ISSUER,
//     OIDC_AUDIENCE, OIDC_JWKS_URL). Claims an authorizer did pass (a
//     route configured with one) are used as they are. The support role
//     is checked by the console in both cases.
//   - Fix the data and resend edits the failed task's arguments, not a
//     thread's input and variables: Step Functions has no API that changes
//     a failed execution's data. Opening a failed application shows the
//     arguments of the task payload (posluha.TaskRequest) the failed Task
//     state last sent, with its step; resend validates the edit (a JSON
//     object), stores it in the overrides table (OVERRIDES_TABLE,
//     functions/internal/override) under applicationId + step with who
//     and when, and redrives. The redriven state invokes the Lambda with
//     the old payload; registryread and eventwrite find the override and
//     run with its arguments, on this and every later run of the step
//     (until a new resend replaces it). The audit entry holds the
//     arguments before and after. Without OVERRIDES_TABLE, and for a
//     failed state that is not a task Lambda, resend answers 501.
//   - The failed step's data comes from one GetExecutionHistory call when
//     support opens a failed application (audited), never from polling:
//     the lists and counts read the projection only.
//   - Writes show up when the projection Lambda has applied their events
//     (usually within a second): there is no bus to wait for.
//   - Diagrams are the services' process.bpmn as deployed (embedded).
//     bpmn-js, which draws them, is served from the bpmn-js folder next
//     to the bootstrap (make lambdas copies node_modules/bpmn-js/dist
//     there; Lambda unpacks the package in LAMBDA_TASK_ROOT). Without it
//     the page shows the counts without the diagram: sam build's go1.x
//     builder packages the bootstrap only, so deploy the console from
//     make lambdas' bin/lambdas/console to get the diagram.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/executions"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/jwks"
	"github.com/posluha/posluha/statemachines"
)

// Handler is the Lambda handler.
type Handler struct {
	adapter *httpadapter.HandlerAdapterV2
}

// New wraps the console built from d.
func New(d support.Deps) *Handler {
	return &Handler{adapter: httpadapter.NewV2(support.New(d).Handler())}
}

// Lambda is the function lambda.Start takes.
func (h *Handler) Lambda() func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return h.adapter.ProxyWithContext
}

// Verifier admits the claims of an HttpApi JWT authorizer when the
// request went through one, and otherwise verifies the token itself with
// Tokens (the session cookie's token arrives here as a bearer token).
type Verifier struct {
	Tokens support.Verifier
}

// ErrNoToken: neither authorizer claims nor a token verifier.
var ErrNoToken = errors.New("console: no verified token")

// Verify implements support.Verifier.
func (v *Verifier) Verify(ctx context.Context, authorization string) (jwt.MapClaims, error) {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok && rc.Authorizer != nil && rc.Authorizer.JWT != nil && len(rc.Authorizer.JWT.Claims) > 0 {
		claims := jwt.MapClaims{}
		for k, val := range rc.Authorizer.JWT.Claims {
			claims[k] = val
		}
		return claims, nil
	}
	if v.Tokens == nil {
		return nil, ErrNoToken
	}
	return v.Tokens.Verify(ctx, authorization)
}

// SFNExecutions adapts functions/internal/executions to the console's
// actions.
type SFNExecutions struct {
	X *executions.Executions
}

var _ support.Executions = (*SFNExecutions)(nil)

// Redrive implements support.Executions.
func (e *SFNExecutions) Redrive(ctx context.Context, arn string) error { return e.X.Redrive(ctx, arn) }

// Stop implements support.Executions.
func (e *SFNExecutions) Stop(ctx context.Context, arn, errName, cause string) error {
	return e.X.Stop(ctx, arn, errName, cause)
}

// FailedData implements support.Executions: the failed task's arguments
// (or the failed state's input when it is no task Lambda); Step
// Functions' history has no thread and no variables.
func (e *SFNExecutions) FailedData(ctx context.Context, arn string) (*support.StepData, error) {
	d, err := e.X.FailedData(ctx, arn)
	if err != nil {
		return nil, err
	}
	return &support.StepData{State: d.State, Input: d.Input, Variables: []byte(`{}`), Step: d.Step, ApplicationID: d.ApplicationID}, nil
}

// Resend implements support.Executions: d.Input becomes the failed task's
// arguments (see the package doc). Errors: InvalidExecutionInput (not a
// JSON object, or variables, which Step Functions does not have),
// NotSupported, and executions.Resend's.
func (e *SFNExecutions) Resend(ctx context.Context, arn string, d *support.StepData) error {
	var vars map[string]json.RawMessage
	if len(d.Variables) > 0 && (json.Unmarshal(d.Variables, &vars) != nil || len(vars) > 0) {
		return &posluha.Error{Name: executions.ErrInvalidInput, Message: "Step Functions keeps no variables to correct: edit the task's arguments"}
	}
	return e.X.Resend(ctx, arn, &executions.StepData{State: d.State, ApplicationID: d.ApplicationID, Step: d.Step}, d.Input, d.By)
}

// Diagrams returns a service's deployed process.bpmn from fsys (a service
// folder per id, as statemachines.FS).
func Diagrams(fsys fs.FS) func(ctx context.Context, service string) ([]byte, error) {
	return func(_ context.Context, service string) ([]byte, error) {
		if service == "." || !fs.ValidPath(service) || path.Base(service) != service {
			return nil, fs.ErrNotExist
		}
		return fs.ReadFile(fsys, service+"/process.bpmn")
	}
}

// BPMNJS is the bpmn-js folder make lambdas puts next to the bootstrap
// in taskRoot (LAMBDA_TASK_ROOT), or "" when it is not there (a package
// built without it): the page then shows counts without the diagram,
// which is logged once at start.
func BPMNJS(taskRoot string, log *slog.Logger) string {
	if taskRoot == "" {
		return ""
	}
	dir := filepath.Join(taskRoot, "bpmn-js")
	if _, err := os.Stat(filepath.Join(dir, "bpmn-viewer.production.min.js")); err != nil {
		log.Warn("console: bpmn-js is not in the package; the page draws no diagram", "dir", dir, "err", err)
		return ""
	}
	return dir
}

// Wire builds the handler from the environment: PROJECTION_TABLE,
// AUDIT_TABLE, OIDC_ISSUER and OIDC_AUDIENCE (OIDC_JWKS_URL when the keys
// are not at the issuer's /jwks), and the applications table
// (dynamo.TablesFromEnv), where cancel and redrive record the status;
// OVERRIDES_TABLE, when set, makes fix the data and resend possible.
func Wire(_ context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	need := map[string]string{}
	for _, k := range []string{"PROJECTION_TABLE", "AUDIT_TABLE", "OIDC_ISSUER", "OIDC_AUDIENCE"} {
		if need[k] = getenv(k); need[k] == "" {
			return nil, fmt.Errorf("%s is not set", k)
		}
	}
	db := dynamodb.NewFromConfig(cfg)
	tokens := &jwks.Verifier{Issuer: need["OIDC_ISSUER"], Audience: need["OIDC_AUDIENCE"], URL: getenv("OIDC_JWKS_URL")}
	var apps posluha.Applications = dynamo.NewApplications(db, dynamo.TablesFromEnv(getenv).Applications)
	x := executions.New(sfn.NewFromConfig(cfg))
	if name := getenv("OVERRIDES_TABLE"); name != "" {
		x.Overrides = &override.Table{Client: db, Name: name}
	}
	return New(support.Deps{
		Projection:   &support.DynamoProjection{Client: db, Table: need["PROJECTION_TABLE"]},
		Audit:        &support.DynamoAudit{Client: db, Table: need["AUDIT_TABLE"]},
		Executions:   &SFNExecutions{X: x},
		Verifier:     &Verifier{Tokens: tokens},
		Issuer:       need["OIDC_ISSUER"],
		Diagram:      Diagrams(statemachines.FS),
		BPMNJS:       BPMNJS(getenv("LAMBDA_TASK_ROOT"), log),
		Log:          log,
		Applications: apps,
	}), nil
}
