package connector

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limits are what a registry can take: a token bucket of PerSecond tokens a
// second saving up to Burst, and at most Concurrency calls in flight.
// Zero values mean no limit.
type Limits struct {
	PerSecond   float64
	Burst       int
	Concurrency int
	// Hold is the longest one call keeps its concurrency slot (the
	// registry's longest connector timeout). A limiter over a shared store
	// leases slots for this long, so a crashed instance frees its slots
	// when the lease runs out; zero means the limiter's default. Templates
	// never set it: Set derives it from their timeouts.
	Hold time.Duration
}

// Limiter admits calls to registries. In a burst the registries, not our
// side, are the bottleneck, so every Lambda instance should share one view
// of a registry's limits; an implementation over a shared store (DynamoDB
// conditional counters) does that, LocalLimiter shares within a process.
type Limiter interface {
	// Acquire waits until registry admits one more call under l and
	// returns the function that ends the call. It fails when ctx ends
	// first or when the wait would outlast ctx's deadline. A
	// *posluha.Error in the returned chain (Registry.Unavailable) carries
	// a message safe to show; Call passes it on.
	Acquire(ctx context.Context, registry string, l Limits) (release func(), err error)
}

// LocalLimiter is the in-process Limiter. The zero value is not ready; use
// NewLocalLimiter.
type LocalLimiter struct {
	// Now and Sleep are the clock, replaceable in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	regs map[string]*registryLimit
}

type registryLimit struct {
	slots  chan struct{} // nil without a concurrency cap
	tokens float64
	last   time.Time
}

var _ Limiter = (*LocalLimiter)(nil)

// NewLocalLimiter returns a limiter on the real clock.
func NewLocalLimiter() *LocalLimiter {
	return &LocalLimiter{Now: time.Now, Sleep: sleep, regs: map[string]*registryLimit{}}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func noop() {}

// Acquire implements Limiter. The concurrency slot is taken first and the
// rate token second, so a call waiting for a slot does not hold a token it
// cannot use yet (that would let the registry see a burst above the rate).
func (l *LocalLimiter) Acquire(ctx context.Context, registry string, lim Limits) (func(), error) {
	if lim.Concurrency <= 0 && lim.PerSecond <= 0 {
		return noop, nil
	}
	r := l.registry(registry, lim)
	release := noop
	if r.slots != nil {
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a %s slot: %w", registry, ctx.Err())
		}
		var once sync.Once
		release = func() { once.Do(func() { <-r.slots }) }
	}
	if lim.PerSecond > 0 {
		if err := l.take(ctx, r, registry, lim); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

func (l *LocalLimiter) registry(name string, lim Limits) *registryLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.regs[name]
	if !ok {
		r = &registryLimit{tokens: float64(max(lim.Burst, 1)), last: l.Now()}
		if lim.Concurrency > 0 {
			r.slots = make(chan struct{}, lim.Concurrency)
		}
		l.regs[name] = r
	}
	return r
}

// take reserves a token; a negative balance is a queue of callers each
// waiting its turn, as golang.org/x/time/rate reserves.
func (l *LocalLimiter) take(ctx context.Context, r *registryLimit, registry string, lim Limits) error {
	burst := float64(max(lim.Burst, 1))
	l.mu.Lock()
	now := l.Now()
	if el := now.Sub(r.last); el > 0 {
		r.tokens = min(burst, r.tokens+el.Seconds()*lim.PerSecond)
		r.last = now
	}
	r.tokens--
	var wait time.Duration
	if r.tokens < 0 {
		wait = time.Duration(-r.tokens / lim.PerSecond * float64(time.Second))
	}
	if dl, ok := ctx.Deadline(); ok && wait > 0 && now.Add(wait).After(dl) {
		r.tokens++ // give the reservation back: this call will not happen
		l.mu.Unlock()
		return fmt.Errorf("%s rate limit: next slot in %s, after the deadline", registry, wait.Round(time.Millisecond))
	}
	l.mu.Unlock()
	if wait == 0 {
		return nil
	}
	if err := l.Sleep(ctx, wait); err != nil {
		l.mu.Lock()
		r.tokens++
		l.mu.Unlock()
		return fmt.Errorf("wait for a %s rate token: %w", registry, err)
	}
	return nil
}
