package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/scenario"
	"github.com/posluha/posluha/local/signer"
	"github.com/posluha/posluha/local/stack"
	"github.com/posluha/posluha/query/value"
)

// Main is the program: ParseFlags picks the subcommand and its options,
// Run does the work, Close releases what Run opened. Tests drive it
// directly with their own Stdout.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer

	cmd    string
	exec   execOptions
	eng    *engine.Engine
	serve  serveOptions
	stack  *stack.Stack
	args   []string // a subcommand's own arguments, for those that parse them themselves
	sub    string   // storage migrate|backup
	admin  adminOptions
	load   loadOptions
	replay replayOptions
}

type execOptions struct {
	definition string
	input      string
	mocks      string
	history    bool
	realTime   bool
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main { return &Main{Stdout: os.Stdout, Stderr: os.Stderr} }

const usage = `usage: posluha <command> [flags]

commands:
  serve  run the local stack (what make run runs)
  exec   run one execution of a definition in memory and print it as JSON
  test   run the services' scenario tests (statemachines/<service>/tests/*.yaml)
  storage migrate|backup   copy documents between S3-compatible stores (resumable, verified)
  backup, restore          archive or restore the whole data directory (stack stopped)
  load   play a burst of citizens against the stack (started in this process) and reconcile
  queue replay             move dead-lettered submissions back to the queue
  signer sign --tax N --hash H   the simulated citizen's signing app: sign a request's hash (CMS, base64)`

// ParseFlags reads the subcommand and its flags.
func (m *Main) ParseFlags(_ context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	m.cmd = args[0]
	switch m.cmd {
	case "exec":
		fs := flag.NewFlagSet("exec", flag.ContinueOnError)
		fs.SetOutput(m.Stderr)
		fs.StringVar(&m.exec.definition, "definition", "", "ASL definition file (JSON)")
		fs.StringVar(&m.exec.input, "input", "{}", "execution input (JSON)")
		fs.StringVar(&m.exec.mocks, "mocks", "", "JSON file: Task state name → list of {\"output\": …} or {\"error\": …, \"cause\": …}")
		fs.BoolVar(&m.exec.history, "history", false, "add the execution's history events")
		fs.BoolVar(&m.exec.realTime, "real-time", false, "wait in wall-clock time (default: a virtual clock jumps over Wait states and retry intervals)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if m.exec.definition == "" {
			return errors.New("exec: --definition is required")
		}
		return nil
	case "serve":
		return m.parseServe(args[1:])
	case "test":
		m.args = args[1:]
		return nil
	case "storage":
		return m.parseStorage(args[1:])
	case "backup", "restore":
		return m.parseArchive(m.cmd, args[1:])
	case "load":
		return m.parseLoad(args[1:])
	case "queue":
		return m.parseQueue(args[1:])
	case "signer":
		if len(args) < 2 || args[1] != "sign" {
			return errors.New("usage: posluha signer sign --tax N --hash H [--dir data/pki] [--out FILE]")
		}
		m.args = args[2:]
		return nil
	case "-h", "--help", "help":
		return errors.New(usage)
	}
	return fmt.Errorf("unknown command %q\n%s", m.cmd, usage)
}

// Run runs the subcommand.
func (m *Main) Run(ctx context.Context) error {
	switch m.cmd {
	case "exec":
		return m.runExec(ctx)
	case "serve":
		return m.runServe(ctx)
	case "storage":
		return m.runStorage(ctx)
	case "backup":
		return m.runBackup(ctx)
	case "restore":
		return m.runRestore(ctx)
	case "load":
		return m.runLoad(ctx)
	case "queue":
		return m.runQueueReplay(ctx)
	case "signer":
		return signer.RunCLI(ctx, m.args, m.Stdout)
	case "test":
		if code := scenario.Main(ctx, m.args, m.Stdout, m.Stderr); code != 0 {
			return ExitError(code)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", m.cmd)
}

// Close stops the engine if Run started one.
func (m *Main) Close() error {
	if m.stack != nil {
		return m.stack.Close()
	}
	if m.eng != nil {
		return m.eng.Close()
	}
	return nil
}

// ExitError is a failure that has said what it had to say and only needs
// the process to exit with its code (posluha test: 1 a scenario failed,
// 2 a malformed file).
type ExitError int

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (m *Main) runExec(ctx context.Context) error {
	def, err := os.ReadFile(m.exec.definition)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	var inv engine.Invoker = &engine.Router{}
	if m.exec.mocks != "" {
		b, err := os.ReadFile(m.exec.mocks)
		if err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		resp, err := engine.ParseMocks(b)
		if err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		mk := engine.NewMocks(resp)
		mk.Fallback = inv
		inv = mk
	}
	var clock engine.Clock = engine.RealClock{}
	if !m.exec.realTime {
		clock = engine.NewVirtualClock(time.Now())
	}
	store := engine.NewMemStore()
	m.eng = engine.New(engine.Config{Store: store, Clock: clock, Invoker: inv, AutoAdvance: true})
	if err := m.eng.Start(ctx); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(m.exec.definition), filepath.Ext(m.exec.definition))
	if !validName(name) {
		name = "exec"
	}
	sm, err := m.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: name, Definition: string(def), RoleARN: "arn:aws:iam::111111111111:role/posluha-exec"})
	if err != nil {
		// No execution exists: print the same shape (callers parse one
		// format) and fail, as CreateStateMachine would.
		var ae *engine.APIError
		code, msg := "InvalidDefinition", err.Error()
		if errors.As(err, &ae) {
			code, msg = ae.Code, ae.Message
		}
		o := value.ObjectOf("status", "INVALID_DEFINITION", "error", code, "cause", msg)
		if _, werr := m.Stdout.Write(append(value.AppendIndent(nil, o, "", "  "), '\n')); werr != nil {
			return werr
		}
		return fmt.Errorf("exec: %s: %w", m.exec.definition, err)
	}
	x, err := m.eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: "exec", Input: m.exec.input})
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	x, err = m.eng.AwaitSettled(ctx, x.ARN)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	out := describe(x)
	if m.exec.history {
		events, err := m.eng.History(ctx, x.ARN)
		if err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		list := make([]any, len(events))
		for i := range events {
			list[i] = events[i].AWS()
		}
		out.Set("events", list)
	}
	_, err = m.Stdout.Write(append(value.AppendIndent(nil, out, "", "  "), '\n'))
	return err
}

func validName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// describe renders DescribeExecution's fields (output as JSON text).
func describe(x *engine.Execution) *value.Object {
	o := value.NewObject(10)
	o.Set("executionArn", x.ARN)
	o.Set("stateMachineArn", x.MachineARN)
	o.Set("name", x.Name)
	o.Set("status", x.Status)
	o.Set("startDate", x.StartTime.UTC().Format(time.RFC3339Nano))
	if !x.StopTime.IsZero() {
		o.Set("stopDate", x.StopTime.UTC().Format(time.RFC3339Nano))
	}
	o.Set("input", value.String(x.Input.V))
	if x.HasOutput {
		o.Set("output", value.String(x.Output.V))
	}
	if x.HasError {
		o.Set("error", x.Error)
	}
	if x.HasCause {
		o.Set("cause", x.Cause)
	}
	return o
}
