package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
)

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

func indexKeys(a *support.App) []ikey {
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
	if a.Failed() {
		ks = append(ks, ikey{string(bFailed), string(append(be(a.Stopped.UnixNano()), a.ID...))})
	}
	return ks
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
func put(tx *bolt.Tx, prev, next *support.App) error {
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
	oldC, newC := support.Counters(prev), support.Counters(next)
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

func bumpMinute(tx *bolt.Tx, service string, at time.Time, kind string) error {
	k := append(append([]byte(service), 0), be(at.Unix()/60)...)
	k = append(k, kind...)
	return addCount(tx.Bucket(bMinutes), k, 1)
}

func getApp(tx *bolt.Tx, id string) (*support.App, error) {
	v := tx.Bucket(bApps).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var a support.App
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("read application %s: %w", id, err)
	}
	return &a, nil
}

// Apply folds bus events into the projection in one transaction. Old and
// repeated events are recognised by their sequence and skipped, so replays
// and redeliveries change nothing. Events it cannot read are skipped too:
// failing would make the bus redeliver a poison event forever; only
// storage errors fail. It is a bus.Handler.
func (p *Projection) Apply(_ context.Context, events []bus.Event) error {
	return p.db.Update(func(tx *bolt.Tx) error {
		for _, e := range events {
			ch, ok := support.ChangeOf(e)
			if !ok {
				continue
			}
			prev, err := getApp(tx, ch.ID)
			if err != nil {
				return fmt.Errorf("apply event %s: %w", e.ID, err)
			}
			next, bumps := ch.Fold(prev)
			if next == nil {
				continue
			}
			for _, b := range bumps {
				if err := bumpMinute(tx, b.Service, b.At, b.Kind); err != nil {
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

// Get returns one application. Errors: support.ErrNotFound.
func (p *Projection) Get(_ context.Context, id string) (*support.App, error) {
	var a *support.App
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = getApp(tx, id)
		return err
	})
	if err == nil && a == nil {
		return nil, fmt.Errorf("%w: %s", support.ErrNotFound, id)
	}
	return a, err
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
func (p *Projection) Stats(_ context.Context, service string, now time.Time) (*support.ServiceStats, error) {
	st := &support.ServiceStats{Service: service, ByStatus: map[string]int64{}, AtStep: map[string]int64{}, FailedAt: map[string]int64{}, Minutes: []support.Minute{}}
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
		byMin := map[int64]*support.Minute{}
		for k, v := mc.Seek(append(slices.Clone(prefix), be(from)...)); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix)+8; k, v = mc.Next() {
			m := int64(binary.BigEndian.Uint64(k[len(prefix):]))
			row := byMin[m]
			if row == nil {
				row = &support.Minute{Time: time.Unix(m*60, 0).UTC()}
				byMin[m] = row
			}
			n := int64(binary.BigEndian.Uint64(v))
			switch string(k[len(prefix)+8:]) {
			case support.KindStarted:
				row.Started = n
			case support.KindCompleted:
				row.Completed = n
			case support.KindFailed:
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

// scan walks index keys under prefix, newest (largest) first when desc,
// starting after the cursor, and loads up to limit applications whose id
// idOf extracts from the key.
func scan(tx *bolt.Tx, bucket, prefix []byte, after string, desc bool, limit int, idOf func(k []byte) string, stop func(k []byte) bool) (*support.Page, error) {
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
	page := &support.Page{Apps: []*support.App{}}
	var lastKey []byte
	for ; k != nil && bytes.HasPrefix(k, prefix); k = step(c, desc) {
		if stop != nil && stop(k) {
			break
		}
		if len(page.Apps) == limit {
			page.Next = string(lastKey)
			break
		}
		a, err := getApp(tx, idOf(k))
		if err != nil {
			return nil, err
		}
		if a != nil {
			page.Apps = append(page.Apps, a)
		}
		lastKey = slices.Clone(k)
	}
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

// Failed lists failed (and timed-out) applications, newest failure first;
// service "" lists every service.
func (p *Projection) Failed(_ context.Context, service string, limit int, after string) (*support.Page, error) {
	limit = support.ClampLimit(limit)
	var page *support.Page
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
func (p *Projection) Stuck(_ context.Context, service string, cutoff time.Time, limit int, after string) (*support.Page, error) {
	limit = support.ClampLimit(limit)
	prefix := join([]byte(service), []byte("RUNNING"), nil)
	var page *support.Page
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
func (p *Projection) AtStep(_ context.Context, service, step string, limit int, after string) (*support.Page, error) {
	limit = support.ClampLimit(limit)
	prefix := join([]byte(service), []byte(step), nil)
	var page *support.Page
	err := p.db.View(func(tx *bolt.Tx) error {
		var err error
		page, err = scan(tx, bStep, prefix, after, false, limit, func(k []byte) string { return string(k[len(prefix):]) }, nil)
		return err
	})
	return page, err
}

// ByCitizen lists a citizen's applications.
func (p *Projection) ByCitizen(_ context.Context, citizen string, limit int, after string) (*support.Page, error) {
	limit = support.ClampLimit(limit)
	prefix := join([]byte(citizen), nil)
	var page *support.Page
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
func (p *Projection) Load(apps []*support.App) error {
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
