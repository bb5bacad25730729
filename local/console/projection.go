package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha/local/bus"
)

// App is the projection's view of one application's execution.
type App struct {
	ID           string    `json:"applicationId"`
	Service      string    `json:"service"`
	ExecutionARN string    `json:"executionArn"`
	Citizen      string    `json:"citizen,omitempty"`
	Status       string    `json:"status"` // the execution status (RUNNING, SUCCEEDED, FAILED, …)
	Steps        []string  `json:"steps"`  // BPMN elements the running execution is at
	Since        time.Time `json:"since"`  // when Steps (or the final status) last changed
	Started      time.Time `json:"started"`
	Stopped      time.Time `json:"stopped,omitzero"`
	Error        string    `json:"error,omitempty"`
	Cause        string    `json:"cause,omitempty"`
	FailedStep   string    `json:"failedStep,omitempty"`
	FailedState  string    `json:"failedState,omitempty"`
	FailedThread string    `json:"failedThread,omitempty"`
	// FailedInput is the failing step's input: personal data, only in the
	// audited detail answer.
	FailedInput  json.RawMessage `json:"failedInput,omitempty"`
	RedriveCount int             `json:"redriveCount"`
	StatusSeq    int64           `json:"statusSeq"`
	StepsSeq     int64           `json:"stepsSeq"`
	FailSeq      int64           `json:"failSeq,omitempty"`
	// StartCounted: the start is in the throughput already (the step
	// event of the first state may come before the RUNNING status).
	StartCounted bool `json:"startCounted,omitempty"`
}

func (a *App) failed() bool { return a.Status == "FAILED" || a.Status == "TIMED_OUT" }

// Projection is the console's read model: applications by id with indexes
// by service+status (ordered by time), service+step, citizen and failure
// time, and counters per service, step and minute, all kept in one bbolt
// file and updated from bus events in the transaction that stores the
// record, so that every console query is an index seek.
type Projection struct {
	db *bolt.DB
}

var (
	bApps     = []byte("apps")     // id → App JSON
	bStatus   = []byte("status")   // service 0 status 0 since(8) id → ""
	bStep     = []byte("step")     // service 0 step 0 id → ""
	bCitizen  = []byte("citizen")  // citizen 0 id → ""
	bFailed   = []byte("failed")   // stopped(8) id → ""
	bCounts   = []byte("counts")   // s|p|f 0 service 0 status-or-step → count(8)
	bMinutes  = []byte("minutes")  // service 0 minute(8) kind → count(8)
	bServices = []byte("services") // service → ""
	buckets   = [][]byte{bApps, bStatus, bStep, bCitizen, bFailed, bCounts, bMinutes, bServices}
)

// ProjectionOptions tune the file.
type ProjectionOptions struct {
	// NoSync skips fsync: the projection can be rebuilt from the bus, and
	// benchmarks load millions of records.
	NoSync bool
}

// OpenProjection opens or creates the projection file at path.
func OpenProjection(path string, o ProjectionOptions) (*Projection, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open console projection %s: %w", path, err)
	}
	db.NoSync = o.NoSync
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init console projection %s: %w", path, err)
	}
	return &Projection{db: db}, nil
}

// Close closes the file.
func (p *Projection) Close() error { return p.db.Close() }

func be(n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, []byte{0}) }

// keys are the index entries of a record: bucket name + key.
type ikey struct {
	bucket string
	key    string
}

func indexKeys(a *App) []ikey {
	if a == nil {
		return nil
	}
	ks := []ikey{
		{string(bStatus), string(join([]byte(a.Service), []byte(a.Status), append(be(a.Since.UnixNano()), a.ID...)))},
	}
	if a.Service != "" {
		ks = append(ks, ikey{string(bServices), a.Service})
	}
	if a.Citizen != "" {
		ks = append(ks, ikey{string(bCitizen), string(join([]byte(a.Citizen), []byte(a.ID)))})
	}
	if a.Status == "RUNNING" {
		for _, s := range a.Steps {
			ks = append(ks, ikey{string(bStep), string(join([]byte(a.Service), []byte(s), []byte(a.ID)))})
		}
	}
	if a.failed() {
		ks = append(ks, ikey{string(bFailed), string(append(be(a.Stopped.UnixNano()), a.ID...))})
	}
	return ks
}

