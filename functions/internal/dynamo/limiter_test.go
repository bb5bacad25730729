package dynamo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	localddb "github.com/posluha/posluha/local/dynamodb"
)

// mustLocalEndpoint starts local/dynamodb on a loopback port with the
// tables and returns a constructor of clients: each call is a separate
// client with its own connections, as two Lambda instances have.
func mustLocalEndpoint(tb testing.TB) func() *dynamodb.Client {
	tb.Helper()
	srv, err := localddb.New(tb.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		tb.Fatalf("local dynamodb: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			tb.Errorf("close local dynamodb: %v", err)
		}
	})
	newClient := func() *dynamodb.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		tb.Cleanup(tr.CloseIdleConnections)
		return dynamodb.New(dynamodb.Options{
			Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: &http.Client{Transport: tr},
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1,
		})
	}
	if err := CreateTables(context.Background(), newClient(), DefaultTables); err != nil {
		tb.Fatal(err)
	}
	return newClient
}

// fakeClock is one clock that every limiter instance of a test reads, as
// if their machines agreed on the time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func noSleep(t *testing.T) func(context.Context, time.Duration) error {
	return func(context.Context, time.Duration) error {
		t.Error("a limiter that must not wait slept")
		return errors.New("no sleeping here")
	}
}

// TestLimiterSharedRate runs three limiter instances, each with its own
// client, several callers each, against one registry on a stepped clock (1 ms a
// tick, the callers of a tick concurrent), and counts admissions per tick:
// no interval may see more than Burst + PerSecond·length, across instances.
func TestLimiterSharedRate(t *testing.T) {
	everyone := func(tick, caller int) bool { return true }
	// held: instance 0 (callers 0 and 3) grows its batch, the bucket fills
	// while all sleep, instance 0 takes a batch and spends one token, and
	// just before that batch expires everyone rushes: the held tokens must
	// not come on top of a full burst.
	held := func(tick, caller int) bool {
		switch {
		case tick < 100:
			return caller%3 == 0
		case tick == 400:
			return caller == 0
		case tick == 449:
			return true
		}
		return false
	}
	for _, tc := range []struct {
		name    string
		lim     connector.Limits
		batch   time.Duration
		active  func(tick, caller int) bool
		callers int // per instance
	}{
		{"one token a call", connector.Limits{PerSecond: 100, Burst: 5}, -1, everyone, 2},
		{"batched tokens", connector.Limits{PerSecond: 200, Burst: 50}, 50 * time.Millisecond, everyone, 2},
		{"batch held then a rush", connector.Limits{PerSecond: 200, Burst: 50}, 50 * time.Millisecond, held, 30},
		{"token with a lease", connector.Limits{PerSecond: 50, Burst: 10, Concurrency: 8}, 50 * time.Millisecond, everyone, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newClient := mustLocalEndpoint(t)
			clock := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
			const instances, ticks = 3, 600
			callers := tc.callers
			lims := make([]*Limiter, instances)
			for i := range lims {
				lims[i] = NewLimiter(newClient(), DefaultTables.Limits, LimiterOptions{
					MaxWait: -1, BatchWindow: tc.batch, Now: clock.Now, Sleep: noSleep(t), Instance: fmt.Sprintf("i%d", i),
				})
			}
			if tc.batch > 0 && tc.lim.Concurrency == 0 && lims[0].plan(tc.lim).batchLimit < 2 {
				t.Fatalf("plan %+v does not batch: the case tests nothing", lims[0].plan(tc.lim))
			}
			start := clock.Now()
			admitted := make([]int, ticks)
			var unexpected atomic.Value
			for tick := range ticks {
				clock.Set(start.Add(time.Duration(tick) * time.Millisecond))
				var wg sync.WaitGroup
				var n atomic.Int64
				for i := range instances * callers {
					if !tc.active(tick, i) {
						continue
					}
					wg.Go(func() {
						release, err := lims[i%instances].Acquire(context.Background(), "drrp", tc.lim)
						if err != nil {
							if posluha.ErrorName(err) != posluha.ErrRegistryThrottled {
								unexpected.Store(err.Error())
							}
							return
						}
						n.Add(1)
						release()
					})
				}
				wg.Wait()
				admitted[tick] = int(n.Load())
			}
			if e := unexpected.Load(); e != nil {
				t.Fatalf("Acquire failed other than at the limit: %v", e)
			}
			// Any interval of ticks [a, b] may see Burst + PerSecond·(b−a).
			total := 0
			for a := range ticks {
				n := 0
				for b := a; b < ticks; b++ {
					n += admitted[b]
					allowed := float64(tc.lim.Burst) + tc.lim.PerSecond*float64(b-a)/1000
					if float64(n) > allowed+1e-9 {
						t.Fatalf("%d admissions in ticks %d..%d, at most %.1f allowed", n, a, b, allowed)
					}
				}
				total += admitted[a]
			}
			// And it admits: at least half of what the rate allows in the run
			// (batches taken but not used are the loss).
			if want := tc.lim.PerSecond * ticks / 1000 / 2; tc.name != "batch held then a rush" && float64(total) < want {
				t.Errorf("admitted %d in %d ms, want at least %.0f", total, ticks, want)
			}
			t.Logf("admitted %d in %d ms (rate %.0f/s, burst %d)", total, ticks, tc.lim.PerSecond, tc.lim.Burst)
		})
	}
}

