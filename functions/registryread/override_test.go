package registryread

import (
	"context"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/override"
)

// overrideSource is a func-field fake of override.Source.
type overrideSource struct {
	GetFn func(ctx context.Context, applicationID, step string) (*override.Override, bool, error)
}

func (f *overrideSource) Get(ctx context.Context, a, s string) (*override.Override, bool, error) {
	return f.GetFn(ctx, a, s)
}

// TestOverride: the registry is read with support's corrected arguments
// for the step; a failed lookup fails the task as retryable and reads
// nothing; Wire without OVERRIDES_TABLE leaves the source out.
func TestOverride(t *testing.T) {
	ctx := context.Background()
	var got []connector.Args
	conns := &fakeConnectors{TemplateFn: drrpTemplate, CallFn: func(_ context.Context, _ string, args connector.Args, _ string) (any, error) {
		got = append(got, args)
		return map[string]any{"owner": "x"}, nil
	}}
	audit := &fakeAudit{RecordFn: func(context.Context, Record) error { return nil }}
	req := posluha.TaskRequest{ApplicationID: "APP-1", Service: "housing-aid", Step: "Activity_read",
		Connector: "drrp.realty-rights", Arguments: map[string]any{"taxNumber": "1234567890"}}

	h := New(Deps{Connectors: conns, Audit: audit, Overrides: &overrideSource{GetFn: func(_ context.Context, a, s string) (*override.Override, bool, error) {
		return &override.Override{ApplicationID: a, Step: s, Arguments: map[string]any{"taxNumber": "3111412139"}}, true, nil
	}}})
	if _, err := h.Handle(ctx, req); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Arguments["taxNumber"] != "3111412139" {
		t.Fatalf("registry got %+v, want the corrected tax number", got)
	}

	h = New(Deps{Connectors: conns, Audit: audit, Overrides: &overrideSource{GetFn: func(context.Context, string, string) (*override.Override, bool, error) {
		return nil, false, context.DeadlineExceeded
	}}})
	if _, err := h.Handle(ctx, req); posluha.ErrorName(err) != posluha.ErrRegistryUnavailable || len(got) != 1 {
		t.Fatalf("failed lookup: %v (%d reads), want Registry.Unavailable and no read", err, len(got))
	}

	w, err := Wire(ctx, mustLocalConfig(t), nil, func(k string) string {
		if k == "POSLUHA_LIMITER" {
			return "local"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.d.Overrides != nil {
		t.Fatalf("Wire without OVERRIDES_TABLE set Overrides %#v", w.d.Overrides)
	}
}