// counters are the counts a record adds to.
func counters(a *App) []string {
	if a == nil {
		return nil
	}
	cs := []string{string(join([]byte("s"), []byte(a.Service), []byte(a.Status)))}
	if a.Status == "RUNNING" {
		for _, s := range a.Steps {
			cs = append(cs, string(join([]byte("p"), []byte(a.Service), []byte(s))))
		}
	}
	if a.failed() && a.FailedStep != "" {
		cs = append(cs, string(join([]byte("f"), []byte(a.Service), []byte(a.FailedStep))))
	}
	return cs
}

func addCount(b *bolt.Bucket, k []byte, d int64) error {
	var n int64
	if v := b.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += d
	if n <= 0 {
		return b.Delete(k)
	}
	return b.Put(k, be(n))
}

// put stores next in place of prev, moving the index entries and counts
// that changed.
func put(tx *bolt.Tx, prev, next *App) error {
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bApps).Put([]byte(next.ID), v); err != nil {
		return err
	}
	oldK, newK := indexKeys(prev), indexKeys(next)
	for _, k := range oldK {
		if !slices.Contains(newK, k) && k.bucket != string(bServices) {
			if err := tx.Bucket([]byte(k.bucket)).Delete([]byte(k.key)); err != nil {
				return err
			}
		}
	}
	for _, k := range newK {
		if !slices.Contains(oldK, k) {
			if err := tx.Bucket([]byte(k.bucket)).Put([]byte(k.key), nil); err != nil {
				return err
			}
		}
	}
	oldC, newC := counters(prev), counters(next)
	cb := tx.Bucket(bCounts)
	for _, c := range oldC {
		if !slices.Contains(newC, c) {
			if err := addCount(cb, []byte(c), -1); err != nil {
				return err
			}
		}
	}
	for _, c := range newC {
		if !slices.Contains(oldC, c) {
			if err := addCount(cb, []byte(c), 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Minute counter kinds.
const (
	kindStarted   = "started"
	kindCompleted = "completed"
	kindFailed    = "failed"
)

func bumpMinute(tx *bolt.Tx, service string, at time.Time, kind string) error {
	k := append(append([]byte(service), 0), be(at.Unix()/60)...)
	k = append(k, kind...)
	return addCount(tx.Bucket(bMinutes), k, 1)
}

func getApp(tx *bolt.Tx, id string) (*App, error) {
	v := tx.Bucket(bApps).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var a App
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("read application %s: %w", id, err)
	}
	return &a, nil
}

func clone(a *App) *App {
	if a == nil {
		return nil
	}
	c := *a
	c.Steps = slices.Clone(a.Steps)
	return &c
}

// Apply folds bus events into the projection in one transaction. Old and
// repeated events are recognised by their sequence and skipped, so replays
// and redeliveries change nothing. Events it cannot read are skipped too:
// failing would make the bus redeliver a poison event forever; only
// storage errors fail. It is a bus.Handler.
func (p *Projection) Apply(_ context.Context, events []bus.Event) error {
	return p.db.Update(func(tx *bolt.Tx) error {
		for _, e := range events {
			ch, ok := changeOf(e)
			if !ok {
				continue
			}
			prev, err := getApp(tx, ch.id)
			if err != nil {
				return fmt.Errorf("apply event %s: %w", e.ID, err)
			}
			next, bumps := ch.fold(prev)
			if next == nil {
				continue
			}
			for _, b := range bumps {
				if err := bumpMinute(tx, b.service, b.at, b.kind); err != nil {
					return fmt.Errorf("apply event %s: %w", e.ID, err)
				}
			}
			if err := put(tx, prev, next); err != nil {
				return fmt.Errorf("apply event %s: %w", e.ID, err)
			}
		}
		return nil
	})
}

// change is what one event does to one application: fold computes the
// record after the event from the record before it (nil before: the first
// event seen), and the per-minute counts to add. A nil next means the event
// changes nothing (seen already). Every store applies events through it, so
// that they agree on idempotence and ordering.
type change struct {
	id   string
	fold func(prev *App) (next *App, bumps []bump)
}

// bump adds one to a per-minute counter.
type bump struct {
	service string
	at      time.Time
	kind    string
}

// changeOf reads an event; false for events the projection ignores (other
// detail types, unreadable details).
func changeOf(e bus.Event) (change, bool) {
	switch e.DetailType {
	case bus.DetailTypeExecution:
		return statusChange(e)
	case bus.DetailTypeStep:
		return stepChange(e)
	}
	return change{}, false
}

type inputIdentity struct {
	ApplicationID string `json:"applicationId"`
	Service       string `json:"service"`
	Citizen       struct {
		TaxNumber string `json:"taxNumber"`
	} `json:"citizen"`
}

func statusChange(e bus.Event) (change, bool) {
	d, err := bus.DecodeExecution(e)
	if err != nil || d.Name == "" {
		return change{}, false // unreadable: see Apply
	}
	var in inputIdentity
	_ = json.Unmarshal([]byte(d.Input), &in) // any input: the fallbacks below apply
	// Index keys hold these; bound what an odd input can put there.
	if len(in.ApplicationID) > 200 {
		in.ApplicationID = ""
	}
	if len(in.Service) > 80 {
		in.Service = ""
	}
	if len(in.Citizen.TaxNumber) > 64 {
		in.Citizen.TaxNumber = ""
	}
	id := cmpOr(in.ApplicationID, d.Name)
	if len(id) > 200 {
		return change{}, false
	}
	fromAWS := d.Sequence == 0
	if fromAWS {
		d.Sequence = awsSequence(d)
	}
	return change{id: id, fold: func(prev *App) (*App, []bump) {
		if prev != nil && d.Sequence <= prev.StatusSeq {
			return nil, nil // seen already
		}
		var bumps []bump
		next := clone(prev)
		if next == nil {
			next = &App{ID: id, Steps: []string{}}
		}
		next.ExecutionARN, next.Citizen = d.ExecutionARN, cmpOr(in.Citizen.TaxNumber, next.Citizen)
		next.Service = cmpOr(in.Service, next.Service, d.StateMachineARN[strings.LastIndexByte(d.StateMachineARN, ':')+1:])
		next.Status, next.StatusSeq, next.RedriveCount = d.Status, d.Sequence, d.RedriveCount
		next.Started = time.UnixMilli(d.StartDate).UTC()
		next.Error, next.Cause = deref(d.Error), deref(d.Cause)
		now := e.Time
		switch {
		case d.Status == "RUNNING":
			next.Stopped = time.Time{}
			if d.RedriveCount == 0 && !next.StartCounted {
				next.StartCounted = true
				bumps = append(bumps, bump{next.Service, now, kindStarted})
			}
		default:
			if d.StopDate != nil {
				now = time.UnixMilli(*d.StopDate).UTC()
			}
			next.Stopped = now
			next.Since = now
			if fromAWS && next.failed() && len(next.Steps) > 0 {
				// AWS sends no step failure event: the step the
				// application was at is the one that failed.
				next.FailedStep = next.Steps[0]
			}
			next.Steps, next.StepsSeq = []string{}, max(next.StepsSeq, d.Sequence)
			kind := kindCompleted
			if next.failed() {
				kind = kindFailed
			}
			if d.Status != "ABORTED" {
				bumps = append(bumps, bump{next.Service, now, kind})
			}
		}
		if next.Since.IsZero() {
			next.Since = now
		}
		return next, bumps
	}}, true
}

// awsSequence orders the status events Step Functions sends in AWS, which
// carry no sequence (ours is the local engine's event id): by the time of
// the change in Unix nanoseconds (start or redrive for RUNNING, stop
// otherwise), a stop sorting after a start of the same millisecond. Step
// events put by the task Lambdas (functions/internal/stepevents) carry
// their Unix-nanosecond time as sequence, so that a terminal status, which
// sets StepsSeq, also hides step events that happened before it.
func awsSequence(d *bus.ExecutionDetail) int64 {
	const perMilli = int64(time.Millisecond)
	switch {
	case d.Status != "RUNNING" && d.StopDate != nil:
		return *d.StopDate*perMilli + perMilli - 1
	case d.Status == "RUNNING" && d.RedriveDate != nil:
		return *d.RedriveDate * perMilli
	}
	return d.StartDate * perMilli
}

func stepChange(e bus.Event) (change, bool) {
	d, err := bus.DecodeStep(e)
	if err != nil || d.ApplicationID == "" || len(d.ApplicationID) > 200 || len(d.Service) > 80 || len(d.Step) > 256 {
		return change{}, false // unreadable: see Apply
	}
	return change{id: d.ApplicationID, fold: func(prev *App) (*App, []bump) {
		next := clone(prev)
		if next == nil {
			next = &App{ID: d.ApplicationID, Service: d.Service, ExecutionARN: d.ExecutionARN, Status: "RUNNING", Started: d.Time, Steps: []string{}}
		}
		switch d.Status {
		case bus.StepFailed:
			if d.Sequence <= next.FailSeq {
				return nil, nil
			}
			next.FailSeq = d.Sequence
			next.FailedStep, next.FailedState, next.FailedThread = d.Step, d.State, d.Thread
			next.FailedInput, next.Error, next.Cause = d.Input, d.Error, d.Cause
		default:
			if d.Sequence <= next.StepsSeq {
				return nil, nil
			}
			next.StepsSeq = d.Sequence
			if !slices.Equal(next.Steps, d.Steps) {
				next.Steps = slices.Clone(d.Steps)
				next.Since = d.Time
			}
		}
		return next, nil
	}}, true
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ErrNotFound is returned for an unknown application.
var ErrNotFound = errors.New("console: application not found")

// Get returns one application. Errors: ErrNotFound.
func (p *Projection) Get(_ context.Context, id string) (*App, error) {
	var a *App
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = getApp(tx, id)
		return err
	})
	if err == nil && a == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return a, err
}

// ServiceStats are a service's live figures.
type ServiceStats struct {
	Service  string           `json:"service"`
	ByStatus map[string]int64 `json:"byStatus"` // execution status → applications
	AtStep   map[string]int64 `json:"atStep"`   // BPMN element → running applications there
	FailedAt map[string]int64 `json:"failedAt"` // BPMN element → failed applications that failed there
	Minutes  []Minute         `json:"minutes"`  // the last hour, oldest first, minutes without activity left out
}

// Minute is the activity of one minute.
type Minute struct {
	Time      time.Time `json:"time"`
	Started   int64     `json:"started"`
	Completed int64     `json:"completed"`
	Failed    int64     `json:"failed"`
}

// Services lists the services the projection has seen.
func (p *Projection) Services(context.Context) ([]string, error) {
	var out []string
	err := p.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bServices).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// Stats returns a service's counters and its throughput per minute over
// the hour before now.
func (p *Projection) Stats(_ context.Context, service string, now time.Time) (*ServiceStats, error) {
	st := &ServiceStats{Service: service, ByStatus: map[string]int64{}, AtStep: map[string]int64{}, FailedAt: map[string]int64{}, Minutes: []Minute{}}
	err := p.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCounts).Cursor()
		for _, kind := range []string{"s", "p", "f"} {
			prefix := join([]byte(kind), []byte(service), nil)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				name, n := string(k[len(prefix):]), int64(binary.BigEndian.Uint64(v))
				switch kind {
				case "s":
					st.ByStatus[name] = n
				case "p":
					st.AtStep[name] = n
				case "f":
					st.FailedAt[name] = n
				}
			}
		}
		prefix := append([]byte(service), 0)
		from := now.Add(-time.Hour).Unix() / 60
		mc := tx.Bucket(bMinutes).Cursor()
		byMin := map[int64]*Minute{}
		for k, v := mc.Seek(append(slices.Clone(prefix), be(from)...)); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix)+8; k, v = mc.Next() {
			m := int64(binary.BigEndian.Uint64(k[len(prefix):]))
			row := byMin[m]
			if row == nil {
				row = &Minute{Time: time.Unix(m*60, 0).UTC()}
				byMin[m] = row
			}
			n := int64(binary.BigEndian.Uint64(v))
			switch string(k[len(prefix)+8:]) {
			case kindStarted:
				row.Started = n
			case kindCompleted:
				row.Completed = n
			case kindFailed:
				row.Failed = n
			}
		}
		for _, m := range byMin {
			st.Minutes = append(st.Minutes, *m)
		}
		sort.Slice(st.Minutes, func(i, j int) bool { return st.Minutes[i].Time.Before(st.Minutes[j].Time) })
		return nil
	})
	return st, err
}

