package sqs

import (
	"container/heap"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"time"
)

// msgAttr is one message attribute as on the wire.
type msgAttr struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// message is one stored message. Times are Unix milliseconds so that the log
// (and therefore a restart) keeps them exactly.
type message struct {
	ID           string             `json:"id"`
	Body         string             `json:"body"`
	Attrs        map[string]msgAttr `json:"attrs,omitempty"`
	SysAttrs     map[string]msgAttr `json:"sys,omitempty"`
	Sent         int64              `json:"sent"`
	VisibleAt    int64              `json:"vis"`
	ReceiveCount int                `json:"rc,omitempty"`
	FirstReceive int64              `json:"fr,omitempty"`
	Group        string             `json:"g,omitempty"`
	Dedup        string             `json:"dd,omitempty"`
	Seq          uint64             `json:"seq"`
	Src          string             `json:"src,omitempty"` // queue it was moved from (dead-letter redrive)

	md5Body  string
	md5Attrs string
	index    int  // position in the queue's heap
	deleted  bool // removed, still referenced from order
}

// queue is one SQS queue and its messages.
type queue struct {
	Name     string            `json:"name"`
	Attrs    map[string]string `json:"attrs"`
	Tags     map[string]string `json:"tags,omitempty"`
	Created  int64             `json:"created"`
	Modified int64             `json:"modified"`

	msgs     map[string]*message
	ready    msgHeap    // standard queues: by (VisibleAt, Seq)
	order    []*message // every live message by Seq, for FIFO and counting
	dead     int        // deleted entries still in order
	dedup    map[string]dedupEntry
	lastPurg int64
}

type dedupEntry struct {
	id   string
	seq  uint64
	when int64
}

func newQueue(name string, attrs map[string]string, now int64) *queue {
	return &queue{Name: name, Attrs: attrs, Created: now, Modified: now, msgs: map[string]*message{}, dedup: map[string]dedupEntry{}}
}

func (q *queue) fifo() bool { return q.Attrs["FifoQueue"] == "true" }

func (q *queue) add(m *message) {
	m.md5Body = md5Hex([]byte(m.Body))
	m.md5Attrs = attrsMD5(m.Attrs)
	q.msgs[m.ID] = m
	q.order = append(q.order, m)
	if !q.fifo() {
		heap.Push(&q.ready, m)
	}
}

func (q *queue) remove(m *message) {
	if m.deleted {
		return
	}
	m.deleted = true
	delete(q.msgs, m.ID)
	if !q.fifo() {
		heap.Remove(&q.ready, m.index)
	}
	q.dead++
	if q.dead > 64 && q.dead*2 > len(q.order) {
		live := q.order[:0]
		for _, x := range q.order {
			if !x.deleted {
				live = append(live, x)
			}
		}
		clear(q.order[len(live):])
		q.order, q.dead = live, 0
	}
}

// setVisible moves a message's visibility time and keeps the heap in order.
func (q *queue) setVisible(m *message, at int64) {
	m.VisibleAt = at
	if !q.fifo() {
		heap.Fix(&q.ready, m.index)
	}
}

// counts returns visible, in-flight and delayed message counts at now.
func (q *queue) counts(now int64) (visible, inflight, delayed int) {
	// The order slice is contiguous, several times faster to walk than the
	// map when a burst leaves hundreds of thousands of messages queued.
	for _, m := range q.order {
		if m.deleted {
			continue
		}
		switch {
		case m.VisibleAt <= now:
			visible++
		case m.ReceiveCount > 0:
			inflight++
		default:
			delayed++
		}
	}
	return
}

// candidates walks the receivable messages at now in delivery order,
// calling deliver for each until it has returned true max times; deliver
// returns false for a message it disposes of otherwise (expired, moved to
// the dead-letter queue). FIFO queues deliver by sequence and hold back a
// group while one of its messages is in flight. Each message is seen once,
// even when receiving leaves it visible (VisibilityTimeout 0).
func (q *queue) candidates(now int64, max int, deliver func(*message) bool) {
	n := 0
	if !q.fifo() {
		// Pop visible messages off the heap and put them back afterwards:
		// the caller's records then re-sort or remove them.
		var popped []*message
		for q.ready.Len() > 0 && n < max && q.ready[0].VisibleAt <= now {
			m := heap.Pop(&q.ready).(*message)
			popped = append(popped, m)
			if deliver(m) {
				n++
			}
		}
		for _, m := range popped {
			heap.Push(&q.ready, m)
		}
		return
	}
	blocked := map[string]bool{}
	for _, m := range q.order {
		if m.deleted {
			continue
		}
		if m.VisibleAt > now {
			if m.ReceiveCount > 0 {
				blocked[m.Group] = true
			}
			continue
		}
		if blocked[m.Group] {
			continue
		}
		if deliver(m) {
			n++
			if n == max {
				return
			}
		}
	}
}

// nextVisible is the earliest future time a message becomes receivable, or
// 0 when none is waiting.
func (q *queue) nextVisible(now int64) int64 {
	var next int64
	for _, m := range q.order {
		if !m.deleted && m.VisibleAt > now && (next == 0 || m.VisibleAt < next) {
			next = m.VisibleAt
		}
	}
	return next
}

// msgHeap orders messages by visibility time, then by sequence.
type msgHeap []*message

func (h msgHeap) Len() int { return len(h) }
func (h msgHeap) Less(i, j int) bool {
	if h[i].VisibleAt != h[j].VisibleAt {
		return h[i].VisibleAt < h[j].VisibleAt
	}
	return h[i].Seq < h[j].Seq
}
func (h msgHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *msgHeap) Push(x any) {
	m := x.(*message)
	m.index = len(*h)
	*h = append(*h, m)
}
func (h *msgHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	m.index = -1
	return m
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// attrsMD5 is SQS's digest of message attributes: names in order, each as
// length-prefixed name, length-prefixed data type, a transport byte (1 for
// string values, 2 for binary) and the length-prefixed value. Empty for no
// attributes.
func attrsMD5(attrs map[string]msgAttr) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf []byte
	lp := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	for _, n := range names {
		a := attrs[n]
		lp([]byte(n))
		lp([]byte(a.DataType))
		if a.BinaryValue != nil || isBinary(a.DataType) {
			buf = append(buf, 2)
			lp(a.BinaryValue)
		} else {
			buf = append(buf, 1)
			lp([]byte(a.StringValue))
		}
	}
	return md5Hex(buf)
}

func isBinary(dataType string) bool {
	return dataType == "Binary" || len(dataType) > 7 && dataType[:7] == "Binary."
}

func millis(t time.Time) int64 { return t.UnixMilli() }
