// Package store keeps the local Step Functions engine's state machines,
// executions, history and timers in a bbolt file, so that `kill -9` at any
// moment loses nothing that was acknowledged and every RUNNING execution
// resumes after a restart.
//
// Layout (one bucket each):
//
//	machines  arn → Machine JSON
//	execs     arn → Execution JSON without its zero fields
//	          (engine.EncodeExecution; the checkpoint the engine resumes
//	          from; records of earlier versions, with every field, read
//	          the same)
//	meta      arn → index entries derived from the record (seq, status,
//	          wakeAt, tokens), so a save updates indexes without decoding
//	          the previous record; binary (meta.encode), or JSON as
//	          earlier versions wrote it
//	events    arn 0x00 id(8, big-endian) → Event JSON
//	order     seq(8) → arn                    (all executions, by start)
//	bymachine machineARN 0x00 seq(8) → arn    (per machine, by start)
//	running   arn → ∅
//	wake      wakeAt(8, unix ns) arn → ∅      (timers, earliest first)
//	tokens    token → arn
//
// Writes go through one committer (commit.go), so concurrent executions
// share one fsync (group commit) and each save is still durable before it
// returns.
// Records live on disk only; nothing is cached, so a million parked
// executions cost disk, not memory.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha/local/engine"
)

var (
	bucketMachines  = []byte("machines")
	bucketExecs     = []byte("execs")
	bucketMeta      = []byte("meta")
	bucketEvents    = []byte("events")
	bucketOrder     = []byte("order")
	bucketByMachine = []byte("bymachine")
	bucketRunning   = []byte("running")
	bucketWake      = []byte("wake")
	bucketTokens    = []byte("tokens")
	allBuckets      = [][]byte{bucketMachines, bucketExecs, bucketMeta, bucketEvents, bucketOrder, bucketByMachine, bucketRunning, bucketWake, bucketTokens}
)

// DB is a bbolt-backed engine.Store.
type DB struct {
	bolt *bolt.DB
	w    *committer
}

var _ engine.Store = (*DB)(nil)

// Options tune the store.
type Options struct {
	// BatchDelay makes the committer wait that long for more writes
	// before each transaction. 0 (the default) does not wait: writes that
	// arrive while a transaction syncs share the next one anyway (see
	// commit.go). bbolt's Batch, used before, waited 10 ms by default,
	// which capped a lone execution at ~85 checkpoints/s; 1 ms measured
	// 6.6× that at one writer.
	BatchDelay time.Duration
	// NoSync skips fsync: only for benchmarks and throwaway runs.
	NoSync bool
}

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	b.NoSync = opts.NoSync
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("init store %s: %w", path, err)
	}
	return &DB{bolt: b, w: newCommitter(b, max(opts.BatchDelay, 0))}, nil
}

// Close commits the writes in progress and closes the file.
func (db *DB) Close() error {
	db.w.close()
	return db.bolt.Close()
}

// Backup writes a consistent snapshot of the whole store to w while it
// keeps serving.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// meta holds what the indexes were derived from at the last save.
type meta struct {
	Seq     uint64    `json:"s"`
	Machine string    `json:"m"`
	Running bool      `json:"r,omitempty"`
	WakeAt  time.Time `json:"w,omitempty"`
	Tokens  []string  `json:"t,omitempty"`
}

// metaBinary marks the binary form of a meta entry; entries written by
// earlier versions are JSON and start with '{'.
const metaBinary = 0x01

// encode writes m in the binary form: a save decodes and writes one inside
// bbolt's single writer, where encoding/json's reflection was measurable.
func (m *meta) encode() []byte {
	b := make([]byte, 0, 32+len(m.Machine)+len(m.Tokens)*48)
	b = append(b, metaBinary)
	b = binary.AppendUvarint(b, m.Seq)
	var flags byte
	if m.Running {
		flags = 1
	}
	b = append(b, flags)
	var wake int64
	if !m.WakeAt.IsZero() {
		wake = m.WakeAt.UnixNano()
	}
	b = binary.AppendVarint(b, wake)
	b = binary.AppendUvarint(b, uint64(len(m.Machine)))
	b = append(b, m.Machine...)
	b = binary.AppendUvarint(b, uint64(len(m.Tokens)))
	for _, t := range m.Tokens {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

var errBadMeta = errors.New("truncated or corrupt index entry")

// decodeMeta reads either form of a meta entry.
func decodeMeta(raw []byte) (meta, error) {
	var m meta
	if len(raw) == 0 || raw[0] != metaBinary {
		err := json.Unmarshal(raw, &m)
		return m, err
	}
	p := raw[1:]
	uv := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			p = nil
			return 0
		}
		p = p[n:]
		return v
	}
	str := func() (string, bool) {
		n := uv()
		if p == nil || uint64(len(p)) < n {
			return "", false
		}
		s := string(p[:n])
		p = p[n:]
		return s, true
	}
	m.Seq = uv()
	if len(p) < 1 {
		return m, errBadMeta
	}
	m.Running = p[0]&1 != 0
	p = p[1:]
	wake, n := binary.Varint(p)
	if n <= 0 {
		return m, errBadMeta
	}
	p = p[n:]
	if wake != 0 {
		m.WakeAt = time.Unix(0, wake).UTC()
	}
	var ok bool
	if m.Machine, ok = str(); !ok {
		return m, errBadMeta
	}
	count := uv()
	if p == nil || count > uint64(len(p)) {
		return m, errBadMeta
	}
	for range count {
		t, ok := str()
		if !ok {
			return m, errBadMeta
		}
		m.Tokens = append(m.Tokens, t)
	}
	return m, nil
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func eventKey(arn string, id int64) []byte {
	k := make([]byte, 0, len(arn)+9)
	k = append(k, arn...)
	k = append(k, 0)
	return append(k, u64(uint64(id))...)
}

func wakeKey(t time.Time, arn string) []byte {
	return append(u64(uint64(t.UnixNano())), arn...)
}

// PutMachine implements engine.Store.
func (db *DB) PutMachine(_ context.Context, m *engine.Machine) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode machine %s: %w", m.ARN, err)
	}
	return db.w.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMachines).Put([]byte(m.ARN), b)
	})
}

