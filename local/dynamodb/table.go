package dynamodb

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// apiErr is an error in DynamoDB's wire shape.
type apiErr struct {
	status  int
	typ     string
	msg     string
	item    Item     // ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure
	reasons []reason // TransactionCanceledException
}

// reason is one entry of TransactionCanceledException.CancellationReasons.
type reason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
	Item    Item   `json:"Item,omitempty"`
}

func (e *apiErr) Error() string { return e.typ + ": " + e.msg }

func validation(format string, args ...any) *apiErr {
	return &apiErr{status: http.StatusBadRequest, typ: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func notFound(table string) *apiErr {
	return &apiErr{status: http.StatusBadRequest, typ: "ResourceNotFoundException", msg: "Requested resource not found: Table: " + table + " not found"}
}

func conditionFailed(old Item) *apiErr {
	return &apiErr{status: http.StatusBadRequest, typ: "ConditionalCheckFailedException", msg: "The conditional request failed", item: old}
}

// keyDef names an index's hash and optional range attribute.
type keyDef struct{ hash, rng string }

// entry is one item in a partition, ordered by (sort, tie).
type entry struct {
	sort *AV
	tie  string // the table's primary key string, for secondary indexes
	item Item
}

type partition struct {
	hash    *AV
	entries entries
}

// index is the table itself or one secondary index: partitions by hash key,
// entries sorted by range key. Secondary indexes share the table's items.
type index struct {
	name       string
	key        keyDef
	global     bool
	projection string   // ALL, KEYS_ONLY, INCLUDE
	nonKey     []string // INCLUDE's attributes
	parts      map[string]*partition
	order      []string // sorted partition keys, for Scan; rebuilt when dirty
	dirty      bool
	count      int
	// wire description pieces kept for DescribeTable
	keySchema  []keyElem
	projWire   any
	throughput *throughput
}

func newIndex(name string, key keyDef) *index {
	return &index{name: name, key: key, parts: map[string]*partition{}}
}

func cmpEntry(sortA *AV, tieA string, b *entry) int {
	if sortA != nil {
		if c, _ := compareAV(sortA, b.sort); c != 0 {
			return c
		}
	}
	switch {
	case tieA < b.tie:
		return -1
	case tieA > b.tie:
		return 1
	}
	return 0
}

// search returns the position of (sort, tie) in p and whether it is there.
func (p *partition) search(sortV *AV, tie string) (pos, bool) {
	return p.entries.search(sortV, tie)
}

// sortedOrder returns the partition keys in order, re-sorting only after
// partitions came or went (sorting on every insert would be O(n) each).
func (ix *index) sortedOrder() []string {
	if ix.dirty {
		ix.order = ix.order[:0]
		for k := range ix.parts {
			ix.order = append(ix.order, k)
		}
		sort.Strings(ix.order)
		ix.dirty = false
	}
	return ix.order
}

// keysOf extracts the index key values of item; ok is false when the item
// does not belong in this index (a sparse secondary index).
func (ix *index) keysOf(item Item) (h, r *AV, ok bool) {
	h = item[ix.key.hash]
	if h == nil || keyString(h) == "" {
		return nil, nil, false
	}
	if ix.key.rng != "" {
		r = item[ix.key.rng]
		if r == nil || keyString(r) == "" {
			return nil, nil, false
		}
	}
	return h, r, true
}

func (ix *index) put(item Item, tie string) {
	h, r, ok := ix.keysOf(item)
	if !ok {
		return
	}
	hk := keyString(h)
	p := ix.parts[hk]
	if p == nil {
		p = &partition{hash: h}
		ix.parts[hk] = p
		ix.dirty = true
	}
	i, found := p.search(r, tie)
	if found {
		p.entries.at(i).item = item
		return
	}
	p.entries.insert(i, &entry{sort: r, tie: tie, item: item})
	ix.count++
}

func (ix *index) remove(item Item, tie string) {
	h, r, ok := ix.keysOf(item)
	if !ok {
		return
	}
	hk := keyString(h)
	p := ix.parts[hk]
	if p == nil {
		return
	}
	i, found := p.search(r, tie)
	if !found {
		return
	}
	p.entries.remove(i)
	ix.count--
	if p.entries.len() == 0 {
		delete(ix.parts, hk)
		ix.dirty = true
	}
}

// table is one DynamoDB table with its secondary indexes.
type table struct {
	name       string
	region     string // for ARNs
	created    time.Time
	key        keyDef
	attrTypes  map[string]string // AttributeDefinitions
	attrDefs   []attrDef
	keySchema  []keyElem
	billing    string
	throughput *throughput
	primary    *index
	indexes    map[string]*index
	ttl        string
	size       int
}

type attrDef struct {
	AttributeName string
	AttributeType string
}

// pkString identifies an item by its primary key.
func (t *table) pkString(item Item) string {
	s := keyString(item[t.key.hash])
	if t.key.rng != "" {
		s += "\x00" + keyString(item[t.key.rng])
	}
	return s
}

// checkKey validates that key has exactly the table's key attributes with
// their declared types.
func (t *table) checkKey(key Item) *apiErr {
	want := 1
	if t.key.rng != "" {
		want = 2
	}
	if len(key) != want {
		return validation("The provided key element does not match the schema")
	}
	return t.checkKeyAttrs(key)
}

// checkKeyAttrs validates the key attributes present in item.
func (t *table) checkKeyAttrs(item Item) *apiErr {
	for _, name := range []string{t.key.hash, t.key.rng} {
		if name == "" {
			continue
		}
		v := item[name]
		if v == nil {
			return validation("One or more parameter values were invalid: Missing the key %s in the item", name)
		}
		if v.typeName() != t.attrTypes[name] {
			return validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", name, t.attrTypes[name], v.typeName())
		}
		if v.kind == kindS && *v.S == "" || v.kind == kindB && len(v.B) == 0 {
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", name)
		}
	}
	for _, ix := range t.indexes {
		for _, name := range []string{ix.key.hash, ix.key.rng} {
			if v := item[name]; name != "" && v != nil && v.typeName() != t.attrTypes[name] {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", name, t.attrTypes[name], v.typeName(), ix.name)
			}
		}
	}
	return nil
}

func (t *table) get(key Item) Item {
	p := t.primary.parts[keyString(key[t.key.hash])]
	if p == nil {
		return nil
	}
	var r *AV
	if t.key.rng != "" {
		r = key[t.key.rng]
	}
	i, found := p.search(r, "")
	if !found {
		return nil
	}
	return p.entries.at(i).item
}

// put stores item, replacing any item with the same key, in every index.
func (t *table) put(item Item) {
	if old := t.get(item); old != nil {
		t.delete(old)
	}
	tie := t.pkString(item)
	t.primary.put(item, "")
	for _, ix := range t.indexes {
		ix.put(item, tie)
	}
	t.size += item.size()
}

func (t *table) delete(item Item) {
	tie := t.pkString(item)
	t.primary.remove(item, "")
	for _, ix := range t.indexes {
		ix.remove(item, tie)
	}
	t.size -= item.size()
}

// keyOf returns the primary key attributes of item.
func (t *table) keyOf(item Item) Item {
	k := Item{t.key.hash: item[t.key.hash]}
	if t.key.rng != "" {
		k[t.key.rng] = item[t.key.rng]
	}
	return k
}

// projectIndex applies a secondary index's projection to item.
func (t *table) projectIndex(ix *index, item Item) Item {
	if ix == t.primary || ix.projection == "ALL" {
		return item
	}
	out := t.keyOf(item)
	for _, k := range []string{ix.key.hash, ix.key.rng} {
		if k != "" {
			out[k] = item[k]
		}
	}
	for _, k := range ix.nonKey {
		if v := item[k]; v != nil {
			out[k] = v
		}
	}
	return out
}
