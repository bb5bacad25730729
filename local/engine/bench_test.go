package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// benchRun runs executions of def synchronously (one interpreter pass each,
// checkpointing to a MemStore after every state) and reports state
// transitions per second and allocations per transition.
func benchRun(b *testing.B, def, input string, transitions int) {
	ctx := context.Background()
	store := NewMemStore()
	e := New(Config{Store: store, Clock: NewVirtualClock(t0)})
	sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: "bench", Definition: def})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x, _, err := e.create(ctx, StartInput{MachineARN: sm.ARN, Name: "x" + strconv.Itoa(i), Input: input}, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.advance(ctx, x.ARN); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	x, err := store.GetExecution(ctx, "arn:aws:states:us-east-1:111111111111:execution:bench:x0")
	if err != nil || x.Status != StatusSucceeded {
		b.Fatalf("execution: %v %v", x, err)
	}
	n := float64(b.N) * float64(transitions)
	b.ReportMetric(n/b.Elapsed().Seconds(), "transitions/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPassChain: 100 Pass states with Parameters and ResultPath.
func BenchmarkPassChain(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S0","States":{`)
	for i := range 100 {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == 99 {
			next = `"End":true`
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Pass","Parameters":{"step":%d,"id.$":"$.id"},"ResultPath":"$.last",%s}`, i, i, next)
	}
	sb.WriteString(`}}`)
	benchRun(b, sb.String(), `{"id":"app-1","data":{"a":[1,2,3],"b":"text"}}`, 100)
}

// BenchmarkChoiceLoop: a counter incremented by a Pass state and tested by
// a Choice state, 50 rounds (100 transitions).
func BenchmarkChoiceLoop(b *testing.B) {
	def := `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":50,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`
	benchRun(b, def, `{"i":0}`, 101)
}

// BenchmarkTaskWorkflow: executions of a 10-state workflow (5 Lambda
// tasks through the Router with an in-process function that echoes its
// payload, 5 Pass states) through StartExecution and Await, as the service
// runs them: one goroutine per running execution, a checkpoint per state.
func BenchmarkTaskWorkflow(b *testing.B) {
	echo := fakeLambda(func(_ context.Context, _ string, payload []byte) ([]byte, error) { return payload, nil })
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S0","States":{`)
	for i := range 10 {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == 9 {
			next = `"End":true`
		}
		if i%2 == 0 {
			fmt.Fprintf(&sb, `"S%d":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:local:000000000000:function:echo","Payload.$":"$"},"ResultSelector":{"v.$":"$.Payload.v"},%s}`, i, next)
		} else {
			fmt.Fprintf(&sb, `"S%d":{"Type":"Pass",%s}`, i, next)
		}
	}
	sb.WriteString(`}}`)
	ctx := context.Background()
	e := New(Config{Store: NewMemStore(), Clock: NewVirtualClock(t0), Invoker: &Router{Lambda: echo}})
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: "wf", Definition: sb.String()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x, err := e.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: "x" + strconv.Itoa(i), Input: `{"v":1}`})
		if err != nil {
			b.Fatal(err)
		}
		if x, err = e.Await(ctx, x.ARN); err != nil || x.Status != StatusSucceeded {
			b.Fatalf("%v %v %s", x.Status, err, x.Cause)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
}
