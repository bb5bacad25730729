package console_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLambdasLinkNothingLocal: the console and projection Lambdas link
// no package of the local stack (engine, bus, compiler, gateway…): what
// they share with it lives outside local/.
func TestLambdasLinkNothingLocal(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"github.com/posluha/posluha/functions/console", "github.com/posluha/posluha/functions/projection").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list listed %d packages: %s", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/posluha/posluha/local/") {
			t.Errorf("the Lambdas link %s", p)
		}
	}
}
