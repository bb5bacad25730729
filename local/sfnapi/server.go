package sfnapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/posluha/posluha/local/engine"
)

// Service is what the server needs from the engine. *engine.Engine
// implements it; tests may substitute a fake. Errors that are
// *engine.APIError reach the client with their Code as the exception name;
// any other error is an internal failure (HTTP 500, logged).
type Service interface {
	CreateMachine(ctx context.Context, in engine.CreateMachineInput) (*engine.MachineOutput, error)
	UpdateMachine(ctx context.Context, arn, definition, roleARN string) (*engine.MachineOutput, error)
	DescribeMachine(ctx context.Context, arn string) (*engine.MachineOutput, error)
	ListMachines(ctx context.Context) ([]*engine.MachineOutput, error)
	DeleteMachine(ctx context.Context, arn string) error
	StartExecution(ctx context.Context, in engine.StartInput) (*engine.Execution, error)
	StartSyncExecution(ctx context.Context, in engine.StartInput) (*engine.Execution, error)
	DescribeExecution(ctx context.Context, arn string) (*engine.Execution, error)
	ListExecutionsPage(ctx context.Context, machineARN string, keep func(*engine.Execution) bool, after string, limit int) ([]*engine.Execution, string, error)
	History(ctx context.Context, arn string) ([]engine.Event, error)
	StopExecution(ctx context.Context, arn, errName, cause string) (*engine.Execution, error)
	SendTaskSuccess(ctx context.Context, token, output string) error
	SendTaskFailure(ctx context.Context, token, errName, cause string) error
	SendTaskHeartbeat(ctx context.Context, token string) error
	RedriveExecution(ctx context.Context, arn string, opts ...engine.RedriveOption) (*engine.Execution, error)
}

var _ Service = (*engine.Engine)(nil)

// TokenIndex finds the execution that waits for a task token. The engine's
// Store implements it; with it the server can tell a timed-out task
// (TaskTimedOut) from an unknown one before the engine's timer closes it.
type TokenIndex interface {
	TokenOwner(ctx context.Context, token string) (string, error)
}

// Options configure a Server. The zero value works.
type Options struct {
	// Logger receives internal errors (never request bodies); nil discards.
	Logger *slog.Logger
	// Now is the clock used to judge task deadlines; nil uses time.Now.
	// Give it the engine's clock when the engine runs on a virtual one.
	Now func() time.Time
	// Tokens, when set, enables TaskTimedOut answers (see TokenIndex).
	Tokens TokenIndex
	// TestInvoker runs Task states for TestState; nil makes them fail as
	// an engine without invoker does.
	TestInvoker engine.Invoker
	// MaxBodyBytes bounds a request body; 0 means 4 MiB (definitions may
	// be 1 MiB and inputs 256 KiB, both escaped inside JSON strings).
	MaxBodyBytes int64
	// Quotas throttle operations by name ("StartExecution": {300, 1300})
	// with ThrottlingException, so that clients' backoff can be exercised
	// locally. No entry means no limit.
	Quotas map[string]Quota
	// SyncTimeout bounds StartSyncExecution; 0 means AWS's five minutes.
	SyncTimeout time.Duration
}

// Server is the Step Functions API endpoint. It is safe for concurrent use.
type Server struct {
	svc    Service
	opts   Options
	ops    map[string]func(ctx context.Context, body []byte) (any, error)
	quotas map[string]*bucket
	// redrives answers RedriveExecution retries with the same clientToken.
	redrives idempotency
	reqs     atomic.Uint64
}

// New returns a server for svc.
func New(svc Service, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = 5 * time.Minute
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	s := &Server{svc: svc, opts: opts, quotas: map[string]*bucket{}, redrives: idempotency{ttl: 15 * time.Minute}}
	for op, q := range opts.Quotas {
		s.quotas[op] = newBucket(q)
	}
	s.ops = map[string]func(context.Context, []byte) (any, error){
		"CreateStateMachine":               handle(s.createStateMachine),
		"UpdateStateMachine":               handle(s.updateStateMachine),
		"DescribeStateMachine":             handle(s.describeStateMachine),
		"ListStateMachines":                handle(s.listStateMachines),
		"DeleteStateMachine":               handle(s.deleteStateMachine),
		"PublishStateMachineVersion":       handle(s.publishStateMachineVersion),
		"ListStateMachineVersions":         handle(s.listStateMachineVersions),
		"ValidateStateMachineDefinition":   handle(s.validateStateMachineDefinition),
		"StartExecution":                   handle(s.startExecution),
		"StartSyncExecution":               handle(s.startSyncExecution),
		"DescribeExecution":                handle(s.describeExecution),
		"DescribeStateMachineForExecution": handle(s.describeStateMachineForExecution),
		"ListExecutions":                   handle(s.listExecutions),
		"StopExecution":                    handle(s.stopExecution),
		"GetExecutionHistory":              handle(s.getExecutionHistory),
		"SendTaskSuccess":                  handle(s.sendTaskSuccess),
		"SendTaskFailure":                  handle(s.sendTaskFailure),
		"SendTaskHeartbeat":                handle(s.sendTaskHeartbeat),
		"RedriveExecution":                 handle(s.redriveExecution),
		"TestState":                        handle(s.testState),
		"ListTagsForResource":              handle(s.listTagsForResource),
	}
	return s
}

