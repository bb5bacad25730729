package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// CompileFunc is the compiler entry the CLI drives; bpmn2asl.Compile in
// production, a fake in tests.
type CompileFunc func(file string, src []byte, opts bpmn2asl.Options) (*bpmn2asl.Result, []diag.Diagnostic)

// Main is the command, testable in-process: tests set the writers and
// Getenv, call ParseFlags with arguments and check Run's exit code.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (GITHUB_ACTIONS).
	Getenv func(string) string
	// Compile is the compiler entry.
	Compile CompileFunc

	// Parsed flags.
	Command   string
	Args      []string
	Format    string // "text" or "json"
	Output    string // -o
	All       string // compile --all DIR
	Verify    bool   // compile --all --check: fail when a file is stale
	Coverage  string // graph --coverage FILE
	Service   string
	Process   string
	ParseOnly bool // check --parse-only: stop after the parser
}

// NewMain returns a Main wired to the process's stdio and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Compile: bpmn2asl.Compile}
}

const usage = `usage:
  bpmn2asl check [--format text|json] [--parse-only] FILE|DIR...
  bpmn2asl compile FILE [-o OUT.asl.json] [--service ID] [--process ID]
  bpmn2asl compile --all DIR [--check]
  bpmn2asl graph FILE [--coverage COVERAGE.json] [-o OUT.mmd]
  bpmn2asl explain [CODE...]          what a diagnostic code means (all codes without CODE)`

// ParseFlags reads the sub-command and its flags. Flags may follow
// positional arguments ("compile a.bpmn -o a.asl.json").
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	m.Command = args[0]
	switch m.Command {
	case "check", "compile", "graph", "explain":
	case "help", "-h", "--help", "-help":
		return errors.New(usage)
	default:
		return fmt.Errorf("unknown command %q\n%s", m.Command, usage)
	}
	fs := flag.NewFlagSet("bpmn2asl "+m.Command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.Format, "format", "text", "diagnostics format: text or json")
	fs.StringVar(&m.Service, "service", "", "service id (default: the BPMN file's folder name)")
	fs.StringVar(&m.Process, "process", "", "process id to compile when the file has several")
	switch m.Command {
	case "check":
		fs.BoolVar(&m.ParseOnly, "parse-only", false, "report parser diagnostics only")
	case "compile":
		fs.StringVar(&m.Output, "o", "", "output file (default stdout)")
		fs.StringVar(&m.All, "all", "", "compile every DIR/<service>/process.bpmn")
		fs.BoolVar(&m.Verify, "check", false, "with --all: write nothing, fail when an output is missing or stale")
	case "graph":
		fs.StringVar(&m.Output, "o", "", "output file (default stdout)")
		fs.StringVar(&m.Coverage, "coverage", "", `coverage JSON {"elements": {id: hits}, "flows": {id: hits}}`)
	}
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%v\n%s", err, usage)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		m.Args = append(m.Args, rest[0])
		rest = rest[1:]
	}
	if m.Format != "text" && m.Format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", m.Format)
	}
	switch m.Command {
	case "check":
		if len(m.Args) == 0 {
			return fmt.Errorf("check needs at least one FILE or DIR\n%s", usage)
		}
	case "compile":
		if m.All != "" {
			if len(m.Args) > 0 || m.Output != "" {
				return fmt.Errorf("compile --all takes no FILE and no -o\n%s", usage)
			}
		} else {
			if len(m.Args) != 1 {
				return fmt.Errorf("compile needs exactly one FILE (or --all DIR)\n%s", usage)
			}
			if m.Verify {
				return errors.New("--check goes with --all")
			}
		}
	case "explain":
		if m.Format != "text" {
			return errors.New("explain prints text only")
		}
	case "graph":
		if len(m.Args) != 1 {
			return fmt.Errorf("graph needs exactly one FILE\n%s", usage)
		}
	}
	return nil
}

// Run executes the parsed command and returns the exit code.
func (m *Main) Run(ctx context.Context) int {
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if m.Compile == nil {
		m.Compile = bpmn2asl.Compile
	}
	switch m.Command {
	case "check":
		return m.check(ctx)
	case "compile":
		if m.All != "" {
			return m.compileAll(ctx)
		}
		return m.compileOne()
	case "graph":
		return m.graph()
	case "explain":
		return m.explain()
	}
	fmt.Fprintln(m.Stderr, usage)
	return exitUsage
}

