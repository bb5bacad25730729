package dynamodb

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestCompactionWhileServing: with a small trigger the log is compacted
// again and again in the background while writers go on; every
// acknowledged write is there after a restart, and the log shrank.
func TestCompactionWhileServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var compactions atomic.Int64
	log := slog.New(handlerFunc(func(r slog.Record) {
		if r.Message == "dynamodb log compacted" {
			compactions.Add(1)
		}
	}))
	srv, err := New(dir, Options{CompactBytes: 16 << 10, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := NewClient(hs.URL, hs.Client())
	createApps(t, c, "apps")
	const writers, each = 8, 60
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				pk := fmt.Sprintf("app#%d", w)
				_, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: map[string]types.AttributeValue{
					"pk": s(pk), "sk": s(fmt.Sprintf("step#%03d", i)), "status": s("done"),
					"hist": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"n": s(fmt.Sprint(i))}}}},
				}})
				if err != nil {
					t.Error(err)
					return
				}
				// Updates too: they replace items the snapshot may hold.
				_, err = c.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String("apps"),
					Key:                       map[string]types.AttributeValue{"pk": s(pk), "sk": s(fmt.Sprintf("step#%03d", i))},
					UpdateExpression:          aws.String("SET #n = :n"),
					ExpressionAttributeNames:  map[string]string{"#n": "note"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":n": s(fmt.Sprintf("w%d-%d", w, i))}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err = New(dir, Options{CompactBytes: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if compactions.Load() == 0 {
		t.Error("the log was never compacted while serving")
	}
	hs = httptest.NewServer(srv.Handler())
	defer hs.Close()
	c = NewClient(hs.URL, hs.Client())
	for w := range writers {
		out, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s(fmt.Sprintf("app#%d", w))}})
		if err != nil || len(out.Items) != each {
			t.Fatalf("writer %d: %d items after restart, want %d (%v)", w, len(out.Items), each, err)
		}
		for _, it := range out.Items {
			if n, ok := it["note"].(*types.AttributeValueMemberS); !ok || n.Value == "" {
				t.Fatalf("writer %d: an acknowledged update is missing: %v", w, it)
			}
		}
	}
}

// handlerFunc is a slog.Handler calling f for every record.
type handlerFunc func(slog.Record)

func (f handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f handlerFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f handlerFunc) WithGroup(string) slog.Handler                 { return f }
