// Package sqs serves an SQS-compatible HTTP endpoint speaking the AWS JSON
// 1.0 protocol (X-Amz-Target AmazonSQS.*) of the current aws-sdk-go-v2 sqs
// client, and survives kill -9.
//
// Queues and messages live in memory. Every change is an event (queue
// created, message sent, received, made visible, deleted, moved to the
// dead-letter queue, …) appended to a write-ahead log (package
// local/dynamodb/wal) and replayed at start. Sends, deletes and queue changes
// wait for the group-committed fsync before they are acknowledged; receive
// and visibility events are appended without waiting, since losing one only
// makes a message visible earlier with a lower receive count, which SQS's
// at-least-once contract allows. Times in the log are absolute, so a message
// in flight at a crash becomes visible when its timeout passes, not at
// restart.
//
// Measured on 2 shared cores: the server alone spends about 40 µs of CPU
// per SendMessage, log and fdatasync included (BenchmarkHandlerSendMessage);
// through the SDK with 32 clients a send costs 185–226 µs of process CPU
// against 167–205 µs for the SDK-only floor in the same run. The api
// function's burst path, a conditional PutItem plus a SendMessage
// (BenchmarkSubmission), costs 415–570 µs of CPU against 310–400 µs for the
// floor; its throughput (240–1,880/s measured, floor 740–2,230/s in the same
// runs, once 1,193/s against a floor of 1,061/s) was set by the background
// load, the servers' share of the CPU being about 100 µs per submission.
//
// goaws (the design's other suggestion) keeps its queues in package-level
// variables, so two servers cannot live in one process (tests, the stack)
// and a log could not be replayed into a fresh instance; the SQS model is
// small enough to own.
//
// Supported: CreateQueue, GetQueueUrl, ListQueues, GetQueueAttributes,
// SetQueueAttributes, DeleteQueue, PurgeQueue, SendMessage(+Batch),
// ReceiveMessage (long polling), DeleteMessage(+Batch),
// ChangeMessageVisibility(+Batch), TagQueue/UntagQueue/ListQueueTags,
// RedrivePolicy with maxReceiveCount, ListDeadLetterSourceQueues,
// StartMessageMoveTask (dead-letter redrive, done at once) with
// ListMessageMoveTasks, FIFO queues (groups, deduplication),
// and the older query protocol (form-encoded Action=…, XML answers) for the
// same operations. Not supported: permissions, KMS.
package sqs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha/local/dynamodb/wal"
)

// Account is the account id in queue URLs and ARNs.
const Account = "000000000000"

// targetPrefix is the X-Amz-Target prefix of every SQS operation.
const targetPrefix = "AmazonSQS."

// maxBody bounds a request body (ten 1 MiB messages plus attributes).
const maxBody = 16 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Logger receives replay messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock for visibility, delays and timestamps; nil means
	// time.Now. Long polling still waits in real time.
	Now func() time.Time
	// Region appears in queue ARNs; empty means us-east-1.
	Region string
	// BaseURL prefixes queue URLs (e.g. "http://127.0.0.1:4566"); empty
	// means the scheme and Host of each request.
	BaseURL string
	// CompactBytes: a log larger than this is rewritten from the current
	// state, at start and while serving (then the next rewrite waits until
	// the log has doubled). 0 means 64 MiB; negative never compacts.
	CompactBytes int64
}

// Server is a durable SQS-compatible endpoint.
type Server struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	mu     sync.Mutex
	queues map[string]*queue
	seq    uint64        // last message sequence number
	wake   chan struct{} // closed and replaced when messages may have become receivable
	wal    *wal.Log
	closed bool
	tasks  map[string]map[string]any // source ARN → last message move task
	// compactAt is the log size that triggers the next compaction (≤0: never).
	compactAt int64
}

const logFile = "sqs.wal"

// New opens (creating if needed) the data directory dir, replays its log and
// returns a ready Server.
func New(dir string, opts Options) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqs: create data dir: %w", err)
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, queues: map[string]*queue{}, wake: make(chan struct{}), tasks: map[string]map[string]any{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.Region == "" {
		s.opts.Region = "us-east-1"
	}
	l, err := wal.Open(filepath.Join(dir, logFile), s.replay)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	s.wal = l
	if l.Truncated > 0 {
		// Expected after a crash mid-write (an unacknowledged tail); a large
		// figure means damage in the middle of the log and deserves a look.
		s.log.Warn("sqs log had a torn tail", "truncatedBytes", l.Truncated)
	}
	s.log.Info("sqs log replayed", "records", l.Replayed, "truncatedBytes", l.Truncated, "queues", len(s.queues))
	s.compactAt = opts.CompactBytes
	if s.compactAt == 0 {
		s.compactAt = 64 << 20
	}
	if s.compactAt > 0 && l.Size() > s.compactAt {
		s.mu.Lock()
		err := s.compact()
		s.mu.Unlock()
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("sqs: %w", err)
		}
	}
	return s, nil
}

// Handler returns the HTTP handler serving the SQS JSON protocol.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close flushes and closes the log; later requests get ServiceUnavailable.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.wake)
	s.mu.Unlock()
	return s.wal.Close()
}

