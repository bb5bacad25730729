package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// DynamoAPI is the part of the DynamoDB client Dynamo uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Dynamo is a Store in a DynamoDB table: hash key requestId (S); the
// request as JSON in doc (S), version (N) for optimistic concurrency and
// expiresAt (N, epoch seconds: the deadline plus 400 days) for the table's
// TTL, so requests of finished applications go away on their own.
type Dynamo struct {
	api   DynamoAPI
	table string
}

// NewDynamo returns a Store over table.
func NewDynamo(api DynamoAPI, table string) *Dynamo { return &Dynamo{api: api, table: table} }

var _ Store = (*Dynamo)(nil)

func (s *Dynamo) get(ctx context.Context, id string) (*Request, int, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"requestId": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("get sign request %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, 0, nil
	}
	doc, _ := out.Item["doc"].(*types.AttributeValueMemberS)
	ver, _ := out.Item["version"].(*types.AttributeValueMemberN)
	if doc == nil || ver == nil {
		return nil, 0, fmt.Errorf("sign request %s: item without doc/version", id)
	}
	var r Request
	if err := json.Unmarshal([]byte(doc.Value), &r); err != nil {
		return nil, 0, fmt.Errorf("decode sign request %s: %w", id, err)
	}
	v, _ := strconv.Atoi(ver.Value)
	return &r, v, nil
}

// Get implements Store.
func (s *Dynamo) Get(ctx context.Context, id string) (*Request, error) {
	r, _, err := s.get(ctx, id)
	if err == nil && r == nil {
		return nil, notFound(id)
	}
	return r, err
}

// Upsert implements Store: read, change, conditional write; retried when
// another writer got there first.
func (s *Dynamo) Upsert(ctx context.Context, id string, f func(*Request) (*Request, error)) (*Request, error) {
	for range 5 {
		cur, ver, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		next, err := f(cur)
		if err != nil {
			return nil, err
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return nil, err
		}
		in := &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				"requestId": &types.AttributeValueMemberS{Value: id},
				"doc":       &types.AttributeValueMemberS{Value: string(doc)},
				"version":   &types.AttributeValueMemberN{Value: strconv.Itoa(ver + 1)},
				"expiresAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(next.Deadline.AddDate(0, 0, 400).Unix(), 10)},
			},
		}
		if cur == nil {
			in.ConditionExpression = aws.String("attribute_not_exists(requestId)")
		} else {
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(ver)}}
		}
		_, err = s.api.PutItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("put sign request %s: %w", id, err)
		}
		return next, nil
	}
	return nil, posluha.Errorf(posluha.ErrApplicationConflict, "signing request %s is being changed concurrently", id)
}
