package bus

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/store"
)

const benchDefinition = `{"StartAt":"A","States":{
  "A":{"Type":"Pass","Comment":"bpmn:a","Next":"B"},
  "B":{"Type":"Pass","Comment":"bpmn:b","Next":"C"},
  "C":{"Type":"Pass","Comment":"bpmn:c","Next":"D"},
  "D":{"Type":"Pass","Comment":"bpmn:d","End":true}}}`

// BenchmarkFeed runs executions of four states on the durable bbolt store
// (fsync, group commit) directly and through the feed, whose every save
// here publishes (a state entered), so the ratio is the bus's worst-case
// overhead on the engine.
func BenchmarkFeed(b *testing.B) {
	for _, withBus := range []bool{false, true} {
		name := "direct"
		if withBus {
			name = "feed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			db, err := store.Open(filepath.Join(dir, "engine.db"), store.Options{BatchDelay: 2e6})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var st engine.Store = db
			var delivered atomic.Int64
			if withBus {
				bus, err := Open(filepath.Join(dir, "bus.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer bus.Close()
				st = NewFeed(db, bus)
				bus.Subscribe("count", func(_ context.Context, evs []Event) error {
					delivered.Add(int64(len(evs)))
					return nil
				})
				if err := bus.Start(ctx); err != nil {
					b.Fatal(err)
				}
			}
			eng := engine.New(engine.Config{Store: st})
			if err := eng.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			sm, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "bench", Definition: benchDefinition})
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: sm.ARN, Name: fmt.Sprint("x-", n.Add(1))})
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := eng.Await(ctx, x.ARN); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
		})
	}
}
