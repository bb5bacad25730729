package sqs

import (
	"bufio"
	"context"
	"encoding/json"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha/local/dynamodb"
)

// childEnv makes the test binary serve a data directory instead of running
// tests, so that the crash test can kill a real process with SIGKILL.
const childEnv = "POSLUHA_SQS_CHILD_DIR"

// bothEnv makes the test binary serve both endpoints, for the submission
// crash test.
const bothEnv = "POSLUHA_SUBMISSION_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	if dir := os.Getenv(bothEnv); dir != "" {
		os.Exit(serveBoth(dir))
	}
	os.Exit(m.Run())
}

// serveBoth serves DynamoDB and SQS on one data directory, printing both
// addresses on one line.
func serveBoth(dir string) int {
	d, err := dynamodb.New(dir, dynamodb.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q, err := New(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dl, err1 := net.Listen("tcp", "127.0.0.1:0")
	ql, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, err1, err2)
		return 1
	}
	fmt.Println(dl.Addr().String(), ql.Addr().String())
	go http.Serve(dl, d.Handler())
	http.Serve(ql, q.Handler())
	return 0
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

func startChild(tb testing.TB, dir string) (*exec.Cmd, string) {
	return startChildEnv(tb, childEnv, dir)
}

func startChildEnv(tb testing.TB, env, dir string) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+dir)
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

// fastHTTP keeps enough idle connections for many concurrent callers.
func fastHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxIdleConns: 128}}
}

// TestCrashSIGKILL sends and deletes concurrently against a child process,
// kills it with SIGKILL mid-burst, restarts on the same directory and checks
// that every acknowledged send is there and no acknowledged delete came back.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cmd, url := startChild(t, dir)
	c := NewClient(url, fastHTTP())
	q := mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "1"})
	q = strings.Replace(q, url, "", 1) // the restarted server has another port

	const senders, killAfter = 16, 400
	var (
		sent, deleted sync.Map
		tried         sync.Map // deletes sent; one unacknowledged at the kill may have happened
		nSent         atomic.Int64
		wg            sync.WaitGroup
		killed        = make(chan struct{})
		oneKill       sync.Once
	)
	dead := func(err error, what string) bool {
		select {
		case <-killed:
			return true
		default:
			t.Errorf("%s before the kill: %v", what, err)
			return true
		}
	}
	for w := range senders {
		wg.Go(func() {
			for i := 0; ; i++ {
				body := fmt.Sprintf("app-%d-%d", w, i)
				if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url + q), MessageBody: aws.String(body)}); err != nil && dead(err, "SendMessage") {
					return
				}
				sent.Store(body, true)
				if nSent.Add(1) == killAfter {
					oneKill.Do(func() { close(killed); cmd.Process.Kill() })
				}
			}
		})
	}
	wg.Go(func() { // a consumer deleting what it receives
		for {
			rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url + q), MaxNumberOfMessages: 10})
			if err != nil && dead(err, "ReceiveMessage") {
				return
			}
			for _, m := range rm.Messages {
				tried.Store(aws.ToString(m.Body), true)
				if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url + q), ReceiptHandle: m.ReceiptHandle}); err != nil && dead(err, "DeleteMessage") {
					return
				}
				deleted.Store(aws.ToString(m.Body), true)
			}
		}
	})
	wg.Wait()
	cmd.Wait()

	srv, err := New(dir, Options{Now: func() time.Time { return time.Now().Add(time.Hour) }}) // past every visibility timeout
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c = NewClient(hs.URL, hs.Client())
	present := map[string]bool{}
	for {
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(hs.URL + q), MaxNumberOfMessages: 10, VisibilityTimeout: 3600})
		if err != nil {
			t.Fatalf("ReceiveMessage after restart: %v", err)
		}
		if len(rm.Messages) == 0 {
			break
		}
		for _, m := range rm.Messages {
			present[aws.ToString(m.Body)] = true
		}
	}
	lost, resurrected, nDeleted := 0, 0, 0
	sent.Range(func(k, _ any) bool {
		_, del := deleted.Load(k)
		switch {
		case del:
			nDeleted++
			if present[k.(string)] {
				resurrected++
				t.Errorf("acknowledged delete of %s came back", k)
			}
		case !present[k.(string)]:
			if _, ok := tried.Load(k); ok {
				return true
			}
			lost++
			t.Errorf("acknowledged message %s lost", k)
		}
		return lost+resurrected < 10
	})
	t.Logf("acknowledged sends %d, deletes %d; after restart %d messages, lost %d, resurrected %d", nSent.Load(), nDeleted, len(present), lost, resurrected)
}

