package enginebench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/store"
)

var (
	parkedN = flag.Int("parked", 3000,
		"TestParkedMemory: executions to park on task tokens (the issue's figure: -parked=1000000 -timeout=60m)")
	parkedLimit = flag.Int64("parked.limit", 2<<30, "TestParkedMemory: the peak RSS (bytes) the test allows")
	parkedDir   = flag.String("parked.dir", "", "TestParkedMemory: directory for the store file (default a temporary one)")
)

// parkedDefinition is the shape of an e-service waiting for a citizen: a
// Pass, then a callback task (eventwrite's "await", which stores the token
// and returns), then a Pass once SendTaskSuccess arrives.
const parkedDefinition = `{"StartAt":"Accept","States":{
	"Accept":{"Type":"Pass","Parameters":{"applicationId.$":"$.applicationId","service":"birth-certificate"},"Next":"AwaitSignature"},
	"AwaitSignature":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:eventwrite",
			"Payload":{"applicationId.$":"$.applicationId","action":"await","key":"signature","taskToken.$":"$$.Task.Token"}},
		"ResultPath":"$.signature","Next":"Done"},
	"Done":{"Type":"Pass","End":true}}}`

// memStatus is what /proc/self/status says about memory, in bytes.
type memStatus struct {
	RSS, Peak, Anon, File int64
}

func readMemStatus(tb testing.TB) memStatus {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	var m memStatus
	fields := map[string]*int64{"VmRSS:": &m.RSS, "VmHWM:": &m.Peak, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if p, ok := fields[parts[0]]; ok && len(parts) >= 2 {
			kb, _ := strconv.ParseInt(parts[1], 10, 64)
			*p = kb << 10
		}
	}
	return m
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// TestParkedMemory parks -parked executions on task tokens with the bbolt
// store and reports the process's RSS at a tenth, half and all of them,
// the time it took, then restarts the engine on the same file and
// completes a sample of tokens. Parked state lives on disk, so the peak RSS
// must stay under -parked.limit (2 GiB). The normal run parks a few
// thousand; the figure is -parked=1000000.
func TestParkedMemory(t *testing.T) {
	n := *parkedN
	dir := *parkedDir
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "parked.db")
	ctx := context.Background()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()

	// The callback task keeps a sample of the tokens (about 100), not all
	// of them: the test must not hold a million tokens in memory itself.
	sampleEvery := max(1, n/100)
	var (
		sampleMu sync.Mutex
		sample   []string
		slots    = make(chan struct{}, 256) // executions between start and park
	)
	invoker := engine.InvokerFunc(func(_ context.Context, c *engine.Call) (any, error) {
		if c.TaskToken == "" {
			return nil, &engine.Failure{Name: "States.TaskFailed", Cause: "not a callback task"}
		}
		_, num, _ := strings.Cut(c.ExecutionARN, ":app-")
		if i, _ := strconv.Atoi(num); i%sampleEvery == 0 {
			sampleMu.Lock()
			sample = append(sample, c.TaskToken)
			sampleMu.Unlock()
		}
		<-slots
		return nil, nil
	})
	eng := engine.New(engine.Config{Store: db, Invoker: invoker})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "parked", Definition: parkedDefinition})
	if err != nil {
		t.Fatal(err)
	}

	marks := []int{n / 10, n / 2, n}
	start := time.Now()
	var next atomic.Int64
	started := 0
	t.Logf("parking %d executions in %s (GOMAXPROCS %d)", n, path, runtime.GOMAXPROCS(0))
	for _, mark := range marks {
		var wg sync.WaitGroup
		errs := make(chan error, cap(slots))
		for range cap(slots) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(mark) {
						next.Add(-1)
						return
					}
					slots <- struct{}{}
					name := fmt.Sprintf("app-%07d", i)
					if _, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: name, Input: `{"applicationId":"` + name + `"}`}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		started = mark
		last := fmt.Sprintf("arn:aws:states:us-east-1:111111111111:execution:parked:app-%07d", mark)
		x, err := eng.AwaitSettled(ctx, last) // every pass has parked and saved
		if err != nil || x.Status != engine.StatusRunning || len(x.Tokens) != 1 {
			t.Fatalf("execution %d after parking: %+v %v", mark, x, err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st := readMemStatus(t)
		fi, _ := os.Stat(path)
		el := time.Since(start)
		t.Logf("%8d parked after %6.1fs (%5.0f/s): RSS %s (peak %s; anon %s, file-backed %s), Go heap in use %s, store file %s",
			started, el.Seconds(), float64(started)/el.Seconds(), mib(st.RSS), mib(st.Peak), mib(st.Anon), mib(st.File),
			mib(int64(ms.HeapInuse)), mib(fi.Size()))
	}
	if peak := readMemStatus(t).Peak; peak > *parkedLimit {
		t.Errorf("peak RSS %s with %d parked executions, limit %s", mib(peak), n, mib(*parkedLimit))
	}

	// A restart: the engine must not load the parked executions, and their
	// tokens must still work.
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	restart := time.Now()
	eng = engine.New(engine.Config{Store: db, Invoker: invoker})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	t.Logf("restart with %d parked: Start took %v, RSS %s", n, time.Since(restart).Round(time.Microsecond), mib(readMemStatus(t).RSS))
	if len(sample) == 0 {
		t.Fatal("no token sampled")
	}
	for _, tok := range sample {
		arn, err := db.TokenOwner(ctx, tok)
		if err != nil {
			t.Fatalf("token of a parked execution: %v", err)
		}
		if err := eng.SendTaskSuccess(ctx, tok, `{"signed":true}`); err != nil {
			t.Fatalf("SendTaskSuccess %s: %v", arn, err)
		}
		x, err := eng.Await(ctx, arn)
		if err != nil || x.Status != engine.StatusSucceeded {
			t.Fatalf("%s after SendTaskSuccess: %v %v", arn, x.Status, err)
		}
	}
	t.Logf("completed %d sampled parked executions after the restart", len(sample))
}
