package console

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/dynamodb"
)

// storeImpl is one Store implementation under the shared projection tests
// (TestProjectionLifecycle, TestProjectionReplay, TestProjectionQueries).
type storeImpl struct {
	name string
	open func(tb testing.TB) support.Store
	load func(tb testing.TB, s support.Store, apps []*support.App) error
	runs int // random replay runs (each a fresh store)
}

var stores = []storeImpl{
	{name: "bbolt", runs: 20,
		open: func(tb testing.TB) support.Store { return mustProjection(tb) },
		load: func(_ testing.TB, s support.Store, apps []*support.App) error { return s.(*Projection).Load(apps) }},
	{name: "dynamodb", runs: 5,
		open: func(tb testing.TB) support.Store { return mustDynamoProjection(tb) },
		load: func(_ testing.TB, s support.Store, apps []*support.App) error {
			return s.(*support.DynamoProjection).Load(context.Background(), apps)
		}},
}

var tableSeq atomic.Int64

// localDynamo starts the local DynamoDB endpoint in-process on 127.0.0.1:0
// (one per test) and returns a client for it.
func localDynamo(tb testing.TB) *ddb.Client {
	tb.Helper()
	srv, err := dynamodb.New(filepath.Join(tb.TempDir(), "dynamodb"), dynamodb.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return ddb.New(ddb.Options{Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), HTTPClient: hs.Client()})
}

func mustDynamoProjection(tb testing.TB) *support.DynamoProjection {
	tb.Helper()
	c := localDynamo(tb)
	p := &support.DynamoProjection{Client: c, Table: fmt.Sprintf("projection-%d", tableSeq.Add(1))}
	if err := support.CreateProjectionTable(context.Background(), c, p.Table); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestProjectionConcurrentAppliers: several consumers applying the same
// events at once (EventBridge may invoke Lambdas in parallel, and
// redelivers) end with the projection one clean pass gives; the counters
// are not doubled by lost or repeated updates.
func TestProjectionConcurrentAppliers(t *testing.T) {
	var evs []bus.Event
	for i := range 4 {
		evs = append(evs, stream(t, fmt.Sprintf("a%d", i+1), "1234567890", i%2 == 0)...)
	}
	for _, impl := range stores {
		t.Run(impl.name, func(t *testing.T) {
			clean := impl.open(t)
			apply(t, clean, evs)
			p := impl.open(t)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() {
					for i := 0; i < len(evs); i += 3 {
						if err := p.Apply(context.Background(), evs[i:min(i+3, len(evs))]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for _, id := range []string{"a1", "a2", "a3", "a4"} {
				want, _ := clean.Get(context.Background(), id)
				got, err := p.Get(context.Background(), id)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %+v, %v; want %+v", id, got, err, want)
				}
			}
			for _, f := range []func(support.Store) (map[string]map[string]int64, error){
				func(s support.Store) (map[string]map[string]int64, error) {
					return s.StatusCounts(context.Background())
				},
				func(s support.Store) (map[string]map[string]int64, error) { return s.StepCounts(context.Background()) },
			} {
				want, _ := f(clean)
				got, err := f(p)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("counts = %v, %v; want %v", got, err, want)
				}
			}
		})
	}
}

// TestProjectionPaging walks every list page by page (sizes 1 to 4) and
// compares with one big page: same order, nothing repeated or missed,
// across services too.
func TestProjectionPaging(t *testing.T) {
	var apps []*support.App
	for i := range 40 {
		svc := []string{"svc-a", "svc-b", "svc-c"}[i%3]
		a := &support.App{ID: fmt.Sprintf("app-%02d", i), Service: svc, Citizen: fmt.Sprintf("c%d", i%2), Steps: []string{}, Started: t0}
		switch i % 4 {
		case 0, 1:
			a.Status, a.Stopped, a.FailedStep = "FAILED", t0.Add(time.Duration(i*7%40)*time.Minute), "pay"
			a.Since = a.Stopped
		case 2:
			a.Status, a.Steps, a.Since = "RUNNING", []string{"check", "notify"}, t0.Add(time.Duration(i)*time.Minute)
		default:
			a.Status, a.Stopped, a.Since = "TIMED_OUT", t0.Add(time.Duration(i)*time.Second), t0.Add(time.Duration(i)*time.Second)
		}
		apps = append(apps, a)
	}
	ctx := context.Background()
	lists := map[string]func(s support.Store, limit int, after string) (*support.Page, error){
		"failed all": func(s support.Store, l int, a string) (*support.Page, error) { return s.Failed(ctx, "", l, a) },
		"failed svc": func(s support.Store, l int, a string) (*support.Page, error) { return s.Failed(ctx, "svc-b", l, a) },
		"stuck": func(s support.Store, l int, a string) (*support.Page, error) {
			return s.Stuck(ctx, "svc-c", t0.Add(time.Hour), l, a)
		},
		"at step": func(s support.Store, l int, a string) (*support.Page, error) {
			return s.AtStep(ctx, "svc-a", "notify", l, a)
		},
		"citizen": func(s support.Store, l int, a string) (*support.Page, error) { return s.ByCitizen(ctx, "c0", l, a) },
	}
	for _, impl := range stores {
		p := impl.open(t)
		if err := impl.load(t, p, apps); err != nil {
			t.Fatal(err)
		}
		for name, list := range lists {
			t.Run(impl.name+"/"+name, func(t *testing.T) {
				whole, err := list(p, 500, "")
				if err != nil || len(whole.Apps) == 0 || whole.Next != "" {
					t.Fatalf("one page: %+v %v", whole, err)
				}
				want := ids(whole.Apps)
				for size := 1; size <= 4; size++ {
					var got []string
					after := ""
					for range 100 {
						pg, err := list(p, size, after)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, ids(pg.Apps)...)
						if pg.Next == "" {
							break
						}
						after = pg.Next
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("pages of %d = %v, want %v", size, got, want)
					}
				}
			})
		}
	}
}

func ids(apps []*support.App) []string {
	out := []string{}
	for _, a := range apps {
		out = append(out, a.ID)
	}
	return out
}
