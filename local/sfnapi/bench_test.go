package sfnapi_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
	"github.com/posluha/posluha/local/store"
)

// BenchmarkStartDescribe measures StartExecution + DescribeExecution round
// trips through the SDK client for a 3-state Pass machine, on the
// in-memory store and on the bbolt store (fsync on, as `posluha serve`
// runs it). The execution itself runs asynchronously in the engine; the
// figure is API round trips, reported as pairs/s.
func BenchmarkStartDescribe(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) engine.Store
	}{
		{"mem", func(*testing.B) engine.Store { return engine.NewMemStore() }},
		{"bbolt", func(b *testing.B) engine.Store {
			db, err := store.Open(filepath.Join(b.TempDir(), "sfn.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Close() })
			return db
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := newStack(b, stackConfig{store: st.open(b)})
			m := s.createMachine("bench", passMachine, "")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				x, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String(`{"applicationId":"a"}`)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
		// Eight clients at once: the bbolt store shares one fsync among
		// concurrent writes (group commit), so throughput scales.
		b.Run(st.name+"/parallel", func(b *testing.B) {
			s := newStack(b, stackConfig{store: st.open(b)})
			m := s.createMachine("bench", passMachine, "")
			ctx := context.Background()
			b.SetParallelism(4) // × GOMAXPROCS goroutines
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					x, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String(`{"applicationId":"a"}`)})
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := s.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}

// BenchmarkStartDescribeDirect is the same pair of operations on the
// handler without HTTP and SDK: the difference to BenchmarkStartDescribe
// is the client-side and transport cost.
func BenchmarkStartDescribeDirect(b *testing.B) {
	eng := engine.New(engine.Config{Store: engine.NewMemStore()})
	if err := eng.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close() })
	h := sfnapi.New(eng, sfnapi.Options{}).Handler()
	res, body := post(h, "POST", "AWSStepFunctions.CreateStateMachine", `{"name":"bench","roleArn":"`+role+`","definition":`+strconv.Quote(passMachine)+`}`)
	if res.StatusCode != 200 {
		b.Fatalf("create: %s", body)
	}
	var created struct{ StateMachineArn string }
	_ = json.Unmarshal(body, &created)
	start := `{"stateMachineArn":"` + created.StateMachineArn + `","input":"{\"applicationId\":\"a\"}"}`
	b.ReportAllocs()
	for b.Loop() {
		res, body := post(h, "POST", "AWSStepFunctions.StartExecution", start)
		if res.StatusCode != 200 {
			b.Fatalf("start: %s", body)
		}
		var x struct{ ExecutionArn string }
		_ = json.Unmarshal(body, &x)
		if res, body := post(h, "POST", "AWSStepFunctions.DescribeExecution", `{"executionArn":"`+x.ExecutionArn+`"}`); res.StatusCode != 200 {
			b.Fatalf("describe: %s", body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkListExecutionsPage reads the first page (100) of a machine's
// executions when the machine has 2000 (parked on a Wait) in bbolt: the
// cost grows with all executions, not the page, because the engine's
// Store lists them all (see the package report).
func BenchmarkListExecutionsPage(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "sfn.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s := newStack(b, stackConfig{store: db})
	m := s.createMachine("wait", waitMachine, "")
	ctx := context.Background()
	for i := range 2000 {
		s.start(m, "x"+strconv.Itoa(i), `{"applicationId":"a"}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := s.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(m), MaxResults: 100})
		if err != nil || len(out.Executions) != 100 {
			b.Fatalf("%v %v", out, err)
		}
	}
}
