// Package dynamo stores the platform's records in DynamoDB with
// aws-sdk-go-v2: it implements posluha.Applications, posluha.Notifications,
// posluha.Awaits and posluha.Effects, plus ParkedWrites (eventwrite's
// "retry later" queue). SDK types stay inside; failures come out as named
// posluha errors (a failed condition is Application.Conflict). Memory holds
// in-memory implementations of the same interfaces for tests and tools; one
// conformance suite (conformance_test.go) runs against both.
//
// # Tables
//
// Table names come from configuration (Tables, TablesFromEnv); CreateTables
// creates them for the local stack and tests, and template.yaml declares the
// same definitions. All tables are PAY_PER_REQUEST, all keys strings.
//
//	applications   hash applicationId
//	               GSI byCitizen: hash citizen, range created (UTC, fixed
//	               width RFC 3339 with nanoseconds, so it sorts by time);
//	               projection ALL. Newest first = ScanIndexForward false.
//	               Lock items share the table: applicationId
//	               "lock#<service>#<citizen>", holder = the open application's
//	               id. They have no citizen/created attributes, so the GSI
//	               does not see them.
//	               GSI submitted (sparse): hash submittedShard ("00".."15",
//	               from the id), range created; only applications in
//	               status submitted carry submittedShard, so the index holds
//	               just those (the dispatcher's sweeper lists them with one
//	               Query per shard). MarkStarted sets started = true and
//	               removes submittedShard for good (Update keeps it out), so
//	               an application whose execution runs leaves the index
//	               even while its process keeps it submitted.
//	notifications  hash id (applicationId/step: one notification per step)
//	               GSI byCitizen: hash citizen, range time (same format)
//	awaits         hash key (the correlation key)
//	effects        hash key (the idempotency key applicationId/step)
//	parked         hash key (the idempotency key of the parked write)
//	registry-limits hash registry: one item per registry, tat (N, µs) and
//	               leases (M: lease id → deadline µs); see Limiter
//	read-audit     hash applicationId, range at (time#step#attempt#connector);
//	               append-only, TTL on expiresAt; see ReadAudit
//
// # Application items
//
// An application is one item: applicationId, service, citizen, status,
// step, form (M), created, updated, statusHistory (L of M: status, step,
// time, reason), documents (L of M), version (N) and oneOpen (BOOL: the
// application holds the one-open-application lock of its service).
//
// Create puts the application on condition
// attribute_not_exists(applicationId); for services with the
// one-open-application rule it is a TransactWriteItems of the application
// and the lock item (same condition), and a refusal names the open
// application (ReturnValuesOnConditionCheckFailure). Update reads
// consistently, applies the caller's change and writes it back on condition
// version = the version read (optimistic concurrency, retried), keeping
// attributes it does not own (a retention TTL); a change that leaves the
// item as it was (a retried step) writes nothing. After a move to a final
// status the lock is deleted (condition holder = this application); a lock
// left behind by a crash in between is stale (its holder is final or gone)
// and the next Create takes it over. Support's move from failed back to
// processing takes the lock again in the same transaction as the update,
// or is Application.Conflict when another application holds it.
//
// Form values are stored as DynamoDB types (M, L, S, N, BOOL, NULL); numbers
// come back as float64, as encoding/json gives them.
package dynamo
