// Package wal is an append-only, checksummed write-ahead log with group
// commit, shared by the local DynamoDB- and SQS-compatible endpoints.
//
// Callers serialise their own state changes, append a record for each one
// while still holding their lock (so the log order is the apply order), then
// release the lock and Wait for the record to be fsynced before they
// acknowledge. One flusher goroutine writes and fsyncs whatever accumulated
// while the previous fsync ran, so concurrent writers share one fsync.
//
// Against bbolt (BenchmarkCommit, 32 writers, 600-byte records, 2 shared
// cores, five runs): 3,300–16,900 commits/s here, 960–2,150 with bbolt's
// Batch, 120–510 with one bbolt Update per write; 3.5–9× Batch in every run. Syncing uses fdatasync on Linux, which
// measured twice as fast as fsync for appends.
//
// On disk a record is: 4-byte little-endian payload length, 4-byte CRC-32C of
// the payload, payload. Open replays every intact record and truncates the
// file at the first torn or corrupt one: after kill -9 only a tail that was
// never acknowledged can be incomplete.
package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// MaxRecord bounds one record so a corrupt length field cannot make replay
// allocate gigabytes.
const MaxRecord = 64 << 20

// ErrClosed is returned by Append and Wait after Close.
var ErrClosed = errors.New("wal: closed")

// ErrLocked is returned by Open when another process has the log open.
var ErrLocked = errors.New("wal: locked by another process")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log is an open write-ahead log. Its methods are safe for concurrent use.
type Log struct {
	path string

	mu      sync.Mutex
	work    *sync.Cond // signalled when buf gains data or the log closes
	done    *sync.Cond // broadcast when synced advances or err is set
	f       *os.File
	buf     []byte // encoded records not yet handed to the flusher
	spare   []byte // the flusher's previous buffer, reused
	last    uint64 // sequence number of the last appended record
	synced  uint64 // every record up to this one is on disk
	size    int64  // bytes on disk plus bytes in buf
	err     error  // sticky write/fsync failure
	closed  bool
	stopped chan struct{}
	// flushing is set while the flusher writes a batch outside mu.
	flushing bool
	// rewriting is set between BeginRewrite and the end of Finish; tail
	// then holds (encoded) every record appended since, for the new file.
	rewriting bool
	tail      []byte

	// Stats about the most recent Open, for logging by the caller.
	Replayed  int   // records replayed
	Truncated int64 // bytes dropped from a torn tail
}

// Open opens (creating if needed) the log at path, calls replay for every
// intact record in order, truncates a torn tail and starts the flusher.
// The slice passed to replay is only valid during the call.
func Open(path string, replay func(rec []byte) error) (*Log, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open wal %s: %w", path, err)
	}
	if os.IsNotExist(statErr) {
		// A new file's directory entry must be durable too, or a power
		// loss could take the whole log with it.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync directory of wal %s: %w", path, err)
		}
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open wal %s: %w", path, err)
	}
	l := &Log{path: path, f: f}
	good, n, err := scan(f, replay)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("replay wal %s: %w", path, err)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("seek wal %s: %w", path, err)
	}
	if end > good {
		// A torn tail: the crash came mid-write, before the fsync that
		// would have acknowledged it, so dropping it loses nothing promised.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate wal %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync wal %s: %w", path, err)
		}
		l.Truncated = end - good
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek wal %s: %w", path, err)
	}
	l.Replayed = n
	l.size = good
	l.start()
	return l, nil
}

func (l *Log) start() {
	l.work = sync.NewCond(&l.mu)
	l.done = sync.NewCond(&l.mu)
	l.stopped = make(chan struct{})
	go l.flusher()
}

// scan reads records from r, calling fn for each intact one, and returns the
// offset just past the last intact record and how many there were.
func scan(r io.Reader, fn func([]byte) error) (int64, int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var (
		off  int64
		n    int
		hdr  [8]byte
		data []byte
	)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return off, n, nil // clean end or torn header
		}
		size := binary.LittleEndian.Uint32(hdr[:4])
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if size == 0 || size > MaxRecord {
			// Records are never empty: a zero length is preallocated or
			// zeroed space after a crash, not data.
			return off, n, nil
		}
		if cap(data) < int(size) {
			data = make([]byte, size)
		}
		data = data[:size]
		if _, err := io.ReadFull(br, data); err != nil {
			return off, n, nil
		}
		if crc32.Checksum(data, castagnoli) != sum {
			return off, n, nil
		}
		if err := fn(data); err != nil {
			return off, n, fmt.Errorf("record %d at offset %d: %w", n, off, err)
		}
		off += 8 + int64(size)
		n++
	}
}

