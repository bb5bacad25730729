package dynamo

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestAttrRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    any // after the round trip
		wantErr bool
	}{
		{"string", "Київ", "Київ", false},
		{"int", 42, float64(42), false},
		{"int64", int64(-7), float64(-7), false},
		{"float", 54.5, 54.5, false},
		{"json number", json.Number("1e3"), float64(1000), false},
		{"bad json number", json.Number("x"), nil, true},
		{"bool", true, true, false},
		{"null", nil, nil, false},
		{"nested", map[string]any{"a": []any{"x", 1.5, nil, map[string]any{}}}, map[string]any{"a": []any{"x", 1.5, nil, map[string]any{}}}, false},
		{"strings", []string{"a", "b"}, []any{"a", "b"}, false},
		{"struct via JSON", struct {
			N int `json:"n"`
		}{3}, map[string]any{"n": float64(3)}, false},
		{"NaN", math.NaN(), nil, true},
		{"NaN inside", map[string]any{"x": []any{math.Inf(1)}}, nil, true},
		{"not JSON", func() {}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := toAttr(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("toAttr(%v) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got, err := fromAttr(a)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fromAttr(toAttr(%v)) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestTimeFormatSorts(t *testing.T) {
	a := time.Date(2026, 11, 26, 12, 0, 0, 5, time.UTC)
	b := a.Add(time.Nanosecond * 95)
	c := time.Date(2026, 11, 26, 14, 0, 0, 0, time.FixedZone("Kyiv", 2*3600)) // 12:00 UTC exactly
	if !(fmtTime(c) < fmtTime(a) && fmtTime(a) < fmtTime(b)) {
		t.Errorf("order broken: %s %s %s", fmtTime(c), fmtTime(a), fmtTime(b))
	}
	back, err := parseTime(fmtTime(b))
	if err != nil || !back.Equal(b) {
		t.Errorf("parse(fmt(%v)) = %v, %v", b, back, err)
	}
}
