package registryread

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/events/eventstest"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/local/registries"
)

// fakeConnectors is a func-field fake of Connectors.
type fakeConnectors struct {
	CallFn     func(ctx context.Context, id string, args connector.Args, key string) (any, error)
	TemplateFn func(id string) (*connector.Template, bool)
}

func (f *fakeConnectors) Call(ctx context.Context, id string, args connector.Args, key string) (any, error) {
	return f.CallFn(ctx, id, args, key)
}
func (f *fakeConnectors) Template(id string) (*connector.Template, bool) { return f.TemplateFn(id) }

// fakeAudit is a func-field fake of Auditor.
type fakeAudit struct {
	RecordFn func(ctx context.Context, r Record) error
}

func (f *fakeAudit) Record(ctx context.Context, r Record) error { return f.RecordFn(ctx, r) }

func drrpTemplate(id string) (*connector.Template, bool) {
	switch id {
	case "drrp.realty-rights":
		return &connector.Template{ID: id, Registry: "drrp"}, true
	case "treasury.payment":
		return &connector.Template{ID: id, Registry: "treasury", Write: true}, true
	}
	return nil, false
}

// invoke runs the handler through aws-lambda-go, as the runtime would, and
// returns the payload or the error type Step Functions would match.
func invoke(t *testing.T, h *Handler, log *slog.Logger, payload []byte) (string, string) {
	t.Helper()
	out, err := lambda.NewHandler(lambdaerr.Handler(log, h.Handle)).Invoke(context.Background(), payload)
	if err != nil {
		var ive messages.InvokeResponse_Error
		if errors.As(err, &ive) {
			return "", ive.Type
		}
		t.Fatalf("runtime error %T: %v", err, err)
	}
	return string(out), ""
}

func TestHandle(t *testing.T) {
	const secret = "3111412139"
	req := `{"applicationId":"app-1","service":"housing-aid","step":"Activity_read","attempt":2,"connector":"drrp.realty-rights","arguments":{"taxNumber":"` + secret + `"}}`
	tests := []struct {
		name      string
		payload   string
		callErr   error
		auditErr  error
		wantOut   string
		wantErr   string
		wantAudit string // outcome in the audit record, "" for no record
	}{
		{"ok", req, nil, nil, `{"owner":"Шевченко Тарас Григорович"}`, "", "ok"},
		{"registry down", req, posluha.Errorf(posluha.ErrRegistryUnavailable, "drrp.realty-rights: HTTP 503"), nil, "", "Registry.Unavailable", "Registry.Unavailable"},
		{"not found", req, posluha.Errorf(posluha.ErrRegistryNotFound, "drrp.realty-rights: HTTP 404"), nil, "", "Registry.NotFound", "Registry.NotFound"},
		{"audit fails", req, nil, errors.New("table unavailable"), "", "Internal", "ok"},
		{"no connector", `{"applicationId":"app-1","step":"s"}`, nil, nil, "", "Task.Invalid", ""},
		{"unknown connector", `{"applicationId":"app-1","step":"s","connector":"nope"}`, nil, nil, "", "Task.Invalid", ""},
		{"write connector", `{"applicationId":"app-1","step":"s","connector":"treasury.payment"}`, nil, nil, "", "Task.Invalid", ""},
		{"no application", `{"step":"s","connector":"drrp.realty-rights"}`, nil, nil, "", "Task.Invalid", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			var audited []Record
			var gotKey string
			conns := &fakeConnectors{
				TemplateFn: drrpTemplate,
				CallFn: func(_ context.Context, id string, args connector.Args, key string) (any, error) {
					gotKey = key
					if tc.callErr != nil {
						return nil, tc.callErr
					}
					return map[string]any{"owner": "Шевченко Тарас Григорович"}, nil
				},
			}
			audit := &fakeAudit{RecordFn: func(_ context.Context, r Record) error {
				audited = append(audited, r)
				return tc.auditErr
			}}
			now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			h := New(Deps{Connectors: conns, Audit: audit, Log: log, Now: func() time.Time { return now }})
			out, errType := invoke(t, h, log, []byte(tc.payload))
			if errType != tc.wantErr {
				t.Fatalf("Handle error type = %q, want %q (out %s)", errType, tc.wantErr, out)
			}
			if tc.wantOut != "" && out != tc.wantOut {
				t.Errorf("Handle = %s, want %s", out, tc.wantOut)
			}
			if tc.wantAudit == "" {
				if len(audited) != 0 {
					t.Errorf("audited %+v for a rejected task", audited)
				}
				return
			}
			want := Record{Time: now, Principal: "registryread", ApplicationID: "app-1", Service: "housing-aid", Step: "Activity_read",
				Attempt: 2, Connector: "drrp.realty-rights", Registry: "drrp", Outcome: tc.wantAudit}
			if len(audited) != 1 || !reflect.DeepEqual(audited[0], want) {
				t.Errorf("audit = %+v, want [%+v]", audited, want)
			}
			if gotKey != "app-1/Activity_read" {
				t.Errorf("idempotency key = %q, want app-1/Activity_read", gotKey)
			}
			if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "Шевченко") {
				t.Errorf("logs hold personal data: %s", logs.String())
			}
		})
	}
}

// TestEvents decodes every events/registryread/*.json, checks it
// round-trips through posluha.TaskRequest, and runs it against the
// simulator with the shipped connectors.
func TestEvents(t *testing.T) {
	want := map[string]struct{ out, errType string }{
		"realty-rights.json":     {out: `"owner":"Шевченко Тарас Григорович"`},
		"military-status.json":   {out: `{"registered":true,"category":"призовник","tck":"Соборний РТЦК та СП"}`},
		"usr-not-found.json":     {errType: "Registry.NotFound"},
		"bad-tax-number.json":    {errType: "Registry.BadRequest"},
		"unknown-connector.json": {errType: "Task.Invalid"},
	}
	files, err := filepath.Glob("../../events/registryread/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	sim := registries.New(registries.Options{Seed: 1})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	getenv := func(k string) string {
		switch k {
		case "POSLUHA_REGISTRY_URL":
			return srv.URL
		case "POSLUHA_USR_URL":
			return srv.URL + "/rest/usr"
		case "POSLUHA_NOTIFY_URL":
			return srv.URL + "/rest/notify"
		}
		return ""
	}
	log := slog.New(slog.DiscardHandler)
	h, err := Wire(context.Background(), log, getenv)
	if err != nil {
		t.Fatalf("Wire: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			eventstest.RoundTrip[posluha.TaskRequest](t, data)
			out, errType := invoke(t, h, log, data)
			if errType != exp.errType || !strings.Contains(out, exp.out) {
				t.Errorf("Invoke = %s, %q; want %s, %q", out, errType, exp.out, exp.errType)
			}
		})
	}
}

// TestWireRejectsBadTemplate: a broken connector file stops the function at
// start, naming the file, line and column.
func TestWireRejectsBadTemplate(t *testing.T) {
	dir := t.TempDir()
	bad := "id: drrp.owners\nprotocol: xroad-rest\nendpoint: ftp://security-server\nclient: UA/GOV/44444444/POSLUHA\nservice: UA/GOV/00015622/DRRP/owners\n"
	if err := os.WriteFile(filepath.Join(dir, "drrp.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Wire(context.Background(), slog.New(slog.DiscardHandler), func(k string) string {
		if k == "POSLUHA_CONNECTORS_DIR" {
			return dir
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "drrp.yaml:3:11: endpoint:") {
		t.Errorf("Wire = %v, want drrp.yaml:3:11: endpoint: …", err)
	}
}
