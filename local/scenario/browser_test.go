package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var updateScreenshot = flag.Bool("update", false, "rewrite docs/images/coverage.png")

// TestHTMLReportInChromium renders the coverage report of a subset of
// e-propyska's scenarios (so that some paths stay red) in headless
// Chromium and checks that bpmn-js drew the diagram and coloured every
// element and flow of the coverage file. It needs Debian's chromium and
// npm playwright-core, bpmn-js and bpmn-auto-layout; it skips without
// them.
func TestHTMLReportInChromium(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	nm := NodeModules(".")
	if nm == "" {
		t.Skip("node_modules with bpmn-js not found (npm ci)")
	}
	for _, pkg := range []string{"playwright-core", "bpmn-auto-layout"} {
		if _, err := os.Stat(filepath.Join(nm, pkg)); err != nil {
			t.Skipf("npm %s not installed (npm ci)", pkg)
		}
	}
	ctx := context.Background()
	rep, err := Run(ctx, "../../statemachines/e-propyska", Options{Run: "Sole owner|not own|never signs"})
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := WriteHTML(ctx, &html, rep, nm); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "coverage.html")
	shot := filepath.Join(dir, "coverage.png")
	if err := os.WriteFile(page, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("testdata/check-report.mjs")
	cmd := exec.Command("node", script, page, shot)
	cmd.Dir = filepath.Dir(nm) // resolve playwright-core from the repo's node_modules
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "NODE_PATH="+nm)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser check: %v\n%s", err, stderr.String())
	}
	var got struct {
		Ready            bool     `json:"ready"`
		Error            string   `json:"error"`
		Reached          int      `json:"reached"`
		Unreached        int      `json:"unreached"`
		ReachedShapes    int      `json:"reachedShapes"`
		UnreachedShapes  int      `json:"unreachedShapes"`
		Badges           int      `json:"badges"`
		UnreachedFill    string   `json:"unreachedFill"`
		PageErrors       []string `json:"pageErrors"`
		ExternalRequests []string `json:"externalRequests"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("browser check output %q: %v", out, err)
	}
	var wantR, wantU, shapesR, shapesU int
	for _, m := range []map[string]int{rep.Coverage.Elements, rep.Coverage.Flows} {
		for _, hits := range m {
			if hits > 0 {
				wantR++
			} else {
				wantU++
			}
		}
	}
	for _, hits := range rep.Coverage.Elements {
		if hits > 0 {
			shapesR++
		} else {
			shapesU++
		}
	}
	if !got.Ready || got.Error != "" || len(got.PageErrors) > 0 {
		t.Fatalf("bpmn-js did not draw the report: %+v", got)
	}
	if got.Reached != wantR || got.Unreached != wantU {
		t.Errorf("coloured %d reached / %d unreached, coverage has %d / %d", got.Reached, got.Unreached, wantR, wantU)
	}
	if got.ReachedShapes != shapesR || got.UnreachedShapes != shapesU || got.Badges != len(rep.Coverage.Elements) {
		t.Errorf("shapes %d reached / %d unreached, %d badges; want %d / %d, %d", got.ReachedShapes, got.UnreachedShapes, got.Badges, shapesR, shapesU, len(rep.Coverage.Elements))
	}
	if got.UnreachedFill != "rgb(255, 214, 214)" {
		t.Errorf("unreached fill %q, want the red of the legend", got.UnreachedFill)
	}
	if len(got.ExternalRequests) > 0 {
		t.Errorf("the static report fetched %v; it must be self-contained", got.ExternalRequests)
	}
	t.Logf("chromium drew %d reached and %d unreached elements and flows", got.Reached, got.Unreached)
	if *updateScreenshot {
		png, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/images/coverage.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
