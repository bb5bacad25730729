package bursttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/local/load"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
)

var (
	applicants = flag.Int("burst.n", 300, "applications submitted")
	rps        = flag.Float64("burst.rps", 100, "submissions per second")
	kills      = flag.Int("burst.kills", 2, "SIGKILLs of the stack: spread over the burst, the last one just after it (while executions run)")
	drainFor   = flag.Duration("burst.drain", 2*time.Minute, "how long the executions may take to finish after the burst")
	keepDir    = flag.String("burst.dir", "", "data directory to use and keep (default a temporary one)")
)

const (
	service    = "lockdown-payout"
	partnerID  = "partner-bank" // the stack's built-in partner client
	partnerKey = "partner-secret"
	machineARN = "arn:aws:states:local:000000000000:stateMachine:" + service
)

// binary is the posluha command built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bursttest:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "bursttest-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "posluha")
	build := exec.Command("go", "build", "-o", binary, "./local/cmd/posluha")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build posluha: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// moduleRoot is where go.mod is: tests run in the package directory.
func moduleRoot() string {
	abs, _ := filepath.Abs(filepath.Join("..", ".."))
	return abs
}

// child is one life of `posluha serve`.
type child struct {
	cmd  *exec.Cmd
	urls map[string]string
	done chan struct{} // closed when the process has exited
}

// startChild starts `posluha serve` on dir with every port on loopback
// chosen by the kernel and waits until it prints its URLs. Its registry
// connectors point at reg (the test's simulator).
func startChild(ctx context.Context, dir, reg string, logs io.Writer) (*child, error) {
	root := moduleRoot()
	cmd := exec.Command(binary, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--registries-addr", "127.0.0.1:0",
		"--api-addr", "127.0.0.1:0", "--oidc-addr", "127.0.0.1:0", "--statemachines", filepath.Join(root, "statemachines"),
		"--watch", "0", "--log-level", "warn")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "POSLUHA_REGISTRY_URL="+reg, "POSLUHA_USR_URL="+reg+"/rest/usr", "POSLUHA_NOTIFY_URL="+reg+"/rest/notify")
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, urls: map[string]string{}, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if f := strings.Fields(line); !signalled && len(f) == 2 && strings.HasPrefix(f[1], "http") {
				c.urls[f[0]] = f[1]
			}
			if !signalled && strings.HasPrefix(strings.TrimSpace(line), "try:") {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(c.done)
	}()
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, errors.New("posluha serve exited during start (its log is in the test output)")
	case <-time.After(90 * time.Second):
		c.kill()
		return nil, errors.New("posluha serve did not start within 90 s")
	case <-ctx.Done():
		c.kill()
		return nil, ctx.Err()
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// endpoint is the API of the stack's current life and a partner token
// it issued; submitters wait while the stack is down.
type endpoint struct {
	mu    sync.Mutex
	api   string
	token string
	up    chan struct{} // closed while the stack serves
}

