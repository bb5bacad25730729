// Package metrics is the stack's Prometheus instrumentation: one registry,
// the collectors other packages feed (HTTP requests, registry calls, queue
// depths, status changes from the bus) and /metrics. The Grafana dashboard
// in docs/grafana/posluha.json plots these names; renaming one is an API
// change.
//
// Metric names:
//
//	posluha_http_requests_total{handler,method,code}             counter
//	posluha_http_request_duration_seconds{handler,method}        histogram
//	posluha_executions{service,status}                           gauge, read from the console projection at scrape
//	posluha_applications_at_step{service,step}                   gauge, idem (running applications per BPMN element)
//	posluha_execution_status_changes_total{service,status}       counter, from the status bus
//	posluha_registry_request_duration_seconds{connector,outcome} histogram (outcome ok or the error name)
//	posluha_registry_errors_total{connector,error}               counter
//	posluha_queue_depth{queue}                                   gauge, read at scrape
//	posluha_bus_pending_events                                   gauge, read at scrape
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/posluha/posluha/local/bus"
)

// Metrics holds the registry and the shared collectors.
type Metrics struct {
	// Registry is where everything is registered; packages with their own
	// collectors may Register on it too.
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	statusChanges   *prometheus.CounterVec
	registryLatency *prometheus.HistogramVec
	registryErrors  *prometheus.CounterVec

	mu     sync.Mutex
	queues map[string]func() float64
}

// New returns metrics on a fresh registry with the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), queues: map[string]func() float64{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "posluha_http_requests_total", Help: "HTTP requests by handler, method and status code.",
	}, []string{"handler", "method", "code"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "posluha_http_request_duration_seconds", Help: "HTTP request latency by handler and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"handler", "method"})
	m.statusChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "posluha_execution_status_changes_total", Help: "Execution status changes seen on the status bus, by service and new status.",
	}, []string{"service", "status"})
	m.registryLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "posluha_registry_request_duration_seconds", Help: "Latency of registry requests (Trembita/X-Road and REST) by connector and outcome.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"connector", "outcome"})
	m.registryErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "posluha_registry_errors_total", Help: "Failed registry requests by connector and error name (Registry.Unavailable, …).",
	}, []string{"connector", "error"})
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.statusChanges, m.registryLatency, m.registryErrors,
		&queueCollector{m: m, desc: prometheus.NewDesc("posluha_queue_depth", "Messages waiting in a queue (visible + in flight).", []string{"queue"}, nil)},
	)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Mount serves /metrics on mux.
func (m *Metrics) Mount(mux *http.ServeMux) { mux.Handle("GET /metrics", m.Handler()) }

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Instrument counts and times the requests h serves under the label
// handler (a fixed name such as "api" or "console", never a raw path, so
// that ids in URLs do not explode the series).
func (m *Metrics) Instrument(handler string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		method := r.Method
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch, http.MethodOptions:
		default:
			method = "other"
		}
		m.requests.WithLabelValues(handler, method, strconv.Itoa(sw.code)).Inc()
		m.requestDuration.WithLabelValues(handler, method).Observe(time.Since(start).Seconds())
	})
}

// ObserveRegistry records one registry request: errName is "" on success,
// else the error's name (Registry.Unavailable, Registry.NotFound, …).
func (m *Metrics) ObserveRegistry(connector string, d time.Duration, errName string) {
	outcome := "ok"
	if errName != "" {
		outcome = errName
		m.registryErrors.WithLabelValues(connector, errName).Inc()
	}
	m.registryLatency.WithLabelValues(connector, outcome).Observe(d.Seconds())
}

// RegisterQueue adds a queue whose depth depth reports at scrape time
// (the local SQS endpoint's message count, the bus outbox, …). A second
// registration under the same name replaces the first.
func (m *Metrics) RegisterQueue(name string, depth func() float64) {
	m.mu.Lock()
	m.queues[name] = depth
	m.mu.Unlock()
}

type queueCollector struct {
	m    *Metrics
	desc *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	qs := make(map[string]func() float64, len(c.m.queues))
	for k, v := range c.m.queues {
		qs[k] = v
	}
	c.m.mu.Unlock()
	for name, f := range qs {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, f(), name)
	}
}

// Counts reports service → label → count at scrape time.
type Counts func() (map[string]map[string]int64, error)

type countsCollector struct {
	desc *prometheus.Desc
	f    Counts
}

func (c *countsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *countsCollector) Collect(ch chan<- prometheus.Metric) {
	all, err := c.f()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for svc, by := range all {
		for label, n := range by {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), svc, label)
		}
	}
}

// Executions registers posluha_executions{service,status} read from f
// (the console projection's counters: no store scan at scrape time).
func (m *Metrics) Executions(f Counts) error {
	return m.Registry.Register(&countsCollector{f: f,
		desc: prometheus.NewDesc("posluha_executions", "Applications by service and execution status (from the console projection).", []string{"service", "status"}, nil)})
}

// Steps registers posluha_applications_at_step{service,step} read from f.
func (m *Metrics) Steps(f Counts) error {
	return m.Registry.Register(&countsCollector{f: f,
		desc: prometheus.NewDesc("posluha_applications_at_step", "Running applications at each BPMN element (from the console projection).", []string{"service", "step"}, nil)})
}

// BusPending registers posluha_bus_pending_events.
func (m *Metrics) BusPending(f func() int) error {
	return m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "posluha_bus_pending_events", Help: "Status events saved but not yet delivered to the projection.",
	}, func() float64 { return float64(f()) }))
}

// BusHandler is a status bus subscriber counting status changes per
// service. It never fails, so it never causes a redelivery; a
// redelivered batch is counted again (counters are approximate across
// crashes).
func (m *Metrics) BusHandler() bus.Handler {
	return func(_ context.Context, evs []bus.Event) error {
		for _, e := range evs {
			if e.DetailType != bus.DetailTypeExecution {
				continue
			}
			d, err := bus.DecodeExecution(e)
			if err != nil {
				continue
			}
			svc := d.StateMachineARN[strings.LastIndexByte(d.StateMachineARN, ':')+1:]
			m.statusChanges.WithLabelValues(svc, d.Status).Inc()
		}
		return nil
	}
}
