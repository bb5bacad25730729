package connector_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	localddb "github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/registries"
)

// canned answers every request with one recorded reply of the simulator,
// so a benchmark measures the connector, not the registry.
type canned struct {
	status int
	header http.Header
	body   []byte
}

func (c *canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: c.status, Header: c.header, Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

// record captures the simulator's reply to one call of connector id.
type recorder struct{ h http.Handler }

func (rec recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	rec.h.ServeHTTP(w, r)
	return w.Result(), nil
}

func shipped(tb testing.TB, o connector.Options) *connector.Set {
	tb.Helper()
	ts, err := connector.LoadFS(os.DirFS("../../../connectors"), ".")
	if err != nil {
		tb.Fatal(err)
	}
	// Lift the registries' limits: benchmarks measure the path, not the policy.
	for _, t := range ts {
		t.RateLimit, t.Concurrency = nil, 0
	}
	o.Getenv = env("http://sim.invalid")
	// One message id, so that the replayed answer echoes the id we send.
	o.NewID = func() string { return "bench-message" }
	set, err := connector.New(ts, o)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

var benchCases = []struct {
	name, id string
	args     map[string]any
}{
	{"xroad-rest", "drrp.realty-rights", map[string]any{"taxNumber": "3111412139"}},
	{"xroad-soap", "drrp.property-owners", map[string]any{"reestrNum": "1852963280000"}},
	{"uxp-rest", "migration.residence", map[string]any{"taxNumber": "3471361001"}},
}

// BenchmarkConnectorOverhead is the connector's own cost per call, registry
// latency excluded: request mapping, request building, limiter, decoding and
// response mapping, over a transport that replays a recorded answer. It
// reports p50 and p99 per call (goal: p99 ≤ 1 ms).
func BenchmarkConnectorOverhead(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			sim := registries.New(registries.Options{Seed: 1})
			// Record the simulator's answer once.
			var got *http.Response
			var body []byte
			rec := shipped(b, connector.Options{RoundTripper: rtFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := recorder{sim.Handler()}.RoundTrip(r)
				got = resp
				body, _ = io.ReadAll(resp.Body)
				resp.Body = io.NopCloser(bytes.NewReader(body))
				return resp, err
			})})
			if _, err := rec.Call(context.Background(), bc.id, connector.Args{ApplicationID: "a", Step: "s", Arguments: bc.args}, ""); err != nil {
				b.Fatal(err)
			}
			set := shipped(b, connector.Options{RoundTripper: &canned{status: got.StatusCode, header: got.Header, body: body}})
			args := connector.Args{ApplicationID: "a", Step: "s", Arguments: bc.args}
			durs := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := set.Call(context.Background(), bc.id, args, ""); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
		})
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkThroughSimulator is calls/s end to end over loopback HTTP to the
// simulator (no injected latency), from parallel callers.
func BenchmarkThroughSimulator(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			sim := registries.New(registries.Options{Seed: 1})
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			ts, err := connector.LoadFS(os.DirFS("../../../connectors"), ".")
			if err != nil {
				b.Fatal(err)
			}
			// Lift the registry's limits: this measures the path, not the policy.
			for _, t := range ts {
				t.RateLimit, t.Concurrency = nil, 0
			}
			set, err := connector.New(ts, connector.Options{Getenv: env(srv.URL)})
			if err != nil {
				b.Fatal(err)
			}
			args := connector.Args{ApplicationID: "a", Step: "s", Arguments: bc.args}
			var calls atomic.Int64
			b.SetParallelism(4)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := set.Call(context.Background(), bc.id, args, ""); err != nil {
						b.Error(err)
						return
					}
					calls.Add(1)
				}
			})
			b.ReportMetric(float64(calls.Load())/time.Since(start).Seconds(), "calls/s")
		})
	}
}

