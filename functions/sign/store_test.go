package sign_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/sign"
)

// fakeDynamo keeps items by requestId and evaluates the two conditions
// Dynamo uses, as DynamoDB does.
type fakeDynamo struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
}

func (f *fakeDynamo) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := in.Key["requestId"].(*types.AttributeValueMemberS).Value
	return &dynamodb.GetItemOutput{Item: f.items[id]}, nil
}

func (f *fakeDynamo) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := in.Item["requestId"].(*types.AttributeValueMemberS).Value
	cur, exists := f.items[id]
	switch aws.ToString(in.ConditionExpression) {
	case "attribute_not_exists(requestId)":
		if exists {
			return nil, &types.ConditionalCheckFailedException{}
		}
	case "version = :v":
		want := in.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN).Value
		if !exists || cur["version"].(*types.AttributeValueMemberN).Value != want {
			return nil, &types.ConditionalCheckFailedException{}
		}
	}
	f.items[id] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

// TestStores runs the same checks on every Store.
func TestStores(t *testing.T) {
	bolt, err := sign.OpenBolt(filepath.Join(t.TempDir(), "sign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	dyn := sign.NewDynamo(&fakeDynamo{items: map[string]map[string]types.AttributeValue{}}, "signRequests")
	for name, s := range map[string]sign.Store{"memory": sign.NewMemory(), "bolt": bolt, "dynamo": dyn} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.Get(ctx, "r1"); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
				t.Fatalf("Get missing = %v", err)
			}
			put := func(cur *sign.Request) (*sign.Request, error) {
				if cur == nil {
					return &sign.Request{ID: "r1", Status: sign.StatusPending, Deadline: t0}, nil
				}
				c := *cur
				c.Attempts++
				return &c, nil
			}
			for range 3 {
				if _, err := s.Upsert(ctx, "r1", put); err != nil {
					t.Fatal(err)
				}
			}
			r, err := s.Get(ctx, "r1")
			if err != nil || r.Attempts != 2 || !r.Deadline.Equal(t0) {
				t.Fatalf("Get = %+v, %v", r, err)
			}
			// concurrent changes are not lost
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 5 {
						if _, err := s.Upsert(ctx, "r1", put); err != nil && posluha.ErrorName(err) != posluha.ErrApplicationConflict {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if r, _ := s.Get(ctx, "r1"); r.Attempts < 2+5 {
				t.Errorf("attempts = %d after concurrent upserts", r.Attempts)
			}
		})
	}
}
