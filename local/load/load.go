// Package load is `posluha load`: it plays a burst of citizens applying for
// a service through the API (the local gateway, or API Gateway), at a
// fixed arrival rate, and then reconciles: every 202 must have an
// application record and a finished execution, and no applicant may have
// two applications.
//
// Arrivals are open-loop (a request leaves on schedule whether or not the
// earlier ones have answered), so a slow API shows up as latency and
// in-flight growth rather than as a quietly lower rate. A 429 or 503 is
// retried with the same Idempotency-Key after Retry-After, as a portal
// would; the retry lands on the same application.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/posluha/posluha/local/registries"
)

// Applicant is one generated citizen.
type Applicant struct {
	TaxNumber string
	Name      string
	BirthDate string // YYYY-MM-DD
}

// Options configure a run.
type Options struct {
	// APIURL is the API's base URL (the local gateway).
	APIURL string
	// Service to apply for (default lockdown-payout) and the form of the
	// i-th applicant (default: a valid IBAN).
	Service string
	Form    func(i int) map[string]any
	// RPS is the arrival rate; Duration how long arrivals go on. With
	// Applicants > 0 the run ends after that many applicants instead
	// (Duration, when also set, caps it).
	RPS        float64
	Duration   time.Duration
	Applicants int
	// MaxInFlight bounds concurrent requests (default 4096); an arrival
	// that finds it full waits and is counted as late.
	MaxInFlight int
	// Token mints an access token for an applicant (the local OIDC
	// provider's TokenFor). Required.
	Token func(ctx context.Context, a Applicant) (string, error)
	// Check, when set, reconciles after the burst (see Reconciler).
	Check *Reconciler
	// PreMint signs in this many applicants before the clock starts
	// (default: all, up to 200,000), as citizens log in before a payout
	// opens; an RS256 token costs about a millisecond of CPU, which would
	// otherwise compete with the system under test. The rest sign in on
	// arrival. Negative: none.
	PreMint int
	// AfterBurst, when set, runs between the burst and the
	// reconciliation (a test that held the dispatcher back lets it drain).
	AfterBurst func()
	// Progress draws a progress bar on out.
	Progress bool
	Client   *http.Client
	// Offset shifts the generated applicants, so that runs against the
	// same stack use new citizens.
	Offset int
	// CPUProfile and MemProfile, when set, are files for pprof profiles
	// of the burst alone (sign-in and reconciliation excluded). The stack
	// runs in this process, so they show where the server's time goes.
	CPUProfile   string
	MemProfile   string
	BlockProfile string
	// GCPercent, when positive and the GOGC variable is unset, is the
	// collector's target during the burst. The stack's live heap is small
	// (tens of MiB), so the default 100 collects many times a second
	// under a burst; 400 costs a few hundred MiB and about a fifth less
	// CPU per accepted submission (docs/benchmarks.md).
	GCPercent int
}

// Result is what a run measured.
type Result struct {
	Sent     int           // applicants who got an answer (after retries)
	Accepted int           // 202
	Statuses map[int]int   // final status → count
	Retries  int           // 429/503 retried
	Late     int           // arrivals delayed by MaxInFlight
	Errors   int           // transport errors
	Elapsed  time.Duration // first arrival to last answer
	// CPU is the process's CPU time over the burst, the stack's and the
	// generator's (they share the process); CPUPerAccepted divides it by
	// the 202s.
	CPU            time.Duration
	CPUPerAccepted time.Duration
	Latency        map[string]time.Duration
	// Applications are the 202s: id and applicant, in arrival order.
	Applications []Accepted      `json:"-"`
	Reconcile    *Reconciliation `json:",omitempty"`
}