// Page is one page of a list; Next is the cursor of the following page
// ("" on the last).
type Page struct {
	Apps []*App `json:"applications"`
	Next string `json:"next,omitempty"`

	lastKey []byte
}

// scan walks index keys under prefix, newest (largest) first when desc,
// starting after the cursor, and loads up to limit applications whose id
// idOf extracts from the key.
func scan(tx *bolt.Tx, bucket, prefix []byte, after string, desc bool, limit int, idOf func(k []byte) string, stop func(k []byte) bool) (*Page, error) {
	c := tx.Bucket(bucket).Cursor()
	var k []byte
	switch {
	case after != "":
		k, _ = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			if desc {
				k, _ = c.Prev()
			} else {
				k, _ = c.Next()
			}
		} else if desc {
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
	case desc:
		end := append(slices.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		if k, _ = c.Seek(end); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	default:
		k, _ = c.Seek(prefix)
	}
	page := &Page{Apps: []*App{}}
	for ; k != nil && bytes.HasPrefix(k, prefix); k = step(c, desc) {
		if stop != nil && stop(k) {
			break
		}
		if len(page.Apps) == limit {
			page.Next = string(page.lastKey)
			break
		}
		a, err := getApp(tx, idOf(k))
		if err != nil {
			return nil, err
		}
		if a != nil {
			page.Apps = append(page.Apps, a)
		}
		page.lastKey = slices.Clone(k)
	}
	page.lastKey = nil
	return page, nil
}

func step(c *bolt.Cursor, desc bool) []byte {
	var k []byte
	if desc {
		k, _ = c.Prev()
	} else {
		k, _ = c.Next()
	}
	return k
}

func clampLimit(n int) int {
	if n <= 0 || n > 500 {
		return 50
	}
	return n
}

// Failed lists failed (and timed-out) applications, newest failure first;
// service "" lists every service.
func (p *Projection) Failed(_ context.Context, service string, limit int, after string) (*Page, error) {
	limit = clampLimit(limit)
	var page *Page
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		if service == "" {
			page, err = scan(tx, bFailed, nil, after, true, limit, func(k []byte) string { return string(k[8:]) }, nil)
			return err
		}
		// Per service: FAILED and TIMED_OUT are two runs of the status
		// index; FAILED is what support works on, so it is listed.
		prefix := join([]byte(service), []byte("FAILED"), nil)
		page, err = scan(tx, bStatus, prefix, after, true, limit, func(k []byte) string { return string(k[len(prefix)+8:]) }, nil)
		return err
	})
	return page, err
}

