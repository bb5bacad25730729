package registryread

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/events/eventstest"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	localddb "github.com/posluha/posluha/local/dynamodb"
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
		{"audit fails", req, nil, errors.New("table unavailable"), "", "Registry.Unavailable", "ok"},
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
			if tc.wantErr != "" && strings.Contains(out, "Шевченко") {
				t.Errorf("Handle released the read's data with error %s: %s", tc.wantErr, out)
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
	cfg := mustLocalConfig(t)
	h, err := Wire(context.Background(), cfg, log, getenv)
	if err != nil {
		t.Fatalf("Wire: %v", err)
	}
	defer func() {
		// Every read, whatever its outcome, left its record in the table.
		audit := dynamo.NewReadAudit(dynamo.NewClientFromConfig(cfg), dynamo.DefaultTables.ReadAudit)
		n := 0
		for _, f := range files {
			var req posluha.TaskRequest
			data, _ := os.ReadFile(f)
			if json.Unmarshal(data, &req) != nil || req.ApplicationID == "" || want[filepath.Base(f)].errType == "Task.Invalid" {
				continue
			}
			n++
			rs, err := audit.List(context.Background(), req.ApplicationID)
			if err != nil || len(rs) == 0 {
				t.Errorf("audit of %s (%s) = %v, %v; want a record", req.ApplicationID, filepath.Base(f), rs, err)
			}
		}
		if n == 0 {
			t.Error("no sample read was audited: the check checks nothing")
		}
	}()
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
	_, err := Wire(context.Background(), aws.Config{}, slog.New(slog.DiscardHandler), func(k string) string {
		if k == "POSLUHA_CONNECTORS_DIR" {
			return dir
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "drrp.yaml:3:11: endpoint:") {
		t.Errorf("Wire = %v, want drrp.yaml:3:11: endpoint: …", err)
	}
}

// mustLocalConfig starts local/dynamodb on a loopback port with the
// functions' tables and returns an SDK configuration for it.
func mustLocalConfig(t *testing.T) aws.Config {
	t.Helper()
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
	if err := dynamo.CreateTables(context.Background(), dynamo.NewClientFromConfig(cfg), dynamo.DefaultTables); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDynamoAudit: through Wire, a read is recorded in the audit table with
// who, what for, which registry, when and the outcome, and nothing of the
// payload; when the record cannot be stored the data is not released and
// the error is the retryable Registry.Unavailable.
func TestDynamoAudit(t *testing.T) {
	sim := registries.New(registries.Options{Seed: 1})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	cfg := mustLocalConfig(t)
	auditTable := dynamo.DefaultTables.ReadAudit
	getenv := func(k string) string {
		switch k {
		case "POSLUHA_USR_URL":
			return srv.URL + "/rest/usr"
		case "POSLUHA_REGISTRY_URL":
			return srv.URL
		case "READ_AUDIT_TABLE":
			return auditTable
		case "READ_AUDIT_RETENTION_DAYS":
			return "1095"
		case "AWS_LAMBDA_FUNCTION_NAME":
			return "posluha-registryread"
		}
		return ""
	}
	data, err := os.ReadFile("../../events/registryread/realty-rights.json")
	if err != nil {
		t.Fatal(err)
	}
	var req posluha.TaskRequest
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	h, err := Wire(context.Background(), cfg, slog.New(slog.DiscardHandler), getenv)
	if err != nil {
		t.Fatalf("Wire: %v", err)
	}
	before := time.Now().UTC()
	out, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	db := dynamo.NewClientFromConfig(cfg)
	rs, err := dynamo.NewReadAudit(db, auditTable).List(context.Background(), req.ApplicationID)
	if err != nil || len(rs) != 1 {
		t.Fatalf("audit records = %+v, %v; want one", rs, err)
	}
	r := rs[0]
	if r.Principal != "posluha-registryread" || r.Service != req.Service || r.Step != req.Step || r.Attempt != req.Attempt ||
		r.Connector != req.Connector || r.Registry != "drrp" || r.Outcome != "ok" || r.Time.Before(before.Add(-time.Second)) {
		t.Errorf("audit record = %+v, want the read of %+v by posluha-registryread, outcome ok", r, req)
	}
	scan, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(auditTable)})
	if err != nil || len(scan.Items) != 1 {
		t.Fatalf("scan audit = %v, %v", scan, err)
	}
	for name, v := range scan.Items[0] {
		if s, ok := v.(*types.AttributeValueMemberS); ok && len(s.Value) > 3 && strings.Contains(string(out), s.Value) {
			t.Errorf("audit attribute %s holds %q, which is in the read's data", name, s.Value)
		}
	}
	if scan.Items[0]["expiresAt"] == nil {
		t.Error("audit record has no expiresAt although a retention is set")
	}

	// The audit table is gone: the data read must not leave.
	auditTable = "no-such-table"
	h, err = Wire(context.Background(), cfg, slog.New(slog.DiscardHandler), getenv)
	if err != nil {
		t.Fatalf("Wire: %v", err)
	}
	out, err = h.Handle(context.Background(), req)
	if out != nil || posluha.ErrorName(err) != posluha.ErrRegistryUnavailable {
		t.Errorf("Handle without an audit table = %s, %v; want no data and Registry.Unavailable", out, err)
	}

	for _, bad := range []string{"0", "three years"} {
		_, err := Wire(context.Background(), cfg, nil, func(k string) string {
			if k == "READ_AUDIT_RETENTION_DAYS" {
				return bad
			}
			return getenv(k)
		})
		if err == nil || !strings.Contains(err.Error(), "READ_AUDIT_RETENTION_DAYS") {
			t.Errorf("Wire with READ_AUDIT_RETENTION_DAYS=%q = %v, want an error naming it", bad, err)
		}
	}
}
