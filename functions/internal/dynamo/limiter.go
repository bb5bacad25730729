package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
)

// LimiterClient is the part of the DynamoDB API the Limiter uses;
// *dynamodb.Client implements it.
type LimiterClient interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ LimiterClient = (*dynamodb.Client)(nil)

// Limiter defaults; LimiterOptions explains each.
const (
	DefaultLeaseHold   = 30 * time.Second
	DefaultMaxWait     = 10 * time.Second
	DefaultBatchWindow = 50 * time.Millisecond
	defaultConflicts   = 32
	maxReap            = 16 // expired leases removed by one update, to bound the expression
	maxBatch           = 64
)

// LimiterOptions tune a Limiter. Every instance sharing a table must use
// the same BatchWindow, since it changes the bucket's tolerance.
type LimiterOptions struct {
	// Hold is how long a concurrency lease lasts when Limits.Hold is zero;
	// DefaultLeaseHold when zero.
	Hold time.Duration
	// MaxWait bounds how long Acquire waits for a rate token or a free
	// slot (ctx's deadline bounds it too); DefaultMaxWait when zero,
	// no waiting at all when negative.
	MaxWait time.Duration
	// BatchWindow is how long tokens taken in a batch stay usable;
	// DefaultBatchWindow when zero, no batching when negative.
	BatchWindow time.Duration
	// Now and Sleep are the clock; time.Now and a timer when nil.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives failures to release a lease (nothing else); discarded
	// when nil.
	Log *slog.Logger
	// Instance prefixes this instance's lease ids; random when empty.
	Instance string
}

// Limiter implements connector.Limiter over one DynamoDB item per registry,
// so that every Lambda instance of every function shares a registry's
// limits.
//
// # Rate: GCRA on one number
//
// The token bucket is kept as its theoretical arrival time tat (µs since
// the epoch), the generic cell rate algorithm: a call at now is admitted
// when max(tat, now) + T <= now + Burst·T, T = 1/PerSecond, and moves tat
// there. A token bucket of tokens and a last-refill time needs min() and
// multiplication, which update expressions lack, so it would cost a read
// and a conditional write per admission; a per-second window counter (ADD
// with a condition) costs one call but lets twice the rate through around
// each window's edge. GCRA needs one UpdateItem and is exact: in any
// interval of length L at most Burst + PerSecond·L calls are admitted
// across all instances. Its two cases are two expressions, each guarded by
// the condition that makes it right: "SET tat = :now+T IF tat <= :now" when
// the bucket is full, "SET tat = tat + T IF :now < tat <= :max" otherwise;
// the last tat seen picks which one to try, and a failed condition returns
// the item (ReturnValuesOnConditionCheckFailure), so a wrong guess or a
// race costs one more call, never a read; each lost race means another
// instance was admitted, and a caller that loses 32 in a row gets
// Registry.Unavailable (Step Functions retries it) rather than spinning.
// One item takes about 1,000 writes a second in DynamoDB, far above the
// registries' own limits (20–200 calls a second, two writes a call at
// most). A call that must wait reserves
// its place (tat moves up to MaxWait beyond the burst) and sleeps; if its
// context ends while it sleeps the place is lost, which only lowers the
// rate. Instances read their own clocks: skew between them shifts the
// bucket by the skew (milliseconds on Lambda), not more.
//
// # Concurrency: leases in the same item
//
// The item's map leases holds lease id → deadline (µs). Acquiring adds an
// entry on condition size(leases) < Concurrency, in the same UpdateItem as
// the rate token; releasing removes it (a second call). A lease lasts the
// wait bound plus Limits.Hold, the longest connector timeout, so a crashed
// instance's slot frees itself: the next acquirer that finds it expired
// removes it in its own update, the condition then asserting that entry's
// deadline (so two reapers cannot both count it). Deadlines are read on
// the reaper's clock: skew between instances (milliseconds) matters only
// to a call that runs to within that much of its hold. Nothing accumulates
// beyond one item per registry, so no TTL is needed. While the registry is
// at its cap, Acquire polls with a backoff from 5 ms to 200 ms, each poll
// one call, until MaxWait or ctx's deadline.
//
// # Local fast path
//
// For registries without a concurrency cap an instance takes tokens in
// batches of k (doubling while it uses them all, halving when some go
// unused) with one call, and hands them out without a round trip for
// BatchWindow. A batch used late would add up to PerSecond·BatchWindow
// calls to a window, so when batching is possible at all every instance
// runs the bucket with Burst lowered by m = ⌈PerSecond·BatchWindow⌉; the
// bound above then still holds. Batching is off (k = 1, full Burst) when
// m < 2 or Burst − m < 2. Registries with a cap take a lease per call
// anyway, so they get no fast path: the token rides in the lease's call.
//
// # Errors
//
// Every failure is Registry.Unavailable (retryable): a registry at its
// limit beyond the wait bound, and a limits table that does not answer
// (the call is not made: an unguarded call could overrun the registry). A
// lease that cannot be released is logged and expires by itself.
type Limiter struct {
	c     LimiterClient
	table string
	o     LimiterOptions
	seq   atomic.Uint64

	mu   sync.Mutex
	regs map[string]*limitState
}

