// Package emit turns one BPMN process into an ASL state machine.
package emit

import (
	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

// Options configure the emitter.
type Options struct {
	// Service is the service id sent to every task.
	Service string
}

// Process compiles proc. It returns the definition (nil on errors), the
// DefinitionSubstitutions names it uses, and the diagnostics.
func Process(defs *bpmn.Definitions, proc *bpmn.Process, opts Options) (*asl.StateMachine, []string, []diag.Diagnostic) {
	return nil, nil, []diag.Diagnostic{defs.Diag(diag.Internal, &proc.Element, "", "emitter not implemented yet")}
}
