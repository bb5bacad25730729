package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/internal/dynamo"
)

const sampleApp = "0193a8f2-7c4e-7d10-9b2a-5c6d7e8f9a0b"

// subset reports whether every member of want is in got with the same
// value (the Go types add empty members the samples leave out).
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	return bytes.Equal(wb, gb)
}

// TestEvents decodes every events/api/*.json strictly as an API Gateway
// payload 2.0 event, checks the round trip, and runs it through the
// handler's Lambda function on fresh stores holding one waiting
// application of the sample citizen.
func TestEvents(t *testing.T) {
	want := map[string]int{
		"openapi.json": 200, "list-services.json": 200, "get-service-form.json": 200,
		"submit-application.json": 202, "submit-bad-form.json": 422, "submit-one-open-conflict.json": 409,
		"list-applications.json": 200, "get-application.json": 200, "get-application-other-citizen.json": 404,
		"cancel-application.json": 200, "answer-step.json": 202, "submit-signature.json": 202,
		"list-documents.json": 200, "list-notifications.json": 200, "no-claims.json": 401,
	}
	files, err := filepath.Glob("../../events/api/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			status, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("decode: %v", err)
			}
			again, _ := json.Marshal(ev)
			var a, b any
			json.Unmarshal(data, &a)
			json.Unmarshal(again, &b)
			if !subset(a, b) {
				t.Errorf("round trip lost members:\n%s", again)
			}
			h := sampleHandler(t)
			resp, err := h.Lambda()(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
			}
		})
	}
}

func sampleHandler(t *testing.T) *api.Handler {
	t.Helper()
	mem := dynamo.NewMemory()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	app := &posluha.Application{ID: sampleApp, Service: "lockdown-payout", Citizen: "3111412139", Created: now,
		Form:          map[string]any{"iban": "UA213223130000026007233566001"},
		StatusHistory: []posluha.StatusChange{{Status: posluha.StatusSubmitted, Time: now}},
		Documents:     []posluha.Document{{Number: "LP-1", Key: "documents/" + sampleApp + "/decision.pdf"}}}
	if err := mem.Applications.Create(ctx, app, true); err != nil {
		t.Fatal(err)
	}
	mem.Applications.Update(ctx, sampleApp, func(a *posluha.Application) error {
		a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: "Task_confirmIban", Time: now})
		return a.Move(posluha.StatusChange{Status: posluha.StatusWaiting, Step: "Task_confirmIban", Time: now})
	})
	mem.Awaits.Put(ctx, &posluha.Await{Key: "Task_confirmIban/" + sampleApp, ApplicationID: sampleApp, Step: "Task_confirmIban", Token: "token", Created: now})
	h, err := api.New(api.Deps{
		Services: testServices(t), Applications: mem.Applications, Notifications: mem.Notifications, Awaits: mem.Awaits,
		Queue: &Queue{}, Executions: &Executions{},
		Signatures: &Signatures{
			SignerFunc: func(context.Context, string) (string, string, error) { return sampleApp, "3111412139", nil },
			SubmitFunc: func(context.Context, string, []byte) error { return nil },
		},
		Documents: &Documents{LinkFunc: func(_ context.Context, key string, _ time.Duration) (string, error) {
			return "https://s3.local/" + key, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
