package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/posluha/posluha"
)

// Memory holds in-memory implementations of the same interfaces as the
// DynamoDB adapters, with the same semantics (the conformance suite runs on
// both): for unit tests and tools that need no endpoint. Values are copied
// in and out through JSON, so callers never share memory with the store
// and form numbers come back as float64, as from DynamoDB.
type Memory struct {
	Applications  *MemoryApplications
	Notifications *MemoryNotifications
	Awaits        *MemoryAwaits
	Effects       *MemoryEffects
	Parked        *MemoryParked
}

// NewMemory returns empty in-memory stores.
func NewMemory() *Memory {
	return &Memory{
		Applications:  &MemoryApplications{Now: time.Now, apps: map[string]*memApp{}, locks: map[string]string{}},
		Notifications: &MemoryNotifications{byID: map[string]*posluha.Notification{}},
		Awaits:        &MemoryAwaits{m: map[string]*posluha.Await{}},
		Effects:       &MemoryEffects{m: map[string][]byte{}},
		Parked:        &MemoryParked{m: map[string]*ParkedWrite{}},
	}
}

// copyIn deep-copies a caller's value through JSON; a value that has no
// JSON form (NaN in a form, a year past 9999) is refused with name.
func copyIn[T any](v *T, name string) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, posluha.Errorf(name, "not storable: %v", err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, posluha.Errorf(name, "not storable: %v", err)
	}
	return out, nil
}

// clone deep-copies a stored value, which copyIn already proved encodable.
func clone[T any](v *T) *T {
	out, err := copyIn(v, posluha.ErrInternal)
	if err != nil {
		return new(T) // unreachable: v went through copyIn
	}
	return out
}

func utcApp(a *posluha.Application) *posluha.Application {
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	if a.StatusHistory == nil {
		a.StatusHistory = []posluha.StatusChange{}
	}
	for i := range a.StatusHistory {
		a.StatusHistory[i].Time = a.StatusHistory[i].Time.UTC()
	}
	return a
}

type memApp struct {
	a       *posluha.Application
	oneOpen bool
	started bool // MarkStarted
}

// MemoryApplications implements posluha.Applications in memory.
type MemoryApplications struct {
	// Now stamps times the caller left empty; time.Now when nil.
	Now   func() time.Time
	mu    sync.Mutex
	apps  map[string]*memApp
	locks map[string]string // lockKey → holder
}

var _ posluha.Applications = (*MemoryApplications)(nil)

// Create implements posluha.Applications.
func (s *MemoryApplications) Create(_ context.Context, a *posluha.Application, oneOpen bool) error {
	if err := prepareCreate(a, s.Now()); err != nil {
		return err
	}
	if oneOpen && a.Citizen == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "application %s: citizen is required for the one-open-application rule", a.ID)
	}
	if err := checkForm(a); err != nil {
		return err
	}
	c, err := copyIn(a, posluha.ErrApplicationInvalid)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[a.ID]; ok {
		return posluha.Errorf(posluha.ErrApplicationConflict, "application %s exists", a.ID)
	}
	if oneOpen {
		lk := lockKey(a.Service, a.Citizen)
		if h, ok := s.locks[lk]; ok {
			if ha, ok := s.apps[h]; ok && ha.a.Open() {
				return openConflict(a.Service, h)
			}
		}
		s.locks[lk] = a.ID
	}
	s.apps[a.ID] = &memApp{a: utcApp(c), oneOpen: oneOpen}
	return nil
}

func checkForm(a *posluha.Application) error {
	if a.Form == nil {
		return nil
	}
	if _, err := toAttr(a.Form); err != nil {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "application %s: form: %v", a.ID, err)
	}
	return nil
}

// Get implements posluha.Applications.
func (s *MemoryApplications) Get(_ context.Context, id string) (*posluha.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.apps[id]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
	}
	return clone(m.a), nil
}

// ListByCitizen implements posluha.Applications.
func (s *MemoryApplications) ListByCitizen(_ context.Context, citizen string, limit int, after string) ([]*posluha.Application, string, error) {
	var from *pageToken
	if after != "" {
		t, err := decodeToken(after)
		if err != nil {
			return nil, "", err
		}
		from = &t
	}
	s.mu.Lock()
	var all []*posluha.Application
	for _, m := range s.apps {
		if m.a.Citizen == citizen && citizen != "" {
			all = append(all, m.a)
		}
	}
	s.mu.Unlock()
	// The GSI's order, descending: created, then the table key.
	sort.Slice(all, func(i, j int) bool {
		ci, cj := fmtTime(all[i].Created), fmtTime(all[j].Created)
		if ci != cj {
			return ci > cj
		}
		return all[i].ID > all[j].ID
	})
	i := 0
	if from != nil {
		for i < len(all) {
			c := fmtTime(all[i].Created)
			if c < from.Created || (c == from.Created && all[i].ID < from.ID) {
				break
			}
			i++
		}
	}
	n := pageLimit(limit)
	out := []*posluha.Application{}
	for ; i < len(all) && len(out) < n; i++ {
		out = append(out, clone(all[i]))
	}
	next := ""
	if i < len(all) && len(out) > 0 {
		last := out[len(out)-1]
		next = encodeToken(pageToken{Created: fmtTime(last.Created), ID: last.ID})
	}
	return out, next, nil
}

