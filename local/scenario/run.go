package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// Options configure Run.
type Options struct {
	// Service is the service id sent to every task; default: the folder's
	// base name.
	Service string
	// Run selects scenarios whose name or file name matches this regular
	// expression; empty runs all.
	Run string
	// Timeout bounds the wall time of one scenario (default 30 s); the
	// virtual clock makes timers free, so only a runaway loop hits it.
	Timeout time.Duration
	// Start is the virtual clock's start (default 2026-03-02 09:00 Kyiv).
	Start time.Time
}

// Report is the outcome of the scenarios of one service.
type Report struct {
	Service  string
	Dir      string
	BPMN     string // path of process.bpmn
	Results  []*Result
	Coverage *Coverage
}

// Passed reports whether every scenario passed.
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if !res.Passed {
			return false
		}
	}
	return true
}

// Result is the outcome of one scenario.
type Result struct {
	Scenario *Scenario
	Passed   bool
	// Failures say what differed, each starting with the scenario's
	// file:line:col where the expectation is written.
	Failures []string
	// Path is what the execution reached, in order.
	Path   []Step
	Status string
	Error  string
	Cause  string
	Output any
	// Calls are the tasks the execution invoked, in order.
	Calls []Call
	// Elapsed is the virtual time the execution took.
	Elapsed time.Duration
	// Wall is the real time the scenario took.
	Wall time.Duration
}

// Step is one BPMN element reached.
type Step struct {
	ID   string
	Name string
	Kind string // "task", "gateway", "event", "subprocess" …
	// Flow is the sequence flow that led here ("" for the first element).
	Flow string
	// At is the virtual time since the start.
	At time.Duration
}

// Call is one task invocation as the mocked services saw it.
type Call struct {
	Step      string
	TaskType  string
	Action    string
	Connector string
	Arguments map[string]any
	// Answer is what the scenario answered: "result", "error <name>",
	// "never" or "default".
	Answer string
}

// fields flattens a call for matching notifications and documents.
func (c Call) fields() map[string]any {
	m := map[string]any{"step": c.Step}
	if c.Action != "" {
		m["action"] = c.Action
	}
	if c.Connector != "" {
		m["connector"] = c.Connector
	}
	for k, v := range c.Arguments {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return m
}

// model is a compiled service.
type model struct {
	service  string
	file     string
	defs     *bpmn.Definitions
	proc     *bpmn.Process
	res      *bpmn2asl.Result
	comments map[string]string // state name → Comment
	waits    map[string]bool   // state names of Wait states (boundary timers count on exit)
}

// Compile compiles a service folder's process.bpmn for the runner.
func compileService(dir, service string) (*model, error) {
	file := filepath.Join(dir, "process.bpmn")
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read process: %w", err)
	}
	res, ds := bpmn2asl.Compile(file, src, bpmn2asl.Options{Service: service})
	if res == nil {
		var msgs []string
		for _, d := range ds {
			if d.Severity == diag.Error {
				msgs = append(msgs, d.Error())
			}
		}
		return nil, fmt.Errorf("compile %s:\n  %s", file, strings.Join(msgs, "\n  "))
	}
	defs, _ := bpmn.Parse(file, src)
	m := &model{service: service, file: file, defs: defs, proc: defs.Process(res.ProcessID), res: res,
		comments: map[string]string{}, waits: map[string]bool{}}
	m.index(res.Definition.States)
	return m, nil
}

func (m *model) index(states asl.States) {
	for _, st := range states {
		m.comments[st.Name] = st.Comment
		if st.Type == asl.TypeWait {
			m.waits[st.Name] = true
		}
		for _, b := range st.Branches {
			m.index(b.States)
		}
		if st.ItemProcessor != nil {
			m.index(st.ItemProcessor.States)
		}
	}
}

// element returns the BPMN node of a state, or nil for helper states.
func (m *model) element(state string) *bpmn.Node {
	id, ok := strings.CutPrefix(m.comments[state], "bpmn:")
	if !ok {
		return nil
	}
	return m.defs.Node(id)
}

