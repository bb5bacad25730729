package blob_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/internal/blob"
)

// Client itself is tested against the local S3-compatible store by
// local/signer's round trip (functions do not import local/).

func keys(t *testing.T, s blob.Store, prefix string) string {
	t.Helper()
	var ks []string
	if err := s.List(context.Background(), prefix, "", func(o blob.Object) error {
		ks = append(ks, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(ks, ",")
}

func TestFallback(t *testing.T) {
	ctx := context.Background()
	old, new := blob.NewMemory(), blob.NewMemory()
	old.Put(ctx, "a/1.pdf", []byte("old-1"), "application/pdf", map[string]string{"sha256": "x"})
	old.Put(ctx, "a/2.pdf", []byte("old-2"), "application/pdf", nil)
	new.Put(ctx, "a/2.pdf", []byte("new-2"), "application/pdf", nil)
	f := blob.Fallback{New: new, Old: old}

	tests := []struct{ key, want string }{{"a/1.pdf", "old-1"}, {"a/2.pdf", "new-2"}}
	for _, tc := range tests {
		b, _, err := f.Get(ctx, tc.key)
		if err != nil || string(b) != tc.want {
			t.Errorf("Get(%s) = %q, %v; want %q", tc.key, b, err, tc.want)
		}
	}
	if _, _, err := f.Get(ctx, "nope"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get missing = %v", err)
	}
	if o, err := f.Head(ctx, "a/1.pdf"); err != nil || o.Metadata["sha256"] != "x" {
		t.Errorf("Head = %+v, %v", o, err)
	}
	f.Put(ctx, "a/3.pdf", []byte("3"), "application/pdf", nil)
	if _, err := old.Head(ctx, "a/3.pdf"); !errors.Is(err, blob.ErrNotFound) {
		t.Error("Fallback wrote to the old store")
	}
	if got := keys(t, f, "a/"); got != "a/1.pdf,a/2.pdf,a/3.pdf" {
		t.Errorf("List = %s", got)
	}
	f.Delete(ctx, "a/1.pdf")
	if _, _, err := f.Get(ctx, "a/1.pdf"); !errors.Is(err, blob.ErrNotFound) {
		t.Error("deleted object came back from the old store")
	}
	if u, err := f.PresignGet(ctx, "a/2.pdf", time.Minute, ""); err != nil || !strings.Contains(u, "a%2F2.pdf") {
		t.Errorf("PresignGet = %s, %v", u, err)
	}
}
