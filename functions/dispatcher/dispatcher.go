// Package dispatcher drains the applications queue into Step Functions: for
// each message (the execution input the api function queued) it starts the
// service's state machine with the execution name = applicationId, so a
// message delivered twice starts one execution.
//
// Step Functions throttles StartExecution (Standard: a bucket of 1,300
// refilled at 300/s in the large regions). The dispatcher paces itself with
// a token bucket set to its share of that quota and, on
// ThrottlingException, backs off exponentially with full jitter and pauses
// the whole bucket, so that concurrent workers do not keep hammering. A
// message it cannot start is reported as a batch item failure: SQS makes it
// visible again after the visibility timeout, and after the queue's
// maxReceiveCount the redrive policy moves it to the dead-letter queue.
// Replay brings dead letters back (`posluha queue replay`).
//
// In AWS the function is an SQS event source with ReportBatchItemFailures;
// on the local stack Poller.Run receives from the SQS-compatible endpoint
// and calls the same Handle.
package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha"
)

// SFN is the part of Step Functions the dispatcher uses.
type SFN interface {
	// StartExecution starts the named execution. Errors: ErrThrottled
	// (wrapped) when the quota is exhausted, ErrExists when an execution
	// with that name exists with another input (the same input is not an
	// error: the existing execution is the one asked for).
	StartExecution(ctx context.Context, machineARN, name, input string) error
}

// Sentinel errors of SFN.
var (
	ErrThrottled = errors.New("throttled")
	ErrExists    = errors.New("execution exists with another input")
)

// Message is the part of the queued body the dispatcher reads; the whole
// body is the execution input.
type Message struct {
	ApplicationID string `json:"applicationId"`
	Service       string `json:"service"`
}

// Deps are the dispatcher's collaborators and settings.
type Deps struct {
	SFN SFN
	// MachineARN names the state machine of a service.
	MachineARN func(service string) string
	// Applications, when set, is read to skip applications cancelled
	// before their execution started.
	Applications posluha.Applications
	// Backlog, when set, tells how many messages the queue holds (visible
	// and in flight). Sweep does nothing while it is not zero: during a
	// burst's backlog an application waits in the queue, submitted and
	// old, and the sweep would only start it out of turn under a second
	// input.
	Backlog func(ctx context.Context) (int, error)
	// Rate and Burst pace StartExecution (this instance's share of the
	// account's quota); defaults 300/s and 300.
	Rate  float64
	Burst int
	// Attempts bounds the tries per message within one delivery
	// (default 6); BaseDelay and MaxDelay shape the backoff (defaults
	// 100 ms and 5 s).
	Attempts  int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Workers is how many messages of a batch start concurrently
	// (default 10).
	Workers int
	Now     func() time.Time
	// Sleep waits d or until ctx ends (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random number in [0, 1).
	Jitter func() float64
	Log    *slog.Logger
}

