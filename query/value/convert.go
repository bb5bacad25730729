package value

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// FromGo converts a value built by encoding/json or by hand (maps, slices,
// ints, json.Number, structs) into the data model. Map keys are sorted,
// since Go maps have no order; structs go through encoding/json and keep
// their field order.
func FromGo(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, float64, string, *Object:
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case int32:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case float32:
		return float64(t), nil
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", t, err)
		}
		return f, nil
	case json.RawMessage:
		return Parse(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := FromGo(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := NewObject(len(keys))
		for _, k := range keys {
			c, err := FromGo(t[k])
			if err != nil {
				return nil, err
			}
			o.Set(k, c)
		}
		return o, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// ToGo converts a value of the data model into what encoding/json would
// produce when decoding into any (map[string]any for objects). Key order is
// lost; use it only at boundaries that need plain Go values.
func ToGo(v any) any {
	switch t := v.(type) {
	case *Object:
		m := make(map[string]any, t.Len())
		for _, mem := range t.Members() {
			m[mem.Key] = ToGo(mem.Value)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = ToGo(e)
		}
		return out
	}
	return v
}

// TypeName names v's JSON type as JavaScript's typeof-like wording used in
// error messages: "null", "boolean", "number", "string", "array", "object".
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *Object:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
