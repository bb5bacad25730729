package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/posluha/posluha/local/engine"
)

// TestMain lets the test binary act as the crashing writer of TestKill9.
func TestMain(m *testing.M) {
	if path := os.Getenv("POSLUHA_STORE_CRASH_WRITER"); path != "" {
		crashWriter(path, os.Getenv("POSLUHA_STORE_CRASH_ROUND"))
		return
	}
	os.Exit(m.Run())
}

// crashWriter creates and advances executions from 8 goroutines and prints
// each acknowledged write; it runs until killed.
func crashWriter(path, round string) {
	db, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				arn := fmt.Sprintf("arn:ex:r%s-w%d-%d", round, w, i)
				x := execution(arn, "arn:sm:crash", float64(i))
				if err := db.CreateExecution(context.Background(), x, []engine.Event{event(1, "ExecutionStarted")}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				x.LastEventID, x.Tokens = 2, []string{"tok-" + arn}
				if err := db.SaveExecution(context.Background(), x, []engine.Event{event(2, "TaskScheduled")}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, arn)
				out.Flush()
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
}

// TestKill9 kills a writer process with SIGKILL mid-burst, several times,
// and checks that every write it acknowledged is there after reopening.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "engine.db")
	var acked []string
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "POSLUHA_STORE_CRASH_WRITER="+path, fmt.Sprintf("POSLUHA_STORE_CRASH_ROUND=%d", round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			acked = append(acked, sc.Text())
			if n++; n == 200+round*50 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		for sc.Scan() { // lines already written before the kill were acknowledged too
			acked = append(acked, sc.Text())
		}
		cmd.Wait()
		if n < 200 {
			t.Fatalf("round %d: writer stopped after %d acks: %s", round, n, stderr.String())
		}
	}
	db := MustOpen(t, path)
	ctx := context.Background()
	for _, arn := range acked {
		x, err := db.GetExecution(ctx, arn)
		if err != nil {
			t.Fatalf("acknowledged execution %s lost: %v", arn, err)
		}
		if x.LastEventID != 2 {
			t.Fatalf("%s: acknowledged save lost (LastEventID %d)", arn, x.LastEventID)
		}
		if owner, err := db.TokenOwner(ctx, "tok-"+arn); err != nil || owner != arn {
			t.Fatalf("%s: token index lost: %q %v", arn, owner, err)
		}
		if h, err := db.History(ctx, arn); err != nil || len(h) != 2 {
			t.Fatalf("%s: history = %d events, %v", arn, len(h), err)
		}
	}
	t.Logf("%d acknowledged executions survived 5 kill -9", len(acked))
}