// Run compiles the service in dir (statemachines/<service>) and runs its
// tests/*.yaml scenarios. The error is for what stops the whole run (the
// BPMN does not compile, a scenario file is malformed); failing scenarios
// are in the Report.
func Run(ctx context.Context, dir string, opts Options) (*Report, error) {
	if opts.Service == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("service folder %s: %w", dir, err)
		}
		opts.Service = filepath.Base(abs)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC) // 09:00 in Kyiv
	}
	var filter *regexp.Regexp
	if opts.Run != "" {
		re, err := regexp.Compile(opts.Run)
		if err != nil {
			return nil, fmt.Errorf("scenario filter %q: %w", opts.Run, err)
		}
		filter = re
	}
	m, err := compileService(dir, opts.Service)
	if err != nil {
		return nil, err
	}
	scs, err := Load(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, sc := range scs {
		errs = append(errs, m.check(sc)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rep := &Report{Service: opts.Service, Dir: dir, BPMN: m.file, Coverage: newCoverage(m)}
	for _, sc := range scs {
		if filter != nil && !filter.MatchString(sc.Name) && !filter.MatchString(filepath.Base(sc.File)) {
			continue
		}
		res := m.run(ctx, sc, opts)
		rep.Coverage.add(res.Path)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// check reports answers and path entries that name nothing in the model.
func (m *model) check(sc *Scenario) []error {
	connectors := map[string]bool{}
	names := map[string]bool{}
	m.proc.Walk(func(n *bpmn.Node) bool {
		if c, ok := n.Header("connector"); ok {
			connectors[c] = true
		}
		names[n.Name] = true
		return true
	})
	var errs []error
	keys := make([]string, 0, len(sc.Answers))
	for k := range sc.Answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m.defs.Node(k) == nil && !connectors[k] {
			errs = append(errs, sc.errorAt("$.answers."+k, "answers: %q is neither a BPMN element id nor a connector of %s", k, filepath.Base(m.file)))
		}
	}
	for i, p := range append(append([]string(nil), sc.Expect.Path...), sc.Expect.NotReached...) {
		if m.defs.Node(p) == nil && !names[p] {
			path := fmt.Sprintf("$.expect.path[%d]", i)
			if i >= len(sc.Expect.Path) {
				path = fmt.Sprintf("$.expect.notReached[%d]", i-len(sc.Expect.Path))
			}
			errs = append(errs, sc.errorAt(path, "%q is not an element id or name in %s", p, filepath.Base(m.file)))
		}
	}
	for k := range sc.Expect.Calls {
		if m.defs.Node(k) == nil && !connectors[k] {
			errs = append(errs, sc.errorAt("$.expect.calls."+k, "calls: %q is neither a BPMN element id nor a connector", k))
		}
	}
	return errs
}

// input builds the execution input of a scenario.
func (m *model) input(sc *Scenario) string {
	in := map[string]any{}
	for k, v := range sc.Input {
		in[k] = v
	}
	in["applicationId"] = "scenario-" + slug(sc.Name)
	in["service"] = m.service
	if sc.Citizen != nil {
		in["citizen"] = sc.Citizen
	}
	if sc.Form != nil {
		in["form"] = sc.Form
	} else if _, ok := in["form"]; !ok {
		in["form"] = map[string]any{}
	}
	b, _ := json.Marshal(normalize(in))
	return string(b)
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "case"
	}
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}

// run executes one scenario in a fresh engine.
func (m *model) run(ctx context.Context, sc *Scenario, opts Options) *Result {
	began := time.Now()
	res := &Result{Scenario: sc}
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	clock := engine.NewVirtualClock(opts.Start)
	inv := newInvoker(m, sc)
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Clock: clock, Invoker: inv, AutoAdvance: true})
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	defer func() { res.Wall = time.Since(began) }()
	if err := eng.Start(ctx); err != nil {
		fail("%s: start the engine: %v", sc.File, err)
		return res
	}
	defer eng.Close()
	mach, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "scenario", Definition: string(m.res.ASL)})
	if err != nil {
		fail("%s: the engine rejects the compiled definition: %v", sc.File, err)
		return res
	}
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: mach.ARN, Name: "scenario-" + slug(sc.Name), Input: m.input(sc)})
	if err != nil {
		fail("%s: start the execution: %v", sc.File, err)
		return res
	}
	x, err = eng.AwaitSettled(ctx, x.ARN)
	if err != nil {
		fail("%s: the execution did not settle within %s (an endless loop of timers?): %v", sc.File, opts.Timeout, err)
		if x == nil {
			return res
		}
	}
	res.Status, res.Error, res.Cause = x.Status, x.Error, x.Cause
	if x.HasOutput {
		res.Output = normalize(value.ToGo(x.Output.V))
	}
	end := x.StopTime
	if end.IsZero() {
		end = clock.Now()
	}
	res.Elapsed = end.Sub(x.StartTime)
	events, err := eng.History(context.WithoutCancel(ctx), x.ARN)
	if err != nil {
		fail("%s: read the history: %v", sc.File, err)
		return res
	}
	res.Path = m.path(events, x.StartTime)
	res.Calls = inv.calls()
	m.verify(sc, res)
	res.Passed = len(res.Failures) == 0
	return res
}

// normalize turns YAML- or JSON-decoded values into JSON's model (numbers
// as float64, maps with string keys) so that they compare equal.
func normalize(v any) any {
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// jsonable converts map[any]any (which some YAML decoders produce) to
// map[string]any.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = jsonable(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = jsonable(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonable(x)
		}
		return out
	}
	return v
}
