package api

import (
	"hash/maphash"
	"strconv"
	"sync"
	"time"
)

// Limits are request rates per caller: a token bucket per citizen (by tax
// number) and per partner client (by client id). A Lambda instance keeps
// its own buckets, so the effective limit in AWS is per instance; the
// HttpApi stage throttling and a WAF rate rule bound the total.
type Limits struct {
	CitizenRate  float64 // requests per second; default 5
	CitizenBurst int     // default 20
	PartnerRate  float64 // default 200
	PartnerBurst int     // default 400
	SupportRate  float64 // default 50
	SupportBurst int     // default 100
}

func (l Limits) withDefaults() Limits {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defI := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.CitizenRate, 5)
	defI(&l.CitizenBurst, 20)
	def(&l.PartnerRate, 200)
	defI(&l.PartnerBurst, 400)
	def(&l.SupportRate, 50)
	defI(&l.SupportBurst, 100)
	return l
}

type bucket struct {
	tokens float64
	last   time.Time
}

const shards = 64

type limiter struct {
	l    Limits
	now  func() time.Time
	seed maphash.Seed
	sh   [shards]struct {
		sync.Mutex
		m map[string]*bucket
	}
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	lm := &limiter{l: l.withDefaults(), now: now, seed: maphash.MakeSeed()}
	for i := range lm.sh {
		lm.sh[i].m = map[string]*bucket{}
	}
	return lm
}

// allow takes a token from the caller's bucket; when there is none it
// reports how long until there is.
func (lm *limiter) allow(who Identity) (time.Duration, bool) {
	rate, burst := lm.l.CitizenRate, lm.l.CitizenBurst
	switch who.Role {
	case RolePartner:
		rate, burst = lm.l.PartnerRate, lm.l.PartnerBurst
	case RoleSupport:
		rate, burst = lm.l.SupportRate, lm.l.SupportBurst
	}
	key := who.Role + ":" + who.Subject
	s := &lm.sh[maphash.String(lm.seed, key)%shards]
	now := lm.now()
	s.Lock()
	defer s.Unlock()
	b := s.m[key]
	if b == nil {
		if len(s.m) >= 4096 {
			lm.sweep(s.m, now, rate, burst)
		}
		b = &bucket{tokens: float64(burst), last: now}
		s.m[key] = b
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// sweep forgets buckets that have refilled completely: they are the same
// as a new one.
func (lm *limiter) sweep(m map[string]*bucket, now time.Time, rate float64, burst int) {
	full := time.Duration(float64(burst) / rate * float64(time.Second))
	for k, b := range m {
		if now.Sub(b.last) > full {
			delete(m, k)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
