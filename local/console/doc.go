// Package console is the support console's local-stack half: the bbolt
// Projection fed by the status bus (local/bus), the JSON-lines Audit file,
// the engine's actions (EngineExecutions), diagrams laid out with
// bpmn-auto-layout (Diagrams) and the wiring of the three files in one
// directory (Local). The HTTP API, the page, the read model's folding and
// the DynamoDB stores are in functions/console/support, which the AWS
// Lambdas use without linking the engine.
//
// # Engine
//
// Resend is the engine's RedriveExecution with WithFailedStepData
// (EngineExecutions): the engine replaces the failed thread's input and
// variables and redrives in one step under its per-execution lock, refuses
// if the failed thread is no longer the one support edited, and its
// ExecutionRedriven history event notes "inputChanged": true with the
// thread and state.
package console
