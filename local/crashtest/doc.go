// Package crashtest holds the engine's crash-restart test: the engine runs
// on a bbolt store in a child process (the test binary, re-executed), which
// the test kills with SIGKILL at random moments many times and restarts on
// the same store. At the end every started execution must have SUCCEEDED,
// and a log the Lambdas append to (fsync'ed) must show that no task ran
// again past the execution's last completed state: tasks are at-least-once,
// so a kill may re-run the one task in flight of each running execution,
// and nothing more.
//
// The normal run does 12 kills in well under a minute:
//
//	go test ./local/crashtest -crash.rounds=100 -crash.seed=42
//
// does more, and replays a failing run from the seed it printed.
package crashtest