// GetMachine implements engine.Store.
func (db *DB) GetMachine(_ context.Context, arn string) (*engine.Machine, error) {
	var m engine.Machine
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMachines).Get([]byte(arn))
		if b == nil {
			return engine.ErrNotFound
		}
		return json.Unmarshal(b, &m)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// ListMachines implements engine.Store.
func (db *DB) ListMachines(_ context.Context) ([]*engine.Machine, error) {
	var out []*engine.Machine
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMachines).ForEach(func(_, v []byte) error {
			var m engine.Machine
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, &m)
			return nil
		})
	})
	return out, err
}

// DeleteMachine implements engine.Store.
func (db *DB) DeleteMachine(_ context.Context, arn string) error {
	return db.w.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMachines)
		if b.Get([]byte(arn)) == nil {
			return engine.ErrNotFound
		}
		return b.Delete([]byte(arn))
	})
}

// CreateExecution implements engine.Store.
func (db *DB) CreateExecution(_ context.Context, x *engine.Execution, events []engine.Event) error {
	rec, evs, err := encode(x, events)
	if err != nil {
		return err
	}
	return db.w.write(func(tx *bolt.Tx) error {
		key := []byte(x.ARN)
		if tx.Bucket(bucketExecs).Get(key) != nil {
			return engine.ErrExists
		}
		seq, err := tx.Bucket(bucketOrder).NextSequence()
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketOrder).Put(u64(seq), key); err != nil {
			return err
		}
		byMachine := append(append([]byte(x.MachineARN), 0), u64(seq)...)
		if err := tx.Bucket(bucketByMachine).Put(byMachine, key); err != nil {
			return err
		}
		return write(tx, x, rec, evs, &meta{Seq: seq, Machine: x.MachineARN})
	})
}

// SaveExecution implements engine.Store.
func (db *DB) SaveExecution(_ context.Context, x *engine.Execution, events []engine.Event) error {
	rec, evs, err := encode(x, events)
	if err != nil {
		return err
	}
	return db.w.write(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get([]byte(x.ARN))
		if raw == nil {
			return engine.ErrNotFound
		}
		old, err := decodeMeta(raw)
		if err != nil {
			return fmt.Errorf("decode index entry of %s: %w", x.ARN, err)
		}
		return write(tx, x, rec, evs, &old)
	})
}

type encodedEvent struct {
	id   int64
	json []byte
}

// encode runs before the transaction, so that the JSON work of concurrent
// writers happens outside bbolt's single writer lock.
func encode(x *engine.Execution, events []engine.Event) ([]byte, []encodedEvent, error) {
	rec, err := engine.EncodeExecution(x)
	if err != nil {
		return nil, nil, fmt.Errorf("encode execution %s: %w", x.ARN, err)
	}
	evs := make([]encodedEvent, len(events))
	for i := range events {
		evs[i] = encodedEvent{events[i].ID, engine.AppendEvent(nil, &events[i])}
	}
	return rec, evs, nil
}

