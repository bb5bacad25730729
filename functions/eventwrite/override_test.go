package eventwrite

import (
	"context"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/override"
)

// overrideSource is a func-field fake of override.Source.
type overrideSource struct {
	GetFn func(ctx context.Context, applicationID, step string) (*override.Override, bool, error)
}

func (f *overrideSource) Get(ctx context.Context, a, s string) (*override.Override, bool, error) {
	return f.GetFn(ctx, a, s)
}

// TestOverride: a write runs with support's corrected arguments for its
// step when there is an override, with the payload's otherwise, and
// without a source nothing is looked up.
func TestOverride(t *testing.T) {
	ctx := context.Background()
	var lookups int
	src := &overrideSource{GetFn: func(_ context.Context, a, s string) (*override.Override, bool, error) {
		lookups++
		if a == "APP-1" && s == "Activity_pay" {
			return &override.Override{Arguments: map[string]any{"iban": "UA213223130000026007233566001"}}, true, nil
		}
		return nil, false, nil
	}}
	tests := []struct {
		name      string
		src       override.Source
		step      string
		wantIBAN  string
		wantCalls int
	}{
		{"override", src, "Activity_pay", "UA213223130000026007233566001", 1},
		{"another step", src, "Activity_other", "UA00", 1},
		{"no OVERRIDES_TABLE", nil, "Activity_pay", "UA00", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookups = 0
			m := dynamo.NewMemory()
			var got connector.Args
			conns := &fakeConnectors{
				TemplateFn: func(id string) (*connector.Template, bool) {
					return &connector.Template{ID: id, Registry: "treasury", Write: true}, true
				},
				CallFn: func(_ context.Context, _ string, args connector.Args, _ string) (any, error) {
					got = args
					return map[string]any{"ok": true}, nil
				},
			}
			h := New(Deps{Applications: m.Applications, Notifications: m.Notifications, Awaits: m.Awaits,
				Effects: m.Effects, Parking: m.Parked, Connectors: conns, SFN: &fakeSFN{}, Overrides: tc.src})
			_, err := h.Handle(ctx, posluha.TaskRequest{ApplicationID: "APP-1", Service: "payout", Step: tc.step,
				Action: posluha.ActionWrite, Connector: "treasury.payment", Arguments: map[string]any{"iban": "UA00"}})
			if err != nil {
				t.Fatal(err)
			}
			if got.Arguments["iban"] != tc.wantIBAN || lookups != tc.wantCalls {
				t.Fatalf("connector got %v after %d lookups, want iban %s after %d", got.Arguments, lookups, tc.wantIBAN, tc.wantCalls)
			}
		})
	}
}