func appendRecord(dst, rec []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(rec, castagnoli))
	return append(append(dst, hdr[:]...), rec...)
}

// Append queues rec and returns its sequence number; it does not wait for the
// disk. Call it while holding the lock that orders your state changes.
func (l *Log) Append(rec []byte) (uint64, error) {
	if len(rec) == 0 || len(rec) > MaxRecord {
		return 0, fmt.Errorf("wal: record of %d bytes is empty or exceeds %d", len(rec), MaxRecord)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	start := len(l.buf)
	l.buf = appendRecord(l.buf, rec)
	if l.rewriting {
		l.tail = append(l.tail, l.buf[start:]...)
	}
	l.size += 8 + int64(len(rec))
	l.last++
	l.work.Signal()
	return l.last, nil
}

// Wait blocks until the record with sequence number seq is fsynced.
func (l *Log) Wait(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.synced < seq && l.err == nil {
		l.done.Wait()
	}
	if l.synced >= seq {
		return nil
	}
	return l.err
}

// Commit appends rec and waits for it to be durable.
func (l *Log) Commit(rec []byte) error {
	seq, err := l.Append(rec)
	if err != nil {
		return err
	}
	return l.Wait(seq)
}

// Size reports the log's length in bytes, including records not yet flushed.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

func (l *Log) flusher() {
	defer close(l.stopped)
	for {
		l.mu.Lock()
		for len(l.buf) == 0 && !l.closed {
			l.work.Wait()
		}
		if len(l.buf) == 0 {
			l.mu.Unlock()
			return
		}
		b, last, f := l.buf, l.last, l.f
		l.buf = l.spare[:0]
		l.flushing = true
		l.mu.Unlock()

		_, err := f.Write(b)
		if err == nil {
			err = syncData(f)
		}

		l.mu.Lock()
		l.spare = b
		l.flushing = false
		if err != nil && l.err == nil {
			l.err = fmt.Errorf("wal %s: %w", l.path, err)
		} else if err == nil && last > l.synced {
			l.synced = last
		}
		l.done.Broadcast()
		stop := l.err != nil
		l.mu.Unlock()
		if stop {
			return
		}
	}
}

// Rewrite replaces the log's content with the records dump emits, atomically
// (temporary file, fsync, rename, fsync of the directory). It is for
// compaction: the caller must make sure nothing is appended meanwhile, and
// every record already appended must be reflected in what dump emits.
func (l *Log) Rewrite(dump func(emit func(rec []byte) error) error) error {
	if err := l.drain(); err != nil {
		return err
	}
	tmp := l.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("compact wal: %w", err)
	}
	size, err := writeDump(f, dump)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = lock(f)
	}
	if err == nil {
		err = os.Rename(tmp, l.path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact wal %s: %w", l.path, err)
	}
	// From the rename on, the new file is the log: switch to it even if
	// the directory sync below fails, or appends would go to the old,
	// unlinked file.
	l.mu.Lock()
	old := l.f
	l.f, l.size = f, size
	l.mu.Unlock()
	old.Close()
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("compact wal %s: sync directory: %w", l.path, err)
	}
	return nil
}

// Rewriting is a compaction in progress while appends go on; see
// BeginRewrite.
type Rewriting struct {
	l    *Log
	done bool
}

// BeginRewrite starts a compaction that does not stop the writers. Call
// it under the lock that orders your state changes, where you also take
// the snapshot you will dump: every record appended so far must be
// reflected in that snapshot. Records appended from now on keep going to
// the current file (so the log stays whole if the rewrite fails) and are
// also kept aside; Finish writes the snapshot without any lock, then,
// briefly holding the log's, appends what was kept aside and switches to
// the new file. Only one rewrite may be in progress.
func (l *Log) BeginRewrite() (*Rewriting, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return nil, ErrClosed
	case l.err != nil:
		return nil, l.err
	case l.rewriting:
		return nil, errors.New("wal: a rewrite is already in progress")
	}
	l.rewriting, l.tail = true, nil
	return &Rewriting{l: l}, nil
}