var _ connector.Limiter = (*Limiter)(nil)

// limitState is one instance's view of a registry's item.
type limitState struct {
	mu      sync.Mutex
	created bool             // the item exists (put once per instance)
	tat     int64            // last tat seen
	leases  map[string]int64 // last leases seen

	// batch path; sem serialises refills so one call takes a batch for all
	sem    chan struct{}
	tokens int
	until  int64 // tokens are usable before this (µs)
	k      int
}

// NewLimiter returns a limiter over table (LimitsTable in the table
// definitions).
func NewLimiter(c LimiterClient, table string, o LimiterOptions) *Limiter {
	if o.Hold <= 0 {
		o.Hold = DefaultLeaseHold
	}
	switch {
	case o.MaxWait == 0:
		o.MaxWait = DefaultMaxWait
	case o.MaxWait < 0:
		o.MaxWait = 0
	}
	if o.BatchWindow == 0 {
		o.BatchWindow = DefaultBatchWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Instance == "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		o.Instance = hex.EncodeToString(b[:])
	}
	return &Limiter{c: c, table: table, o: o, regs: map[string]*limitState{}}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
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

// micros is t in µs since the epoch, the unit of tat and lease deadlines.
func micros(t time.Time) int64 { return t.UnixMicro() }

// plan is how a registry's limits run here: the interval between tokens
// (µs, rounded up so the rate is never exceeded), the bucket's tolerance in
// tokens and the largest batch.
type plan struct {
	interval   int64
	burst      int
	batchLimit int
}

func (l *Limiter) plan(lim connector.Limits) plan {
	p := plan{burst: max(lim.Burst, 1), batchLimit: 1}
	if lim.PerSecond <= 0 {
		return p
	}
	p.interval = int64(math.Ceil(1e6 / lim.PerSecond))
	if lim.Concurrency > 0 || l.o.BatchWindow <= 0 {
		return p
	}
	m := int(math.Ceil(lim.PerSecond * l.o.BatchWindow.Seconds()))
	if m < 2 || p.burst-m < 2 {
		return p
	}
	p.burst -= m
	p.batchLimit = min(p.burst, maxBatch)
	return p
}

// Acquire implements connector.Limiter. Errors: Registry.Unavailable.
func (l *Limiter) Acquire(ctx context.Context, registry string, lim connector.Limits) (func(), error) {
	if lim.Concurrency <= 0 && lim.PerSecond <= 0 {
		return noop, nil
	}
	st := l.state(registry)
	p := l.plan(lim)
	if lim.Concurrency <= 0 && p.batchLimit > 1 {
		return l.acquireBatch(ctx, registry, st, p)
	}
	cells := 0
	if lim.PerSecond > 0 {
		cells = 1
	}
	hold := lim.Hold
	if hold <= 0 {
		hold = l.o.Hold
	}
	r, err := l.reserve(ctx, registry, st, p, func(int64, int64) int { return cells }, lim.Concurrency, hold)
	if err != nil {
		return nil, err
	}
	release := noop
	if r.lease != "" {
		var once sync.Once
		release = func() { once.Do(func() { l.release(ctx, registry, st, r.lease) }) }
	}
	if err := l.waitUntil(ctx, registry, r.at); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

func (l *Limiter) state(registry string) *limitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.regs[registry]
	if !ok {
		st = &limitState{leases: map[string]int64{}, sem: make(chan struct{}, 1)}
		l.regs[registry] = st
	}
	return st
}

func (l *Limiter) waitUntil(ctx context.Context, registry string, at int64) error {
	wait := time.Duration(at-micros(l.o.Now())) * time.Microsecond
	if wait <= 0 {
		return nil
	}
	if err := l.o.Sleep(ctx, wait); err != nil {
		return fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryThrottled, "registry %s: the call's turn came after its deadline", registry), err)
	}
	return nil
}