// handle adapts a typed operation to the dispatch table: it decodes the
// body into In (a SerializationException when that fails) and returns
// the operation's output for encoding.
func handle[In any, Out any](op func(ctx context.Context, in *In) (*Out, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return op(ctx, in)
	}
}

// decode reads a request body. An empty body counts as {} (the CLI sends
// nothing for operations without members); anything but one JSON object
// is a SerializationException naming the offending member when known.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &Error{Code: "SerializationException", Message: fmt.Sprintf("Unexpected value for member '%s': expected %s", te.Field, te.Type)}
		}
		return &Error{Code: "SerializationException", Message: "Malformed request body: " + err.Error()}
	}
	if dec.More() {
		return &Error{Code: "SerializationException", Message: "Malformed request body: data after the JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Code: "SerializationException", Message: "Malformed request body: data after the JSON object"}
	}
	return nil
}

// Handler returns the HTTP handler; mount it at the endpoint root.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

const targetPrefix = "AWSStepFunctions."

// unsupported are Step Functions operations the local engine has no
// model for (activities, aliases, map runs, tags); they get a message
// that says so instead of "unknown".
var unsupported = map[string]bool{
	"CreateActivity": true, "DeleteActivity": true, "DescribeActivity": true, "ListActivities": true, "GetActivityTask": true,
	"CreateStateMachineAlias": true, "DeleteStateMachineAlias": true, "DescribeStateMachineAlias": true,
	"ListStateMachineAliases": true, "UpdateStateMachineAlias": true, "DeleteStateMachineVersion": true,
	"DescribeMapRun": true, "ListMapRuns": true, "UpdateMapRun": true, "TagResource": true, "UntagResource": true,
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := strconv.FormatUint(s.reqs.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	w.Header().Set("X-Amzn-RequestId", reqID)
	if r.Method != http.MethodPost {
		s.writeError(w, r, &Error{Code: "UnknownOperationException", Message: "Step Functions operations are POST requests to /", status: http.StatusMethodNotAllowed})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	op := s.ops[name]
	if !ok || op == nil {
		msg := fmt.Sprintf("Unknown operation: '%s'", target)
		if ok && unsupported[name] {
			msg = fmt.Sprintf("%s is not supported by the local Step Functions engine", name)
		}
		s.writeError(w, r, &Error{Code: "UnknownOperationException", Message: msg})
		return
	}
	if b := s.quotas[name]; b != nil && !b.take(s.opts.Now()) {
		s.writeError(w, r, &Error{Code: "ThrottlingException", Message: "Rate exceeded"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.writeError(w, r, &Error{Code: "ValidationException", Message: fmt.Sprintf("Request body exceeds %d bytes", mb.Limit), status: http.StatusRequestEntityTooLarge})
			return
		}
		s.writeError(w, r, &Error{Code: "SerializationException", Message: "Cannot read request body"})
		return
	}
	start := time.Now()
	out, err := s.call(r.Context(), name, op, body)
	if s.opts.Logger.Enabled(r.Context(), slog.LevelDebug) {
		// Operation, outcome and duration only: bodies carry personal data.
		s.opts.Logger.DebugContext(r.Context(), "step functions api", "op", name, "error", code(err), "duration", time.Since(start), "requestId", reqID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("encode %s response: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// call runs one operation. A panic below (a bug, never input we accept)
// becomes an internal failure instead of killing the connection, so one
// bad request cannot take the local stack down.
func (s *Server) call(ctx context.Context, name string, op func(context.Context, []byte) (any, error), body []byte) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", name, p)
		}
	}()
	return op(ctx, body)
}

// Error is an API error as the client sees it: Code is the exception
// name (__type), Message the text.
type Error struct {
	Code    string
	Message string
	status  int // 0 means 400
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeError renders err in the AWS JSON error shape. Engine API errors
// and our own are client errors (400); anything else is internal: logged
// here, the client sees no detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, status := "InternalFailure", "An internal error occurred", http.StatusInternalServerError
	var e *Error
	var ae *engine.APIError
	switch {
	case errors.As(err, &e):
		code, msg, status = e.Code, e.Message, http.StatusBadRequest
		if e.status != 0 {
			status = e.status
		}
	case errors.As(err, &ae):
		code, msg, status = ae.Code, ae.Message, http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code, msg, status = "RequestTimeout", "The request was cancelled before it completed", http.StatusRequestTimeout
	default:
		s.opts.Logger.ErrorContext(r.Context(), "step functions api", "target", r.Header.Get("X-Amz-Target"), "err", err)
	}
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// epoch renders a time as AWS's JSON protocol does: seconds since the
// epoch with a millisecond fraction. The zero time is 0 so that
// `omitempty` drops it.
func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}
