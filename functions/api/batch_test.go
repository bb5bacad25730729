package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posluha/posluha/functions/api"
)

// batchClient is a func-field fake of SendMessageBatch.
type batchClient struct {
	SendMessageBatchFunc func(ctx context.Context, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
}

func (c *batchClient) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return c.SendMessageBatchFunc(ctx, in)
}

func TestBatchQueue(t *testing.T) {
	var (
		mu      sync.Mutex
		batches []int
		bodies  = map[string]bool{}
	)
	c := &batchClient{SendMessageBatchFunc: func(_ context.Context, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, len(in.Entries))
		out := &sqs.SendMessageBatchOutput{}
		for _, e := range in.Entries {
			if strings.Contains(*e.MessageBody, "refuse") {
				out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidMessageContents")})
				continue
			}
			bodies[*e.MessageBody] = true
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
		}
		return out, nil
	}}
	q := &api.BatchQueue{Client: c, URL: "q"}
	var wg sync.WaitGroup
	errs := make([]error, 25)
	for i := range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"n":%d}`, i)
			if i == 7 {
				body = `{"refuse":true}`
			}
			errs[i] = q.Send(context.Background(), fmt.Sprint("app-", i), []byte(body))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Errorf("send %d: %v", i, err)
		}
	}
	if len(bodies) != 24 {
		t.Fatalf("%d messages arrived, want 24", len(bodies))
	}
	total := 0
	for _, n := range batches {
		if n > 10 {
			t.Fatalf("batch of %d", n)
		}
		total += n
	}
	if total != 25 || len(batches) >= 25 {
		t.Fatalf("batches %v", batches)
	}

	// The queue refusing the call fails every Send of the batch.
	c.SendMessageBatchFunc = func(context.Context, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return nil, errors.New("sqs down")
	}
	if err := q.Send(context.Background(), "x", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "sqs down") {
		t.Fatalf("Send = %v", err)
	}
}
