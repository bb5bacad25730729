package bpmn2asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// These tests run compiled definitions in the local Step Functions engine
// through its command line (`posluha exec`, built by `make build` into
// bin/posluha; the compiler does not import local/). They skip when the
// binary is missing.

func posluhaBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("POSLUHA_BIN"); p != "" {
		return p
	}
	p, err := filepath.Abs("../bin/posluha")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("bin/posluha not built (make build)")
	}
	return p
}

type execResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Cause  string `json:"cause"`
	Events []struct {
		Type    string `json:"type"`
		Entered *struct {
			Name string `json:"name"`
		} `json:"stateEnteredEventDetails"`
	} `json:"events"`
}

// comments maps every state name of a definition to its Comment.
func comments(states asl.States, out map[string]string) {
	for _, st := range states {
		out[st.Name] = st.Comment
		for _, b := range st.Branches {
			comments(b.States, out)
		}
		if st.ItemProcessor != nil {
			comments(st.ItemProcessor.States, out)
		}
	}
}

// runEngine executes a compiled definition with mocks keyed by BPMN
// element id (each a list of responses, the last one repeating) and
// returns the result and the activities it ran, in history order.
func runEngine(t *testing.T, bin string, res *Result, defs *bpmn.Definitions, input string, mocks map[string][]map[string]any) (execResult, []string) {
	t.Helper()
	dir := t.TempDir()
	def := filepath.Join(dir, "def.json")
	if err := os.WriteFile(def, res.ASL, 0o644); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	comments(res.Definition.States, names)
	byName := map[string][]map[string]any{}
	for name, c := range names {
		id := elementID(c)
		st := findState(res.Definition.States, name)
		if st == nil || st.Type != asl.TypeTask {
			continue
		}
		resp, ok := mocks[id]
		if !ok {
			switch {
			case strings.HasSuffix(st.Resource, "waitForTaskToken"):
				resp = []map[string]any{{"output": map[string]any{}}}
			case strings.Contains(st.Resource, "startExecution"):
				resp = []map[string]any{{"output": map[string]any{"Output": map[string]any{}}}}
			default:
				resp = []map[string]any{{"output": map[string]any{"Payload": map[string]any{}}}}
			}
		}
		for len(resp) < 8 {
			resp = append(resp, resp[len(resp)-1])
		}
		byName[name] = resp
	}
	mb, _ := json.Marshal(byName)
	mf := filepath.Join(dir, "mocks.json")
	if err := os.WriteFile(mf, mb, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "exec", "--definition", def, "--input", input, "--mocks", mf, "--history")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("posluha exec: %v\n%s", err, stderr.String())
	}
	var r execResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("posluha exec output: %v\n%s", err, out)
	}
	var ran []string
	for _, ev := range r.Events {
		if ev.Entered == nil || !strings.HasSuffix(ev.Type, "StateEntered") {
			continue
		}
		if id := elementID(names[ev.Entered.Name]); id != "" && defs.Node(id) != nil && (defs.Node(id).Kind.IsTask() || defs.Node(id).Kind == bpmn.CallActivity) {
			ran = append(ran, id)
		}
	}
	return r, ran
}

func findState(states asl.States, name string) *asl.State {
	for _, st := range states {
		if st.Name == name {
			return st
		}
		for _, b := range st.Branches {
			if s := findState(b.States, name); s != nil {
				return s
			}
		}
		if st.ItemProcessor != nil {
			if s := findState(st.ItemProcessor.States, name); s != nil {
				return s
			}
		}
	}
	return nil
}

// flatten lists the activities of a reference trace (parallel branches
// concatenated, loops expanded by their iteration count).
func flatten(items []any) []string {
	var out []string
	for _, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			switch {
			case v["subProcess"] != nil:
				b, _ := v["body"].([]any)
				out = append(out, flatten(b)...)
			case v["parallel"] != nil:
				brs, _ := v["parallel"].([]any)
				for _, b := range brs {
					bl, _ := b.([]any)
					out = append(out, flatten(bl)...)
				}
			case v["loop"] != nil:
				switch its := v["iterations"].(type) {
				case []any:
					for _, i := range its {
						il, _ := i.([]any)
						out = append(out, flatten(il)...)
					}
				case float64:
					for range int(its) {
						out = append(out, v["loop"].(string))
					}
				}
			}
		}
	}
	return out
}

