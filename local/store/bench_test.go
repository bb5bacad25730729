package store

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// BenchmarkSaveExecution measures durable checkpoints per second with many
// executions saving concurrently: group commit shares the fsyncs, so
// throughput grows with the number of executions in flight.
func BenchmarkSaveExecution(b *testing.B) {
	for _, p := range []int{16, 128} {
		b.Run(fmt.Sprintf("writers=%d", p*runtime.GOMAXPROCS(0)), func(b *testing.B) { benchmarkSave(b, p) })
	}
}

func benchmarkSave(b *testing.B, parallelism int) {
	db, err := Open(filepath.Join(b.TempDir(), "engine.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(parallelism) // writers = GOMAXPROCS × parallelism
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		arn := fmt.Sprintf("arn:ex:bench-%d", n.Add(1))
		x := execution(arn, "arn:sm:bench", value.ObjectOf("applicationId", arn))
		if err := db.CreateExecution(ctx, x, []engine.Event{event(1, "ExecutionStarted")}); err != nil {
			b.Fatal(err)
		}
		for id := int64(2); pb.Next(); id++ {
			x.LastEventID = id
			if err := db.SaveExecution(ctx, x, []engine.Event{event(id, "PassStateExited")}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
}
