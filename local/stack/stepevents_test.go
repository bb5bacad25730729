package stack

import "testing"

// TestNoStepEventsFromFunctions: even with STEP_EVENTS in the operator's
// environment, the task functions of the local stack get none, so that
// only the bus (from the engine's saves) publishes step events.
func TestNoStepEventsFromFunctions(t *testing.T) {
	s := &Stack{cfg: Config{Getenv: func(k string) string {
		if k == "STEP_EVENTS" || k == "SIGN_DEEPLINK" {
			return "set-by-the-operator"
		}
		return ""
	}}}
	if v := s.functionEnv("STEP_EVENTS"); v != "" {
		t.Fatalf("functionEnv(STEP_EVENTS) = %q, want \"\"", v)
	}
	if v := s.functionEnv("SIGN_DEEPLINK"); v != "set-by-the-operator" {
		t.Fatalf("functionEnv(SIGN_DEEPLINK) = %q: the operator's other settings must pass", v)
	}
}

// TestFunctionsShareTheInProcessLimiter: the stack's functions all run in
// this process, so they default to the in-process registry limiter; an
// operator can still choose the DynamoDB one.
func TestFunctionsShareTheInProcessLimiter(t *testing.T) {
	s := &Stack{cfg: Config{Getenv: func(string) string { return "" }}}
	if v := s.functionEnv("POSLUHA_LIMITER"); v != "local" {
		t.Fatalf("functionEnv(POSLUHA_LIMITER) = %q, want local", v)
	}
	s.cfg.Getenv = func(k string) string {
		if k == "POSLUHA_LIMITER" {
			return "dynamodb"
		}
		return ""
	}
	if v := s.functionEnv("POSLUHA_LIMITER"); v != "dynamodb" {
		t.Fatalf("functionEnv(POSLUHA_LIMITER) = %q, want the operator's dynamodb", v)
	}
}
