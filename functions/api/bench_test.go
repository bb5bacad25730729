package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/internal/dynamo"
	localddb "github.com/posluha/posluha/local/dynamodb"
	localsqs "github.com/posluha/posluha/local/sqs"
)

// localBackends starts local/dynamodb and local/sqs on loopback ports and
// returns the api's adapters on them, as the local stack wires them.
func localBackends(tb testing.TB) (*dynamo.Applications, *api.SQSQueue) {
	apps, q, _ := localBackendsBatch(tb)
	return apps, q
}

func localBackendsBatch(tb testing.TB) (*dynamo.Applications, *api.SQSQueue, *api.BatchQueue) {
	tb.Helper()
	dsrv, err := localddb.New(tb.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		tb.Fatal(err)
	}
	dh := httptest.NewServer(dsrv.Handler())
	ssrv, err := localsqs.New(tb.TempDir(), localsqs.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	sh := httptest.NewServer(ssrv.Handler())
	tb.Cleanup(func() { dh.Close(); sh.Close(); dsrv.Close(); ssrv.Close() })
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")
	// Keep connections for every request in flight (the default keeps 2
	// per host, so a burst would dial for most requests).
	pool := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256}}
	db := dynamodb.New(dynamodb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(dh.URL), Credentials: creds, HTTPClient: pool})
	if err := dynamo.CreateTables(context.Background(), db, dynamo.DefaultTables); err != nil {
		tb.Fatal(err)
	}
	q := sqs.New(sqs.Options{Region: "eu-central-1", BaseEndpoint: aws.String(sh.URL), Credentials: creds, HTTPClient: pool})
	out, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("applications")})
	if err != nil {
		tb.Fatal(err)
	}
	return dynamo.NewApplications(db, dynamo.DefaultTables.Applications), &api.SQSQueue{Client: q, URL: *out.QueueUrl}, &api.BatchQueue{Client: q, URL: *out.QueueUrl}
}

// BenchmarkSubmit measures accepted POST /applications in-process (the
// Lambda function, as the gateway calls it) against local/dynamodb and
// local/sqs: a durable conditional write (with the one-open lock) and a
// durable SendMessage per application, each by a different citizen. It
// reports accepted/s and the latency percentiles of one submission.
func BenchmarkSubmit(b *testing.B) {
	b.Run("SendMessage", func(b *testing.B) {
		apps, queue := localBackends(b)
		benchSubmit(b, apps, queue)
	})
	b.Run("SendMessageBatch", func(b *testing.B) {
		apps, _, queue := localBackendsBatch(b)
		benchSubmit(b, apps, queue)
	})
}

func benchSubmit(b *testing.B, apps *dynamo.Applications, queue api.Queue) {
	h, err := api.New(api.Deps{Services: testServicesF(b), Applications: apps, Queue: queue})
	if err != nil {
		b.Fatal(err)
	}
	fn := h.Lambda()
	var (
		seq  atomic.Int64
		mu   sync.Mutex
		lats []time.Duration
		bad  atomic.Int64
	)
	b.SetParallelism(16) // requests in flight per core, as API Gateway would send them
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			n := seq.Add(1)
			ev := citizenEvent("POST", "/applications", `{"service":"lockdown-payout","form":{"iban":"UA213223130000026007233566001"}}`, nil)
			ev.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": fmt.Sprintf("%010d", 1000000000+n), "name": "Тест", "birthdate": "1980-01-01"}
			t0 := time.Now()
			resp, err := fn(context.Background(), ev)
			mine = append(mine, time.Since(t0))
			if err != nil || resp.StatusCode != 202 {
				bad.Add(1)
			}
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if bad.Load() > 0 {
		b.Fatalf("%d submissions not accepted", bad.Load())
	}
	slices.Sort(lats)
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))]) / 1e6 }
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "accepted/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
