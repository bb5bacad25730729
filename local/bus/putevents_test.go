package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// TestPutEvents checks the per-entry answers AWS gives (published entries
// get an id, refused ones a code) and that a put acknowledged before a
// crash is delivered after the restart, without an execution save behind it.
func TestPutEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.db")
	b := mustOpen(t, path)
	out, err := b.PutEvents(ctx, PutEventsInput{Entries: []PutEventsEntry{
		{Source: "posluha", DetailType: DetailTypeStep, Detail: `{"applicationId":"a1","step":"s1"}`},
		{Source: "aws.states", DetailType: DetailTypeExecution, Detail: `{}`},
		{Source: "posluha", DetailType: DetailTypeStep, Detail: `[1]`},
		{Source: "posluha", Detail: `{}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{}
	for _, e := range out.Entries {
		codes = append(codes, e.ErrorCode)
	}
	if out.FailedEntryCount != 3 || out.Entries[0].EventID == "" || codes[1] != "NotAuthorizedForSourceException" || codes[2] != "MalformedDetail" || codes[3] != "InvalidArgument" {
		t.Fatalf("PutEvents = %+v", out)
	}
	// Closed before delivery (never started): the outbox keeps the put.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = mustOpen(t, path)
	defer b.Close()
	var rec recorder
	b.Subscribe("rec", rec.handle)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := rec.events()
	if len(got) != 1 || got[0].ID != out.Entries[0].EventID || got[0].Source != "posluha" || got[0].AccountID != "000000000000" {
		t.Fatalf("delivered after restart: %+v", got)
	}
	d, err := DecodeStep(got[0])
	if err != nil || d.ApplicationID != "a1" || d.Step != "s1" {
		t.Fatalf("detail %+v %v", d, err)
	}

	var ve *ValidationError
	if _, err := b.PutEvents(ctx, PutEventsInput{Entries: make([]PutEventsEntry, 11)}); !errors.As(err, &ve) {
		t.Fatalf("11 entries: %v, want a ValidationError", err)
	}
	if _, err := b.PutEvents(ctx, PutEventsInput{}); !errors.As(err, &ve) {
		t.Fatalf("no entries: %v, want a ValidationError", err)
	}
}

func TestPutEventsHandler(t *testing.T) {
	b := mustOpen(t, filepath.Join(t.TempDir(), "bus.db"))
	defer b.Close()
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	cases := []struct {
		name, target, body string
		status             int
		want               string
	}{
		{"put", "AWSEvents.PutEvents", `{"Entries":[{"Source":"posluha","DetailType":"x","Detail":"{}"}]}`, 200, `"FailedEntryCount":0`},
		{"not json", "AWSEvents.PutEvents", `{`, 400, "SerializationException"},
		{"too many", "AWSEvents.PutEvents", `{"Entries":[]}`, 400, "ValidationException"},
		{"other op", "AWSEvents.ListRules", `{}`, 400, "UnknownOperationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewBufferString(tc.body))
			req.Header.Set("X-Amz-Target", tc.target)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			if resp.StatusCode != tc.status || !bytes.Contains(buf.Bytes(), []byte(tc.want)) || !json.Valid(buf.Bytes()) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, buf.String(), tc.status, tc.want)
			}
		})
	}
}

// FuzzPutEventsHandler: any body gets a JSON answer, 200 or 400, never a
// panic; a 200 accounts for every entry.
func FuzzPutEventsHandler(f *testing.F) {
	f.Add(`{"Entries":[{"Source":"posluha","DetailType":"x","Detail":"{}"}]}`)
	f.Add(`{"Entries":[{"Source":"aws.states","DetailType":"x","Detail":"{\"a\":[1,2]}","Time":1.5e9,"Resources":["r"]}]}`)
	f.Add(`{"Entries":null}`)
	f.Add(`[]`)
	b := mustOpen(f, filepath.Join(f.TempDir(), "bus.db"))
	defer b.Close()
	h := b.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(body))
		req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			var in PutEventsInput
			var out PutEventsOutput
			json.Unmarshal([]byte(body), &in)
			if json.Unmarshal(rec.Body.Bytes(), &out) != nil || len(out.Entries) != len(in.Entries) {
				t.Fatalf("answer %s for %d entries", rec.Body, len(in.Entries))
			}
		}
	})
}
