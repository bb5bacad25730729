package dynamodb

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// childEnv makes the test binary serve a data directory instead of running
// tests, so that the crash test can kill a real process with SIGKILL.
const childEnv = "POSLUHA_DYNAMODB_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	os.Exit(m.Run())
}

func serveChild(dir string) int {
	s, err := New(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	http.Serve(ln, s.Handler())
	return 0
}

// startChild runs the test binary as a server on dir and returns its URL.
func startChild(tb testing.TB, dir string) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("child did not report its address: %v", err)
	}
	return cmd, "http://" + strings.TrimSpace(line)
}

// fastClient is an SDK client whose transport keeps enough idle connections
// for many concurrent callers.
func fastClient(url string) *ddb.Client {
	return NewClient(url, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxIdleConns: 128}})
}

// TestCrashSIGKILL writes concurrently to a child process, kills it with
// SIGKILL mid-burst, restarts on the same directory and checks that every
// acknowledged write is there.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cmd, url := startChild(t, dir)
	c := fastClient(url)
	createApps(t, c, "apps")

	const writers, killAfter = 16, 400
	var (
		acked   sync.Map
		nAcked  atomic.Int64
		wg      sync.WaitGroup
		killed  = make(chan struct{})
		oneKill sync.Once
	)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("app-%d-%d", w, i)
				_, err := c.PutItem(ctx, &ddb.PutItemInput{
					TableName: aws.String("apps"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
					Item: map[string]types.AttributeValue{"pk": s(id), "sk": s("meta"), "status": s("submitted"), "createdAt": n(i)},
				})
				if err != nil {
					select {
					case <-killed:
						return // expected: the server is gone
					default:
						t.Errorf("PutItem before the kill: %v", err)
						return
					}
				}
				acked.Store(id, true)
				if nAcked.Add(1) == killAfter {
					oneKill.Do(func() {
						close(killed)      // first, so that failures from here on are expected
						cmd.Process.Kill() // SIGKILL
					})
				}
			}
		})
	}
	wg.Wait()
	cmd.Wait()

	srv, err := New(dir, Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c = NewClient(hs.URL, hs.Client())
	present := map[string]bool{}
	p := ddb.NewScanPaginator(c, &ddb.ScanInput{TableName: aws.String("apps")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("Scan after restart: %v", err)
		}
		for _, it := range out.Items {
			present[it["pk"].(*types.AttributeValueMemberS).Value] = true
		}
	}
	lost := 0
	acked.Range(func(k, _ any) bool {
		if !present[k.(string)] {
			lost++
			t.Errorf("acknowledged item %s lost", k)
		}
		return lost < 10
	})
	t.Logf("acknowledged %d, present after restart %d, lost %d", nAcked.Load(), len(present), lost)
	if nAcked.Load() < killAfter {
		t.Errorf("only %d writes acknowledged", nAcked.Load())
	}
}

// BenchmarkConditionalPutItem measures conditional PutItem through the SDK
// over loopback with 32 concurrent clients, fsync included ("server"), next
// to a peer in the same run: the same SDK calls against a handler that
// answers {} at once ("sdkFloor"), the cost no server can go below.
func BenchmarkConditionalPutItem(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		srv, err := New(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		benchPuts(b, srv.Handler(), true)
	})
	b.Run("sdkFloor", func(b *testing.B) {
		benchPuts(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Write([]byte("{}"))
		}), false)
	})
}

func benchPuts(b *testing.B, h http.Handler, create bool) {
	hs := httptest.NewServer(h)
	defer hs.Close()
	c := fastClient(hs.URL)
	if create {
		createApps(b, c, "apps")
	}
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtimeProcs()))
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			id := fmt.Sprint("app-", next.Add(1))
			_, err := c.PutItem(ctx, &ddb.PutItemInput{
				TableName: aws.String("apps"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
				Item: map[string]types.AttributeValue{"pk": s(id), "sk": s("meta"), "status": s("submitted"), "createdAt": n(1),
					"form": s(strings.Repeat("x", 400))},
			})
			if err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the CPU time this process has used, so benchmarks can report
// CPU per operation, which other load on a shared machine disturbs less
// than throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkHandlerPutItem measures the server alone (no SDK, no sockets):
// decode, condition, index update, log append and group-committed fsync.
func BenchmarkHandlerPutItem(b *testing.B) {
	srv, err := New(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	call := func(op, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	call("CreateTable", `{"TableName":"apps","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)
	form := strings.Repeat("x", 400)
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtimeProcs()))
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"TableName":"apps","ConditionExpression":"attribute_not_exists(pk)","Item":{"pk":{"S":"app-%d"},"status":{"S":"submitted"},"createdAt":{"N":"1"},"form":{"S":"%s"}}}`, next.Add(1), form)
			if code := call("PutItem", body); code != http.StatusOK {
				b.Errorf("status %d", code)
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkReplay measures start-up: replaying a log of PutItem records
// (what a compacted log holds), reported per record.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	srv, err := New(dir, Options{CompactBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv.apply("CreateTable", []byte(`{"TableName":"apps","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"status","AttributeType":"S"},{"AttributeName":"n","AttributeType":"N"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
		"GlobalSecondaryIndexes":[{"IndexName":"byStatus","KeySchema":[{"AttributeName":"status","KeyType":"HASH"},{"AttributeName":"n","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]}`))
	const records = 20000
	form := strings.Repeat("x", 400)
	for i := range records {
		srv.apply("PutItem", fmt.Appendf(nil, `{"TableName":"apps","Item":{"pk":{"S":"app-%d"},"status":{"S":"submitted"},"n":{"N":"%d"},"form":{"S":"%s"}}}`, i, i, form))
	}
	srv.Close()
	b.ResetTimer()
	for range b.N {
		srv, err := New(dir, Options{CompactBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*records), "µs/record")
}
