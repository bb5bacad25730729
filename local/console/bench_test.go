package console

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
)

// benchApps is the projection size of the query benchmarks: 1M by
// default (the figure), CONSOLE_BENCH_APPS to change it.
func benchApps() int {
	if n, err := strconv.Atoi(os.Getenv("CONSOLE_BENCH_APPS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var (
	benchOnce sync.Once
	benchProj *Projection
	benchErr  error
	benchLoad time.Duration
)

var benchSteps = []string{"submitted", "check_fop", "eligible", "pay", "notify_paid", "await_signature"}

// benchApp is application i of a synthetic burst: 80 % done, 10 %
// running over six steps, 5 % failed, 5 % cancelled; three services;
// some citizens with two applications.
func benchApp(i int) *support.App {
	svc := []string{"lockdown-payout", "fop-registration", "e-propyska"}[i%3]
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	a := &support.App{ID: fmt.Sprintf("APP-%08d", i), Service: svc, Citizen: fmt.Sprintf("%010d", 3_000_000_000+i%900_000),
		ExecutionARN: "arn:aws:states:local:000000000000:execution:" + svc + ":" + fmt.Sprintf("APP-%08d", i),
		Started:      at, Since: at.Add(time.Minute), Steps: []string{}}
	switch r := i % 20; {
	case r < 16:
		a.Status, a.Stopped = "SUCCEEDED", a.Since
	case r < 18:
		a.Status, a.Steps = "RUNNING", []string{benchSteps[i%len(benchSteps)]}
	case r == 18:
		a.Status, a.Stopped, a.FailedStep, a.Error = "FAILED", a.Since, "pay", "Treasury.Rejected"
		a.Cause = `{"errorMessage":"technical break"}`
	default:
		a.Status, a.Stopped = "ABORTED", a.Since
	}
	return a
}

func loadBench(b *testing.B) *Projection {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "console-bench-")
		if err != nil {
			benchErr = err
			return
		}
		p, err := OpenProjection(filepath.Join(dir, "console.db"), ProjectionOptions{NoSync: true})
		if err != nil {
			benchErr = err
			return
		}
		start := time.Now()
		n := benchApps()
		const batch = 20_000
		apps := make([]*support.App, 0, batch)
		for i := 0; i < n; i++ {
			apps = append(apps, benchApp(i))
			if len(apps) == batch || i == n-1 {
				if err := p.Load(apps); err != nil {
					benchErr = err
					return
				}
				apps = apps[:0]
			}
		}
		benchLoad = time.Since(start)
		benchProj = p
		cleanupDir = dir // removed by TestMain when the benchmarks end
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	b.Logf("projection of %d applications loaded in %s", benchApps(), benchLoad.Round(time.Millisecond))
	return benchProj
}

var cleanupDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchProj != nil {
		benchProj.Close()
		os.RemoveAll(cleanupDir)
	}
	os.Exit(code)
}

// BenchmarkQueries measures every console query on a projection of 1M
// applications; the issue asks for < 200 ms each. Get (one key) is the
// peer the others compare to.
func BenchmarkQueries(b *testing.B) {
	benchQueries(b, loadBench(b), benchApps())
}

// BenchmarkDynamoQueries runs the same queries on DynamoProjection over
// the local DynamoDB endpoint (in-process, HTTP on 127.0.0.1):
// CONSOLE_DYNAMO_BENCH_APPS applications, 100k by default (loading 1M
// through the local endpoint takes too long for a benchmark run). Each
// query is one to four HTTP round trips; in AWS add the network's
// per-request latency to each.
func BenchmarkDynamoQueries(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CONSOLE_DYNAMO_BENCH_APPS")); err == nil && v > 0 {
		n = v
	}
	p := mustDynamoProjection(b)
	start := time.Now()
	const batch = 5_000
	apps := make([]*support.App, 0, batch)
	for i := 0; i < n; i++ {
		apps = append(apps, benchApp(i))
		if len(apps) == batch || i == n-1 {
			if err := p.Load(context.Background(), apps); err != nil {
				b.Fatal(err)
			}
			apps = apps[:0]
		}
	}
	b.Logf("DynamoDB projection of %d applications loaded in %s", n, time.Since(start).Round(time.Millisecond))
	benchQueries(b, p, n)
}

