package store

import (
	"errors"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Group commit without waiting: a single committer takes every write queued
// so far into one bbolt transaction (one fsync for all of them) and, while
// that transaction syncs, the writes arriving meanwhile queue for the next
// one. A lone writer therefore pays one commit, not a batch window plus a
// commit (bbolt's Batch waits MaxBatchDelay for company first, which at one
// execution in flight was most of a checkpoint's time), and many writers
// still share fsyncs.

// maxBatch bounds the writes of one transaction, as bbolt's MaxBatchSize.
const maxBatch = 1000

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store: closed")

type writeReq struct {
	fn   func(*bolt.Tx) error
	done chan error
}

type committer struct {
	db    *bolt.DB
	delay time.Duration // extra wait for company after the first write (Options.BatchDelay)

	mu     sync.Mutex
	queue  []*writeReq
	closed bool
	kick   chan struct{}
	exited chan struct{}
}

func newCommitter(db *bolt.DB, delay time.Duration) *committer {
	c := &committer{db: db, delay: delay, kick: make(chan struct{}, 1), exited: make(chan struct{})}
	go c.loop()
	return c
}

// write runs fn in a transaction shared with other writes and returns once
// it is durable. fn may run more than once (when another write of its
// batch fails), so it must only put and delete by key.
func (c *committer) write(fn func(*bolt.Tx) error) error {
	r := &writeReq{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.queue = append(c.queue, r)
	select { // under mu: close cannot close kick in between
	case c.kick <- struct{}{}:
	default: // a kick is pending: the committer will see this write
	}
	c.mu.Unlock()
	return <-r.done
}

// close commits what is queued and stops the committer.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.kick)
	c.mu.Unlock()
	<-c.exited
}

func (c *committer) loop() {
	defer close(c.exited)
	for range c.kick {
		if c.delay > 0 {
			time.Sleep(c.delay)
		}
		for {
			c.mu.Lock()
			batch := c.queue
			if len(batch) > maxBatch {
				batch = batch[:maxBatch]
			}
			c.queue = c.queue[len(batch):]
			c.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			c.commit(batch)
		}
	}
}

// commit runs batch in one transaction. A write that fails is taken out
// and run alone, to get its own error (ErrExists, ErrNotFound) without
// failing the others, which are then committed again without it.
func (c *committer) commit(batch []*writeReq) {
	for len(batch) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := r.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		r := batch[failed]
		r.done <- c.db.Update(r.fn)
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}