// acquireBatch is the fast path: a token from this instance's batch, or a
// new batch taken with one call.
func (l *Limiter) acquireBatch(ctx context.Context, registry string, st *limitState, p plan) (func(), error) {
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryThrottled, "registry %s: no turn before the deadline", registry), ctx.Err())
	}
	defer func() { <-st.sem }()
	now := micros(l.o.Now())
	if st.tokens > 0 && now < st.until {
		st.tokens--
		return noop, nil
	}
	switch {
	case st.k == 0:
		st.k = 1
	case st.tokens == 0:
		st.k = min(st.k*2, p.batchLimit)
	default: // some expired unused: they were taken from other instances for nothing
		st.k = max(st.k/2, 1)
	}
	st.tokens = 0
	// A batch larger than what the bucket holds would wait for tokens it
	// does not need yet: take what is there (at least one), judged on the
	// tat of each attempt, since other instances move it.
	want := func(tat, now int64) int {
		free := (now + int64(p.burst)*p.interval - max(tat, now)) / p.interval
		return int(max(min(int64(st.k), free), 1))
	}
	r, err := l.reserve(ctx, registry, st, p, want, 0, 0)
	if err != nil {
		st.k = 1
		return nil, err
	}
	if err := l.waitUntil(ctx, registry, r.at); err != nil {
		return nil, err
	}
	st.k = r.cells
	st.tokens = r.cells - 1
	st.until = r.at + l.o.BatchWindow.Microseconds()
	return noop, nil
}

// reservation is what one successful update bought: the time the tokens
// may be used from, how many, and the lease taken ("" without one).
type reservation struct {
	at    int64
	cells int
	lease string
}