func (e *endpoint) get(ctx context.Context) (api, token string, err error) {
	for {
		e.mu.Lock()
		up, api, token := e.up, e.api, e.token
		e.mu.Unlock()
		select {
		case <-up:
			return api, token, nil
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
	}
}

func (e *endpoint) down() {
	e.mu.Lock()
	e.up = make(chan struct{})
	e.mu.Unlock()
}

func (e *endpoint) set(api, token string) {
	e.mu.Lock()
	e.api, e.token = api, token
	close(e.up)
	e.mu.Unlock()
}

// ack is what the stack acknowledged for an applicant.
type ack struct {
	id       string
	attempts int
}

// TestKillDuringBurst is issue #6's "kill -9 in the middle of a burst and
// restart: every acknowledged application is still there and completes",
// with the treasury checking that nobody is paid twice.
func TestKillDuringBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack several times")
	}
	n, k := *applicants, *kills
	if n <= 0 || k < 1 || *rps <= 0 {
		t.Fatalf("-burst.n, -burst.rps and -burst.kills must be positive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute+*drainFor+time.Duration(float64(n) / *rps * float64(time.Second)))
	defer cancel()

	sim := registries.New(registries.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	reg := "http://" + ln.Addr().String()

	dir := *keepDir
	if dir == "" {
		dir = t.TempDir()
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("end of the stack's log:\n%s", b)
		}
	})

	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	ep := &endpoint{up: make(chan struct{})}
	var cur *child
	lives := 0
	boot := func() {
		t.Helper()
		started := time.Now()
		c, err := startChild(ctx, dir, reg, logs)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := oidc.ClientCredentials(ctx, client, c.urls["oidc"], partnerID, partnerKey)
		if err != nil {
			c.kill()
			t.Fatalf("partner token: %v", err)
		}
		cur = c
		lives++
		t.Logf("life %d: the stack serves after %s", lives, time.Since(started).Round(time.Millisecond))
		ep.set(c.urls["api"], tok)
	}
	boot()
	defer func() { cur.kill() }()

	// The burst: applicant i leaves at i/rps whatever happened to the
	// earlier ones, and insists (same Idempotency-Key) until it gets an
	// answer that is not a failure of the stack.
	acks := make([]ack, n)
	errs := make([]error, n)
	var acked atomic.Int64
	ackedCh := make(chan struct{}, n)
	var wg sync.WaitGroup
	start := time.Now()
	go func() {
		for i := range n {
			if d := time.Until(start.Add(time.Duration(float64(i) / *rps * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				acks[i], errs[i] = submit(ctx, client, ep, i)
				if errs[i] == nil {
					acked.Add(1)
				}
				ackedCh <- struct{}{}
			}()
		}
	}()

	// Kill j (1-based) comes when j·n/k applicants have their answer: the
	// last one right after the burst, while executions still run.
	answered := 0
	for j := 1; j <= k; j++ {
		for answered < j*n/k {
			select {
			case <-ackedCh:
				answered++
			case <-ctx.Done():
				t.Fatalf("burst: %v after %d answers", ctx.Err(), answered)
			}
		}
		ep.down()
		cur.kill()
		t.Logf("kill %d after %d answers (%d acknowledged), %s into the burst", j, answered, acked.Load(), time.Since(start).Round(time.Millisecond))
		boot()
	}
	wg.Wait()
	burst := time.Since(start)

	ids := map[string]int{}
	retried := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("applicant %d: %v", i, errs[i])
			continue
		}
		if prev, dup := ids[acks[i].id]; dup {
			t.Errorf("applicants %d and %d got the same id %s", prev, i, acks[i].id)
		}
		ids[acks[i].id] = i
		if acks[i].attempts > 1 {
			retried++
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("burst: %d acknowledged in %s, %d after more than one attempt", len(ids), burst.Round(time.Millisecond), retried)

	// Every acknowledged application completes.
	api, _, err := ep.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := sfn.NewFromConfig(aws.Config{Region: "local", BaseEndpoint: aws.String(cur.urls["aws"]),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	pending := make([]string, 0, len(ids))
	for id := range ids {
		pending = append(pending, id)
	}
	drainStart := time.Now()
	status := map[string]sfntypes.ExecutionStatus{}
	for len(pending) > 0 && time.Since(drainStart) < *drainFor {
		var next []string
		for _, id := range pending {
			out, err := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + id)})
			var missing *sfntypes.ExecutionDoesNotExist
			switch {
			case errors.As(err, &missing):
				status[id] = ""
				next = append(next, id)
			case err != nil:
				t.Fatalf("describe %s: %v", id, err)
			case out.Status == sfntypes.ExecutionStatusRunning:
				status[id] = out.Status
				next = append(next, id)
			default:
				status[id] = out.Status
			}
		}
		pending = next
		if len(pending) > 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	// Say where each unfinished one stands: a lost callback shows as a
	// waitForTaskToken task started before a kill and never answered.
	where := map[string]int{}
	for _, id := range pending {
		where[lastStep(ctx, sc, id)]++
	}
	for w, c := range where {
		t.Errorf("%d of %d acknowledged applications unfinished %s after the burst, last history event: %s", c, len(ids), *drainFor, w)
	}
	for id, s := range status {
		if s != sfntypes.ExecutionStatusSucceeded && s != sfntypes.ExecutionStatusRunning && s != "" {
			t.Errorf("application %s: execution %s", id, s)
		}
	}
	unfinished := map[string]bool{}
	for _, id := range pending {
		unfinished[id] = true
	}
	if len(pending) == 0 && !t.Failed() {
		t.Logf("drain: every execution SUCCEEDED %s after the burst", time.Since(drainStart).Round(time.Millisecond))
	}

	// Every record is there, the applicant's, finished; the paid ones
	// were paid once.
	support, err := oidc.DeviceLogin(ctx, client, cur.urls["oidc"], "support")
	if err != nil {
		t.Fatalf("support token: %v", err)
	}
	done, rejected := 0, 0
	for id, i := range ids {
		a, err := getApplication(ctx, client, api, support, id)
		if err != nil {
			t.Errorf("applicant %d: %v", i, err)
			continue
		}
		if want := load.Generate(i).TaxNumber; a.Citizen != want {
			t.Errorf("application %s is %s's, want applicant %d's (%s)", id, a.Citizen, i, want)
		}
		switch {
		case unfinished[id]:
			// Reported above; counted so that the payments add up.
		case a.Status == posluha.StatusDone:
			done++
		case a.Status == posluha.StatusRejected:
			rejected++
		default:
			t.Errorf("application %s: status %s after its execution succeeded", id, a.Status)
		}
	}
	paid := sim.EffectivePayments()
	switch {
	case len(unfinished) == 0 && paid != done:
		t.Errorf("treasury made %d payments for %d paid applications", paid, done)
	case len(unfinished) > 0:
		// Payments beyond the paid applications belong to the unfinished
		// ones: more than one each would be a double payment.
		if paid < done || paid > done+len(unfinished) {
			t.Errorf("treasury made %d payments for %d paid and %d unfinished applications", paid, done, len(unfinished))
		}
		t.Logf("of the %d unfinished, %d were paid by the treasury before their execution stalled", len(unfinished), paid-done)
	}
	t.Logf("records: %d paid (treasury: %d payments, %d replays of a payment), %d rejected; %d lives of the stack",
		done, paid, sim.Stats("treasury").Replays, rejected, lives)
}

// lastStep describes the newest history event of application id's
// execution (its type and the state it was in).
func lastStep(ctx context.Context, sc *sfn.Client, id string) string {
	out, err := sc.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + id),
		ReverseOrder: true, MaxResults: 20})
	if err != nil {
		var missing *sfntypes.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			return "no execution"
		}
		return err.Error()
	}
	if len(out.Events) == 0 {
		return "no events"
	}
	last := string(out.Events[0].Type)
	for _, e := range out.Events {
		if d := e.StateEnteredEventDetails; d != nil {
			return last + " in " + aws.ToString(d.Name)
		}
	}
	return last
}