// Finish writes the records dump emits (the snapshot taken at
// BeginRewrite) and the records appended since into a new file and makes
// it the log (temporary file, fsync, rename, fsync of the directory).
// Records that were waiting for the disk are durable once it returns
// successfully. On error the old log is kept, complete.
func (r *Rewriting) Finish(dump func(emit func(rec []byte) error) error) error {
	l := r.l
	if r.done {
		return errors.New("wal: rewrite already finished")
	}
	r.done = true
	tmp := l.path + ".tmp"
	fail := func(f *os.File, err error) error {
		l.mu.Lock()
		l.rewriting, l.tail = false, nil
		l.mu.Unlock()
		if f != nil {
			f.Close()
			os.Remove(tmp)
		}
		return fmt.Errorf("compact wal %s: %w", l.path, err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fail(nil, err)
	}
	size, err := writeDump(f, dump)
	if err != nil {
		return fail(f, err)
	}
	// Writers wait from here to the switch: the tail, one fsync and a
	// rename. The flusher must not be writing a batch to the old file
	// when it is replaced (its records are in the tail too).
	l.mu.Lock()
	for l.flushing && l.err == nil && !l.closed {
		l.done.Wait()
	}
	if l.closed || l.err != nil {
		err := l.err
		if err == nil {
			err = ErrClosed
		}
		l.rewriting, l.tail = false, nil
		l.mu.Unlock()
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact wal %s: %w", l.path, err)
	}
	_, err = f.Write(l.tail)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = lock(f)
	}
	if err == nil {
		err = os.Rename(tmp, l.path)
	}
	if err != nil {
		l.rewriting, l.tail = false, nil
		l.mu.Unlock()
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact wal %s: %w", l.path, err)
	}
	// From the rename on, the new file is the log. Everything appended is
	// in it: once the rename itself is durable, what the flusher had not
	// taken yet must not be written again.
	old := l.f
	l.f, l.size = f, size+int64(len(l.tail))
	l.rewriting, l.tail = false, nil
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		// Whether the old or the new file survives a crash is unknown, so
		// no further write can be acknowledged.
		l.err = fmt.Errorf("compact wal %s: sync directory: %w", l.path, err)
		l.done.Broadcast()
		l.mu.Unlock()
		old.Close()
		return l.err
	}
	l.buf = l.buf[:0]
	l.synced = l.last
	l.done.Broadcast()
	l.mu.Unlock()
	old.Close()
	return nil
}

// drain waits until everything appended so far is on disk.
func (l *Log) drain() error {
	l.mu.Lock()
	last := l.last
	l.mu.Unlock()
	return l.Wait(last)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close flushes what was appended, stops the flusher and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.work.Signal()
	l.mu.Unlock()
	<-l.stopped
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done.Broadcast()
	cerr := l.f.Close()
	if l.err != nil {
		return l.err
	}
	return cerr
}

// Abandon closes the file without flushing queued records, as a crash would;
// tests use it to check that only acknowledged records survive.
func (l *Log) Abandon() {
	l.mu.Lock()
	l.closed = true
	l.buf = nil
	l.err = ErrClosed
	l.work.Signal()
	l.done.Broadcast()
	f := l.f
	l.mu.Unlock()
	<-l.stopped
	f.Close()
}

// writeDump writes the records dump emits to f, framed as the log frames
// them, and returns how many bytes it wrote; both rewrites start with it.
func writeDump(f *os.File, dump func(emit func(rec []byte) error) error) (int64, error) {
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	var scratch []byte
	err := dump(func(rec []byte) error {
		if len(rec) == 0 || len(rec) > MaxRecord {
			return fmt.Errorf("wal: record of %d bytes is empty or exceeds %d", len(rec), MaxRecord)
		}
		scratch = appendRecord(scratch[:0], rec)
		size += int64(len(scratch))
		_, err := w.Write(scratch)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	return size, err
}
