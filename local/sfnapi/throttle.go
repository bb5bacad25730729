package sfnapi

import (
	"sync"
	"time"
)

// Quota is a token bucket like the ones AWS puts on API actions: Burst
// requests at once, refilled at Rate per second. Step Functions Standard
// in us-east-1 allows StartExecution a burst of 1300 refilled at 300/s.
type Quota struct {
	Rate  float64
	Burst int
}

// bucket enforces a Quota on the server's clock.
type bucket struct {
	q      Quota
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(q Quota) *bucket { return &bucket{q: q, tokens: float64(q.Burst)} }

// take spends one token, reporting false when the bucket is empty.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(float64(b.q.Burst), b.tokens+now.Sub(b.last).Seconds()*b.q.Rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
