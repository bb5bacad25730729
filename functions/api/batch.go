package api

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BatchQueue implements Queue with SendMessageBatch: concurrent Sends
// within Linger of each other share one call of up to ten messages. Each
// Send still returns only once its own message is accepted (or refused),
// so nothing is acknowledged to the citizen before the queue has it. It
// pays off where one process serves many requests (the local stack); a
// Lambda instance serves one request at a time and should use SQSQueue.
type BatchQueue struct {
	Client interface {
		SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	}
	URL    string
	Linger time.Duration // default 2 ms

	mu      sync.Mutex
	pending []*batchEntry
	timer   *time.Timer
}

type batchEntry struct {
	id    string
	body  []byte
	trace string
	done  chan error
}

// Send implements Queue.
func (q *BatchQueue) Send(ctx context.Context, applicationID string, body []byte) error {
	e := &batchEntry{id: applicationID, body: body, trace: TraceHeader(ctx), done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, e)
	switch {
	case len(q.pending) >= 10:
		batch := q.take()
		q.mu.Unlock()
		go q.flush(batch)
	case len(q.pending) == 1:
		linger := q.Linger
		if linger <= 0 {
			linger = 2 * time.Millisecond
		}
		q.timer = time.AfterFunc(linger, func() {
			q.mu.Lock()
			batch := q.take()
			q.mu.Unlock()
			q.flush(batch)
		})
		q.mu.Unlock()
	default:
		q.mu.Unlock()
	}
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
		// The message may still be sent; the client's retry with the
		// same Idempotency-Key makes that harmless.
		return fmt.Errorf("send %s to the queue: %w", applicationID, ctx.Err())
	}
}

// take removes the pending entries; q.mu is held.
func (q *BatchQueue) take() []*batchEntry {
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	b := q.pending
	q.pending = nil
	return b
}

func (q *BatchQueue) flush(batch []*batchEntry) {
	if len(batch) == 0 {
		return
	}
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL)}
	for i, e := range batch {
		en := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(e.body))}
		if e.trace != "" {
			en.MessageSystemAttributes = map[string]sqstypes.MessageSystemAttributeValue{
				"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(e.trace)},
			}
		}
		in.Entries = append(in.Entries, en)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := q.Client.SendMessageBatch(ctx, in)
	if err != nil {
		for _, e := range batch {
			e.done <- fmt.Errorf("send %s to the queue: %w", e.id, err)
		}
		return
	}
	for _, f := range out.Failed {
		i, _ := strconv.Atoi(aws.ToString(f.Id))
		if i >= 0 && i < len(batch) && batch[i] != nil {
			batch[i].done <- fmt.Errorf("send %s to the queue: %s %s", batch[i].id, aws.ToString(f.Code), aws.ToString(f.Message))
			batch[i] = nil
		}
	}
	for _, ok := range out.Successful {
		i, _ := strconv.Atoi(aws.ToString(ok.Id))
		if i >= 0 && i < len(batch) && batch[i] != nil {
			batch[i].done <- nil
			batch[i] = nil
		}
	}
	for _, e := range batch {
		if e != nil { // neither successful nor failed: treat as not sent
			e.done <- fmt.Errorf("send %s to the queue: no answer for the message", e.id)
		}
	}
}