// TestEngineDifferential runs testdata scenarios in the local engine, with
// inputs and mocks that steer it down the scenario's path, and compares the
// activities it runs with bpmn-engine's trace (as a multiset; in order when
// the trace has no parallel part).
func TestEngineDifferential(t *testing.T) {
	bin := posluhaBin(t)
	type mocks = map[string][]map[string]any
	ok := func(payload map[string]any) map[string]any {
		return map[string]any{"output": map[string]any{"Payload": payload}}
	}
	fail := func(name string) map[string]any { return map[string]any{"error": name, "cause": "mocked"} }
	tests := []struct {
		model    string
		scenario int
		input    string
		mocks    mocks
	}{
		{"sequence", 0, `{"applicationId":"a1","form":{"taxNumber":"123"}}`, mocks{"read_tax": {ok(map[string]any{"income": 5})}}},
		{"exclusive", 0, `{"applicationId":"a1"}`, mocks{"check": {ok(map[string]any{"eligible": true, "age": 30})}}},
		{"exclusive", 1, `{"applicationId":"a1"}`, mocks{"check": {ok(map[string]any{"eligible": true, "age": 12})}}},
		{"exclusive", 2, `{"applicationId":"a1"}`, mocks{"check": {ok(map[string]any{"eligible": false, "age": 30})}}},
		{"loop_goto", 0, `{"attempts":0}`, mocks{"verify": {ok(map[string]any{"valid": true})}}},
		{"loop_goto", 1, `{"attempts":0}`, mocks{"verify": {ok(map[string]any{"valid": false}), ok(map[string]any{"valid": true})}}},
		{"loop_goto", 2, `{"attempts":5}`, mocks{"verify": {ok(map[string]any{"valid": false})}}},
		{"parallel", 0, `{}`, mocks{"tax": {ok(map[string]any{"income": 10})}, "property": {ok(map[string]any{"objects": []any{1, 2}})}}},
		{"inclusive", 0, `{"citizen":{"phone":"+380"}}`, nil},
		{"inclusive", 2, `{"citizen":{}}`, nil},
		{"inclusive", 3, `{"citizen":{"phone":"+380","email":"a@b"}}`, nil},
		{"error_boundary", 0, `{}`, nil},
		{"error_boundary", 2, `{}`, mocks{"lookup": {fail("Registry.BadRequest")}}},
		{"subprocess", 0, `{}`, nil},
		{"multi_instance", 0, `{"signers":[{"taxNumber":"1"},{"taxNumber":"2"}],"form":{"heirs":["a","b"]}}`, nil},
		{"standard_loop", 0, `{}`, mocks{"poll": {ok(map[string]any{"status": "pending"}), ok(map[string]any{"status": "done"})}}},
		{"call_activity", 0, `{}`, nil},
		{"callbacks", 0, `{"form":{"iban":"UA00"}}`, nil},
		{"custom_task", 0, `{"price":2,"quantity":3}`, nil},
		{"timers", 0, `{}`, nil},
		{"two_starts", 0, `{}`, nil},
		{"links", 0, `{}`, nil},
		{"parallel_group", 0, `{}`, nil},
		{"reminders", 0, `{}`, nil},
		{"escalation", 0, `{}`, mocks{"es_check": {ok(map[string]any{"over": true})}}},
		{"escalation", 1, `{}`, mocks{"es_check": {ok(map[string]any{"over": false})}}},
		{"timer_expression", 0, `{"minutes":5,"deadline":"P1D"}`, nil},
		{"event_gateway", 0, `{}`, nil},
		{"boundary_race", 0, `{}`, nil},
		{"end_events", 3, `{}`, mocks{"check_fraud": {ok(map[string]any{"fraud": false})}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s#%d", tc.model, tc.scenario), func(t *testing.T) {
			base := filepath.Join("testdata", tc.model)
			src, err := os.ReadFile(base + ".bpmn")
			if err != nil {
				t.Fatal(err)
			}
			res, ds := Compile(tc.model+".bpmn", src, Options{Service: "test-service"})
			if res == nil {
				t.Fatalf("does not compile: %v", ds)
			}
			defs, _ := bpmn.Parse(tc.model, src)
			var cases []traceCase
			data, _ := os.ReadFile(base + ".traces.json")
			if err := json.Unmarshal(data, &cases); err != nil || tc.scenario >= len(cases) {
				t.Fatalf("scenario %d of %s.traces.json: %v", tc.scenario, base, err)
			}
			r, ran := runEngine(t, bin, res, defs, tc.input, tc.mocks)
			if r.Status != "SUCCEEDED" {
				t.Errorf("execution %s: %s: %s", r.Status, r.Error, r.Cause)
			}
			var ref []any
			json.Unmarshal(cases[tc.scenario].Trace, &ref)
			want := flatten(ref)
			parallel := strings.Contains(string(cases[tc.scenario].Trace), "parallel") || strings.Contains(string(cases[tc.scenario].Trace), `"sequential":false`)
			got := slices.Clone(ran)
			if parallel {
				slices.Sort(want)
				slices.Sort(got)
			}
			if !slices.Equal(got, want) {
				t.Errorf("engine ran %v, bpmn-engine %v (scenario %s)", ran, want, canon(cases[tc.scenario].Scenario))
			}
		})
	}
}

