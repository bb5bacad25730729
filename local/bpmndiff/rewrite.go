package bpmndiff

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// The rewrite works on the definition's JSON (not the compiler's model) so
// that it changes nothing of the compiler's output beyond what it says:
//
//   - an exclusive gateway's Choice (Comment "bpmn:<gateway>") gets a Task
//     in front, under the Choice's name, that asks the invoker for the flow
//     of this visit and assigns it to $posluhaFlow; each rule
//     ("bpmn:<flow>") becomes "$posluhaFlow = flow, or, when the scenario
//     does not say, the original condition";
//   - an inclusive gateway's guard Choice asks whether its flow is among
//     the scenario's flows for the gateway, the same way;
//   - a standard loop repeats, and a multi-instance runs, as many times as
//     the reference trace shows (the counter condition and the Map's
//     Items are replaced);
//   - an activity (Task or Pass with Comment "bpmn:<activity>") becomes a
//     waitForTaskToken Task on the test invoker, keeping its Catch,
//     TimeoutSeconds, Assign, Output and transitions but not its Retry
//     (an error boundary should fire on the first failure).

const flowVar = "posluhaFlow"

type rewriter struct {
	defs   *bpmn.Definitions
	counts map[string]int    // loop/multi-instance id → iterations in the reference
	names  map[string]string // state name → Comment, after the rewrite
	n      int
}

func elementOf(comment string) string {
	id, ok := strings.CutPrefix(comment, "bpmn:")
	if !ok {
		return ""
	}
	return id
}

// rewrite returns the rewritten definition.
func (r *rewriter) rewrite(asl []byte) ([]byte, error) {
	var def map[string]any
	if err := json.Unmarshal(asl, &def); err != nil {
		return nil, fmt.Errorf("decode definition: %w", err)
	}
	r.states(def)
	return json.Marshal(def)
}

func (r *rewriter) states(scope map[string]any) {
	states, _ := scope["States"].(map[string]any)
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	for _, name := range names {
		st, _ := states[name].(map[string]any)
		if st == nil {
			continue
		}
		if brs, ok := st["Branches"].([]any); ok {
			for _, b := range brs {
				if bm, ok := b.(map[string]any); ok {
					r.states(bm)
				}
			}
		}
		if ip, ok := st["ItemProcessor"].(map[string]any); ok {
			r.states(ip)
		}
		if it, ok := st["Iterator"].(map[string]any); ok {
			r.states(it)
		}
		typ, _ := st["Type"].(string)
		comment, _ := st["Comment"].(string)
		r.names[name] = comment
		id := elementOf(comment)
		node := r.defs.Node(id)
		switch {
		case typ == "Choice" && node != nil && node.Kind.IsGateway():
			r.pick(states, name, st, map[string]any{"kind": "pick", "id": id}, false)
		case typ == "Choice" && comment == "":
			rules, _ := st["Choices"].([]any)
			if len(rules) != 1 {
				continue
			}
			rule, _ := rules[0].(map[string]any)
			rc, _ := rule["Comment"].(string)
			f := r.defs.Flow(elementOf(rc))
			if f == nil || f.Source == nil || f.Source.Kind != bpmn.InclusiveGateway {
				continue
			}
			r.pick(states, name, st, map[string]any{"kind": "guard", "id": f.Source.ID, "flow": f.ID}, true)
		case typ == "Choice" && strings.HasPrefix(comment, "loop of bpmn:"):
			n, ok := r.counts[strings.TrimPrefix(comment, "loop of bpmn:")]
			rules, _ := st["Choices"].([]any)
			if !ok || len(rules) != 1 {
				continue
			}
			rule, _ := rules[0].(map[string]any)
			assign, _ := rule["Assign"].(map[string]any)
			if len(assign) != 1 {
				continue
			}
			for v := range assign {
				rule["Condition"] = fmt.Sprintf("{%% $%s < %d %%}", v, n)
			}
		case typ == "Map" && strings.HasPrefix(comment, "multi-instance of bpmn:"):
			if n, ok := r.counts[strings.TrimPrefix(comment, "multi-instance of bpmn:")]; ok {
				if n == 0 {
					st["Items"] = "{% [] %}"
				} else {
					st["Items"] = fmt.Sprintf("{%% [1..%d] %%}", n)
				}
			}
		case (typ == "Task" || typ == "Pass") && node != nil && (node.Kind.IsTask() || node.Kind == bpmn.CallActivity):
			states[name] = r.activity(st, id, typ)
		}
	}
}

// pick puts a Task asking the invoker in front of a Choice.
func (r *rewriter) pick(states map[string]any, name string, st map[string]any, ask map[string]any, guard bool) {
	r.n++
	moved := fmt.Sprintf("~choice %d", r.n)
	rules, _ := st["Choices"].([]any)
	for _, x := range rules {
		rule, _ := x.(map[string]any)
		rc, _ := rule["Comment"].(string)
		fid := elementOf(rc)
		if fid == "" {
			continue
		}
		orig, _ := rule["Condition"].(string)
		orig = strings.TrimSpace(orig)
		orig = strings.TrimSuffix(strings.TrimPrefix(orig, "{%"), "%}")
		want := fmt.Sprintf("%q", fid)
		if guard {
			want = "true"
		}
		if strings.TrimSpace(orig) == "" {
			orig = "false"
		}
		rule["Condition"] = fmt.Sprintf("{%% ($%s = %s) or ($%s = null and (%s)) %%}", flowVar, want, flowVar, orig)
	}
	states[moved] = st
	r.names[moved], _ = st["Comment"].(string)
	states[name] = map[string]any{
		"Type":      "Task",
		"Comment":   "scenario choice",
		"Resource":  "arn:aws:states:::lambda:invoke",
		"Arguments": map[string]any{"FunctionName": "bpmndiff", "Payload": ask},
		"Assign":    map[string]any{flowVar: "{% $states.result.Payload %}"},
		"Output":    "{% $states.input %}",
		"Next":      moved,
	}
	r.names[name] = "scenario choice"
}

// activity turns an activity's state into a callback task on the invoker.
func (r *rewriter) activity(st map[string]any, id, typ string) map[string]any {
	t := map[string]any{
		"Type":      "Task",
		"Comment":   st["Comment"],
		"Resource":  "arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Arguments": map[string]any{"FunctionName": "bpmndiff", "Payload": map[string]any{"kind": "activity", "id": id}},
	}
	for _, k := range []string{"Next", "End", "Catch", "Assign", "Output", "TimeoutSeconds", "HeartbeatSeconds", "QueryLanguage"} {
		if v, ok := st[k]; ok {
			t[k] = v
		}
	}
	if _, ok := t["Output"]; !ok && typ == "Pass" {
		t["Output"] = "{% $states.input %}"
	}
	return t
}