// record is one logged event; T names it.
type record struct {
	T     string            `json:"t"`
	Q     string            `json:"q,omitempty"`
	Queue *queue            `json:"queue,omitempty"` // cq
	Attrs map[string]string `json:"attrs,omitempty"` // sa, tag
	Keys  []string          `json:"keys,omitempty"`  // untag
	Msg   *message          `json:"m,omitempty"`     // s
	ID    string            `json:"id,omitempty"`
	Vis   int64             `json:"vis,omitempty"`
	RC    int               `json:"rc,omitempty"`
	FR    int64             `json:"fr,omitempty"`
	To    string            `json:"to,omitempty"`  // mv
	Seq   uint64            `json:"seq,omitempty"` // mv
}

// apply changes state by one event; the caller holds s.mu. It is shared by
// live requests and replay, so it must not consult the clock.
func (s *Server) apply(r *record) {
	q := s.queues[r.Q]
	switch r.T {
	case "cq":
		nq := newQueue(r.Queue.Name, r.Queue.Attrs, r.Queue.Created)
		nq.Tags, nq.Modified = r.Queue.Tags, r.Queue.Modified
		s.queues[nq.Name] = nq
		return
	}
	if q == nil {
		return
	}
	switch r.T {
	case "sa":
		for k, v := range r.Attrs {
			if v == "" && k == "RedrivePolicy" {
				delete(q.Attrs, k)
				continue
			}
			q.Attrs[k] = v
		}
		q.Modified = r.Vis
	case "tag":
		if q.Tags == nil {
			q.Tags = map[string]string{}
		}
		for k, v := range r.Attrs {
			q.Tags[k] = v
		}
	case "untag":
		for _, k := range r.Keys {
			delete(q.Tags, k)
		}
	case "dq":
		delete(s.queues, r.Q)
	case "pq":
		for _, m := range slices.Clone(q.order) {
			q.remove(m)
		}
		q.lastPurg = r.Vis
	case "s":
		m := *r.Msg
		s.seq = max(s.seq, m.Seq)
		if m.Dedup != "" {
			q.dedup[m.Dedup] = dedupEntry{id: m.ID, seq: m.Seq, when: m.Sent}
		}
		q.add(&m)
	case "r":
		if m := q.msgs[r.ID]; m != nil {
			m.ReceiveCount, m.FirstReceive = r.RC, r.FR
			q.setVisible(m, r.Vis)
		}
	case "v":
		if m := q.msgs[r.ID]; m != nil {
			q.setVisible(m, r.Vis)
		}
	case "d":
		if m := q.msgs[r.ID]; m != nil {
			q.remove(m)
		}
	case "mv":
		m := q.msgs[r.ID]
		dlq := s.queues[r.To]
		if m == nil || dlq == nil {
			return
		}
		q.remove(m)
		moved := *m
		moved.deleted, moved.ReceiveCount, moved.FirstReceive = false, 0, 0
		moved.VisibleAt, moved.Seq, moved.Src = r.Vis, r.Seq, r.Q
		s.seq = max(s.seq, r.Seq)
		dlq.add(&moved)
	}
}

// commit applies records and appends them to the log; the caller holds s.mu
// and waits on the returned sequence number (after unlocking) when the
// change must be durable before it is acknowledged.
func (s *Server) commit(recs ...*record) (uint64, error) {
	var last uint64
	wake := false
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return 0, fmt.Errorf("encode %s record: %w", r.T, err)
		}
		seq, err := s.wal.Append(b)
		if err != nil {
			return 0, err
		}
		s.apply(r)
		last = seq
		// Only events that can make a message receivable wake long polls;
		// receives and deletes would only cause a thundering herd.
		// (A deleted queue wakes them too, to answer QueueDoesNotExist.)
		wake = wake || r.T == "s" || r.T == "v" || r.T == "mv" || r.T == "sa" || r.T == "dq"
	}
	if wake {
		close(s.wake)
		s.wake = make(chan struct{})
	}
	if s.compactAt > 0 && s.wal.Size() > s.compactAt {
		// Rewrite waits for every appended record, so last is durable too.
		if err := s.compact(); err != nil {
			return 0, err
		}
	}
	return last, nil
}

func (s *Server) replay(b []byte) error {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	if r.T == "cq" && r.Queue == nil || r.T == "s" && r.Msg == nil {
		return fmt.Errorf("record %q without its payload", r.T)
	}
	s.apply(&r)
	return nil
}

