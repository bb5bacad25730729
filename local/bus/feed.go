package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// Feed is an engine.Store that publishes status and step changes to a Bus.
// Every other method goes straight to the wrapped store.
type Feed struct {
	engine.Store
	bus *Bus

	mu   sync.Mutex
	last map[string]*summary // by execution ARN; a bounded cache
	defs map[string]map[string]string
}

// maxCached bounds the previous-record cache: a miss costs one read of the
// record the save replaces, so the bound only trades memory for reads.
const maxCached = 200_000

var _ engine.Store = (*Feed)(nil)

// NewFeed wraps inner so that saves publish to b.
func NewFeed(inner engine.Store, b *Bus) *Feed {
	f := &Feed{Store: inner, bus: b, last: map[string]*summary{}, defs: map[string]map[string]string{}}
	b.verify = f.saved
	return f
}

// summary is what the diff looks at: cheap to compute and to keep.
type summary struct {
	status string
	leaves map[string]string // thread id → current state of the active leaf threads
}

func summarize(x *engine.Execution) *summary {
	s := &summary{status: x.Status, leaves: map[string]string{}}
	var walk func(t *engine.Thread)
	walk = func(t *engine.Thread) {
		if t == nil || t.Done || t.Aborted {
			return
		}
		active := 0
		for _, c := range t.Children {
			if !c.Done && !c.Aborted {
				active++
				walk(c)
			}
		}
		if active == 0 {
			s.leaves[t.ID] = t.State
		}
	}
	if x.Status == engine.StatusRunning {
		walk(x.Root)
	}
	return s
}

// CreateExecution implements engine.Store.
func (f *Feed) CreateExecution(ctx context.Context, x *engine.Execution, events []engine.Event) error {
	return f.save(ctx, x, func() error { return f.Store.CreateExecution(ctx, x, events) }, true)
}

// SaveExecution implements engine.Store.
func (f *Feed) SaveExecution(ctx context.Context, x *engine.Execution, events []engine.Event) error {
	return f.save(ctx, x, func() error { return f.Store.SaveExecution(ctx, x, events) }, false)
}

var _ engine.Observer = (*Feed)(nil)

// Observe implements engine.Observer: a transition the engine does not
// save is published at once without the outbox, so the console's live step
// counts see a long synchronous task while it runs. If the process dies,
// the engine runs the transition again from its last checkpoint and it is
// observed again; the projection keeps the highest sequence per
// application, so a repeat changes nothing.
func (f *Feed) Observe(ctx context.Context, x *engine.Execution) {
	f.mu.Lock()
	prev := f.last[x.ARN]
	f.mu.Unlock()
	if prev == nil {
		old, err := f.Store.GetExecution(ctx, x.ARN)
		if err != nil {
			return // the next save publishes the change against the record it replaces
		}
		prev = summarize(old)
	}
	next := summarize(x)
	evs, err := f.diff(ctx, prev, next, x)
	if err != nil {
		f.bus.o.Logger.Warn("status events of an unsaved transition", "execution", x.ARN, "err", err)
		return
	}
	if len(evs) > 0 {
		f.bus.publish(evs)
	}
	f.remember(x, next)
}

func (f *Feed) remember(x *engine.Execution, next *summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if x.Status == engine.StatusRunning {
		if len(f.last) >= maxCached {
			for k := range f.last { // drop an arbitrary entry
				delete(f.last, k)
				break
			}
		}
		f.last[x.ARN] = next
	} else {
		delete(f.last, x.ARN)
	}
}

func (f *Feed) save(ctx context.Context, x *engine.Execution, write func() error, created bool) error {
	var prev *summary
	if !created {
		f.mu.Lock()
		prev = f.last[x.ARN]
		f.mu.Unlock()
		if prev == nil {
			if old, err := f.Store.GetExecution(ctx, x.ARN); err == nil {
				prev = summarize(old)
			}
		}
	}
	next := summarize(x)
	evs, err := f.diff(ctx, prev, next, x)
	if err != nil {
		return err
	}
	var id uint64
	if len(evs) > 0 {
		if id, err = f.bus.prepare(x.ARN, x.LastEventID, evs); err != nil {
			return err
		}
	}
	if err := write(); err != nil {
		if id != 0 {
			f.bus.abort(id)
		}
		return err
	}
	if id != 0 {
		f.bus.commit(id)
	}
	f.remember(x, next)
	return nil
}

