package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/query/value"
)

// sfnAPI is the part of the Step Functions client the adapter uses.
type sfnAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// StepFunctions implements SFN with aws-sdk-go-v2. Give it a client
// without SDK retries (RetryMaxAttempts 1): the dispatcher's own backoff
// and bucket handle throttling, and the SDK's retry quota would otherwise
// turn a burst into "retry quota exceeded" failures.
type StepFunctions struct{ c sfnAPI }

// NewStepFunctions returns the adapter.
func NewStepFunctions(c sfnAPI) *StepFunctions { return &StepFunctions{c: c} }

// StartExecution implements SFN. ExecutionAlreadyExists is looked into: the
// same input means the execution asked for exists (a redelivered message),
// which is success.
func (s *StepFunctions) StartExecution(ctx context.Context, machineARN, name, input string) error {
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machineARN), Name: aws.String(name), Input: aws.String(input)}
	if t := TraceHeader(ctx); t != "" {
		in.TraceHeader = aws.String(t)
	}
	_, err := s.c.StartExecution(ctx, in)
	if err == nil {
		return nil
	}
	var exists *sfntypes.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		out, derr := s.c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN(machineARN, name))})
		if derr != nil {
			return fmt.Errorf("describe existing execution %s: %w", name, derr)
		}
		if sameJSON(aws.ToString(out.Input), input) {
			return nil
		}
		return fmt.Errorf("start %s: %w", name, ErrExists)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "ThrottlingException" || ae.ErrorCode() == "TooManyRequestsException" || ae.ErrorCode() == "RequestLimitExceeded") {
		return fmt.Errorf("start %s: %w", name, ErrThrottled)
	}
	return fmt.Errorf("start %s: %w", name, err)
}

func executionARN(machineARN, name string) string {
	const sm, ex = ":stateMachine:", ":execution:"
	for i := 0; i+len(sm) <= len(machineARN); i++ {
		if machineARN[i:i+len(sm)] == sm {
			return machineARN[:i] + ex + machineARN[i+len(sm):] + ":" + name
		}
	}
	return machineARN + ":" + name
}

func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	va, err1 := value.Parse([]byte(a))
	vb, err2 := value.Parse([]byte(b))
	return err1 == nil && err2 == nil && value.Equal(va, vb)
}

// SQS is the part of the SQS client the poller and Replay use.
type SQS interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Poller is the local stack's event source mapping: it long-polls the
// queue, hands batches to the handler and deletes what succeeded. Failed
// messages get a visibility timeout that grows with their receive count,
// then the queue's redrive policy moves them to the DLQ.
type Poller struct {
	SQS      SQS
	QueueURL string
	Handler  *Handler
	// Receivers is how many long polls run at once (default 4).
	Receivers int
	// WaitSeconds is the long-poll time (default 10).
	WaitSeconds int32
	// RetryVisibility is the visibility timeout of a failed message's
	// first retry, doubled per receive (default 2 s, at most 5 min).
	RetryVisibility time.Duration
	Log             *slog.Logger
}

// Run polls until ctx ends; it returns nil then.
func (p *Poller) Run(ctx context.Context) error {
	n := max(p.Receivers, 1)
	if p.Receivers == 0 {
		n = 4
	}
	errs := make(chan error, n)
	for range n {
		go func() { errs <- p.loop(ctx) }()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

func (p *Poller) loop(ctx context.Context) error {
	wait := p.WaitSeconds
	if wait == 0 {
		wait = 10
	}
	for ctx.Err() == nil {
		out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(p.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log().WarnContext(ctx, "receive", "err", err)
			if sleep(ctx, time.Second) != nil {
				return nil
			}
			continue
		}
		if len(out.Messages) > 0 {
			p.batch(ctx, out.Messages)
		}
	}
	return nil
}

func (p *Poller) batch(ctx context.Context, msgs []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	receipts := map[string]string{}
	counts := map[string]int{}
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		ev.Records[i] = events.SQSMessage{MessageId: id, ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.QueueURL}
		receipts[id] = aws.ToString(m.ReceiptHandle)
		counts[id], _ = strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	}
	resp, _ := p.Handler.Handle(ctx, ev)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	var vis []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	base := p.RetryVisibility
	if base <= 0 {
		base = 2 * time.Second
	}
	for i, r := range ev.Records {
		e := aws.String(strconv.Itoa(i))
		if !failed[r.MessageId] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: e, ReceiptHandle: aws.String(receipts[r.MessageId])})
			continue
		}
		d := min(base<<min(max(counts[r.MessageId]-1, 0), 10), 5*time.Minute)
		vis = append(vis, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: e, ReceiptHandle: aws.String(receipts[r.MessageId]), VisibilityTimeout: int32(d / time.Second)})
	}
	// Use a context that outlives a cancelled run: what was started must
	// not be delivered again for nothing.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if len(del) > 0 {
		if _, err := p.SQS.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del}); err != nil {
			p.log().WarnContext(ctx, "delete dispatched messages", "err", err) // redelivery is harmless
		}
	}
	if len(vis) > 0 {
		if _, err := p.SQS.ChangeMessageVisibilityBatch(dctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: vis}); err != nil {
			p.log().WarnContext(ctx, "delay failed messages", "err", err)
		}
	}
}