// compact rewrites the log as the current queues and live messages and
// sets the next trigger at twice the new size; the caller holds s.mu.
func (s *Server) compact() error {
	before := s.wal.Size()
	err := s.wal.Rewrite(func(emit func([]byte) error) error {
		names := make([]string, 0, len(s.queues))
		for n := range s.queues {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			q := s.queues[n]
			recs := []*record{{T: "cq", Queue: q}}
			for _, m := range q.order {
				if !m.deleted {
					recs = append(recs, &record{T: "s", Q: n, Msg: m})
				}
			}
			for _, r := range recs {
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				if err := emit(b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.compactAt = max(s.compactAt, 2*s.wal.Size())
	s.log.Info("sqs log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	return nil
}

// apiErr is an error in the SQS JSON protocol's shape.
type apiErr struct {
	status int
	code   string // __type short name
	query  string // the query-protocol code (x-amzn-query-error)
	msg    string
}

func (e *apiErr) Error() string { return e.code + ": " + e.msg }

func errf(code string, format string, args ...any) *apiErr {
	q := code
	switch code {
	case "QueueDoesNotExist":
		q = "AWS.SimpleQueueService.NonExistentQueue"
	case "MessageNotInflight":
		q = "AWS.SimpleQueueService.MessageNotInflight"
	case "TooManyEntriesInBatchRequest", "EmptyBatchRequest", "BatchEntryIdsNotDistinct", "BatchRequestTooLong", "InvalidBatchEntryId", "PurgeQueueInProgress", "UnsupportedOperation":
		q = "AWS.SimpleQueueService." + code
	case "QueueNameExists":
		q = "QueueAlreadyExists"
	}
	return &apiErr{status: http.StatusBadRequest, code: code, query: q, msg: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiErr) {
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", e.query+";Sender")
	w.WriteHeader(e.status)
	w.Write(b)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The SDK shows this id in its errors; it makes local logs traceable.
	w.Header().Set("X-Amzn-RequestId", newID())
	if isQuery(r) {
		s.serveQuery(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, &apiErr{status: http.StatusMethodNotAllowed, code: "UnsupportedOperation", query: "AWS.SimpleQueueService.UnsupportedOperation", msg: "only POST with the JSON protocol is supported"})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok {
		writeError(w, errf("UnsupportedOperation", "missing or unknown X-Amz-Target %q; only the JSON protocol is supported", r.Header.Get("X-Amz-Target")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, errf("InvalidParameterValue", "request body unreadable or larger than %d bytes", maxBody))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	base := s.opts.BaseURL
	if base == "" {
		base = "http://" + r.Host
	}
	c := &call{s: s, ctx: r.Context(), base: strings.TrimSuffix(base, "/"), body: body}
	out, aerr := c.dispatch(op)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiErr{status: http.StatusInternalServerError, code: "InternalError", query: "InternalError", msg: "encode response"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// call is one request being served.
type call struct {
	s    *Server
	ctx  context.Context
	base string
	body []byte
}

func (c *call) decode(v any) *apiErr {
	if err := json.Unmarshal(c.body, v); err != nil {
		return &apiErr{status: http.StatusBadRequest, code: "InvalidParameterValue", query: "InvalidParameterValue", msg: "malformed request: " + err.Error()}
	}
	return nil
}

func (c *call) url(name string) string { return c.base + "/" + Account + "/" + name }

func (c *call) arn(name string) string {
	return "arn:aws:sqs:" + c.s.opts.Region + ":" + Account + ":" + name
}

// queueName extracts the queue name from a QueueUrl (or accepts a bare name).
func queueName(u string) string {
	u = strings.TrimSuffix(u, "/")
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}

// lookup finds a queue; the caller holds s.mu.
func (s *Server) lookup(url string) (*queue, *apiErr) {
	if s.closed {
		return nil, &apiErr{status: http.StatusServiceUnavailable, code: "ServiceUnavailable", query: "ServiceUnavailable", msg: "the server is shutting down"}
	}
	if url == "" {
		return nil, errf("InvalidAddress", "QueueUrl is required")
	}
	q := s.queues[queueName(url)]
	if q == nil {
		return nil, errf("QueueDoesNotExist", "The specified queue does not exist.")
	}
	return q, nil
}

// durable waits for a log sequence number after the lock is released.
func (s *Server) durable(seq uint64, err error) *apiErr {
	if err == nil && seq > 0 {
		err = s.wal.Wait(seq)
	}
	if err != nil {
		s.log.Error("sqs log write failed", "err", err)
		return &apiErr{status: http.StatusInternalServerError, code: "InternalError", query: "InternalError", msg: "the change could not be made durable"}
	}
	return nil
}

func (c *call) dispatch(op string) (any, *apiErr) {
	switch op {
	case "CreateQueue":
		return c.createQueue()
	case "GetQueueUrl":
		var in struct{ QueueName string }
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		c.s.mu.Lock()
		_, err := c.s.lookup(in.QueueName)
		c.s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return map[string]string{"QueueUrl": c.url(in.QueueName)}, nil
	case "ListQueues":
		return c.listQueues()
	case "GetQueueAttributes":
		return c.getAttributes()
	case "SetQueueAttributes":
		return c.setAttributes()
	case "DeleteQueue", "PurgeQueue":
		var in struct{ QueueUrl string }
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		c.s.mu.Lock()
		q, err := c.s.lookup(in.QueueUrl)
		if err != nil {
			c.s.mu.Unlock()
			return nil, err
		}
		rec := &record{T: "dq", Q: q.Name}
		if op == "PurgeQueue" {
			rec = &record{T: "pq", Q: q.Name, Vis: millis(c.s.now())}
		}
		seq, werr := c.s.commit(rec)
		c.s.mu.Unlock()
		return map[string]any{}, c.s.durable(seq, werr)
	case "TagQueue", "UntagQueue", "ListQueueTags":
		return c.tags(op)
	case "ListDeadLetterSourceQueues":
		return c.deadLetterSources()
	case "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask":
		return c.moveTask(op)
	case "SendMessage":
		var in sendEntry
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		res, err := c.send(in.QueueUrl, []sendEntry{in}, false)
		if err != nil {
			return nil, err
		}
		if len(res.Failed) > 0 {
			return nil, errf(res.Failed[0].Code, "%s", res.Failed[0].Message)
		}
		r := res.Successful[0]
		out := map[string]any{"MessageId": r.MessageId, "MD5OfMessageBody": r.MD5OfMessageBody}
		if r.MD5OfMessageAttributes != "" {
			out["MD5OfMessageAttributes"] = r.MD5OfMessageAttributes
		}
		if r.SequenceNumber != "" {
			out["SequenceNumber"] = r.SequenceNumber
		}
		return out, nil
	case "SendMessageBatch":
		var in struct {
			QueueUrl string
			Entries  []sendEntry
		}
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		return c.send(in.QueueUrl, in.Entries, true)
	case "ReceiveMessage":
		return c.receive()
	case "DeleteMessage", "ChangeMessageVisibility":
		var in struct {
			QueueUrl          string
			ReceiptHandle     string
			VisibilityTimeout *int
		}
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		res, err := c.handles(op, in.QueueUrl, []handleEntry{{ReceiptHandle: in.ReceiptHandle, VisibilityTimeout: in.VisibilityTimeout}})
		if err != nil {
			return nil, err
		}
		if len(res.Failed) > 0 {
			return nil, errf(res.Failed[0].Code, "%s", res.Failed[0].Message)
		}
		return map[string]any{}, nil
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var in struct {
			QueueUrl string
			Entries  []handleEntry
		}
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		return c.handles(strings.TrimSuffix(op, "Batch"), in.QueueUrl, in.Entries)
	}
	return nil, errf("UnsupportedOperation", "operation %s is not supported by the local endpoint", op)
}

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// queueAttr validates one settable queue attribute.
func queueAttr(name, v string) *apiErr {
	intIn := func(lo, hi int) *apiErr {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return errf("InvalidAttributeValue", "Invalid value for the parameter %s: %q (want %d..%d)", name, v, lo, hi)
		}
		return nil
	}
	switch name {
	case "VisibilityTimeout":
		return intIn(0, 43200)
	case "DelaySeconds":
		return intIn(0, 900)
	case "MessageRetentionPeriod":
		return intIn(60, 1209600)
	case "MaximumMessageSize":
		return intIn(1024, 1048576)
	case "ReceiveMessageWaitTimeSeconds":
		return intIn(0, 20)
	case "RedrivePolicy":
		if v == "" {
			return nil
		}
		if _, _, err := redrive(v); err != nil {
			return errf("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy: %v", err)
		}
		return nil
	case "FifoQueue", "ContentBasedDeduplication":
		if v != "true" && v != "false" {
			return errf("InvalidAttributeValue", "Invalid value for the parameter %s: %q", name, v)
		}
		return nil
	case "Policy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "DeduplicationScope", "FifoThroughputLimit":
		return nil
	}
	return errf("InvalidAttributeName", "Unknown Attribute %s.", name)
}

// redrive parses a RedrivePolicy into the DLQ name and maxReceiveCount.
func redrive(v string) (string, int, error) {
	var p struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
	if err != nil || n < 1 || n > 1000 {
		return "", 0, errors.New("maxReceiveCount must be 1..1000")
	}
	i := strings.LastIndexByte(p.DeadLetterTargetArn, ':')
	if i < 0 || i == len(p.DeadLetterTargetArn)-1 {
		return "", 0, errors.New("deadLetterTargetArn is not a queue ARN")
	}
	return p.DeadLetterTargetArn[i+1:], n, nil
}

var defaultAttrs = map[string]string{
	"VisibilityTimeout":             "30",
	"DelaySeconds":                  "0",
	"MessageRetentionPeriod":        "345600",
	"MaximumMessageSize":            "262144",
	"ReceiveMessageWaitTimeSeconds": "0",
}

func (c *call) createQueue() (any, *apiErr) {
	var in struct {
		QueueName  string
		Attributes map[string]string
		Tags       map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	fifo := strings.HasSuffix(in.QueueName, ".fifo")
	if !queueNameRE.MatchString(strings.TrimSuffix(in.QueueName, ".fifo")) || len(in.QueueName) > 80 {
		return nil, errf("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	attrs := map[string]string{}
	for k, v := range defaultAttrs {
		attrs[k] = v
	}
	for k, v := range in.Attributes {
		if err := queueAttr(k, v); err != nil {
			return nil, err
		}
		attrs[k] = v
	}
	if (attrs["FifoQueue"] == "true") != fifo {
		return nil, errf("InvalidParameterValue", "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix; FifoQueue must be true exactly for such names")
	}
	if !fifo {
		delete(attrs, "FifoQueue")
	}
	c.s.mu.Lock()
	if c.s.closed {
		c.s.mu.Unlock()
		return nil, &apiErr{status: http.StatusServiceUnavailable, code: "ServiceUnavailable", query: "ServiceUnavailable", msg: "the server is shutting down"}
	}
	if q := c.s.queues[in.QueueName]; q != nil {
		same := true
		for k, v := range in.Attributes {
			if q.Attrs[k] != v {
				same = false
			}
		}
		c.s.mu.Unlock()
		if !same {
			return nil, errf("QueueNameExists", "A queue already exists with the same name and a different value for attribute(s)")
		}
		return map[string]string{"QueueUrl": c.url(in.QueueName)}, nil
	}
	now := millis(c.s.now())
	seq, err := c.s.commit(&record{T: "cq", Queue: &queue{Name: in.QueueName, Attrs: attrs, Tags: in.Tags, Created: now, Modified: now}})
	c.s.mu.Unlock()
	if err := c.s.durable(seq, err); err != nil {
		return nil, err
	}
	return map[string]string{"QueueUrl": c.url(in.QueueName)}, nil
}

func (c *call) listQueues() (any, *apiErr) {
	var in struct {
		QueueNamePrefix string
		MaxResults      int
		NextToken       string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return nil, errf("InvalidParameterValue", "MaxResults must be 1..1000")
	}
	c.s.mu.Lock()
	var names []string
	for n := range c.s.queues {
		if strings.HasPrefix(n, in.QueueNamePrefix) && n > in.NextToken {
			names = append(names, n)
		}
	}
	c.s.mu.Unlock()
	sort.Strings(names)
	out := map[string]any{}
	if in.MaxResults > 0 && len(names) > in.MaxResults {
		names = names[:in.MaxResults]
		out["NextToken"] = names[len(names)-1]
	} else if in.MaxResults == 0 && len(names) > 1000 {
		names = names[:1000]
	}
	urls := make([]string, len(names))
	for i, n := range names {
		urls[i] = c.url(n)
	}
	out["QueueUrls"] = urls
	return out, nil
}

func (c *call) getAttributes() (any, *apiErr) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	q, err := c.s.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	vis, inflight, delayed := q.counts(millis(c.s.now()))
	all := map[string]string{
		"QueueArn":                              c.arn(q.Name),
		"CreatedTimestamp":                      strconv.FormatInt(q.Created/1000, 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.Modified/1000, 10),
		"ApproximateNumberOfMessages":           strconv.Itoa(vis),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
	}
	for k, v := range q.Attrs {
		all[k] = v
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		} else if err := queueAttr(n, ""); err != nil && err.code == "InvalidAttributeName" {
			return nil, err
		}
	}
	return map[string]any{"Attributes": out}, nil
}

func (c *call) setAttributes() (any, *apiErr) {
	var in struct {
		QueueUrl   string
		Attributes map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for k, v := range in.Attributes {
		if k == "FifoQueue" {
			return nil, errf("InvalidAttributeName", "FifoQueue cannot be changed")
		}
		if err := queueAttr(k, v); err != nil {
			return nil, err
		}
	}
	c.s.mu.Lock()
	q, err := c.s.lookup(in.QueueUrl)
	if err != nil {
		c.s.mu.Unlock()
		return nil, err
	}
	seq, werr := c.s.commit(&record{T: "sa", Q: q.Name, Attrs: in.Attributes, Vis: millis(c.s.now())})
	c.s.mu.Unlock()
	return map[string]any{}, c.s.durable(seq, werr)
}

func (c *call) tags(op string) (any, *apiErr) {
	var in struct {
		QueueUrl string
		Tags     map[string]string
		TagKeys  []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	q, err := c.s.lookup(in.QueueUrl)
	if err != nil {
		c.s.mu.Unlock()
		return nil, err
	}
	if op == "ListQueueTags" {
		tags := map[string]string{}
		for k, v := range q.Tags {
			tags[k] = v
		}
		c.s.mu.Unlock()
		return map[string]any{"Tags": tags}, nil
	}
	rec := &record{T: "tag", Q: q.Name, Attrs: in.Tags}
	if op == "UntagQueue" {
		rec = &record{T: "untag", Q: q.Name, Keys: in.TagKeys}
	}
	seq, werr := c.s.commit(rec)
	c.s.mu.Unlock()
	return map[string]any{}, c.s.durable(seq, werr)
}

// sendEntry is SendMessage's input and one SendMessageBatch entry.
type sendEntry struct {
	QueueUrl                string
	Id                      string
	MessageBody             *string
	DelaySeconds            *int
	MessageAttributes       map[string]msgAttr
	MessageSystemAttributes map[string]msgAttr
	MessageGroupId          string
	MessageDeduplicationId  string
}

type sendResult struct {
	Id                     string `json:"Id"`
	MessageId              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
	SequenceNumber         string `json:"SequenceNumber,omitempty"`
}

type batchFailure struct {
	Id          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
	SenderFault bool   `json:"SenderFault"`
}

type sendBatchResult struct {
	Successful []sendResult   `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatch validates batch entry ids.
func checkBatch(ids []string) *apiErr {
	if len(ids) == 0 {
		return errf("EmptyBatchRequest", "There should be at least one entry in the request.")
	}
	if len(ids) > 10 {
		return errf("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return errf("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return errf("BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

// validBody reports whether body has only the characters SQS allows.
func validBody(body string) bool {
	for _, r := range body {
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)) {
			return false
		}
	}
	return true
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (c *call) send(url string, entries []sendEntry, batch bool) (*sendBatchResult, *apiErr) {
	if batch {
		ids := make([]string, len(entries))
		total := 0
		for i, e := range entries {
			ids[i] = e.Id
			if e.MessageBody != nil {
				total += len(*e.MessageBody)
			}
		}
		if err := checkBatch(ids); err != nil {
			return nil, err
		}
		if total > 1<<20 {
			return nil, errf("BatchRequestTooLong", "Batch requests cannot be longer than 1048576 bytes.")
		}
	}
	c.s.mu.Lock()
	q, err := c.s.lookup(url)
	if err != nil {
		c.s.mu.Unlock()
		return nil, err
	}
	now := millis(c.s.now())
	maxSize, _ := strconv.Atoi(q.Attrs["MaximumMessageSize"])
	qDelay, _ := strconv.Atoi(q.Attrs["DelaySeconds"])
	res := &sendBatchResult{Successful: []sendResult{}, Failed: []batchFailure{}}
	var recs []*record
	for _, e := range entries {
		fail := func(code, msg string) {
			res.Failed = append(res.Failed, batchFailure{Id: e.Id, Code: code, Message: msg, SenderFault: true})
		}
		if e.MessageBody == nil || *e.MessageBody == "" {
			fail("MissingParameter", "The request must contain the parameter MessageBody.")
			continue
		}
		body := *e.MessageBody
		size := len(body)
		for n, a := range e.MessageAttributes {
			size += len(n) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
		if size > maxSize {
			fail("InvalidParameterValue", fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxSize))
			continue
		}
		if !validBody(body) {
			fail("InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
			continue
		}
		if msg := checkAttrs(e.MessageAttributes); msg != "" {
			fail("InvalidParameterValue", msg)
			continue
		}
		delay := qDelay
		if e.DelaySeconds != nil {
			delay = *e.DelaySeconds
			if delay < 0 || delay > 900 {
				fail("InvalidParameterValue", "Value for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
				continue
			}
		}
		m := &message{ID: newID(), Body: body, Attrs: e.MessageAttributes, SysAttrs: e.MessageSystemAttributes, Sent: now, VisibleAt: now + int64(delay)*1000}
		if q.fifo() {
			if e.DelaySeconds != nil && *e.DelaySeconds != 0 {
				fail("InvalidParameterValue", "Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")
				continue
			}
			m.VisibleAt = now
			if e.MessageGroupId == "" {
				fail("MissingParameter", "The request must contain the parameter MessageGroupId.")
				continue
			}
			m.Group, m.Dedup = e.MessageGroupId, e.MessageDeduplicationId
			if m.Dedup == "" {
				if q.Attrs["ContentBasedDeduplication"] != "true" {
					fail("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
					continue
				}
				sum := sha256.Sum256([]byte(body))
				m.Dedup = hex.EncodeToString(sum[:])
			}
			if d, ok := q.dedup[m.Dedup]; ok && now-d.when < 5*60*1000 {
				// A duplicate within five minutes is accepted but not stored.
				res.Successful = append(res.Successful, sendResult{Id: e.Id, MessageId: d.id, MD5OfMessageBody: md5Hex([]byte(body)),
					MD5OfMessageAttributes: attrsMD5(e.MessageAttributes), SequenceNumber: fmt.Sprintf("%020d", d.seq)})
				continue
			}
		}
		c.s.seq++
		m.Seq = c.s.seq
		if m.Dedup != "" {
			// Later entries of this batch must see the id as taken.
			q.dedup[m.Dedup] = dedupEntry{id: m.ID, seq: m.Seq, when: now}
		}
		recs = append(recs, &record{T: "s", Q: q.Name, Msg: m})
		r := sendResult{Id: e.Id, MessageId: m.ID, MD5OfMessageBody: md5Hex([]byte(body)), MD5OfMessageAttributes: attrsMD5(m.Attrs)}
		if q.fifo() {
			r.SequenceNumber = fmt.Sprintf("%020d", m.Seq)
		}
		res.Successful = append(res.Successful, r)
	}
	seq, werr := c.s.commit(recs...)
	c.s.mu.Unlock()
	if err := c.s.durable(seq, werr); err != nil {
		return nil, err
	}
	return res, nil
}

// checkAttrs validates message attributes and returns a reason, or "".
func checkAttrs(attrs map[string]msgAttr) string {
	if len(attrs) > 10 {
		return "Number of message attributes [" + strconv.Itoa(len(attrs)) + "] exceeds the allowed maximum [10]."
	}
	for n, a := range attrs {
		if n == "" || len(n) > 256 || strings.HasPrefix(strings.ToLower(n), "aws.") || strings.HasPrefix(strings.ToLower(n), "amazon.") {
			return "Message attribute name '" + n + "' is invalid."
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == "" {
				return "Message attribute '" + n + "' must contain a non-empty message attribute value for message attribute type '" + a.DataType + "'."
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return "Can't cast the value of message attribute '" + n + "' to a number."
				}
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return "Message attribute '" + n + "' must contain a non-empty message attribute value for message attribute type 'Binary'."
			}
		default:
			return "The type of message attribute '" + n + "' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
		}
	}
	return ""
}

func receipt(queue, id string, count int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(queue + "\x00" + id + "\x00" + strconv.Itoa(count)))
}

func parseReceipt(h string) (queue, id string, count int, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", 0, false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	return parts[0], parts[1], n, err == nil
}

func (c *call) receive() (any, *apiErr) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > 10 {
			return nil, errf("InvalidParameterValue", "Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	if v := in.VisibilityTimeout; v != nil && (*v < 0 || *v > 43200) {
		return nil, errf("InvalidParameterValue", "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", *v)
	}
	if v := in.WaitTimeSeconds; v != nil && (*v < 0 || *v > 20) {
		return nil, errf("InvalidParameterValue", "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *v)
	}
	sysNames := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	start := time.Now()
	for {
		c.s.mu.Lock()
		q, err := c.s.lookup(in.QueueUrl)
		if err != nil {
			c.s.mu.Unlock()
			return nil, err
		}
		wait := 0
		if in.WaitTimeSeconds != nil {
			wait = *in.WaitTimeSeconds
		} else {
			wait, _ = strconv.Atoi(q.Attrs["ReceiveMessageWaitTimeSeconds"])
		}
		vt, _ := strconv.Atoi(q.Attrs["VisibilityTimeout"])
		if in.VisibilityTimeout != nil {
			vt = *in.VisibilityTimeout
		}
		msgs, werr := c.s.receiveOnce(q, max, vt)
		if werr != nil {
			c.s.mu.Unlock()
			return nil, c.s.durable(0, werr)
		}
		remaining := time.Duration(wait)*time.Second - time.Since(start)
		if len(msgs) > 0 || remaining <= 0 {
			out := make([]map[string]any, len(msgs))
			for i, m := range msgs {
				out[i] = render(q, m, sysNames, in.MessageAttributeNames)
			}
			c.s.mu.Unlock()
			return map[string]any{"Messages": out}, nil
		}
		if next := q.nextVisible(millis(c.s.now())); next > 0 {
			remaining = min(remaining, time.Duration(next-millis(c.s.now()))*time.Millisecond+time.Millisecond)
		}
		wake := c.s.wake
		c.s.mu.Unlock()
		t := time.NewTimer(remaining)
		select {
		case <-wake:
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return map[string]any{"Messages": []any{}}, nil
		}
		t.Stop()
	}
}

// receiveOnce takes up to max receivable messages from q, moving those past
// maxReceiveCount to the dead-letter queue and dropping expired ones; the
// caller holds s.mu.
func (s *Server) receiveOnce(q *queue, max, vt int) ([]*message, error) {
	now := millis(s.now())
	retention, _ := strconv.Atoi(q.Attrs["MessageRetentionPeriod"])
	dlq, maxRC := "", 0
	if p := q.Attrs["RedrivePolicy"]; p != "" {
		dlq, maxRC, _ = redrive(p)
	}
	var got []*message
	var recs []*record
	q.candidates(now, max, func(m *message) bool {
		switch {
		case retention > 0 && now-m.Sent > int64(retention)*1000:
			recs = append(recs, &record{T: "d", Q: q.Name, ID: m.ID})
			return false
		case maxRC > 0 && m.ReceiveCount >= maxRC && s.queues[dlq] != nil:
			s.seq++
			recs = append(recs, &record{T: "mv", Q: q.Name, ID: m.ID, To: dlq, Vis: now, Seq: s.seq})
			return false
		}
		fr := m.FirstReceive
		if fr == 0 {
			fr = now
		}
		recs = append(recs, &record{T: "r", Q: q.Name, ID: m.ID, Vis: now + int64(vt)*1000, RC: m.ReceiveCount + 1, FR: fr})
		got = append(got, m)
		return true
	})
	if _, err := s.commit(recs...); err != nil {
		return nil, err
	}
	return got, nil
}

// render builds one ReceiveMessage entry.
func render(q *queue, m *message, sysNames, attrNames []string) map[string]any {
	out := map[string]any{
		"MessageId":     m.ID,
		"ReceiptHandle": receipt(q.Name, m.ID, m.ReceiveCount),
		"MD5OfBody":     m.md5Body,
		"Body":          m.Body,
	}
	sys := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"SentTimestamp":                    strconv.FormatInt(m.Sent, 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceive, 10),
		"SenderId":                         Account,
	}
	if q.fifo() {
		sys["MessageGroupId"] = m.Group
		sys["MessageDeduplicationId"] = m.Dedup
		sys["SequenceNumber"] = fmt.Sprintf("%020d", m.Seq)
	}
	if a, ok := m.SysAttrs["AWSTraceHeader"]; ok {
		sys["AWSTraceHeader"] = a.StringValue
	}
	attrs := map[string]string{}
	for _, n := range sysNames {
		if n == "All" {
			attrs = sys
			break
		}
		if v, ok := sys[n]; ok {
			attrs[n] = v
		}
	}
	if len(attrs) > 0 {
		out["Attributes"] = attrs
	}
	picked := map[string]msgAttr{}
	for _, n := range attrNames {
		for k, v := range m.Attrs {
			if n == "All" || n == ".*" || n == k || strings.HasSuffix(n, ".*") && strings.HasPrefix(k, strings.TrimSuffix(n, "*")) {
				picked[k] = v
			}
		}
	}
	if len(picked) > 0 {
		out["MessageAttributes"] = picked
		out["MD5OfMessageAttributes"] = attrsMD5(picked)
	}
	return out
}

// handleEntry is one receipt-handle operation (delete or visibility change).
type handleEntry struct {
	Id                string
	ReceiptHandle     string
	VisibilityTimeout *int
}

type handleBatchResult struct {
	Successful []map[string]string `json:"Successful"`
	Failed     []batchFailure      `json:"Failed"`
}

func (c *call) handles(op, url string, entries []handleEntry) (*handleBatchResult, *apiErr) {
	if op == "DeleteMessageBatch" || op == "ChangeMessageVisibilityBatch" {
		op = strings.TrimSuffix(op, "Batch")
	}
	single := len(entries) == 1 && entries[0].Id == ""
	if !single {
		ids := make([]string, len(entries))
		for i, e := range entries {
			ids[i] = e.Id
		}
		if err := checkBatch(ids); err != nil {
			return nil, err
		}
	}
	c.s.mu.Lock()
	q, err := c.s.lookup(url)
	if err != nil {
		c.s.mu.Unlock()
		return nil, err
	}
	now := millis(c.s.now())
	res := &handleBatchResult{Successful: []map[string]string{}, Failed: []batchFailure{}}
	var recs []*record
	for _, e := range entries {
		fail := func(code, msg string) {
			res.Failed = append(res.Failed, batchFailure{Id: e.Id, Code: code, Message: msg, SenderFault: true})
		}
		qn, id, count, ok := parseReceipt(e.ReceiptHandle)
		if !ok || qn != q.Name {
			fail("ReceiptHandleIsInvalid", fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", e.ReceiptHandle))
			continue
		}
		m := q.msgs[id]
		if op == "DeleteMessage" {
			if m != nil {
				recs = append(recs, &record{T: "d", Q: q.Name, ID: id})
			}
			res.Successful = append(res.Successful, map[string]string{"Id": e.Id})
			continue
		}
		if e.VisibilityTimeout == nil || *e.VisibilityTimeout < 0 || *e.VisibilityTimeout > 43200 {
			fail("InvalidParameterValue", "VisibilityTimeout must be between 0 and 43200")
			continue
		}
		if m == nil || m.ReceiveCount != count || m.VisibleAt <= now {
			fail("MessageNotInflight", "Message does not exist or is not available for visibility timeout change.")
			continue
		}
		recs = append(recs, &record{T: "v", Q: q.Name, ID: id, Vis: now + int64(*e.VisibilityTimeout)*1000})
		res.Successful = append(res.Successful, map[string]string{"Id": e.Id})
	}
	seq, werr := c.s.commit(recs...)
	c.s.mu.Unlock()
	if op == "DeleteMessage" {
		// Deletes are acknowledged durable: a deleted message must not come
		// back after a crash. Visibility changes need not wait.
		if err := c.s.durable(seq, werr); err != nil {
			return nil, err
		}
	} else if werr != nil {
		return nil, c.s.durable(0, werr)
	}
	return res, nil
}

// deadLetterSources lists the queues whose RedrivePolicy targets a queue.
func (c *call) deadLetterSources() (any, *apiErr) {
	var in struct{ QueueUrl string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	q, err := c.s.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	urls := []string{}
	for name, src := range c.s.queues {
		if p := src.Attrs["RedrivePolicy"]; p != "" {
			if dlq, _, err := redrive(p); err == nil && dlq == q.Name {
				urls = append(urls, c.url(name))
			}
		}
	}
	sort.Strings(urls)
	return map[string]any{"queueUrls": urls}, nil
}

// moveTask implements dead-letter redrive. A move runs to completion within
// the request (local queues are small and fast), so tasks are reported as
// COMPLETED and cannot be cancelled.
func (c *call) moveTask(op string) (any, *apiErr) {
	var in struct {
		SourceArn      string
		DestinationArn string
		TaskHandle     string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	arnName := func(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	switch op {
	case "ListMessageMoveTasks":
		results := []any{}
		if t := c.s.tasks[in.SourceArn]; t != nil {
			results = append(results, t)
		}
		return map[string]any{"Results": results}, nil
	case "CancelMessageMoveTask":
		return nil, errf("ResourceNotFoundException", "message move task %s has already completed", in.TaskHandle)
	}
	src, err := c.s.lookup(arnName(in.SourceArn))
	if err != nil {
		return nil, err
	}
	var dest *queue
	if in.DestinationArn != "" {
		if dest, err = c.s.lookup(arnName(in.DestinationArn)); err != nil {
			return nil, err
		}
	}
	now := millis(c.s.now())
	var recs []*record
	for _, m := range src.order {
		if m.deleted {
			continue
		}
		to := m.Src
		if dest != nil {
			to = dest.Name
		}
		if c.s.queues[to] == nil || to == src.Name {
			continue // no known source queue: stays in the dead-letter queue
		}
		c.s.seq++
		recs = append(recs, &record{T: "mv", Q: src.Name, ID: m.ID, To: to, Vis: now, Seq: c.s.seq})
	}
	seq, werr := c.s.commit(recs...)
	if werr != nil {
		return nil, c.s.durable(0, werr)
	}
	handle := base64.RawURLEncoding.EncodeToString([]byte(in.SourceArn + "\x00" + strconv.FormatInt(now, 10)))
	task := map[string]any{"TaskHandle": handle, "Status": "COMPLETED", "SourceArn": in.SourceArn,
		"ApproximateNumberOfMessagesMoved": len(recs), "ApproximateNumberOfMessagesToMove": len(recs), "StartedTimestamp": now}
	if in.DestinationArn != "" {
		task["DestinationArn"] = in.DestinationArn
	}
	c.s.tasks[in.SourceArn] = task
	// The lock is held until the records are durable: a redrive is rare.
	if err := c.s.durable(seq, nil); err != nil {
		return nil, err
	}
	return map[string]any{"TaskHandle": handle}, nil
}
