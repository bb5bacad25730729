package sqs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// MustServe starts a Server on dir behind a loopback listener and returns an
// SDK client for it; both stop at test cleanup.
func MustServe(tb testing.TB, dir string, opts Options) (*Server, *sqs.Client) {
	tb.Helper()
	s, err := New(dir, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s, NewClient(hs.URL, hs.Client())
}

// NewClient returns an SDK client for the endpoint at url.
func NewClient(url string, hc *http.Client) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "eu-central-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	})
}

func mustCreate(tb testing.TB, c *sqs.Client, name string, attrs map[string]string) string {
	tb.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		tb.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func attrs(tb testing.TB, c *sqs.Client, url string) map[string]string {
	tb.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		tb.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func counts(tb testing.TB, c *sqs.Client, url string) [3]string {
	a := attrs(tb, c, url)
	return [3]string{a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"]}
}

func TestQueues(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	for _, n := range []string{"apps", "apps-dlq", "other"} {
		mustCreate(t, c, n, map[string]string{"VisibilityTimeout": "60"})
	}
	// Same attributes: idempotent; different ones: QueueNameExists.
	mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "60"})
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("apps"), Attributes: map[string]string{"VisibilityTimeout": "5"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("CreateQueue with other attributes = %v, want QueueNameExists", err)
	}
	var bad *types.InvalidAttributeName
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("x"), Attributes: map[string]string{"Bogus": "1"}}); !errors.As(err, &bad) {
		t.Errorf("CreateQueue with unknown attribute = %v, want InvalidAttributeName", err)
	}

	u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("apps")})
	if err != nil || !strings.HasSuffix(aws.ToString(u.QueueUrl), "/000000000000/apps") {
		t.Fatalf("GetQueueUrl = %v, %v", u, err)
	}
	var dne *types.QueueDoesNotExist
	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")}); !errors.As(err, &dne) {
		t.Errorf("GetQueueUrl missing = %v, want QueueDoesNotExist", err)
	}

	var names []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("apps"), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListQueues: %v", err)
		}
		for _, u := range out.QueueUrls {
			names = append(names, queueName(u))
		}
	}
	if want := []string{"apps", "apps-dlq"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListQueues = %v, want %v", names, want)
	}

	url := aws.ToString(u.QueueUrl)
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "5"}}); err != nil {
		t.Fatalf("SetQueueAttributes: %v", err)
	}
	a := attrs(t, c, url)
	if a["DelaySeconds"] != "5" || a["VisibilityTimeout"] != "60" || !strings.HasSuffix(a["QueueArn"], ":000000000000:apps") {
		t.Errorf("attributes = %v", a)
	}
	var iv *types.InvalidAttributeValue
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "5000"}}); !errors.As(err, &iv) {
		t.Errorf("SetQueueAttributes out of range = %v, want InvalidAttributeValue", err)
	}

	if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: map[string]string{"team": "payouts"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
	if err != nil || tags.Tags["team"] != "payouts" {
		t.Errorf("ListQueueTags = %v, %v", tags, err)
	}

	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}); !errors.As(err, &dne) {
		t.Errorf("SendMessage to deleted queue = %v, want QueueDoesNotExist", err)
	}
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	_, c := MustServe(t, t.TempDir(), Options{Now: clk.Now})
	url := mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "30"})

	ma := map[string]types.MessageAttributeValue{
		"service": {DataType: aws.String("String"), StringValue: aws.String("payout")},
		"attempt": {DataType: aws.String("Number"), StringValue: aws.String("1")},
		"sig":     {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
	}
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"applicationId":"a1"}`), MessageAttributes: ma})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	// The reference digest for these attributes, as SQS computes it.
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != attrsMD5(map[string]msgAttr{
		"service": {DataType: "String", StringValue: "payout"}, "attempt": {DataType: "Number", StringValue: "1"}, "sig": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
	}) || got == "" {
		t.Errorf("MD5OfMessageAttributes = %q", got)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("later"), DelaySeconds: 10}); err != nil {
		t.Fatal(err)
	}
	entries := []types.SendMessageBatchRequestEntry{}
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(fmt.Sprint("batch ", i))})
	}
	entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("bad"), MessageBody: aws.String("\x00")})
	bo, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil || len(bo.Successful) != 3 || len(bo.Failed) != 1 || aws.ToString(bo.Failed[0].Code) != "InvalidMessageContents" {
		t.Fatalf("SendMessageBatch = %+v, %v", bo, err)
	}
	if got, want := counts(t, c, url), [3]string{"4", "0", "1"}; got != want {
		t.Errorf("counts = %v, want %v", got, want)
	}

	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"}})
	if err != nil || len(rm.Messages) != 4 {
		t.Fatalf("ReceiveMessage = %v, %v; want 4", rm, err)
	}
	first := rm.Messages[0]
	if aws.ToString(first.Body) != `{"applicationId":"a1"}` || first.Attributes["ApproximateReceiveCount"] != "1" || len(first.MessageAttributes) != 3 ||
		aws.ToString(first.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("first message = %+v", first)
	}
	if got, want := counts(t, c, url), [3]string{"0", "4", "1"}; got != want {
		t.Errorf("counts after receive = %v, want %v", got, want)
	}

	// Delete one, delete two in a batch, release the last one.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	db, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: rm.Messages[1].ReceiptHandle},
		{Id: aws.String("b"), ReceiptHandle: rm.Messages[2].ReceiptHandle},
		{Id: aws.String("c"), ReceiptHandle: aws.String("garbage")},
	}})
	if err != nil || len(db.Successful) != 2 || len(db.Failed) != 1 || aws.ToString(db.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessageBatch = %+v, %v", db, err)
	}
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: rm.Messages[3].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	var notInflight *types.MessageNotInflight
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: rm.Messages[3].ReceiptHandle, VisibilityTimeout: 5}); !errors.As(err, &notInflight) {
		t.Errorf("ChangeMessageVisibility of a visible message = %v, want MessageNotInflight", err)
	}
	var invalid *types.ReceiptHandleIsInvalid
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("%%%")}); !errors.As(err, &invalid) {
		t.Errorf("DeleteMessage bad handle = %v, want ReceiptHandleIsInvalid", err)
	}
	clk.Add(11 * time.Second) // the delayed message is due
	rm, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 5,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(rm.Messages) != 2 {
		t.Fatalf("second ReceiveMessage = %v, %v; want 2", rm, err)
	}
	rcs := []string{rm.Messages[0].Attributes["ApproximateReceiveCount"], rm.Messages[1].Attributes["ApproximateReceiveCount"]}
	sort.Strings(rcs)
	if !reflect.DeepEqual(rcs, []string{"1", "2"}) {
		t.Errorf("receive counts = %v", rcs)
	}
	cb, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: rm.Messages[0].ReceiptHandle, VisibilityTimeout: 100},
		{Id: aws.String("y"), ReceiptHandle: rm.Messages[1].ReceiptHandle, VisibilityTimeout: 100},
	}})
	if err != nil || len(cb.Successful) != 2 {
		t.Fatalf("ChangeMessageVisibilityBatch = %+v, %v", cb, err)
	}
	clk.Add(50 * time.Second)
	if got, want := counts(t, c, url), [3]string{"0", "2", "0"}; got != want {
		t.Errorf("counts = %v, want %v", got, want)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(t, c, url), [3]string{"0", "0", "0"}; got != want {
		t.Errorf("counts after purge = %v, want %v", got, want)
	}
}

func TestBatchErrors(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	url := mustCreate(t, c, "apps", nil)
	entry := func(id string) types.SendMessageBatchRequestEntry {
		return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("b")}
	}
	var many []types.SendMessageBatchRequestEntry
	for i := range 11 {
		many = append(many, entry(strconv.Itoa(i)))
	}
	tests := []struct {
		name    string
		entries []types.SendMessageBatchRequestEntry
		check   func(error) bool
	}{
		{"too many", many, func(err error) bool { var e *types.TooManyEntriesInBatchRequest; return errors.As(err, &e) }},
		{"duplicate ids", []types.SendMessageBatchRequestEntry{entry("a"), entry("a")}, func(err error) bool { var e *types.BatchEntryIdsNotDistinct; return errors.As(err, &e) }},
		{"bad id", []types.SendMessageBatchRequestEntry{entry("a b")}, func(err error) bool { var e *types.InvalidBatchEntryId; return errors.As(err, &e) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: tc.entries})
			if !tc.check(err) {
				t.Errorf("SendMessageBatch = %v", err)
			}
		})
	}
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11}); err == nil {
		t.Errorf("ReceiveMessage with MaxNumberOfMessages 11 succeeded")
	}
}

func TestRedrive(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	_, c := MustServe(t, t.TempDir(), Options{Now: clk.Now})
	dlq := mustCreate(t, c, "apps-dlq", nil)
	arn := attrs(t, c, dlq)["QueueArn"]
	url := mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "10",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + arn + `","maxReceiveCount":"2"}`})
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
		if err != nil || len(rm.Messages) != 1 {
			t.Fatalf("receive %d = %v, %v", i, rm, err)
		}
		clk.Add(11 * time.Second)
	}
	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(rm.Messages) != 0 {
		t.Fatalf("third receive = %v, %v; want nothing (moved to DLQ)", rm, err)
	}
	rm, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq)})
	if err != nil || len(rm.Messages) != 1 || aws.ToString(rm.Messages[0].Body) != "poison" {
		t.Fatalf("DLQ receive = %v, %v", rm, err)
	}

	src, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlq)})
	if err != nil || len(src.QueueUrls) != 1 || src.QueueUrls[0] != url {
		t.Errorf("ListDeadLetterSourceQueues = %v, %v", src, err)
	}
	// Support fixed the cause: redrive the dead letters to where they came from.
	task, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn)})
	if err != nil || aws.ToString(task.TaskHandle) == "" {
		t.Fatalf("StartMessageMoveTask = %v, %v", task, err)
	}
	tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arn)})
	if err != nil || len(tasks.Results) != 1 || aws.ToString(tasks.Results[0].Status) != "COMPLETED" || tasks.Results[0].ApproximateNumberOfMessagesMoved != 1 {
		t.Errorf("ListMessageMoveTasks = %+v, %v", tasks, err)
	}
	rm, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(rm.Messages) != 1 || aws.ToString(rm.Messages[0].Body) != "poison" || rm.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("receive after redrive = %v, %v", rm, err)
	}
}

