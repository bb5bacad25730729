package engine

import (
	"context"
	"sort"
	"sync"
	"time"
)

// MemStore is an in-memory Store for tests and `posluha exec`. Records are
// copied on the way in and out; values inside them are immutable and shared.
// The events slices passed to CreateExecution and SaveExecution are kept as
// they are: the caller must not change them afterwards.
type MemStore struct {
	mu       sync.Mutex
	machines map[string]*Machine
	execs    map[string]*memExec
	tokens   map[string]string
	order    []string
	// wake holds the executions that have a timer, so the timer loop's
	// queries cost the number of timers, not of executions ever stored.
	wake map[string]time.Time
}

type memExec struct {
	x *Execution
	// events are the slices of events each save brought, kept as they
	// came (the engine hands them over and never touches them again):
	// appending them to one slice copied a long pass's events twice over.
	events [][]Event
	n      int // events in all
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{machines: map[string]*Machine{}, execs: map[string]*memExec{}, tokens: map[string]string{}, wake: map[string]time.Time{}}
}

var _ Store = (*MemStore)(nil)

func cloneMachine(m *Machine) *Machine {
	c := *m
	c.Versions = append([]MachineVersion(nil), m.Versions...)
	return &c
}

// PutMachine implements Store.
func (s *MemStore) PutMachine(_ context.Context, m *Machine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.machines[m.ARN] = cloneMachine(m)
	return nil
}

// GetMachine implements Store.
func (s *MemStore) GetMachine(_ context.Context, arn string) (*Machine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.machines[arn]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneMachine(m), nil
}

// ListMachines implements Store.
func (s *MemStore) ListMachines(_ context.Context) ([]*Machine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Machine, 0, len(s.machines))
	for _, m := range s.machines {
		out = append(out, cloneMachine(m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, nil
}

// DeleteMachine implements Store.
func (s *MemStore) DeleteMachine(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[arn]; !ok {
		return ErrNotFound
	}
	delete(s.machines, arn)
	return nil
}

// CreateExecution implements Store.
func (s *MemStore) CreateExecution(_ context.Context, x *Execution, events []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.execs[x.ARN]; ok {
		return ErrExists
	}
	s.execs[x.ARN] = &memExec{x: x.clone(), events: [][]Event{events}, n: len(events)}
	s.order = append(s.order, x.ARN)
	s.indexTokens(nil, x)
	s.indexWake(x)
	return nil
}

func (s *MemStore) indexTokens(old, x *Execution) {
	if old != nil {
		for _, t := range old.Tokens {
			delete(s.tokens, t)
		}
	}
	for _, t := range x.Tokens {
		s.tokens[t] = x.ARN
	}
}

func (s *MemStore) indexWake(x *Execution) {
	if x.WakeAt.IsZero() {
		delete(s.wake, x.ARN)
	} else {
		s.wake[x.ARN] = x.WakeAt
	}
}

// SaveExecution implements Store.
func (s *MemStore) SaveExecution(_ context.Context, x *Execution, events []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[x.ARN]
	if !ok {
		return ErrNotFound
	}
	s.indexTokens(e.x, x)
	s.indexWake(x)
	e.x = x.clone()
	if len(events) > 0 {
		e.events = append(e.events, events)
		e.n += len(events)
	}
	return nil
}

// GetExecution implements Store.
func (s *MemStore) GetExecution(_ context.Context, arn string) (*Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, ErrNotFound
	}
	return e.x.clone(), nil
}

// ListExecutions implements Store.
func (s *MemStore) ListExecutions(_ context.Context, machineARN, after string, limit int) ([]*Execution, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.order) - 1
	if after != "" {
		for i >= 0 && s.order[i] != after {
			i--
		}
		if i < 0 || (machineARN != "" && s.execs[after].x.MachineARN != machineARN) {
			return nil, "", ErrNotFound
		}
		i--
	}
	var out []*Execution
	for ; i >= 0; i-- {
		x := s.execs[s.order[i]].x
		if machineARN != "" && x.MachineARN != machineARN {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, out[len(out)-1].ARN, nil
		}
		c := *x
		c.Root = nil
		out = append(out, &c)
	}
	return out, "", nil
}

// ListRunning implements Store.
func (s *MemStore) ListRunning(_ context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, arn := range s.order {
		if s.execs[arn].x.Status == StatusRunning {
			out = append(out, arn)
		}
	}
	return out, nil
}

// History implements Store.
func (s *MemStore) History(_ context.Context, arn string) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, ErrNotFound
	}
	out := make([]Event, 0, e.n)
	for _, evs := range e.events {
		out = append(out, evs...)
	}
	return out, nil
}

// TokenOwner implements Store.
func (s *MemStore) TokenOwner(_ context.Context, token string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn, ok := s.tokens[token]
	if !ok {
		return "", ErrNotFound
	}
	return arn, nil
}

// DueExecutions implements Store: the earliest timers first.
func (s *MemStore) DueExecutions(_ context.Context, now time.Time, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for arn, w := range s.wake {
		if !w.After(now) {
			out = append(out, arn)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		wi, wj := s.wake[out[i]], s.wake[out[j]]
		return wi.Before(wj) || (wi.Equal(wj) && out[i] < out[j])
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// NextWake implements Store.
func (s *MemStore) NextWake(_ context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best time.Time
	for _, w := range s.wake {
		if best.IsZero() || w.Before(best) {
			best = w
		}
	}
	return best, !best.IsZero(), nil
}
