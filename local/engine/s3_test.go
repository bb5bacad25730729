package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// memS3 is a map-backed S3 for tests.
type memS3 struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (s *memS3) GetObject(_ context.Context, bucket, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[bucket+"/"+key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return b, nil
}

func (s *memS3) PutObject(_ context.Context, bucket, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[bucket+"/"+key] = body
	return nil
}

func (s *memS3) ListObjects(_ context.Context, bucket, prefix string) ([]S3Object, error) {
	return []S3Object{{Key: prefix + "a.json", Size: 2}, {Key: prefix + "b.json", Size: 3}}, nil
}

func TestDistributedMapS3(t *testing.T) {
	s3 := &memS3{objs: map[string][]byte{
		"in/people.csv":    []byte("name,age\nann,30\nbob,40\n"),
		"in/items.json":    []byte(`[{"n":1},{"n":2},{"n":3}]`),
		"in/items.jsonl":   []byte("{\"n\":1}\n{\"n\":2}\n"),
		"in/notarray.json": []byte(`{"n":1}`),
	}}
	proc := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	tests := []struct {
		name, reader, extra, status, output, err string
	}{
		{"csv", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"in","Key":"people.csv"}}`, ``,
			StatusSucceeded, `[{"name":"ann","age":"30"},{"name":"bob","age":"40"}]`, ""},
		{"json with max items", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":2},"Parameters":{"Bucket":"in","Key":"items.json"}}`, ``,
			StatusSucceeded, `[{"n":1},{"n":2}]`, ""},
		{"jsonl", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"in","Key":"items.jsonl"}}`, ``,
			StatusSucceeded, `[{"n":1},{"n":2}]`, ""},
		{"list objects", `{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"in","Prefix":"p/"}}`, `,"ItemSelector":{"k.$":"$$.Map.Item.Value.Key"}`,
			StatusSucceeded, `[{"k":"p/a.json"},{"k":"p/b.json"}]`, ""},
		{"not an array", `{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"in","Key":"notarray.json"}}`, ``,
			StatusFailed, "", "States.ItemReaderFailed"},
		{"missing object", `{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"in","Key":"nope"}}`, ``,
			StatusFailed, "", "States.ItemReaderFailed"},
		{"result writer", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"in","Key":"items.jsonl"}}`, `,"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"res"}}`,
			StatusSucceeded, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := NewMemStore()
			clock := NewVirtualClock(t0)
			h := &harness{t: t, store: store, clock: clock}
			e := New(Config{Store: store, Clock: clock, S3: s3, AutoAdvance: true})
			if err := e.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close() })
			h.eng = e
			x := h.run(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":`+tc.reader+tc.extra+`,`+proc+`,"End":true}}}`, `{}`)
			if x.Status != tc.status || x.Error != tc.err {
				t.Fatalf("status %s error %s (%s), want %s %s", x.Status, x.Error, x.Cause, tc.status, tc.err)
			}
			if tc.output != "" && value.String(x.Output.V) != tc.output {
				t.Errorf("output = %s, want %s", value.String(x.Output.V), tc.output)
			}
			if tc.name == "result writer" {
				o := x.Output.V.(*value.Object)
				d, _ := o.Get("ResultWriterDetails")
				key, _ := d.(*value.Object).Get("Key")
				if _, err := s3.GetObject(context.Background(), "out", key.(string)); err != nil {
					t.Errorf("manifest %v not written: %v", key, err)
				}
			}
		})
	}
}

func TestEventAWSShape(t *testing.T) {
	ev := Event{ID: 3, PreviousID: 2, Time: t0, Type: "PassStateExited",
		Details: details("name", "A", "output", value.ObjectOf("a", 1.0), "assignedVariables", value.ObjectOf("x", "s"))}
	got := value.String(ev.AWS())
	want := `{"timestamp":1767323045,"type":"PassStateExited","id":3,"previousEventId":2,"stateExitedEventDetails":{"name":"A","output":"{\"a\":1}","outputDetails":{"truncated":false},"assignedVariables":{"x":"\"s\""},"assignedVariablesDetails":{"truncated":false}}}`
	if got != want {
		t.Errorf("AWS() =\n%s\nwant\n%s", got, want)
	}
	for typ, key := range map[string]string{"TaskScheduled": "taskScheduledEventDetails", "MapIterationStarted": "mapIterationStartedEventDetails", "ChoiceStateEntered": "stateEnteredEventDetails", "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails"} {
		if got := DetailsKey(typ); got != key {
			t.Errorf("DetailsKey(%s) = %s, want %s", typ, got, key)
		}
	}
}
