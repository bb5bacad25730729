package jsonata

import (
	"sort"

	"github.com/posluha/posluha/query/value"
)

// jsObject builds an object whose key order is JavaScript's: keys that are
// array indices come first in ascending order, then the others in insertion
// order. Objects jsonata-js creates are ordered that way, and $keys shows it.
type jsObject struct {
	o      *value.Object
	hasIdx bool
}

func newJSObject() *jsObject { return &jsObject{o: value.NewObject(4)} }

func isIndexKey(k string) bool {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	n := 0
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
		n = n*10 + int(k[i]-'0')
	}
	return n < 4294967295
}

func (j *jsObject) set(k string, v any) {
	if isIndexKey(k) {
		j.hasIdx = true
	}
	j.o.Set(k, v)
}

func (j *jsObject) keys() []string {
	return j.object().Keys()
}

// object returns the members in JavaScript order.
func (j *jsObject) object() *value.Object {
	if !j.hasIdx {
		return j.o
	}
	return jsOrder(j.o)
}

func jsOrder(o *value.Object) *value.Object {
	var idx, rest []value.Member
	for _, m := range o.Members() {
		if isIndexKey(m.Key) {
			idx = append(idx, m)
		} else {
			rest = append(rest, m)
		}
	}
	if len(idx) == 0 {
		return o
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := idx[a].Key, idx[b].Key
		if len(ka) != len(kb) {
			return len(ka) < len(kb)
		}
		return ka < kb
	})
	out := value.NewObject(o.Len())
	for _, m := range idx {
		out.Set(m.Key, m.Value)
	}
	for _, m := range rest {
		out.Set(m.Key, m.Value)
	}
	return out
}

// inJSOrder reports whether o's members are already in JavaScript order.
func inJSOrder(o *value.Object) bool {
	seenName := false
	prev := ""
	for _, m := range o.Members() {
		if isIndexKey(m.Key) {
			if seenName {
				return false
			}
			if prev != "" && (len(prev) > len(m.Key) || len(prev) == len(m.Key) && prev > m.Key) {
				return false
			}
			prev = m.Key
		} else {
			seenName = true
		}
	}
	return true
}

// members returns o's members in the order JavaScript enumerates them.
func members(o *value.Object) []value.Member {
	if inJSOrder(o) {
		return o.Members()
	}
	return jsOrder(o).Members()
}