// Stuck lists running applications of a service whose current steps have
// not changed since before cutoff, longest stuck first.
func (p *Projection) Stuck(_ context.Context, service string, cutoff time.Time, limit int, after string) (*Page, error) {
	limit = clampLimit(limit)
	prefix := join([]byte(service), []byte("RUNNING"), nil)
	var page *Page
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		page, err = scan(tx, bStatus, prefix, after, false, limit, func(k []byte) string { return string(k[len(prefix)+8:]) }, func(k []byte) bool {
			return int64(binary.BigEndian.Uint64(k[len(prefix):])) >= cutoff.UnixNano()
		})
		return err
	})
	return page, err
}

// AtStep lists the running applications at a step of a service.
func (p *Projection) AtStep(_ context.Context, service, step string, limit int, after string) (*Page, error) {
	limit = clampLimit(limit)
	prefix := join([]byte(service), []byte(step), nil)
	var page *Page
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		page, err = scan(tx, bStep, prefix, after, false, limit, func(k []byte) string { return string(k[len(prefix):]) }, nil)
		return err
	})
	return page, err
}

// ByCitizen lists a citizen's applications.
func (p *Projection) ByCitizen(_ context.Context, citizen string, limit int, after string) (*Page, error) {
	limit = clampLimit(limit)
	prefix := join([]byte(citizen), nil)
	var page *Page
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		page, err = scan(tx, bCitizen, prefix, after, false, limit, func(k []byte) string { return string(k[len(prefix):]) }, nil)
		return err
	})
	return page, err
}

// Load writes applications straight into the projection (with their
// indexes and counts), replacing records with the same ids: bulk imports
// and benchmarks.
func (p *Projection) Load(apps []*App) error {
	return p.db.Update(func(tx *bolt.Tx) error {
		for _, a := range apps {
			prev, err := getApp(tx, a.ID)
			if err != nil {
				return err
			}
			if err := put(tx, prev, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// StatusCounts returns service → execution status → applications, from
// the counters (a scrape of posluha_executions reads this).
func (p *Projection) StatusCounts(context.Context) (map[string]map[string]int64, error) {
	return p.counts("s")
}

// StepCounts returns service → BPMN element → running applications there.
func (p *Projection) StepCounts(context.Context) (map[string]map[string]int64, error) {
	return p.counts("p")
}

func (p *Projection) counts(kind string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	err := p.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCounts).Cursor()
		prefix := []byte(kind + "\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			svc, label, ok := bytes.Cut(k[len(prefix):], []byte{0})
			if !ok || len(v) != 8 {
				continue
			}
			m := out[string(svc)]
			if m == nil {
				m = map[string]int64{}
				out[string(svc)] = m
			}
			m[string(label)] = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return out, err
}
