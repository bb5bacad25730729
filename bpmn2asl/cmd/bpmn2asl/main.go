// Command bpmn2asl checks and compiles analysts' BPMN files into AWS Step
// Functions definitions.
//
//	bpmn2asl check FILE|DIR…                 diagnostics only; exit 1 on any error
//	bpmn2asl compile FILE [-o OUT.asl.json]  one definition (stdout without -o)
//	bpmn2asl compile --all statemachines/    every <svc>/process.bpmn → <svc>/process.asl.json
//	bpmn2asl graph FILE [--coverage COV.json] [-o OUT.mmd]
//	                                         Mermaid flowchart of the compiled state machine
//	bpmn2asl explain [CODE…]                 what a diagnostic code means
//
// Common flags: --format text|json (diagnostics), --service ID, --process ID.
// With GITHUB_ACTIONS=true diagnostics are also printed as workflow
// annotations (::error file=…,line=…::) on stdout.
//
// Exit status: 0 success (warnings allowed), 1 an error diagnostic, 2 usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run(ctx))
}
