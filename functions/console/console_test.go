package console_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha/functions/console"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/functions/internal/executions"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/functions/projection"
	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/sfnapi"
)

// world is the AWS deployment in miniature, every part speaking its AWS
// protocol: the engine behind the Step Functions API (local/sfnapi), its
// status events through the EventBridge-shaped bus into the projection
// Lambda's handler, DynamoDB (local/dynamodb) for the projection and the
// audit, and the console Lambda invoked with API Gateway payload 2.0.
type world struct {
	cfg    aws.Config // the world's DynamoDB
	gets   *getCounter
	eng    *engine.Engine
	bus    *bus.Bus
	audit  *support.DynamoAudit
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	idp    *oidc.Provider
}

func newWorld(t *testing.T) *world { return newWorldWith(t, worldOptions{}) }

// worldOptions change the world for the tests that need task Lambdas.
type worldOptions struct {
	// invoker, when set, runs the Task states (built with the world's
	// DynamoDB); otherwise every Task fails.
	invoker func(cfg aws.Config) engine.Invoker
	// overrides is the console's OVERRIDES_TABLE; "": resend answers 501.
	overrides string
}

func newWorldWith(t *testing.T, o worldOptions) *world {
	t.Helper()
	ctx := context.Background()
	dsrv, err := dynamodb.New(filepath.Join(t.TempDir(), "dynamodb"), dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gets := &getCounter{next: dsrv.Handler(), byTable: map[string]int{}}
	dh := httptest.NewServer(gets)
	t.Cleanup(func() { dh.Close(); dsrv.Close() })
	cfg := aws.Config{Region: "eu-central-1", BaseEndpoint: aws.String(dh.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	db := ddb.NewFromConfig(cfg)
	proj := &support.DynamoProjection{Client: db, Table: "projection"}
	audit := &support.DynamoAudit{Client: db, Table: "audit"}
	if err := support.CreateProjectionTable(ctx, db, proj.Table); err != nil {
		t.Fatal(err)
	}
	if err := support.CreateAuditTable(ctx, db, audit.Table); err != nil {
		t.Fatal(err)
	}

	b, err := bus.Open(filepath.Join(t.TempDir(), "bus.db"), bus.Options{NoSync: true, Retry: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ph := projection.New(projection.Deps{Store: proj})
	b.Subscribe("projection", func(ctx context.Context, evs []bus.Event) error {
		for _, e := range evs {
			if err := ph.Handle(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	var inv engine.Invoker // none: every Task fails
	if o.invoker != nil {
		inv = o.invoker(cfg)
	}
	eng := engine.New(engine.Config{Store: bus.NewFeed(engine.NewMemStore(), b), Invoker: inv})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); b.Close() })
	sh := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{}).Handler())
	t.Cleanup(sh.Close)
	sc := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(sh.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})

	idp, err := oidc.New(oidc.Options{Issuer: "http://idp.test", Support: []string{"staff-7"}})
	if err != nil {
		t.Fatal(err)
	}
	kid, pub := idp.PublicKey()
	tokens := gateway.New(nil, gateway.Options{Issuer: "http://idp.test", Audience: idp.Audience(),
		Keys: func(context.Context) (map[string]*rsa.PublicKey, error) {
			return map[string]*rsa.PublicKey{kid: pub}, nil
		}})
	x := executions.New(sc)
	if o.overrides != "" {
		x.Overrides = &override.Table{Client: db, Name: o.overrides}
	}
	h := console.New(support.Deps{Projection: proj, Audit: audit, Verifier: &console.Verifier{Tokens: tokens},
		Executions: &console.SFNExecutions{X: x}})
	return &world{cfg: cfg, gets: gets, eng: eng, bus: b, audit: audit, lambda: h.Lambda(), idp: idp}
}

// run starts an execution of a new machine and waits until it settled and
// its events reached the projection.
func (w *world) run(t *testing.T, name, def, id string) string {
	t.Helper()
	ctx := context.Background()
	m, err := w.eng.CreateMachine(ctx, engine.CreateMachineInput{Name: name, Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	x, err := w.eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: id,
		Input: `{"applicationId":"` + id + `","service":"` + name + `","citizen":{"taxNumber":"3012345678"}}`})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, `"Wait"`) {
		w.settle(t, x.ARN)
		return x.ARN
	}
	// A Wait never settles: wait until the projection shows it there.
	for range 500 {
		if err := w.bus.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if code, body := w.call(t, "GET", "/console/api/applications/"+id+"/status", "", nil, supportClaims); code == 200 && len(body["steps"].([]any)) > 0 {
			return x.ARN
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never reached its Wait state in the projection", id)
	return ""
}

func (w *world) settle(t *testing.T, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.eng.AwaitSettled(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if err := w.bus.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// call invokes the console Lambda; claims, when set, are what an HttpApi
// JWT authorizer would pass.
func (w *world) call(t *testing.T, method, path, body string, headers, claims map[string]string) (int, map[string]any) {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}}
	if q, ok := strings.CutPrefix(path, "?"); ok {
		req.RawQueryString = q
	}
	if p, q, ok := strings.Cut(path, "?"); ok {
		req.RawPath, req.RequestContext.HTTP.Path, req.RawQueryString = p, p, q
	}
	if claims != nil {
		// An authorizer admits only requests that carry the header.
		req.Headers = map[string]string{"authorization": "Bearer verified-by-the-authorizer"}
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	resp, err := w.lambda(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if resp.Body != "" && strings.Contains(resp.Headers["Content-Type"], "json") {
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, resp.Body, err)
		}
	}
	return resp.StatusCode, out
}

const failing = `{"StartAt":"Prepare","States":{
  "Prepare":{"Type":"Pass","Comment":"bpmn:prepare","Result":{"taxNumber":"3012345678"},"Next":"Check"},
  "Check":{"Type":"Task","Comment":"bpmn:check_fop","Resource":"arn:aws:lambda:us-east-1:111111111111:function:registryread","End":true}}}`

var supportClaims = map[string]string{"sub": "staff-7", "role": "support", "name": "Оксана"}

// TestAuthorization: authorizer claims or a verified token (header or
// session cookie) with the support role get in; a citizen gets 403, no or
// a forged token 401.
func TestAuthorization(t *testing.T) {
	w := newWorld(t)
	staff, _ := w.idp.SupportToken("staff-7")
	citizen, err := w.idp.TokenFor("3012345678", "Петро", "1990-01-01")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		headers, claims map[string]string
		want            int
	}{
		{"authorizer claims, support", nil, supportClaims, 200},
		{"authorizer claims, citizen", nil, map[string]string{"sub": "3012345678", "role": "citizen"}, 403},
		{"bearer, support", map[string]string{"authorization": "Bearer " + staff}, nil, 200},
		{"session cookie, support", map[string]string{"cookie": "posluha_console=" + staff}, nil, 200},
		{"bearer, citizen", map[string]string{"authorization": "Bearer " + citizen}, nil, 403},
		{"forged", map[string]string{"authorization": "Bearer " + staff[:len(staff)-4] + "AAAA"}, nil, 401},
		{"nothing", nil, nil, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, body := w.call(t, "GET", "/console/api/services", "", tc.headers, tc.claims); got != tc.want {
				t.Fatalf("status %d %v, want %d", got, body, tc.want)
			}
		})
	}
}

// TestSupportFlow: a failed application shows in the failed list from the
// projection; opening it reads the failed step through one history call
// (audited); resend answers 501; redrive and cancel act through the Step
// Functions API; every action is in the audit table, chained.
func TestSupportFlow(t *testing.T) {
	w := newWorld(t)
	arn := w.run(t, "lockdown-payout", failing, "APP-1")

	code, body := w.call(t, "GET", "/console/api/failed?service=lockdown-payout", "", nil, supportClaims)
	apps, _ := body["applications"].([]any)
	if code != 200 || len(apps) != 1 || apps[0].(map[string]any)["applicationId"] != "APP-1" || apps[0].(map[string]any)["failedStep"] != "check_fop" {
		t.Fatalf("failed list: %d %v", code, body)
	}
	code, body = w.call(t, "GET", "/console/api/applications/APP-1", "", nil, supportClaims)
	sd, _ := body["stepData"].(map[string]any)
	if code != 200 || sd["state"] != "Check" || !strings.Contains(mustJSON(t, sd["input"]), `"taxNumber":"3012345678"`) {
		t.Fatalf("detail: %d %v", code, body)
	}
	code, body = w.call(t, "POST", "/console/api/applications/APP-1/resend", `{"input":{"taxNumber":"1"},"reason":"typo"}`, nil, supportClaims)
	if code != 501 || body["title"] != "NotSupported" || !strings.Contains(body["detail"].(string), "redrive") {
		t.Fatalf("resend: %d %v", code, body)
	}
	code, body = w.call(t, "POST", "/console/api/applications/APP-1/redrive", `{"reason":"registry is back"}`, nil, supportClaims)
	if code != 200 {
		t.Fatalf("redrive: %d %v", code, body)
	}
	w.settle(t, arn)
	code, body = w.call(t, "GET", "/console/api/applications/APP-1/status", "", nil, supportClaims)
	if code != 200 || body["redriveCount"] != 1.0 || body["status"] != "FAILED" {
		t.Fatalf("status after redrive: %d %v", code, body)
	}

	held := w.run(t, "e-propyska", `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Comment":"bpmn:hold","Seconds":3600,"End":true}}}`, "APP-2")
	code, body = w.call(t, "POST", "/console/api/applications/APP-2/cancel", `{"reason":"duplicate"}`, nil, supportClaims)
	if code != 200 {
		t.Fatalf("cancel: %d %v", code, body)
	}
	w.settle(t, held)
	code, body = w.call(t, "POST", "/console/api/applications/APP-2/redrive", `{}`, nil, supportClaims)
	if code != 200 {
		t.Fatalf("redrive of a cancelled execution: %d %v", code, body)
	}
	code, body = w.call(t, "POST", "/console/api/applications/NOPE/redrive", `{}`, nil, supportClaims)
	if code != 404 {
		t.Fatalf("redrive of an unknown application: %d %v", code, body)
	}

	es, err := w.audit.List(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action+":"+e.ApplicationID)
	}
	want := "redrive:APP-2 cancel:APP-2 redrive:APP-1 resend:APP-1 view:APP-1"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit = %v, want %s", actions, want)
	}
	if n, err := w.audit.Verify(context.Background()); err != nil || n != 5 {
		t.Errorf("audit chain: %d %v", n, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEvents runs events/console/*.json (API Gateway payload 2.0 as the
// HttpApi sends it; authorizer claims where a token was verified) through
// the Lambda runtime's handler path, against a failed application APP-1.
func TestEvents(t *testing.T) {
	want := map[string]int{
		"failed-list.json":        200,
		"application-detail.json": 200,
		"resend.json":             501,
		"redrive.json":            200,
		"citizen-forbidden.json":  403,
		"page-signed-out.json":    401,
	}
	w := newWorld(t)
	w.run(t, "lockdown-payout", failing, "APP-1")
	h := lambda.NewHandler(w.lambda)
	files, _ := filepath.Glob("../../events/console/*.json")
	if len(files) == 0 {
		t.Fatal("no sample events")
	}
	// Redrive last: it changes APP-1.
	redrive := func(f string) bool { return strings.HasSuffix(f, "redrive.json") }
	sort.SliceStable(files, func(i, j int) bool { return !redrive(files[i]) && redrive(files[j]) })
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			code, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			strictRoundTrip(t, data)
			out, err := h.Invoke(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != code {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, code)
			}
		})
	}
}

// strictRoundTrip decodes a sample strictly as payload 2.0 and checks that
// encoding it gives the sample back, except requestContext.authentication:
// aws-lambda-go always encodes it, API Gateway sends it only with mutual
// TLS, which the HttpApi does not use.
func strictRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decode: %v", err)
	}
	again, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal(data, &want)
	json.Unmarshal(again, &got)
	delete(got["requestContext"].(map[string]any), "authentication")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n%s\nwant\n%s", again, data)
	}
}

func TestDiagrams(t *testing.T) {
	d := console.Diagrams(fstest.MapFS{"lockdown-payout/process.bpmn": {Data: []byte("<definitions/>")}})
	for _, tc := range []struct {
		service string
		ok      bool
	}{{"lockdown-payout", true}, {"../lockdown-payout", false}, {"lockdown-payout/..", false}, {"", false}, {".", false}, {"nope", false}} {
		b, err := d(context.Background(), tc.service)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, fs.ErrNotExist)) || (tc.ok && string(b) != "<definitions/>") {
			t.Errorf("Diagram(%q) = %q, %v", tc.service, b, err)
		}
	}
}
