package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha"
)

// Executions reports an execution's status by application id:
// RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or "" when there is
// none.
type Executions interface {
	Status(ctx context.Context, service, applicationID string) (string, error)
}

// SFNExecutions implements Executions with DescribeExecution.
type SFNExecutions struct {
	Client interface {
		DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	}
	// MachineARN names a service's state machine.
	MachineARN func(service string) string
}

// Status implements Executions.
func (s *SFNExecutions) Status(ctx context.Context, service, id string) (string, error) {
	arn := strings.Replace(s.MachineARN(service), ":stateMachine:", ":execution:", 1) + ":" + id
	out, err := s.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", id, err)
	}
	return string(out.Status), nil
}

// Records reads an application record; who is the applicant it was
// accepted for (the API needs their token; a store ignores it).
type Records interface {
	Get(ctx context.Context, a Accepted) (*posluha.Application, error)
}

// APIRecords reads records through GET /applications/{id} with the
// applicant's token: the record as the citizen sees it.
type APIRecords struct {
	URL    string
	Token  func(ctx context.Context, a Applicant) (string, error)
	Client *http.Client
}

// Get implements Records with the applicant's token from the burst, or
// a fresh one.
func (r *APIRecords) Get(ctx context.Context, acc Accepted) (*posluha.Application, error) {
	id, tok := acc.ID, acc.Token
	if tok == "" {
		var err error
		if tok, err = r.Token(ctx, acc.Applicant); err != nil {
			return nil, err
		}
	}
	c := r.Client
	if c == nil {
		c = http.DefaultClient
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/applications/"+id, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", id, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			var a posluha.Application
			if err := json.Unmarshal(b, &a); err != nil {
				return nil, fmt.Errorf("get %s: %w", id, err)
			}
			return &a, nil
		case resp.StatusCode == http.StatusNotFound:
			return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
		case resp.StatusCode == http.StatusTooManyRequests && attempt < 10:
			time.Sleep(time.Second)
		default:
			return nil, fmt.Errorf("get %s: %s", id, resp.Status)
		}
	}
}

// Reconciler checks a burst's outcome against the stores.
type Reconciler struct {
	Records    Records
	Executions Executions
	// Timeout is how long to wait for executions to finish (default 5 min).
	Timeout time.Duration
	// Poll is the pause between rounds over the unfinished (default 1 s).
	Poll    time.Duration
	Workers int // concurrent look-ups, default 32
}

// Reconciliation is the outcome.
type Reconciliation struct {
	Accepted       int // 202 answers
	DuplicateIDs   int // the same id answered to two applicants
	MissingRecords int // a 202 without an application record
	DoubleApplied  int // applicants with more than one application among the 202s
	NoExecution    int // still no execution at the end
	Unfinished     int // still running at the end
	Succeeded      int
	Failed         int // FAILED, TIMED_OUT, ABORTED
	DrainTime      time.Duration
}

// OK reports whether nothing was lost or doubled and everything finished.
func (r *Reconciliation) OK() bool {
	return r.DuplicateIDs == 0 && r.MissingRecords == 0 && r.DoubleApplied == 0 && r.NoExecution == 0 && r.Unfinished == 0
}

// Run reconciles the accepted applications (id → applicant) and prints
// the outcome.
func (c *Reconciler) Run(ctx context.Context, service string, accepted []Accepted, out io.Writer) (*Reconciliation, error) {
	timeout, poll, workers := c.Timeout, c.Poll, c.Workers
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if poll <= 0 {
		poll = time.Second
	}
	if workers <= 0 {
		workers = 32
	}
	r := &Reconciliation{Accepted: len(accepted)}
	seen := map[string]bool{}
	var unique []string
	who := map[string]Accepted{}
	for _, a := range accepted {
		if seen[a.ID] {
			r.DuplicateIDs++
			continue
		}
		seen[a.ID] = true
		who[a.ID] = a
		unique = append(unique, a.ID)
	}
	// Records: each exists, and no citizen has two.
	citizens := map[string]int{}
	var mu sync.Mutex
	err := each(ctx, unique, workers, func(id string) error {
		a, err := c.Records.Get(ctx, who[id])
		mu.Lock()
		defer mu.Unlock()
		if posluha.ErrorName(err) == posluha.ErrApplicationNotFound {
			r.MissingRecords++
			return nil
		}
		if err != nil {
			return err
		}
		citizens[a.Citizen]++
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("reconcile records: %w", err)
	}
	for _, n := range citizens {
		if n > 1 {
			r.DoubleApplied++
		}
	}
	// Executions: wait for every one to finish.
	start := time.Now()
	pending := unique
	for {
		var next []string
		status := map[string]string{}
		err := each(ctx, pending, workers, func(id string) error {
			s, err := c.Executions.Status(ctx, service, id)
			if err != nil {
				return err
			}
			mu.Lock()
			status[id] = s
			mu.Unlock()
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("reconcile executions: %w", err)
		}
		for _, id := range pending {
			switch status[id] {
			case "SUCCEEDED":
				r.Succeeded++
			case "FAILED", "TIMED_OUT", "ABORTED":
				r.Failed++
			default:
				next = append(next, id)
			}
		}
		pending = next
		if len(pending) == 0 || time.Since(start) > timeout || ctx.Err() != nil {
			for _, id := range pending {
				if status[id] == "" {
					r.NoExecution++
				} else {
					r.Unfinished++
				}
			}
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
	r.DrainTime = time.Since(start)
	fmt.Fprintf(out, "reconciliation: %d accepted, %d records missing, %d duplicate ids, %d applicants twice; executions: %d succeeded, %d failed, %d unfinished, %d never started (drained in %s)\n",
		r.Accepted, r.MissingRecords, r.DuplicateIDs, r.DoubleApplied, r.Succeeded, r.Failed, r.Unfinished, r.NoExecution, r.DrainTime.Round(time.Millisecond))
	if !r.OK() {
		return r, errors.New("reconciliation failed")
	}
	return r, nil
}

// each runs f over ids with n workers; the first error stops it.
func each(ctx context.Context, ids []string, n int, f func(string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan string)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ch {
				if err := f(id); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for _, id := range ids {
		select {
		case ch <- id:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(ch)
	wg.Wait()
	return first
}
