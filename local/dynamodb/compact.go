package dynamodb

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// compact rewrites the log as the current state: per table its CreateTable
// request, an UpdateTimeToLive when enabled and a PutItem per item, then
// sets the next trigger at twice the new size. The caller holds s.mu for
// writing, so requests wait meanwhile (about a second per million items).
func (s *Server) compact() error {
	before := s.wal.Size()
	err := s.wal.Rewrite(func(emit func([]byte) error) error {
		for _, name := range sortedKeys(s.db.tables) {
			t := s.db.tables[name]
			create, err := t.createRequest()
			if err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			if err := emit(encodeRecord("CreateTable", create)); err != nil {
				return err
			}
			if t.ttl != "" {
				b, err := json.Marshal(map[string]any{"TableName": name, "TimeToLiveSpecification": ttlSpec{AttributeName: t.ttl, Enabled: true}})
				if err != nil {
					return err
				}
				if err := emit(encodeRecord("UpdateTimeToLive", b)); err != nil {
					return err
				}
			}
			for _, hk := range t.primary.sortedOrder() {
				t.primary.parts[hk].entries.each(func(en *entry) {
					b, merr := json.Marshal(map[string]any{"TableName": name, "Item": en.item})
					if merr == nil && err == nil {
						merr = emit(encodeRecord("PutItem", b))
					}
					if merr != nil && err == nil {
						err = fmt.Errorf("table %s: %w", name, merr)
					}
				})
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.compactAt = max(s.compactAt, 2*s.wal.Size())
	s.log.Info("dynamodb log compacted", "beforeBytes", before, "afterBytes", s.wal.Size())
	return nil
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