// write stores the record and events and moves the indexes from what old
// describes to what x describes. It runs inside a Batch, which may run it
// twice, so it only puts and deletes by key.
func write(tx *bolt.Tx, x *engine.Execution, rec []byte, evs []encodedEvent, old *meta) error {
	key := []byte(x.ARN)
	if err := tx.Bucket(bucketExecs).Put(key, rec); err != nil {
		return err
	}
	eb := tx.Bucket(bucketEvents)
	for _, e := range evs {
		if err := eb.Put(eventKey(x.ARN, e.id), e.json); err != nil {
			return err
		}
	}
	// Parked executions are resumed by their timers (wake) and tokens, not
	// at start, so a million of them cost a restart nothing. One marked
	// parked with neither is resumed at start all the same: nothing else
	// would ever wake it.
	resumable := x.Parked && (!x.WakeAt.IsZero() || len(x.Tokens) > 0)
	nm := meta{Seq: old.Seq, Machine: old.Machine, Running: x.Status == engine.StatusRunning && !resumable, WakeAt: x.WakeAt, Tokens: x.Tokens}
	running := tx.Bucket(bucketRunning)
	if nm.Running {
		if err := running.Put(key, nil); err != nil {
			return err
		}
	} else if err := running.Delete(key); err != nil {
		return err
	}
	wake := tx.Bucket(bucketWake)
	if !old.WakeAt.IsZero() && !old.WakeAt.Equal(nm.WakeAt) {
		if err := wake.Delete(wakeKey(old.WakeAt, x.ARN)); err != nil {
			return err
		}
	}
	if !nm.WakeAt.IsZero() {
		if err := wake.Put(wakeKey(nm.WakeAt, x.ARN), nil); err != nil {
			return err
		}
	}
	tokens := tx.Bucket(bucketTokens)
	for _, t := range old.Tokens {
		if err := tokens.Delete([]byte(t)); err != nil {
			return err
		}
	}
	for _, t := range nm.Tokens {
		if err := tokens.Put([]byte(t), key); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(key, nm.encode())
}

// GetExecution implements engine.Store.
func (db *DB) GetExecution(_ context.Context, arn string) (*engine.Execution, error) {
	var x *engine.Execution
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketExecs).Get([]byte(arn))
		if b == nil {
			return engine.ErrNotFound
		}
		var err error
		x, err = engine.DecodeExecution(b)
		return err
	})
	return x, err
}

// ListExecutions implements engine.Store. It walks the order (or
// bymachine) index backwards from the cursor and decodes only the page's
// records, without their thread trees.
func (db *DB) ListExecutions(_ context.Context, machineARN, after string, limit int) ([]*engine.Execution, string, error) {
	var out []*engine.Execution
	next := ""
	err := db.bolt.View(func(tx *bolt.Tx) error {
		execs := tx.Bucket(bucketExecs)
		var prefix []byte // of the index keys walked
		var c *bolt.Cursor
		if machineARN == "" {
			c = tx.Bucket(bucketOrder).Cursor()
		} else {
			prefix = append([]byte(machineARN), 0)
			c = tx.Bucket(bucketByMachine).Cursor()
		}
		var k, v []byte
		if after == "" {
			// Seek past the prefix, then walk back: newest first.
			k, _ = c.Seek(append(append([]byte(nil), prefix...), bytes.Repeat([]byte{0xff}, 9)...))
		} else {
			raw := tx.Bucket(bucketMeta).Get([]byte(after))
			if raw == nil {
				return engine.ErrNotFound
			}
			m, err := decodeMeta(raw)
			if err != nil {
				return fmt.Errorf("decode index entry of %s: %w", after, err)
			}
			if machineARN != "" && m.Machine != machineARN {
				return engine.ErrNotFound
			}
			k, _ = c.Seek(append(append([]byte(nil), prefix...), u64(m.Seq)...))
		}
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if limit > 0 && len(out) == limit {
				next = out[len(out)-1].ARN
				return nil
			}
			x, err := engine.DecodeExecutionSummary(execs.Get(v))
			if err != nil {
				return fmt.Errorf("decode execution %s: %w", v, err)
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ListRunning implements engine.Store.
func (db *DB) ListRunning(_ context.Context) ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRunning).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// History implements engine.Store.
func (db *DB) History(_ context.Context, arn string) ([]engine.Event, error) {
	var out []engine.Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketExecs).Get([]byte(arn)) == nil {
			return engine.ErrNotFound
		}
		prefix := append([]byte(arn), 0)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
			e, err := engine.DecodeEvent(v)
			if err != nil {
				return fmt.Errorf("decode event of %s: %w", arn, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// TokenOwner implements engine.Store.
func (db *DB) TokenOwner(_ context.Context, token string) (string, error) {
	var arn string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get([]byte(token))
		if v == nil {
			return engine.ErrNotFound
		}
		arn = string(v)
		return nil
	})
	return arn, err
}

// DueExecutions implements engine.Store.
func (db *DB) DueExecutions(_ context.Context, now time.Time, limit int) ([]string, error) {
	var out []string
	until := uint64(now.UnixNano())
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketWake).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if binary.BigEndian.Uint64(k[:8]) > until {
				break
			}
			out = append(out, string(k[8:]))
		}
		return nil
	})
	return out, err
}

// NextWake implements engine.Store.
func (db *DB) NextWake(_ context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketWake).Cursor().First()
		if k != nil {
			at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), true
		}
		return nil
	})
	return at, ok, err
}
