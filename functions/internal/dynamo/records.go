package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// Notifications implements posluha.Notifications: one item per
// notification keyed by its id, listed through the byCitizen GSI.
type Notifications struct {
	c     Client
	table string
}

var _ posluha.Notifications = (*Notifications)(nil)

// NewNotifications returns the adapter for table.
func NewNotifications(c Client, table string) *Notifications {
	return &Notifications{c: c, table: table}
}

// Add implements posluha.Notifications. Errors: Application.Invalid for a
// notification without id or citizen.
func (s *Notifications) Add(ctx context.Context, n *posluha.Notification) error {
	if n.ID == "" || n.Citizen == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "notification needs an id and a citizen")
	}
	m := map[string]types.AttributeValue{
		"id": str(n.ID), "citizen": str(n.Citizen), "template": str(n.Template),
		"title": text(n.Title), "body": text(n.Body), "time": str(fmtTime(n.Time)),
		"read": &types.AttributeValueMemberBOOL{Value: n.Read},
	}
	if n.ApplicationID != "" {
		m["applicationId"] = str(n.ApplicationID)
	}
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: m,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("put notification %s: %w", n.ID, err)
	}
	return nil
}

// List implements posluha.Notifications.
func (s *Notifications) List(ctx context.Context, citizen string, limit int) ([]*posluha.Notification, error) {
	if citizen == "" {
		return []*posluha.Notification{}, nil // no key value to query by
	}
	out, err := s.c.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(IndexNotificationsByCitizen),
		KeyConditionExpression:    aws.String("citizen = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(citizen)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(pageLimit(limit))),
	})
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	ns := make([]*posluha.Notification, 0, len(out.Items))
	for _, m := range out.Items {
		it := &item{m: m}
		n := &posluha.Notification{
			ID: it.str("id"), Citizen: it.str("citizen"), ApplicationID: it.str("applicationId"),
			Template: it.str("template"), Title: untext(it, "title"), Body: untext(it, "body"),
			Time: it.time("time"), Read: it.bool("read"),
		}
		if it.err != nil {
			return nil, fmt.Errorf("decode notification: %w", it.err)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func text(t posluha.Text) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"uk": str(t.UK), "en": str(t.EN)}}
}

func untext(it *item, name string) posluha.Text {
	m, _ := it.m[name].(*types.AttributeValueMemberM)
	if m == nil {
		return posluha.Text{}
	}
	t := &item{m: m.Value}
	out := posluha.Text{UK: t.str("uk"), EN: t.str("en")}
	if t.err != nil {
		it.fail(name, "%v", t.err)
	}
	return out
}

// Awaits implements posluha.Awaits: one item per correlation key.
type Awaits struct {
	c     Client
	table string
}

var _ posluha.Awaits = (*Awaits)(nil)

// NewAwaits returns the adapter for table.
func NewAwaits(c Client, table string) *Awaits { return &Awaits{c: c, table: table} }

// Put implements posluha.Awaits. Errors: Application.Invalid without a key
// or token.
func (s *Awaits) Put(ctx context.Context, a *posluha.Await) error {
	if a.Key == "" || a.Token == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "await needs a key and a task token")
	}
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"key": str(a.Key), "applicationId": str(a.ApplicationID), "step": str(a.Step),
		"taskToken": str(a.Token), "created": str(fmtTime(a.Created)),
	}})
	if err != nil {
		return fmt.Errorf("put await %s: %w", a.Key, err)
	}
	return nil
}

// Take implements posluha.Awaits with one DeleteItem returning the old
// item, so two answers racing for a key get it once.
func (s *Awaits) Take(ctx context.Context, k string) (*posluha.Await, error) {
	if k == "" {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "nothing waits for an empty key")
	}
	out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key("key", k), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return nil, fmt.Errorf("take await %s: %w", k, err)
	}
	if out.Attributes == nil {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "nothing waits for %s", k)
	}
	it := &item{m: out.Attributes}
	a := &posluha.Await{Key: it.str("key"), ApplicationID: it.str("applicationId"), Step: it.str("step"),
		Token: it.str("taskToken"), Created: it.time("created")}
	if it.err != nil {
		return nil, fmt.Errorf("decode await %s: %w", k, it.err)
	}
	return a, nil
}

// Effects implements posluha.Effects: one item per idempotency key with
// the write's result as bytes.
type Effects struct {
	c     Client
	table string
	// Now stamps when an effect was recorded; time.Now when nil.
	Now func() time.Time
}

var _ posluha.Effects = (*Effects)(nil)

// NewEffects returns the adapter for table.
func NewEffects(c Client, table string) *Effects { return &Effects{c: c, table: table, Now: time.Now} }

// Get implements posluha.Effects.
func (s *Effects) Get(ctx context.Context, k string) ([]byte, bool, error) {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key("key", k), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, fmt.Errorf("get effect %s: %w", k, err)
	}
	if out.Item == nil {
		return nil, false, nil
	}
	it := &item{m: out.Item}
	b := it.bytes("result")
	if it.err != nil {
		return nil, false, fmt.Errorf("decode effect %s: %w", k, it.err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, true, nil
}

// Put implements posluha.Effects; a later Put for a recorded key is a
// no-op (the first outcome stands).
func (s *Effects) Put(ctx context.Context, k string, result []byte) error {
	if k == "" {
		return posluha.Errorf(posluha.ErrTaskInvalid, "effect needs an idempotency key")
	}
	m := map[string]types.AttributeValue{"key": str(k), "recorded": str(fmtTime(s.Now()))}
	if len(result) > 0 {
		m["result"] = &types.AttributeValueMemberB{Value: result}
	}
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: m,
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": "key"},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("put effect %s: %w", k, err)
	}
	return nil
}
