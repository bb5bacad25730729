package sqs

// Message operations: send, receive, delete and visibility changes.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

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