func TestLongPolling(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	url := mustCreate(t, c, "apps", nil)
	done := make(chan *sqs.ReceiveMessageOutput)
	go func() {
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err != nil {
			t.Error(err)
		}
		done <- rm
	}()
	time.Sleep(50 * time.Millisecond) // let the receive start waiting; correctness does not depend on it
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	select {
	case rm := <-done:
		if rm == nil || len(rm.Messages) != 1 {
			t.Errorf("long poll got %v", rm)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("long poll did not return after a send")
	}
}

func TestFIFO(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	url := mustCreate(t, c, "apps.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	var ids []string
	for _, b := range []string{"a1", "a2", "a1"} {
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	if ids[0] != ids[2] {
		t.Errorf("duplicate body got a new id: %v", ids)
	}
	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1})
	if err != nil || len(rm.Messages) != 1 || aws.ToString(rm.Messages[0].Body) != "a1" {
		t.Fatalf("first FIFO receive = %v, %v", rm, err)
	}
	// The group is blocked while a1 is in flight.
	rm2, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(rm2.Messages) != 0 {
		t.Fatalf("receive while group in flight = %v, %v", rm2, err)
	}
	c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: rm.Messages[0].ReceiptHandle})
	rm, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(rm.Messages) != 1 || aws.ToString(rm.Messages[0].Body) != "a2" {
		t.Fatalf("second FIFO receive = %v, %v", rm, err)
	}
}

