package load_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/functions/tables"
	localddb "github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/load"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/sfnapi"
	localsqs "github.com/posluha/posluha/local/sqs"
)

// burstStack is the accepting half of the local stack in one process:
// OIDC provider, gateway, api, local DynamoDB and SQS, the dispatcher's
// poller and the local Step Functions API with a one-state stand-in for
// the service (the services' real processes need the whole stack).
type burstStack struct {
	apiURL string
	idp    *oidc.Provider
	token  func(context.Context, load.Applicant) (string, error)
	sfn    *sfn.Client
	prefix string
	drain  func()
	check  *load.Reconciler
}

// newBurstStack starts the stack; with hold the dispatcher starts only
// when drain is called (to measure the accepting path alone).
func newBurstStack(t *testing.T, quota sfnapi.Quota, hold bool) *burstStack {
	t.Helper()
	ctx := context.Background()
	dsrv, err := localddb.New(t.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dsrv.Close() })
	ssrv, err := localsqs.New(t.TempDir(), localsqs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ssrv.Close() })
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	quotas := map[string]sfnapi.Quota{}
	if quota.Rate > 0 {
		quotas["StartExecution"] = quota
	}
	// One endpoint for the three AWS services, told apart by the JSON
	// protocol's X-Amz-Target, so one aws.Config reaches them all.
	sfnH, ddbH, sqsH := sfnapi.New(eng, sfnapi.Options{Quotas: quotas}).Handler(), dsrv.Handler(), ssrv.Handler()
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch target := r.Header.Get("X-Amz-Target"); {
		case strings.HasPrefix(target, "DynamoDB_"):
			ddbH.ServeHTTP(w, r)
		case strings.HasPrefix(target, "AWSStepFunctions."):
			sfnH.ServeHTTP(w, r)
		default:
			sqsH.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(aws.Close)
	cfg := awssdk.Config{Region: "eu-central-1", BaseEndpoint: awssdk.String(aws.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512}}}
	noEnv := func(string) string { return "" }
	if err := tables.Create(ctx, cfg, noEnv); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	qout, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: awssdk.String("applications")})
	if err != nil {
		t.Fatal(err)
	}
	sf := sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.RetryMaxAttempts = 1 })
	m, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: awssdk.String("lockdown-payout"), RoleArn: awssdk.String("arn:aws:iam::000000000000:role/local"),
		Definition: awssdk.String(`{"StartAt":"Pay","States":{"Pay":{"Type":"Pass","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSuffix(*m.StateMachineArn, "lockdown-payout")
	env := map[string]string{"APPLICATIONS_QUEUE_URL": *qout.QueueUrl, "STATE_MACHINE_ARN_PREFIX": prefix,
		"STARTEXECUTION_RATE": "1000", "STARTEXECUTION_BURST": "1000", "APPLICATIONS_QUEUE_BATCH": "1"}
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)
	h, err := api.Wire(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatcher.Wire(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := oidc.New(oidc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	idps := httptest.NewServer(idp.Handler())
	t.Cleanup(idps.Close)
	idp.SetIssuer(idps.URL)
	gw := httptest.NewServer(gateway.New(h.Lambda(), gateway.Options{Issuer: idp.Issuer(), Audience: oidc.DefaultAudience}))
	t.Cleanup(gw.Close)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var once sync.Once
	drain := func() {
		once.Do(func() {
			go func() {
				done <- (&dispatcher.Poller{SQS: q, QueueURL: *qout.QueueUrl, Handler: d, Receivers: 4, WaitSeconds: 1}).Run(runCtx)
			}()
		})
	}
	if !hold {
		drain()
	}
	t.Cleanup(func() { drain(); stop(); <-done })
	token := func(_ context.Context, a load.Applicant) (string, error) {
		return idp.TokenFor(a.TaxNumber, a.Name, a.BirthDate)
	}
	return &burstStack{apiURL: gw.URL, idp: idp, token: token, sfn: sf, prefix: prefix, drain: drain, check: &load.Reconciler{
		Records:    &load.APIRecords{URL: gw.URL, Token: token},
		Executions: &load.SFNExecutions{Client: sf, MachineARN: func(s string) string { return prefix + s }},
		Timeout:    time.Minute, Poll: 200 * time.Millisecond,
	}}
}

func TestGenerateIsUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for i := range 50000 {
		a := load.Generate(i)
		if !registries.ValidTaxNumber(a.TaxNumber) || seen[a.TaxNumber] {
			t.Fatalf("applicant %d: %+v (seen %v)", i, a, seen[a.TaxNumber])
		}
		seen[a.TaxNumber] = true
	}
}

// TestBurst plays a small burst through the whole accepting path with a
// StartExecution quota below the arrival rate: everything accepted is
// stored, started once and finished.
//
// POSLUHA_LOAD_RPS and POSLUHA_LOAD_SECONDS make it a bigger run (make
// bench), e.g. 2500 and 60.
func TestBurst(t *testing.T) {
	rps, secs := 200, 2
	if v, err := strconv.Atoi(os.Getenv("POSLUHA_LOAD_RPS")); err == nil && v > 0 {
		rps = v
	}
	if v, err := strconv.Atoi(os.Getenv("POSLUHA_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	hold := os.Getenv("POSLUHA_LOAD_HOLD") != ""                      // accept first, drain after
	s := newBurstStack(t, sfnapi.Quota{Rate: 300, Burst: 1300}, hold) // AWS Standard, large regions
	var out bytes.Buffer
	res, err := load.Run(context.Background(), load.Options{
		APIURL: s.apiURL, RPS: float64(rps), Duration: time.Duration(secs) * time.Second,
		Token: s.token, AfterBurst: s.drain, Check: s.check,
	}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if n := rps * secs; res.Accepted != n || res.Reconcile.Succeeded != n {
		t.Fatalf("accepted %d, succeeded %d", res.Accepted, res.Reconcile.Succeeded)
	}
	// The portal's trace header reached the execution (API → SQS → dispatcher).
	x, err := s.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{
		ExecutionArn: awssdk.String(strings.Replace(s.prefix, ":stateMachine:", ":execution:", 1) + "lockdown-payout:" + res.Applications[0].ID)})
	if err != nil {
		t.Fatal(err)
	}
	if th := awssdk.ToString(x.TraceHeader); !strings.HasPrefix(th, "Root=1-") {
		t.Errorf("trace header %q", th)
	}
}

func TestFlags(t *testing.T) {
	var o load.Options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--rps", "2500", "--duration", "60s", "--applicants", "900000"}); err != nil {
		t.Fatal(err)
	}
	if o.RPS != 2500 || o.Duration != time.Minute || o.Applicants != 900000 || o.Service != "lockdown-payout" || !o.Progress {
		t.Fatalf("options %+v", o)
	}
}
