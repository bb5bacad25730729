package stack

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// TestPutEventsIntegration runs both PutEvents integrations in a
// definition (the optimised one with a JSON-object Detail, the SDK one
// with text and a refused entry) and the eventbridge SDK client against
// the edge; every accepted event reaches the bus's subscribers.
func TestPutEventsIntegration(t *testing.T) {
	ctx := context.Background()
	s := openStack(t, t.TempDir())
	var mu sync.Mutex
	got := map[string]bus.Event{}
	s.Console.Bus.Subscribe("test", func(_ context.Context, evs []bus.Event) error {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			if e.Source == "posluha.test" {
				got[e.ID] = e
			}
		}
		return nil
	})

	def := `{"StartAt":"Put","States":{
	  "Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[{"Source":"posluha.test","DetailType":"Optimised","Detail":{"applicationId.$":"$.id"}}]},"ResultPath":"$.put","Next":"SdkPut"},
	  "SdkPut":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:eventbridge:putEvents","Parameters":{"Entries":[
	      {"Source":"posluha.test","DetailType":"Sdk","Detail":"{\"n\":1}","Time":"2026-01-02T03:04:05Z"},
	      {"Source":"aws.states","DetailType":"Spoofed","Detail":"{}"}]},"ResultPath":"$.sdk","Next":"Bad"},
	  "Bad":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:eventbridge:putEvents","Parameters":{"Entries":[]},
	    "Catch":[{"ErrorEquals":["EventBridge.ValidationException"],"ResultPath":"$.bad","Next":"Done"}],"Next":"Done"},
	  "Done":{"Type":"Succeed"}}}`
	m, err := s.Engine.CreateMachine(ctx, engine.CreateMachineInput{Name: "put-events", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Engine.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Input: `{"id":"app-7"}`})
	if err != nil {
		t.Fatal(err)
	}
	if x, err = s.Engine.Await(ctx, x.ARN); err != nil || x.Status != engine.StatusSucceeded {
		t.Fatalf("execution %v %v", x, err)
	}
	var out struct {
		Put, Sdk bus.PutEventsOutput
		Bad      struct{ Error string }
	}
	if err := json.Unmarshal(value.Marshal(x.Output.V), &out); err != nil {
		t.Fatal(err)
	}
	if out.Put.FailedEntryCount != 0 || len(out.Put.Entries) != 1 || out.Put.Entries[0].EventID == "" {
		t.Fatalf("optimised answer %+v", out.Put)
	}
	if out.Sdk.FailedEntryCount != 1 || out.Sdk.Entries[1].ErrorCode != "NotAuthorizedForSourceException" || out.Sdk.Entries[0].EventID == "" {
		t.Fatalf("SDK answer %+v", out.Sdk)
	}
	if out.Bad.Error != "EventBridge.ValidationException" {
		t.Fatalf("empty Entries: %+v", out.Bad)
	}

	eb := eventbridge.NewFromConfig(s.AWSConfig())
	resp, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("posluha.test"), DetailType: aws.String("Client"), Detail: aws.String(`{"via":"sdk"}`), EventBusName: aws.String("default")},
		{Source: aws.String("posluha.test"), DetailType: aws.String("Client"), Detail: aws.String(`not json`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.FailedEntryCount != 1 || aws.ToString(resp.Entries[0].EventId) == "" || aws.ToString(resp.Entries[1].ErrorCode) != "MalformedDetail" {
		t.Fatalf("SDK client answer %+v", resp)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: make([]ebtypes.PutEventsRequestEntry, 11)}); err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("11 entries: %v", err)
	}

	if err := s.Console.Bus.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{
		out.Put.Entries[0].EventID:            `{"applicationId":"app-7"}`,
		out.Sdk.Entries[0].EventID:            `{"n":1}`,
		aws.ToString(resp.Entries[0].EventId): `{"via":"sdk"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("bus got %d events, want %d: %v", len(got), len(want), got)
	}
	for id, detail := range want {
		if e, ok := got[id]; !ok || string(e.Detail) != detail {
			t.Errorf("event %s: %+v, want detail %s", id, e, detail)
		}
	}
	if e := got[out.Sdk.Entries[0].EventID]; e.Time.Format("2006-01-02T15:04:05Z") != "2026-01-02T03:04:05Z" {
		t.Errorf("Time = %v", e.Time)
	}
}