func TestBadRequests(t *testing.T) {
	srv, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tests := []struct {
		name, method, target, body string
		status                     int
	}{
		{"put", http.MethodPut, "AmazonSQS.ListQueues", "", 405},
		{"query protocol", http.MethodPost, "", "Action=ListQueues", 400},
		{"unknown op", http.MethodPost, "AmazonSQS.AddPermission", "{}", 400},
		{"bad json", http.MethodPost, "AmazonSQS.SendMessage", "{", 400},
		{"missing queue", http.MethodPost, "AmazonSQS.SendMessage", `{"QueueUrl":"http://x/000000000000/q","MessageBody":"b"}`, 400},
		{"wrong type", http.MethodPost, "AmazonSQS.ReceiveMessage", `{"QueueUrl":5}`, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			req.Header.Set("X-Amz-Target", tc.target)
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, req)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"__type":"com.amazonaws.sqs#`) || !strings.Contains(w.Body.String(), `"message"`) {
				t.Errorf("got %d %s, want %d with an AWS JSON error", w.Code, w.Body, tc.status)
			}
		})
	}
}

// TestRestart checks that queues, pending, in-flight and delayed messages
// come back after a crash and after compaction, with their timing.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	for _, compact := range []int64{-1, 1} {
		t.Run(fmt.Sprint("compact=", compact), func(t *testing.T) {
			clk := newClock()
			dir := t.TempDir()
			srv, err := New(dir, Options{Now: clk.Now, CompactBytes: compact})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			c := NewClient(hs.URL, hs.Client())
			url := mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "30"})
			for i := range 5 {
				if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strconv.Itoa(i))}); err != nil {
					t.Fatal(err)
				}
			}
			c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("delayed"), DelaySeconds: 60})
			rm, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 2})
			c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: rm.Messages[0].ReceiptHandle})
			hs.Close()
			srv.wal.Close() // make the un-awaited receive record durable, then "crash"
			srv.closed = true

			for round := range 2 { // the second round replays a compacted log
				var stop func()
				if round == 0 {
					srv, err := New(dir, Options{Now: clk.Now, CompactBytes: compact})
					if err != nil {
						t.Fatal(err)
					}
					hs := httptest.NewServer(srv.Handler())
					c = NewClient(hs.URL, hs.Client())
					stop = func() { hs.Close(); srv.Close() }
				} else {
					_, c = MustServe(t, dir, Options{Now: clk.Now, CompactBytes: compact})
				}
				if got, want := counts(t, c, url), [3]string{"3", "1", "1"}; got != want {
					t.Fatalf("round %d: counts after restart = %v, want %v", round, got, want)
				}
				if stop != nil {
					stop()
				}
			}
			clk.Add(31 * time.Second)
			rm, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
				MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
			if err != nil || len(rm.Messages) != 4 {
				t.Fatalf("receive after timeout = %d messages, %v; want 4", len(rm.Messages), err)
			}
			twice := 0
			for _, m := range rm.Messages {
				if m.Attributes["ApproximateReceiveCount"] == "2" {
					twice++
				}
			}
			if twice != 1 {
				t.Errorf("%d messages received for the second time, want 1", twice)
			}
		})
	}
}

