// Package registries simulates Trembita: an X-Road security server in front
// of state registries with seeded test citizens, so services run end to end
// on a laptop and tests can reproduce an outage.
//
// Dialects served by Handler:
//   - X-Road REST: /r1/{instance}/{class}/{member}/{subsystem}/{service}[/{arg}]
//     with the X-Road-Client header; security-server errors carry X-Road-Error
//     and an X-Road error body ({"type","message","detail"}).
//   - X-Road SOAP 4.0: POST / (or /cgi-bin/consumer_proxy), an envelope with
//     the X-Road header; errors are SOAP faults Server.* / Client.*.
//   - UXP REST: /uxp[/{arg}] with Uxp-Client, Uxp-Service and Uxp-QueryID;
//     security-server errors are an error body whose type is Server.*/Client.*.
//   - plain REST (the provider without a security server):
//     /rest/{registry}/{service}[/{arg}].
//
// Writes are idempotent by the Idempotency-Key header: a repeated key with
// the same request returns the first answer and has no second effect
// (treasury payments refuse to run without a key); a repeated key with a
// different request is 409 / Client.IdempotencyConflict.
//
// Control API (also as Go methods: SetProfile, SetDown, Stats,
// EffectivePayments, Outbox):
//
//	GET  /_sim/registries                 registries, services, profiles, stats
//	PUT  /_sim/registries/{code}/profile  {"latency":{"min":"20ms","max":"80ms","slowRate":0.01,"slow":"2s"},
//	                                       "errorRate":0.05,"malformedRate":0,"capacity":8,"down":false,
//	                                       "maintenance":[{"from":RFC3339,"to":RFC3339}]}
//	POST /_sim/registries/{code}/down|up  outage on / off
//	GET  /_sim/payments                   {"effective":n,"replays":m}
//	GET  /_sim/outbox                     notifications sent
//	GET  /_sim/citizens                   the seeded test citizens
//
// Registries: drrp (real-estate rights, co-owners), military, migration
// (residence registration), tax (sole proprietors), usr (unified state
// register), treasury (payments), notify.
//
// Faults are drawn from a hash of the seed, the registry, the request and
// how many times that same request was seen, so a run is reproducible even
// when requests arrive concurrently in a different order.
package registries

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Sim.
type Options struct {
	// Seed makes fault injection and latency reproducible.
	Seed uint64
	// Now is the clock of maintenance windows and record dates; time.Now
	// when nil.
	Now func() time.Time
}

// Duration is a time.Duration written as "250ms" in the control API.
type Duration time.Duration

// MarshalText writes the duration as Go prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. 250ms", b)
	}
	*d = Duration(v)
	return nil
}

// Latency is a registry's response time: uniform between Min and Max, and
// with probability SlowRate an extra Slow on top (a long tail).
type Latency struct {
	Min      Duration `json:"min,omitempty"`
	Max      Duration `json:"max,omitempty"`
	SlowRate float64  `json:"slowRate,omitempty"`
	Slow     Duration `json:"slow,omitempty"`
}

// Window is a maintenance window [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Profile is how a registry behaves.
type Profile struct {
	Latency Latency `json:"latency"`
	// ErrorRate is the share of calls answered with a server error (HTTP
	// 500 / Server.* fault) without any effect.
	ErrorRate float64 `json:"errorRate,omitempty"`
	// MalformedRate is the share of calls answered 200 with a truncated
	// body (after the effect: the answer, not the write, is broken).
	MalformedRate float64 `json:"malformedRate,omitempty"`
	// Capacity is how many calls the registry serves at once; more are
	// refused as busy (0: no limit). Registries, not Posluha, are the
	// bottleneck in a burst; this makes that reproducible.
	Capacity int `json:"capacity,omitempty"`
	// Down takes the registry down until it is cleared.
	Down bool `json:"down,omitempty"`
	// Maintenance windows, on the Sim's clock.
	Maintenance []Window `json:"maintenance,omitempty"`
}

// Stats count what a registry saw.
type Stats struct {
	Requests    int64 `json:"requests"`
	OK          int64 `json:"ok"`
	Refused     int64 `json:"refused"`  // down, maintenance or injected errors
	Rejected    int64 `json:"rejected"` // the provider said no (400/404/409)
	Replays     int64 `json:"replays"`  // writes answered from the idempotency store
	Writes      int64 `json:"writes"`   // writes with an effect
	InFlight    int64 `json:"inFlight"`
	MaxInFlight int64 `json:"maxInFlight"`
	// Arrivals are the request times (last 10000), to check a client's
	// rate limit from the registry's side.
	Arrivals []time.Time `json:"-"`
}