// TestSubmissionCrash is the burst path under kill -9: every submission the
// api function would have answered 202 for (conditional PutItem, then
// SendMessage, both acknowledged) must find its item and its message after
// a restart.
func TestSubmissionCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cmd, addrs := startChildEnv(t, bothEnv, dir)
	ddbURL, sqsURL, _ := strings.Cut(strings.TrimPrefix(addrs, "http://"), " ")
	ddbURL, sqsURL = "http://"+ddbURL, "http://"+sqsURL
	d := ddb.New(ddb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(ddbURL), HTTPClient: fastHTTP(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	q := NewClient(sqsURL, fastHTTP())
	_, err := d.CreateTable(ctx, &ddb.CreateTableInput{
		TableName:            aws.String("applications"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("applicationId"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("applicationId"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	qpath := strings.TrimPrefix(mustCreate(t, q, "submissions", nil), sqsURL)

	const clients, killAfter = 16, 300
	var (
		accepted sync.Map
		n        atomic.Int64
		wg       sync.WaitGroup
		killed   = make(chan struct{})
		once     sync.Once
	)
	for w := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("app-%d-%d", w, i)
				_, err := d.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("applications"), ConditionExpression: aws.String("attribute_not_exists(applicationId)"),
					Item: map[string]ddbtypes.AttributeValue{"applicationId": &ddbtypes.AttributeValueMemberS{Value: id}}})
				if err == nil {
					_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(sqsURL + qpath), MessageBody: aws.String(id)})
				}
				if err != nil {
					select {
					case <-killed:
					default:
						t.Errorf("submission before the kill: %v", err)
					}
					return
				}
				accepted.Store(id, true)
				if n.Add(1) == killAfter {
					once.Do(func() { close(killed); cmd.Process.Kill() })
				}
			}
		})
	}
	wg.Wait()
	cmd.Wait()

	dsrv, err := dynamodb.New(dir, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dsrv.Close()
	ssrv, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ssrv.Close()
	dhs, shs := httptest.NewServer(dsrv.Handler()), httptest.NewServer(ssrv.Handler())
	defer dhs.Close()
	defer shs.Close()
	d = ddb.New(ddb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(dhs.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	q = NewClient(shs.URL, shs.Client())
	items := map[string]bool{}
	p := ddb.NewScanPaginator(d, &ddb.ScanInput{TableName: aws.String("applications")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			items[it["applicationId"].(*ddbtypes.AttributeValueMemberS).Value] = true
		}
	}
	msgs := map[string]bool{}
	for {
		rm, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(shs.URL + qpath), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		if len(rm.Messages) == 0 {
			break
		}
		for _, m := range rm.Messages {
			msgs[aws.ToString(m.Body)] = true
		}
	}
	lost := 0
	accepted.Range(func(k, _ any) bool {
		if !items[k.(string)] || !msgs[k.(string)] {
			lost++
			t.Errorf("accepted submission %s: item %v, message %v", k, items[k.(string)], msgs[k.(string)])
		}
		return lost < 10
	})
	t.Logf("accepted %d before SIGKILL; after restart %d items, %d messages", n.Load(), len(items), len(msgs))
}

// benchClients returns the parallelism giving 32 concurrent clients.
func benchClients() int { return max(1, 32/runtime.GOMAXPROCS(0)) }

// BenchmarkSendMessage measures SendMessage through the SDK over loopback
// with 32 concurrent clients, fsync included ("server"), next to a handler
// that only echoes the body's MD5 ("sdkFloor").
func BenchmarkSendMessage(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		srv, err := New(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		benchSends(b, srv.Handler(), true)
	})
	b.Run("sdkFloor", func(b *testing.B) {
		benchSends(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct{ MessageBody string }
			json.NewDecoder(r.Body).Decode(&in)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			fmt.Fprintf(w, `{"MessageId":"m","MD5OfMessageBody":"%s"}`, md5Hex([]byte(in.MessageBody)))
		}), false)
	})
}

