package dynamo

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/posluha/posluha"
)

// TestReadAudit: records list in time order per application; a second put
// of the same key (a retry after a lost response) never overwrites the
// first; a record without its key is Application.Invalid.
func TestReadAudit(t *testing.T) {
	c := mustLocalEndpoint(t)()
	a := NewReadAudit(c, DefaultTables.ReadAudit)
	a.Retention = 24 * time.Hour
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)
	first := ReadRecord{Time: t0, Principal: "registryread", ApplicationID: "app-1", Service: "housing-aid",
		Step: "Activity_read", Attempt: 0, Connector: "drrp.realty-rights", Registry: "drrp", Outcome: "Registry.Unavailable", DurationMS: 5001}
	second := first
	second.Time, second.Attempt, second.Outcome, second.DurationMS = t0.Add(2*time.Second), 1, "ok", 40
	for _, r := range []ReadRecord{second, first} {
		if err := a.Put(ctx, r); err != nil {
			t.Fatalf("Put(%+v): %v", r, err)
		}
	}
	overwrite := first
	overwrite.Outcome = "ok"
	if err := a.Put(ctx, overwrite); err != nil {
		t.Fatalf("Put again: %v", err)
	}
	if err := a.Put(ctx, ReadRecord{ApplicationID: "app-2", Time: t0, Step: "s", Attempt: 0, Connector: "usr.entry"}); err != nil {
		t.Fatal(err)
	}
	got, err := a.List(ctx, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []ReadRecord{first, second}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %+v,\nwant %+v", got, want)
	}
	for _, bad := range []ReadRecord{{Time: t0, Step: "s"}, {ApplicationID: "app-1", Step: "s"}} {
		if err := a.Put(ctx, bad); posluha.ErrorName(err) != posluha.ErrApplicationInvalid {
			t.Errorf("Put(%+v) = %v, want Application.Invalid", bad, err)
		}
	}
	if err := NewReadAudit(c, "no-such-table").Put(ctx, first); err == nil {
		t.Error("Put to a missing table succeeded")
	}
}
