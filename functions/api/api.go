package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/posluha/posluha"
)

// Queue hands accepted applications to the dispatcher (SQS).
type Queue interface {
	// Send enqueues the execution input of one application; the body is
	// the JSON of Message. Errors: the transport's, wrapped.
	Send(ctx context.Context, applicationID string, body []byte) error
}

// Executions is the part of Step Functions the API drives.
type Executions interface {
	// Stop stops the execution of the service's state machine named after
	// the application; an execution that does not exist (not started yet)
	// or has finished is not an error.
	Stop(ctx context.Context, service, applicationID, cause string) error
	// SendTaskSuccess completes a waiting task. Errors:
	// Application.NotFound when the task no longer waits.
	SendTaskSuccess(ctx context.Context, token, output string) error
}

// Signatures takes the CMS signatures the citizens' signing apps produce
// (implemented by the sign function's package). Submit verifies the
// signature against the signing request (hash and signer) and completes the
// waiting sign task. Errors: Application.NotFound for an unknown request,
// Signature.Invalid, Signature.Expired.
type Signatures interface {
	// Signer returns the application and the signer (tax number) of a
	// signing request. Errors: Application.NotFound.
	Signer(ctx context.Context, requestID string) (applicationID, taxNumber string, err error)
	Submit(ctx context.Context, requestID string, cms []byte) error
}

// Documents makes short-lived download links for stored documents.
type Documents interface {
	// Link returns a presigned GET URL for the object key.
	Link(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Deps are the handler's collaborators. Services, Applications and Queue
// are required; a missing optional one makes its routes answer 503.
type Deps struct {
	Services      []*posluha.Service
	Applications  posluha.Applications
	Notifications posluha.Notifications
	Awaits        posluha.Awaits
	Queue         Queue
	Executions    Executions
	Signatures    Signatures
	Documents     Documents
	// Limits are the per-caller request rates; zero values take defaults.
	Limits Limits
	// LinkTTL is how long download links live (default 5 minutes).
	LinkTTL time.Duration
	// MaxBody bounds request bodies (default 64 KiB); larger is 413.
	MaxBody int64
	Now     func() time.Time
	// NewID returns a fresh application id when the request has no
	// Idempotency-Key (default: random, time-ordered).
	NewID func() string
	Log   *slog.Logger
}

// Handler serves the API.
type Handler struct {
	d       Deps
	catalog *catalog
	spec    *spec
	limiter *limiter
	mux     *http.ServeMux
	adapter *httpadapter.HandlerAdapterV2
	linkTTL time.Duration
	maxBody int64
}

// New builds the handler. It fails when the OpenAPI document, a form
// schema or an eligibility rule does not compile.
func New(d Deps) (*Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.NewID == nil {
		d.NewID = newID
	}
	if d.Applications == nil || d.Queue == nil {
		return nil, fmt.Errorf("api: Applications and Queue are required")
	}
	cat, err := newCatalog(d.Services)
	if err != nil {
		return nil, err
	}
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	h := &Handler{d: d, catalog: cat, spec: sp, limiter: newLimiter(d.Limits, d.Now), linkTTL: d.LinkTTL, maxBody: d.MaxBody}
	if h.linkTTL <= 0 {
		h.linkTTL = 5 * time.Minute
	}
	if h.maxBody <= 0 {
		h.maxBody = 64 << 10
	}
	h.routes()
	h.adapter = httpadapter.NewV2(h)
	return h, nil
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /openapi.json", h.openAPI)
	m.HandleFunc("GET /services", h.listServices)
	m.HandleFunc("GET /services/{serviceId}", h.getService)
	m.HandleFunc("GET /services/{serviceId}/form", h.getForm)
	m.HandleFunc("POST /applications", h.authed(h.submit))
	m.HandleFunc("GET /applications", h.authed(h.listApplications))
	m.HandleFunc("GET /applications/{applicationId}", h.authed(h.getApplication))
	m.HandleFunc("POST /applications/{applicationId}/cancel", h.authed(h.cancel))
	m.HandleFunc("POST /applications/{applicationId}/signatures", h.authed(h.sign))
	m.HandleFunc("POST /applications/{applicationId}/answers", h.authed(h.answer))
	m.HandleFunc("GET /applications/{applicationId}/documents", h.authed(h.documents))
	m.HandleFunc("GET /notifications", h.authed(h.notifications))
	h.mux = m
}

// ServeHTTP validates the request against the OpenAPI document and routes
// it. The caller's identity comes from the API Gateway request context
// (see package doc); plain net/http requests without one are anonymous.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			// Never crash the function on a bug; the caller gets a bare 500.
			h.d.Log.ErrorContext(r.Context(), "panic in api handler", "panic", fmt.Sprint(v))
			h.writeError(w, r, posluha.Errorf(posluha.ErrInternal, "internal error"))
		}
	}()
	if t := r.Header.Get("X-Amzn-Trace-Id"); t != "" {
		r = r.WithContext(context.WithValue(r.Context(), traceKey{}, t))
	}
	if err := h.spec.validate(w, r, h.maxBody); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Lambda returns the function the bootstrap passes to lambda.Start (and
// the local gateway invokes in-process): API Gateway HTTP API payload 2.0
// in and out.
func (h *Handler) Lambda() func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return h.adapter.ProxyWithContext
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"type":"about:blank","title":"Internal error","status":500}`)
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(b)
}

type traceKey struct{}

// TraceHeader is the X-Ray trace header of the request being served
// (X-Amzn-Trace-Id), or "".
func TraceHeader(ctx context.Context) string {
	t, _ := ctx.Value(traceKey{}).(string)
	return t
}

// PublicRoutes are the routes without the JWT authorizer (the catalogue
// and this document), as the local gateway's Options.Public and the
// HttpApi's route settings take them.
func PublicRoutes() []string {
	return []string{"GET /openapi.json", "GET /services"}
}
