package scenario

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestServices runs every demo service's scenarios (what `make test` runs
// for the analysts' kit).
func TestServices(t *testing.T) {
	dirs, _ := filepath.Glob("../../statemachines/*/tests")
	if len(dirs) == 0 {
		t.Fatal("no statemachines/*/tests folders")
	}
	for _, d := range dirs {
		svc := filepath.Dir(d)
		t.Run(filepath.Base(svc), func(t *testing.T) {
			rep, err := Run(context.Background(), svc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) == 0 {
				t.Fatal("no scenarios")
			}
			for _, res := range rep.Results {
				if !res.Passed {
					rep.WriteText(os.Stderr, false)
					t.Errorf("scenario %s failed", res.Scenario.Name)
				}
			}
			if testing.Verbose() {
				rep.WriteText(os.Stdout, true)
			}
		})
	}
}
