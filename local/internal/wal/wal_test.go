package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func readAll(tb testing.TB, path string) []string {
	tb.Helper()
	var got []string
	l, err := Open(path, func(rec []byte) error {
		got = append(got, string(rec))
		return nil
	})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	if err := l.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return got
}

func TestAppendReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := l.Commit(fmt.Appendf(nil, "w%d-%d", w, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("x")); err != ErrClosed {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	got := readAll(t, path)
	if len(got) != 400 {
		t.Fatalf("replayed %d records, want 400", len(got))
	}
	// Per writer, order is kept.
	next := map[byte]int{}
	for _, r := range got {
		var w, i int
		fmt.Sscanf(r, "w%d-%d", &w, &i)
		if next[byte(w)] != i {
			t.Fatalf("writer %d: record %d after %d", w, i, next[byte(w)])
		}
		next[byte(w)]++
	}
}

// TestTornTail damages the end of a log the ways a crash can and checks that
// replay keeps every complete record and drops the rest.
func TestTornTail(t *testing.T) {
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   int
	}{
		{"clean", func(b []byte) []byte { return b }, 3},
		{"half header", func(b []byte) []byte { return append(b, 1, 2, 3) }, 3},
		{"short payload", func(b []byte) []byte { return b[:len(b)-2] }, 2},
		{"bad checksum", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, 2},
		{"huge length", func(b []byte) []byte {
			return binary.LittleEndian.AppendUint32(append(b, 0, 0, 0, 0)[:len(b)], MaxRecord+1)
		}, 3},
		{"zeros", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			l, err := Open(path, func([]byte) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []string{"one", "two", "three"} {
				if err := l.Commit([]byte(r)); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			b, _ := os.ReadFile(path)
			os.WriteFile(path, tc.damage(b), 0o600)
			if got := readAll(t, path); len(got) != tc.want {
				t.Fatalf("replayed %v, want %d records", got, tc.want)
			}
			// The log is usable after truncation: appends replay in order.
			l, err = Open(path, func([]byte) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			l.Commit([]byte("four"))
			l.Close()
			got := readAll(t, path)
			if len(got) != tc.want+1 || got[len(got)-1] != "four" {
				t.Errorf("after reopen: %v", got)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		l.Commit(fmt.Appendf(nil, "r%d", i))
	}
	err = l.Rewrite(func(emit func([]byte) error) error { return emit([]byte("snapshot")) })
	if err != nil {
		t.Fatal(err)
	}
	l.Commit([]byte("after"))
	l.Close()
	if got := readAll(t, path); len(got) != 2 || got[0] != "snapshot" || got[1] != "after" {
		t.Errorf("after Rewrite: %v", got)
	}
}

func TestAbandon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, _ := Open(path, func([]byte) error { return nil })
	l.Commit([]byte("acked"))
	l.Abandon()
	if err := l.Wait(1); err != nil {
		t.Errorf("Wait on a synced record after Abandon = %v", err)
	}
	if got := readAll(t, path); len(got) != 1 {
		t.Errorf("after Abandon: %v", got)
	}
}

// BenchmarkCommit compares ways to make one ~600-byte request durable with
// 32 concurrent writers: this log's group commit against bbolt's Batch
// (which also coalesces writers) and bbolt's Update (one tx per write).
func BenchmarkCommit(b *testing.B) {
	rec := bytes.Repeat([]byte("x"), 600)
	b.Run("wal", func(b *testing.B) {
		l, err := Open(filepath.Join(b.TempDir(), "log"), func([]byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		b.SetParallelism(32 / max(1, runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Commit(rec); err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	})
	for _, mode := range []string{"bboltBatch", "bboltUpdate"} {
		b.Run(mode, func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "bolt.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("t")); return err })
			var mu sync.Mutex
			n := 0
			b.SetParallelism(32 / max(1, runtimeProcs()))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					n++
					key := binary.BigEndian.AppendUint64(nil, uint64(n))
					mu.Unlock()
					put := func(tx *bolt.Tx) error { return tx.Bucket([]byte("t")).Put(key, rec) }
					var err error
					if mode == "bboltBatch" {
						err = db.Batch(put)
					} else {
						err = db.Update(put)
					}
					if err != nil {
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, func([]byte) error { return nil }); runtime.GOOS == "linux" && !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	l.Close()
	l, err = Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l.Close()
}
