package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha"
)

// Request statuses.
const (
	StatusPending = "pending"
	StatusSigned  = "signed"
	StatusExpired = "expired" // the deadline passed or the task token is gone
)

// Request is one signer's signing request: what must be signed (the
// document's SHA-256), by whom (tax number), and where the answer goes
// (the task token). Signer, SignerName and the document are personal data:
// never logged.
type Request struct {
	ID            string    `json:"requestId"`
	ApplicationID string    `json:"applicationId"`
	Service       string    `json:"service"`
	Step          string    `json:"step"`
	Document      string    `json:"document"`    // "consent" or a document id
	DocumentKey   string    `json:"documentKey"` // S3 key of the signed bytes
	Hash          string    `json:"hash"`        // hex SHA-256 of those bytes
	Signer        string    `json:"signer"`      // tax number (RNOKPP)
	SignerName    string    `json:"signerName,omitempty"`
	TaskToken     string    `json:"taskToken"`
	CreatedAt     time.Time `json:"createdAt"`
	Deadline      time.Time `json:"deadline"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts,omitempty"` // rejected submissions
	SignatureKey  string    `json:"signatureKey,omitempty"`
	SignatureHash string    `json:"signatureSha256,omitempty"` // of the accepted .p7s
	SignedAt      time.Time `json:"signedAt,omitzero"`
}

// Store keeps signing requests. Implementations: Memory, Bolt, Dynamo.
type Store interface {
	// Get returns the request; a missing one is Application.NotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// Upsert runs f on the stored request (nil when there is none) and
	// stores what f returns, atomically per id.
	Upsert(ctx context.Context, id string, f func(*Request) (*Request, error)) (*Request, error)
}

func notFound(id string) error {
	return posluha.Errorf(posluha.ErrApplicationNotFound, "signing request %s not found", id)
}

// Memory is an in-process Store for tests and benchmarks.
type Memory struct {
	mu sync.Mutex
	m  map[string]Request
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{m: map[string]Request{}} }

// Get implements Store.
func (s *Memory) Get(_ context.Context, id string) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return nil, notFound(id)
	}
	return &r, nil
}

// Upsert implements Store.
func (s *Memory) Upsert(_ context.Context, id string, f func(*Request) (*Request, error)) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *Request
	if r, ok := s.m[id]; ok {
		cur = &r
	}
	next, err := f(cur)
	if err != nil {
		return nil, err
	}
	s.m[id] = *next
	out := *next
	return &out, nil
}

// Bolt is a Store in a bbolt file (the local stack, on-prem).
type Bolt struct{ db *bolt.DB }

var requestsBucket = []byte("signRequests")

// OpenBolt opens or creates the store file.
func OpenBolt(file string) (*Bolt, error) {
	db, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open sign store %s: %w", file, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(requestsBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	return &Bolt{db: db}, nil
}

// Close closes the file.
func (s *Bolt) Close() error { return s.db.Close() }

// Get implements Store.
func (s *Bolt) Get(_ context.Context, id string) (*Request, error) {
	var r *Request
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(requestsBucket).Get([]byte(id))
		if v == nil {
			return notFound(id)
		}
		r = new(Request)
		return json.Unmarshal(v, r)
	})
	return r, err
}

// Upsert implements Store.
func (s *Bolt) Upsert(_ context.Context, id string, f func(*Request) (*Request, error)) (*Request, error) {
	var out *Request
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(requestsBucket)
		var cur *Request
		if v := b.Get([]byte(id)); v != nil {
			cur = new(Request)
			if err := json.Unmarshal(v, cur); err != nil {
				return fmt.Errorf("decode request %s: %w", id, err)
			}
		}
		next, err := f(cur)
		if err != nil {
			return err
		}
		v, err := json.Marshal(next)
		if err != nil {
			return err
		}
		out = next
		return b.Put([]byte(id), v)
	})
	return out, err
}

var (
	_ Store = (*Memory)(nil)
	_ Store = (*Bolt)(nil)
)
