// Package bursttest holds the kill -9 test of the whole local stack (issue
// #6): the real `posluha serve`, built from local/cmd/posluha, runs as a
// child process on a data directory; the test submits applications to its
// API at a steady rate as a partner platform would (client credentials,
// one Idempotency-Key per applicant, retried on errors and 429/503 with
// the same key), records every 202, and kills the child with SIGKILL in
// the middle of the burst (and once more while it drains), restarting it
// on the same data directory each time.
//
// The simulated registries run in the test process, not in the child, so
// the treasury's payments survive the kills and can be counted: at the
// end every acknowledged application must have its record, a SUCCEEDED
// execution, and, when it was paid, exactly one treasury payment (the
// treasury counts executed payments; a replayed Idempotency-Key is not
// one).
//
// The normal run (in `make test`) submits 300 applications with two kills.
// It takes a minute or two rather than seconds: the messages a killed
// dispatcher had received but not deleted come back only after the
// queue's 60 s visibility timeout, as they would in SQS. A longer run, for
// the figures in docs/benchmarks.md:
//
//	go test ./local/bursttest -run Kill -v -burst.n=2000 -burst.rps=100 -burst.kills=5 -burst.drain=6m -timeout 30m
package bursttest