// Generate returns the i-th applicant: a well-formed, unique tax number
// (2,000 per birth date, birth dates a week apart from 1960) and a name.
func Generate(i int) Applicant {
	last := []string{"Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Мельник", "Лисенко", "Бойко", "Савченко", "Руденко", "Мороз"}
	first := [2][]string{{"Олена", "Марія", "Наталія", "Софія", "Ірина", "Оксана"}, {"Тарас", "Андрій", "Олександр", "Ігор", "Дмитро", "Василь"}}
	male := i%2 == 1
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/2000)*7)
	sex := 0
	if male {
		sex = 1
	}
	return Applicant{
		TaxNumber: registries.TaxNumber(birth, (i%2000)/2, male),
		Name:      last[i%len(last)] + " " + first[sex][(i/2)%len(first[sex])],
		BirthDate: birth.Format(time.DateOnly),
	}
}

// IBAN is a form value of the i-th applicant (lockdown-payout's form).
func IBAN(i int) map[string]any {
	return map[string]any{"iban": fmt.Sprintf("UA21322313%019d", i)}
}

// Accepted is one 202: the application id and whom it was for (with the
// token they applied with, for reading the record back).
type Accepted struct {
	ID        string
	Applicant Applicant
	Token     string
}

type answer struct {
	who     Applicant
	token   string
	status  int
	id      string
	latency time.Duration
	retries int
	err     error
}

