package blob

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Store is what Fallback needs of each side: Client and Memory have it.
type Store interface {
	Put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error
	Get(ctx context.Context, key string) ([]byte, Object, error)
	Head(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix, after string, fn func(Object) error) error
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, error)
}

var (
	_ Store = (*Client)(nil)
	_ Store = (*Memory)(nil)
)

// Fallback serves reads from New and, for objects not copied yet, from
// Old, while every write goes to New: the functions keep working while
// `posluha storage migrate` copies Old to New in the background. Once the
// migration reports done, configure New alone.
type Fallback struct {
	New, Old Store
}

var _ Store = Fallback{}

// Put writes to New only.
func (f Fallback) Put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error {
	return f.New.Put(ctx, key, body, contentType, meta)
}

// Get reads New, then Old when New does not have key.
func (f Fallback) Get(ctx context.Context, key string) ([]byte, Object, error) {
	b, o, err := f.New.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return f.Old.Get(ctx, key)
	}
	return b, o, err
}

// Head reads New, then Old.
func (f Fallback) Head(ctx context.Context, key string) (Object, error) {
	o, err := f.New.Head(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return f.Old.Head(ctx, key)
	}
	return o, err
}

// Delete removes key from both stores, so a deleted object does not
// reappear from Old (retention deletes during a migration).
func (f Fallback) Delete(ctx context.Context, key string) error {
	if err := f.New.Delete(ctx, key); err != nil {
		return err
	}
	return f.Old.Delete(ctx, key)
}

// List merges both stores' keys in order; New wins for a key in both.
func (f Fallback) List(ctx context.Context, prefix, after string, fn func(Object) error) error {
	seen := map[string]Object{}
	var order []string
	collect := func(o Object) error {
		if _, ok := seen[o.Key]; !ok {
			order = append(order, o.Key)
		}
		seen[o.Key] = o
		return nil
	}
	if err := f.Old.List(ctx, prefix, after, collect); err != nil {
		return err
	}
	if err := f.New.List(ctx, prefix, after, collect); err != nil {
		return err
	}
	sort.Strings(order)
	for _, k := range order {
		if err := fn(seen[k]); err != nil {
			return err
		}
	}
	return nil
}

// PresignGet signs a URL on whichever store has key.
func (f Fallback) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, error) {
	if _, err := f.New.Head(ctx, key); errors.Is(err, ErrNotFound) {
		return f.Old.PresignGet(ctx, key, ttl, filename)
	}
	return f.New.PresignGet(ctx, key, ttl, filename)
}
