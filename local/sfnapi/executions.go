package sfnapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

const (
	maxPayloadLen = 256 * 1024
	maxTokenLen   = 2048
)

var executionKinds = []string{"execution", "express"}

type startExecutionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
	TraceHeader     string `json:"traceHeader"`
	IncludedData    string `json:"includedData"`
}

type startExecutionOutput struct {
	ExecutionArn string  `json:"executionArn"`
	StartDate    float64 `json:"startDate"`
}

func (in *startExecutionInput) check() error {
	if _, _, err := machineARN(in.StateMachineArn, "stateMachineArn"); err != nil {
		return err
	}
	switch {
	case len(in.Name) > maxNameLen:
		return tooLong("name", maxNameLen)
	case len(in.Input) > maxPayloadLen:
		return tooLong("input", maxPayloadLen)
	case len(in.TraceHeader) > 256:
		return tooLong("traceHeader", 256)
	}
	return nil
}

func (s *Server) startExecution(ctx context.Context, in *startExecutionInput) (*startExecutionOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	// The execution outlives the request: a client that hangs up after
	// sending must not cancel the (idempotent) start half-way.
	x, err := s.svc.StartExecution(context.WithoutCancel(ctx), engine.StartInput{
		MachineARN: in.StateMachineArn, Name: in.Name, Input: in.Input, TraceHeader: in.TraceHeader,
	})
	if err != nil {
		return nil, err
	}
	return &startExecutionOutput{ExecutionArn: x.ARN, StartDate: epoch(x.StartTime)}, nil
}

type cloudWatchEventsExecutionDataDetails struct {
	Included bool `json:"included"`
}

type billingDetails struct {
	BilledMemoryUsedInMB         int64 `json:"billedMemoryUsedInMB"`
	BilledDurationInMilliseconds int64 `json:"billedDurationInMilliseconds"`
}

type startSyncExecutionOutput struct {
	ExecutionArn    string                                `json:"executionArn"`
	StateMachineArn string                                `json:"stateMachineArn,omitempty"`
	Name            string                                `json:"name,omitempty"`
	StartDate       float64                               `json:"startDate"`
	StopDate        float64                               `json:"stopDate"`
	Status          string                                `json:"status"`
	Error           *string                               `json:"error,omitempty"`
	Cause           *string                               `json:"cause,omitempty"`
	Input           *string                               `json:"input,omitempty"`
	InputDetails    *cloudWatchEventsExecutionDataDetails `json:"inputDetails,omitempty"`
	Output          *string                               `json:"output,omitempty"`
	OutputDetails   *cloudWatchEventsExecutionDataDetails `json:"outputDetails,omitempty"`
	TraceHeader     string                                `json:"traceHeader,omitempty"`
	BillingDetails  *billingDetails                       `json:"billingDetails,omitempty"`
}

func (s *Server) startSyncExecution(ctx context.Context, in *startExecutionInput) (*startSyncExecutionOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	if err := checkIncludedData(in.IncludedData); err != nil {
		return nil, err
	}
	m, err := s.svc.DescribeMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if m.Type != "EXPRESS" {
		return nil, errf("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine: '%s'", in.StateMachineArn)
	}
	// Express executions are bounded (five minutes in AWS); one that runs
	// longer is stopped and reported as timed out, so a stuck definition
	// cannot hold a connection and a goroutine forever.
	runCtx, cancel := context.WithTimeout(ctx, s.opts.SyncTimeout)
	defer cancel()
	x, err := s.svc.StartSyncExecution(runCtx, engine.StartInput{
		MachineARN: in.StateMachineArn, Name: in.Name, Input: in.Input, TraceHeader: in.TraceHeader,
	})
	timedOut := false
	if err != nil && x != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		stopped, serr := s.svc.StopExecution(context.WithoutCancel(ctx), x.ARN, "States.Timeout", "The execution exceeded the synchronous execution time limit")
		if serr != nil {
			return nil, fmt.Errorf("stop timed-out express execution %s: %w", x.ARN, serr)
		}
		x, err, timedOut = stopped, nil, true
	}
	if err != nil {
		return nil, err
	}
	out := &startSyncExecutionOutput{
		ExecutionArn: x.ARN, StateMachineArn: x.MachineARN, Name: x.Name, StartDate: epoch(x.StartTime),
		StopDate: epoch(x.StopTime), Status: x.Status, TraceHeader: x.TraceHeader,
	}
	if timedOut {
		out.Status = "TIMED_OUT"
	}
	if x.HasError {
		out.Error = &x.Error
	}
	if x.HasCause {
		out.Cause = &x.Cause
	}
	data := in.IncludedData != "METADATA_ONLY"
	if data {
		input := value.String(x.Input.V)
		out.Input, out.InputDetails = &input, &cloudWatchEventsExecutionDataDetails{true}
		if x.HasOutput {
			output := value.String(x.Output.V)
			out.Output, out.OutputDetails = &output, &cloudWatchEventsExecutionDataDetails{true}
		}
	}
	// Express bills per started 100 ms at the smallest memory tier.
	ms := x.StopTime.Sub(x.StartTime).Milliseconds()
	out.BillingDetails = &billingDetails{BilledMemoryUsedInMB: 64, BilledDurationInMilliseconds: (ms/100 + 1) * 100}
	return out, nil
}

