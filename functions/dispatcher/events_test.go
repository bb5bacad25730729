package dispatcher_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha/functions/dispatcher"
)

// TestEvents decodes every events/dispatcher/*.json strictly as an SQS
// event and runs it through the handler against a fake Step Functions that
// keeps executions by name, as the real one does.
func TestEvents(t *testing.T) {
	want := map[string]struct {
		failures   int
		executions int
	}{
		"batch.json":              {0, 2},
		"duplicate-delivery.json": {0, 1},
		"poison.json":             {1, 1},
	}
	files, _ := filepath.Glob("../../events/dispatcher/*.json")
	if len(files) == 0 {
		t.Fatal("no sample events")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			data, _ := os.ReadFile(f)
			var ev events.SQSEvent
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(ev)
			var a, b any
			json.Unmarshal(data, &a)
			json.Unmarshal(again, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("round trip:\n%s", again)
			}
			var mu sync.Mutex
			execs := map[string]string{}
			fake := &SFN{StartExecutionFunc: func(_ context.Context, _, name, input string) error {
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := execs[name]; ok && prev != input {
					return dispatcher.ErrExists
				}
				execs[name] = input
				return nil
			}}
			h := dispatcher.New(dispatcher.Deps{SFN: fake, MachineARN: func(s string) string { return s }})
			resp, err := h.Lambda()(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != exp.failures || len(execs) != exp.executions {
				t.Fatalf("failures %v, executions %d, err %v", resp.BatchItemFailures, len(execs), err)
			}
		})
	}
}