// TestAttributesMD5 checks the attribute digest against values observed
// from AWS (as pinned by other SQS emulators' test suites) and the body
// digest against RFC 1321.
func TestAttributesMD5(t *testing.T) {
	num := func(v string) msgAttr { return msgAttr{DataType: "Number", StringValue: v} }
	tests := []struct {
		name  string
		attrs map[string]msgAttr
		want  string
	}{
		{"one number", map[string]msgAttr{"timestamp": num("1493147359900")}, "235c5c510d26fb653d073faed50ae77c"},
		{"another number", map[string]msgAttr{"timestamp": num("1493147359901")}, "994258b45346a2cc3f9cbb611aa7af30"},
		{"dotted name", map[string]msgAttr{"SOME_Valid.attribute-Name": num("1493147359900")}, "36655e7e9d7c0e8479fa3f3f42247ae7"},
		{"mixed types in name order", map[string]msgAttr{
			"ccc":             {DataType: "String", StringValue: "testjunk"},
			"aaa":             {DataType: "Binary", BinaryValue: []byte{2, 3, 4}},
			"zzz":             num("0230.01"),
			"öther_encodings": {DataType: "String", StringValue: "Tüst"},
		}, "8ae21a7957029ef04146b42aeaa18a22"},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := attrsMD5(tc.attrs); got != tc.want {
				t.Errorf("attrsMD5 = %s, want %s", got, tc.want)
			}
		})
	}
	if got := md5Hex([]byte("derp")); got != "58fd9edd83341c29f1aebba81c31e257" {
		t.Errorf("md5(derp) = %s", got)
	}
}

// TestReceiveZeroVisibility: a receive that leaves messages visible must
// still return each message once. (The SDK omits a zero VisibilityTimeout,
// so the request is sent raw.)
func TestReceiveZeroVisibility(t *testing.T) {
	ctx := context.Background()
	srv, c := MustServe(t, t.TempDir(), Options{})
	url := mustCreate(t, c, "apps", nil)
	for i := range 3 {
		c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strconv.Itoa(i))})
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"QueueUrl":"apps","MaxNumberOfMessages":10,"VisibilityTimeout":0}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	if n := strings.Count(w.Body.String(), `"MessageId"`); w.Code != 200 || n != 3 {
		t.Fatalf("ReceiveMessage = %d with %d messages: %s", w.Code, n, w.Body)
	}
	if got := counts(t, c, url); got[0] != "3" {
		t.Errorf("counts after a zero-timeout receive = %v, want 3 visible", got)
	}
}
