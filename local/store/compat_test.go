package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// TestEarlierRecordsStillServe: a data directory written before the
// compact codec (records and events as encoding/json wrote them) opens,
// reads and takes new saves.
func TestEarlierRecordsStillServe(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	db := MustOpen(t, path)
	x := execution("arn:ex:old", "arn:sm:m", value.ObjectOf("applicationId", "a-1"))
	x.Tokens = []string{"tok-old"}
	if err := db.CreateExecution(ctx, x, []engine.Event{event(1, "ExecutionStarted")}); err != nil {
		t.Fatal(err)
	}
	// Overwrite with what the earlier version stored.
	oldRec, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	ev := event(1, "ExecutionStarted")
	oldEv, err := json.Marshal(struct {
		ID         int64        `json:"id"`
		PreviousID int64        `json:"previousEventId"`
		Time       time.Time    `json:"timestamp"`
		Type       string       `json:"type"`
		Details    engine.Value `json:"details"`
	}{ev.ID, ev.PreviousID, ev.Time, ev.Type, engine.Value{V: ev.Details}})
	if err != nil {
		t.Fatal(err)
	}
	oldMeta, err := json.Marshal(meta{Seq: 1, Machine: x.MachineARN, Running: true, Tokens: x.Tokens})
	if err != nil {
		t.Fatal(err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketExecs).Put([]byte(x.ARN), oldRec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put([]byte(x.ARN), oldMeta); err != nil {
			return err
		}
		return tx.Bucket(bucketEvents).Put(eventKey(x.ARN, 1), oldEv)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.GetExecution(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root == nil || got.Root.State != "First" || value.String(got.Input.V) != `{"applicationId":"a-1"}` || got.Tokens[0] != "tok-old" {
		t.Fatalf("earlier record read as %+v", got)
	}
	got.LastEventID = 2
	got.Tokens = nil
	got.Status = engine.StatusSucceeded
	if err := db.SaveExecution(ctx, got, []engine.Event{event(2, "ExecutionSucceeded")}); err != nil {
		t.Fatal(err)
	}
	h, err := db.History(ctx, x.ARN)
	if err != nil || len(h) != 2 || h[0].Type != "ExecutionStarted" || value.String(h[0].Details) != `{"input":"{}"}` || h[1].Type != "ExecutionSucceeded" {
		t.Fatalf("history across the formats: %+v, %v", h, err)
	}
	if _, err := db.TokenOwner(ctx, "tok-old"); err == nil {
		t.Error("the earlier record's token is still indexed after the save")
	}
}

func TestMetaCodec(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 7, time.UTC)
	for _, m := range []meta{
		{},
		{Seq: 1 << 40, Machine: "arn:sm:m", Running: true, WakeAt: at, Tokens: []string{"a", "", "ccc"}},
	} {
		b := m.encode()
		got, err := decodeMeta(b)
		if err != nil || got.Seq != m.Seq || got.Machine != m.Machine || got.Running != m.Running || !got.WakeAt.Equal(m.WakeAt) || len(got.Tokens) != len(m.Tokens) {
			t.Errorf("decodeMeta(encode(%+v)) = %+v, %v", m, got, err)
		}
		for i := 1; i < len(b); i++ {
			if _, err := decodeMeta(b[:i]); err == nil && len(m.Tokens) > 0 {
				t.Errorf("truncated at %d of %d: no error", i, len(b))
			}
		}
	}
	if _, err := decodeMeta([]byte{metaBinary, 1, 0, 0, 0xff, 0xff, 0xff}); err == nil {
		t.Error("a machine name longer than the entry decoded")
	}
}

// TestGroupCommit: concurrent writes share transactions, a failing one
// (ErrExists) fails alone, and writes after Close are refused.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "engine.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make(chan error, 2*n)
	for i := range n {
		go func() {
			x := execution(fmt.Sprintf("arn:ex:%d", i%(n/2)), "arn:sm:m", nil) // every ARN twice
			errs <- db.CreateExecution(ctx, x, []engine.Event{event(1, "ExecutionStarted")})
		}()
	}
	created, exists := 0, 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			created++
		case errors.Is(err, engine.ErrExists):
			exists++
		default:
			t.Errorf("create: %v", err)
		}
	}
	if created != n/2 || exists != n/2 {
		t.Errorf("created %d, already existing %d; want %d each", created, exists, n/2)
	}
	xs, _, err := db.ListExecutions(ctx, "", "", 0)
	if err != nil || len(xs) != n/2 {
		t.Errorf("listed %d executions, %v", len(xs), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMachine(ctx, &engine.Machine{ARN: "arn:sm:late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}
