package intrinsic

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/posluha/posluha/query/value"
)

// function describes one intrinsic: its arity, an optional compile-time
// check and its evaluation.
type function struct {
	minArgs, maxArgs int // maxArgs < 0: unbounded
	check            func(c *Call) string
	eval             func(c *Call, args []any) (any, error)
}

func (f *function) arity() string {
	switch {
	case f.maxArgs < 0:
		return fmt.Sprintf("at least %d argument(s)", f.minArgs)
	case f.minArgs == f.maxArgs:
		return fmt.Sprintf("%d argument(s)", f.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", f.minArgs, f.maxArgs)
}

// Limits AWS documents for intrinsic arguments.
const (
	maxStringInput = 10000 // Base64Encode/Decode and Hash input characters
	maxRangeItems  = 1000  // ArrayRange result
)

// functions is the table of intrinsics by name; read-only after start.
var functions = map[string]*function{
	"States.Format":         {minArgs: 1, maxArgs: -1, check: checkFormat, eval: evalFormat},
	"States.StringToJson":   {minArgs: 1, maxArgs: 1, eval: evalStringToJSON},
	"States.JsonToString":   {minArgs: 1, maxArgs: 1, eval: evalJSONToString},
	"States.Array":          {minArgs: 0, maxArgs: -1, eval: evalArray},
	"States.ArrayPartition": {minArgs: 2, maxArgs: 2, eval: evalArrayPartition},
	"States.ArrayContains":  {minArgs: 2, maxArgs: 2, eval: evalArrayContains},
	"States.ArrayRange":     {minArgs: 3, maxArgs: 3, eval: evalArrayRange},
	"States.ArrayGetItem":   {minArgs: 2, maxArgs: 2, eval: evalArrayGetItem},
	"States.ArrayLength":    {minArgs: 1, maxArgs: 1, eval: evalArrayLength},
	"States.ArrayUnique":    {minArgs: 1, maxArgs: 1, eval: evalArrayUnique},
	"States.Base64Encode":   {minArgs: 1, maxArgs: 1, eval: evalBase64Encode},
	"States.Base64Decode":   {minArgs: 1, maxArgs: 1, eval: evalBase64Decode},
	"States.Hash":           {minArgs: 2, maxArgs: 2, check: checkHash, eval: evalHash},
	"States.JsonMerge":      {minArgs: 3, maxArgs: 3, check: checkJSONMerge, eval: evalJSONMerge},
	"States.MathRandom":     {minArgs: 2, maxArgs: 3, eval: evalMathRandom},
	"States.MathAdd":        {minArgs: 2, maxArgs: 2, eval: evalMathAdd},
	"States.StringSplit":    {minArgs: 2, maxArgs: 2, eval: evalStringSplit},
	"States.UUID":           {minArgs: 0, maxArgs: 0, eval: evalUUID},
}

// checkFormat: with a literal template, the placeholders must match the
// remaining arguments, which AWS checks when the definition is created.
func checkFormat(c *Call) string {
	a := c.args[0]
	if a.kind != argLiteral {
		return ""
	}
	if _, ok := a.lit.(string); !ok {
		return "the first argument of States.Format must be a string"
	}
	if n := len(a.tmpl) - 1; n != len(c.args)-1 {
		return fmt.Sprintf("States.Format template has %d placeholder(s) but %d value argument(s)", n, len(c.args)-1)
	}
	return ""
}

func evalFormat(c *Call, args []any) (any, error) {
	tmpl := c.args[0].tmpl
	if c.args[0].kind != argLiteral {
		s, ok := args[0].(string)
		if !ok {
			return nil, typeErr(c, 1, "string", args[0])
		}
		tmpl = strings.Split(s, "{}")
	}
	if len(tmpl)-1 != len(args)-1 {
		return nil, runtimeErr("The number of arguments (%d) for States.Format does not match the number of placeholders (%d)", len(args)-1, len(tmpl)-1)
	}
	var b strings.Builder
	b.WriteString(tmpl[0])
	for i, part := range tmpl[1:] {
		writeJava(&b, args[i+1])
		b.WriteString(part)
	}
	return b.String(), nil
}

// writeJava renders v the way AWS's States.Format does, which is Java's
// toString of the parsed JSON: strings bare, objects as {k=v, k2=v2},
// arrays as [a, b].
func writeJava(b *strings.Builder, v any) {
	switch t := v.(type) {
	case string:
		b.WriteString(t)
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJava(b, e)
		}
		b.WriteByte(']')
	case *value.Object:
		b.WriteByte('{')
		for i, m := range t.Members() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.Key)
			b.WriteByte('=')
			writeJava(b, m.Value)
		}
		b.WriteByte('}')
	default:
		b.WriteString(value.String(v))
	}
}