// report prints diagnostics in the chosen format and returns exitError
// when any is an error. toStdout says stdout is free (no definition or
// graph was written to it).
func (m *Main) report(ds []diag.Diagnostic, toStdout bool) int {
	diag.Sort(ds)
	switch m.Format {
	case "json":
		w := m.Stdout
		if !toStdout {
			w = m.Stderr
		}
		_ = diag.WriteJSON(w, ds)
	default:
		_ = diag.WriteText(m.Stderr, ds)
	}
	if m.Getenv("GITHUB_ACTIONS") == "true" {
		// The runner reads workflow commands from stdout and stderr; keep
		// stdout clean when it carries a definition or a JSON report.
		w := m.Stdout
		if !toStdout || m.Format == "json" {
			w = m.Stderr
		}
		_ = diag.WriteGitHub(w, ds)
	}
	if diag.HasErrors(ds) {
		return exitError
	}
	return exitOK
}

func cannotRead(file string, err error) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: file, Message: err.Error()}
}

// expand turns FILE|DIR arguments into BPMN files (directories are walked
// for *.bpmn, sorted).
func expand(args []string) ([]string, []diag.Diagnostic) {
	var files []string
	var ds []diag.Diagnostic
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			ds = append(ds, cannotRead(a, err))
			continue
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				ds = append(ds, cannotRead(p, err))
				return nil
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".bpmn") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			ds = append(ds, cannotRead(a, err))
		}
		if len(found) == 0 {
			ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: a, Message: "no .bpmn file in the directory"})
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, ds
}

// serviceOf is the service id of a BPMN file: --service, else the name of
// its folder.
func (m *Main) serviceOf(file string) string {
	if m.Service != "" {
		return m.Service
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	return filepath.Base(filepath.Dir(abs))
}

func (m *Main) options(file string) bpmn2asl.Options {
	return bpmn2asl.Options{Service: m.serviceOf(file), Process: m.Process}
}

func (m *Main) check(ctx context.Context) int {
	files, ds := expand(m.Args)
	failed := 0
	for _, f := range files {
		if ctx.Err() != nil {
			ds = append(ds, cannotRead(f, ctx.Err()))
			break
		}
		src, err := os.ReadFile(f)
		if err != nil {
			ds = append(ds, cannotRead(f, err))
			failed++
			continue
		}
		var fds []diag.Diagnostic
		if m.ParseOnly {
			_, fds = bpmn.Parse(f, src)
		} else {
			_, fds = m.Compile(f, src, m.options(f))
		}
		if diag.HasErrors(fds) {
			failed++
		}
		ds = append(ds, fds...)
	}
	code := m.report(ds, true)
	if m.Format == "text" && len(files) > 1 {
		fmt.Fprintf(m.Stderr, "%d files checked, %d with errors: %s\n", len(files), failed, diag.Summary(ds))
	}
	return code
}

func (m *Main) compileOne() int {
	file := m.Args[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return m.report([]diag.Diagnostic{cannotRead(file, err)}, true)
	}
	res, ds := m.Compile(file, src, m.options(file))
	if res == nil || diag.HasErrors(ds) {
		return m.report(ds, true)
	}
	if m.Output == "" {
		if _, err := m.Stdout.Write(res.ASL); err != nil {
			ds = append(ds, cannotRead("-", err))
		}
		return m.report(ds, false)
	}
	if err := writeFile(m.Output, res.ASL); err != nil {
		ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: m.Output, Message: err.Error()})
	}
	return m.report(ds, true)
}

// compileAll compiles DIR/<svc>/process.bpmn for every service folder into
// DIR/<svc>/process.asl.json (service id = folder name). With --check it
// writes nothing and reports stale or missing outputs.
func (m *Main) compileAll(ctx context.Context) int {
	entries, err := os.ReadDir(m.All)
	if err != nil {
		return m.report([]diag.Diagnostic{cannotRead(m.All, err)}, true)
	}
	var ds []diag.Diagnostic
	n, written, stale, upToDate := 0, 0, 0, 0
	for _, e := range entries {
		if !e.IsDir() || ctx.Err() != nil {
			continue
		}
		file := filepath.Join(m.All, e.Name(), "process.bpmn")
		src, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a folder without a process (shared assets)
		}
		n++
		if err != nil {
			ds = append(ds, cannotRead(file, err))
			continue
		}
		res, fds := m.Compile(file, src, bpmn2asl.Options{Service: e.Name(), Process: m.Process})
		ds = append(ds, fds...)
		if res == nil || diag.HasErrors(fds) {
			continue
		}
		out := filepath.Join(m.All, e.Name(), "process.asl.json")
		if m.Verify {
			old, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(old, res.ASL) {
				stale++
				ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: out,
					Message: "the generated definition is missing or out of date",
					Hint:    "run: bpmn2asl compile --all " + m.All})
			}
			continue
		}
		if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, res.ASL) {
			upToDate++
			continue // leave the file (and its mtime) alone
		}
		if err := writeFile(out, res.ASL); err != nil {
			ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: out, Message: err.Error()})
			continue
		}
		written++
	}
	if n == 0 {
		ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: m.All,
			Message: "no <service>/process.bpmn under the directory"})
	}
	code := m.report(ds, true)
	if m.Format == "text" {
		if m.Verify {
			fmt.Fprintf(m.Stderr, "%d services checked, %d stale: %s\n", n, stale, diag.Summary(ds))
		} else {
			fmt.Fprintf(m.Stderr, "%d services, %d definitions written (%d up to date): %s\n", n, written, upToDate, diag.Summary(ds))
		}
	}
	return code
}