// TestLimiterConcurrencyCap: three instances with four callers each hold
// slots for a few ms on the real clock; never more than the cap are in
// flight, everyone gets through by waiting, and every lease is gone after.
func TestLimiterConcurrencyCap(t *testing.T) {
	newClient := mustLocalEndpoint(t)
	lim := connector.Limits{Concurrency: 3, Hold: 5 * time.Second}
	const instances, callers, rounds = 3, 4, 8
	lims := make([]*Limiter, instances)
	for i := range lims {
		lims[i] = NewLimiter(newClient(), DefaultTables.Limits, LimiterOptions{Instance: fmt.Sprintf("i%d", i)})
	}
	var inFlight, most atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, instances*callers*rounds)
	for i := range instances * callers {
		wg.Go(func() {
			for range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				release, err := lims[i%instances].Acquire(ctx, "treasury", lim)
				if err != nil {
					cancel()
					errs <- err
					continue
				}
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				inFlight.Add(-1)
				release()
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Acquire: %v", err)
	}
	if m := most.Load(); m > int64(lim.Concurrency) {
		t.Errorf("%d calls in flight, cap %d", m, lim.Concurrency)
	}
	if n := len(mustLeases(t, newClient(), "treasury")); n != 0 {
		t.Errorf("%d leases left after every call released", n)
	}
}

func mustLeases(t *testing.T, c *dynamodb.Client, registry string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(DefaultTables.Limits), Key: map[string]types.AttributeValue{"registry": str(registry)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get limits item: %v", err)
	}
	m, ok := out.Item["leases"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("limits item %v has no leases map", out.Item)
	}
	return m.Value
}

// TestLimiterKilledInstanceLeaseExpires: an instance takes every slot and
// dies without releasing; the others are refused until the leases' hold
// runs out, then the next acquirer reaps them.
func TestLimiterKilledInstanceLeaseExpires(t *testing.T) {
	newClient := mustLocalEndpoint(t)
	clock := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	lim := connector.Limits{Concurrency: 2, Hold: time.Second}
	opts := func(name string) LimiterOptions {
		return LimiterOptions{MaxWait: -1, Now: clock.Now, Sleep: noSleep(t), Instance: name}
	}
	dead := NewLimiter(newClient(), DefaultTables.Limits, opts("dead"))
	for range lim.Concurrency {
		if _, err := dead.Acquire(context.Background(), "military", lim); err != nil {
			t.Fatalf("dead instance Acquire: %v", err)
		}
	}
	alive := NewLimiter(newClient(), DefaultTables.Limits, opts("alive"))
	_, err := alive.Acquire(context.Background(), "military", lim)
	if posluha.ErrorName(err) != posluha.ErrRegistryThrottled || !strings.Contains(err.Error(), "concurrency cap") {
		t.Fatalf("Acquire at the cap = %v, want Registry.Throttled at the concurrency cap", err)
	}
	clock.Set(clock.Now().Add(lim.Hold - time.Millisecond))
	if _, err := alive.Acquire(context.Background(), "military", lim); err == nil {
		t.Fatal("Acquire succeeded while the dead instance's leases still ran")
	}
	clock.Set(clock.Now().Add(2 * time.Millisecond))
	release, err := alive.Acquire(context.Background(), "military", lim)
	if err != nil {
		t.Fatalf("Acquire after the leases expired: %v", err)
	}
	leases := mustLeases(t, newClient(), "military")
	if len(leases) != 1 {
		t.Errorf("leases after reaping = %v, want only the new one", leases)
	}
	for id := range leases {
		if !strings.HasPrefix(id, "alive-") {
			t.Errorf("lease %q left, want the alive instance's", id)
		}
	}
	release()
	if n := len(mustLeases(t, newClient(), "military")); n != 0 {
		t.Errorf("%d leases after release", n)
	}
}

// fakeLimiterClient is a func-field fake of LimiterClient.
type fakeLimiterClient struct {
	PutItemFn    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	UpdateItemFn func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
}

func (f *fakeLimiterClient) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return f.PutItemFn(in)
}