// Replay moves every message of the dead-letter queue back to the queue
// (`posluha queue replay`) and returns how many it moved. A message is
// deleted from the DLQ only after the queue has accepted it, so a crash in
// between duplicates rather than loses (duplicates are harmless).
func Replay(ctx context.Context, c SQS, dlqURL, queueURL string) (int, error) {
	moved := 0
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60,
		})
		if err != nil {
			return moved, fmt.Errorf("receive from the DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		send := make([]sqstypes.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			send[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body}
		}
		sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: send})
		if err != nil {
			return moved, fmt.Errorf("send to the queue: %w", err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for _, ok := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlqURL), Entries: del}); err != nil {
				return moved, fmt.Errorf("delete from the DLQ: %w", err)
			}
		}
		moved += len(del)
		if len(sent.Failed) > 0 {
			return moved, fmt.Errorf("the queue refused %d messages (%s)", len(sent.Failed), aws.ToString(sent.Failed[0].Code))
		}
	}
}

// Wire builds the handler from the environment: STATE_MACHINE_ARN_PREFIX
// (the service id is appended), STARTEXECUTION_RATE (or
// START_EXECUTION_RATE) and
// STARTEXECUTION_BURST (this function's share of the account quota:
// quota / reserved concurrency), the applications table
// (dynamo.TablesFromEnv) to skip cancelled applications and to sweep, and
// APPLICATIONS_QUEUE_URL, when set, whose backlog holds the sweep back.
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	prefix := getenv("STATE_MACHINE_ARN_PREFIX")
	if prefix == "" {
		return nil, fmt.Errorf("STATE_MACHINE_ARN_PREFIX is not set")
	}
	d := Deps{
		SFN:          NewStepFunctions(sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.RetryMaxAttempts = 1 })),
		MachineARN:   func(service string) string { return prefix + service },
		Applications: dynamo.NewApplications(dynamodb.NewFromConfig(cfg), dynamo.TablesFromEnv(getenv).Applications),
		Log:          log,
	}
	var err error
	rate := getenv("STARTEXECUTION_RATE")
	if rate == "" {
		rate = getenv("START_EXECUTION_RATE") // the name template.yaml sets
	}
	if v := rate; v != "" {
		if d.Rate, err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("STARTEXECUTION_RATE: %w", err)
		}
	}
	if v := getenv("STARTEXECUTION_BURST"); v != "" {
		if d.Burst, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("STARTEXECUTION_BURST: %w", err)
		}
	}
	if url := getenv("APPLICATIONS_QUEUE_URL"); url != "" {
		d.Backlog = QueueBacklog(sqs.NewFromConfig(cfg), url)
	}
	return New(d), nil
}

// QueueBacklog counts the messages of the queue at url, visible and in
// flight (SQS's approximate counts).
func QueueBacklog(c interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}, url string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return 0, err
		}
		n := 0
		for _, a := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
			v, err := strconv.Atoi(out.Attributes[string(a)])
			if err != nil {
				return 0, fmt.Errorf("queue attribute %s: %q", a, out.Attributes[string(a)])
			}
			n += v
		}
		return n, nil
	}
}

// WirePoller builds the local stack's poller: the handler from Wire and the
// queue APPLICATIONS_QUEUE_URL, received with cfg's SQS client.
func WirePoller(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Poller, error) {
	url := getenv("APPLICATIONS_QUEUE_URL")
	if url == "" {
		return nil, fmt.Errorf("APPLICATIONS_QUEUE_URL is not set")
	}
	h, err := Wire(ctx, cfg, log, getenv)
	if err != nil {
		return nil, err
	}
	return &Poller{SQS: sqs.NewFromConfig(cfg), QueueURL: url, Handler: h, Log: log}, nil
}
