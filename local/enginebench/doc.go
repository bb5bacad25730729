// Package enginebench measures the local Step Functions engine
// (local/engine) against the npm engine aws-local-stepfunctions on the same
// definitions, in one run, and measures how much memory executions parked on
// task tokens cost with the durable store (local/store).
//
// # What is compared
//
// Workloads (workload.go) are plain ASL definitions with an input, run
// unchanged by both engines:
//
//   - pass100: a chain of 100 Pass states (Parameters, ResultPath);
//   - choice-loop: a Pass that increments a counter with States.MathAdd and
//     a Choice that loops 50 times (101 transitions);
//   - map10k: a Map over 10 000 items whose iteration is one Pass state;
//   - task10: a 10-state application workflow (5 Lambda tasks through
//     arn:aws:states:::lambda:invoke, 3 Pass, 1 Choice, 1 Succeed).
//
// Both engines run in-process: ours through engine.StartExecution and
// engine.Await, with the Lambdas as Go functions in a lambdarun.Runner (the
// JSON round trip of the local stack); the peer inside one long-lived node
// process (peer.mjs) through StateMachine.run, with the Lambdas as JS
// functions given to taskResourceLocalHandlers that do the same JSON round
// trip and return the same lambda:invoke envelope. Process start-up is
// excluded from both. A measurement runs C workers that start an execution,
// wait for its end and start the next, for a fixed wall time after a warm-up;
// throughput is completed executions over the elapsed time, the same loop on
// both sides.
//
// Ours runs on a MemStore and on the bbolt store with fsync (each state a
// durable checkpoint, group-committed); the peer keeps nothing.
//
// aws-local-stepfunctions 3.0.0 declares node ≥ 22 because it calls
// Promise.withResolvers; peer.mjs installs the standard three-line polyfill
// when node lacks it (node 20), which changes nothing else.
package enginebench
