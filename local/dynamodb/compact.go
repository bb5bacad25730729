package dynamodb

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// snapshot is the state a compacted log is written from, taken under
// s.mu. Stored items are never changed in place (every write stores a new
// Item), so keeping their references is a consistent copy, and the slow
// part, encoding them, can run without the lock.
type snapshot []tableSnap

type tableSnap struct {
	name   string
	create []byte
	ttl    string
	items  []Item
}

func (s *Server) snapshot() (snapshot, error) {
	var sn snapshot
	for _, name := range sortedKeys(s.db.tables) {
		t := s.db.tables[name]
		create, err := t.createRequest()
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		ts := tableSnap{name: name, create: create, ttl: t.ttl, items: make([]Item, 0, t.primary.count)}
		for _, hk := range t.primary.sortedOrder() {
			t.primary.parts[hk].entries.each(func(en *entry) { ts.items = append(ts.items, en.item) })
		}
		sn = append(sn, ts)
	}
	return sn, nil
}

// dump emits the log records that rebuild the snapshot: per table its
// CreateTable request, an UpdateTimeToLive when enabled and a PutItem per
// item.
func (sn snapshot) dump(emit func([]byte) error) error {
	for _, t := range sn {
		if err := emit(encodeRecord("CreateTable", t.create)); err != nil {
			return err
		}
		if t.ttl != "" {
			b, err := json.Marshal(map[string]any{"TableName": t.name, "TimeToLiveSpecification": ttlSpec{AttributeName: t.ttl, Enabled: true}})
			if err != nil {
				return err
			}
			if err := emit(encodeRecord("UpdateTimeToLive", b)); err != nil {
				return err
			}
		}
		for _, it := range t.items {
			b, err := json.Marshal(map[string]any{"TableName": t.name, "Item": it})
			if err != nil {
				return fmt.Errorf("table %s: %w", t.name, err)
			}
			if err := emit(encodeRecord("PutItem", b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// compact rewrites the log as the current state and sets the next trigger
// at twice the new size. The caller holds s.mu for writing; it is for
// start-up, before anyone is served (compactLive is for later).
func (s *Server) compact() error {
	before := s.wal.Size()
	sn, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := s.wal.Rewrite(sn.dump); err != nil {
		return err
	}
	s.compactAt = max(s.compactAt, 2*s.wal.Size())
	s.log.Info("dynamodb log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	return nil
}

// compactLive starts a compaction that runs beside the requests: the
// caller holds s.mu for writing, which is where the snapshot is taken
// and the log marks what it reflects; encoding and writing it happen in
// the background, and requests wait only for the final switch. (Done
// under the lock, a compaction of a few hundred thousand items stopped
// every request for minutes in a long burst.)
func (s *Server) compactLive() {
	if s.compacting {
		return
	}
	sn, err := s.snapshot()
	if err != nil {
		s.log.Error("dynamodb log compaction failed", "err", err)
		s.compactAt = 2 * s.wal.Size()
		return
	}
	rw, err := s.wal.BeginRewrite()
	if err != nil {
		s.log.Error("dynamodb log compaction failed", "err", err)
		s.compactAt = 2 * s.wal.Size()
		return
	}
	s.compacting = true
	before := s.wal.Size()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := rw.Finish(sn.dump)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.compacting = false
		if err != nil {
			// The old log is intact and holds every write; try again at
			// twice the size rather than on every write.
			s.log.Error("dynamodb log compaction failed", "err", err)
			s.compactAt = 2 * s.wal.Size()
			return
		}
		s.compactAt = max(s.compactAt, 2*s.wal.Size())
		s.log.Info("dynamodb log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	}()
}

// sweeper deletes expired items of tables with TTL enabled, like DynamoDB's
// background process (which also lags: readers may see expired items).
func (s *Server) sweeper(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if n, err := s.SweepExpired(); err != nil {
				s.log.Warn("dynamodb ttl sweep failed", "err", err)
			} else if n > 0 {
				s.log.Info("dynamodb ttl sweep", "deleted", n)
			}
		}
	}
}

// SweepExpired deletes now every item whose TTL attribute (a number of epoch
// seconds) is in the past, through the logged write path, and reports how
// many it deleted.
func (s *Server) SweepExpired() (int, error) {
	type target struct {
		table string
		key   Item
		attr  string
	}
	var todo []target
	now := s.now().Unix()
	s.mu.RLock()
	for name, t := range s.db.tables {
		if t.ttl == "" {
			continue
		}
		for _, p := range t.primary.parts {
			p.entries.each(func(en *entry) {
				v := en.item[t.ttl]
				if v == nil || v.kind != kindN {
					return
				}
				if exp := parseNum(*v.N); exp.IsInt() && exp.Num().IsInt64() && exp.Num().Int64() < now {
					todo = append(todo, target{name, t.keyOf(en.item), t.ttl})
				}
			})
		}
	}
	s.mu.RUnlock()
	var last uint64
	deleted := 0
	nowS := strconv.FormatInt(now, 10)
	for _, t := range todo {
		// The condition re-checks expiry: the item may have been rewritten
		// since the scan.
		body, err := json.Marshal(map[string]any{
			"TableName":                 t.table,
			"Key":                       t.key,
			"ConditionExpression":       "#t < :now",
			"ExpressionAttributeNames":  map[string]string{"#t": t.attr},
			"ExpressionAttributeValues": map[string]any{":now": map[string]string{"N": nowS}},
		})
		if err != nil {
			return deleted, err
		}
		_, seq, aerr := s.apply("DeleteItem", body)
		switch {
		case aerr == nil:
			last, deleted = seq, deleted+1
		case aerr.status >= 500:
			return deleted, fmt.Errorf("delete expired item: %w", aerr)
		}
	}
	if last > 0 {
		return deleted, s.wal.Wait(last)
	}
	return deleted, nil
}
