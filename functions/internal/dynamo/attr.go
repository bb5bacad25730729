package dynamo

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// timeFormat is how times are stored: UTC with a fixed number of fraction
// digits, so that string order is time order (GSI range keys sort by it).
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// toAttr encodes a JSON-like Go value (what encoding/json decodes into any,
// plus the integer types) as a DynamoDB attribute value.
func toAttr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return str(x), nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("number %v is not JSON", x)
		}
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case float32:
		return toAttr(float64(x))
	case int:
		return num(int64(x)), nil
	case int64:
		return num(x), nil
	case int32:
		return num(int64(x)), nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, fmt.Errorf("number %q: %w", x, err)
		}
		return &types.AttributeValueMemberN{Value: string(x)}, nil
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			a, err := toAttr(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m[k] = a
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			a, err := toAttr(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l[i] = a
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case []string:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			l[i] = str(e)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	}
	// Anything else (structs, typed maps): through its JSON form.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %s: %w", reflect.TypeOf(v), err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return toAttr(g)
}

// fromAttr decodes an attribute value into the Go value encoding/json
// would give for the same JSON: numbers are float64, sets become lists.
func fromAttr(a types.AttributeValue) (any, error) {
	switch x := a.(type) {
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberS:
		return x.Value, nil
	case *types.AttributeValueMemberBOOL:
		return x.Value, nil
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(x.Value, 64)
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", x.Value, err)
		}
		return f, nil
	case *types.AttributeValueMemberB:
		return append([]byte(nil), x.Value...), nil
	case *types.AttributeValueMemberM:
		return fromMap(x.Value)
	case *types.AttributeValueMemberL:
		out := make([]any, len(x.Value))
		for i, e := range x.Value {
			v, err := fromAttr(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case *types.AttributeValueMemberSS:
		out := make([]any, len(x.Value))
		for i, s := range x.Value {
			out[i] = s
		}
		return out, nil
	case *types.AttributeValueMemberNS:
		out := make([]any, len(x.Value))
		for i, s := range x.Value {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("number %q: %w", s, err)
			}
			out[i] = f
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %T", a)
}

func fromMap(m map[string]types.AttributeValue) (map[string]any, error) {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		v, err := fromAttr(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// item reads attributes of a stored item; the first problem sticks in err.
type item struct {
	m   map[string]types.AttributeValue
	err error
}

func (it *item) str(name string) string {
	switch x := it.m[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return x.Value
	default:
		it.fail(name, "want S, have %T", x)
		return ""
	}
}

func (it *item) int(name string) int64 {
	switch x := it.m[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(x.Value, 10, 64)
		if err != nil {
			it.fail(name, "%v", err)
		}
		return n
	default:
		it.fail(name, "want N, have %T", x)
		return 0
	}
}

func (it *item) bool(name string) bool {
	switch x := it.m[name].(type) {
	case nil:
		return false
	case *types.AttributeValueMemberBOOL:
		return x.Value
	default:
		it.fail(name, "want BOOL, have %T", x)
		return false
	}
}

func (it *item) time(name string) time.Time {
	t, err := parseTime(it.str(name))
	if err != nil {
		it.fail(name, "%v", err)
	}
	return t
}

func (it *item) bytes(name string) []byte {
	switch x := it.m[name].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberB:
		return append([]byte(nil), x.Value...)
	default:
		it.fail(name, "want B, have %T", x)
		return nil
	}
}

func (it *item) value(name string) any {
	a, ok := it.m[name]
	if !ok {
		return nil
	}
	v, err := fromAttr(a)
	if err != nil {
		it.fail(name, "%v", err)
	}
	return v
}

func (it *item) list(name string) []types.AttributeValue {
	switch x := it.m[name].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberL:
		return x.Value
	default:
		it.fail(name, "want L, have %T", x)
		return nil
	}
}

func (it *item) fail(name, format string, args ...any) {
	if it.err == nil {
		it.err = fmt.Errorf("attribute %s: %s", name, fmt.Sprintf(format, args...))
	}
}

func asMap(a types.AttributeValue) map[string]types.AttributeValue {
	if m, ok := a.(*types.AttributeValueMemberM); ok {
		return m.Value
	}
	return nil
}
