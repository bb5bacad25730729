package console

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha/functions/console/support"
)

var audits = []struct {
	name string
	open func(tb testing.TB) support.AuditLog
}{
	{"file", func(tb testing.TB) support.AuditLog {
		a, err := OpenAudit(filepath.Join(tb.TempDir(), "audit.jsonl"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { a.Close() })
		return a
	}},
	{"dynamodb", func(tb testing.TB) support.AuditLog { return mustDynamoAudit(tb, localDynamo(tb)) }},
}

func mustDynamoAudit(tb testing.TB, c *ddb.Client) *support.DynamoAudit {
	tb.Helper()
	a := &support.DynamoAudit{Client: c, Table: fmt.Sprintf("audit-%d", tableSeq.Add(1))}
	if err := support.CreateAuditTable(context.Background(), c, a.Table); err != nil {
		tb.Fatal(err)
	}
	return a
}

// TestAuditLogs: both logs chain entries, list them newest first (per
// application or all) and honour the limit.
func TestAuditLogs(t *testing.T) {
	ctx := context.Background()
	for _, impl := range audits {
		t.Run(impl.name, func(t *testing.T) {
			a := impl.open(t)
			var prev support.Entry
			for i, act := range []string{support.ActionSignedIn, support.ActionView, support.ActionRedrive, support.ActionCancel} {
				app := ""
				if i > 0 {
					app = []string{"", "a1", "a2", "a1"}[i]
				}
				e, err := a.Append(ctx, support.Entry{Actor: "staff-7", Action: act, ApplicationID: app, Outcome: "ok"})
				if err != nil {
					t.Fatal(err)
				}
				if e.Seq != prev.Seq+1 || e.Prev != prev.Hash || e.Hash == "" || e.Hash != support.EntryHash(&e) {
					t.Fatalf("entry %d: %+v after %+v", i, e, prev)
				}
				prev = e
			}
			all, err := a.List(ctx, "", 0)
			if err != nil || len(all) != 4 || all[0].Action != support.ActionCancel || all[3].Action != support.ActionSignedIn {
				t.Fatalf("List all = %+v, %v", all, err)
			}
			a1, err := a.List(ctx, "a1", 0)
			if err != nil || len(a1) != 2 || a1[0].Action != support.ActionCancel || a1[1].Action != support.ActionView {
				t.Fatalf("List a1 = %+v, %v", a1, err)
			}
			one, err := a.List(ctx, "", 1)
			if err != nil || len(one) != 1 || one[0].Seq != 4 {
				t.Fatalf("List limit 1 = %+v, %v", one, err)
			}
			none, err := a.List(ctx, "nobody", 10)
			if err != nil || len(none) != 0 {
				t.Fatalf("List of an unknown application = %+v, %v", none, err)
			}
		})
	}
}

// TestDynamoAuditConcurrentAppends: consoles appending at once each get
// their own seq (the conditional put), and the chain stays whole; an entry
// edited behind the log's back breaks it.
func TestDynamoAuditConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	c := localDynamo(t)
	a := mustDynamoAudit(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := a.Append(ctx, support.Entry{Actor: fmt.Sprintf("staff-%d", w), Action: support.ActionView, ApplicationID: fmt.Sprintf("a%d", i), Outcome: "ok"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := a.Verify(ctx)
	if err != nil || n != 40 {
		t.Fatalf("Verify = %d, %v; want 40 entries", n, err)
	}
	all, _ := a.List(ctx, "", 0)
	got := all[len(all)-7] // entry 7
	doc := strings.Replace(mustMarshal(t, got), `"view"`, `"redrive"`, 1)
	if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(a.Table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "log"}, "seq": &types.AttributeValueMemberN{Value: fmt.Sprint(got.Seq)},
		"doc": &types.AttributeValueMemberS{Value: doc}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ctx); err == nil || !strings.Contains(err.Error(), "chain broken at entry 7") {
		t.Fatalf("tampered log verified: %v", err)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