// reserve runs the conditional update that takes want(tat, now) tokens (0:
// none) and, with a cap > 0, a lease; see the Limiter documentation for
// the expressions.
func (l *Limiter) reserve(ctx context.Context, registry string, st *limitState, p plan, want func(tat, now int64) int, capacity int, hold time.Duration) (reservation, error) {
	start := micros(l.o.Now())
	waitLimit := start + l.o.MaxWait.Microseconds()
	if dl, ok := ctx.Deadline(); ok {
		// The deadline is on the real clock; the bound is on ours.
		waitLimit = min(waitLimit, start+time.Until(dl).Microseconds())
	}
	var lease string
	if capacity > 0 {
		lease = l.o.Instance + "-" + strconv.FormatUint(l.seq.Add(1), 36)
	}
	backoff := 5 * time.Millisecond
	conflicts := 0
	for {
		if err := ctx.Err(); err != nil {
			return reservation{}, fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryThrottled, "registry %s: no turn before the deadline", registry), err)
		}
		if err := l.ensure(ctx, registry, st); err != nil {
			return reservation{}, err
		}
		now := micros(l.o.Now())
		maxWait := max(waitLimit-now, 0)
		st.mu.Lock()
		tat := st.tat
		var expired []string
		var earliest int64 = math.MaxInt64
		live := 0
		for id, dl := range st.leases {
			if dl <= now {
				if len(expired) < maxReap {
					expired = append(expired, id)
				}
				continue
			}
			live++
			earliest = min(earliest, dl)
		}
		exp := make(map[string]int64, len(expired))
		for _, id := range expired {
			exp[id] = st.leases[id]
		}
		st.mu.Unlock()

		cells := want(tat, now)
		u := update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
		if cells > 0 {
			inc := int64(cells) * p.interval
			// The last token of the batch must fit in the burst by the time
			// the wait ends.
			maxTat := now + int64(p.burst)*p.interval - inc + maxWait
			if tat <= now {
				u.set("#t = :nt", "#t", "tat", ":nt", num(now+inc))
				u.cond("#t <= :now", ":now", num(now))
			} else {
				if tat > maxTat {
					return reservation{}, posluha.Errorf(posluha.ErrRegistryThrottled,
						"registry %s rate limit: next turn in %s, beyond the wait bound", registry,
						(time.Duration(tat-maxTat) * time.Microsecond).Round(time.Millisecond))
				}
				u.set("#t = #t + :inc", "#t", "tat", ":inc", num(inc))
				u.cond("#t > :now AND #t <= :max", ":now", num(now))
				u.values[":max"] = num(maxTat)
			}
		}
		if capacity > 0 {
			dl := now + maxWait + hold.Microseconds()
			u.names["#l"] = "leases"
			u.names["#me"] = lease
			u.sets = append(u.sets, "#l.#me = :dl")
			u.values[":dl"] = num(dl)
			u.cond("size(#l) < :cap", ":cap", num(int64(capacity+len(expired))))
			for i, id := range expired {
				n, v := "#e"+strconv.Itoa(i), ":e"+strconv.Itoa(i)
				u.names[n] = id
				u.values[v] = num(exp[id])
				u.removes = append(u.removes, "#l."+n)
				u.conds = append(u.conds, "#l."+n+" = "+v)
			}
		}
		out, err := l.c.UpdateItem(ctx, u.input(l.table, registry))
		if err == nil {
			it := &item{m: out.Attributes}
			newTat := tat
			if cells > 0 {
				newTat = it.int("tat")
				if it.err != nil {
					return reservation{}, l.storeError(registry, it.err)
				}
			}
			st.mu.Lock()
			st.tat = max(st.tat, newTat)
			for _, id := range expired {
				delete(st.leases, id)
			}
			st.mu.Unlock()
			at := now
			if cells > 0 {
				at = max(now, newTat-int64(p.burst)*p.interval)
			}
			return reservation{at: at, cells: cells, lease: lease}, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return reservation{}, l.storeError(registry, err)
		}
		if len(ccf.Item) == 0 {
			st.mu.Lock()
			st.created = false // someone deleted it: put it again
			st.mu.Unlock()
		} else if err := st.refresh(ccf.Item); err != nil {
			return reservation{}, l.storeError(registry, err)
		}
		// A refreshed view at the cap means waiting, anything else was a
		// race or a stale guess.
		now = micros(l.o.Now())
		st.mu.Lock()
		live, earliest = 0, math.MaxInt64
		for _, dl := range st.leases {
			if dl > now {
				live++
				earliest = min(earliest, dl)
			}
		}
		st.mu.Unlock()
		if capacity > 0 && live >= capacity {
			if now >= waitLimit {
				return reservation{}, posluha.Errorf(posluha.ErrRegistryThrottled,
					"registry %s is at its concurrency cap of %d", registry, capacity)
			}
			d := min(backoff, time.Duration(waitLimit-now)*time.Microsecond,
				time.Duration(earliest-now)*time.Microsecond+time.Millisecond)
			backoff = min(backoff*2, 200*time.Millisecond)
			if err := l.o.Sleep(ctx, d); err != nil {
				return reservation{}, fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryThrottled,
					"registry %s is at its concurrency cap of %d", registry, capacity), err)
			}
			continue
		}
		if conflicts++; conflicts > defaultConflicts {
			return reservation{}, posluha.Errorf(posluha.ErrRegistryThrottled,
				"registry %s: limits contended beyond %d retries", registry, defaultConflicts)
		}
	}
}

