package dynamodb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"
)

// AV is one DynamoDB attribute value; exactly one member is set. Numbers keep
// their decimal string form, as on the wire.
type AV struct {
	S    *string
	N    *string
	B    []byte
	BOOL *bool
	NULL bool
	M    map[string]*AV
	L    []*AV
	SS   []string
	NS   []string
	BS   [][]byte
	kind byte // one of the kind constants, set when decoded or built
}

// Attribute value kinds, named after their wire member.
const (
	kindNone byte = iota
	kindS
	kindN
	kindB
	kindBOOL
	kindNULL
	kindM
	kindL
	kindSS
	kindNS
	kindBS
)

var kindNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// Item is a DynamoDB item: attribute name → value.
type Item map[string]*AV

func strAV(s string) *AV { return &AV{S: &s, kind: kindS} }
func numAV(n string) *AV { return &AV{N: &n, kind: kindN} }

// wireAV is the JSON shape of an attribute value; pointers and non-nil empty
// slices tell present members from absent ones.
type wireAV struct {
	S    *string         `json:"S,omitempty"`
	N    *string         `json:"N,omitempty"`
	B    *[]byte         `json:"B,omitempty"`
	BOOL *bool           `json:"BOOL,omitempty"`
	NULL *bool           `json:"NULL,omitempty"`
	M    *map[string]*AV `json:"M,omitempty"`
	L    *[]*AV          `json:"L,omitempty"`
	SS   *[]string       `json:"SS,omitempty"`
	NS   *[]string       `json:"NS,omitempty"`
	BS   *[][]byte       `json:"BS,omitempty"`
}

// UnmarshalJSON decodes and validates a wire attribute value.
func (a *AV) UnmarshalJSON(b []byte) error {
	if a.fastScalar(b) {
		return nil
	}
	if ok, err := a.fastComposite(b); ok {
		return err
	}
	var w wireAV
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AV{}
	set := 0
	if w.S != nil {
		a.S, a.kind, set = w.S, kindS, set+1
	}
	if w.N != nil {
		c, err := canonicalNumber(*w.N)
		if err != nil {
			return err
		}
		a.N, a.kind, set = &c, kindN, set+1
	}
	if w.B != nil {
		a.B, a.kind, set = *w.B, kindB, set+1
		if a.B == nil {
			a.B = []byte{}
		}
	}
	if w.BOOL != nil {
		a.BOOL, a.kind, set = w.BOOL, kindBOOL, set+1
	}
	if w.NULL != nil {
		if !*w.NULL {
			return errors.New("NULL must be true")
		}
		a.NULL, a.kind, set = true, kindNULL, set+1
	}
	if w.M != nil {
		a.M, a.kind, set = *w.M, kindM, set+1
		if a.M == nil {
			a.M = map[string]*AV{}
		}
	}
	if w.L != nil {
		a.L, a.kind, set = *w.L, kindL, set+1
		if a.L == nil {
			a.L = []*AV{}
		}
	}
	if w.SS != nil {
		a.SS, a.kind, set = *w.SS, kindSS, set+1
	}
	if w.NS != nil {
		ns := make([]string, len(*w.NS))
		for i, n := range *w.NS {
			c, err := canonicalNumber(n)
			if err != nil {
				return err
			}
			ns[i] = c
		}
		a.NS, a.kind, set = ns, kindNS, set+1
	}
	if w.BS != nil {
		a.BS, a.kind, set = *w.BS, kindBS, set+1
	}
	if set != 1 {
		return errors.New("an AttributeValue must have exactly one member set")
	}
	if (a.kind == kindSS || a.kind == kindNS || a.kind == kindBS) && a.setLen() == 0 {
		return errors.New("an AttributeValue may not contain an empty set")
	}
	if a.kind == kindM {
		for _, v := range a.M {
			if v == nil {
				return errors.New("null member in M")
			}
		}
	}
	if a.kind == kindL {
		for _, v := range a.L {
			if v == nil {
				return errors.New("null member in L")
			}
		}
	}
	return nil
}

// fastScalar decodes the common {"S":"…"} and {"N":"…"} shapes without
// reflection when the string has no escapes; the caller's decoder has
// already validated the JSON. It reports whether it did.
func (a *AV) fastScalar(b []byte) bool {
	if len(b) < 8 || b[0] != '{' || b[1] != '"' || b[3] != '"' || b[4] != ':' || b[5] != '"' || b[len(b)-1] != '}' || b[len(b)-2] != '"' {
		return false
	}
	v := b[6 : len(b)-2]
	if bytes.IndexByte(v, '\\') >= 0 || bytes.IndexByte(v, '"') >= 0 || !utf8.Valid(v) {
		return false
	}
	switch b[2] {
	case 'S':
		str := string(v)
		*a = AV{S: &str, kind: kindS}
		return true
	case 'N':
		if !isPlainInt(string(v)) {
			return false
		}
		str := string(v)
		if str == "-0" {
			str = "0"
		}
		*a = AV{N: &str, kind: kindN}
		return true
	}
	return false
}

