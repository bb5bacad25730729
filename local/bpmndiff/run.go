package bpmndiff

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// Outcome is what one scenario did in the local engine.
type Outcome struct {
	// Activities are the activity ids the execution entered, in history
	// order (a multi-instance activity once per iteration).
	Activities []string
	Status     string
	Error      string
	Cause      string
}

// Run runs a compiled model in a fresh local engine under the scenario of
// c and returns the activities it ran. timeout bounds the wall time (the
// clock is virtual; only a timer that repeats forever needs it).
func Run(ctx context.Context, defs *bpmn.Definitions, res *bpmn2asl.Result, c Case, timeout time.Duration) (*Outcome, error) {
	var raw []any
	if err := json.Unmarshal(c.Trace, &raw); err != nil {
		return nil, fmt.Errorf("reference trace: %w", err)
	}
	counts := map[string]int{}
	Counts(raw, counts)
	rw := &rewriter{defs: defs, counts: counts, names: map[string]string{}}
	asl, err := rw.rewrite(res.ASL)
	if err != nil {
		return nil, err
	}
	inv := newInvoker(defs, c.Scenario)
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Clock: engine.NewVirtualClock(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)),
		Invoker: inv, AutoAdvance: true})
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := eng.Start(ctx); err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}
	defer eng.Close()
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "diff", Definition: string(asl)})
	if err != nil {
		return nil, fmt.Errorf("the engine rejects the rewritten definition: %w", err)
	}
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: "diff", Input: `{"applicationId": "diff-1"}`})
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	// Non-interrupting boundary events let their host activity finish after
	// the event's own path: answer those hosts once nothing else moves.
	for round := 0; ; round++ {
		x, err = eng.AwaitSettled(ctx, x.ARN)
		if err != nil {
			return nil, fmt.Errorf("the execution did not settle: %w", err)
		}
		if x.Status != engine.StatusRunning || round > 20 {
			break
		}
		toks := inv.takeReleases()
		if len(toks) == 0 {
			break
		}
		for _, tok := range toks {
			if err := eng.SendTaskSuccess(ctx, tok, `{"Payload": {}}`); err != nil {
				return nil, fmt.Errorf("answer a released activity: %w", err)
			}
		}
	}
	events, err := eng.History(context.WithoutCancel(ctx), x.ARN)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	out := &Outcome{Status: x.Status, Error: x.Error, Cause: x.Cause}
	for _, ev := range events {
		if ev.Type != "TaskStateEntered" || ev.Details == nil {
			continue
		}
		nv, _ := ev.Details.Get("name")
		name, _ := nv.(string)
		id := elementOf(rw.names[name])
		if n := defs.Node(id); n != nil && (n.Kind.IsTask() || n.Kind == bpmn.CallActivity) {
			out.Activities = append(out.Activities, id)
		}
	}
	return out, nil
}

// invoker plays the scenario: it answers the gateway questions the
// rewrite added and decides, per activity visit, which boundary event
// fires.
type invoker struct {
	defs *bpmn.Definitions

	mu       sync.Mutex
	choices  map[string][]json.RawMessage
	boundary map[string][]*string
	firing   map[string]bool // boundary/catch events that must win their race now
	decided  map[string]bool // sub-processes whose boundary was decided for this visit
	releases []string        // task tokens to answer once the execution settles
}

func newInvoker(defs *bpmn.Definitions, sc Scenario) *invoker {
	v := &invoker{defs: defs, choices: map[string][]json.RawMessage{}, boundary: map[string][]*string{},
		firing: map[string]bool{}, decided: map[string]bool{}}
	for k, l := range sc.Choices {
		v.choices[k] = append([]json.RawMessage(nil), l...)
	}
	for k, l := range sc.Boundary {
		v.boundary[k] = append([]*string(nil), l...)
	}
	return v
}

func (v *invoker) takeReleases() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.releases
	v.releases = nil
	return out
}

