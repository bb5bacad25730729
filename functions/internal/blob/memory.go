package blob

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Memory is an in-process store with Client's methods, for unit tests and
// benchmarks of the functions that use blob.
type Memory struct {
	mu      sync.RWMutex
	objects map[string]memObject
	// Now stamps LastModified; nil means time.Now.
	Now func() time.Time
}

type memObject struct {
	body []byte
	info Object
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{objects: map[string]memObject{}} }

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Put stores a copy of body.
func (m *Memory) Put(_ context.Context, key string, body []byte, contentType string, meta map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = memObject{body: bytes.Clone(body), info: Object{
		Key: key, Size: int64(len(body)), ContentType: contentType, Metadata: maps.Clone(meta), LastModified: m.now(),
	}}
	return nil
}

// Get returns a copy of the object.
func (m *Memory) Get(_ context.Context, key string) ([]byte, Object, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return bytes.Clone(o.body), o.info, nil
}

// Head returns the object's description.
func (m *Memory) Head(_ context.Context, key string) (Object, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objects[key]
	if !ok {
		return Object{}, fmt.Errorf("head %s: %w", key, ErrNotFound)
	}
	return o.info, nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// List calls fn in key order for keys with prefix after after.
func (m *Memory) List(_ context.Context, prefix, after string, fn func(Object) error) error {
	m.mu.RLock()
	var objs []Object
	for k, o := range m.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			objs = append(objs, o.info)
		}
	}
	m.mu.RUnlock()
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// PresignGet returns a memory: URL (not fetchable; for tests of callers).
func (m *Memory) PresignGet(_ context.Context, key string, ttl time.Duration, _ string) (string, error) {
	return "memory:///" + url.PathEscape(key) + "?expires=" + m.now().Add(ttl).UTC().Format(time.RFC3339), nil
}
