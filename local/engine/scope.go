package engine

import "github.com/posluha/posluha/query/value"

// scope is the chain of variable scopes a thread sees: its own variables,
// then those of the Parallel or Map state that started it, outwards. Inner
// threads read outer variables; what they assign stays inside.
type scope struct {
	parent *scope
	t      *Thread
}

func (s *scope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.t.Vars.Get(name); ok {
			return v, true
		}
	}
	return nil, false
}

// all returns every visible variable, inner ones shadowing outer ones.
func (s *scope) all() map[string]any {
	var chain []*scope
	for c := s; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	n := 0
	for _, c := range chain {
		n += c.t.Vars.Len()
	}
	m := make(map[string]any, n+1)
	for i := len(chain) - 1; i >= 0; i-- {
		for _, mem := range chain[i].t.Vars.Members() {
			m[mem.Key] = mem.Value
		}
	}
	return m
}

// assign stores the members of vals as variables of the thread; the old
// object is left untouched because records and events may share it.
func (s *scope) assign(vals *value.Object) {
	if vals.Len() == 0 {
		return
	}
	old := s.t.Vars
	n := value.NewObject(old.Len() + vals.Len())
	for _, m := range old.Members() {
		n.Set(m.Key, m.Value)
	}
	for _, m := range vals.Members() {
		n.Set(m.Key, m.Value)
	}
	s.t.Vars = n
}
