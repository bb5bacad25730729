package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/posluha/posluha/query/value"
)

// APIError is a Step Functions API error: Code is the AWS exception name
// (ExecutionDoesNotExist, InvalidDefinition, …) the HTTP layer puts in
// __type; Message is safe to show.
type APIError struct {
	Code    string
	Message string
}

// Error implements error.
func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

var nameRE = regexp.MustCompile(`^[^\s<>{}\[\]?*"#%\\^|~` + "`" + `$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$`)

// MachineARN returns the ARN of a state machine named name.
func (e *Engine) MachineARN(name string) string {
	return "arn:aws:states:" + e.region + ":" + e.account + ":stateMachine:" + name
}

// CreateMachineInput is CreateStateMachine's input.
type CreateMachineInput struct {
	Name       string
	Definition string
	RoleARN    string
	Type       string // STANDARD (default) or EXPRESS
}

// MachineOutput describes a state machine version.
type MachineOutput struct {
	ARN        string
	VersionARN string
	Name       string
	Type       string
	Definition string
	RoleARN    string
	Version    int
	Created    time.Time
	Updated    time.Time
}

// ValidateDefinition checks a definition as ValidateStateMachineDefinition
// does: no diagnostics means OK.
func ValidateDefinition(def string) []Diagnostic {
	_, err := Parse([]byte(def))
	var de *DefinitionError
	if errors.As(err, &de) {
		return de.Diagnostics
	}
	return nil
}