// Sim is the simulated security server and registries. It is safe for
// concurrent use.
type Sim struct {
	seed uint64
	now  func() time.Time

	regs   map[string]*registry // by code
	bySub  map[string]*registry // by member/subsystem
	mu     sync.Mutex           // guards st, seen, replies, profiles
	st     *state
	seen   map[uint64]int
	replay map[string]storedReply
}

type registry struct {
	def      *registryDef
	profile  Profile
	requests atomic.Int64
	ok       atomic.Int64
	refused  atomic.Int64
	rejected atomic.Int64
	replays  atomic.Int64
	writes   atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
	arrMu    sync.Mutex
	arrivals []time.Time
}

type storedReply struct {
	hash uint64
	out  outcome
}

// New returns a simulator with the seeded registries, all healthy.
func New(o Options) *Sim {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sim{seed: o.Seed, now: o.Now, regs: map[string]*registry{}, bySub: map[string]*registry{},
		seen: map[uint64]int{}, replay: map[string]storedReply{}}
	s.st = newState(o.Now)
	for _, d := range defineRegistries() {
		r := &registry{def: d}
		s.regs[d.code] = r
		s.bySub[d.member+"/"+d.sub] = r
	}
	return s
}

// Registries returns the codes of the simulated registries, sorted.
func (s *Sim) Registries() []string {
	out := make([]string, 0, len(s.regs))
	for c := range s.regs {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// ServiceID returns the X-Road service identifier of a registry's service
// (UA/GOV/00015622/DRRP/realtyRights), or "" if there is none.
func (s *Sim) ServiceID(registry, svc string) string {
	r, ok := s.regs[registry]
	if !ok || r.def.services[svc] == nil {
		return ""
	}
	return r.def.serviceID(svc)
}

// SetProfile sets how a registry behaves from now on.
func (s *Sim) SetProfile(code string, p Profile) error {
	r, ok := s.regs[code]
	if !ok {
		return fmt.Errorf("no registry %q", code)
	}
	for _, rate := range []float64{p.ErrorRate, p.MalformedRate, p.Latency.SlowRate} {
		if rate < 0 || rate > 1 || math.IsNaN(rate) {
			return fmt.Errorf("rates are between 0 and 1, got %v", rate)
		}
	}
	if p.Capacity < 0 {
		return fmt.Errorf("capacity must not be negative, got %d", p.Capacity)
	}
	if p.Latency.Max < p.Latency.Min {
		p.Latency.Max = p.Latency.Min
	}
	s.mu.Lock()
	r.profile = p
	s.mu.Unlock()
	return nil
}

// Profile returns a registry's current profile.
func (s *Sim) Profile(code string) Profile {
	r, ok := s.regs[code]
	if !ok {
		return Profile{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.profile
}

// SetDown takes a registry down (true) or brings it back (false).
func (s *Sim) SetDown(code string, down bool) error {
	p := s.Profile(code)
	p.Down = down
	return s.SetProfile(code, p)
}

// Stats returns what a registry saw.
func (s *Sim) Stats(code string) Stats {
	r, ok := s.regs[code]
	if !ok {
		return Stats{}
	}
	r.arrMu.Lock()
	arr := append([]time.Time(nil), r.arrivals...)
	r.arrMu.Unlock()
	return Stats{Requests: r.requests.Load(), OK: r.ok.Load(), Refused: r.refused.Load(), Rejected: r.rejected.Load(),
		Replays: r.replays.Load(), Writes: r.writes.Load(), InFlight: r.inFlight.Load(), MaxInFlight: r.maxIn.Load(), Arrivals: arr}
}

// EffectivePayments returns how many treasury payments were executed:
// replays of an idempotency key do not count.
func (s *Sim) EffectivePayments() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.payments)
}

// Outbox returns the notifications sent so far.
func (s *Sim) Outbox() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(s.st.outbox))
	copy(out, s.st.outbox)
	return out
}

type outcomeKind int

const (
	kindOK outcomeKind = iota
	kindRejected
	kindServerError
	kindMaintenance
	kindBusy
	kindMalformed
	kindUnknownService
)

