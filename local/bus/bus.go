package bus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Handler receives a batch of events. A non-nil error makes the bus
// deliver the batch again later (to every subscriber: handlers must be
// idempotent).
type Handler func(ctx context.Context, events []Event) error

// Options configure a Bus.
type Options struct {
	Region  string // default "local"
	Account string // default "000000000000"
	// NoSync skips fsync of the outbox: benchmarks and throwaway runs only
	// (a crash may then lose events of saves that happened).
	NoSync bool
	// BatchDelay is how long an outbox write waits to share an fsync with
	// others (bbolt's MaxBatchDelay); default 2 ms.
	BatchDelay time.Duration
	// Retry is the pause after a failed delivery; default 1 s.
	Retry  time.Duration
	Logger *slog.Logger
}

// Bus is the outbox and its dispatcher.
type Bus struct {
	o      Options
	db     *bolt.DB
	verify func(ctx context.Context, arn string, seq int64) (bool, error)

	mu   sync.Mutex
	subs []sub
	// queue holds what waits for delivery, in the order it was released:
	// outbox entries whose save succeeded and volatile events (Publish).
	// One ordered queue keeps an execution's steps in order whichever path
	// they took.
	queue    []item
	released uint64 // items ever queued
	settled  uint64 // items ever delivered (or dropped)
	wake     chan struct{}
	started  bool
	stop     context.CancelFunc
	done     chan struct{}
}

// item is an outbox entry (id != 0) or events that have none.
type item struct {
	id  uint64
	evs []Event
}

// maxVolatile bounds the volatile events held while subscribers fail:
// each is superseded by the step events that follow it, so the oldest go.
const maxVolatile = 100_000

type sub struct {
	name string
	h    Handler
}

var bucketOutbox = []byte("outbox")

// entry is an outbox record: the events of one save.
type entry struct {
	ARN    string  `json:"arn"`
	Seq    int64   `json:"seq"` // the execution's LastEventID after the save
	Events []Event `json:"events"`
}

// Open opens (or creates) the outbox file at path.
func Open(path string, o Options) (*Bus, error) {
	if o.Region == "" {
		o.Region = "local"
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.BatchDelay <= 0 {
		o.BatchDelay = 2 * time.Millisecond
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open event outbox %s: %w", path, err)
	}
	db.NoSync = o.NoSync
	db.MaxBatchDelay = o.BatchDelay
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOutbox)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init event outbox %s: %w", path, err)
	}
	b := &Bus{o: o, db: db, wake: make(chan struct{}, 1), done: make(chan struct{})}
	return b, nil
}

// Subscribe adds a handler; call it before Start.
func (b *Bus) Subscribe(name string, h Handler) {
	b.mu.Lock()
	b.subs = append(b.subs, sub{name, h})
	b.mu.Unlock()
}

// Start recovers the entries a previous run left (those whose save
// happened are delivered, the others dropped) and starts delivering.
func (b *Bus) Start(ctx context.Context) error {
	type left struct {
		id  uint64
		arn string
		seq int64
	}
	var pending []left
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				b.o.Logger.Error("drop unreadable outbox entry", "key", binary.BigEndian.Uint64(k), "err", err)
				pending = append(pending, left{id: binary.BigEndian.Uint64(k)})
				return nil
			}
			pending = append(pending, left{binary.BigEndian.Uint64(k), e.ARN, e.Seq})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read event outbox: %w", err)
	}
	var drop []uint64
	for _, p := range pending {
		ok := false
		if p.arn != "" && b.verify != nil && !strings.HasPrefix(p.arn, putMarker) {
			if ok, err = b.verify(ctx, p.arn, p.seq); err != nil {
				return fmt.Errorf("recover event outbox: %w", err)
			}
		} else if p.arn != "" {
			ok = true // no store to ask: deliver (at least once)
		}
		if ok {
			b.queue = append(b.queue, item{id: p.id})
			b.released++
		} else {
			drop = append(drop, p.id)
		}
	}
	if len(drop) > 0 {
		if err := b.delete(drop); err != nil {
			return err
		}
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.mu.Lock()
	b.stop, b.started = cancel, true
	b.mu.Unlock()
	go b.loop(lctx)
	b.signal()
	return nil
}

// Close stops delivery and closes the outbox; undelivered entries stay for
// the next Start.
func (b *Bus) Close() error {
	b.mu.Lock()
	stop, started := b.stop, b.started
	b.mu.Unlock()
	if started {
		stop()
		<-b.done
	}
	return b.db.Close()
}

func key(id uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], id)
	return k[:]
}