// CreateMachine creates a state machine and publishes version 1. Errors:
// InvalidName, InvalidDefinition, StateMachineAlreadyExists (same name,
// different definition; the same definition returns the existing machine).
func (e *Engine) CreateMachine(ctx context.Context, in CreateMachineInput) (*MachineOutput, error) {
	if !nameRE.MatchString(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '%s'", in.Name)
	}
	if _, err := Parse([]byte(in.Definition)); err != nil {
		return nil, apiErr("InvalidDefinition", "%s", err.Error())
	}
	typ := in.Type
	if typ == "" {
		typ = "STANDARD"
	}
	arn := e.MachineARN(in.Name)
	if old, err := e.store.GetMachine(ctx, arn); err == nil {
		if old.Latest().Definition == in.Definition && old.Type == typ {
			return machineOutput(old, len(old.Versions)), nil
		}
		return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	now := e.clock.Now()
	m := &Machine{ARN: arn, Name: in.Name, Type: typ, RoleARN: in.RoleARN, Created: now,
		Versions: []MachineVersion{{Version: 1, Definition: in.Definition, RoleARN: in.RoleARN, Created: now}}}
	if err := e.store.PutMachine(ctx, m); err != nil {
		return nil, fmt.Errorf("create state machine %s: %w", arn, err)
	}
	return machineOutput(m, 1), nil
}

func machineOutput(m *Machine, version int) *MachineOutput {
	v := m.Versions[version-1]
	return &MachineOutput{ARN: m.ARN, VersionARN: m.ARN + ":" + strconv.Itoa(version), Name: m.Name, Type: m.Type,
		Definition: v.Definition, RoleARN: v.RoleARN, Version: version, Created: m.Created, Updated: v.Created}
}

// UpdateMachine publishes a new version with a new definition and/or role.
// Running executions finish on their own version. Errors:
// StateMachineDoesNotExist, InvalidDefinition.
func (e *Engine) UpdateMachine(ctx context.Context, arn, definition, roleARN string) (*MachineOutput, error) {
	m, err := e.getMachine(ctx, arn)
	if err != nil {
		return nil, err
	}
	latest := m.Latest()
	if definition == "" {
		definition = latest.Definition
	} else if _, err := Parse([]byte(definition)); err != nil {
		return nil, apiErr("InvalidDefinition", "%s", err.Error())
	}
	if roleARN == "" {
		roleARN = latest.RoleARN
	}
	n := len(m.Versions) + 1
	m.Versions = append(m.Versions, MachineVersion{Version: n, Definition: definition, RoleARN: roleARN, Created: e.clock.Now()})
	m.RoleARN = roleARN
	if err := e.store.PutMachine(ctx, m); err != nil {
		return nil, fmt.Errorf("update state machine %s: %w", arn, err)
	}
	return machineOutput(m, n), nil
}

// splitVersion separates "arn…:name:3" into the machine ARN and version.
func splitVersion(arn string) (string, int) {
	parts := strings.Split(arn, ":")
	if len(parts) == 8 {
		if n, err := strconv.Atoi(parts[7]); err == nil {
			return strings.Join(parts[:7], ":"), n
		}
	}
	return arn, 0
}

func (e *Engine) getMachine(ctx context.Context, arn string) (*Machine, error) {
	base, _ := splitVersion(arn)
	m, err := e.store.GetMachine(ctx, base)
	if errors.Is(err, ErrNotFound) || (err == nil && m.Deleted) {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return m, err
}

// DescribeMachine returns the latest version, or the version named by a
// qualified ARN (…:name:3). Errors: StateMachineDoesNotExist.
func (e *Engine) DescribeMachine(ctx context.Context, arn string) (*MachineOutput, error) {
	m, err := e.getMachine(ctx, arn)
	if err != nil {
		return nil, err
	}
	_, v := splitVersion(arn)
	if v == 0 {
		v = len(m.Versions)
	}
	if v > len(m.Versions) {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return machineOutput(m, v), nil
}

// ListMachines lists state machines (latest versions).
func (e *Engine) ListMachines(ctx context.Context) ([]*MachineOutput, error) {
	ms, err := e.store.ListMachines(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*MachineOutput, 0, len(ms))
	for _, m := range ms {
		if !m.Deleted {
			out = append(out, machineOutput(m, len(m.Versions)))
		}
	}
	return out, nil
}

// DeleteMachine deletes a state machine. While executions of it still run
// it is only marked Deleted (AWS's DELETING): they finish on their version,
// and the API no longer shows it. Errors: StateMachineDoesNotExist.
func (e *Engine) DeleteMachine(ctx context.Context, arn string) error {
	m, err := e.getMachine(ctx, arn)
	if err != nil {
		return err
	}
	running := false
	err = e.eachExecution(ctx, m.ARN, func(x *Execution) bool {
		running = x.Status == StatusRunning
		return !running
	})
	if err != nil {
		return err
	}
	if running {
		m.Deleted = true
		return e.store.PutMachine(ctx, m)
	}
	e.forgetMachine(m.ARN)
	if err := e.store.DeleteMachine(ctx, m.ARN); errors.Is(err, ErrNotFound) {
		return apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	} else if err != nil {
		return err
	}
	return nil
}

// StartInput is StartExecution's input.
type StartInput struct {
	MachineARN  string // unqualified (latest version) or qualified (…:3)
	Name        string // default: a random UUID
	Input       string // JSON; default "{}"
	TraceHeader string
	parentToken string
}

// StartExecution starts an execution and returns it (RUNNING). The name is
// idempotent: the same name and input return the existing execution;
// another input fails with ExecutionAlreadyExists. Errors:
// StateMachineDoesNotExist, InvalidName, InvalidExecutionInput,
// ExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in StartInput) (*Execution, error) {
	x, existed, err := e.create(ctx, in, false)
	if err != nil {
		return nil, err
	}
	if !existed {
		e.kick(x.ARN)
	}
	return x, nil
}

// StartSyncExecution runs an Express execution to its end and returns it.
func (e *Engine) StartSyncExecution(ctx context.Context, in StartInput) (*Execution, error) {
	x, _, err := e.create(ctx, in, true)
	if err != nil {
		return nil, err
	}
	e.kick(x.ARN)
	return e.Await(ctx, x.ARN)
}

func (e *Engine) create(ctx context.Context, in StartInput, express bool) (*Execution, bool, error) {
	m, err := e.getMachine(ctx, in.MachineARN)
	if err != nil {
		return nil, false, err
	}
	_, version := splitVersion(in.MachineARN)
	if version == 0 {
		version = len(m.Versions)
	}
	if version > len(m.Versions) {
		return nil, false, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", in.MachineARN)
	}
	name := in.Name
	if name == "" {
		name = newUUID()
	} else if !nameRE.MatchString(name) {
		return nil, false, apiErr("InvalidName", "Invalid Name: '%s'", name)
	}
	src := in.Input
	if strings.TrimSpace(src) == "" {
		src = "{}"
	}
	input, err := value.ParseString(src)
	if err != nil {
		return nil, false, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'", err.Error())
	}
	if len(src) > maxPayload {
		return nil, false, apiErr("InvalidExecutionInput", "The input size exceeds the maximum number of bytes service limit")
	}
	def, _, err := e.definition(ctx, m.ARN, version)
	if err != nil {
		return nil, false, err
	}
	kind := "execution"
	if express || m.Type == "EXPRESS" {
		kind = "express"
	}
	arn := "arn:aws:states:" + e.region + ":" + e.account + ":" + kind + ":" + m.Name + ":" + name
	now := e.clock.Now()
	x := &Execution{
		ARN: arn, Name: name, MachineARN: m.ARN, Version: version, Express: kind == "express",
		Status: StatusRunning, Input: Value{input}, StartTime: now, Salt: newSalt(),
		ParentToken: in.parentToken, TraceHeader: in.TraceHeader,
		Root:        &Thread{ID: "0", State: def.StartAt, Input: Value{input}}, // AWS: the first state event follows event 0
		LastEventID: 1,
	}
	if def.TimeoutSeconds > 0 {
		x.Deadline = now.Add(time.Duration(def.TimeoutSeconds) * time.Second)
	}
	ver := m.Versions[version-1]
	d := details("input", input, "roleArn", ver.RoleARN)
	if version > 0 && strings.Count(in.MachineARN, ":") == 7 {
		d.Set("stateMachineVersionArn", in.MachineARN)
	}
	x.index()
	err = e.store.CreateExecution(ctx, x, []Event{{ID: 1, Time: now, Type: "ExecutionStarted", Details: d}})
	if errors.Is(err, ErrExists) {
		old, gerr := e.store.GetExecution(ctx, arn)
		if gerr != nil {
			return nil, false, gerr
		}
		if old.Status == StatusRunning && value.Equal(old.Input.V, input) {
			return old, true, nil
		}
		return nil, false, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create execution %s: %w", arn, err)
	}
	return x, false, nil
}

func newUUID() string {
	b := []byte(newSalt())
	return string(b[0:8]) + "-" + string(b[8:12]) + "-4" + string(b[13:16]) + "-a" + string(b[17:20]) + "-" + string(b[20:32])
}

// DescribeExecution returns an execution. Errors: ExecutionDoesNotExist.
func (e *Engine) DescribeExecution(ctx context.Context, arn string) (*Execution, error) {
	x, err := e.store.GetExecution(ctx, arn)
	if errors.Is(err, ErrNotFound) {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return x, err
}

// listPage is how many records a listing reads from the store at a time.
const listPage = 500

// eachExecution calls f for a machine's executions, newest first, a page
// at a time, until f returns false.
func (e *Engine) eachExecution(ctx context.Context, machineARN string, f func(*Execution) bool) error {
	after := ""
	for {
		xs, next, err := e.store.ListExecutions(ctx, machineARN, after, listPage)
		if err != nil {
			return fmt.Errorf("list executions of %s: %w", machineARN, err)
		}
		for _, x := range xs {
			if !f(x) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// ListExecutions lists a machine's executions, newest first, optionally
// filtered by status. Errors: StateMachineDoesNotExist.
func (e *Engine) ListExecutions(ctx context.Context, machineARN, status string) ([]*Execution, error) {
	var keep func(*Execution) bool
	if status != "" {
		keep = func(x *Execution) bool { return x.Status == status }
	}
	xs, _, err := e.ListExecutionsPage(ctx, machineARN, keep, "", 0)
	return xs, err
}

// ListExecutionsPage lists up to limit (every one for limit <= 0) of a
// machine's executions that keep accepts (every one for nil), newest first, after
// the execution whose ARN is after ("" from the newest); next is the ARN
// to continue after, "" when there are no more. It reads the store a page
// at a time, so a page costs its size, not the number of executions kept
// (plus those keep skips). Errors: StateMachineDoesNotExist,
// InvalidToken (after is not one of the machine's executions).
func (e *Engine) ListExecutionsPage(ctx context.Context, machineARN string, keep func(*Execution) bool, after string, limit int) ([]*Execution, string, error) {
	base, _ := splitVersion(machineARN)
	if _, err := e.getMachine(ctx, base); err != nil {
		return nil, "", err
	}
	var out []*Execution
	for {
		want := listPage
		if limit > 0 && keep == nil {
			want = limit - len(out) + 1 // one more tells whether a next page exists
		}
		xs, more, err := e.store.ListExecutions(ctx, base, after, want)
		if errors.Is(err, ErrNotFound) {
			return nil, "", apiErr("InvalidToken", "Invalid Token: '%s'", after)
		}
		if err != nil {
			return nil, "", err
		}
		for _, x := range xs {
			if keep != nil && !keep(x) {
				continue
			}
			if limit > 0 && len(out) == limit {
				return out, out[len(out)-1].ARN, nil
			}
			out = append(out, x)
		}
		if more == "" {
			return out, "", nil
		}
		after = more
	}
}

// History returns an execution's events. Errors: ExecutionDoesNotExist.
func (e *Engine) History(ctx context.Context, arn string) ([]Event, error) {
	ev, err := e.store.History(ctx, arn)
	if errors.Is(err, ErrNotFound) {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return ev, err
}

// mutate loads an execution, applies f and saves it, while no pass runs
// it. f returns the events to append.
func (e *Engine) mutate(ctx context.Context, arn string, f func(x *Execution) ([]Event, error)) error {
	for {
		e.mu.Lock()
		a, busy := e.active[arn]
		if !busy {
			// Reserve the execution so that no pass starts meanwhile.
			a = &activeRun{cancel: func() {}, done: make(chan struct{})}
			e.active[arn] = a
			e.mu.Unlock()
			break
		}
		e.mu.Unlock()
		select {
		case <-a.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	release := func() {
		e.mu.Lock()
		a := e.active[arn]
		delete(e.active, arn)
		close(a.done)
		e.endedLocked(arn)
		dirty := a.dirty
		e.mu.Unlock()
		if dirty {
			e.kick(arn) // someone asked for a pass while we held the execution
		}
		e.poke()
	}
	x, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		release()
		if errors.Is(err, ErrNotFound) {
			return apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
		}
		return err
	}
	events, err := f(x)
	if err != nil {
		release()
		return err
	}
	x.index()
	err = e.store.SaveExecution(ctx, x, events)
	release()
	return err
}

func (e *Engine) event(x *Execution, typ string, d *value.Object) Event {
	x.LastEventID++
	return Event{ID: x.LastEventID, PreviousID: x.LastEventID - 1, Time: e.clock.Now(), Type: typ, Details: d}
}

// StopExecution aborts a running execution. Errors: ExecutionDoesNotExist.
func (e *Engine) StopExecution(ctx context.Context, arn, errName, cause string) (*Execution, error) {
	e.mu.Lock()
	if a, ok := e.active[arn]; ok {
		a.cancel()
	}
	e.mu.Unlock()
	var out *Execution
	err := e.mutate(ctx, arn, func(x *Execution) ([]Event, error) {
		out = x
		if x.Status != StatusRunning {
			return nil, nil
		}
		x.Status, x.StopTime = StatusAborted, e.clock.Now()
		x.Error, x.Cause, x.HasError, x.HasCause = errName, cause, errName != "", cause != ""
		abortAll(x.Root)
		d := value.NewObject(2)
		if errName != "" {
			d.Set("error", errName)
		}
		if cause != "" {
			d.Set("cause", cause)
		}
		return []Event{e.event(x, "ExecutionAborted", d)}, nil
	})
	if err != nil {
		return nil, err
	}
	if out.ParentToken != "" {
		e.finishNested(ctx, out)
	}
	return out, nil
}

// SendTaskSuccess completes the task waiting for token with output.
// Errors: TaskDoesNotExist, InvalidOutput.
func (e *Engine) SendTaskSuccess(ctx context.Context, token, output string) error {
	v, err := value.ParseString(output)
	if err != nil {
		return apiErr("InvalidOutput", "Invalid Output: '%s'", err.Error())
	}
	return e.completeToken(ctx, token, func(tr *TaskRun) { tr.Done, tr.Result = true, Value{v} })
}

// SendTaskFailure fails the task waiting for token. Errors: TaskDoesNotExist.
func (e *Engine) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	return e.completeToken(ctx, token, func(tr *TaskRun) {
		tr.Done, tr.Failed, tr.Error, tr.Cause = true, true, errName, cause
	})
}

// SendTaskHeartbeat restarts the heartbeat timer of the task waiting for
// token. Errors: TaskDoesNotExist.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, token string) error {
	return e.completeToken(ctx, token, func(tr *TaskRun) {
		if tr.Heartbeat > 0 {
			tr.HeartbeatAt = e.clock.Now().Add(tr.Heartbeat)
		}
	})
}

// earlyAnswerWait bounds how long an answer for a token whose pass has not
// saved waits for that save before it is kept in memory instead.
const earlyAnswerWait = 5 * time.Second

func (e *Engine) completeToken(ctx context.Context, token string, f func(*TaskRun)) error {
	arn, err := e.store.TokenOwner(ctx, token)
	if errors.Is(err, ErrNotFound) {
		// Handed out by a pass that has not saved yet?
		e.mu.Lock()
		p := e.pending[token]
		if p == nil {
			e.mu.Unlock()
			return apiErr("TaskDoesNotExist", "Task Does Not Exist: '%s'", token)
		}
		if p.invoking {
			// The task's own invocation is answering (or something it waits
			// for): the pass waits for this call, so the answer goes into the
			// pass's save with the token (Engine.advance). A crash before
			// that save loses both: the task runs again and is answered
			// again.
			e.early[token] = append(e.early[token], f)
			e.mu.Unlock()
			return nil
		}
		e.mu.Unlock()
		// The invocation returned and the pass is about to save: wait for
		// the save and answer durably, so an acknowledged answer survives
		// a crash. The bound covers a pass that cannot save before this
		// call returns (another branch's task waiting for it).
		select {
		case <-p.saved:
			return e.completeToken(ctx, token, f)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(earlyAnswerWait):
			e.mu.Lock()
			if e.pending[token] == p {
				e.early[token] = append(e.early[token], f)
				e.mu.Unlock()
				return nil
			}
			e.mu.Unlock()
			return e.completeToken(ctx, token, f)
		}
	}
	if err != nil {
		return err
	}
	err = e.mutate(ctx, arn, func(x *Execution) ([]Event, error) {
		t := x.Root.findToken(token)
		if t == nil || x.Status != StatusRunning {
			return nil, apiErr("TaskDoesNotExist", "Task Does Not Exist: '%s'", token)
		}
		f(t.Task)
		return nil, nil
	})
	if err != nil {
		return err
	}
	e.kick(arn)
	return nil
}

// startNested runs states:startExecution[.sync[:2]] through this engine.
func (e *Engine) startNested(ctx context.Context, parent *Execution, c *Call) (any, error) {
	in, _ := c.Input.(*value.Object)
	smV, _ := in.Get("StateMachineArn")
	sm, _ := smV.(string)
	nameV, _ := in.Get("Name")
	name, _ := nameV.(string)
	inputV, hasInput := in.Get("Input")
	input := "{}"
	if s, ok := inputV.(string); ok {
		input = s
	} else if hasInput {
		input = value.String(inputV)
	}
	si := StartInput{MachineARN: sm, Name: name, Input: input}
	if c.Pattern != "" {
		si.parentToken = c.TaskToken
	}
	x, existed, err := e.create(ctx, si, false)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return nil, &Failure{Name: "StepFunctions." + ae.Code + "Exception", Cause: ae.Message}
		}
		return nil, err
	}
	if !existed {
		e.kick(x.ARN)
	}
	return value.ObjectOf("ExecutionArn", x.ARN, "StartDate", formatTime(x.StartTime)), nil
}

// finishNested reports a finished child execution to its parent's task.
func (e *Engine) finishNested(ctx context.Context, x *Execution) {
	arn, err := e.store.TokenOwner(ctx, x.ParentToken)
	if err != nil {
		return
	}
	parent, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		return
	}
	t := parent.Root.findToken(x.ParentToken)
	if t == nil {
		return
	}
	parsed := t.Task != nil && strings.HasSuffix(findResource(e, ctx, parent, t), ":2")
	desc := DescribeJSON(x, parsed)
	if x.Status == StatusSucceeded {
		_ = e.completeToken(ctx, x.ParentToken, func(tr *TaskRun) { tr.Done, tr.Result = true, Value{desc} })
		return
	}
	_ = e.completeToken(ctx, x.ParentToken, func(tr *TaskRun) {
		tr.Done, tr.Failed, tr.Error, tr.Cause = true, true, "States.TaskFailed", value.String(desc)
	})
}

func findResource(e *Engine, ctx context.Context, x *Execution, t *Thread) string {
	def, _, err := e.definition(ctx, x.MachineARN, x.Version)
	if err != nil {
		return ""
	}
	var find func(d *Definition) string
	find = func(d *Definition) string {
		if st, ok := d.States[t.State]; ok && st.Type == "Task" {
			return st.Resource
		}
		for _, st := range d.States {
			for _, b := range st.Branches {
				if r := find(b); r != "" {
					return r
				}
			}
			if st.Processor != nil {
				if r := find(st.Processor); r != "" {
					return r
				}
			}
		}
		return ""
	}
	return find(def)
}

// DescribeJSON renders an execution as DescribeExecution's JSON: input and
// output as JSON text, or as values when parsed is true (the shape
// startExecution.sync:2 returns).
func DescribeJSON(x *Execution, parsed bool) *value.Object {
	o := value.NewObject(12)
	o.Set("ExecutionArn", x.ARN)
	o.Set("StateMachineArn", x.MachineARN)
	o.Set("Name", x.Name)
	o.Set("Status", x.Status)
	o.Set("StartDate", formatTime(x.StartTime))
	if !x.StopTime.IsZero() {
		o.Set("StopDate", formatTime(x.StopTime))
	}
	if parsed {
		o.Set("Input", x.Input.V)
	} else {
		o.Set("Input", value.String(x.Input.V))
	}
	o.Set("InputDetails", value.ObjectOf("Included", true))
	if x.HasOutput {
		if parsed {
			o.Set("Output", x.Output.V)
		} else {
			o.Set("Output", value.String(x.Output.V))
		}
		o.Set("OutputDetails", value.ObjectOf("Included", true))
	}
	if x.HasError {
		o.Set("Error", x.Error)
	}
	if x.HasCause {
		o.Set("Cause", x.Cause)
	}
	return o
}

// RedriveOption changes what RedriveExecution does.
type RedriveOption func(*redriveOptions)

type redriveOptions struct {
	fix *stepData
}

type stepData struct {
	thread string
	input  any
	vars   *value.Object
}

// WithFailedStepData makes RedriveExecution replace the input and the
// variables of the thread the execution failed in before it reruns that
// state: support's "fix the data and resend". thread is the thread id the
// caller edited (from FailedStep); if the failed thread is another one by
// now, the redrive is refused. A nil vars keeps the variables.
func WithFailedStepData(thread string, input any, vars *value.Object) RedriveOption {
	return func(o *redriveOptions) { o.fix = &stepData{thread: thread, input: input, vars: vars} }
}

// FailedStep returns the thread a FAILED, ABORTED or TIMED_OUT execution
// stopped in: the deepest failed one (a Parallel or Map fails because a
// child did), else the root; nil for other statuses.
func FailedStep(x *Execution) *Thread {
	switch x.Status {
	case StatusFailed, StatusAborted, StatusTimedOut:
	default:
		return nil
	}
	return failedLeaf(x.Root)
}

func failedLeaf(t *Thread) *Thread {
	if t == nil {
		return nil
	}
	for _, c := range t.Children {
		if c.Failed {
			if f := failedLeaf(c); f != nil {
				return f
			}
		}
	}
	return t
}

// RedriveExecution restarts a FAILED, ABORTED or TIMED_OUT execution from
// the state that failed; inside a Map or Parallel only the failed or
// unfinished iterations and branches run again. WithFailedStepData
// replaces the failed state's input and variables first, under the same
// per-execution lock, so no pass or other action can interleave; the
// ExecutionRedriven event then says so (inputChanged, thread, state).
// Errors: ExecutionDoesNotExist, ExecutionNotRedrivable,
// InvalidExecutionInput (replacement input over 256 KiB).
func (e *Engine) RedriveExecution(ctx context.Context, arn string, opts ...RedriveOption) (*Execution, error) {
	var o redriveOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.fix != nil && size(o.fix.input) > maxPayload {
		return nil, apiErr("InvalidExecutionInput", "The input is larger than the maximum of %d bytes", maxPayload)
	}
	var out *Execution
	err := e.mutate(ctx, arn, func(x *Execution) ([]Event, error) {
		switch x.Status {
		case StatusFailed, StatusAborted, StatusTimedOut:
		default:
			return nil, apiErr("ExecutionNotRedrivable", "Execution is %s and cannot be redriven: '%s'", x.Status, arn)
		}
		if x.Express {
			return nil, apiErr("ExecutionNotRedrivable", "Express executions cannot be redriven: '%s'", arn)
		}
		d := details("redriveCount", float64(x.RedriveCount+1))
		if o.fix != nil {
			t := FailedStep(x)
			if t == nil || t.ID != o.fix.thread {
				return nil, apiErr("ExecutionNotRedrivable", "The failed step of '%s' is no longer thread %q; reload it and edit again", arn, o.fix.thread)
			}
			t.Input = Value{o.fix.input}
			if o.fix.vars != nil {
				t.Vars = o.fix.vars
			}
			d.Set("inputChanged", true)
			d.Set("thread", t.ID)
			d.Set("state", t.State)
			d.Set("variablesChanged", o.fix.vars != nil)
		}
		x.Status, x.StopTime = StatusRunning, time.Time{}
		x.Error, x.Cause, x.HasError, x.HasCause = "", "", false, false
		x.RedriveCount++
		x.RedriveTime = e.clock.Now()
		if !x.Deadline.IsZero() {
			def, _, err := e.definition(ctx, x.MachineARN, x.Version)
			if err == nil {
				x.Deadline = x.RedriveTime.Add(time.Duration(def.TimeoutSeconds) * time.Second)
			}
		}
		resetFailed(x.Root)
		out = x
		return []Event{e.event(x, "ExecutionRedriven", d)}, nil
	})
	if err != nil {
		return nil, err
	}
	e.kick(arn)
	return out, nil
}

// resetFailed puts failed or aborted threads back on the state they stopped
// at; succeeded children keep their output.
func resetFailed(t *Thread) {
	if t == nil || (t.Done && !t.Failed) {
		return
	}
	t.Done, t.Failed, t.Aborted = false, false, false
	t.Error, t.Cause, t.NoError, t.NoCause = "", "", false, false
	t.Retries, t.RetryCount = nil, 0
	if t.Phase == phaseChildren && len(t.Children) > 0 {
		for _, c := range t.Children {
			resetFailed(c)
		}
		return
	}
	t.Phase, t.Entered, t.Task, t.Children = phaseNew, 0, nil, nil
}