// saved tells recovery whether the save an outbox entry was written for
// happened: the record's LastEventID reached the entry's.
func (f *Feed) saved(ctx context.Context, arn string, seq int64) (bool, error) {
	x, err := f.Store.GetExecution(ctx, arn)
	if errors.Is(err, engine.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return x.LastEventID >= seq, nil
}

// stepsOf maps state names to BPMN element ids for an execution's version.
func (f *Feed) stepsOf(ctx context.Context, machineARN string, version int) map[string]string {
	key := machineARN + "#" + itoa(int64(version))
	f.mu.Lock()
	m, ok := f.defs[key]
	f.mu.Unlock()
	if ok {
		return m
	}
	m = map[string]string{}
	if mc, err := f.Store.GetMachine(ctx, machineARN); err == nil && version >= 1 && version <= len(mc.Versions) {
		m = StepMap([]byte(mc.Versions[version-1].Definition))
	}
	f.mu.Lock()
	f.defs[key] = m
	f.mu.Unlock()
	return m
}

// StepMap reads an ASL definition and maps every state's name (also inside
// Parallel branches and Map processors) to the BPMN element id its Comment
// names ("bpmn:<id>", see bpmn2asl). States without one are left out.
func StepMap(definition []byte) map[string]string {
	out := map[string]string{}
	type states struct {
		States map[string]json.RawMessage `json:"States"`
	}
	var walk func(raw []byte, depth int)
	walk = func(raw []byte, depth int) {
		var d states
		if depth > 32 || json.Unmarshal(raw, &d) != nil {
			return
		}
		for name, st := range d.States {
			var s struct {
				Comment       string            `json:"Comment"`
				Branches      []json.RawMessage `json:"Branches"`
				ItemProcessor json.RawMessage   `json:"ItemProcessor"`
				Iterator      json.RawMessage   `json:"Iterator"`
			}
			if json.Unmarshal(st, &s) != nil {
				continue
			}
			if id, ok := strings.CutPrefix(s.Comment, "bpmn:"); ok {
				id, _, _ = strings.Cut(id, " ")
				if _, dup := out[name]; !dup && id != "" {
					out[name] = id
				}
			}
			for _, b := range s.Branches {
				walk(b, depth+1)
			}
			if len(s.ItemProcessor) > 0 {
				walk(s.ItemProcessor, depth+1)
			}
			if len(s.Iterator) > 0 {
				walk(s.Iterator, depth+1)
			}
		}
	}
	walk(definition, 0)
	return out
}

// Identity is who an execution is for, read from its input (the API's
// queue message: applicationId, service, citizen.taxNumber) with the
// execution name and the state machine name as fallbacks.
type Identity struct {
	ApplicationID string
	Service       string
	Citizen       string
}

// IdentityOf reads an execution's identity.
func IdentityOf(name, machineARN string, input any) Identity {
	id := Identity{ApplicationID: name, Service: machineARN[strings.LastIndexByte(machineARN, ':')+1:]}
	if o, ok := input.(*value.Object); ok {
		if v, ok := o.Get("applicationId"); ok {
			if s, ok := v.(string); ok && s != "" {
				id.ApplicationID = s
			}
		}
		if v, ok := o.Get("service"); ok {
			if s, ok := v.(string); ok && s != "" {
				id.Service = s
			}
		}
		if v, ok := o.Get("citizen"); ok {
			if c, ok := v.(*value.Object); ok {
				if t, ok := c.Get("taxNumber"); ok {
					id.Citizen, _ = t.(string)
				}
			}
		}
	}
	return id
}

// diff turns the change from prev to next into events: a step event per
// thread that entered a state (all of them when the execution starts or is
// redriven), a failed-step event when it fails, and a status event when the
// status changed.
func (f *Feed) diff(ctx context.Context, prev, next *summary, x *engine.Execution) ([]Event, error) {
	statusChanged := prev == nil || prev.status != next.status
	var entered []string
	for id, st := range next.leaves {
		if prev == nil || prev.status != engine.StatusRunning || prev.leaves[id] != st {
			entered = append(entered, id)
		}
	}
	failed := x.Status == engine.StatusFailed || x.Status == engine.StatusTimedOut
	if !statusChanged && len(entered) == 0 {
		return nil, nil
	}
	sort.Strings(entered)
	steps := f.stepsOf(ctx, x.MachineARN, x.Version)
	stepOf := func(state string) string {
		if s, ok := steps[state]; ok {
			return s
		}
		return state
	}
	var all []string
	seen := map[string]bool{}
	for _, st := range next.leaves {
		if s := stepOf(st); !seen[s] {
			seen[s] = true
			all = append(all, s)
		}
	}
	sort.Strings(all)
	if all == nil {
		all = []string{}
	}
	who := IdentityOf(x.Name, x.MachineARN, x.Input.V)
	at := x.StartTime
	if !x.StopTime.IsZero() {
		at = x.StopTime
	} else if !x.RedriveTime.IsZero() {
		at = x.RedriveTime
	}
	var out []Event
	stepEvent := func(t *engine.Thread, state, status string) error {
		d := StepDetail{
			ApplicationID: who.ApplicationID, Service: who.Service, ExecutionARN: x.ARN,
			Step: stepOf(state), State: state, Status: status, Steps: all, Sequence: x.LastEventID, Time: at,
		}
		if t != nil {
			d.Thread = t.ID
			if !t.EnteredTime.IsZero() && status == StepEntered {
				d.Time = t.EnteredTime
			}
		}
		if status == StepFailed {
			d.Error, d.Cause = x.Error, x.Cause
			if t != nil {
				d.Input = value.Marshal(t.Input.V)
				if t.Error != "" {
					d.Error, d.Cause = t.Error, t.Cause
				}
			}
		}
		ev, err := newEvent(SourcePosluha, DetailTypeStep, f.bus.o.Region, f.bus.o.Account, d.Time,
			[]string{x.ARN}, d, x.ARN, itoa(x.LastEventID), d.Thread, status)
		if err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	}
	for _, id := range entered {
		if err := stepEvent(findThread(x.Root, id), next.leaves[id], StepEntered); err != nil {
			return nil, err
		}
	}
	if failed && statusChanged {
		t := failedLeaf(x.Root)
		state := ""
		if t != nil {
			state = t.State
		}
		if err := stepEvent(t, state, StepFailed); err != nil {
			return nil, err
		}
	}
	if statusChanged {
		ev, err := f.statusEvent(x)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func (f *Feed) statusEvent(x *engine.Execution) (Event, error) {
	d := ExecutionDetail{
		ExecutionARN: x.ARN, StateMachineARN: x.MachineARN, Name: x.Name, Status: x.Status,
		StartDate: millis(x.StartTime), Input: string(value.Marshal(x.Input.V)),
		InputDetails: IncludedDetails{Included: true}, RedriveCount: x.RedriveCount, Sequence: x.LastEventID,
		RedriveStatus: "NOT_REDRIVABLE", RedriveStatusReason: "Execution is RUNNING and cannot be redriven",
	}
	at := x.StartTime
	if !x.StopTime.IsZero() {
		ms := millis(x.StopTime)
		d.StopDate, at = &ms, x.StopTime
		d.RedriveStatus, d.RedriveStatusReason = "REDRIVABLE", ""
		if x.Status == engine.StatusSucceeded {
			d.RedriveStatus, d.RedriveStatusReason = "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
		}
	}
	if !x.RedriveTime.IsZero() {
		ms := millis(x.RedriveTime)
		d.RedriveDate = &ms
		if x.StopTime.IsZero() {
			at = x.RedriveTime
		}
	}
	if x.HasOutput {
		s := string(value.Marshal(x.Output.V))
		d.Output, d.OutputDetails = &s, &IncludedDetails{Included: true}
	}
	if x.HasError {
		d.Error = &x.Error
	}
	if x.HasCause {
		d.Cause = &x.Cause
	}
	return newEvent(SourceStates, DetailTypeExecution, f.bus.o.Region, f.bus.o.Account, at,
		[]string{x.ARN}, d, x.ARN, itoa(x.LastEventID), x.Status)
}

func findThread(t *engine.Thread, id string) *engine.Thread {
	if t == nil {
		return nil
	}
	if t.ID == id {
		return t
	}
	for _, c := range t.Children {
		if f := findThread(c, id); f != nil {
			return f
		}
	}
	return nil
}

// failedLeaf is the deepest failed thread: the state that failed and the
// input it had (a Parallel or Map fails because one of its children did).
func failedLeaf(t *engine.Thread) *engine.Thread {
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

// FailedThread returns the id, state and input of the thread an execution
// failed in ("" when it has none): what "fix the data and resend" edits.
func FailedThread(x *engine.Execution) (id, state string, input any) {
	t := failedLeaf(x.Root)
	if t == nil {
		return "", "", nil
	}
	return t.ID, t.State, t.Input.V
}

// Replay publishes the current state of every execution in the store to h,
// batch executions at a time, as if each had just been saved: a projection
// created after the executions (a new console, a lost projection file)
// catches up from the store itself, never from GetExecutionHistory. The
// events carry the records' sequences, so a projection that has them
// already skips them.
func (f *Feed) Replay(ctx context.Context, h Handler, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	// Oldest first, so that when two executions carry the same application
	// the newer one's state is applied last. Only the ARNs are kept while
	// paging: records are read one at a time below.
	var arns []string
	for after := ""; ; {
		xs, next, err := f.Store.ListExecutions(ctx, "", after, 1000)
		if err != nil {
			return 0, fmt.Errorf("replay: list executions: %w", err)
		}
		for _, x := range xs {
			arns = append(arns, x.ARN)
		}
		if next == "" {
			break
		}
		after = next
	}
	var evs []Event
	n := 0
	flush := func() error {
		if len(evs) == 0 {
			return nil
		}
		if err := h(ctx, evs); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		evs = evs[:0]
		return nil
	}
	for i := len(arns) - 1; i >= 0; i-- {
		x, err := f.Store.GetExecution(ctx, arns[i])
		if errors.Is(err, engine.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("replay: %w", err)
		}
		e, err := f.diff(ctx, nil, summarize(x), x)
		if err != nil {
			return n, fmt.Errorf("replay %s: %w", x.ARN, err)
		}
		evs = append(evs, e...)
		if n++; n%batch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}