func evalStringToJSON(c *Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, typeErr(c, 1, "string", args[0])
	}
	v, err := value.ParseString(s)
	if err != nil {
		return nil, runtimeErr("The input string for States.StringToJson is not valid JSON: %v", err)
	}
	return v, nil
}

func evalJSONToString(_ *Call, args []any) (any, error) {
	return value.String(args[0]), nil
}

func evalArray(_ *Call, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func evalArrayPartition(c *Call, args []any) (any, error) {
	a, ok := args[0].([]any)
	if !ok {
		return nil, typeErr(c, 1, "array", args[0])
	}
	size, err := intArg(c, 2, args[1])
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, runtimeErr("The chunk size for States.ArrayPartition must be a positive integer, but was %d", size)
	}
	out := make([]any, 0, (len(a)+size-1)/size)
	for i := 0; i < len(a); i += size {
		chunk := make([]any, min(size, len(a)-i))
		copy(chunk, a[i:])
		out = append(out, chunk)
	}
	return out, nil
}

func evalArrayContains(c *Call, args []any) (any, error) {
	a, ok := args[0].([]any)
	if !ok {
		return nil, typeErr(c, 1, "array", args[0])
	}
	for _, e := range a {
		if value.Equal(e, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

// evalArrayRange rounds non-integer arguments like MathAdd does and
// accepts only a positive step.
func evalArrayRange(c *Call, args []any) (any, error) {
	var n [3]int
	for i := range n {
		v, err := roundedArg(c, i+1, args[i])
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	start, end, step := n[0], n[1], n[2]
	if step <= 0 {
		return nil, runtimeErr("The step for States.ArrayRange must be a positive integer, but was %d", step)
	}
	count := 0
	if start <= end {
		count = (end-start)/step + 1
	}
	if count > maxRangeItems {
		return nil, runtimeErr("States.ArrayRange would return %d items; at most %d are allowed", count, maxRangeItems)
	}
	out := make([]any, count)
	for i := range out {
		out[i] = float64(start + i*step)
	}
	return out, nil
}

func evalArrayGetItem(c *Call, args []any) (any, error) {
	a, ok := args[0].([]any)
	if !ok {
		return nil, typeErr(c, 1, "array", args[0])
	}
	i, err := intArg(c, 2, args[1])
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(a) {
		return nil, runtimeErr("The index %d for States.ArrayGetItem is out of bounds for an array of length %d", i, len(a))
	}
	return a[i], nil
}

func evalArrayLength(c *Call, args []any) (any, error) {
	a, ok := args[0].([]any)
	if !ok {
		return nil, typeErr(c, 1, "array", args[0])
	}
	return float64(len(a)), nil
}

func evalArrayUnique(c *Call, args []any) (any, error) {
	a, ok := args[0].([]any)
	if !ok {
		return nil, typeErr(c, 1, "array", args[0])
	}
	out := make([]any, 0, len(a))
	// Quadratic on purpose: objects compare regardless of key order, so
	// there is no cheap hash key; arrays here are small.
	for _, e := range a {
		dup := false
		for _, o := range out {
			if value.Equal(e, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out, nil
}

func evalBase64Encode(c *Call, args []any) (any, error) {
	s, err := limitedString(c, args[0])
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func evalBase64Decode(c *Call, args []any) (any, error) {
	s, err := limitedString(c, args[0])
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, runtimeErr("The input for States.Base64Decode is not valid base64: %v", err)
	}
	return string(b), nil
}

// hashes maps the algorithm names AWS accepts to constructors.
var hashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New,
	"SHA-384": sha512.New384, "SHA-512": sha512.New,
}

func checkHash(c *Call) string {
	if a := c.args[1]; a.kind == argLiteral {
		if s, ok := a.lit.(string); !ok || hashes[s] == nil {
			return fmt.Sprintf("unsupported States.Hash algorithm %s; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512", value.String(a.lit))
		}
	}
	return ""
}

func evalHash(c *Call, args []any) (any, error) {
	data, err := limitedString(c, args[0])
	if err != nil {
		return nil, err
	}
	alg, _ := args[1].(string)
	newHash := hashes[alg]
	if newHash == nil {
		return nil, runtimeErr("The hash algorithm %s is not supported by States.Hash; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512", value.String(args[1]))
	}
	h := newHash()
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func checkJSONMerge(c *Call) string {
	if a := c.args[2]; a.kind == argLiteral && a.lit != false {
		return "the third argument of States.JsonMerge must be false: only shallow merges are supported"
	}
	return ""
}

func evalJSONMerge(c *Call, args []any) (any, error) {
	a, ok := args[0].(*value.Object)
	if !ok {
		return nil, typeErr(c, 1, "object", args[0])
	}
	b, ok := args[1].(*value.Object)
	if !ok {
		return nil, typeErr(c, 2, "object", args[1])
	}
	if deep, ok := args[2].(bool); !ok || deep {
		return nil, runtimeErr("The third argument of States.JsonMerge must be false: only shallow merges are supported")
	}
	out := a.Clone()
	for _, m := range b.Members() {
		out.Set(m.Key, m.Value)
	}
	return out, nil
}

// evalMathRandom returns an integer in [start, end); AWS documents that
// non-integer bounds are rounded to the nearest integer. With a seed the
// result is deterministic, but not the same number as AWS's.
func evalMathRandom(c *Call, args []any) (any, error) {
	start, err := roundedArg(c, 1, args[0])
	if err != nil {
		return nil, err
	}
	end, err := roundedArg(c, 2, args[1])
	if err != nil {
		return nil, err
	}
	if end <= start {
		return nil, runtimeErr("The end of States.MathRandom (%d) must be greater than the start (%d)", end, start)
	}
	var r *mrand.Rand
	if len(args) == 3 {
		seed, err := roundedArg(c, 3, args[2])
		if err != nil {
			return nil, err
		}
		r = mrand.New(mrand.NewPCG(uint64(seed), 0x5eed))
	} else {
		var b [16]byte
		_, _ = rand.Read(b[:])
		r = mrand.New(mrand.NewPCG(beUint64(b[:8]), beUint64(b[8:])))
	}
	return float64(start + r.IntN(end-start)), nil
}

func beUint64(b []byte) uint64 {
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return n
}

// evalMathAdd rounds each operand to the nearest integer, halves up (Java's
// Math.round: 1.5 → 2, -1.5 → -1, -0.5 → 0), then adds, as AWS does.
func evalMathAdd(c *Call, args []any) (any, error) {
	var sum float64
	for i, a := range args {
		n, err := roundedArg(c, i+1, a)
		if err != nil {
			return nil, err
		}
		sum += float64(n)
	}
	return sum, nil
}

// evalStringSplit splits at any of the delimiter's characters and drops
// empty pieces, like Java's StringTokenizer, which is what AWS shows.
func evalStringSplit(c *Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, typeErr(c, 1, "string", args[0])
	}
	delims, ok := args[1].(string)
	if !ok {
		return nil, typeErr(c, 2, "string", args[1])
	}
	out := []any{}
	for _, piece := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, piece)
	}
	return out, nil
}

func evalUUID(*Call, []any) (any, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, runtimeErr("States.UUID: no randomness: %v", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// typeErr reports an argument of the wrong JSON type; n counts from 1.
func typeErr(c *Call, n int, want string, got any) error {
	return runtimeErr("The argument %d of %s must be of type %s, but was %s: %s",
		n, c.name, want, value.TypeName(got), value.String(got))
}

// intArg reads an integral number argument.
func intArg(c *Call, n int, v any) (int, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, typeErr(c, n, "integer", v)
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, runtimeErr("The argument %d of %s must be an integer in [-2147483648, 2147483647], but was %s",
			n, c.name, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return int(f), nil
}

// roundedArg reads a number argument rounded to the nearest integer, halves
// up as Java's Math.round does; AWS keeps these in the 32-bit range.
func roundedArg(c *Call, n int, v any) (int, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, typeErr(c, n, "number", v)
	}
	r := math.Floor(f + 0.5)
	if r < math.MinInt32 || r > math.MaxInt32 {
		return 0, runtimeErr("The argument %d of %s is outside the integer range [-2147483648, 2147483647]: %s",
			n, c.name, value.FormatNumber(f))
	}
	return int(r), nil
}

// limitedString reads a string argument of at most maxStringInput characters.
func limitedString(c *Call, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", typeErr(c, 1, "string", v)
	}
	if utf8.RuneCountInString(s) > maxStringInput {
		return "", runtimeErr("The input for %s must be at most %d characters", c.name, maxStringInput)
	}
	return s, nil
}
