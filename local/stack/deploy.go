package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/local/engine"
)

// Service is one compiled service folder (statemachines/<id>/process.bpmn).
type Service struct {
	ID         string
	ProcessID  string
	File       string
	MachineARN string
	Version    int
	ModTime    time.Time
	ASL        []byte // as compiled, before substitution
}

// Deployer compiles every statemachines/<svc>/process.bpmn and deploys it
// to the engine, one state machine per service, a new version on change.
type Deployer struct {
	Engine    *engine.Engine
	Dir       string   // the statemachines folder
	Functions []string // functions the stack runs, for ${<Name>FunctionArn}

	services map[string]*Service
	failed   map[string]time.Time // file → mtime that failed to compile, reported once
}

// DeployError lists every service that failed to compile or deploy.
type DeployError struct {
	Diagnostics []diag.Diagnostic
	Errs        []error
}

func (e *DeployError) Error() string {
	var b strings.Builder
	for _, d := range e.Diagnostics {
		if d.Severity == diag.Error {
			fmt.Fprintf(&b, "%s:%d:%d: %s [%s]\n", d.File, d.Line, d.Col, d.Message, d.Code)
		}
	}
	for _, err := range e.Errs {
		fmt.Fprintln(&b, err)
	}
	return strings.TrimSpace(b.String())
}

// Services returns the deployed services by id.
func (d *Deployer) Services() []*Service {
	out := make([]*Service, 0, len(d.services))
	for _, s := range d.services {
		if s.MachineARN != "" {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Sync compiles and deploys every service whose BPMN changed since the last
// Sync (all of them the first time). A service that fails to compile keeps
// its previous version running; the error names it. It returns the ids of
// the services it deployed.
func (d *Deployer) Sync(ctx context.Context) ([]string, error) {
	if d.services == nil {
		d.services, d.failed = map[string]*Service{}, map[string]time.Time{}
	}
	files, err := filepath.Glob(filepath.Join(d.Dir, "*", "process.bpmn"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var compiled []*Service
	derr := &DeployError{}
	for _, f := range files {
		id := filepath.Base(filepath.Dir(f))
		st, err := os.Stat(f)
		if err != nil {
			derr.Errs = append(derr.Errs, err)
			continue
		}
		if old := d.services[id]; old != nil && old.ModTime.Equal(st.ModTime()) {
			continue
		}
		if t, ok := d.failed[f]; ok && t.Equal(st.ModTime()) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			derr.Errs = append(derr.Errs, err)
			continue
		}
		res, ds := bpmn2asl.Compile(f, src, bpmn2asl.Options{Service: id})
		if res == nil {
			derr.Diagnostics = append(derr.Diagnostics, ds...)
			d.failed[f] = st.ModTime()
			continue
		}
		delete(d.failed, f)
		compiled = append(compiled, &Service{ID: id, ProcessID: res.ProcessID, File: f, ModTime: st.ModTime(), ASL: res.ASL})
	}
	// Substitute once every compiled service is known, so that call
	// activities can name services compiled in the same pass.
	for _, s := range compiled {
		d.services[s.ID] = s
	}
	var deployed []string
	for _, s := range compiled {
		def, err := d.substitute(s.ASL)
		if err != nil {
			derr.Errs = append(derr.Errs, fmt.Errorf("%s: %w", s.File, err))
			continue
		}
		if err := d.deploy(ctx, s, def); err != nil {
			derr.Errs = append(derr.Errs, fmt.Errorf("deploy %s: %w", s.ID, err))
			continue
		}
		deployed = append(deployed, s.ID)
	}
	if len(derr.Diagnostics) > 0 || len(derr.Errs) > 0 {
		return deployed, derr
	}
	return deployed, nil
}

func (d *Deployer) deploy(ctx context.Context, s *Service, def string) error {
	arn := d.Engine.MachineARN(s.ID)
	if _, err := d.Engine.DescribeMachine(ctx, arn); err == nil {
		out, err := d.Engine.UpdateMachine(ctx, arn, def, "")
		if err != nil {
			return err
		}
		s.MachineARN, s.Version = arn, out.Version
		return nil
	}
	out, err := d.Engine.CreateMachine(ctx, engine.CreateMachineInput{Name: s.ID, Definition: def, Type: "STANDARD"})
	if err != nil {
		return err
	}
	s.MachineARN, s.Version = out.ARN, out.Version
	return nil
}

var substitution = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// substitute replaces DefinitionSubstitutions the way SAM does in AWS:
// function ARNs by the local ARN of the function that the stack runs, state
// machine ARNs by the service compiled from that process.
func (d *Deployer) substitute(asl []byte) (string, error) {
	values := map[string]string{}
	for _, f := range d.Functions {
		values[posluha.SubstitutionName(f)] = posluha.LocalFunctionARN(f)
	}
	for _, s := range d.services {
		arn := d.Engine.MachineARN(s.ID)
		values[posluha.StateMachineSubstitution(s.ProcessID)] = arn
		values[posluha.StateMachineSubstitution(s.ID)] = arn
	}
	var missing []string
	out := substitution.ReplaceAllStringFunc(string(asl), func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := values[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		return "", errors.New("no value for substitution " + strings.Join(missing, ", ") + " (a custom task type needs its function in functions/, a call activity its service in statemachines/)")
	}
	return out, nil
}
