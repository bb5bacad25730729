// Package eventstest checks sample events (events/<fn>/*.json) the way
// aws-lambda-go's own events tests do: each decodes strictly into its Go
// type and encodes back to the same JSON, so a sample can neither carry a
// field the function ignores nor lose one on the way.
package eventstest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
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
