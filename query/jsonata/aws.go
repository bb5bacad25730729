package jsonata

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"math"

	"github.com/posluha/posluha/query/value"
)

// The functions AWS Step Functions adds to JSONata. Errors use jsonata-js's
// generic codes; Step Functions reports every one as
// States.QueryEvaluationError anyway.

func fnPartition(c *call, a []any) any {
	xs, ok := arr(a[0])
	if !ok {
		xs = items(a[0])
	}
	size, _ := numArg(a[1])
	if size <= 0 || size != math.Trunc(size) {
		panic(&Error{Code: "D3030", Token: c.name, Value: a[1], Message: "The size argument of $partition must be a positive integer", Position: c.pos})
	}
	n := int(size)
	result := []any{}
	for i := 0; i < len(xs); i += n {
		chunk := append([]any{}, xs[i:min(i+n, len(xs))]...)
		result = append(result, chunk)
	}
	return result
}

// maxRange bounds $range like the range operator.
const maxRange = 1e7

func fnRange(c *call, a []any) any {
	start, _ := numArg(a[0])
	end, _ := numArg(a[1])
	step := 1.0
	if s, ok := numArg(a[2]); ok {
		step = s
	}
	if step == 0 || math.IsNaN(step) {
		panic(&Error{Code: "D3030", Token: c.name, Value: a[2], Message: "The step argument of $range must not be zero", Position: c.pos})
	}
	if n := (end-start)/step + 1; n > maxRange {
		panic(&Error{Code: "D2014", Token: c.name, Value: n, Position: c.pos})
	}
	// a sequence, as Step Functions returns it: one number comes out as a
	// number ($range(1, 9, 9) is 1)
	result := newSeq()
	for i := 0; ; i++ {
		v := start + float64(i)*step
		if (step > 0 && v > end) || (step < 0 && v < end) {
			break
		}
		result.v = append(result.v, v)
	}
	return result
}

func fnHash(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	alg := "SHA-256"
	if x, ok := strArg(a[1]); ok {
		alg = x
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		panic(&Error{Code: "D3030", Token: c.name, Value: alg, Message: fmt.Sprintf("Unsupported hash algorithm %q: use MD5, SHA-1, SHA-256, SHA-384 or SHA-512", alg), Position: c.pos})
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func fnUUID(c *call, a []any) any {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func fnParse(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	v, err := value.ParseString(s)
	if err != nil {
		panic(&Error{Code: "D3030", Token: c.name, Value: s, Message: "Unable to parse JSON string: " + err.Error(), Position: c.pos})
	}
	return v
}
