package dynamo

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// TestListSubmittedConformance: only applications still submitted and
// created before the cut-off, oldest first, bounded; an application that
// moves on leaves the list.
func TestListSubmittedConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		if got, err := s.apps.ListSubmitted(ctx, t0.Add(time.Hour), 10); err != nil || len(got) != 0 {
			t.Fatalf("empty table: %v, %v", got, err)
		}
		// 40 applications a minute apart (enough to fill every shard), one
		// with the one-open lock; then some move on.
		for i := range 40 {
			a := newApp(fmt.Sprintf("app-%02d", i), fmt.Sprintf("citizen-%d", i), "svc", t0.Add(time.Duration(i)*time.Minute))
			if err := s.apps.Create(ctx, a, i == 3); err != nil {
				t.Fatal(err)
			}
		}
		move := func(id string, st posluha.Status) {
			t.Helper()
			if _, err := s.apps.Update(ctx, id, func(a *posluha.Application) error {
				return a.Move(posluha.StatusChange{Status: st, Time: t0.Add(2 * time.Hour)})
			}); err != nil {
				t.Fatal(err)
			}
		}
		move("app-01", posluha.StatusProcessing)
		move("app-03", posluha.StatusCancelled)
		move("app-05", posluha.StatusProcessing)
		move("app-05", posluha.StatusDone)

		ids := func(apps []*posluha.Application) []string {
			out := []string{}
			for _, a := range apps {
				out = append(out, a.ID)
				if a.Status != posluha.StatusSubmitted {
					t.Errorf("%s is %s", a.ID, a.Status)
				}
			}
			return out
		}
		got, err := s.apps.ListSubmitted(ctx, t0.Add(8*time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"app-00", "app-02", "app-04", "app-06", "app-07"}; !reflect.DeepEqual(ids(got), want) {
			t.Errorf("before 8 min = %v, want %v", ids(got), want)
		}
		got, err = s.apps.ListSubmitted(ctx, t0.Add(time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"app-00", "app-02", "app-04"}; !reflect.DeepEqual(ids(got), want) {
			t.Errorf("limit 3 = %v, want %v", ids(got), want)
		}
		got, err = s.apps.ListSubmitted(ctx, t0.Add(time.Hour), 0)
		if err != nil || len(got) != 37 {
			t.Errorf("default limit: %d applications, %v; want the 37 submitted", len(got), err)
		}
		if got, err := s.apps.ListSubmitted(ctx, t0, 10); err != nil || len(got) != 0 {
			t.Errorf("before the first = %v, %v; want none", ids(got), err)
		}
		// Marked started, an application leaves the sweep for good (also
		// after later updates that keep it submitted), keeping its status.
		if err := s.apps.MarkStarted(ctx, "app-02"); err != nil {
			t.Fatal(err)
		}
		if err := s.apps.MarkStarted(ctx, "app-02"); err != nil {
			t.Fatalf("MarkStarted twice: %v", err)
		}
		if _, err := s.apps.Update(ctx, "app-02", func(a *posluha.Application) error {
			a.Form = map[string]any{"changed": true}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err = s.apps.ListSubmitted(ctx, t0.Add(8*time.Minute), 100)
		if want := []string{"app-00", "app-04", "app-06", "app-07"}; err != nil || !reflect.DeepEqual(ids(got), want) {
			t.Errorf("after MarkStarted(app-02) = %v, %v; want %v", ids(got), err, want)
		}
		if a, err := s.apps.Get(ctx, "app-02"); err != nil || a.Status != posluha.StatusSubmitted || a.Form["changed"] != true {
			t.Errorf("app-02 after MarkStarted and an update = %+v, %v; want submitted with the new form", a, err)
		}
		wantName(t, "MarkStarted(unknown)", s.apps.MarkStarted(ctx, "nope"), posluha.ErrApplicationNotFound)
		wantName(t, "MarkStarted(lock)", s.apps.MarkStarted(ctx, "lock#svc#citizen-3"), posluha.ErrApplicationNotFound)

		// The full record comes back (the sweeper rebuilds the message).
		got, _ = s.apps.ListSubmitted(ctx, t0.Add(time.Minute), 1)
		if len(got) != 1 || got[0].Service != "svc" || got[0].Citizen != "citizen-0" || !got[0].Created.Equal(t0) {
			t.Errorf("record = %+v", got)
		}
	})
}

// TestSubmittedIndexIsSparse: the index key goes with the status, so the
// index only ever holds submitted applications (the sweep's cost).
func TestSubmittedIndexIsSparse(t *testing.T) {
	ctx := context.Background()
	c := MustLocalClient(t)
	apps := NewApplications(c, DefaultTables.Applications)
	if err := apps.Create(ctx, newApp("app-1", "citizen-1", "svc", t0), true); err != nil {
		t.Fatal(err)
	}
	has := func() bool {
		t.Helper()
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(DefaultTables.Applications), Key: key("applicationId", "app-1")})
		if err != nil {
			t.Fatal(err)
		}
		_, ok := out.Item[attrSubmittedShard]
		return ok
	}
	if !has() {
		t.Fatal("a submitted application is not in the index")
	}
	if _, err := apps.Update(ctx, "app-1", func(a *posluha.Application) error {
		return a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Time: t0})
	}); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Error("a processing application is still in the index")
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(DefaultTables.Applications), IndexName: aws.String(IndexAppsSubmitted),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": attrSubmittedShard},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(submittedShard("app-1"))}})
	if err != nil || len(out.Items) != 0 {
		t.Errorf("index query = %d items, %v; want none", len(out.Items), err)
	}
}

// TestCreateTablesAddsTheIndex: a table made before the submitted index
// existed (a local data directory of an older version) gets it at the
// next start, with the applications already in it.
func TestCreateTablesAddsTheIndex(t *testing.T) {
	ctx := context.Background()
	c := MustLocalClient(t)
	old := Tables{Applications: "old-applications"}
	in := TableDefinitions(old)[0]
	in.GlobalSecondaryIndexes = in.GlobalSecondaryIndexes[:1] // byCitizen only
	in.AttributeDefinitions = attrDefs("applicationId", "citizen", "created")
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	apps := NewApplications(c, old.Applications)
	if err := apps.Create(ctx, newApp("app-1", "citizen-1", "svc", t0), false); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.ListSubmitted(ctx, t0.Add(time.Hour), 10); err == nil {
		t.Fatal("ListSubmitted on a table without the index: no error")
	}
	if err := CreateTables(ctx, c, old); err != nil {
		t.Fatal(err)
	}
	got, err := apps.ListSubmitted(ctx, t0.Add(time.Hour), 10)
	if err != nil || len(got) != 1 || got[0].ID != "app-1" {
		t.Fatalf("after CreateTables: %v, %v; want app-1", got, err)
	}
	if err := CreateTables(ctx, c, old); err != nil {
		t.Fatalf("CreateTables once more: %v", err)
	}
}
