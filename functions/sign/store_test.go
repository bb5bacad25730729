package sign_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/sign"
)

// TestStores runs the same checks on every Store.
func TestStores(t *testing.T) {
	bolt, err := sign.OpenBolt(filepath.Join(t.TempDir(), "sign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	for name, s := range map[string]sign.Store{"memory": sign.NewMemory(), "bolt": bolt} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.Get(ctx, "r1"); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
				t.Fatalf("Get missing = %v", err)
			}
			put := func(cur *sign.Request) (*sign.Request, error) {
				if cur == nil {
					return &sign.Request{ID: "r1", Status: sign.StatusPending, Deadline: t0}, nil
				}
				c := *cur
				c.Attempts++
				return &c, nil
			}
			for range 3 {
				if _, err := s.Upsert(ctx, "r1", put); err != nil {
					t.Fatal(err)
				}
			}
			r, err := s.Get(ctx, "r1")
			if err != nil || r.Attempts != 2 || !r.Deadline.Equal(t0) {
				t.Fatalf("Get = %+v, %v", r, err)
			}
		})
	}
}