func checkIncludedData(v string) error {
	switch v {
	case "", "ALL_DATA", "METADATA_ONLY":
		return nil
	}
	return notInEnum("includedData", v, "ALL_DATA", "METADATA_ONLY")
}

type executionInput struct {
	ExecutionArn string `json:"executionArn"`
	IncludedData string `json:"includedData"`
}

type describeExecutionOutput struct {
	ExecutionArn           string                                `json:"executionArn"`
	StateMachineArn        string                                `json:"stateMachineArn"`
	Name                   string                                `json:"name"`
	Status                 string                                `json:"status"`
	StartDate              float64                               `json:"startDate"`
	StopDate               float64                               `json:"stopDate,omitempty"`
	Input                  *string                               `json:"input,omitempty"`
	InputDetails           *cloudWatchEventsExecutionDataDetails `json:"inputDetails,omitempty"`
	Output                 *string                               `json:"output,omitempty"`
	OutputDetails          *cloudWatchEventsExecutionDataDetails `json:"outputDetails,omitempty"`
	TraceHeader            string                                `json:"traceHeader,omitempty"`
	Error                  *string                               `json:"error,omitempty"`
	Cause                  *string                               `json:"cause,omitempty"`
	StateMachineVersionArn string                                `json:"stateMachineVersionArn,omitempty"`
	RedriveCount           int                                   `json:"redriveCount"`
	RedriveDate            float64                               `json:"redriveDate,omitempty"`
	RedriveStatus          string                                `json:"redriveStatus"`
	RedriveStatusReason    string                                `json:"redriveStatusReason,omitempty"`
}

func (s *Server) describeExecution(ctx context.Context, in *executionInput) (*describeExecutionOutput, error) {
	if _, _, err := arnParts(in.ExecutionArn, "executionArn", executionKinds...); err != nil {
		return nil, err
	}
	if err := checkIncludedData(in.IncludedData); err != nil {
		return nil, err
	}
	x, err := s.svc.DescribeExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	out := &describeExecutionOutput{
		ExecutionArn: x.ARN, StateMachineArn: x.MachineARN, Name: x.Name, Status: x.Status,
		StartDate: epoch(x.StartTime), StopDate: epoch(x.StopTime), TraceHeader: x.TraceHeader,
		RedriveCount: x.RedriveCount, RedriveDate: epoch(x.RedriveTime),
	}
	if x.Version > 0 {
		out.StateMachineVersionArn = x.MachineARN + ":" + strconv.Itoa(x.Version)
	}
	if in.IncludedData != "METADATA_ONLY" {
		input := value.String(x.Input.V)
		out.Input, out.InputDetails = &input, &cloudWatchEventsExecutionDataDetails{true}
		if x.HasOutput {
			output := value.String(x.Output.V)
			out.Output, out.OutputDetails = &output, &cloudWatchEventsExecutionDataDetails{true}
		}
	}
	if x.HasError {
		out.Error = &x.Error
	}
	if x.HasCause {
		out.Cause = &x.Cause
	}
	out.RedriveStatus, out.RedriveStatusReason = redriveStatus(x)
	return out, nil
}

// redriveStatus says whether RedriveExecution would accept x, by the
// engine's rules (FAILED, ABORTED or TIMED_OUT Standard executions).
func redriveStatus(x *engine.Execution) (string, string) {
	switch {
	case x.Express:
		return "NOT_REDRIVABLE", "Express executions cannot be redriven"
	case x.Status == engine.StatusFailed, x.Status == engine.StatusAborted, x.Status == engine.StatusTimedOut:
		return "REDRIVABLE", ""
	}
	return "NOT_REDRIVABLE", "Execution is " + x.Status
}

type describeStateMachineForExecutionOutput struct {
	StateMachineArn      string                `json:"stateMachineArn"`
	Name                 string                `json:"name"`
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	UpdateDate           float64               `json:"updateDate"`
	LoggingConfiguration *loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration *tracingConfiguration `json:"tracingConfiguration"`
	RevisionID           string                `json:"revisionId"`
}