func (f *fakeLimiterClient) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return f.UpdateItemFn(in)
}

// TestLimiterStoreErrors: a limits table that fails or answers nonsense
// gives Registry.Unavailable, never a panic, and no call is admitted.
func TestLimiterStoreErrors(t *testing.T) {
	down := errors.New("dial tcp 127.0.0.1:1: connection refused")
	ok := func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return &dynamodb.PutItemOutput{}, nil }
	garbage := &types.ConditionalCheckFailedException{Message: aws.String("failed"), Item: map[string]types.AttributeValue{
		"registry": str("drrp"), "tat": str("soon"),
		"leases": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": str("never")}},
	}}
	lim := connector.Limits{PerSecond: 10, Burst: 2, Concurrency: 2}
	for _, tc := range []struct {
		name   string
		client *fakeLimiterClient
	}{
		{"put fails", &fakeLimiterClient{
			PutItemFn:    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, down },
			UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, down },
		}},
		{"update fails", &fakeLimiterClient{PutItemFn: ok,
			UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, down },
		}},
		{"condition fails with a malformed item", &fakeLimiterClient{PutItemFn: ok,
			UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, garbage },
		}},
		{"success with a malformed tat", &fakeLimiterClient{PutItemFn: ok,
			UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
				return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{"tat": str("x")}}, nil
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLimiter(tc.client, "limits", LimiterOptions{MaxWait: -1})
			release, err := l.Acquire(context.Background(), "drrp", lim)
			if err == nil {
				release()
				t.Fatal("Acquire succeeded over a failing store")
			}
			if posluha.ErrorName(err) != posluha.ErrRegistryUnavailable || !strings.Contains(posluha.ErrorMessage(err), "limits table unavailable") {
				t.Errorf("Acquire = %v, want Registry.Unavailable naming the limits table", err)
			}
		})
	}

	// Through a connector: the call is not made, and the error says why.
	ts, err := connector.Parse("t.yaml", []byte("id: drrp.read\nprotocol: rest\nendpoint: http://127.0.0.1:1/x\ntimeout: 1s\n"+
		"rateLimit: {perSecond: 10, burst: 2}\nconcurrency: 2\nregistry: drrp\n"))
	if err != nil {
		t.Fatal(err)
	}
	var called atomic.Bool
	set, err := connector.New(ts, connector.Options{
		Limiter: NewLimiter(&fakeLimiterClient{PutItemFn: ok, UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, down }}, "limits", LimiterOptions{}),
		RoundTripper: roundTrip(func(*http.Request) (*http.Response, error) {
			called.Store(true)
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}}, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Call(context.Background(), "drrp.read", connector.Args{ApplicationID: "app-1"}, "")
	if posluha.ErrorName(err) != posluha.ErrRegistryUnavailable || !strings.Contains(err.Error(), "limits table unavailable") {
		t.Errorf("Call = %v, want Registry.Unavailable naming the limits table", err)
	}
	if called.Load() {
		t.Error("the registry was called without its limits checked")
	}

	// A lease whose release fails is logged and left to expire: no panic.
	var puts atomic.Int64
	l := NewLimiter(&fakeLimiterClient{PutItemFn: ok, UpdateItemFn: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if strings.HasPrefix(aws.ToString(in.UpdateExpression), "REMOVE") {
			puts.Add(1)
			return nil, down
		}
		return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{"tat": num(0)}}, nil
	}}, "limits", LimiterOptions{})
	release, err := l.Acquire(context.Background(), "drrp", lim)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	release()
	release() // twice: one release call
	if puts.Load() != 1 {
		t.Errorf("%d release calls, want 1", puts.Load())
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestLimiterWaitsForItsTurn: callers beyond the burst reserve their turn
// and sleep until it (on a clock that sleeping moves), alternating between
// two instances; every call gets through, spaced by the rate, and a turn
// beyond the wait bound is refused at once.
func TestLimiterWaitsForItsTurn(t *testing.T) {
	newClient := mustLocalEndpoint(t)
	clock := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	sleep := func(ctx context.Context, d time.Duration) error {
		clock.Set(clock.Now().Add(d))
		return ctx.Err()
	}
	lim := connector.Limits{PerSecond: 20, Burst: 2, Concurrency: 4}
	var lims []*Limiter
	for i := range 2 {
		lims = append(lims, NewLimiter(newClient(), DefaultTables.Limits, LimiterOptions{
			MaxWait: 200 * time.Millisecond, Now: clock.Now, Sleep: sleep, Instance: fmt.Sprintf("i%d", i)}))
	}
	var at []time.Time
	for i := range 8 {
		release, err := lims[i%2].Acquire(context.Background(), "tax", lim)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		at = append(at, clock.Now())
		release()
	}
	for i := int(lim.Burst); i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 50*time.Millisecond-time.Microsecond {
			t.Errorf("call %d came %s after the one before, want ≥ 50ms at 20/s", i, gap)
		}
	}
	// Eight reservations in a row, nobody sleeping them off: after the
	// burst, the wait bound of 200 ms holds 4 turns at 20/s, and the rest
	// are refused at once.
	clock.Set(clock.Now().Add(time.Second))
	refused := 0
	for range 8 {
		_, err := lims[0].reserve(context.Background(), "tax", lims[0].state("tax"), lims[0].plan(lim),
			func(int64, int64) int { return 1 }, 0, 0)
		if err != nil {
			if posluha.ErrorName(err) != posluha.ErrRegistryThrottled || !strings.Contains(err.Error(), "beyond the wait bound") {
				t.Fatalf("reserve = %v, want Registry.Throttled beyond the wait bound", err)
			}
			refused++
		}
	}
	if refused != 8-int(lim.Burst)-4 {
		t.Errorf("%d of 8 reservations refused, want %d (burst %d + 4 turns within 200 ms)", refused, 8-lim.Burst-4, lim.Burst)
	}
}

// TestLimiterFromEnvLocalIsPerProcess: with POSLUHA_LIMITER=local every
// function of the process gets the same limiter (a registry read and a
// registry write count against one limit); the default is the shared
// table; anything else is refused.
func TestLimiterFromEnvLocalIsPerProcess(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "POSLUHA_LIMITER" {
				return v
			}
			return ""
		}
	}
	a, err := LimiterFromEnv(nil, env("local"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LimiterFromEnv(nil, env("local"), nil)
	if a != b {
		t.Error("two functions of one process got different local limiters")
	}
	if d, err := LimiterFromEnv(nil, env(""), nil); err != nil || d == a {
		t.Errorf("default limiter = %T, %v; want the shared table's", d, err)
	}
	if _, err := LimiterFromEnv(nil, env("redis"), nil); err == nil {
		t.Error("POSLUHA_LIMITER=redis accepted")
	}
}
