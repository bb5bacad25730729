// Package sqs serves an SQS-compatible HTTP endpoint speaking the AWS JSON
// 1.0 protocol (X-Amz-Target AmazonSQS.*) of the current aws-sdk-go-v2 sqs
// client, and survives kill -9.
//
// Queues and messages live in memory. Every change is an event (queue
// created, message sent, received, made visible, deleted, moved to the
// dead-letter queue, …) appended to a write-ahead log (package
// local/internal/wal) and replayed at start. Sends, deletes and queue changes
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
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha/local/internal/wal"
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
	compactAt  int64
	compacting bool           // a compactLive is writing the new log
	wg         sync.WaitGroup // compactLive's writer
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
	s.wg.Wait()
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
		s.compactLive()
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

// snapshot returns the log records that rebuild the current state:
// per queue its creation, then its live messages. Queues are encoded
// here; messages change in place (receives, visibility), so each is
// copied, and encoding them can wait until the lock is released. The
// caller holds s.mu.
func (s *Server) snapshot() (queues map[string][]byte, order []string, msgs map[string][]message, err error) {
	queues, msgs = map[string][]byte{}, map[string][]message{}
	for n := range s.queues {
		order = append(order, n)
	}
	sort.Strings(order)
	for _, n := range order {
		q := s.queues[n]
		b, err := json.Marshal(&record{T: "cq", Queue: q})
		if err != nil {
			return nil, nil, nil, err
		}
		queues[n] = b
		live := make([]message, 0, len(q.order))
		for _, m := range q.order {
			if !m.deleted {
				live = append(live, *m)
			}
		}
		msgs[n] = live
	}
	return queues, order, msgs, nil
}

func dumpSnapshot(queues map[string][]byte, order []string, msgs map[string][]message) func(emit func([]byte) error) error {
	return func(emit func([]byte) error) error {
		for _, n := range order {
			if err := emit(queues[n]); err != nil {
				return err
			}
			for i := range msgs[n] {
				b, err := json.Marshal(&record{T: "s", Q: n, Msg: &msgs[n][i]})
				if err != nil {
					return err
				}
				if err := emit(b); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// compact rewrites the log as the current state; the caller holds s.mu.
// It is for start-up, before anyone is served (compactLive is for later).
func (s *Server) compact() error {
	before := s.wal.Size()
	queues, order, msgs, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := s.wal.Rewrite(dumpSnapshot(queues, order, msgs)); err != nil {
		return err
	}
	s.compactAt = max(s.compactAt, 2*s.wal.Size())
	s.log.Info("sqs log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	return nil
}

// compactLive compacts beside the requests: the snapshot is taken under
// s.mu, which the caller holds, and written in the background; requests
// wait only for the final switch to the new file (see wal.BeginRewrite).
func (s *Server) compactLive() {
	if s.compacting {
		return
	}
	fail := func(err error) {
		// The old log is intact and holds every change; try again at
		// twice the size rather than on every change.
		s.log.Error("sqs log compaction failed", "err", err)
		s.compactAt = 2 * s.wal.Size()
	}
	queues, order, msgs, err := s.snapshot()
	if err != nil {
		fail(err)
		return
	}
	rw, err := s.wal.BeginRewrite()
	if err != nil {
		fail(err)
		return
	}
	s.compacting = true
	before := s.wal.Size()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := rw.Finish(dumpSnapshot(queues, order, msgs))
		s.mu.Lock()
		defer s.mu.Unlock()
		s.compacting = false
		if err != nil {
			fail(err)
			return
		}
		s.compactAt = max(s.compactAt, 2*s.wal.Size())
		s.log.Info("sqs log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	}()
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
