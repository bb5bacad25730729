// Package bpmn2asl compiles analysts' BPMN 2.0 diagrams into AWS Step
// Functions definitions (Amazon States Language, JSONata query language)
// whose tasks are the Posluha Lambdas. Compile is the entry; the stages are
// packages, in the order they run:
//
//	bpmn       parse the XML into a model that keeps line:column
//	structure  analyse each scope's control flow: start, reachability,
//	           termination, split conditions, post-dominators (joins)
//	feel       translate FEEL expressions to JSONata
//	emit       build the states (one walk per scope, see emit's doc)
//	asl        the ASL model, its deterministic printer and limit checks
//
// Every problem of every stage is collected (diagnostics are data, sorted,
// each with code, element id and name, file:line:col and a hint); the
// Result is nil when any is an error. The same BPMN gives byte-identical
// JSON.
//
// # Execution input and process variables
//
// An execution (named after the application id by the dispatcher) starts
// with the input
//
//	{"applicationId": "…", "service": "…", "citizen": {…}, "form": {…}}
//
// Process variables are Step Functions Variables. FEEL `x.y` is JSONata
// `$x.y`. The start event's Pass state assigns:
//
//   - applicationId (from the input, else $states.context.Execution.Name),
//     service (input, else the compiled service id), citizen (input or
//     null) and form (input or {});
//   - every other process variable (any variable an expression reads or a
//     mapping, multi-instance, script task or error boundary writes), from
//     the input's top level, else from form, else null. Step Functions
//     fails an Assign whose expression is undefined, so nothing is ever left
//     undefined, and later reads never hit an unassigned variable.
//     Multi-instance input elements are local to their iteration.
//
// The execution's output (the Output of every successful end at the top)
// is {"applicationId", <every process variable>}; a calling process's
// output mappings read it.
//
// Writes:
//
//   - zeebe:ioMapping outputs assign their target from the task's result. A
//     FEEL source reads the result's fields first and the process variables
//     second (the Zeebe rule): it is wrapped as a JSONata block that binds
//     each name it reads from the result when the result has it.
//     Results are $states.result.Payload for Lambda tasks, $states.result
//     for callback tasks (the SendTaskSuccess output) and
//     $states.result.Output for call activities.
//   - A task without output mappings merges its result like Zeebe does, but
//     only for names the diagram reads: for each such variable v (except the
//     standard inputs) `v := result.v` when the result has v. So a user task
//     answered with {"approved": true} feeds a later `=approved` condition.
//   - Multi-instance: inputElement is assigned inside each iteration (with
//     loopCounter, 1-based); outputCollection receives the list of the
//     iterations' outputElement values.
//   - A caught error (error boundary event) is assigned to $error
//     ({"Error", "Cause"}).
//   - Parallel branches and Map iterations cannot assign the outer scope's
//     variables in ASL. Each branch therefore ends with a Pass whose Output
//     lists the variables the branch assigns, and the Parallel state assigns
//     them back from $states.result[i]. When several branches may assign a
//     variable (a task merging its result counts), the last branch, in
//     document order, whose value differs from the value before the split
//     wins; if none changed it, it keeps its value.
//   - Inside an inner scope the compiler assigns variables under their own
//     names (a branch's task writing x assigns x in the branch scope, which
//     the Parallel then copies out as above).
//
// A variable read that no mapping writes and that is not a standard input
// is a warning (BPMN303) when no task merges its result (otherwise the
// result may well carry it).
//
// # Tasks
//
// Every task is `arn:aws:states:::lambda:invoke` (or
// `…:lambda:invoke.waitForTaskToken`) with Arguments {"FunctionName":
// "${<Name>FunctionArn}", "Payload": posluha.TaskRequest}: applicationId,
// service, step (the element id), attempt
// ($states.context.State.RetryCount), connector and action (from the task
// headers of those names), taskToken and correlationKey for callbacks, and
// arguments (the other task headers, then the ioMapping inputs; dotted
// targets nest). The function comes from posluha.FunctionForTaskType and the
// substitution name from posluha.SubstitutionName: registry.read →
// ${RegistryReadFunctionArn}, custom.tax-check → ${TaxCheckFunctionArn}.
// Result.Substitutions lists the names a definition uses.
//
//   - userTask, receiveTask and message catch events wait on eventwrite
//     (action "await") with a correlation key: the message's
//     zeebe:subscription correlationKey (FEEL), else
//     "<message name or element id>/" & $applicationId.
//   - document.sign waits on ${SignFunctionArn}; several signers are a
//     multi-instance over the signers, i.e. a Map.
//   - Activities without a task type (task, manualTask, a service task
//     without zeebe:taskDefinition, with a warning) are Pass states; a
//     zeebe:script task with a FEEL expression and resultVariable is a
//     Pass that assigns it.
//   - callActivity: `arn:aws:states:::states:startExecution.sync:2` with
//     StateMachineArn ${<CalledProcessPascal>StateMachineArn}
//     (benefit-payment → ${BenefitPaymentStateMachineArn}) and Input
//     {applicationId, service, citizen, form, every process variable unless
//     propagateAllParentVariables="false", then the ioMapping inputs}; the
//     child's output (its variables) comes back through output mappings,
//     or merges like any task result.
//
// Retries (ASL Retry only): zeebe:taskDefinition retries=N is the number
// of retries after the first attempt (0 disables them). Without it the
// defaults are: every Lambda invoke retries Lambda.ServiceException,
// Lambda.AWSLambdaException, Lambda.SdkClientException and
// Lambda.TooManyRequestsException 3 times (interval 1 s, backoff 2);
// registry.read and event.write also retry Registry.Unavailable 3 times
// (interval 2 s, backoff 2). Callback tasks retry the invoke errors only.
// registry.read and event.write always retry Registry.Throttled (our own
// limit on calls to the registry admitted no call in time; the registry
// was not called) up to 60 times from 5 s, backoff 2, at most 120 s apart,
// with full jitter, whatever retries says: in a burst that is how
// applications queue for a registry instead of failing.
//
// # Control flow
//
//   - Exclusive gateways are Choice states; each rule's Comment is
//     "bpmn:<flowId>"; the default flow is Default. A single conditionless
//     flow among conditional ones is taken as the default (warning).
//     Gotos and loops of exclusive gateways stay a flat graph of Choice and
//     Next within one scope.
//   - Parallel gateways (and activities with several outgoing flows) are
//     Parallel states with a branch per outgoing flow, up to the join found
//     as the split's immediate post-dominator (paths into terminate/error
//     end events and boundary paths are ignored for that). A split whose
//     branches end separately becomes a Parallel that ends the scope; tails
//     after a non-synchronising merge are copied into each branch. Branches
//     that meet at a join of their own inside the region (split → A, B, C;
//     B and C join, A goes on alone) become a nested Parallel ending at that
//     join. Any other shape is rejected naming the split and the join
//     (BPMN105).
//   - Inclusive gateways are Parallel states whose branches start with a
//     guard Choice: condition true → the branch, else a Pass that ends it;
//     the default flow's guard is "no other condition holds".
//   - Event-based gateways are races: a Parallel with one branch per
//     following event (a waitForTaskToken task, or a Wait for a timer).
//     The first to finish ends its branch with a Fail named
//     "Posluha.Race.<eventId>", which cancels the other branches; the
//     Parallel's Catch for that name continues after the event. Variables
//     the winning branch assigned travel as JSON in the Fail's Cause and are
//     assigned back from $parse($states.errorOutput.Cause).
//   - Embedded sub-processes without boundary events are inlined (a Pass
//     for the sub-process, its flow, then what follows it). With boundary
//     events, or inside a loop, a sub-process is a Parallel with one branch,
//     so that its boundary events become Catch entries.
//   - Multi-instance (zeebe:loopCharacteristics inputCollection /
//     inputElement / outputCollection / outputElement, or loopCardinality)
//     is an INLINE Map; isSequential → MaxConcurrency 1.
//   - Standard loops: a counter Pass, the activity, then a Choice that
//     repeats it while the loop condition holds and the counter is below
//     loopMaximum (testBefore puts the Choice first).
//   - Timers: an intermediate timer is a Wait (ISO 8601 duration → Seconds,
//     years as 365 days and months as 30; a date with a zone →
//     Timestamp; a FEEL date → a JSONata Timestamp; a cycle waits one
//     interval).
//   - Boundary events: an error boundary is a Catch whose ErrorEquals is
//     the error's errorCode (our error names such as Registry.NotFound; no
//     error reference = States.ALL, placed last); an interrupting timer on a
//     task is TimeoutSeconds plus a Catch of States.Timeout (callback tasks
//     included). Every other timer or message boundary (timers on
//     sub-processes, loops and call activities, message boundaries,
//     non-interrupting ones) makes the activity a race: a Parallel named
//     "<activity> with events" with the activity's branch and one branch per
//     boundary event (a Wait, or an await task for a message). The
//     activity's branch ends with the Fail "Posluha.Race.<activityId>", an
//     interrupting event's branch with "Posluha.Race.<boundaryId>"; the
//     Parallel's Catch for each continues on that element's path (variables
//     through the Cause, as for event-based gateways). A non-interrupting
//     event's branch runs the event's own path and ends; when the activity
//     finishes first, the pending event is cancelled. Error boundaries stay
//     Catch entries after the race ones. A non-interrupting cycle timer
//     (reminders: "R3/P3D") repeats its path R times, or until the
//     activity ends ("R/P1D"); an interrupting one fires at its first
//     interval.
//     An interrupting escalation boundary on a sub-process catches the
//     escalations thrown inside it: an escalation end or throw event that
//     such a boundary catches is a Fail "Escalation.<escalationCode>", the
//     boundary a Catch of those names; an escalation nobody catches ends its
//     path (end event) or is passed (throw event), as in BPMN.
//     Non-interrupting escalations, compensation, signal and conditional
//     boundaries are diagnosed (BPMN209).
//   - A process with several start events (alternative triggers) begins
//     with a Choice on the execution input's "startEvent" (an element id or
//     a message name); without it, the first none start event is used
//     (warning BPMN101). A sub-process must have exactly one.
//   - A scope without a start event starts at its only element without
//     incoming flows, or, when there are several, starts them all in a
//     Parallel (warning BPMN100), as BPMN does.
//   - End events: none/message → Succeed at the top, the end of the branch
//     inside a Parallel; error → Fail with Error = errorCode; terminate →
//     Succeed at the top; inside a Parallel branch or Map iteration a Fail
//     "Posluha.Terminate" that every enclosing Parallel/Map re-raises and
//     the outermost one catches into a Succeed; inside a sub-process it ends
//     only the sub-process.
//   - Link events jump to the catch event with the same link name.
//
// # Traceability and names
//
// Every state made for a flow node has "Comment": "bpmn:<elementId>";
// wrapper and helper states (Map of a multi-instance: "multi-instance of
// bpmn:<id>", loop states: "loop of bpmn:<id>", races: "boundary events
// of bpmn:<id>", branch ends) do not start with "bpmn:", so history maps
// back to BPMN one to one. Choice rules carry "bpmn:<flowId>" and Catch
// entries "bpmn:<boundaryId>".
//
// Variable names that are JSONata built-in function names (type, count,
// string, sum, …) would hide the function in every expression and are
// rejected (BPMN302). State names are
// "<element name> (<id>)" (or the id), whitespace folded, cut to 80
// characters keeping the id, and made unique with a counter suffix.
package bpmn2asl
