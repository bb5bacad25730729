package dynamo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	localddb "github.com/posluha/posluha/local/dynamodb"
)

// stores is one backend under test.
type stores struct {
	apps    posluha.Applications
	notes   posluha.Notifications
	awaits  posluha.Awaits
	effects posluha.Effects
	parked  interface {
		Put(context.Context, *ParkedWrite, string) error
		Get(context.Context, string) (*ParkedWrite, error)
		List(context.Context) ([]*ParkedWrite, error)
		Remove(context.Context, string, string) error
	}
}

// MustLocalClient starts local/dynamodb on a loopback port in a temporary
// directory, creates the tables and returns an SDK client for it.
func MustLocalClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	srv, err := localddb.New(tb.TempDir(), localddb.Options{TTLSweep: -1})
	if err != nil {
		tb.Fatalf("local dynamodb: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			tb.Errorf("close local dynamodb: %v", err)
		}
	})
	c := dynamodb.New(dynamodb.Options{
		Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1,
	})
	if err := CreateTables(context.Background(), c, DefaultTables); err != nil {
		tb.Fatal(err)
	}
	// Twice: existing tables are fine.
	if err := CreateTables(context.Background(), c, DefaultTables); err != nil {
		tb.Fatalf("CreateTables again: %v", err)
	}
	return c
}

func backends(t *testing.T) map[string]func(t *testing.T) stores {
	return map[string]func(t *testing.T) stores{
		"memory": func(t *testing.T) stores {
			m := NewMemory()
			return stores{m.Applications, m.Notifications, m.Awaits, m.Effects, m.Parked}
		},
		"dynamodb": func(t *testing.T) stores {
			c := MustLocalClient(t)
			tb := DefaultTables
			return stores{NewApplications(c, tb.Applications), NewNotifications(c, tb.Notifications),
				NewAwaits(c, tb.Awaits), NewEffects(c, tb.Effects), NewParkedWrites(c, tb.Parked)}
		},
	}
}