// Run plays the burst, prints a summary to out and returns the figures.
func Run(ctx context.Context, o Options, out io.Writer) (*Result, error) {
	if o.Token == nil || o.APIURL == "" {
		return nil, errors.New("load: APIURL and Token are required")
	}
	if o.RPS <= 0 {
		return nil, errors.New("load: rps must be positive")
	}
	if o.Service == "" {
		o.Service = "lockdown-payout"
	}
	if o.Form == nil {
		o.Form = IBAN
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 4096
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: o.MaxInFlight, MaxIdleConnsPerHost: o.MaxInFlight}}
	}
	total := o.Applicants
	if total <= 0 || (o.Duration > 0 && float64(total) > o.RPS*o.Duration.Seconds()) {
		total = int(o.RPS * o.Duration.Seconds())
	}
	if total <= 0 {
		return nil, errors.New("load: nothing to send (set duration or applicants)")
	}
	var bar *progressbar.ProgressBar
	if o.Progress {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("submitting"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("req"), progressbar.OptionThrottle(200*time.Millisecond))
	}
	tokens, err := preMint(ctx, o, total, out)
	if err != nil {
		return nil, err
	}
	// The GC setting is for the burst only: while executions drain after
	// it, thousands of them are in flight, and a high GOGC would let the
	// heap grow to several times what they hold.
	restoreGC := func() {}
	if o.GCPercent > 0 && os.Getenv("GOGC") == "" {
		old := debug.SetGCPercent(o.GCPercent)
		restoreGC = sync.OnceFunc(func() { debug.SetGCPercent(old) })
	}
	defer restoreGC()
	stopProfile, err := startProfile(o.CPUProfile, o.MemProfile, o.BlockProfile)
	if err != nil {
		return nil, err
	}
	answers := make([]answer, total)
	sem := make(chan struct{}, o.MaxInFlight)
	var wg sync.WaitGroup
	var late atomic.Int64
	interval := time.Duration(float64(time.Second) / o.RPS)
	cpu0 := processCPU()
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				total = i
			case <-time.After(d):
			}
			if ctx.Err() != nil {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			late.Add(1)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			total = i
			break
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			var tok string
			if i < len(tokens) {
				tok = tokens[i]
			}
			answers[i] = submit(ctx, o, i, tok)
			if bar != nil {
				bar.Add(1)
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	restoreGC()
	if err := stopProfile(); err != nil {
		return nil, err
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(out)
	}
	answers = answers[:total]
	res := &Result{Statuses: map[int]int{}, Late: int(late.Load()), Elapsed: elapsed, CPU: cpu}
	var lats []time.Duration
	for _, a := range answers {
		res.Retries += a.retries
		if a.err != nil {
			res.Errors++
			continue
		}
		res.Sent++
		res.Statuses[a.status]++
		lats = append(lats, a.latency)
		if a.status == http.StatusAccepted {
			res.Accepted++
			res.Applications = append(res.Applications, Accepted{ID: a.id, Applicant: a.who, Token: a.token})
		}
	}
	res.Latency = percentiles(lats)
	if res.Accepted > 0 {
		res.CPUPerAccepted = cpu / time.Duration(res.Accepted)
	}
	fmt.Fprintf(out, "%d applicants in %s: %.0f accepted/s; statuses %v; retries %d; late arrivals %d; errors %d\n",
		total, elapsed.Round(time.Millisecond), float64(res.Accepted)/elapsed.Seconds(), res.Statuses, res.Retries, res.Late, res.Errors)
	fmt.Fprintf(out, "latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		res.Latency["p50"], res.Latency["p90"], res.Latency["p99"], res.Latency["p99.9"], res.Latency["max"])
	fmt.Fprintf(out, "process CPU %s over the burst: %s per accepted submission (stack, drain and generator together)\n",
		cpu.Round(10*time.Millisecond), res.CPUPerAccepted.Round(time.Microsecond))
	if o.AfterBurst != nil {
		o.AfterBurst()
	}
	if o.Check != nil {
		rec, err := o.Check.Run(ctx, o.Service, res.Applications, out)
		res.Reconcile = rec
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func percentiles(l []time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	if len(l) == 0 {
		return out
	}
	slices.Sort(l)
	at := func(p float64) time.Duration { return l[int(p*float64(len(l)-1))].Round(10 * time.Microsecond) }
	out["p50"], out["p90"], out["p99"], out["p99.9"], out["max"] = at(0.5), at(0.9), at(0.99), at(0.999), l[len(l)-1].Round(10*time.Microsecond)
	return out
}

// submit sends the i-th application; the latency is the last attempt's.
func submit(ctx context.Context, o Options, i int, tok string) answer {
	who := Generate(o.Offset + i)
	if tok == "" {
		var err error
		if tok, err = o.Token(ctx, who); err != nil {
			return answer{who: who, err: fmt.Errorf("token: %w", err)}
		}
	}
	body, _ := json.Marshal(map[string]any{"service": o.Service, "form": o.Form(o.Offset + i)})
	key := "load-" + who.TaxNumber
	a := answer{who: who, token: tok}
	t0Start := time.Now()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.APIURL+"/applications", bytes.NewReader(body))
		if err != nil {
			return answer{err: err}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("X-Amzn-Trace-Id", traceID(t0Start, i))
		t0 := time.Now()
		resp, err := o.Client.Do(req)
		if err != nil {
			a.err = err
			return a
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		a.latency, a.status = time.Since(t0), resp.StatusCode
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 5 {
			a.retries++
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				a.err = ctx.Err()
				return a
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode == http.StatusAccepted {
			var app struct {
				ID string `json:"applicationId"`
			}
			json.Unmarshal(b, &app)
			a.id = app.ID
		}
		return a
	}
}

// traceID is an X-Ray trace header: Root=1-<epoch hex>-<96 bits>.
func traceID(t time.Time, i int) string {
	return fmt.Sprintf("Root=1-%08x-%024x", t.Unix(), uint64(i))
}

// preMint signs in the first applicants in parallel before the burst.
func preMint(ctx context.Context, o Options, total int, out io.Writer) ([]string, error) {
	n := o.PreMint
	if n == 0 {
		n = min(total, 200000)
	}
	n = min(n, total)
	if n <= 0 {
		return nil, nil
	}
	var bar *progressbar.ProgressBar
	if o.Progress {
		bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("signing in"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
	}
	tokens := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t, err := o.Token(ctx, Generate(o.Offset+i))
				if err != nil {
					once.Do(func() { first = fmt.Errorf("sign in applicant %d: %w", i, err) })
					return
				}
				tokens[i] = t
				if bar != nil {
					bar.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(out)
	}
	return tokens, first
}
