package override_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/override"
	localddb "github.com/posluha/posluha/local/dynamodb"
)

func newTable(t *testing.T) *override.Table {
	t.Helper()
	srv, err := localddb.New(filepath.Join(t.TempDir(), "db"), localddb.Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c := dynamodb.New(dynamodb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	if _, err := c.CreateTable(context.Background(), override.TableDefinition("overrides")); err != nil {
		t.Fatal(err)
	}
	return &override.Table{Client: c, Name: "overrides"}
}

// TestTable: a stored override comes back as it was put (numbers and
// nesting included); a second Put replaces it; another step has none; an
// expired one is gone before DynamoDB removes it; invalid ones are refused.
func TestTable(t *testing.T) {
	ctx := context.Background()
	tb := newTable(t)
	when := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := when
	tb.Now = func() time.Time { return now }
	if _, ok, err := tb.Get(ctx, "APP-1", "Activity_read"); ok || err != nil {
		t.Fatalf("Get before Put = %v, %v", ok, err)
	}
	first := &override.Override{ApplicationID: "APP-1", Step: "Activity_read", Who: "staff-7", When: when,
		Arguments: map[string]any{"taxNumber": "1234567890", "n": 2.5, "nested": map[string]any{"a": []any{true}}}}
	if err := tb.Put(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, ok, err := tb.Get(ctx, "APP-1", "Activity_read")
	if err != nil || !ok || got.Who != "staff-7" || !got.When.Equal(when) || got.Arguments["n"] != 2.5 ||
		got.Arguments["nested"].(map[string]any)["a"].([]any)[0] != true {
		t.Fatalf("Get = %+v, %v, %v", got, ok, err)
	}
	if err := tb.Put(ctx, &override.Override{ApplicationID: "APP-1", Step: "Activity_read", Who: "staff-8", When: when,
		Arguments: map[string]any{"taxNumber": "3111412139"}}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := tb.Get(ctx, "APP-1", "Activity_read"); got.Who != "staff-8" || got.Arguments["taxNumber"] != "3111412139" || len(got.Arguments) != 1 {
		t.Fatalf("second Put did not replace: %+v", got)
	}
	if _, ok, err := tb.Get(ctx, "APP-1", "Activity_other"); ok || err != nil {
		t.Fatalf("another step: %v, %v", ok, err)
	}
	now = when.Add(override.DefaultRetention + time.Hour)
	if _, ok, err := tb.Get(ctx, "APP-1", "Activity_read"); ok || err != nil {
		t.Fatalf("expired: %v, %v", ok, err)
	}
	for _, o := range []*override.Override{
		{Step: "s", Arguments: map[string]any{}},
		{ApplicationID: "a", Arguments: map[string]any{}},
		{ApplicationID: "a", Step: "s"},
	} {
		if err := tb.Put(ctx, o); !errors.Is(err, override.ErrInvalid) {
			t.Errorf("Put(%+v) = %v, want ErrInvalid", o, err)
		}
	}
}

// fakeSource is a func-field fake of override.Source.
type fakeSource struct {
	GetFn func(ctx context.Context, applicationID, step string) (*override.Override, bool, error)
}

func (f *fakeSource) Get(ctx context.Context, a, s string) (*override.Override, bool, error) {
	return f.GetFn(ctx, a, s)
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	payload := func() *posluha.TaskRequest {
		return &posluha.TaskRequest{ApplicationID: "APP-1", Step: "Activity_read", Arguments: map[string]any{"taxNumber": "1"}}
	}
	found := &fakeSource{GetFn: func(_ context.Context, a, s string) (*override.Override, bool, error) {
		if a != "APP-1" || s != "Activity_read" {
			return nil, false, nil
		}
		return &override.Override{Arguments: map[string]any{"taxNumber": "2"}}, true, nil
	}}
	none := &fakeSource{GetFn: func(context.Context, string, string) (*override.Override, bool, error) { return nil, false, nil }}
	broken := &fakeSource{GetFn: func(context.Context, string, string) (*override.Override, bool, error) {
		return nil, false, errors.New("throttled")
	}}
	tests := []struct {
		name    string
		src     override.Source
		applied bool
		tax     string
		errName string
	}{
		{"no table", nil, false, "1", ""},
		{"none for the step", none, false, "1", ""},
		{"override", found, true, "2", ""},
		{"lookup fails", broken, false, "1", posluha.ErrRegistryUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := payload()
			applied, err := override.Apply(ctx, tc.src, log, req)
			if applied != tc.applied || req.Arguments["taxNumber"] != tc.tax || posluha.ErrorName(err) != tc.errName {
				t.Fatalf("Apply = %v, %v (%q); arguments %v", applied, err, posluha.ErrorName(err), req.Arguments)
			}
		})
	}
}

// TestFromEnv: without OVERRIDES_TABLE (the local stack) there is no
// source, so Apply looks nothing up.
func TestFromEnv(t *testing.T) {
	if src := override.FromEnv(nil, func(string) string { return "" }); src != nil {
		t.Fatalf("FromEnv without OVERRIDES_TABLE = %#v, want nil", src)
	}
	src := override.FromEnv(nil, func(k string) string {
		if k == "OVERRIDES_TABLE" {
			return "posluha-overrides"
		}
		return ""
	})
	if tb, ok := src.(*override.Table); !ok || tb.Name != "posluha-overrides" {
		t.Fatalf("FromEnv = %#v", src)
	}
}