// submit applies for applicant i until the stack answers something other
// than a failure of its own, as a partner platform would.
func submit(ctx context.Context, c *http.Client, ep *endpoint, i int) (ack, error) {
	who := load.Generate(i)
	body, _ := json.Marshal(map[string]any{"service": service, "form": load.IBAN(i),
		"onBehalfOf": map[string]string{"taxNumber": who.TaxNumber, "name": who.Name, "birthDate": who.BirthDate}})
	var a ack
	for {
		a.attempts++
		api, tok, err := ep.get(ctx)
		if err != nil {
			return a, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api+"/applications", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", "burst-"+who.TaxNumber)
		resp, err := c.Do(req)
		wait := 200 * time.Millisecond
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusAccepted:
				var app struct {
					ID string `json:"applicationId"`
				}
				if err := json.Unmarshal(b, &app); err != nil || app.ID == "" {
					return a, fmt.Errorf("202 without an application id: %s", b)
				}
				a.id = app.ID
				return a, nil
			case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
					wait = time.Duration(s) * time.Second
				}
			case resp.StatusCode == http.StatusUnauthorized:
				// A token of the previous life (its key died with it).
			default:
				return a, fmt.Errorf("%s: %s", resp.Status, b)
			}
		}
		if ctx.Err() != nil {
			return a, ctx.Err()
		}
		time.Sleep(wait)
	}
}

// getApplication reads a record through the API with a support token,
// waiting out the support rate limit.
func getApplication(ctx context.Context, c *http.Client, api, token, id string) (*posluha.Application, error) {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/applications/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", id, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var a posluha.Application
			if err := json.Unmarshal(b, &a); err != nil {
				return nil, fmt.Errorf("get %s: %w", id, err)
			}
			return &a, nil
		case http.StatusTooManyRequests:
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		default:
			return nil, fmt.Errorf("get %s: %s: %s", id, resp.Status, b)
		}
	}
}
