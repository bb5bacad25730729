package stack

import (
	"context"
	"fmt"

	"github.com/posluha/posluha/functions/registryread"
)

// functionEnv is the environment the in-process functions see: the
// process's own, with the registry endpoints defaulting to the simulator
// this stack runs (the way SAM passes Environment.Variables to a Lambda).
func (s *Stack) functionEnv(name string) string {
	if v := s.cfg.Getenv(name); v != "" {
		return v
	}
	reg := "http://" + s.regAddr
	switch name {
	case "POSLUHA_REGISTRY_URL":
		return reg
	case "POSLUHA_USR_URL":
		return reg + "/rest/usr"
	case "POSLUHA_NOTIFY_URL":
		return reg + "/rest/notify"
	}
	return ""
}

// registerFunctions wires the Lambdas of functions/ in-process, each the
// same handler its bootstrap binary starts.
func (s *Stack) registerFunctions(ctx context.Context) error {
	rr, err := registryread.Wire(ctx, s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("registryread: %w", err)
	}
	s.Lambdas.Register("registryread", rr.Lambda())
	return nil
}
