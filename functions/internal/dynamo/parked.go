package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// ParkedWrite is an external write that eventwrite parked because its
// registry stayed unavailable: the task as it came (with the task token the
// state machine waits on) and what happened since.
type ParkedWrite struct {
	Key       string              `json:"key"` // idempotency key, applicationId/step
	Request   posluha.TaskRequest `json:"request"`
	Registry  string              `json:"registry"`
	Parked    time.Time           `json:"parked"`
	Tried     time.Time           `json:"tried"`    // last attempt
	Attempts  int                 `json:"attempts"` // attempts so far
	LastError string              `json:"lastError"`
}

// ParkedWrites stores parked writes in a table keyed by idempotency key.
// Parked writes are few (one per application stuck on an outage), so List
// scans.
type ParkedWrites struct {
	c     Client
	table string
}

// NewParkedWrites returns the adapter for table.
func NewParkedWrites(c Client, table string) *ParkedWrites { return &ParkedWrites{c: c, table: table} }

// Put stores p. With ifToken "" it replaces whatever is parked under the
// key (a retried task brings a new token); otherwise only a write parked
// with task token ifToken is replaced, so that a sweep's bookkeeping never
// overwrites a newer park of the same step. Errors: Application.Conflict
// when the parked write is gone or has another token.
func (s *ParkedWrites) Put(ctx context.Context, p *ParkedWrite, ifToken string) error {
	if p.Key == "" {
		return posluha.Errorf(posluha.ErrTaskInvalid, "parked write needs an idempotency key")
	}
	req, err := json.Marshal(p.Request)
	if err != nil {
		return posluha.Errorf(posluha.ErrTaskInvalid, "parked write %s: %v", p.Key, err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"key": str(p.Key), "request": &types.AttributeValueMemberB{Value: req},
		"applicationId": str(p.Request.ApplicationID), "step": str(p.Request.Step),
		"connector": str(p.Request.Connector), "registry": str(p.Registry), "taskToken": str(p.Request.TaskToken),
		"parked": str(fmtTime(p.Parked)), "tried": str(fmtTime(p.Tried)),
		"attempts": num(int64(p.Attempts)), "lastError": str(p.LastError),
	}}
	if ifToken != "" {
		in.ConditionExpression = aws.String("taskToken = :t")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":t": str(ifToken)}
	}
	_, err = s.c.PutItem(ctx, in)
	if conditionFailed(err) {
		return posluha.Errorf(posluha.ErrApplicationConflict, "write %s was parked again or settled meanwhile", p.Key)
	}
	if err != nil {
		return fmt.Errorf("park write %s: %w", p.Key, err)
	}
	return nil
}

// Get returns the write parked under k. Errors: Application.NotFound.
func (s *ParkedWrites) Get(ctx context.Context, k string) (*ParkedWrite, error) {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key("key", k), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get parked write %s: %w", k, err)
	}
	if out.Item == nil {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "no write parked as %s", k)
	}
	return decodeParked(out.Item)
}

// List returns the parked writes, oldest first.
func (s *ParkedWrites) List(ctx context.Context) ([]*ParkedWrite, error) {
	var out []*ParkedWrite
	var start map[string]types.AttributeValue
	for {
		page, err := s.c.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(s.table), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("list parked writes: %w", err)
		}
		for _, m := range page.Items {
			p, err := decodeParked(m)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		start = page.LastEvaluatedKey
	}
	sortParked(out)
	return out, nil
}

func sortParked(ps []*ParkedWrite) {
	sort.SliceStable(ps, func(i, j int) bool {
		if !ps[i].Parked.Equal(ps[j].Parked) {
			return ps[i].Parked.Before(ps[j].Parked)
		}
		return ps[i].Key < ps[j].Key
	})
}

// Remove deletes the write parked under k when its task token is ifToken
// (any token when ifToken is ""); removing nothing, or a write parked again
// with a newer token, is no error and leaves it.
func (s *ParkedWrites) Remove(ctx context.Context, k, ifToken string) error {
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key("key", k)}
	if ifToken != "" {
		in.ConditionExpression = aws.String("taskToken = :t")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":t": str(ifToken)}
	}
	_, err := s.c.DeleteItem(ctx, in)
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("remove parked write %s: %w", k, err)
	}
	return nil
}

func decodeParked(m map[string]types.AttributeValue) (*ParkedWrite, error) {
	it := &item{m: m}
	p := &ParkedWrite{Key: it.str("key"), Registry: it.str("registry"), Parked: it.time("parked"),
		Tried: it.time("tried"), Attempts: int(it.int("attempts")), LastError: it.str("lastError")}
	req := it.bytes("request")
	if it.err != nil {
		return nil, fmt.Errorf("decode parked write %s: %w", p.Key, it.err)
	}
	if err := json.Unmarshal(req, &p.Request); err != nil {
		return nil, fmt.Errorf("decode parked write %s: request: %w", p.Key, err)
	}
	return p, nil
}
