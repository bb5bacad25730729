// Package sfnapi serves the AWS Step Functions JSON 1.0 protocol
// (POST /, X-Amz-Target: AWSStepFunctions.<Operation>, Content-Type
// application/x-amz-json-1.0) on top of the local engine, so that the
// aws-sdk-go-v2 sfn client and `aws stepfunctions --endpoint-url` work
// against the local stack unchanged.
//
// # Wire format
//
// Requests and responses are JSON objects with AWS's lowerCamel member
// names; timestamps are epoch seconds with millisecond fractions, as AWS
// sends them. Errors are HTTP 400 (500 for internal faults) with
// {"__type": "<ExceptionName>", "message": "…"} and the same name in the
// X-Amzn-ErrorType header, which is what the SDK's deserializers read to
// build types.ExecutionDoesNotExist, types.InvalidDefinition and friends.
// Malformed bodies are SerializationException, missing or out-of-range
// members ValidationException, unknown operations UnknownOperationException.
//
// # Differences from AWS
//
//   - Versions: the engine publishes a numbered version on every create and
//     update, so every revision is a version. PublishStateMachineVersion
//     returns the newest one; ListStateMachineVersions lists them all.
//     Aliases and DeleteStateMachineVersion are not supported (the engine
//     has no alias records).
//   - DescribeExecution always reports the version the execution runs on
//     (stateMachineVersionArn), also when it was started through the
//     unqualified ARN, because an execution here always pins a version.
//   - SendTask* reports TaskTimedOut only while a timed-out task has not yet
//     been closed by the engine's timer; afterwards the token is gone and the
//     answer is TaskDoesNotExist (the engine keeps no tombstones).
//   - RedriveExecution remembers clientTokens for 15 minutes in memory only:
//     after a restart a retried redrive gets the engine's answer.
//   - Activities, map runs and tags have no model in the engine: their
//     operations answer UnknownOperationException saying so, except
//     ListTagsForResource, which answers with no tags. ListExecutions also
//     lists EXPRESS machines' executions (AWS refuses), and filters a
//     version ARN by the version the executions run on.
//   - TestState runs the state in a throw-away engine on a virtual clock
//     (a Wait takes no time). Retry is judged, not run: RETRIABLE while
//     stateConfiguration.retrierRetryCount is below MaxAttempts. A caught
//     error is replayed with the Catch in place without invoking the
//     resource again. DEBUG inspectionData carries input, afterInputPath,
//     afterParameters (afterArguments in JSONata), result, afterResultPath
//     and variables; afterResultSelector, HTTP request/response data and
//     the context member are not supported.
//
// Options.Quotas throttles chosen operations with ThrottlingException (a
// token bucket per operation, like AWS's API quotas), so that the
// dispatcher's quota-aware backoff can be exercised on a laptop.
//
// StartSyncExecution is bounded by Options.SyncTimeout (AWS's five
// minutes by default); an execution still running then is stopped and
// reported TIMED_OUT. Like AWS, it accepts EXPRESS machines only.
//
// Clients prefix the endpoint host with "sync-" for StartSyncExecution,
// which does not resolve for 127.0.0.1. Turn the prefix off: in the AWS
// CLI with AWS_DISABLE_HOST_PREFIX_INJECTION=true, in aws-sdk-go-v2 with
// an Initialize middleware that sets
// smithyhttp.DisableEndpointHostPrefix(ctx, true) (see newClient in the
// tests).
package sfnapi
