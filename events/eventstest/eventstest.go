// Package eventstest checks sample events (events/<fn>/*.json) the way
// aws-lambda-go's own events tests do: each decodes strictly into its Go
// type and encodes back to the same JSON, so a sample can neither carry a
// field the function ignores nor lose one on the way.
package eventstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/posluha/posluha"
)

// RoundTrip decodes data into a T, rejecting unknown fields, and fails tb
// unless encoding the result gives back the same JSON value.
func RoundTrip[T any](tb testing.TB, data []byte) T {
	tb.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decode: %v", err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	var a, b any
	json.Unmarshal(data, &a)
	json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		tb.Errorf("round trip:\n%s\nwant\n%s", again, data)
	}
	return v
}

// Handler is the runtime's view of a function (aws-lambda-go's
// lambda.Handler), so the samples run through the same JSON and error path
// as in Lambda.
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokeTasks runs every task sample matching pattern through h: each must
// round-trip as a posluha.TaskRequest and end with the error type want
// gives for its file name ("" for success). A sample without an
// expectation fails, so new samples cannot go untested.
func InvokeTasks(t *testing.T, pattern string, h Handler, want map[string]string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events %s: %v", pattern, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			wantErr, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", name)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			RoundTrip[posluha.TaskRequest](t, data)
			out, err := h.Invoke(context.Background(), data)
			var ive messages.InvokeResponse_Error
			got := ""
			if errors.As(err, &ive) {
				got = ive.Type
			} else if err != nil {
				t.Fatalf("error %v is not an InvokeResponse_Error", err)
			}
			if got != wantErr {
				t.Fatalf("Invoke = %s, %q; want error %q", out, got, wantErr)
			}
		})
	}
}
