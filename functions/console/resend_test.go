package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/functions/registryread"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/lambdarun"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/query/value"
)

// getCounter counts the GetItem requests the world's DynamoDB receives,
// by table.
type getCounter struct {
	next    http.Handler
	mu      sync.Mutex
	byTable map[string]int
}

func (g *getCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ TableName string }
		json.Unmarshal(body, &in)
		g.mu.Lock()
		g.byTable[in.TableName]++
		g.mu.Unlock()
	}
	g.next.ServeHTTP(w, r)
}

func (g *getCounter) count(table string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byTable[table]
}

// readRealty is a registry read as the compiler emits it: the optimised
// lambda:invoke with a posluha.TaskRequest payload. function names the
// Lambda, so one test runs the reader with and without overrides.
func readRealty(function string) string {
	return `{"StartAt":"Prepare","States":{
  "Prepare":{"Type":"Pass","Comment":"bpmn:prepare","Result":"1234567890","ResultPath":"$.citizen.taxNumber","Next":"ReadRealty"},
  "ReadRealty":{"Type":"Task","Comment":"bpmn:Activity_readRealty","Resource":"arn:aws:states:::lambda:invoke",
    "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:111111111111:function:` + function + `",
      "Payload":{"applicationId.$":"$.applicationId","service.$":"$.service","step":"Activity_readRealty",
        "attempt.$":"$$.State.RetryCount","connector":"drrp.realty-rights","arguments":{"taxNumber.$":"$.citizen.taxNumber"}}},
    "OutputPath":"$.Payload","End":true}}}`
}

// TestResendFixesArguments: a registry read fails on a wrong tax number;
// support opens the application and sees the task's arguments and step,
// resends them corrected; the override is stored, the execution redriven,
// and the real registryread handler reads the registry with the corrected
// arguments, so the execution succeeds. The audit entry holds the
// arguments before and after. Bad edits are 400, a citizen is refused,
// and a reader without OVERRIDES_TABLE looks nothing up.
func TestResendFixesArguments(t *testing.T) {
	ctx := context.Background()
	sim := registries.New(registries.Options{Seed: 1})
	reg := httptest.NewServer(sim.Handler())
	t.Cleanup(reg.Close)
	const table = "posluha-overrides"
	w := newWorldWith(t, worldOptions{overrides: table, invoker: func(cfg aws.Config) engine.Invoker {
		db := ddb.NewFromConfig(cfg)
		if err := dynamo.CreateTables(ctx, db, dynamo.DefaultTables); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateTable(ctx, override.TableDefinition(table)); err != nil {
			t.Fatal(err)
		}
		runner := lambdarun.New()
		for name, overrides := range map[string]string{"registryread": table, "registryread-plain": ""} {
			getenv := func(k string) string {
				switch k {
				case "POSLUHA_REGISTRY_URL":
					return reg.URL
				case "POSLUHA_LIMITER":
					return "local"
				case "OVERRIDES_TABLE":
					return overrides
				}
				return ""
			}
			h, err := registryread.Wire(ctx, cfg, slog.New(slog.DiscardHandler), getenv)
			if err != nil {
				t.Fatal(err)
			}
			runner.Register(name, h.Lambda())
		}
		return &engine.Router{Lambda: runner}
	}})

	// Without OVERRIDES_TABLE the reader never asks the table.
	w.run(t, "plain-read", readRealty("registryread-plain"), "APP-PLAIN")
	if n := w.gets.count(table); n != 0 {
		t.Fatalf("a reader without OVERRIDES_TABLE read the overrides table %d times", n)
	}

	arn := w.run(t, "housing-aid", readRealty("registryread"), "APP-7")
	if x, err := w.eng.AwaitSettled(ctx, arn); err != nil || x.Status != engine.StatusFailed {
		t.Fatalf("first run: %+v %v", x, err)
	}
	code, body := w.call(t, "GET", "/console/api/applications/APP-7", "", nil, supportClaims)
	sd, _ := body["stepData"].(map[string]any)
	if code != 200 || sd["state"] != "ReadRealty" || sd["step"] != "Activity_readRealty" || sd["applicationId"] != "APP-7" ||
		mustJSON(t, sd["input"]) != `{"taxNumber":"1234567890"}` {
		t.Fatalf("detail: %d %v", code, body)
	}
	if n := w.gets.count(table); n == 0 {
		t.Fatal("the reader with OVERRIDES_TABLE never looked the override up")
	}

	citizen := map[string]string{"sub": "3111412139", "role": "citizen"}
	refused := []struct {
		name, body string
		claims     map[string]string
		want       int
	}{
		{"an array", `{"input":[{"taxNumber":"3111412139"}],"reason":"typo"}`, supportClaims, 400},
		{"a string", `{"input":"3111412139","reason":"typo"}`, supportClaims, 400},
		{"null", `{"input":null,"reason":"typo"}`, supportClaims, 400},
		{"not JSON", `{"input":{"taxNumber":`, supportClaims, 400},
		{"variables", `{"input":{"taxNumber":"3111412139"},"variables":{"x":1}}`, supportClaims, 400},
		{"a citizen", `{"input":{"taxNumber":"3111412139"},"reason":"mine"}`, citizen, 403},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := w.call(t, "POST", "/console/api/applications/APP-7/resend", tc.body, nil, tc.claims); code != tc.want {
				t.Fatalf("resend: %d %v, want %d", code, body, tc.want)
			}
		})
	}
	o, ok, err := (&override.Table{Client: ddb.NewFromConfig(w.cfg), Name: table}).Get(ctx, "APP-7", "Activity_readRealty")
	if err != nil || ok {
		t.Fatalf("a refused resend stored an override: %+v %v %v", o, ok, err)
	}

	code, body = w.call(t, "POST", "/console/api/applications/APP-7/resend", `{"input":{"taxNumber":"3111412139"},"reason":"typo in the RNOKPP"}`, nil, supportClaims)
	if code != 200 {
		t.Fatalf("resend: %d %v", code, body)
	}
	w.settle(t, arn)
	x, err := w.eng.AwaitSettled(ctx, arn)
	if err != nil || x.Status != engine.StatusSucceeded || x.RedriveCount != 1 {
		t.Fatalf("after resend: %+v %v", x, err)
	}
	dx, err := w.eng.DescribeExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	out := string(value.Marshal(dx.Output.V))
	// The registry names the owner of the corrected tax number.
	if !strings.Contains(out, `"owner":"Шевченко Тарас Григорович"`) {
		t.Fatalf("output %s: the corrected arguments did not reach the registry", out)
	}
	o, ok, err = (&override.Table{Client: ddb.NewFromConfig(w.cfg), Name: table}).Get(ctx, "APP-7", "Activity_readRealty")
	if err != nil || !ok || o.Who != "staff-7" || o.Arguments["taxNumber"] != "3111412139" || o.When.IsZero() {
		t.Fatalf("override: %+v %v %v", o, ok, err)
	}

	es, err := w.audit.List(ctx, "APP-7", 0)
	if err != nil {
		t.Fatal(err)
	}
	var resend *support.Entry
	for i := range es {
		if es[i].Action == support.ActionResend && es[i].Outcome == "ok" {
			resend = &es[i]
		}
	}
	if resend == nil || resend.Actor != "staff-7" || !strings.Contains(string(resend.Before), `1234567890`) ||
		!strings.Contains(string(resend.After), `3111412139`) || strings.Contains(string(resend.After), `1234567890`) {
		t.Fatalf("audit of the resend: %+v (all: %+v)", resend, es)
	}
}