// fastComposite decodes the compact {"M":{…}} and {"L":[…]} shapes the
// SDKs send by walking the bytes, as Item does, rather than through
// wireAV: with reflection, each level of nesting re-validated everything
// below it, and an application's status history is three levels deep.
// Anything unusual (spaces, a second member, a null anywhere) takes the
// general path, which also words the errors. The caller's decoder has
// already validated the JSON. It reports whether it decoded b.
func (a *AV) fastComposite(b []byte) (bool, error) {
	if len(b) < 7 || b[len(b)-1] != '}' || bytes.Contains(b, []byte("null")) {
		return false, nil
	}
	var kind byte
	switch {
	case bytes.HasPrefix(b, []byte(`{"M":{`)):
		kind = 'M'
	case bytes.HasPrefix(b, []byte(`{"L":[`)):
		kind = 'L'
	default:
		return false, nil
	}
	inner := b[5 : len(b)-1]
	if valueEnd(inner, 0) != len(inner) {
		return false, nil
	}
	if kind == 'M' {
		var it Item
		if err := it.UnmarshalJSON(inner); err != nil {
			return true, err
		}
		*a = AV{M: it, kind: kindM}
		return true, nil
	}
	l := []*AV{}
	for i := skipSpace(inner, 1); i < len(inner) && inner[i] != ']'; {
		end := valueEnd(inner, i)
		if end < 0 {
			return false, nil
		}
		v := new(AV)
		if err := v.UnmarshalJSON(inner[i:end]); err != nil {
			return true, err
		}
		l = append(l, v)
		if i = skipSpace(inner, end); i < len(inner) && inner[i] == ',' {
			i = skipSpace(inner, i+1)
		}
	}
	*a = AV{L: l, kind: kindL}
	return true, nil
}

