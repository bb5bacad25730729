package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posluha/posluha/local/stack"
)

// waitDrained blocks until the submissions queue is empty and the
// service has no running execution (from the console's counters, which
// cost one small read), printing progress every `every`, or until
// timeout. The reconciliation then checks every 202 once, instead of
// asking for hundreds of thousands of unfinished executions round after
// round while the engine still needs the CPU to finish them.
func waitDrained(ctx context.Context, s *stack.Stack, service string, timeout, every time.Duration, out io.Writer) {
	q := sqs.NewFromConfig(s.AWSConfig())
	name := "applications"
	u, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
	if err != nil {
		fmt.Fprintf(out, "drain: queue: %v\n", err)
		return
	}
	start := time.Now()
	var printed time.Time
	for {
		queued := -1
		a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err == nil {
			v, _ := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
			nv, _ := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
			queued = v + nv
		}
		counts, _ := s.Console.Projection.StatusCounts(ctx)
		c := counts[service]
		done := queued == 0 && c["RUNNING"] == 0 && s.Console.Bus.Pending() == 0
		if done || time.Since(printed) >= every {
			fmt.Fprintf(out, "drain %s: queued %d, executions %v\n", time.Since(start).Round(time.Second), queued, c)
			printed = time.Now()
		}
		if done {
			return
		}
		if time.Since(start) > timeout {
			fmt.Fprintln(out, "drain: timed out")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
