package dynamodb

import (
	"math/big"
	"sort"
)

var errBadPath = validation("The document path provided in the update expression is invalid for update")

// setPath stores v at p inside item. With project set, missing parents are
// created (used to build projections); otherwise a missing parent is the
// ValidationException DynamoDB returns.
func setPath(item Item, p docPath, v *AV, project bool) error {
	if len(p) == 1 {
		item[p[0].name] = v
		return nil
	}
	parent := item[p[0].name]
	if parent == nil {
		if !project {
			return errBadPath
		}
		parent = container(p[1])
		item[p[0].name] = parent
	}
	for i := 1; i < len(p)-1; i++ {
		next := child(parent, p[i])
		if next == nil {
			if !project {
				return errBadPath
			}
			next = container(p[i+1])
			if err := putChild(parent, p[i], next, project); err != nil {
				return err
			}
		}
		parent = next
	}
	return putChild(parent, p[len(p)-1], v, project)
}

func container(next pathElem) *AV {
	if next.isIndex {
		return &AV{L: []*AV{}, kind: kindL}
	}
	return &AV{M: map[string]*AV{}, kind: kindM}
}

func child(parent *AV, e pathElem) *AV {
	switch {
	case e.isIndex && parent.kind == kindL && e.index < len(parent.L):
		return parent.L[e.index]
	case !e.isIndex && parent.kind == kindM:
		return parent.M[e.name]
	}
	return nil
}

func putChild(parent *AV, e pathElem, v *AV, project bool) error {
	switch {
	case e.isIndex && parent.kind == kindL:
		if e.index < len(parent.L) && !project {
			parent.L[e.index] = v
		} else {
			// Past the end, DynamoDB appends; projections compact too.
			parent.L = append(parent.L, v)
		}
		return nil
	case !e.isIndex && parent.kind == kindM:
		parent.M[e.name] = v
		return nil
	}
	return errBadPath
}

// removePaths deletes the given paths; list elements go highest index first
// so that earlier indexes keep referring to the original positions.
func removePaths(item Item, paths []docPath) {
	sort.SliceStable(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		la, lb := a[len(a)-1], b[len(b)-1]
		return la.isIndex && lb.isIndex && la.index > lb.index
	})
	for _, p := range paths {
		if len(p) == 1 {
			delete(item, p[0].name)
			continue
		}
		parent := get(item, p[:len(p)-1])
		if parent == nil {
			continue
		}
		last := p[len(p)-1]
		switch {
		case last.isIndex && parent.kind == kindL && last.index < len(parent.L):
			parent.L = append(parent.L[:last.index:last.index], parent.L[last.index+1:]...)
		case !last.isIndex && parent.kind == kindM:
			delete(parent.M, last.name)
		}
	}
}

// applyUpdate runs the actions on a copy of old (nil when the item is new)
// and returns the new item and the top-level attributes it touched. Every
// right-hand side is evaluated against old, as DynamoDB does.
func applyUpdate(old Item, key Item, actions []updateAction) (Item, map[string]bool, error) {
	base := old
	if base == nil {
		base = Item{}
	}
	item := base.clone()
	for k, v := range key {
		item[k] = v.clone()
	}
	touched := map[string]bool{}
	type set struct {
		path docPath
		v    *AV
	}
	var sets []set
	var removes []docPath
	seen := map[string]bool{}
	for _, a := range actions {
		ps := a.path.String()
		for s := range seen {
			if overlaps(s, ps) {
				return nil, nil, validation("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", s, ps)
			}
		}
		seen[ps] = true
		if _, isKey := key[a.path[0].name]; isKey {
			return nil, nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", a.path[0].name)
		}
		touched[a.path[0].name] = true
		switch a.verb {
		case "SET":
			v, err := evalOperand(a.value, base)
			if err != nil {
				return nil, nil, err
			}
			if v == nil {
				return nil, nil, validation("The provided expression refers to an attribute that does not exist in the item")
			}
			sets = append(sets, set{a.path, v.clone()})
		case "REMOVE":
			removes = append(removes, a.path)
		case "ADD", "DELETE":
			cur := get(base, a.path)
			v, err := addDelete(a.verb, cur, a.value.value)
			if err != nil {
				return nil, nil, err
			}
			if v == nil {
				removes = append(removes, a.path)
			} else {
				sets = append(sets, set{a.path, v})
			}
		}
	}
	for _, s := range sets {
		if err := setPath(item, s.path, s.v, false); err != nil {
			return nil, nil, err
		}
	}
	removePaths(item, removes)
	return item, touched, nil
}

// overlaps reports whether one path is a prefix of the other.
func overlaps(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || (len(b) > len(a) && b[:len(a)] == a && (b[len(a)] == '.' || b[len(a)] == '['))
}

// addDelete computes ADD (number sum or set union) and DELETE (set
// difference); a nil result means the attribute is removed.
func addDelete(verb string, cur, v *AV) (*AV, error) {
	bad := validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: %s, operand type: %s", verb, v.typeName())
	if verb == "ADD" && v.kind == kindN {
		if cur == nil {
			return v.clone(), nil
		}
		if cur.kind != kindN {
			return nil, validation("An operand in the update expression has an incorrect data type")
		}
		return numAV(formatRat(new(big.Rat).Add(parseNum(*cur.N), parseNum(*v.N)))), nil
	}
	if v.kind != kindSS && v.kind != kindNS && v.kind != kindBS {
		return nil, bad
	}
	if cur == nil {
		if verb == "DELETE" {
			return nil, nil
		}
		return v.clone(), nil
	}
	if cur.kind != v.kind {
		return nil, validation("An operand in the update expression has an incorrect data type")
	}
	members := map[string]bool{}
	for _, k := range setKeys(cur) {
		members[k] = true
	}
	for _, k := range setKeys(v) {
		members[k] = verb == "ADD"
	}
	var keys []string
	for _, k := range setKeys(cur) {
		if members[k] {
			keys = append(keys, k)
			delete(members, k)
		}
	}
	for _, k := range setKeys(v) {
		if members[k] {
			keys = append(keys, k)
			delete(members, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	out := &AV{kind: cur.kind}
	for _, k := range keys {
		switch cur.kind {
		case kindSS:
			out.SS = append(out.SS, k)
		case kindNS:
			out.NS = append(out.NS, k)
		case kindBS:
			out.BS = append(out.BS, []byte(k))
		}
	}
	return out, nil
}
