package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/posluha/posluha"
)

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	o.Now = func() time.Time { now = now.Add(time.Second); return now }
	sends := []posluha.Notification{
		{ID: "a1/notify", Citizen: "c1", ApplicationID: "a1", Template: "registered", Title: posluha.Text{UK: "Так", EN: "Yes"}},
		{ID: "a1/notify", Citizen: "c1", ApplicationID: "a1", Template: "registered", Title: posluha.Text{UK: "Двічі"}}, // a retry
		{ID: "a2/done", Citizen: "c2", ApplicationID: "a2", Template: "payout-sent"},
	}
	for i := range sends {
		if err := o.Send(ctx, &sends[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Send(ctx, &posluha.Notification{}); posluha.ErrorName(err) != posluha.ErrApplicationInvalid {
		t.Errorf("Send(no id) = %v", err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	// Survives a restart.
	o, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	srv := httptest.NewServer(o.Handler())
	defer srv.Close()

	tests := []struct {
		query string
		want  []string
		code  int
	}{
		{"", []string{"a1/notify", "a2/done"}, 200},
		{"?citizen=c1", []string{"a1/notify"}, 200},
		{"?applicationId=a2", []string{"a2/done"}, 200},
		{"?limit=1", []string{"a2/done"}, 200},
		{"?limit=x", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/outbox" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.code != 200 {
				return
			}
			var msgs []Message
			if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range msgs {
				ids = append(ids, m.ID)
			}
			if len(ids) != len(tc.want) {
				t.Fatalf("ids = %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("ids = %v, want %v", ids, tc.want)
				}
			}
			if tc.query == "?citizen=c1" && msgs[0].Title.UK != "Так" {
				t.Errorf("a retried send replaced the first message: %+v", msgs[0])
			}
		})
	}
}
