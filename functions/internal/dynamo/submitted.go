package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// attrSubmittedShard is the hash key of the sparse index of submitted
// applications. It is spread over submittedShards values because one GSI
// partition key takes about 1,000 writes/s, and a burst creates
// applications faster than that: a hot index partition would throttle
// the table's own writes.
const (
	attrSubmittedShard = "submittedShard"
	submittedShards    = 16
)

func submittedShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%02d", h.Sum32()%submittedShards)
}

// ListSubmitted implements posluha.Applications: one Query per shard of
// the sparse index (created < before, ascending), merged.
func (s *Applications) ListSubmitted(ctx context.Context, before time.Time, limit int) ([]*posluha.Application, error) {
	n := submittedLimit(limit)
	var (
		mu    sync.Mutex
		all   []*posluha.Application
		first error
		wg    sync.WaitGroup
	)
	for shard := range submittedShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			apps, err := s.submittedIn(ctx, fmt.Sprintf("%02d", shard), before, n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			all = append(all, apps...)
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return oldest(all, n), nil
}

func (s *Applications) submittedIn(ctx context.Context, shard string, before time.Time, n int) ([]*posluha.Application, error) {
	out, err := s.c.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(IndexAppsSubmitted),
		KeyConditionExpression:    aws.String("#s = :s AND created < :b"),
		ExpressionAttributeNames:  map[string]string{"#s": attrSubmittedShard},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(shard), ":b": str(fmtTime(before.UTC()))},
		Limit:                     aws.Int32(int32(n)),
	})
	if err != nil {
		return nil, fmt.Errorf("list submitted applications (shard %s): %w", shard, err)
	}
	apps := make([]*posluha.Application, 0, len(out.Items))
	for _, it := range out.Items {
		a, _, err := decodeApp(it)
		if err != nil {
			return nil, fmt.Errorf("decode application: %w", err)
		}
		// The index is eventually consistent: it may still hold an
		// application that has just moved on.
		if a.Status == posluha.StatusSubmitted {
			apps = append(apps, a)
		}
	}
	return apps, nil
}

// oldest sorts by created, then id, and keeps the first n.
func oldest(apps []*posluha.Application, n int) []*posluha.Application {
	sort.Slice(apps, func(i, j int) bool {
		if !apps[i].Created.Equal(apps[j].Created) {
			return apps[i].Created.Before(apps[j].Created)
		}
		return apps[i].ID < apps[j].ID
	})
	if len(apps) > n {
		apps = apps[:n]
	}
	if apps == nil {
		apps = []*posluha.Application{}
	}
	return apps
}

// attrStarted marks an application whose execution exists (MarkStarted).
// Update keeps it like any attribute it does not own.
const attrStarted = "started"

// MarkStarted implements posluha.Applications: the item gets started =
// true and loses its key of the submitted index, on condition that its
// version is the one read (retried like Update).
func (s *Applications) MarkStarted(ctx context.Context, id string) error {
	for try := 0; try < updateTries; try++ {
		_, _, raw, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if _, done := raw[attrStarted]; done {
			return nil
		}
		item := make(map[string]types.AttributeValue, len(raw)+1)
		for k, v := range raw {
			item[k] = v
		}
		item[attrStarted] = &types.AttributeValueMemberBOOL{Value: true}
		delete(item, attrSubmittedShard)
		_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": raw["version"]},
		})
		if conditionFailed(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mark application %s started: %w", id, err)
		}
		return nil
	}
	return posluha.Errorf(posluha.ErrApplicationConflict, "application %s keeps changing; try again", id)
}

// MarkStarted implements posluha.Applications.
func (s *MemoryApplications) MarkStarted(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.apps[id]
	if !ok {
		return posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
	}
	m.started = true
	return nil
}

// ListSubmitted implements posluha.Applications.
func (s *MemoryApplications) ListSubmitted(_ context.Context, before time.Time, limit int) ([]*posluha.Application, error) {
	s.mu.Lock()
	var all []*posluha.Application
	for _, m := range s.apps {
		if m.a.Status == posluha.StatusSubmitted && !m.started && m.a.Created.Before(before) {
			all = append(all, clone(m.a))
		}
	}
	s.mu.Unlock()
	return oldest(all, submittedLimit(limit)), nil
}

// submittedLimit clamps a sweep's size: default 100, at most 1,000.
func submittedLimit(limit int) int {
	switch {
	case limit <= 0:
		return 100
	case limit > 1000:
		return 1000
	}
	return limit
}