// outcome is a registry's answer before a dialect renders it.
type outcome struct {
	kind   outcomeKind
	result map[string]any
	biz    *bizError
}

// call is one request, decoded from any dialect.
type call struct {
	reg  *registry
	svc  *service
	args map[string]any
	key  string
}

// serve runs a call through the registry's profile and its service.
func (s *Sim) serve(ctx context.Context, c call) outcome {
	r := c.reg
	r.requests.Add(1)
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxIn.Load()
		if n <= m || r.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	now := s.now()
	r.arrMu.Lock()
	if len(r.arrivals) >= 10000 {
		r.arrivals = r.arrivals[1:]
	}
	r.arrivals = append(r.arrivals, time.Now())
	r.arrMu.Unlock()

	reqHash := hashArgs(r.def.code, c.svc.code, c.args)
	s.mu.Lock()
	p := r.profile
	nth := s.seen[reqHash]
	s.seen[reqHash] = nth + 1
	s.mu.Unlock()
	u := draws(s.seed, reqHash, nth)

	if p.Down || inWindow(p.Maintenance, now) {
		r.refused.Add(1)
		return outcome{kind: kindMaintenance}
	}
	if p.Capacity > 0 && n > int64(p.Capacity) {
		r.refused.Add(1)
		return outcome{kind: kindBusy}
	}
	if u[0] < p.ErrorRate {
		r.refused.Add(1)
		return outcome{kind: kindServerError}
	}

	out := s.execute(c, reqHash)

	// Latency comes after the effect: a client that times out has still
	// written, which is what idempotency keys are for.
	lat := time.Duration(p.Latency.Min) + time.Duration(u[1]*float64(p.Latency.Max-p.Latency.Min))
	if u[2] < p.Latency.SlowRate {
		lat += time.Duration(p.Latency.Slow)
	}
	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if out.kind == kindOK && u[3] < p.MalformedRate {
		return outcome{kind: kindMalformed, result: out.result}
	}
	switch out.kind {
	case kindOK:
		r.ok.Add(1)
	case kindRejected:
		r.rejected.Add(1)
	}
	return out
}

// execute runs the service, answering repeated writes from the
// idempotency store.
func (s *Sim) execute(c call, reqHash uint64) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.svc.write {
		if c.key == "" && c.svc.needKey {
			return outcome{kind: kindRejected, biz: invalid("Idempotency-Key header is required")}
		}
		if c.key != "" {
			k := c.reg.def.code + "/" + c.svc.code + "/" + c.key
			if prev, ok := s.replay[k]; ok {
				if prev.hash != reqHash {
					return outcome{kind: kindRejected, biz: &bizError{status: 409, code: "Client.IdempotencyConflict", msg: "idempotency key reused with a different request"}}
				}
				c.reg.replays.Add(1)
				return prev.out
			}
			out := s.run(c)
			s.replay[k] = storedReply{hash: reqHash, out: out}
			return out
		}
	}
	return s.run(c)
}

func (s *Sim) run(c call) outcome {
	res, biz := c.svc.run(s.st, c.args)
	if biz != nil {
		return outcome{kind: kindRejected, biz: biz}
	}
	if c.svc.write {
		c.reg.writes.Add(1)
	}
	return outcome{kind: kindOK, result: res}
}

func inWindow(ws []Window, now time.Time) bool {
	for _, w := range ws {
		if !now.Before(w.From) && now.Before(w.To) {
			return true
		}
	}
	return false
}

// hashArgs identifies a request by its content, independent of message ids.
func hashArgs(reg, svc string, args map[string]any) uint64 {
	h := fnv.New64a()
	h.Write([]byte(reg))
	h.Write([]byte{0})
	h.Write([]byte(svc))
	h.Write([]byte{0})
	b, _ := json.Marshal(args) // map keys are sorted; values came from JSON or XML
	h.Write(b)
	return h.Sum64()
}

// draws returns four uniform numbers in [0,1) for the nth sighting of a
// request: splitmix64 over the seed, the request and n.
func draws(seed, reqHash uint64, nth int) [4]float64 {
	x := seed ^ reqHash ^ (uint64(nth)+1)*0x9e3779b97f4a7c15
	var out [4]float64
	for i := range out {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		out[i] = float64(z>>11) / (1 << 53)
	}
	return out
}