func (m *Main) graph() int {
	file := m.Args[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return m.report([]diag.Diagnostic{cannotRead(file, err)}, true)
	}
	var cov *Coverage
	var ds []diag.Diagnostic
	if m.Coverage != "" {
		c, d := readCoverage(m.Coverage)
		if d != nil {
			return m.report([]diag.Diagnostic{*d}, true)
		}
		cov = c
	}
	res, cds := m.Compile(file, src, m.options(file))
	ds = append(ds, cds...)
	if res == nil || res.Definition == nil || diag.HasErrors(ds) {
		return m.report(ds, true)
	}
	out := MermaidFlows(res.Definition, cov, flowsOf(file, src))
	if m.Output == "" {
		_, _ = io.WriteString(m.Stdout, out)
		return m.report(ds, false)
	}
	if err := writeFile(m.Output, []byte(out)); err != nil {
		ds = append(ds, diag.Diagnostic{Severity: diag.Error, Code: diag.CannotRead, File: m.Output, Message: err.Error()})
	}
	return m.report(ds, true)
}

// Coverage is what `posluha test` writes: hits per BPMN element and flow.
type Coverage struct {
	Elements map[string]int `json:"elements"`
	Flows    map[string]int `json:"flows"`
}

func readCoverage(path string) (*Coverage, *diag.Diagnostic) {
	b, err := os.ReadFile(path)
	if err != nil {
		d := cannotRead(path, err)
		return nil, &d
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Coverage
	if err := dec.Decode(&c); err != nil || (c.Elements == nil && c.Flows == nil) {
		msg := "no \"elements\" or \"flows\" object"
		if err != nil {
			msg = err.Error()
		}
		return nil, &diag.Diagnostic{Severity: diag.Error, Code: diag.BadCoverage, File: path,
			Message: "bad coverage file: " + msg, Hint: `expected {"elements": {"<id>": hits}, "flows": {"<id>": hits}} as written by posluha test`}
	}
	return &c, nil
}

// writeFile writes atomically (temp file + rename) so a failed run never
// leaves a half-written definition.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return err
	}
	return os.Rename(name, path)
}

// modelFlows implements Flows over the parsed BPMN model.
type modelFlows struct{ defs *bpmn.Definitions }

// Label implements Flows.
func (m modelFlows) Label(id string) string {
	f := m.defs.Flow(id)
	switch {
	case f == nil:
		return ""
	case f.Name != "":
		return f.Name
	case f.Condition != nil:
		return f.Condition.Text
	}
	return ""
}

// Between implements Flows.
func (m modelFlows) Between(from, to string) string {
	n := m.defs.Node(from)
	if n == nil {
		return ""
	}
	for _, f := range n.Outgoing {
		if f.Target != nil && f.Target.ID == to {
			return f.ID
		}
	}
	return ""
}

// Default implements Flows.
func (m modelFlows) Default(id string) string {
	if n := m.defs.Node(id); n != nil && n.Default != nil {
		return n.Default.ID
	}
	return ""
}

// flowsOf parses src for the graph's flow labels (nil when it does not
// parse, which Compile has then already reported).
func flowsOf(file string, src []byte) Flows {
	defs, _ := bpmn.Parse(file, src)
	if defs == nil {
		return nil
	}
	return modelFlows{defs}
}

// explain prints the documentation of the given codes (every code when
// none is given); an unknown code exits 1.
func (m *Main) explain() int {
	infos := diag.Codes()
	if len(m.Args) > 0 {
		infos = infos[:0]
		for _, a := range m.Args {
			i, ok := diag.Code(strings.ToUpper(a)).Info()
			if !ok {
				fmt.Fprintf(m.Stderr, "unknown code %q\n", a)
				return exitError
			}
			infos = append(infos, i)
		}
	}
	for _, i := range infos {
		fmt.Fprintf(m.Stdout, "%s  %-7s  %s\n", i.Code, i.Severity, i.Summary)
	}
	return exitOK
}
