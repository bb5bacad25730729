package eventwrite

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/dynamo"
	localddb "github.com/posluha/posluha/local/dynamodb"
)

// TestWire builds the handler the way the bootstrap binary does, with an
// aws.Config pointing at local/dynamodb, and runs a task through it.
func TestWire(t *testing.T) {
	e := mustEnv(t) // for the simulator's address
	srv, err := localddb.New(t.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	cfg := aws.Config{
		Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	tables := dynamo.Tables{Applications: "apps", Notifications: "notes", Awaits: "awaits", Effects: "effects", Parked: "parked", Limits: "limits"}
	getenv := func(k string) string {
		switch k {
		case "APPLICATIONS_TABLE":
			return tables.Applications
		case "NOTIFICATIONS_TABLE":
			return tables.Notifications
		case "AWAITS_TABLE":
			return tables.Awaits
		case "EFFECTS_TABLE":
			return tables.Effects
		case "PARKED_TABLE":
			return tables.Parked
		case "LIMITS_TABLE":
			return tables.Limits
		}
		return e.getenv(k)
	}
	ctx := context.Background()
	d, err := WireDeps(ctx, cfg, slog.New(slog.DiscardHandler), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTables(ctx, dynamo.NewClientFromConfig(cfg), tables); err != nil {
		t.Fatal(err)
	}
	if err := d.Applications.Create(ctx, &posluha.Application{ID: "app-1", Service: "e-propyska", Citizen: taxNumber}, false); err != nil {
		t.Fatal(err)
	}
	e.h = New(d)
	if out, errType := e.invoke(t, task("app-1", "notify_delay", "notify", 0,
		map[string]any{"arguments": map[string]any{"template": "registry-delay"}})); errType != "" {
		t.Fatalf("notify through Wire = %s, %q", out, errType)
	}
	if sent := e.sim.Outbox(); len(sent) != 1 {
		t.Errorf("notify.send got %d messages, want 1", len(sent))
	}

	// The notification went through the shared limiter: notify's bucket
	// item is in the limits table.
	got, err := dynamo.NewClientFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tables.Limits),
		Key: map[string]types.AttributeValue{"registry": &types.AttributeValueMemberS{Value: "notify"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item["tat"] == nil {
		t.Errorf("limits item of notify = %v, %v; want one with a tat", got, err)
	}

	for name, v := range map[string]string{"POSLUHA_OUTBOX_CONNECTOR": "tax.fop-status", "POSLUHA_LIMITER": "redis"} {
		_, err := Wire(ctx, cfg, nil, func(k string) string {
			if k == name {
				return v
			}
			return getenv(k)
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Wire with %s=%s = %v, want an error naming it", name, v, err)
		}
	}
}

// TestConcurrentRetries: tries of one write that overlap (a timed-out
// invocation still running when its retry starts) pay once: the registry
// answers the later ones from its idempotency store.
func TestConcurrentRetries(t *testing.T) {
	e := mustEnv(t)
	var wg sync.WaitGroup
	outs := make([]string, 6)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errType := e.invoke(t, payment("app-1", i, nil))
			if errType != "" {
				t.Errorf("try %d = %s", i, errType)
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	if n := e.sim.EffectivePayments(); n != 1 {
		t.Errorf("%d effective payments from overlapping tries, want 1", n)
	}
	for i := range outs {
		if outs[i] != outs[0] {
			t.Errorf("try %d = %s, try 0 = %s: want the same payment", i, outs[i], outs[0])
		}
	}
}
