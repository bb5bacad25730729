package console

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/scenario"
	"github.com/posluha/posluha/query/value"
)

var updateScreenshots = flag.Bool("update", false, "rewrite docs/images/console-*.png")

// lockdownPayout is the checked-in lockdown-payout service with its
// function ARNs substituted as the local stack does.
func lockdownPayout(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../statemachines/lockdown-payout/process.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	def := string(b)
	for _, fn := range []string{"RegistryRead", "EventWrite", "Sign", "PdfGen", "Api", "Dispatcher"} {
		def = strings.ReplaceAll(def, "${"+fn+"FunctionArn}", "arn:aws:lambda:local:000000000000:function:"+strings.ToLower(fn))
	}
	return def
}

// payoutInvoker answers the service's tasks: the FOP registry says yes,
// the treasury fails once for the application named failing (a not
// retried error), and parks forever for those in parked.
func payoutInvoker(failing string, parked map[string]bool) engine.Invoker {
	var mu sync.Mutex
	failed := false
	return engine.InvokerFunc(func(ctx context.Context, c *engine.Call) (any, error) {
		in, _ := c.Input.(*value.Object)
		p, _ := in.Get("Payload")
		po, _ := p.(*value.Object)
		stepV, _ := po.Get("step")
		appV, _ := po.Get("applicationId")
		step, _ := stepV.(string)
		app, _ := appV.(string)
		envelope := func(payload any) any { return val(map[string]any{"StatusCode": 200, "Payload": payload}) }
		switch {
		case step == "check_fop":
			return envelope(map[string]any{"registered": true, "group": 2}), nil
		case c.Pattern == "waitForTaskToken" && parked[app]:
			return nil, nil
		case c.Pattern == "waitForTaskToken":
			mu.Lock()
			first := app == failing && !failed
			if first {
				failed = true
			}
			mu.Unlock()
			if first {
				return &engine.Completed{Err: &engine.Failure{Name: "Treasury.Rejected", Cause: `{"errorMessage":"Казначейство: технічна перерва","errorType":"Treasury.Rejected"}`}}, nil
			}
			return &engine.Completed{Output: val(map[string]any{"paymentId": "PAY-" + app})}, nil
		default:
			return envelope(map[string]any{}), nil
		}
	})
}

// val converts Go data to the engine's JSON values.
func val(v any) any {
	b, _ := json.Marshal(v)
	x, _ := value.Parse(b)
	return x
}

// TestConsoleInChromium: sign in as support, find the failed application,
// redrive it, see it complete and see the audit entry — in real headless
// Chromium. Needs Debian's chromium and npm playwright-core, bpmn-js and
// bpmn-auto-layout; skips without them.
func TestConsoleInChromium(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	nm := scenario.NodeModules(".")
	if nm == "" {
		t.Skip("node_modules with bpmn-js not found (npm ci)")
	}
	for _, pkg := range []string{"playwright-core", "bpmn-auto-layout"} {
		if _, err := os.Stat(filepath.Join(nm, pkg)); err != nil {
			t.Skipf("npm %s not installed (npm ci)", pkg)
		}
	}
	const failing = "LP-2026-000017"
	parked := map[string]bool{"LP-2026-000021": true, "LP-2026-000022": true, "LP-2026-000023": true}
	e := newEnvWith(t, "lockdown-payout", lockdownPayout(t), payoutInvoker(failing, parked), Diagrams("../../statemachines", nm))
	ids := []string{"LP-2026-000011", "LP-2026-000012", failing, "LP-2026-000021", "LP-2026-000022", "LP-2026-000023"}
	for i, id := range ids {
		in := map[string]any{"applicationId": id, "service": "lockdown-payout",
			"citizen": map[string]any{"taxNumber": fmt.Sprintf("31234567%02d", i), "name": "Тест"}, "form": map[string]any{"isFop": true}}
		b, _ := json.Marshal(in)
		e.start(id, string(b))
	}
	a, err := e.proj.Get(context.Background(), failing)
	if err != nil || a.Status != "FAILED" {
		h, _ := e.eng.History(context.Background(), a.ExecutionARN)
		for _, ev := range h {
			t.Logf("%s %v", ev.Type, value.String(ev.Details))
		}
		t.Fatalf("set-up: %s is %+v (%v)", failing, a, err)
	}

	outdir := t.TempDir()
	script, _ := filepath.Abs("testdata/browser.mjs")
	cmd := exec.Command("node", script, e.srv.URL, "staff-7", failing, outdir)
	cmd.Dir = filepath.Dir(nm)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "NODE_PATH="+nm)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser: %v\n%s", err, stderr.String())
	}
	var got struct {
		Steps            []string `json:"steps"`
		Error            string   `json:"error"`
		LoginStatus      int      `json:"loginStatus"`
		Approved         int      `json:"approved"`
		Badges           int      `json:"badges"`
		FailedBadges     int      `json:"failedBadges"`
		RunningBadges    int      `json:"runningBadges"`
		FailedStatus     string   `json:"failedStatus"`
		StepData         int      `json:"stepData"`
		FinalStatus      string   `json:"finalStatus"`
		AuditEntry       string   `json:"auditEntry"`
		PageErrors       []string `json:"pageErrors"`
		ExternalRequests []string `json:"externalRequests"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("browser output %q: %v", out, err)
	}
	t.Logf("browser: %+v", got)
	if got.Error != "" {
		t.Fatalf("browser stopped after %v: %s", got.Steps, got.Error)
	}
	if got.LoginStatus != 401 || got.Approved != 204 {
		t.Errorf("sign-in: page %d, approval %d", got.LoginStatus, got.Approved)
	}
	if got.FailedBadges != 1 || got.RunningBadges < 1 {
		t.Errorf("diagram badges: %d failed, %d running", got.FailedBadges, got.RunningBadges)
	}
	if got.FailedStatus != "FAILED" || got.StepData != 1 || got.FinalStatus != "SUCCEEDED" {
		t.Errorf("statuses: %q then %q (step data shown: %d)", got.FailedStatus, got.FinalStatus, got.StepData)
	}
	if !strings.Contains(got.AuditEntry, "redrive") || !strings.Contains(got.AuditEntry, "Казначейство знову") {
		t.Errorf("audit entry on the page: %q", got.AuditEntry)
	}
	if len(got.PageErrors) > 0 || len(got.ExternalRequests) > 0 {
		t.Errorf("page errors %v, external requests %v", got.PageErrors, got.ExternalRequests)
	}
	x, _ := e.eng.DescribeExecution(context.Background(), a.ExecutionARN)
	if x.Status != engine.StatusSucceeded || x.RedriveCount != 1 {
		t.Errorf("execution: %s after %d redrives", x.Status, x.RedriveCount)
	}
	entries, _ := e.audit.List(context.Background(), failing, 0)
	var redrives int
	for _, en := range entries {
		if en.Action == support.ActionRedrive && en.Actor == "staff-7" && en.Outcome == "ok" {
			redrives++
		}
	}
	if redrives != 1 {
		t.Errorf("audit log: %d redrive entries by staff-7: %+v", redrives, entries)
	}
	if *updateScreenshots {
		for _, n := range []string{"console-overview.png", "console-failed.png", "console-redriven.png"} {
			b, err := os.ReadFile(filepath.Join(outdir, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("../../docs/images", n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