func benchSends(b *testing.B, h http.Handler, create bool) {
	hs := httptest.NewServer(h)
	defer hs.Close()
	c := NewClient(hs.URL, fastHTTP())
	url := hs.URL + "/000000000000/apps"
	if create {
		url = mustCreate(b, c, "apps", nil)
	}
	body := `{"applicationId":"` + strings.Repeat("x", 36) + `","service":"payout"}`
	b.SetParallelism(benchClients())
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkSubmission measures the burst path of the api function: one
// conditional PutItem then one SendMessage per accepted application, 32
// concurrent clients, both endpoints in this process ("durable"), next to
// the same calls against handlers that answer at once without storing
// anything ("sdkFloor").
func BenchmarkSubmission(b *testing.B) {
	b.Run("durable", func(b *testing.B) {
		dsrv, err := dynamodb.New(b.TempDir(), dynamodb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer dsrv.Close()
		ssrv, err := New(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer ssrv.Close()
		benchSubmissions(b, dsrv.Handler(), ssrv.Handler(), true)
	})
	b.Run("sdkFloor", func(b *testing.B) {
		benchSubmissions(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Write([]byte("{}"))
		}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct{ MessageBody string }
			json.NewDecoder(r.Body).Decode(&in)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			fmt.Fprintf(w, `{"MessageId":"m","MD5OfMessageBody":"%s"}`, md5Hex([]byte(in.MessageBody)))
		}), false)
	})
}

func benchSubmissions(b *testing.B, dh, sh http.Handler, create bool) {
	ctx := context.Background()
	dhs := httptest.NewServer(dh)
	defer dhs.Close()
	shs := httptest.NewServer(sh)
	defer shs.Close()
	d := ddb.New(ddb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(dhs.URL), HTTPClient: fastHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	q := NewClient(shs.URL, fastHTTP())
	url := shs.URL + "/000000000000/submissions"
	if create {
		_, err := d.CreateTable(ctx, &ddb.CreateTableInput{
			TableName:            aws.String("applications"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("applicationId"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("applicationId"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
		})
		if err != nil {
			b.Fatal(err)
		}
		url = mustCreate(b, q, "submissions", nil)
	}
	var next atomic.Int64
	b.SetParallelism(benchClients())
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("app-%08d", next.Add(1))
			_, err := d.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("applications"), ConditionExpression: aws.String("attribute_not_exists(applicationId)"),
				Item: map[string]ddbtypes.AttributeValue{
					"applicationId": &ddbtypes.AttributeValueMemberS{Value: id},
					"status":        &ddbtypes.AttributeValueMemberS{Value: "submitted"},
					"form":          &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", 400)},
				}})
			if err != nil {
				b.Error(err)
				continue
			}
			if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"applicationId":"` + id + `"}`)}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "submissions/s")
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

// BenchmarkHandlerSendMessage measures the server alone (no SDK, no
// sockets): decode, validation, MD5s, log append and group-committed fsync.
func BenchmarkHandlerSendMessage(b *testing.B) {
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
	call("CreateQueue", `{"QueueName":"apps"}`)
	var next atomic.Int64
	b.SetParallelism(benchClients())
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"QueueUrl":"http://127.0.0.1/000000000000/apps","MessageBody":"{\"applicationId\":\"app-%08d\"}"}`, next.Add(1))
			if code := call("SendMessage", body); code != http.StatusOK {
				b.Errorf("status %d", code)
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
