package wal

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestRewriteWhileAppending: records appended during a live rewrite land
// in the new log exactly once, after the snapshot, and every writer's
// Wait returns; the old records are gone.
func TestRewriteWhileAppending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := l.Commit(fmt.Appendf(nil, "a%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	rw, err := l.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.BeginRewrite(); err == nil {
		t.Fatal("a second rewrite started while one is in progress")
	}
	const writers, each = 8, 200
	var wg sync.WaitGroup
	started := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if i == 10 && w == 0 {
					close(started)
				}
				if err := l.Commit(fmt.Appendf(nil, "b%d-%d", w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	<-started // some records go in while the snapshot is being written
	err = rw.Finish(func(emit func([]byte) error) error { return emit([]byte("snapshot")) })
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := l.Commit([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	var got []string
	l, err = Open(path, func(rec []byte) error { got = append(got, string(rec)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if len(got) != 1+writers*each+1 || got[0] != "snapshot" || got[len(got)-1] != "c" {
		t.Fatalf("replayed %d records, first %q last %q; want snapshot, %d b records, c", len(got), got[0], got[len(got)-1], writers*each)
	}
	seen := map[string]bool{}
	next := make([]int, writers) // each writer's records in its own order
	for _, r := range got[1 : len(got)-1] {
		if seen[r] {
			t.Fatalf("record %s replayed twice", r)
		}
		seen[r] = true
		var w, i int
		if _, err := fmt.Sscanf(r, "b%d-%d", &w, &i); err != nil {
			t.Fatalf("unexpected record %q", r)
		}
		if i != next[w] {
			t.Fatalf("writer %d: record %d after %d", w, i, next[w]-1)
		}
		next[w]++
	}
	if st, err := l.BeginRewrite(); err != nil {
		t.Fatalf("a new rewrite after the last one: %v", err)
	} else if err := st.Finish(func(emit func([]byte) error) error { return emit([]byte("again")) }); err != nil {
		t.Fatal(err)
	}
}

// TestRewriteFailureKeepsTheLog: a dump that fails leaves the old log
// whole, with what was appended meanwhile.
func TestRewriteFailureKeepsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	l.Commit([]byte("a"))
	rw, err := l.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	l.Commit([]byte("b"))
	if err := rw.Finish(func(func([]byte) error) error { return fmt.Errorf("disk full") }); err == nil {
		t.Fatal("failed dump reported success")
	}
	l.Commit([]byte("c"))
	l.Close()
	var got []string
	l, err = Open(path, func(rec []byte) error { got = append(got, string(rec)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("after a failed rewrite the log holds %v, want [a b c]", got)
	}
}