// prepare writes a save's events to the outbox before the save.
func (b *Bus) prepare(arn string, seq int64, evs []Event) (uint64, error) {
	v, err := json.Marshal(entry{ARN: arn, Seq: seq, Events: evs})
	if err != nil {
		return 0, fmt.Errorf("encode events of %s: %w", arn, err)
	}
	var id uint64
	err = b.db.Batch(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketOutbox)
		n, err := bk.NextSequence()
		if err != nil {
			return err
		}
		id = n
		return bk.Put(key(n), v)
	})
	if err != nil {
		return 0, fmt.Errorf("write events of %s to the outbox: %w", arn, err)
	}
	return id, nil
}

// commit releases an entry whose save succeeded.
func (b *Bus) commit(id uint64) {
	b.mu.Lock()
	b.queue = append(b.queue, item{id: id})
	b.released++
	b.mu.Unlock()
	b.signal()
}

// publish releases events that have no save behind them: the engine's
// transitions it does not checkpoint (Feed.Observe). They skip the outbox,
// so a crash may lose them; the engine then runs those transitions again
// and they are published again.
func (b *Bus) publish(evs []Event) {
	b.mu.Lock()
	b.queue = append(b.queue, item{evs: evs})
	b.released++
	if len(b.queue) > maxVolatile {
		// Never from the first batch: the loop may be delivering it.
		for i := maxBatch; i < len(b.queue); i++ {
			if it := b.queue[i]; it.id == 0 {
				b.queue = append(b.queue[:i], b.queue[i+1:]...)
				b.settled++
				b.o.Logger.Warn("drop undelivered volatile status events", "events", len(it.evs))
				break
			}
		}
	}
	b.mu.Unlock()
	b.signal()
}

// abort drops an entry whose save failed; if the delete fails too, the
// entry is checked against the store at the next start.
func (b *Bus) abort(id uint64) {
	if err := b.delete([]uint64{id}); err != nil {
		b.o.Logger.Warn("drop outbox entry of a failed save", "err", err)
	}
}

func (b *Bus) delete(ids []uint64) error {
	err := b.db.Batch(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketOutbox)
		for _, id := range ids {
			if err := bk.Delete(key(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete delivered events: %w", err)
	}
	return nil
}

func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

const maxBatch = 512

func (b *Bus) loop(ctx context.Context) {
	defer close(b.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		}
		for ctx.Err() == nil {
			b.mu.Lock()
			items := b.queue[:min(len(b.queue), maxBatch):min(len(b.queue), maxBatch)]
			b.mu.Unlock()
			if len(items) == 0 {
				break
			}
			if err := b.deliver(ctx, items); err != nil {
				b.o.Logger.Warn("deliver status events", "err", err, "entries", len(items))
				select {
				case <-ctx.Done():
					return
				case <-time.After(b.o.Retry):
				}
			}
		}
	}
}

// deliver hands the first len(items) queued items to every subscriber and
// then takes them off the queue.
func (b *Bus) deliver(ctx context.Context, items []item) error {
	var evs []Event
	var ids []uint64
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketOutbox)
		for _, it := range items {
			if it.id == 0 {
				evs = append(evs, it.evs...)
				continue
			}
			ids = append(ids, it.id)
			v := bk.Get(key(it.id))
			if v == nil {
				continue
			}
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				continue
			}
			evs = append(evs, e.Events...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	b.mu.Lock()
	subs := append([]sub(nil), b.subs...)
	b.mu.Unlock()
	for _, s := range subs {
		if err := s.h(ctx, evs); err != nil {
			return fmt.Errorf("subscriber %s: %w", s.name, err)
		}
	}
	if len(ids) > 0 {
		if err := b.delete(ids); err != nil {
			return err
		}
	}
	b.mu.Lock()
	// Only this loop takes items off the front (publish drops from further
	// back), so the delivered ones are still the first len(items).
	b.queue = b.queue[len(items):]
	b.settled += uint64(len(items))
	b.mu.Unlock()
	return nil
}

// ErrNotStarted is returned by Sync before Start.
var ErrNotStarted = errors.New("bus: not started")

// Sync waits until every event released before the call has been
// delivered (tests and the console's read-your-writes after an action).
func (b *Bus) Sync(ctx context.Context) error {
	b.mu.Lock()
	if !b.started {
		b.mu.Unlock()
		return ErrNotStarted
	}
	want := b.released
	b.mu.Unlock()
	b.signal()
	for {
		b.mu.Lock()
		done := b.settled >= want
		b.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Pending is the number of events waiting for delivery (a gauge for
// metrics).
func (b *Bus) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}
