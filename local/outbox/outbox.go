// Package outbox is the local stand-in for push and e-mail delivery: it
// keeps every notification eventwrite sends (one per id, however often it
// is sent) and shows them as JSON at GET /outbox, for people trying the
// stack and for tests. Open keeps them in a bbolt file across restarts;
// New keeps them in memory.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha"
)

var bucket = []byte("outbox")

// Message is one delivered notification.
type Message struct {
	posluha.Notification
	Sent time.Time `json:"sent"` // when the outbox first got it
}

// Outbox keeps sent notifications. It is safe for concurrent use and
// implements eventwrite.Outbox.
type Outbox struct {
	// Now stamps Message.Sent; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	db   *bolt.DB // nil: memory only
	msgs map[string]*Message
}

// New returns an empty in-memory outbox.
func New() *Outbox { return &Outbox{Now: time.Now, msgs: map[string]*Message{}} }

// Open returns an outbox kept in the bbolt file at path (created if
// needed), with the messages it already holds.
func Open(path string) (*Outbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	o := New()
	o.db = db
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var m Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("message %s: %w", k, err)
			}
			o.msgs[m.ID] = &m
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read outbox %s: %w", path, err)
	}
	return o, nil
}

// Close closes the file of an opened outbox.
func (o *Outbox) Close() error {
	if o.db == nil {
		return nil
	}
	return o.db.Close()
}

// Send keeps n unless a message with its id was sent (then nothing
// happens). Errors: Application.Invalid without an id; a failed write of
// the file.
func (o *Outbox) Send(_ context.Context, n *posluha.Notification) error {
	if n.ID == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "notification without id")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.msgs[n.ID]; ok {
		return nil
	}
	m := &Message{Notification: *n, Sent: o.Now().UTC()}
	if o.db != nil {
		v, err := json.Marshal(m)
		if err != nil {
			return posluha.Errorf(posluha.ErrApplicationInvalid, "notification %s: %v", n.ID, err)
		}
		if err := o.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucket).Put([]byte(n.ID), v)
		}); err != nil {
			return fmt.Errorf("store notification %s: %w", n.ID, err)
		}
	}
	o.msgs[n.ID] = m
	return nil
}

// Messages returns the messages in the order they were sent; citizen and
// applicationID filter when not empty.
func (o *Outbox) Messages(citizen, applicationID string) []Message {
	o.mu.Lock()
	out := make([]Message, 0, len(o.msgs))
	for _, m := range o.msgs {
		if (citizen == "" || m.Citizen == citizen) && (applicationID == "" || m.ApplicationID == applicationID) {
			out = append(out, *m)
		}
	}
	o.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Sent.Equal(out[j].Sent) {
			return out[i].Sent.Before(out[j].Sent)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Handler serves GET /outbox[?citizen=…&applicationId=…&limit=n]: the
// messages as a JSON array, oldest first (the last n with limit).
func (o *Outbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /outbox", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		msgs := o.Messages(q.Get("citizen"), q.Get("applicationId"))
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				writeProblem(w, http.StatusBadRequest, "limit must be a non-negative integer")
				return
			}
			if n < len(msgs) {
				msgs = msgs[len(msgs)-n:]
			}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(msgs) // fails only when the client went away
	})
	return mux
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