// BenchmarkSharedLimiter is the connector's cost per call with each
// limiter, measured in one run so that the ratios hold: none, the
// in-process LocalLimiter, and dynamo.Limiter over local/dynamodb on
// loopback (each store call a round trip and a durable write) for an
// uncapped registry with batched tokens and with one token a call, and for
// a capped registry (a lease: acquire and release, two writes). The limits
// are far above what the run reaches, so no call waits: this measures the
// path, not the policy. "seq" is one caller over a transport replaying a
// recorded answer (p50/p99, registry latency excluded); "sim" is 8 callers
// through the simulator over loopback HTTP (calls/s).
func BenchmarkSharedLimiter(b *testing.B) {
	srv, err := localddb.New(b.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() { hs.Close(); srv.Close() }()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	db := dynamodb.New(dynamodb.Options{
		Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: &http.Client{Transport: tr},
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1,
	})
	if err := dynamo.CreateTables(context.Background(), db, dynamo.DefaultTables); err != nil {
		b.Fatal(err)
	}
	uncapped := &connector.RateLimit{PerSecond: 1e6, Burst: 100_000}
	for _, lc := range []struct {
		name    string
		limiter func() connector.Limiter
		conc    int
	}{
		{"none", nil, 0},
		{"local", func() connector.Limiter { return connector.NewLocalLimiter() }, 1000},
		{"dynamodb-batched", func() connector.Limiter {
			return dynamo.NewLimiter(db, dynamo.DefaultTables.Limits, dynamo.LimiterOptions{})
		}, 0},
		{"dynamodb-token", func() connector.Limiter {
			return dynamo.NewLimiter(db, dynamo.DefaultTables.Limits, dynamo.LimiterOptions{BatchWindow: -1})
		}, 0},
		{"dynamodb-lease", func() connector.Limiter {
			return dynamo.NewLimiter(db, dynamo.DefaultTables.Limits, dynamo.LimiterOptions{})
		}, 1000},
	} {
		load := func(tb testing.TB, o connector.Options) *connector.Set {
			ts, err := connector.LoadFS(os.DirFS("../../../connectors"), ".")
			if err != nil {
				tb.Fatal(err)
			}
			for _, t := range ts {
				t.RateLimit, t.Concurrency = nil, 0
				if lc.limiter != nil && t.Registry == "drrp" {
					t.RateLimit, t.Concurrency = uncapped, lc.conc
				}
			}
			if lc.limiter != nil {
				o.Limiter = lc.limiter()
			}
			o.NewID = func() string { return "bench-message" }
			set, err := connector.New(ts, o)
			if err != nil {
				tb.Fatal(err)
			}
			return set
		}
		bc := benchCases[0] // xroad-rest: the cheapest dialect shows the limiter's share best
		args := connector.Args{ApplicationID: "a", Step: "s", Arguments: bc.args}
		b.Run(lc.name+"/seq", func(b *testing.B) {
			sim := registries.New(registries.Options{Seed: 1})
			var res *http.Response
			var body []byte
			rec := load(b, connector.Options{Getenv: env("http://sim.invalid"), RoundTripper: rtFunc(func(r *http.Request) (*http.Response, error) {
				w := httptest.NewRecorder()
				sim.Handler().ServeHTTP(w, r)
				res = w.Result()
				body, _ = io.ReadAll(res.Body)
				res.Body = io.NopCloser(bytes.NewReader(body))
				return res, nil
			})})
			if _, err := rec.Call(context.Background(), bc.id, args, ""); err != nil || res == nil {
				b.Fatal(err)
			}
			set := load(b, connector.Options{Getenv: env("http://sim.invalid"), RoundTripper: &canned{status: res.StatusCode, header: res.Header, body: body}})
			durs := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := set.Call(context.Background(), bc.id, args, ""); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(lc.name+"/sim", func(b *testing.B) {
			sim := registries.New(registries.Options{Seed: 1})
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			set := load(b, connector.Options{Getenv: env(srv.URL)})
			var calls atomic.Int64
			b.SetParallelism(4) // 8 callers on 2 cores
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := set.Call(context.Background(), bc.id, args, ""); err != nil {
						b.Error(err)
						return
					}
					calls.Add(1)
				}
			})
			b.ReportMetric(float64(calls.Load())/time.Since(start).Seconds(), "calls/s")
		})
	}
}
