package value

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// indexAt is the member count from which an Object keeps a hash index;
// below it a linear scan is faster than hashing.
const indexAt = 12

// Object is a JSON object that remembers the order of its keys. The zero
// value is an empty object ready to use.
type Object struct {
	members []Member
	index   map[string]int
}

// NewObject returns an empty object with room for n members.
func NewObject(n int) *Object {
	return &Object{members: make([]Member, 0, n)}
}

// ObjectOf builds an object from alternating keys and values; it is meant
// for tests and literals.
func ObjectOf(kv ...any) *Object {
	o := NewObject(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.members)
}

// Members returns the members in order. The slice belongs to o: callers must
// not modify it.
func (o *Object) Members() []Member {
	if o == nil {
		return nil
	}
	return o.members
}

// Keys returns the keys in order.
func (o *Object) Keys() []string {
	keys := make([]string, len(o.Members()))
	for i, m := range o.Members() {
		keys[i] = m.Key
	}
	return keys
}

func (o *Object) find(key string) int {
	if o == nil {
		return -1
	}
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range o.members {
		if o.members[i].Key == key {
			return i
		}
	}
	return -1
}

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	if i := o.find(key); i >= 0 {
		return o.members[i].Value, true
	}
	return nil, false
}

// Has reports whether key is present.
func (o *Object) Has(key string) bool { return o.find(key) >= 0 }

// Set replaces the value of key in place, or appends it.
func (o *Object) Set(key string, v any) {
	if i := o.find(key); i >= 0 {
		o.members[i].Value = v
		return
	}
	o.members = append(o.members, Member{key, v})
	if o.index != nil {
		o.index[key] = len(o.members) - 1
	} else if len(o.members) >= indexAt {
		o.index = make(map[string]int, len(o.members)*2)
		for i, m := range o.members {
			o.index[m.Key] = i
		}
	}
}

// Delete removes key, keeping the order of the others.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	if o.index != nil {
		delete(o.index, key)
		for j := i; j < len(o.members); j++ {
			o.index[o.members[j].Key] = j
		}
	}
}

// Clone returns a shallow copy of o; copying the members and the index
// directly keeps it linear.
func (o *Object) Clone() *Object { return o.CloneGrow(0) }

// CloneGrow is Clone with room for extra more members.
func (o *Object) CloneGrow(extra int) *Object {
	c := &Object{members: make([]Member, o.Len(), o.Len()+extra)}
	copy(c.members, o.Members())
	if o != nil && o.index != nil {
		c.index = make(map[string]int, len(o.index)+extra)
		for k, i := range o.index {
			c.index[k] = i
		}
	}
	return c
}

// MarshalJSON lets encoding/json write an Object in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	return Append(nil, o), nil
}

// UnmarshalJSON lets encoding/json read into an Object.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := Parse(b)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return &SyntaxError{Msg: "want a JSON object"}
	}
	*o = *obj
	return nil
}

// DeepCopy returns a copy of v that shares no objects or arrays with it.
func DeepCopy(v any) any {
	switch t := v.(type) {
	case *Object:
		c := NewObject(t.Len())
		for _, m := range t.members {
			c.Set(m.Key, DeepCopy(m.Value))
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = DeepCopy(e)
		}
		return c
	}
	return v
}

// Equal reports whether a and b are the same JSON value; object key order
// does not matter.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, m := range x.Members() {
			w, ok := y.Get(m.Key)
			if !ok || !Equal(m.Value, w) {
				return false
			}
		}
		return true
	}
	return false
}