// Handler dispatches SQS batches.
type Handler struct {
	d      Deps
	bucket *Bucket
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.Rate <= 0 {
		d.Rate = 300
	}
	if d.Burst <= 0 {
		d.Burst = int(d.Rate)
	}
	if d.Attempts <= 0 {
		d.Attempts = 6
	}
	if d.BaseDelay <= 0 {
		d.BaseDelay = 100 * time.Millisecond
	}
	if d.MaxDelay <= 0 {
		d.MaxDelay = 5 * time.Second
	}
	if d.Workers <= 0 {
		d.Workers = 10
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleep
	}
	if d.Jitter == nil {
		d.Jitter = rand.Float64
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d, bucket: NewBucket(d.Rate, d.Burst, d.Now, d.Sleep)}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Handle starts an execution per message and reports the messages that
// must come back (throttled past the attempts, Step Functions down, a
// malformed body, another input under the same name).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// Stop backing off a second before the Lambda's deadline, so that the
	// partial batch response still gets out (otherwise the whole batch
	// comes back, harmless but wasteful).
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl.Add(-time.Second))
		defer cancel()
	}
	var (
		mu   sync.Mutex
		resp events.SQSEventResponse
		wg   sync.WaitGroup
		sem  = make(chan struct{}, h.d.Workers)
	)
	for _, rec := range ev.Records {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := h.dispatch(ctx, rec); err != nil {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return resp, nil
}

// dispatch starts one message's execution; nil means the message is done
// (started now, started before, or nothing to start).
func (h *Handler) dispatch(ctx context.Context, rec events.SQSMessage) error {
	var m Message
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.ApplicationID == "" || m.Service == "" {
		// Poison: it comes back until the redrive policy moves it to the DLQ.
		h.d.Log.ErrorContext(ctx, "malformed message", "messageId", rec.MessageId)
		return fmt.Errorf("message %s: not an application", rec.MessageId)
	}
	log := h.d.Log.With("applicationId", m.ApplicationID, "service", m.Service)
	if h.d.Applications != nil {
		a, err := h.d.Applications.Get(ctx, m.ApplicationID)
		switch {
		case err == nil && a.Status == posluha.StatusCancelled:
			log.InfoContext(ctx, "cancelled before start")
			return nil
		case err != nil && posluha.ErrorName(err) != posluha.ErrApplicationNotFound:
			log.WarnContext(ctx, "read application", "err", err) // start anyway
		}
	}
	if t := rec.Attributes["AWSTraceHeader"]; t != "" {
		ctx = context.WithValue(ctx, traceKey{}, t) // the API's trace continues in the execution
	}
	err := h.start(ctx, m.ApplicationID, m.Service, rec.Body)
	if errors.Is(err, ErrExists) {
		log.ErrorContext(ctx, "execution exists with another input")
	}
	return err
}

// start starts the named execution at the bucket's pace, backing off on
// throttling; the queue's messages and the sweeper share it.
func (h *Handler) start(ctx context.Context, id, service, input string) error {
	log := h.d.Log.With("applicationId", id, "service", service)
	machine := h.d.MachineARN(service)
	for attempt := 0; ; attempt++ {
		if err := h.bucket.Wait(ctx); err != nil {
			return err
		}
		err := h.d.SFN.StartExecution(ctx, machine, id, input)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrExists):
			return err
		case errors.Is(err, ErrThrottled):
			if attempt+1 >= h.d.Attempts {
				log.WarnContext(ctx, "still throttled, message returns to the queue", "attempts", attempt+1)
				return err
			}
			d := h.backoff(attempt)
			h.bucket.Pause(d)
			if err := h.d.Sleep(ctx, d); err != nil {
				return err
			}
		default:
			log.ErrorContext(ctx, "start execution", "err", err)
			return err
		}
	}
}

// backoff is exponential with full jitter: uniform in [0, min(max, base·2^n)].
func (h *Handler) backoff(attempt int) time.Duration {
	ceil := h.d.BaseDelay << min(attempt, 20)
	if ceil > h.d.MaxDelay || ceil <= 0 {
		ceil = h.d.MaxDelay
	}
	return time.Duration(h.d.Jitter() * float64(ceil))
}

// Lambda returns the function the bootstrap passes to lambda.Start.
func (h *Handler) Lambda() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return h.Handle
}

// Bucket is a token bucket shared by the workers of one instance.
type Bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	paused time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// NewBucket returns a full bucket.
func NewBucket(rate float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *Bucket {
	return &Bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now, sleep: sleep}
}

// Wait takes a token, waiting for one when the bucket is empty or paused.
func (b *Bucket) Wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := b.now()
		if now.Before(b.paused) {
			d := b.paused.Sub(now)
			b.mu.Unlock()
			if err := b.sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
		// Reserve: the token may be in the future; wait for it outside
		// the lock.
		b.tokens--
		var d time.Duration
		if b.tokens < 0 {
			d = time.Duration(-b.tokens / b.rate * float64(time.Second))
		}
		b.mu.Unlock()
		return b.sleep(ctx, d)
	}
}

// Pause stops handing out tokens for d (the service said slow down).
func (b *Bucket) Pause(d time.Duration) {
	b.mu.Lock()
	if until := b.now().Add(d); until.After(b.paused) {
		b.paused = until
		b.tokens = min(b.tokens, 0)
	}
	b.mu.Unlock()
}

type traceKey struct{}

// TraceHeader is the trace header of the message being dispatched, or "".
func TraceHeader(ctx context.Context) string {
	t, _ := ctx.Value(traceKey{}).(string)
	return t
}