func benchQueries(b *testing.B, p support.Store, n int) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	mid := fmt.Sprintf("APP-%08d", n/2)
	cases := []struct {
		name string
		run  func() (int, error)
	}{
		{"Get", func() (int, error) { _, err := p.Get(context.Background(), mid); return 1, err }},
		{"Stats", func() (int, error) {
			s, err := p.Stats(context.Background(), "lockdown-payout", now)
			return len(s.AtStep), err
		}},
		{"Services+Stats", func() (int, error) {
			names, err := p.Services(context.Background())
			for _, s := range names {
				if _, err := p.Stats(context.Background(), s, now); err != nil {
					return 0, err
				}
			}
			return len(names), err
		}},
		{"FailedAll/50", func() (int, error) { pg, err := p.Failed(context.Background(), "", 50, ""); return len(pg.Apps), err }},
		{"FailedService/50", func() (int, error) {
			pg, err := p.Failed(context.Background(), "e-propyska", 50, "")
			return len(pg.Apps), err
		}},
		{"FailedPage100", func() (int, error) {
			// The 100th page: paging costs a seek, not a skip.
			after := ""
			for range 100 {
				pg, err := p.Failed(context.Background(), "lockdown-payout", 50, after)
				if err != nil {
					return 0, err
				}
				after = pg.Next
			}
			return 100, nil
		}},
		{"Stuck/50", func() (int, error) {
			pg, err := p.Stuck(context.Background(), "fop-registration", now, 50, "")
			return len(pg.Apps), err
		}},
		{"AtStep/50", func() (int, error) {
			pg, err := p.AtStep(context.Background(), "lockdown-payout", "pay", 50, "")
			return len(pg.Apps), err
		}},
		{"ByCitizen", func() (int, error) {
			pg, err := p.ByCitizen(context.Background(), fmt.Sprintf("%010d", 3_000_000_000+12345), 50, "")
			return len(pg.Apps), err
		}},
		{"StatusCounts", func() (int, error) { m, err := p.StatusCounts(context.Background()); return len(m), err }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				got, err := tc.run()
				if err != nil {
					b.Fatal(err)
				}
				if got == 0 {
					b.Fatal("empty answer")
				}
			}
		})
	}
}

// BenchmarkHTTP measures the API answers the page asks for every few
// seconds, over the same 1M projection: token verification (RS256), the
// query and the JSON encoding.
func BenchmarkHTTP(b *testing.B) {
	p := loadBench(b)
	idp, err := oidc.New(oidc.Options{Issuer: "http://idp.test", Support: []string{"staff-7"}})
	if err != nil {
		b.Fatal(err)
	}
	kid, pub := idp.PublicKey()
	verifier := gateway.New(nil, gateway.Options{Issuer: "http://idp.test", Audience: idp.Audience(),
		Keys: func(context.Context) (map[string]*rsa.PublicKey, error) {
			return map[string]*rsa.PublicKey{kid: pub}, nil
		}})
	audit, err := OpenAudit(filepath.Join(b.TempDir(), "audit.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer audit.Close()
	n := benchApps()
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	h := support.New(support.Deps{Projection: p, Audit: audit, Verifier: verifier, Now: func() time.Time { return now }}).Handler()
	token, _ := idp.SupportToken("staff-7")
	for _, path := range []string{
		"/console/api/services",
		"/console/api/failed?limit=50",
		"/console/api/stuck?limit=50",
		"/console/api/search?q=" + fmt.Sprintf("APP-%08d", n/3),
		"/console/api/services/lockdown-payout/steps/pay?limit=50",
	} {
		b.Run(strings.TrimPrefix(path, "/console/api/"), func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", path, w.Code, w.Body)
				}
			}
		})
	}
}