// refresh takes the item a failed condition returned as this instance's view.
func (st *limitState) refresh(m map[string]types.AttributeValue) error {
	it := &item{m: m}
	tat := it.int("tat")
	leases := map[string]int64{}
	if lm, ok := m["leases"].(*types.AttributeValueMemberM); ok {
		for id, v := range lm.Value {
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok {
				return fmt.Errorf("lease %s: not a number", id)
			}
			dl, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("lease %s: %w", id, err)
			}
			leases[id] = dl
		}
	}
	if it.err != nil {
		return it.err
	}
	st.mu.Lock()
	st.tat, st.leases = tat, leases
	st.mu.Unlock()
	return nil
}

// ensure puts the registry's item once per instance, so that updates can
// address leases.<id> (a path into a map that must exist).
func (l *Limiter) ensure(ctx context.Context, registry string, st *limitState) error {
	st.mu.Lock()
	done := st.created
	st.mu.Unlock()
	if done {
		return nil
	}
	_, err := l.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item: map[string]types.AttributeValue{
			"registry": str(registry), "tat": num(0),
			"leases": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		},
		ConditionExpression: aws.String("attribute_not_exists(registry)"),
	})
	if err != nil && !conditionFailed(err) {
		return l.storeError(registry, err)
	}
	st.mu.Lock()
	st.created = true
	st.mu.Unlock()
	return nil
}

func (l *Limiter) release(ctx context.Context, registry string, st *limitState, lease string) {
	// The call is over whether or not ctx still runs; the lease must go.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := l.c.UpdateItem(rctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(l.table),
		Key:                      map[string]types.AttributeValue{"registry": str(registry)},
		UpdateExpression:         aws.String("REMOVE #l.#me"),
		ConditionExpression:      aws.String("attribute_exists(#l.#me)"),
		ExpressionAttributeNames: map[string]string{"#l": "leases", "#me": lease},
	})
	st.mu.Lock()
	delete(st.leases, lease)
	st.mu.Unlock()
	if err != nil && !conditionFailed(err) { // a failed condition: it expired and was reaped
		l.o.Log.WarnContext(ctx, "release registry lease", "registry", registry, "err", err)
	}
}

func (l *Limiter) storeError(registry string, err error) error {
	return fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryUnavailable,
		"limits of registry %s cannot be checked (limits table unavailable)", registry), err)
}

// update collects the parts of one UpdateItem.
type update struct {
	sets, removes, conds []string
	names                map[string]string
	values               map[string]types.AttributeValue
}

func (u *update) set(expr, name, attr, value string, v types.AttributeValue) {
	u.sets = append(u.sets, expr)
	u.names[name] = attr
	u.values[value] = v
}

func (u *update) cond(expr, value string, v types.AttributeValue) {
	u.conds = append(u.conds, expr)
	u.values[value] = v
}

func (u *update) input(table, registry string) *dynamodb.UpdateItemInput {
	expr := ""
	if len(u.sets) > 0 {
		expr = "SET " + strings.Join(u.sets, ", ")
	}
	if len(u.removes) > 0 {
		expr += " REMOVE " + strings.Join(u.removes, ", ")
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(table),
		Key:                                 map[string]types.AttributeValue{"registry": str(registry)},
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String(strings.Join(u.conds, " AND ")),
		ExpressionAttributeNames:            u.names,
		ExpressionAttributeValues:           u.values,
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// LimiterFromEnv returns the limiter the functions run with: the shared
// one over LIMITS_TABLE (see TablesFromEnv), or, when POSLUHA_LIMITER is
// "local", the process's one connector.LocalLimiter: one process alone
// calls the registries (the local stack runs every function in-process),
// so the functions in it share that limiter, with no table round trips.
func LimiterFromEnv(c LimiterClient, getenv func(string) string, log *slog.Logger) (connector.Limiter, error) {
	switch v := getenv("POSLUHA_LIMITER"); v {
	case "local":
		return processLimiter(), nil
	case "", "dynamodb":
		return NewLimiter(c, TablesFromEnv(getenv).Limits, LimiterOptions{Log: log}), nil
	default:
		return nil, fmt.Errorf("POSLUHA_LIMITER: %q is neither dynamodb nor local", v)
	}
}

// processLimiter is the LimiterFromEnv "local" limiter, one per process so
// that registryread and eventwrite count against the same registry limits.
var processLimiter = sync.OnceValue(connector.NewLocalLimiter)