func (s *Server) describeStateMachineForExecution(ctx context.Context, in *executionInput) (*describeStateMachineForExecutionOutput, error) {
	if _, _, err := arnParts(in.ExecutionArn, "executionArn", executionKinds...); err != nil {
		return nil, err
	}
	x, err := s.svc.DescribeExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.DescribeMachine(ctx, x.MachineARN+":"+strconv.Itoa(x.Version))
	if err != nil {
		if code(err) == "StateMachineDoesNotExist" {
			// The machine was deleted while the execution lived on.
			return nil, errf("ExecutionDoesNotExist", "The state machine of execution '%s' no longer exists", in.ExecutionArn)
		}
		return nil, err
	}
	return &describeStateMachineForExecutionOutput{
		StateMachineArn: m.ARN, Name: m.Name, Definition: m.Definition, RoleArn: m.RoleARN, UpdateDate: epoch(m.Updated),
		LoggingConfiguration: loggingOff, TracingConfiguration: tracingOff, RevisionID: revisionID(m.ARN, m.Version),
	}, nil
}

type listExecutionsInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter"`
	MaxResults      int    `json:"maxResults"`
	NextToken       string `json:"nextToken"`
	MapRunArn       string `json:"mapRunArn"`
	RedriveFilter   string `json:"redriveFilter"`
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

type executionListItem struct {
	ExecutionArn           string  `json:"executionArn"`
	StateMachineArn        string  `json:"stateMachineArn"`
	Name                   string  `json:"name"`
	Status                 string  `json:"status"`
	StartDate              float64 `json:"startDate"`
	StopDate               float64 `json:"stopDate,omitempty"`
	StateMachineVersionArn string  `json:"stateMachineVersionArn,omitempty"`
	RedriveCount           int     `json:"redriveCount"`
	RedriveDate            float64 `json:"redriveDate,omitempty"`
}

func (s *Server) listExecutions(ctx context.Context, in *listExecutionsInput) (*listExecutionsOutput, error) {
	if in.MapRunArn != "" {
		return nil, errf("ResourceNotFound", "Map runs are not recorded by the local engine: '%s'", in.MapRunArn)
	}
	base, version, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	switch in.StatusFilter {
	case "", engine.StatusRunning, engine.StatusSucceeded, engine.StatusFailed, engine.StatusTimedOut, engine.StatusAborted, engine.StatusPendingRedrive:
	default:
		return nil, notInEnum("statusFilter", in.StatusFilter, "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
	}
	switch in.RedriveFilter {
	case "", "REDRIVEN", "NOT_REDRIVEN":
	default:
		return nil, notInEnum("redriveFilter", in.RedriveFilter, "REDRIVEN", "NOT_REDRIVEN")
	}
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken("executions", in.NextToken); err != nil {
			return nil, err
		}
	}
	// The cursor is the last returned ARN in the machine's list (newest
	// first, new executions only appear in front), so it stays valid while
	// statuses change between pages.
	keep := func(x *engine.Execution) bool {
		return (in.StatusFilter == "" || x.Status == in.StatusFilter) && (version == 0 || x.Version == version) &&
			(in.RedriveFilter != "REDRIVEN" || x.RedriveCount > 0) && (in.RedriveFilter != "NOT_REDRIVEN" || x.RedriveCount == 0)
	}
	xs, next, err := s.svc.ListExecutionsPage(ctx, base, keep, after, size)
	var apiErr *engine.APIError
	if errors.As(err, &apiErr) && apiErr.Code == "InvalidToken" {
		return nil, errf("InvalidToken", "Invalid Token: '%s'", in.NextToken)
	}
	if err != nil {
		return nil, err
	}
	out := &listExecutionsOutput{Executions: make([]executionListItem, 0, len(xs))}
	if next != "" {
		out.NextToken = encodeToken("executions", next)
	}
	for _, x := range xs {
		item := executionListItem{
			ExecutionArn: x.ARN, StateMachineArn: x.MachineARN, Name: x.Name, Status: x.Status,
			StartDate: epoch(x.StartTime), StopDate: epoch(x.StopTime), RedriveCount: x.RedriveCount, RedriveDate: epoch(x.RedriveTime),
		}
		if x.Version > 0 {
			item.StateMachineVersionArn = x.MachineARN + ":" + strconv.Itoa(x.Version)
		}
		out.Executions = append(out.Executions, item)
	}
	return out, nil
}

type stopExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

type stopExecutionOutput struct {
	StopDate float64 `json:"stopDate"`
}