// runConformance runs suite on every backend.
func runConformance(t *testing.T, suite func(t *testing.T, s stores)) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) { suite(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)

func newApp(id, citizen, service string, created time.Time) *posluha.Application {
	return &posluha.Application{ID: id, Service: service, Citizen: citizen, Created: created}
}

func wantName(t *testing.T, what string, err error, name string) {
	t.Helper()
	if got := posluha.ErrorName(err); got != name {
		t.Fatalf("%s = %v, want %s", what, err, name)
	}
}

func TestApplicationsConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		a := newApp("app-1", "3111412139", "e-propyska", t0)
		a.Form = map[string]any{"reestrNum": "123", "area": 54.5, "rooms": float64(2), "flags": []any{true, nil, "x"},
			"address": map[string]any{"city": "Київ", "flat": float64(7)}}
		a.Documents = []posluha.Document{{Number: "D-1", Key: "docs/app-1.pdf", SHA256: "ab", Signatures: []string{"docs/app-1.p7s"}}}
		a.SubmittedBy = "partner-bank" // a partner submitted it: kept like every other field
		if err := s.apps.Create(ctx, a, true); err != nil {
			t.Fatal(err)
		}
		if a.Status != posluha.StatusSubmitted || a.Version != 1 {
			t.Errorf("Create filled status %q version %d, want submitted 1", a.Status, a.Version)
		}
		got, err := s.apps.Get(ctx, "app-1")
		if err != nil {
			t.Fatal(err)
		}
		want := *a
		want.StatusHistory = []posluha.StatusChange{}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("Get =\n%+v\nwant\n%+v", got, &want)
		}
		wantName(t, "Create(same id)", s.apps.Create(ctx, newApp("app-1", "x", "other", t0), false), posluha.ErrApplicationConflict)
		wantName(t, "Get(unknown)", func() error { _, err := s.apps.Get(ctx, "nope"); return err }(), posluha.ErrApplicationNotFound)
		wantName(t, "Create(no id)", s.apps.Create(ctx, newApp("", "x", "s", t0), false), posluha.ErrApplicationInvalid)

		// One open application per citizen and service.
		err = s.apps.Create(ctx, newApp("app-2", "3111412139", "e-propyska", t0.Add(time.Second)), true)
		wantName(t, "Create(second open)", err, posluha.ErrApplicationConflict)
		if m := posluha.ErrorMessage(err); m != "an application for e-propyska is already open: app-1" {
			t.Errorf("conflict message = %q, want it to name app-1", m)
		}
		if _, err := s.apps.Get(ctx, "app-2"); posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
			t.Errorf("refused application stored: %v", err)
		}
		if err := s.apps.Create(ctx, newApp("app-3", "3111412139", "fop-registration", t0.Add(2*time.Second)), true); err != nil {
			t.Errorf("other service: %v", err)
		}
		if err := s.apps.Create(ctx, newApp("app-4", "3111412139", "e-propyska", t0.Add(3*time.Second)), false); err != nil {
			t.Errorf("service without the rule: %v", err)
		}

		// Moves, no-op retries, versions.
		move := func(id string, st posluha.Status, step string) (*posluha.Application, error) {
			return s.apps.Update(ctx, id, func(a *posluha.Application) error {
				return a.Move(posluha.StatusChange{Status: st, Step: step, Time: t0.Add(time.Minute), Reason: "r-" + step})
			})
		}
		u, err := move("app-1", posluha.StatusProcessing, "status_processing")
		if err != nil || u.Version != 2 || len(u.StatusHistory) != 1 {
			t.Fatalf("move = %+v, %v; want version 2 with one history entry", u, err)
		}
		u, err = move("app-1", posluha.StatusProcessing, "status_processing")
		if err != nil || u.Version != 2 || len(u.StatusHistory) != 1 {
			t.Fatalf("repeated move = %+v, %v; want no change (version 2)", u, err)
		}
		u, _ = s.apps.Get(ctx, "app-1")
		if u.Version != 2 || u.StatusHistory[0] != (posluha.StatusChange{Status: "processing", Step: "status_processing", Time: t0.Add(time.Minute), Reason: "r-status_processing"}) {
			t.Errorf("stored after move: %+v", u)
		}
		if !reflect.DeepEqual(u.Form, a.Form) {
			t.Errorf("form after update = %#v, want %#v", u.Form, a.Form)
		}
		boom := posluha.Errorf(posluha.ErrTaskInvalid, "nope")
		if _, err := s.apps.Update(ctx, "app-1", func(a *posluha.Application) error { a.Step = "x"; return boom }); err != boom {
			t.Errorf("Update with failing f = %v, want f's error", err)
		}
		_, err = s.apps.Update(ctx, "nope", func(*posluha.Application) error { return nil })
		wantName(t, "Update(unknown)", err, posluha.ErrApplicationNotFound)
		_, err = move("app-1", posluha.StatusWaiting, "wait")
		if err != nil {
			t.Fatal(err)
		}

		// A final status releases the lock; a redrive out of failed takes it again.
		if _, err := move("app-1", posluha.StatusFailed, "broken"); err != nil {
			t.Fatal(err)
		}
		if err := s.apps.Create(ctx, newApp("app-5", "3111412139", "e-propyska", t0.Add(4*time.Second)), true); err != nil {
			t.Fatalf("Create after the open one failed: %v", err)
		}
		_, err = move("app-1", posluha.StatusProcessing, "redrive")
		wantName(t, "redrive while another is open", err, posluha.ErrApplicationConflict)
		if _, err := move("app-5", posluha.StatusCancelled, "cancel"); err != nil {
			t.Fatal(err)
		}
		if _, err := move("app-1", posluha.StatusProcessing, "redrive"); err != nil {
			t.Fatalf("redrive after the other closed: %v", err)
		}
		wantName(t, "Create while redriven one is open", s.apps.Create(ctx, newApp("app-6", "3111412139", "e-propyska", t0.Add(5*time.Second)), true), posluha.ErrApplicationConflict)
	})
}

func TestApplicationsConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		if err := s.apps.Create(ctx, newApp("app-c", "c1", "svc", t0), false); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.apps.Update(ctx, "app-c", func(a *posluha.Application) error {
					return a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: fmt.Sprintf("s%d", i), Time: t0})
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		}
		a, _ := s.apps.Get(ctx, "app-c")
		if len(a.StatusHistory) != n || a.Version != n+1 {
			t.Errorf("after %d concurrent moves: %d entries, version %d", n, len(a.StatusHistory), a.Version)
		}
	})
}

func TestListByCitizenConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		var want []string
		for i := range 7 {
			id := fmt.Sprintf("app-%d", i)
			created := t0.Add(time.Duration(i/2) * time.Hour) // pairs share a time
			if err := s.apps.Create(ctx, newApp(id, "citizen-a", "svc", created), false); err != nil {
				t.Fatal(err)
			}
			want = append([]string{id}, want...)
		}
		s.apps.Create(ctx, newApp("other", "citizen-b", "svc", t0), false)
		// Newest first; ties by id, descending.
		want = []string{"app-6", "app-5", "app-4", "app-3", "app-2", "app-1", "app-0"}
		var got []string
		after := ""
		for page := 0; page < 10; page++ {
			apps, next, err := s.apps.ListByCitizen(ctx, "citizen-a", 3, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) > 3 {
				t.Fatalf("page of %d, limit 3", len(apps))
			}
			for _, a := range apps {
				got = append(got, a.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
		apps, next, err := s.apps.ListByCitizen(ctx, "nobody", 3, "")
		if err != nil || len(apps) != 0 || next != "" {
			t.Errorf("unknown citizen = %v, %q, %v", apps, next, err)
		}
		if apps, next, err := s.apps.ListByCitizen(ctx, "", 3, ""); err != nil || len(apps) != 0 || next != "" {
			t.Errorf("empty citizen = %v, %q, %v", apps, next, err)
		}
		_, _, err = s.apps.ListByCitizen(ctx, "citizen-a", 3, "!!not a token")
		wantName(t, "ListByCitizen(bad token)", err, posluha.ErrApplicationInvalid)
	})
}

func TestNotificationsConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		n := &posluha.Notification{ID: "app-1/notify", Citizen: "c1", ApplicationID: "app-1", Template: "registered",
			Title: posluha.Text{UK: "Зареєстровано", EN: "Registered"}, Body: posluha.Text{UK: "Тіло", EN: "Body"}, Time: t0}
		if err := s.notes.Add(ctx, n); err != nil {
			t.Fatal(err)
		}
		again := *n
		again.Time, again.Title.UK = t0.Add(time.Hour), "інше"
		if err := s.notes.Add(ctx, &again); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			s.notes.Add(ctx, &posluha.Notification{ID: fmt.Sprintf("app-2/s%d", i), Citizen: "c1", Template: "t", Time: t0.Add(time.Duration(i+1) * time.Minute)})
		}
		s.notes.Add(ctx, &posluha.Notification{ID: "app-3/s", Citizen: "c2", Template: "t", Time: t0})
		wantName(t, "Add(no citizen)", s.notes.Add(ctx, &posluha.Notification{ID: "x"}), posluha.ErrApplicationInvalid)
		list, err := s.notes.List(ctx, "c1", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if want := []string{"app-2/s2", "app-2/s1", "app-2/s0", "app-1/notify"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("List = %v, want %v", ids, want)
		}
		if !reflect.DeepEqual(list[3], n) {
			t.Errorf("stored %+v, want the first Add %+v", list[3], n)
		}
		if list, err := s.notes.List(ctx, "", 2); err != nil || len(list) != 0 {
			t.Errorf("List(empty citizen) = %v, %v", list, err)
		}
		if list, _ := s.notes.List(ctx, "c1", 2); len(list) != 2 || list[0].ID != "app-2/s2" {
			t.Errorf("List(limit 2) = %v", list)
		}
	})
}

func TestAwaitsConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		a := &posluha.Await{Key: "review/app-1", ApplicationID: "app-1", Step: "review", Token: "tok-1", Created: t0}
		if err := s.awaits.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := *a
		b.Token = "tok-2"
		if err := s.awaits.Put(ctx, &b); err != nil {
			t.Fatal(err)
		}
		got, err := s.awaits.Take(ctx, "review/app-1")
		if err != nil || !reflect.DeepEqual(got, &b) {
			t.Fatalf("Take = %+v, %v; want %+v", got, err, &b)
		}
		_, err = s.awaits.Take(ctx, "review/app-1")
		wantName(t, "second Take", err, posluha.ErrApplicationNotFound)
		wantName(t, "Put(no token)", s.awaits.Put(ctx, &posluha.Await{Key: "k"}), posluha.ErrApplicationInvalid)

		// Racing answers: one wins.
		s.awaits.Put(ctx, a)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.awaits.Take(ctx, a.Key); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d racing Takes won, want 1", wins)
		}
	})
}

func TestEffectsConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		if _, ok, err := s.effects.Get(ctx, "app-1/pay"); ok || err != nil {
			t.Fatalf("Get(missing) = %v, %v", ok, err)
		}
		if err := s.effects.Put(ctx, "app-1/pay", []byte(`{"paymentId":"P1"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.effects.Put(ctx, "app-1/pay", []byte(`{"paymentId":"P2"}`)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.effects.Get(ctx, "app-1/pay")
		if !ok || err != nil || string(got) != `{"paymentId":"P1"}` {
			t.Errorf("Get = %s, %v, %v; want the first outcome", got, ok, err)
		}
		if err := s.effects.Put(ctx, "app-1/empty", nil); err != nil {
			t.Fatal(err)
		}
		if got, ok, _ := s.effects.Get(ctx, "app-1/empty"); !ok || len(got) != 0 {
			t.Errorf("empty result = %q, %v", got, ok)
		}
		wantName(t, "Put(no key)", s.effects.Put(ctx, "", nil), posluha.ErrTaskInvalid)
	})
}

func TestParkedConformance(t *testing.T) {
	ctx := context.Background()
	runConformance(t, func(t *testing.T, s stores) {
		p := &ParkedWrite{Key: "app-1/pay", Registry: "treasury", Parked: t0.Add(time.Minute), Tried: t0.Add(2 * time.Minute),
			Attempts: 2, LastError: "Registry.Unavailable",
			Request: posluha.TaskRequest{ApplicationID: "app-1", Step: "pay", Action: "write", Connector: "treasury.payment",
				TaskToken: "tok", Arguments: map[string]any{"amount": float64(8000), "iban": "UA21"}}}
		q := &ParkedWrite{Key: "app-0/pay", Registry: "treasury", Parked: t0, Request: posluha.TaskRequest{ApplicationID: "app-0", Step: "pay"}}
		for _, x := range []*ParkedWrite{p, q} {
			if err := s.parked.Put(ctx, x, ""); err != nil {
				t.Fatal(err)
			}
		}
		// Bookkeeping of a sweep that holds an old token loses to a newer park.
		newer := *p
		newer.Request.TaskToken = "tok-2"
		if err := s.parked.Put(ctx, &newer, ""); err != nil {
			t.Fatal(err)
		}
		stale := *p
		stale.Attempts = 9
		wantName(t, "Put(old token)", s.parked.Put(ctx, &stale, "tok"), posluha.ErrApplicationConflict)
		wantName(t, "Put(nothing parked)", s.parked.Put(ctx, &ParkedWrite{Key: "none", Request: posluha.TaskRequest{TaskToken: "x"}}, "x"), posluha.ErrApplicationConflict)
		if err := s.parked.Remove(ctx, p.Key, "tok"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.parked.Get(ctx, p.Key); err != nil || got.Request.TaskToken != "tok-2" {
			t.Fatalf("after a Remove with the old token: %+v, %v", got, err)
		}
		p.Attempts = 3
		p.Request.TaskToken = "tok-2"
		if err := s.parked.Put(ctx, p, "tok-2"); err != nil {
			t.Fatalf("Put(current token): %v", err)
		}
		got, err := s.parked.Get(ctx, p.Key)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("Get = %+v, %v; want %+v", got, err, p)
		}
		list, err := s.parked.List(ctx)
		if err != nil || len(list) != 2 || list[0].Key != "app-0/pay" {
			t.Fatalf("List = %v, %v; want oldest first", list, err)
		}
		if err := s.parked.Remove(ctx, q.Key, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.parked.Remove(ctx, q.Key, ""); err != nil {
			t.Errorf("second Remove: %v", err)
		}
		_, err = s.parked.Get(ctx, q.Key)
		wantName(t, "Get(removed)", err, posluha.ErrApplicationNotFound)
	})
}

// TestStaleLock: a lock left by a crash between an update to a final
// status and the lock's release does not block the citizen for ever.
func TestStaleLock(t *testing.T) {
	ctx := context.Background()
	c := MustLocalClient(t)
	apps := NewApplications(c, DefaultTables.Applications)
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(DefaultTables.Applications),
		Item: lockItem(lockKey("svc", "c1"), &posluha.Application{ID: "gone", Service: "svc"})})
	if err != nil {
		t.Fatal(err)
	}
	if err := apps.Create(ctx, newApp("app-1", "c1", "svc", t0), true); err != nil {
		t.Fatalf("Create over a stale lock: %v", err)
	}
	wantName(t, "Create over a live lock", apps.Create(ctx, newApp("app-2", "c1", "svc", t0), true), posluha.ErrApplicationConflict)
}

// TestUpdateKeepsOtherAttributes: attributes the adapter does not own (a
// retention TTL set by another component) survive an Update.
func TestUpdateKeepsOtherAttributes(t *testing.T) {
	ctx := context.Background()
	c := MustLocalClient(t)
	apps := NewApplications(c, DefaultTables.Applications)
	if err := apps.Create(ctx, newApp("app-1", "c1", "svc", t0), false); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(DefaultTables.Applications),
		Key: key("applicationId", "app-1"), UpdateExpression: aws.String("SET expires = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": num(1900000000)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apps.Update(ctx, "app-1", func(a *posluha.Application) error {
		return a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: "s", Time: t0})
	}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(DefaultTables.Applications), Key: key("applicationId", "app-1")})
	if err != nil {
		t.Fatal(err)
	}
	if got := (&item{m: out.Item}).int("expires"); got != 1900000000 {
		t.Errorf("expires after Update = %d, want it kept", got)
	}
}
