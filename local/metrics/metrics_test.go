package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/local/bus"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := New()
	h := m.Instrument("console", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	for _, p := range []string{"/", "/", "/missing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	m.ObserveRegistry("tax.fop-status", 30*time.Millisecond, "")
	m.ObserveRegistry("tax.fop-status", 2*time.Second, "Registry.Unavailable")
	m.RegisterQueue("applications", func() float64 { return 42 })
	if err := m.Executions(func() (map[string]map[string]int64, error) {
		return map[string]map[string]int64{"lockdown-payout": {"RUNNING": 7, "FAILED": 2}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Steps(func() (map[string]map[string]int64, error) {
		return map[string]map[string]int64{"lockdown-payout": {"check_fop": 5}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.BusPending(func() int { return 3 }); err != nil {
		t.Fatal(err)
	}
	d, _ := json.Marshal(bus.ExecutionDetail{StateMachineARN: "arn:aws:states:local:0:stateMachine:lockdown-payout", Status: "SUCCEEDED"})
	m.BusHandler()(context.Background(), []bus.Event{{DetailType: bus.DetailTypeExecution, Detail: d}, {DetailType: bus.DetailTypeStep}})

	out := scrape(t, m)
	for _, want := range []string{
		`posluha_http_requests_total{code="200",handler="console",method="GET"} 2`,
		`posluha_http_requests_total{code="404",handler="console",method="GET"} 1`,
		`posluha_http_request_duration_seconds_count{handler="console",method="GET"} 3`,
		`posluha_registry_errors_total{connector="tax.fop-status",error="Registry.Unavailable"} 1`,
		`posluha_registry_request_duration_seconds_count{connector="tax.fop-status",outcome="ok"} 1`,
		`posluha_queue_depth{queue="applications"} 42`,
		`posluha_executions{service="lockdown-payout",status="FAILED"} 2`,
		`posluha_applications_at_step{service="lockdown-payout",step="check_fop"} 5`,
		`posluha_execution_status_changes_total{service="lockdown-payout",status="SUCCEEDED"} 1`,
		`posluha_bus_pending_events 3`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestCountsError: a failing source makes the scrape fail loudly rather
// than report zeros.
func TestCountsError(t *testing.T) {
	m := New()
	m.Executions(func() (map[string]map[string]int64, error) { return nil, errors.New("projection closed") })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("scrape with a failing collector: %d, want 500", resp.StatusCode)
	}
}

// TestDashboard: every metric the Grafana dashboard queries is one this
// package exports.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/posluha.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	known := []string{"posluha_http_requests_total", "posluha_http_request_duration_seconds_bucket", "posluha_executions",
		"posluha_applications_at_step", "posluha_execution_status_changes_total", "posluha_registry_request_duration_seconds_bucket",
		"posluha_registry_errors_total", "posluha_queue_depth", "posluha_bus_pending_events"}
	re := regexp.MustCompile(`posluha_[a-z_]+`)
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range re.FindAllString(tg.Expr, -1) {
				if !slices.Contains(known, name) {
					t.Errorf("panel %q queries unknown metric %s", p.Title, name)
				}
			}
		}
	}
}