func (s *Server) stopExecution(ctx context.Context, in *stopExecutionInput) (*stopExecutionOutput, error) {
	if _, _, err := arnParts(in.ExecutionArn, "executionArn", executionKinds...); err != nil {
		return nil, err
	}
	if err := checkErrorCause(in.Error, in.Cause); err != nil {
		return nil, err
	}
	x, err := s.svc.StopExecution(context.WithoutCancel(ctx), in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return &stopExecutionOutput{StopDate: epoch(x.StopTime)}, nil
}

func checkErrorCause(errName, cause string) error {
	if len(errName) > 256 {
		return tooLong("error", 256)
	}
	if len(cause) > 32768 {
		return tooLong("cause", 32768)
	}
	return nil
}

type getExecutionHistoryInput struct {
	ExecutionArn         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults"`
	ReverseOrder         bool   `json:"reverseOrder"`
	NextToken            string `json:"nextToken"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

type getExecutionHistoryOutput struct {
	Events    []json.RawMessage `json:"events"`
	NextToken string            `json:"nextToken,omitempty"`
}

// executionData are the detail members includeExecutionData=false drops.
var executionData = map[string]bool{
	"input": true, "inputDetails": true, "output": true, "outputDetails": true,
	"parameters": true, "assignedVariables": true, "assignedVariablesDetails": true,
}

func (s *Server) getExecutionHistory(ctx context.Context, in *getExecutionHistoryInput) (*getExecutionHistoryOutput, error) {
	if _, _, err := arnParts(in.ExecutionArn, "executionArn", executionKinds...); err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	// The cursor is the id of the next event to return; ids are 1..n.
	next := int64(-1)
	if in.NextToken != "" {
		c, err := decodeToken("history", in.NextToken)
		if err != nil {
			return nil, err
		}
		if next, err = strconv.ParseInt(c, 10, 64); err != nil || next < 1 {
			return nil, errf("InvalidToken", "Invalid Token: '%s'", in.NextToken)
		}
	}
	events, err := s.svc.History(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := &getExecutionHistoryOutput{Events: make([]json.RawMessage, 0, min(size, len(events)))}
	emit := func(ev *engine.Event) bool {
		if len(out.Events) == size {
			out.NextToken = encodeToken("history", strconv.FormatInt(ev.ID, 10))
			return false
		}
		o := ev.AWS()
		if !withData {
			o = stripData(o, engine.DetailsKey(ev.Type))
		}
		out.Events = append(out.Events, value.Marshal(o))
		return true
	}
	if in.ReverseOrder {
		for i := len(events) - 1; i >= 0; i-- {
			if next > 0 && events[i].ID > next {
				continue
			}
			if !emit(&events[i]) {
				break
			}
		}
	} else {
		for i := range events {
			if events[i].ID < next {
				continue
			}
			if !emit(&events[i]) {
				break
			}
		}
	}
	return out, nil
}

// stripData copies an event without its input/output members.
func stripData(o *value.Object, key string) *value.Object {
	dv, ok := o.Get(key)
	d, isObj := dv.(*value.Object)
	if !ok || !isObj {
		return o
	}
	nd := value.NewObject(d.Len())
	for _, m := range d.Members() {
		if !executionData[m.Key] {
			nd.Set(m.Key, m.Value)
		}
	}
	c := o.Clone()
	c.Set(key, nd)
	return c
}

type sendTaskSuccessInput struct {
	TaskToken string  `json:"taskToken"`
	Output    *string `json:"output"`
}

func (s *Server) sendTaskSuccess(ctx context.Context, in *sendTaskSuccessInput) (*empty, error) {
	if in.Output == nil {
		return nil, required("output")
	}
	if len(*in.Output) > maxPayloadLen {
		return nil, tooLong("output", maxPayloadLen)
	}
	err := s.completeTask(ctx, in.TaskToken, func(ctx context.Context) error {
		return s.svc.SendTaskSuccess(ctx, in.TaskToken, *in.Output)
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type sendTaskFailureInput struct {
	TaskToken string `json:"taskToken"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

func (s *Server) sendTaskFailure(ctx context.Context, in *sendTaskFailureInput) (*empty, error) {
	if err := checkErrorCause(in.Error, in.Cause); err != nil {
		return nil, err
	}
	err := s.completeTask(ctx, in.TaskToken, func(ctx context.Context) error {
		return s.svc.SendTaskFailure(ctx, in.TaskToken, in.Error, in.Cause)
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type sendTaskHeartbeatInput struct {
	TaskToken string `json:"taskToken"`
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, in *sendTaskHeartbeatInput) (*empty, error) {
	err := s.completeTask(ctx, in.TaskToken, func(ctx context.Context) error {
		return s.svc.SendTaskHeartbeat(ctx, in.TaskToken)
	})
	if err != nil {
		return nil, err
	}
	return &empty{}, nil
}

// completeTask checks a task token and runs send. A task whose timeout
// or heartbeat has passed is TaskTimedOut even before the engine's timer
// has closed it, so a late answer never wins over the timeout. A token
// the engine does not know is TaskDoesNotExist when it has the engine's
// token shape, InvalidToken otherwise.
func (s *Server) completeTask(ctx context.Context, token string, send func(context.Context) error) error {
	switch {
	case token == "":
		return required("taskToken")
	case len(token) > maxTokenLen:
		return tooLong("taskToken", maxTokenLen)
	}
	if err := s.checkTimedOut(ctx, token); err != nil {
		return err
	}
	err := send(context.WithoutCancel(ctx))
	if code(err) == "TaskDoesNotExist" && !tokenShape(token) {
		return errf("InvalidToken", "Invalid Token: '%s'", token)
	}
	return err
}

// tokenShape reports whether token looks like one the engine hands out
// (64 hex digits, a SHA-256).
func tokenShape(token string) bool {
	if len(token) != 64 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Server) checkTimedOut(ctx context.Context, token string) error {
	if s.opts.Tokens == nil {
		return nil
	}
	arn, err := s.opts.Tokens.TokenOwner(ctx, token)
	if errors.Is(err, engine.ErrNotFound) {
		return nil // the engine will answer TaskDoesNotExist
	}
	if err != nil {
		return fmt.Errorf("look up task token: %w", err)
	}
	x, err := s.svc.DescribeExecution(ctx, arn)
	if err != nil {
		if code(err) == "ExecutionDoesNotExist" {
			return nil
		}
		return err
	}
	t := findTask(x.Root, token)
	if t == nil {
		return nil
	}
	now := s.opts.Now()
	if past(t.Deadline, now) || past(t.HeartbeatAt, now) {
		return errf("TaskTimedOut", "Task Timed Out: '%s'", token)
	}
	return nil
}

func past(deadline, now time.Time) bool { return !deadline.IsZero() && !now.Before(deadline) }

// findTask returns the open task parked on token in a thread tree.
func findTask(t *engine.Thread, token string) *engine.TaskRun {
	if t == nil || t.Done || t.Aborted {
		return nil
	}
	if t.Task != nil && t.Task.Token == token && !t.Task.Done {
		return t.Task
	}
	for _, c := range t.Children {
		if tr := findTask(c, token); tr != nil {
			return tr
		}
	}
	return nil
}

type redriveExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	ClientToken  string `json:"clientToken"`
}

type redriveExecutionOutput struct {
	RedriveDate float64 `json:"redriveDate"`
}

func (s *Server) redriveExecution(ctx context.Context, in *redriveExecutionInput) (*redriveExecutionOutput, error) {
	if _, _, err := arnParts(in.ExecutionArn, "executionArn", executionKinds...); err != nil {
		return nil, err
	}
	if len(in.ClientToken) > 64 {
		return nil, tooLong("clientToken", 64)
	}
	// A retried request with the same clientToken gets the first answer
	// (AWS keeps them 15 minutes) instead of ExecutionNotRedrivable.
	now := s.opts.Now()
	if in.ClientToken != "" {
		if t, ok := s.redrives.get(in.ExecutionArn+"\x00"+in.ClientToken, now); ok {
			return &redriveExecutionOutput{RedriveDate: epoch(t)}, nil
		}
	}
	x, err := s.svc.RedriveExecution(context.WithoutCancel(ctx), in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if in.ClientToken != "" {
		s.redrives.put(in.ExecutionArn+"\x00"+in.ClientToken, x.RedriveTime, now)
	}
	return &redriveExecutionOutput{RedriveDate: epoch(x.RedriveTime)}, nil
}

// idempotency remembers the answers to requests with a client token for
// a while. It lives in memory: after a restart a retry is answered by
// the engine's own rules.
type idempotency struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]idemEntry
}

type idemEntry struct {
	value   time.Time
	expires time.Time
}

func (m *idempotency) get(key string, now time.Time) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || now.After(e.expires) {
		return time.Time{}, false
	}
	return e.value, true
}

func (m *idempotency) put(key string, v, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]idemEntry{}
	}
	if len(m.entries) >= 1024 {
		// Drop what has expired; redrives are rare, so this stays small.
		for k, e := range m.entries {
			if now.After(e.expires) {
				delete(m.entries, k)
			}
		}
	}
	m.entries[key] = idemEntry{value: v, expires: now.Add(m.ttl)}
}
