package scenario

import (
	"context"
	"sync"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// invoker answers the tasks of one scenario's execution from its answers:
// by the payload's step (the BPMN element id) first, then by connector.
// Nothing runs for real.
type invoker struct {
	m  *model
	sc *Scenario

	mu  sync.Mutex
	n   map[string]int // answers used per key
	log []Call
}

func newInvoker(m *model, sc *Scenario) *invoker {
	return &invoker{m: m, sc: sc, n: map[string]int{}}
}

func (v *invoker) calls() []Call {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Call(nil), v.log...)
}

// Invoke implements engine.Invoker.
func (v *invoker) Invoke(_ context.Context, c *engine.Call) (any, error) {
	in, _ := value.ToGo(c.Input).(map[string]any)
	payload, _ := in["Payload"].(map[string]any)
	if payload == nil && c.Service == "states" {
		payload = in // a call activity's input
	}
	str := func(k string) string { s, _ := payload[k].(string); return s }
	call := Call{Step: str("step"), Action: str("action"), Connector: str("connector")}
	if call.Step == "" {
		call.Step = elementOf(c.StateComment)
	}
	if args, ok := payload["arguments"].(map[string]any); ok {
		call.Arguments = args
	}
	if n := v.m.defs.Node(call.Step); n != nil {
		call.TaskType = n.TaskType()
	}

	v.mu.Lock()
	var ans *Answer
	key := call.Step
	list, ok := v.sc.Answers[key]
	if !ok && call.Connector != "" {
		key = call.Connector
		list, ok = v.sc.Answers[key]
	}
	if ok && len(list) > 0 {
		i := v.n[key]
		v.n[key] = i + 1
		if i >= len(list) {
			i = len(list) - 1
		}
		ans = &list[i]
	}
	switch {
	case ans == nil:
		call.Answer = "default"
	case ans.Never:
		call.Answer = "never"
	case ans.Error != "":
		call.Answer = "error " + ans.Error
	default:
		call.Answer = "result"
	}
	v.log = append(v.log, call)
	v.mu.Unlock()

	callback := c.Pattern == "waitForTaskToken" || c.Pattern == "sync" || c.Pattern == "sync:2"
	if ans != nil && ans.Never {
		if c.Pattern == "waitForTaskToken" {
			return value.NewObject(0), nil // parked: nobody ever sends the token back
		}
		// A synchronous call cannot hang the engine; never answering is
		// what its timeout turns into.
		return nil, &engine.Failure{Name: "States.Timeout", Cause: "the scenario never answers " + key}
	}
	if ans != nil && ans.Error != "" {
		f := &engine.Failure{Name: ans.Error, Cause: ans.Cause}
		if callback {
			return &engine.Completed{Err: f}, nil
		}
		return nil, f
	}
	var result any = map[string]any{}
	if ans != nil && ans.Result != nil {
		result = ans.Result
	}
	out, err := value.FromGo(normalize(result))
	if err != nil {
		return nil, &engine.Failure{Name: "States.TaskFailed", Cause: "scenario answer for " + key + ": " + err.Error()}
	}
	switch {
	case c.Service == "states":
		env, _ := value.FromGo(map[string]any{"Status": "SUCCEEDED"})
		o := env.(*value.Object)
		o.Set("Output", out)
		return &engine.Completed{Output: o}, nil
	case callback:
		return &engine.Completed{Output: out}, nil
	}
	env := value.ObjectOf("StatusCode", float64(200))
	env.Set("Payload", out)
	return env, nil
}

func elementOf(comment string) string {
	const prefix = "bpmn:"
	if len(comment) > len(prefix) && comment[:len(prefix)] == prefix {
		return comment[len(prefix):]
	}
	return ""
}
