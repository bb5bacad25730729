package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

// richExecution has a value in every kind of field, zero and not.
func richExecution() *Execution {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	return &Execution{
		ARN: "arn:x", Name: "app-1", MachineARN: "arn:sm", Version: 2, Status: StatusRunning,
		Input: Value{value.ObjectOf("zeta", 1.0, "alpha", []any{true, nil, "ü\"<"})}, StartTime: at,
		Deadline: at.Add(time.Hour), RedriveCount: 1, RedriveTime: at.Add(time.Minute), Salt: "s",
		LastEventID: 42, WakeAt: at.Add(time.Second), Tokens: []string{"t1", "t2"}, Parked: true,
		Root: &Thread{ID: "0", State: "Map", Input: Value{[]any{1.0, 2.5}}, Entered: 3, EnteredTime: at, Last: 40, Steps: 4,
			Phase: phaseChildren, Retries: []int{0, 2}, RetryCount: 2, MaxConc: 5, TolCount: -1, TolPercent: 12.5,
			Vars: value.ObjectOf("who", "citizen"),
			Children: []*Thread{
				{ID: "0.0", State: "T", Index: 0, Started: true, Phase: phaseTask, Input: Value{1.0},
					Task: &TaskRun{Token: "t1", Resource: "arn:lambda", Lambda: true, Deadline: at.Add(time.Minute), Heartbeat: 30 * time.Second, HeartbeatAt: at.Add(30 * time.Second)}},
				{ID: "0.1", State: "T", Index: 1, Done: true, Failed: true, Error: "E", Cause: "c", NoCause: true, Output: Value{nil}},
				{ID: "0.2", State: "T", Index: 2, Done: true, Output: Value{value.NewObject(0)}, Quiet: true,
					Task: &TaskRun{Done: true, Result: Value{"r"}, Failed: true, Error: "E2"}},
			}},
	}
}

// TestRecordsOfEarlierVersionsRead: before the hand-written codec, stores
// held encoding/json's form of an Execution (every field, zero or not);
// it must decode to the same record as the compact form.
func TestRecordsOfEarlierVersionsRead(t *testing.T) {
	for _, x := range []*Execution{richExecution(), {ARN: "arn:empty"}} {
		old, err := json.Marshal(x) // what EncodeExecution wrote before
		if err != nil {
			t.Fatal(err)
		}
		compact, _ := EncodeExecution(x)
		if len(compact) >= len(old) {
			t.Errorf("compact form %d bytes, earlier form %d", len(compact), len(old))
		}
		for name, b := range map[string][]byte{"earlier": old, "compact": compact} {
			got, err := DecodeExecution(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, _ := EncodeExecution(got)
			if !bytes.Equal(again, compact) {
				t.Errorf("%s form decodes to\n %s\nwant\n %s", name, again, compact)
			}
			// encoding/json still reads the compact form into the same record.
			var viaJSON Execution
			if err := json.Unmarshal(compact, &viaJSON); err != nil {
				t.Fatal(err)
			}
			if j, _ := EncodeExecution(&viaJSON); !bytes.Equal(j, compact) {
				t.Errorf("encoding/json reads the compact form as\n %s", j)
			}
		}
		sum, err := DecodeExecutionSummary(compact)
		if err != nil || sum.Root != nil || sum.Status != x.Status || sum.LastEventID != x.LastEventID {
			t.Errorf("summary %+v, %v", sum, err)
		}
	}
}

func TestEventCodec(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 5, time.UTC)
	for _, e := range []Event{
		{ID: 7, PreviousID: 6, Time: at, Type: "TaskStateEntered", Details: value.ObjectOf("name", "T", "input", value.ObjectOf("a", []any{1.0}))},
		{ID: 1, Time: at, Type: "ExecutionStarted"},
	} {
		old, err := json.Marshal(struct {
			ID         int64     `json:"id"`
			PreviousID int64     `json:"previousEventId"`
			Time       time.Time `json:"timestamp"`
			Type       string    `json:"type"`
			Details    Value     `json:"details"`
		}{e.ID, e.PreviousID, e.Time, e.Type, Value{func() any {
			if e.Details == nil {
				return nil
			}
			return e.Details
		}()}})
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendEvent(nil, &e); !bytes.Equal(got, old) {
			t.Errorf("AppendEvent = %s, want %s", got, old)
		}
		d, err := DecodeEvent(old)
		if err != nil || d.ID != e.ID || d.PreviousID != e.PreviousID || !d.Time.Equal(e.Time) || d.Type != e.Type || value.String(d.Details) != value.String(e.Details) {
			t.Errorf("DecodeEvent = %+v, %v", d, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[1]`, "not an object"},
		{`{"ARN":1}`, "field ARN: want a string"},
		{`{"StartTime":"yesterday"}`, "field StartTime"},
		{`{"Root":{"Children":[{"Retries":"x"}]}}`, "field Retries: want an array"},
		{`{"Root":{"Task":{"Done":"yes"}}}`, "field Done: want a boolean"},
		{`{"ARN":"a"`, "decode execution"},
		{`{"Root":{"Children":[null]}}`, "field Children: want a thread"},
	}
	for _, tc := range tests {
		_, err := DecodeExecution([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeExecution(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	if _, err := DecodeEvent([]byte(`{"id":"x"}`)); err == nil {
		t.Error("DecodeEvent accepted a string id")
	}
}

// FuzzDecodeExecution: any bytes decode or fail, never panic; what decodes
// re-encodes to a fixed point.
func FuzzDecodeExecution(f *testing.F) {
	rich, _ := EncodeExecution(richExecution())
	old, _ := json.Marshal(richExecution())
	f.Add(rich)
	f.Add(old)
	f.Add([]byte(`{"Root":{"Children":[{"ID":"0.0","Vars":{}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeExecution(b)
		if err != nil {
			return
		}
		once, _ := EncodeExecution(x)
		y, err := DecodeExecution(once)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", once, err)
		}
		twice, _ := EncodeExecution(y)
		if !bytes.Equal(once, twice) {
			t.Fatalf("not a fixed point:\n%s\n%s", once, twice)
		}
	})
}
