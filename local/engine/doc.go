// Package engine runs Amazon States Language state machines with AWS Step
// Functions' semantics: both query languages (JSONPath and JSONata), every
// state type, Retry/Catch, Variables/Assign, task tokens, nested executions
// and redrive, and records a GetExecutionHistory-shaped event log.
//
// # Model
//
// A definition is parsed and validated once (Parse) into a tree of States
// whose paths, intrinsic calls and JSONata expressions are precompiled.
//
// An execution is data, not a goroutine: an Execution record holds the
// status, the effective input, and a tree of Threads — the root thread plus
// one per Parallel branch or Map iteration in progress — each with its
// current state, its input, its variable scope, its retry counters and what
// it waits for (a timer or a task token). The interpreter (run.go) loads the
// record, advances every thread until each one has finished or parks, and
// saves the record with the events it produced. A parked execution is only a
// record in the Store: a Wait or a retry interval parks with a wake-up time
// (Execution.WakeAt), a callback task parks on its token; the Engine's timer
// loop and SendTask* resume it, also after a restart on the same Store.
//
// Checkpoints: the record is saved where a crash could otherwise lose an
// effect or a wait: after the root thread completes a Task, Map or Parallel
// (their results may hold tasks' effects), whenever the interpreter parks
// (a task token, a Wait, a retry interval) and when it finishes. Pass,
// Choice, Succeed and a finished Wait are not saved on their own: after a
// crash they run again from the last checkpoint, to the same result, since
// they are functions of the saved input, variables and context object. The
// exceptions are the random functions (States.UUID, States.MathRandom,
// $uuid, $random): a re-run draws new values. That is acceptable because
// nothing outside the execution saw the first draw (no task ran since the
// checkpoint, and the history events of the lost run were never saved), so
// the re-run is indistinguishable from a run that drew those values first.
// Stores that implement Observer still see every root transition (the
// status bus publishes steps from it). Threads inside a Parallel or Map are
// saved with the parent's next checkpoint, so after a crash a branch reruns
// from its last saved state. Tasks are therefore at-least-once;
// $$.Execution.Id + $$.State.Name (+ Map index) is the idempotency key a
// Lambda should use.
//
// Values are immutable once produced: the interpreter never mutates an
// input, result or variable in place (ResultPath copies the objects along
// the path), so values are shared freely between threads, events and the
// in-memory store.
package engine

// # Using it
//
// Build an Engine with New(Config{Store, Clock, Invoker, S3}), call Start
// (it resumes RUNNING executions and runs the timer loop) and Close. The
// service methods (CreateMachine, StartExecution, DescribeExecution,
// History, SendTaskSuccess, RedriveExecution, TestState, …) are what the
// Step Functions HTTP API sits on; their errors are *APIError values named
// like AWS's exceptions. Tasks go to the Invoker: Router runs Lambda
// functions (LambdaFunctions) and SDK integrations (Integration by
// "service:action"); Mocks answers by state name. A VirtualClock with
// Config.AutoAdvance makes every timer fire as soon as nothing else runs.
//
// A store implementation keeps Execution records (EncodeExecution gives a
// byte form), appends Events, and indexes Execution.WakeAt and
// Execution.Tokens; see Store for what must be atomic.

// # Known differences from AWS
//
//   - Parallel branches without Task states advance in lock-step rounds
//     (AWS's recorded order); branches with Tasks run on goroutines, so
//     their interleaving depends on timing, as on AWS.
//   - A synchronous task's TimeoutSeconds is a context deadline in wall
//     time, also with a VirtualClock; callback timeouts, heartbeats, Wait
//     and retry intervals follow the Clock.
//   - Distributed Map iterations run inside the parent execution (no child
//     executions or Map Run API); their events stay out of the history.
