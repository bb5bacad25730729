// Package bpmn2asl compiles analysts' BPMN 2.0 diagrams into AWS Step
// Functions (ASL, JSONata query language) definitions whose tasks are the
// Posluha Lambdas. Compile is the entry; the stages are packages:
//
//	bpmn       parse the XML into a model with positions
//	structure  analyse control flow of each scope (start, reachability,
//	           termination, splits, post-dominators for parallel regions)
//	feel       translate FEEL expressions to JSONata
//	emit       build the states
//	asl        the ASL model, its printer and limit checks
//
// See the variable scheme and the patterns below (filled in as the emitter
// grows).
package bpmn2asl
