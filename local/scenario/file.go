package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Scenario is one tests/*.yaml file.
type Scenario struct {
	// File is the path the scenario was read from.
	File string `yaml:"-"`
	// Name describes the case; the file name when empty.
	Name string `yaml:"name"`
	// Description is free text for people.
	Description string `yaml:"description"`
	// Citizen and Form are the execution input's citizen and form.
	Citizen map[string]any `yaml:"citizen"`
	Form    map[string]any `yaml:"form"`
	// Input is merged into the execution input's top level (other process
	// variables the diagram reads straight from the input).
	Input map[string]any `yaml:"input"`
	// Answers are keyed by BPMN element id or by connector.
	Answers map[string]Answers `yaml:"answers"`
	// Expect is what must happen.
	Expect Expect `yaml:"expect"`

	pos map[string]string // YAML path → "file:line:col", for messages
}

// Answer is what a registry, signer or citizen answers to one call.
type Answer struct {
	// Result is the task's result (the Lambda's payload, or what the
	// citizen or signer sends back for a callback task).
	Result any `yaml:"result"`
	// Error fails the call with a named error (Registry.Unavailable,
	// Registry.NotFound, Signature.Invalid, …); Cause is its message.
	Error string `yaml:"error"`
	Cause string `yaml:"cause"`
	// Never leaves the call unanswered: the execution waits, and any timer
	// racing it (a 30-day deadline) fires.
	Never bool `yaml:"never"`
}

// Answers is a sequence of answers, one per call; the last one repeats. In
// YAML a single answer may stand alone.
type Answers []Answer

// UnmarshalYAML accepts one answer or a list of them. It decodes through
// the library's node (not bytes) so errors keep the file's positions.
func (a *Answers) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isList := raw.([]any); isList {
		var list []Answer
		if err := unmarshal(&list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	var one Answer
	if err := unmarshal(&one); err != nil {
		return err
	}
	*a = Answers{one}
	return nil
}

// Expect is what a scenario must observe.
type Expect struct {
	// Path lists BPMN element ids or names in the order they must be
	// reached (other elements may come between them unless ExactPath).
	Path      []string `yaml:"path"`
	ExactPath bool     `yaml:"exactPath"`
	// NotReached lists elements that must not be reached.
	NotReached []string `yaml:"notReached"`
	// Status is SUCCEEDED (default) or FAILED; Error the failure's name.
	Status string `yaml:"status"`
	Error  string `yaml:"error"`
	// Output is a subset the execution's output must contain (objects
	// compared field by field, other values exactly). The output holds
	// every process variable.
	Output map[string]any `yaml:"output"`
	// Variables is the same check as Output, for readers who think of the
	// process variables rather than the output.
	Variables map[string]any `yaml:"variables"`
	// Notifications are the event.write calls with action notify or
	// status, in order; each entry is a subset of the call's fields (step,
	// action, template, status, reason, other task headers).
	Notifications []map[string]any `yaml:"notifications"`
	// Documents are the document.pdf calls, in order, matched the same way
	// (step, template, fields).
	Documents []map[string]any `yaml:"documents"`
	// Calls, when set, counts the calls to elements or connectors:
	// {read_owners: 2}.
	Calls map[string]int `yaml:"calls"`
}

// FileError is a problem in a scenario file, with its position.
type FileError struct {
	File      string
	Line, Col int
	Message   string
}

// Error implements error as "file:line:col: message".
func (e *FileError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Message)
}

// Load reads the scenarios of a service folder's tests/ directory, sorted
// by file name. A malformed file is a *FileError.
func Load(serviceDir string) ([]*Scenario, error) {
	files, err := filepath.Glob(filepath.Join(serviceDir, "tests", "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list scenarios of %s: %w", serviceDir, err)
	}
	more, _ := filepath.Glob(filepath.Join(serviceDir, "tests", "*.yml"))
	files = append(files, more...)
	sort.Strings(files)
	var out []*Scenario
	var errs []error
	for _, f := range files {
		sc, err := LoadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sc)
	}
	return out, errors.Join(errs...)
}

// LoadFile reads one scenario file.
func LoadFile(file string) (*Scenario, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(file, src)
}

// Parse decodes a scenario; unknown fields and wrong types are errors with
// the file:line:col of the offending value.
func Parse(file string, src []byte) (sc *Scenario, err error) {
	// The YAML library is third-party code reading analysts' files: a
	// panic in it must not take `posluha test` down.
	defer func() {
		if r := recover(); r != nil {
			sc, err = nil, &FileError{File: file, Message: fmt.Sprintf("cannot read the YAML: %v", r)}
		}
	}()
	sc = &Scenario{}
	if err := yaml.UnmarshalWithOptions(src, sc, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(file, err)
	}
	sc.File = file
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	sc.pos = positions(file, src)
	if err := sc.validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

func yamlError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return &FileError{File: file, Line: tk.Position.Line, Col: tk.Position.Column, Message: ye.GetMessage()}
		}
		return &FileError{File: file, Message: ye.GetMessage()}
	}
	return &FileError{File: file, Message: err.Error()}
}

// positions maps the YAML paths of the keys and list items under expect and
// answers to their positions, so semantic errors can point at them.
func positions(file string, src []byte) map[string]string {
	out := map[string]string{}
	f, err := parser.ParseBytes(src, 0)
	if err != nil || len(f.Docs) == 0 {
		return out
	}
	var walk func(prefix string, n ast.Node)
	walk = func(prefix string, n ast.Node) {
		if n == nil {
			return
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			if _, ok := out[prefix]; !ok {
				out[prefix] = fmt.Sprintf("%s:%d:%d", file, tk.Position.Line, tk.Position.Column)
			}
		}
		switch v := n.(type) {
		case *ast.MappingNode:
			for _, kv := range v.Values {
				walk(prefix+"."+kv.Key.String(), kv.Value)
			}
		case *ast.MappingValueNode:
			walk(prefix+"."+v.Key.String(), v.Value)
		case *ast.SequenceNode:
			for i, it := range v.Values {
				walk(fmt.Sprintf("%s[%d]", prefix, i), it)
			}
		}
	}
	walk("$", f.Docs[0].Body)
	return out
}

// errorAt returns a FileError at the position of a YAML path.
func (sc *Scenario) errorAt(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if at, ok := sc.pos[path]; ok {
		return fmt.Errorf("%s: %s", at, msg)
	}
	return &FileError{File: sc.File, Message: msg}
}

// where returns "file:line:col" of a YAML path, or the file name.
func (sc *Scenario) where(path string) string {
	if at, ok := sc.pos[path]; ok {
		return at
	}
	return sc.File
}

func (sc *Scenario) validate() error {
	var errs []error
	for key, list := range sc.Answers {
		if len(list) == 0 {
			errs = append(errs, sc.errorAt("$.answers."+key, "answers for %q: give at least one answer", key))
		}
		for i, a := range list {
			n := 0
			if a.Result != nil {
				n++
			}
			if a.Error != "" {
				n++
			}
			if a.Never {
				n++
			}
			if n > 1 {
				p := fmt.Sprintf("$.answers.%s[%d]", key, i)
				if len(list) == 1 {
					if _, ok := sc.pos[p]; !ok {
						p = "$.answers." + key
					}
				}
				errs = append(errs, sc.errorAt(p, "answer for %q: give one of result, error, never", key))
			}
		}
	}
	switch sc.Expect.Status {
	case "", "SUCCEEDED", "FAILED", "RUNNING":
	default:
		errs = append(errs, sc.errorAt("$.expect.status", "expect.status: %q is not SUCCEEDED, FAILED or RUNNING", sc.Expect.Status))
	}
	if sc.Expect.Error != "" && sc.Expect.Status != "FAILED" {
		errs = append(errs, sc.errorAt("$.expect.error", "expect.error needs status: FAILED"))
	}
	sortErrors(errs)
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

func sortErrors(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}
