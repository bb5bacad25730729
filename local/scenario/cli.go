package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Usage is the help text of `posluha test`.
const Usage = `usage: posluha test [flags] [statemachines/<service> …]

Runs the scenarios (tests/*.yaml) of each service folder — by default every
folder under statemachines/ that has tests/ — in the local engine with
registries, signers and citizens mocked, on a virtual clock.

flags:
  --format text|junit|json   report format (default text)
  --run REGEXP               only scenarios whose name or file matches
  --coverage FILE            write the coverage JSON ({"elements", "flows"})
                             for 'bpmn2asl graph --coverage'; with several
                             services, {service} in FILE is replaced
  --html FILE                write the HTML coverage report (bpmn-js); as above
  -v                         draw every scenario's path, not only failures

exit status: 0 all passed, 1 a scenario failed, 2 a file is malformed or
the BPMN does not compile.
`

// Main is `posluha test`: it parses args (without the command name), runs
// the scenarios and writes the report to stdout, problems to stderr. It
// returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("posluha test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	format := fs.String("format", "text", "text, junit or json")
	run := fs.String("run", "", "scenario filter (regular expression)")
	covFile := fs.String("coverage", "", "coverage JSON file")
	htmlFile := fs.String("html", "", "HTML coverage report")
	verbose := fs.Bool("v", false, "draw every path")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch *format {
	case "text", "junit", "json":
	default:
		fmt.Fprintf(stderr, "posluha test: --format %q: want text, junit or json\n", *format)
		return 2
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		found, _ := filepath.Glob(filepath.Join("statemachines", "*", "tests"))
		for _, d := range found {
			dirs = append(dirs, filepath.Dir(d))
		}
		sort.Strings(dirs)
		if len(dirs) == 0 {
			fmt.Fprintln(stderr, "posluha test: no statemachines/*/tests folders here; name a service folder")
			return 2
		}
	}
	several := len(dirs) > 1
	for _, f := range []string{*covFile, *htmlFile} {
		if several && f != "" && !strings.Contains(f, "{service}") {
			fmt.Fprintf(stderr, "posluha test: %s: with several services put {service} in the file name\n", f)
			return 2
		}
	}
	status := 0
	var reports []*Report
	for _, dir := range dirs {
		rep, err := Run(ctx, dir, Options{Run: *run})
		if err != nil {
			fmt.Fprintf(stderr, "%s\n", err)
			status = 2
			continue
		}
		reports = append(reports, rep)
		if !rep.Passed() && status == 0 {
			status = 1
		}
		name := func(f string) string { return strings.ReplaceAll(f, "{service}", rep.Service) }
		if *covFile != "" {
			if err := rep.Coverage.WriteFile(name(*covFile)); err != nil {
				fmt.Fprintf(stderr, "posluha test: %v\n", err)
				status = 2
			}
		}
		if *htmlFile != "" {
			var buf bytes.Buffer
			err := WriteHTML(ctx, &buf, rep, NodeModules(dir))
			if err == nil {
				err = os.WriteFile(name(*htmlFile), buf.Bytes(), 0o644)
			}
			if err != nil {
				fmt.Fprintf(stderr, "posluha test: html report: %v\n", err)
				status = 2
			}
		}
	}
	var err error
	switch *format {
	case "junit":
		err = WriteJUnit(stdout, reports)
	case "json":
		err = writeJSON(stdout, reports)
	default:
		for _, r := range reports {
			if err = r.WriteText(stdout, *verbose); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "posluha test: %v\n", err)
		return 2
	}
	return status
}

// writeJSON prints a machine-readable summary.
func writeJSON(w io.Writer, reports []*Report) error {
	type scen struct {
		Name     string   `json:"name"`
		File     string   `json:"file"`
		Passed   bool     `json:"passed"`
		Status   string   `json:"status"`
		Error    string   `json:"error,omitempty"`
		Failures []string `json:"failures,omitempty"`
		Path     []string `json:"path"`
	}
	type svc struct {
		Service   string    `json:"service"`
		Scenarios []scen    `json:"scenarios"`
		Coverage  *Coverage `json:"coverage"`
	}
	var out []svc
	for _, r := range reports {
		s := svc{Service: r.Service, Coverage: r.Coverage}
		for _, res := range r.Results {
			ids := make([]string, len(res.Path))
			for i, p := range res.Path {
				ids[i] = p.ID
			}
			s.Scenarios = append(s.Scenarios, scen{Name: res.Scenario.Name, File: res.Scenario.File, Passed: res.Passed,
				Status: res.Status, Error: res.Error, Failures: res.Failures, Path: ids})
		}
		out = append(out, s)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