// flows decodes one visit's choice: a flow id or a list of them.
func flows(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

func lambdaResult(payload any) any {
	o := value.ObjectOf("StatusCode", float64(200))
	o.Set("Payload", payload)
	return o
}

// Invoke implements engine.Invoker.
func (v *invoker) Invoke(_ context.Context, c *engine.Call) (any, error) {
	in, _ := value.ToGo(c.Input).(map[string]any)
	p, _ := in["Payload"].(map[string]any)
	kind, _ := p["kind"].(string)
	id, _ := p["id"].(string)
	v.mu.Lock()
	defer v.mu.Unlock()
	switch kind {
	case "pick":
		list := v.choices[id]
		if len(list) == 0 {
			return lambdaResult(nil), nil
		}
		v.choices[id] = list[1:]
		fs := flows(list[0])
		if len(fs) == 0 {
			return lambdaResult(nil), nil
		}
		return lambdaResult(fs[0]), nil
	case "guard":
		list := v.choices[id]
		if len(list) == 0 {
			return lambdaResult(nil), nil
		}
		flow, _ := p["flow"].(string)
		for _, f := range flows(list[0]) {
			if f == flow {
				return lambdaResult(true), nil
			}
		}
		return lambdaResult(false), nil
	case "activity":
		return v.activity(id, c)
	}
	// A task the rewrite left alone: an await for a message or a boundary
	// event's branch.
	ev := v.defs.Node(elementOf(c.StateComment))
	answer := true
	if ev != nil && ev.Kind == bpmn.BoundaryEvent {
		answer = v.firing[ev.ID]
		delete(v.firing, ev.ID)
	} else if ev != nil && len(ev.Incoming) == 1 && ev.Incoming[0].Source != nil && ev.Incoming[0].Source.Kind == bpmn.EventBasedGateway {
		gw := ev.Incoming[0].Source.ID
		if list := v.choices[gw]; len(list) > 0 {
			fs := flows(list[0])
			answer = false
			for _, f := range fs {
				if f == ev.ID || f == ev.Incoming[0].ID {
					answer = true
				}
			}
			if answer {
				v.choices[gw] = list[1:]
			}
		}
	}
	switch {
	case c.Pattern == "waitForTaskToken" && answer:
		return &engine.Completed{Output: value.NewObject(0)}, nil
	case c.Pattern == "waitForTaskToken":
		return value.NewObject(0), nil // parked: this event does not happen
	case c.Service == "states":
		return &engine.Completed{Output: value.ObjectOf("Output", value.NewObject(0), "Status", "SUCCEEDED")}, nil
	}
	return lambdaResult(value.NewObject(0)), nil
}

// activity answers one activity visit: at once, with a boundary's error,
// or not at all (a timer or message boundary wins the race).
func (v *invoker) activity(id string, c *engine.Call) (any, error) {
	n := v.defs.Node(id)
	host := id
	var fired *string
	if list := v.boundary[id]; len(list) > 0 {
		fired, v.boundary[id] = list[0], list[1:]
	} else if n != nil {
		// A boundary on an enclosing sub-process is decided at the first
		// activity run inside it on each visit.
		for p := n.Parent; p != nil; p = p.Parent {
			if len(p.Boundaries) == 0 {
				continue
			}
			if !v.decided[p.ID] {
				v.decided[p.ID] = true
				if list := v.boundary[p.ID]; len(list) > 0 {
					fired, v.boundary[p.ID] = list[0], list[1:]
					host = p.ID
				}
			}
			break
		}
		// Leaving a sub-process: its next visit is decided afresh.
		for sp := range v.decided {
			if !inside(n, sp) {
				delete(v.decided, sp)
			}
		}
	}
	ok := &engine.Completed{Output: value.ObjectOf("Payload", value.NewObject(0))}
	if fired == nil {
		return ok, nil
	}
	b := v.defs.Node(*fired)
	if b == nil {
		return ok, nil
	}
	if b.EventKind() == bpmn.ErrorEvent {
		name := b.Event().ErrorCode()
		if name == "" {
			name = "Posluha.Test.Error"
		}
		return &engine.Completed{Err: &engine.Failure{Name: name, Cause: "the scenario fires " + b.ID + " on " + host}}, nil
	}
	v.firing[b.ID] = true
	if !b.CancelActivity && c.TaskToken != "" {
		v.releases = append(v.releases, c.TaskToken)
	}
	return value.NewObject(0), nil // parked: the timer or message wins
}

// inside reports whether n lies in the sub-process with id sp.
func inside(n *bpmn.Node, sp string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.ID == sp {
			return true
		}
	}
	return false
}
