package sqs

// Queue operations: create, list, attributes, tags, dead-letter redrive.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

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