// Update implements posluha.Applications.
func (s *MemoryApplications) Update(_ context.Context, id string, f func(*posluha.Application) error) (*posluha.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.apps[id]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
	}
	a := clone(m.a)
	version, wasOpen := a.Version, a.Open()
	if err := f(a); err != nil {
		return nil, err
	}
	a.ID, a.Version = id, version
	if err := checkForm(a); err != nil {
		return nil, err
	}
	a, err := copyIn(a, posluha.ErrApplicationInvalid)
	if err != nil {
		return nil, err
	}
	a = utcApp(a)
	before, _ := json.Marshal(m.a)
	after, _ := json.Marshal(a)
	if bytes.Equal(before, after) {
		return clone(a), nil
	}
	lk := lockKey(a.Service, a.Citizen)
	if m.oneOpen && !wasOpen && a.Open() {
		if h, ok := s.locks[lk]; ok && h != id {
			if ha, ok := s.apps[h]; ok && ha.a.Open() {
				return nil, openConflict(a.Service, h)
			}
		}
		s.locks[lk] = id
	}
	if m.oneOpen && wasOpen && !a.Open() && s.locks[lk] == id {
		delete(s.locks, lk)
	}
	a.Version = version + 1
	m.a = a
	return clone(a), nil
}

// MemoryNotifications implements posluha.Notifications in memory.
type MemoryNotifications struct {
	mu   sync.Mutex
	byID map[string]*posluha.Notification
}

var _ posluha.Notifications = (*MemoryNotifications)(nil)

// Add implements posluha.Notifications.
func (s *MemoryNotifications) Add(_ context.Context, n *posluha.Notification) error {
	if n.ID == "" || n.Citizen == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "notification needs an id and a citizen")
	}
	c, err := copyIn(n, posluha.ErrApplicationInvalid)
	if err != nil {
		return err
	}
	c.Time = c.Time.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[n.ID]; !ok {
		s.byID[n.ID] = c
	}
	return nil
}

// List implements posluha.Notifications.
func (s *MemoryNotifications) List(_ context.Context, citizen string, limit int) ([]*posluha.Notification, error) {
	s.mu.Lock()
	var out []*posluha.Notification
	for _, n := range s.byID {
		if n.Citizen == citizen {
			out = append(out, clone(n))
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		ti, tj := fmtTime(out[i].Time), fmtTime(out[j].Time)
		if ti != tj {
			return ti > tj
		}
		return out[i].ID > out[j].ID
	})
	if n := pageLimit(limit); len(out) > n {
		out = out[:n]
	}
	if out == nil {
		out = []*posluha.Notification{}
	}
	return out, nil
}

// MemoryAwaits implements posluha.Awaits in memory.
type MemoryAwaits struct {
	mu sync.Mutex
	m  map[string]*posluha.Await
}

var _ posluha.Awaits = (*MemoryAwaits)(nil)

// Put implements posluha.Awaits.
func (s *MemoryAwaits) Put(_ context.Context, a *posluha.Await) error {
	if a.Key == "" || a.Token == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "await needs a key and a task token")
	}
	c, err := copyIn(a, posluha.ErrApplicationInvalid)
	if err != nil {
		return err
	}
	c.Created = c.Created.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[a.Key] = c
	return nil
}

// Take implements posluha.Awaits.
func (s *MemoryAwaits) Take(_ context.Context, k string) (*posluha.Await, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[k]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "nothing waits for %s", k)
	}
	delete(s.m, k)
	return a, nil
}

// MemoryEffects implements posluha.Effects in memory.
type MemoryEffects struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ posluha.Effects = (*MemoryEffects)(nil)

// Get implements posluha.Effects.
func (s *MemoryEffects) Get(_ context.Context, k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[k]
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(b)[:len(b):len(b)], true, nil
}

// Put implements posluha.Effects.
func (s *MemoryEffects) Put(_ context.Context, k string, result []byte) error {
	if k == "" {
		return posluha.Errorf(posluha.ErrTaskInvalid, "effect needs an idempotency key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		s.m[k] = append([]byte{}, result...)
	}
	return nil
}

// MemoryParked stores parked writes in memory, as ParkedWrites does in
// DynamoDB.
type MemoryParked struct {
	mu sync.Mutex
	m  map[string]*ParkedWrite
}

// Put stores p as ParkedWrites.Put does.
func (s *MemoryParked) Put(_ context.Context, p *ParkedWrite, ifToken string) error {
	if p.Key == "" {
		return posluha.Errorf(posluha.ErrTaskInvalid, "parked write needs an idempotency key")
	}
	c, err := copyIn(p, posluha.ErrTaskInvalid)
	if err != nil {
		return err
	}
	c.Parked, c.Tried = c.Parked.UTC(), c.Tried.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[p.Key]; ifToken != "" && (!ok || old.Request.TaskToken != ifToken) {
		return posluha.Errorf(posluha.ErrApplicationConflict, "write %s was parked again or settled meanwhile", p.Key)
	}
	s.m[p.Key] = c
	return nil
}

// Get returns the write parked under k. Errors: Application.NotFound.
func (s *MemoryParked) Get(_ context.Context, k string) (*ParkedWrite, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[k]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "no write parked as %s", k)
	}
	return clone(p), nil
}

// List returns the parked writes, oldest first.
func (s *MemoryParked) List(_ context.Context) ([]*ParkedWrite, error) {
	s.mu.Lock()
	out := make([]*ParkedWrite, 0, len(s.m))
	for _, p := range s.m {
		out = append(out, clone(p))
	}
	s.mu.Unlock()
	sortParked(out)
	return out, nil
}

// Remove deletes the write parked under k as ParkedWrites.Remove does.
func (s *MemoryParked) Remove(_ context.Context, k, ifToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.m[k]; ok && (ifToken == "" || p.Request.TaskToken == ifToken) {
		delete(s.m, k)
	}
	return nil
}