// TestEngineRunsEverything executes every compiled testdata model with
// empty task results: no definition may fail on a query evaluation or
// runtime error (undefined variables, bad JSONata, wrong shapes).
func TestEngineRunsEverything(t *testing.T) {
	bin := posluhaBin(t)
	for _, path := range testCases(t) {
		res, _ := compileFile(t, path)
		if res == nil {
			continue
		}
		src, _ := os.ReadFile(path)
		defs, _ := bpmn.Parse(path, src)
		r, _ := runEngine(t, bin, res, defs, `{"applicationId":"a1"}`, nil)
		if engineFailure(r) {
			t.Errorf("%s: %s %s: %s", path, r.Status, r.Error, r.Cause)
		}
	}
}

// TestEngineCorpus executes every compiled model of the shared corpus in
// the local engine with empty task results: none may fail with a States.*
// error (query evaluation, runtime).
func TestEngineCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	bin := posluhaBin(t)
	n, bad := 0, 0
	for _, p := range corpus(t) {
		src, _ := os.ReadFile(p)
		res, _ := Compile(p, src, Options{Service: "corpus"})
		if res == nil {
			continue
		}
		defs, _ := bpmn.Parse(p, src)
		r, _ := runEngine(t, bin, res, defs, `{"applicationId":"a1"}`, nil)
		n++
		if engineFailure(r) {
			bad++
			t.Errorf("%s: %s %s: %.300s", p, r.Status, r.Error, r.Cause)
		}
	}
	t.Logf("corpus in the local engine: %d compiled models run, %d failed with a States.* error", n, bad)
}

// TestEngineServices compiles the services in statemachines/ and runs each
// in the local engine with empty task results: they must succeed or end on
// a named (non-States.*) error.
func TestEngineServices(t *testing.T) {
	bin := posluhaBin(t)
	files, _ := filepath.Glob("../statemachines/*/process.bpmn")
	if len(files) == 0 {
		t.Skip("no services")
	}
	for _, p := range files {
		svc := filepath.Base(filepath.Dir(p))
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, ds := Compile(p, src, Options{Service: svc})
		if res == nil {
			t.Errorf("%s does not compile: %v", svc, ds)
			continue
		}
		defs, _ := bpmn.Parse(p, src)
		r, _ := runEngine(t, bin, res, defs, `{"applicationId":"a1","form":{}}`, nil)
		if engineFailure(r) {
			t.Errorf("%s: %s %s: %.300s", svc, r.Status, r.Error, r.Cause)
		}
	}
}

// engineFailure reports a run that failed for a reason the compiler owns:
// an invalid definition or a States.* error (query evaluation, runtime).
// Named errors (Payment.Failed from an error end event) are the model's.
func engineFailure(r execResult) bool {
	return r.Status == "" || r.Status == "INVALID_DEFINITION" || r.Error == "InvalidDefinition" || strings.HasPrefix(r.Error, "States.")
}

