package console

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Audit actions.
const (
	ActionView     = "view"     // opened an application's personal data
	ActionRedrive  = "redrive"  // restarted from the failed step
	ActionResend   = "resend"   // fixed the failed step's data and continued
	ActionCancel   = "cancel"   // stopped the execution with a reason
	ActionSignedIn = "signedIn" // a support session began
)

// Entry is one audit record: who did what to which application, when,
// with the state before and after. Hash chains the entries (each covers
// the previous one's), so an edited or removed line breaks the chain.
type Entry struct {
	Seq           int64           `json:"seq"`
	Time          time.Time       `json:"time"`
	Actor         string          `json:"actor"` // the support token's sub
	ActorName     string          `json:"actorName,omitempty"`
	Action        string          `json:"action"`
	ApplicationID string          `json:"applicationId,omitempty"`
	ExecutionARN  string          `json:"executionArn,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Before        json.RawMessage `json:"before,omitempty"`
	After         json.RawMessage `json:"after,omitempty"`
	Outcome       string          `json:"outcome"` // "ok" or the error
	Prev          string          `json:"prev"`
	Hash          string          `json:"hash"`
}

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
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit log %s: entry %d is not JSON: %w", path, a.seq+1, err)
		}
		if e.Prev != a.last || e.Hash != hashOf(&e) {
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

func hashOf(e *Entry) string {
	c := *e
	c.Hash = ""
	b, _ := json.Marshal(c)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Append writes e (Seq, Prev and Hash are filled in) and syncs the file.
func (a *Audit) Append(_ context.Context, e Entry) (Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.Seq, e.Prev = a.seq+1, a.last
	e.Time = e.Time.UTC()
	e.Hash = hashOf(&e)
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
func (a *Audit) List(_ context.Context, applicationID string, limit int) ([]Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.Open(a.f.Name())
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e Entry
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