// MarshalJSON writes exactly the member that is set, including empty lists
// and maps (omitempty would drop them).
func (a *AV) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"`)
	buf.WriteString(kindNames[a.kind])
	buf.WriteString(`":`)
	var v any
	switch a.kind {
	case kindS:
		v = *a.S
	case kindN:
		v = *a.N
	case kindB:
		v = a.B
	case kindBOOL:
		v = *a.BOOL
	case kindNULL:
		v = true
	case kindM:
		v = a.M
	case kindL:
		v = a.L
	case kindSS:
		v = a.SS
	case kindNS:
		v = a.NS
	case kindBS:
		v = a.BS
	default:
		return nil, errors.New("attribute value with no member")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	buf.Write(b)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (a *AV) setLen() int { return len(a.SS) + len(a.NS) + len(a.BS) }

// typeName is the DynamoDB type descriptor (S, N, M, …).
func (a *AV) typeName() string { return kindNames[a.kind] }

// clone deep-copies a so that updates never alias logged or returned values.
func (a *AV) clone() *AV {
	c := *a
	switch a.kind {
	case kindM:
		c.M = make(map[string]*AV, len(a.M))
		for k, v := range a.M {
			c.M[k] = v.clone()
		}
	case kindL:
		c.L = make([]*AV, len(a.L))
		for i, v := range a.L {
			c.L[i] = v.clone()
		}
	case kindSS:
		c.SS = append([]string(nil), a.SS...)
	case kindNS:
		c.NS = append([]string(nil), a.NS...)
	case kindBS:
		c.BS = append([][]byte(nil), a.BS...)
	}
	return &c
}

func (it Item) clone() Item {
	c := make(Item, len(it))
	for k, v := range it {
		c[k] = v.clone()
	}
	return c
}

// canonicalNumber validates a DynamoDB number and returns a canonical decimal
// form, so "1.0" and "1" are the same key.
func canonicalNumber(s string) (string, error) {
	if isPlainInt(s) {
		if s == "-0" {
			return "0", nil
		}
		return s, nil // already canonical; big.Rat costs microseconds
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || strings.ContainsAny(s, "/xXpP_") {
		return "", fmt.Errorf("%q is not a valid number", s)
	}
	return formatRat(r), nil
}

func parseNum(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// formatRat prints r as a plain decimal without trailing zeros.
func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := r.FloatString(40)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// compareAV orders two scalar values of the same kind (S, N, B); ok is false
// when they are not comparable, which makes a comparison condition false.
func compareAV(a, b *AV) (int, bool) {
	if a == nil || b == nil || a.kind != b.kind {
		return 0, false
	}
	switch a.kind {
	case kindS:
		return strings.Compare(*a.S, *b.S), true
	case kindN:
		if x, y := *a.N, *b.N; isPlainInt(x) && isPlainInt(y) {
			return compareInts(x, y), true
		}
		return parseNum(*a.N).Cmp(parseNum(*b.N)), true
	case kindB:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// isPlainInt reports whether s is an integer without leading zeros, sign
// "+", exponent or fraction: the common case, compared without big.Rat.
func isPlainInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 38 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// compareInts orders two plain integers by sign, length, then digits.
func compareInts(x, y string) int {
	nx, ny := strings.HasPrefix(x, "-") && x != "-0", strings.HasPrefix(y, "-") && y != "-0"
	switch {
	case nx && !ny:
		return -1
	case !nx && ny:
		return 1
	}
	x, y = strings.TrimPrefix(x, "-"), strings.TrimPrefix(y, "-")
	c := len(x) - len(y)
	if c == 0 {
		c = strings.Compare(x, y)
	}
	if c > 0 {
		c = 1
	} else if c < 0 {
		c = -1
	}
	if nx {
		return -c
	}
	return c
}

// equalAV is DynamoDB's "=": same type and value; sets compare unordered.
func equalAV(a, b *AV) bool {
	if a == nil || b == nil || a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindS, kindN, kindB:
		c, _ := compareAV(a, b)
		return c == 0
	case kindBOOL:
		return *a.BOOL == *b.BOOL
	case kindNULL:
		return true
	case kindM:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, v := range a.M {
			if !equalAV(v, b.M[k]) {
				return false
			}
		}
		return true
	case kindL:
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !equalAV(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case kindSS, kindNS:
		x, y := setKeys(a), setKeys(b)
		return strings.Join(x, "\x00") == strings.Join(y, "\x00")
	case kindBS:
		x, y := setKeys(a), setKeys(b)
		return strings.Join(x, "\x00") == strings.Join(y, "\x00")
	}
	return false
}

// setKeys returns a set's members as sorted comparable strings.
func setKeys(a *AV) []string {
	var out []string
	switch a.kind {
	case kindSS:
		out = append(out, a.SS...)
	case kindNS:
		for _, n := range a.NS {
			c, _ := canonicalNumber(n)
			out = append(out, c)
		}
	case kindBS:
		for _, b := range a.BS {
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

// keyString encodes a key attribute for use as a map key.
func keyString(a *AV) string {
	switch a.kind {
	case kindS:
		return "S" + *a.S
	case kindN:
		return "N" + *a.N
	case kindB:
		return "B" + string(a.B)
	}
	return ""
}

// size approximates an item's stored size the way DynamoDB counts it
// (names plus values), for the 1 MB page limit of Query and Scan.
func (it Item) size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.size()
	}
	return n
}

func (a *AV) size() int {
	switch a.kind {
	case kindS:
		return len(*a.S)
	case kindN:
		return len(*a.N)/2 + 1
	case kindB:
		return len(a.B)
	case kindM:
		n := 3
		for k, v := range a.M {
			n += len(k) + v.size() + 1
		}
		return n
	case kindL:
		n := 3
		for _, v := range a.L {
			n += v.size() + 1
		}
		return n
	case kindSS, kindNS, kindBS:
		n := 0
		for _, k := range setKeys(a) {
			n += len(k)
		}
		return n
	}
	return 1
}

// UnmarshalJSON decodes an item, rejecting null attribute values so that no
// nil ever reaches the engine. The caller's decoder has validated b, so the
// object is walked directly instead of through a second validating
// json.Unmarshal (which was a third of replay time).
func (it *Item) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*it = nil
		return nil
	}
	if len(b) < 2 || b[0] != '{' {
		return errors.New("an item must be a JSON object")
	}
	m := Item{}
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		end := stringEnd(b, i)
		if end < 0 {
			return errors.New("malformed attribute name")
		}
		var name string
		if raw := b[i+1 : end]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			name = string(raw)
		} else if err := json.Unmarshal(b[i:end+1], &name); err != nil {
			return err
		}
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return errors.New("malformed item")
		}
		i = skipSpace(b, i+1)
		vend := valueEnd(b, i)
		if vend < 0 {
			return errors.New("malformed attribute value")
		}
		raw := b[i:vend]
		if string(raw) == "null" {
			return fmt.Errorf("attribute %q has a null value", name)
		}
		v := new(AV)
		if err := v.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("attribute %q: %w", name, err)
		}
		m[name] = v
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	*it = m
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the string at b[i], or
// -1.
func stringEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at b[i], or
// -1; b is known to be valid JSON.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		if e := stringEnd(b, i); e >= 0 {
			return e + 1
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	return j
}
