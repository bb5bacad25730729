package eventwrite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
)

// FuzzTaskPayload feeds arbitrary payloads through the Lambda handler, as
// the runtime decodes them, on in-memory stores and a fake registry: no
// input may panic, and a payload that decodes must round-trip through
// posluha.TaskRequest.
func FuzzTaskPayload(f *testing.F) {
	files, _ := filepath.Glob("../../events/eventwrite/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"applicationId":"a","step":"s","action":"status","arguments":{"status":null}}`,
		`{"applicationId":"a","step":"s","action":"write","connector":"pay","arguments":{"parkOnOutage":1}}`,
		`{"applicationId":"a","step":"s","action":"await","taskToken":"t","arguments":{"template":{}}}`,
		`{"applicationId":"a","step":"s","attempt":1e400}`, `{"arguments":{"x":[1,{"y":"\u0000"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		m := dynamo.NewMemory()
		ctx := context.Background()
		m.Applications.Create(ctx, &posluha.Application{ID: "a", Service: "svc", Citizen: "c"}, false)
		conns := &fakeConnectors{
			TemplateFn: func(id string) (*connector.Template, bool) {
				return &connector.Template{ID: id, Registry: "r", Write: id == "pay"}, id != ""
			},
			CallFn: func(context.Context, string, connector.Args, string) (any, error) {
				return map[string]any{"ok": true}, nil
			},
		}
		h := New(Deps{Applications: m.Applications, Notifications: m.Notifications, Awaits: m.Awaits,
			Effects: m.Effects, Parking: m.Parked, Connectors: conns, SFN: &fakeSFN{}})
		lambda.NewHandler(h.Lambda()).Invoke(ctx, payload) // errors are fine, panics are not

		var req posluha.TaskRequest
		if json.Unmarshal(payload, &req) != nil {
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", req, err)
		}
		var again posluha.TaskRequest
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	})
}

// fakeConnectors is a func-field fake of Connectors.
type fakeConnectors struct {
	CallFn     func(ctx context.Context, id string, args connector.Args, key string) (any, error)
	TemplateFn func(id string) (*connector.Template, bool)
}

func (f *fakeConnectors) Call(ctx context.Context, id string, args connector.Args, key string) (any, error) {
	return f.CallFn(ctx, id, args, key)
}
func (f *fakeConnectors) Template(id string) (*connector.Template, bool) { return f.TemplateFn(id) }
