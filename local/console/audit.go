package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/posluha/posluha/functions/console/support"
)

var _ support.AuditLog = (*Audit)(nil)

// Audit is an append-only log file of JSON lines, each fsynced before the
// action's answer: nothing it records can be changed through this type.
type Audit struct {
	mu   sync.Mutex
	f    *os.File
	seq  int64
	last string
}

// OpenAudit opens or creates the log at path and checks its chain.
func OpenAudit(path string) (*Audit, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	a := &Audit{f: f}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e support.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit log %s: entry %d is not JSON: %w", path, a.seq+1, err)
		}
		if e.Prev != a.last || e.Hash != support.EntryHash(&e) {
			f.Close()
			return nil, fmt.Errorf("audit log %s: chain broken at entry %d", path, e.Seq)
		}
		a.seq, a.last = e.Seq, e.Hash
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return a, nil
}

// Append writes e (Seq, Prev and Hash are filled in) and syncs the file.
func (a *Audit) Append(_ context.Context, e support.Entry) (support.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.Seq, e.Prev = a.seq+1, a.last
	e.Time = e.Time.UTC()
	e.Hash = support.EntryHash(&e)
	b, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode audit entry: %w", err)
	}
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return e, fmt.Errorf("write audit entry: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return e, fmt.Errorf("sync audit log: %w", err)
	}
	a.seq, a.last = e.Seq, e.Hash
	return e, nil
}

// List returns the entries for an application ("" for all), newest first,
// at most limit.
func (a *Audit) List(_ context.Context, applicationID string, limit int) ([]support.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.Open(a.f.Name())
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()
	var out []support.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e support.Entry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if applicationID == "" || e.ApplicationID == applicationID {
			out = append(out, e)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, sc.Err()
}

// Close closes the file.
func (a *Audit) Close() error { return a.f.Close() }