// TestEngineCorpusDifferential runs, in the local engine, the corpus
// scenarios that need no steering (no gateway choices, no boundary events)
// and compares the activities with bpmn-engine's trace.
func TestEngineCorpusDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	bin := posluhaBin(t)
	traceDir := filepath.Join(filepath.Dir(conformanceDir), "traces")
	files, _ := filepath.Glob(filepath.Join(traceDir, "*.json"))
	if len(files) == 0 {
		t.Skip("no reference traces")
	}
	run, agree := 0, 0
	for _, tf := range files {
		var doc struct {
			Model     string      `json:"model"`
			Scenarios []traceCase `json:"scenarios"`
		}
		data, err := os.ReadFile(tf)
		if err != nil || json.Unmarshal(data, &doc) != nil {
			continue
		}
		path := filepath.Join(filepath.Dir(conformanceDir), doc.Model)
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		defs, _ := bpmn.Parse(path, src)
		for _, tc := range doc.Scenarios {
			if len(tc.Scenario.Choices) > 0 || len(tc.Scenario.Boundary) > 0 {
				continue
			}
			res, _ := Compile(path, src, Options{Service: "corpus", Process: tc.Scenario.Process})
			if res == nil {
				continue
			}
			run++
			// bpmn-engine runs every multi-instance twice: give each input
			// collection two items.
			input := map[string]any{"applicationId": "a1"}
			for _, p := range defs.Processes {
				p.Walk(func(n *bpmn.Node) bool {
					if n.Loop != nil && n.Loop.MultiInstance {
						if c := strings.TrimSpace(strings.TrimPrefix(n.Loop.InputCollection, "=")); validIdent(c) {
							input[c] = []any{map[string]any{}, map[string]any{}}
						}
					}
					return true
				})
			}
			in, _ := json.Marshal(input)
			r, ran := runEngine(t, bin, res, defs, string(in), nil)
			var ref []any
			json.Unmarshal(tc.Trace, &ref)
			want := flatten(ref)
			got := slices.Clone(ran)
			if strings.Contains(string(tc.Trace), "parallel") || strings.Contains(string(tc.Trace), "loop") {
				slices.Sort(want)
				slices.Sort(got)
			}
			if slices.Equal(got, want) && !engineFailure(r) {
				agree++
			} else {
				t.Errorf("%s %s: engine %s %v, bpmn-engine %v", doc.Model, canon(tc.Scenario), r.Status, ran, want)
			}
		}
	}
	t.Logf("corpus in the local engine: %d/%d unsteered scenarios run the same activities as bpmn-engine", agree, run)
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// TestEngineLoopMaximum: a standard loop whose condition always holds runs
// loopMaximum times.
func TestEngineLoopMaximum(t *testing.T) {
	bin := posluhaBin(t)
	src, err := os.ReadFile("testdata/standard_loop.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	res, ds := Compile("standard_loop.bpmn", src, Options{Service: "test-service"})
	if res == nil {
		t.Fatalf("does not compile: %v", ds)
	}
	defs, _ := bpmn.Parse("standard_loop.bpmn", src)
	pending := map[string]any{"output": map[string]any{"Payload": map[string]any{"status": "pending"}}}
	r, ran := runEngine(t, bin, res, defs, `{}`, map[string][]map[string]any{"poll": {pending}})
	if r.Status != "SUCCEEDED" || len(ran) != 5 {
		t.Errorf("loopMaximum 5: %s, ran %v", r.Status, ran)
	}
}

// TestEngineExpected runs paths the reference cannot steer (or where it
// deliberately differs) and checks the activities and the outcome.
func TestEngineExpected(t *testing.T) {
	bin := posluhaBin(t)
	type mocks = map[string][]map[string]any
	fail := func(name string) map[string]any { return map[string]any{"error": name, "cause": "mocked"} }
	ok := func(payload map[string]any) map[string]any {
		return map[string]any{"output": map[string]any{"Payload": payload}}
	}
	tests := []struct {
		name, model, input string
		mocks              mocks
		status             string
		want               []string
	}{
		{"registry not found → ask the citizen", "error_boundary", `{}`, mocks{"lookup": {fail("Registry.NotFound")}}, "SUCCEEDED", []string{"lookup", "ask_citizen"}},
		{"any other failure → support", "error_boundary", `{}`, mocks{"lookup": {fail("Registry.BadRequest")}}, "SUCCEEDED", []string{"lookup", "support"}},
		{"user task times out", "timers", `{}`, mocks{"confirm": {fail("States.Timeout")}}, "SUCCEEDED", []string{"confirm"}},
		{"error end event fails the execution", "end_events", `{}`, mocks{"check_fraud": {ok(map[string]any{"fraud": nil})}}, "FAILED", []string{"check_fraud", "prepare?"}},
		{"terminate in a branch ends the execution", "end_events", `{}`, mocks{"check_fraud": {ok(map[string]any{"fraud": true})}}, "SUCCEEDED", []string{"check_fraud", "prepare?"}},
		{"second start event", "two_starts", `{"startEvent":"partner-request"}`, nil, "SUCCEEDED", []string{"b", "a"}},
		{"inclusive default when nothing else holds", "inclusive", `{"citizen":{}}`, nil, "SUCCEEDED", []string{"letter"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", tc.model+".bpmn"))
			if err != nil {
				t.Fatal(err)
			}
			res, ds := Compile(tc.model+".bpmn", src, Options{Service: "test-service"})
			if res == nil {
				t.Fatalf("does not compile: %v", ds)
			}
			defs, _ := bpmn.Parse(tc.model, src)
			r, ran := runEngine(t, bin, res, defs, tc.input, tc.mocks)
			// "x?" is an activity in a sibling branch that the terminating or
			// failing branch may cancel before or after it runs: both are
			// right, so it is dropped from both sides.
			var want []string
			optional := map[string]bool{}
			for _, w := range tc.want {
				if name, ok := strings.CutSuffix(w, "?"); ok {
					optional[name] = true
					continue
				}
				want = append(want, w)
			}
			got := slices.DeleteFunc(slices.Clone(ran), func(a string) bool { return optional[a] })
			slices.Sort(got)
			slices.Sort(want)
			if r.Status != tc.status || !slices.Equal(got, want) {
				t.Errorf("%s %s (%s), ran %v; want %s, %v", r.Status, r.Error, r.Cause, ran, tc.status, tc.want)
			}
		})
	}
}
