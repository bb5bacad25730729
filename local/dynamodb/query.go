package dynamodb

// Query and Scan: key conditions, pagination, filters, projections.

import (
	"hash/fnv"
	"sort"
)

// keyCond is an analysed KeyConditionExpression.
type keyCond struct {
	hash     *AV
	rangeCnd *cond // nil when only the hash key is constrained
}

func analyseKeyCond(c *cond, ix *index) (*keyCond, *apiErr) {
	var parts []*cond
	var flatten func(*cond) *apiErr
	flatten = func(c *cond) *apiErr {
		switch c.kind {
		case cAnd:
			if err := flatten(c.left); err != nil {
				return err
			}
			return flatten(c.right)
		case cOr, cNot, cIn:
			return validation("Invalid operator used in KeyConditionExpression")
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(c); err != nil {
		return nil, err
	}
	kc := &keyCond{}
	for _, p := range parts {
		if len(p.args) == 0 || p.args[0].kind != oPath || len(p.args[0].path) != 1 {
			return nil, validation("Invalid KeyConditionExpression: the left operand must be a key attribute")
		}
		name := p.args[0].path[0].name
		for _, a := range p.args[1:] {
			if a.kind != oValue {
				return nil, validation("Invalid KeyConditionExpression: key conditions compare with values")
			}
		}
		switch {
		case name == ix.key.hash && p.kind == cCmp && p.op == "=" && kc.hash == nil:
			kc.hash = p.args[1].value
		case name == ix.key.rng && kc.rangeCnd == nil &&
			(p.kind == cCmp && p.op != "<>" || p.kind == cBetween || p.kind == cFunc && p.op == "begins_with"):
			kc.rangeCnd = p
		default:
			return nil, validation("Query condition missed key schema element or used an unsupported operator on %s", name)
		}
	}
	if kc.hash == nil {
		return nil, validation("Query condition missed key schema element: %s", ix.key.hash)
	}
	return kc, nil
}

func (e *engine) queryScan(isQuery bool, in *readInput) (any, *apiErr) {
	t, err := e.table(in.TableName)
	if err != nil {
		return nil, err
	}
	ix := t.primary
	if in.IndexName != "" {
		ix = t.indexes[in.IndexName]
		if ix == nil {
			return nil, validation("The table does not have the specified index: %s", in.IndexName)
		}
		if ix.global && in.ConsistentRead {
			// As in AWS: code that asks for it must fail here too.
			return nil, validation("Consistent reads are not supported on global secondary indexes")
		}
	}
	if in.Limit < 0 {
		return nil, validation("Limit must be greater than or equal to 1")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	env := newEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	var kc *keyCond
	if isQuery {
		if in.KeyConditionExpression == "" {
			return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		c, perr := parseCondition("KeyConditionExpression", in.KeyConditionExpression, env)
		if perr != nil {
			return nil, perr.(*apiErr)
		}
		if kc, err = analyseKeyCond(c, ix); err != nil {
			return nil, err
		}
	}
	var filter *cond
	if in.FilterExpression != "" {
		c, perr := parseCondition("FilterExpression", in.FilterExpression, env)
		if perr != nil {
			return nil, perr.(*apiErr)
		}
		filter = c
	}
	var proj []docPath
	if in.ProjectionExpression != "" {
		p, perr := parseProjection(in.ProjectionExpression, env)
		if perr != nil {
			return nil, perr.(*apiErr)
		}
		proj = p
	}
	if uerr := env.unused(); uerr != nil {
		return nil, uerr.(*apiErr)
	}
	if in.TotalSegments < 0 || in.TotalSegments > 1_000_000 || (in.TotalSegments > 0 && (in.Segment < 0 || in.Segment >= in.TotalSegments)) {
		return nil, validation("Segment must be in [0, TotalSegments)")
	}

	// The start position: after ExclusiveStartKey, in index order.
	var startHash string
	var startSort *AV
	var startTie string
	if in.ExclusiveStartKey != nil {
		if err := t.checkKeyAttrs(in.ExclusiveStartKey); err != nil {
			return nil, validation("The provided starting key is invalid: %s", err.msg)
		}
		h, r, ok := ix.keysOf(in.ExclusiveStartKey)
		if !ok {
			return nil, validation("The provided starting key is invalid")
		}
		startHash, startSort = keyString(h), r
		if ix != t.primary {
			startTie = t.pkString(in.ExclusiveStartKey)
		}
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward

	var (
		items     []Item
		count     int
		scanned   int
		bytes     int
		last      Item
		truncated bool
	)
	visit := func(en *entry) bool { // false stops the walk
		if (in.Limit > 0 && scanned >= in.Limit) || bytes >= pageLimit {
			truncated = true
			return false
		}
		scanned++
		bytes += en.item.size()
		last = en.item
		if filter != nil {
			ok, err := evalCond(filter, en.item)
			if err != nil || !ok {
				return true
			}
		}
		count++
		if in.Select != "COUNT" {
			items = append(items, project(t.projectIndex(ix, en.item), proj))
		}
		return true
	}
	// walk visits p's entries from a position; key conditions select a
	// contiguous run of the sorted entries, so it stops after the run.
	walk := func(p *partition, from pos, forward bool) bool {
		matched := false
		for at := from; p.entries.valid(at); {
			en := p.entries.at(at)
			if forward {
				at = p.entries.next(at)
			} else {
				at = p.entries.prev(at)
			}
			if kc != nil && kc.rangeCnd != nil {
				if ok, _ := evalCond(kc.rangeCnd, Item{ix.key.rng: en.sort}); !ok {
					if matched {
						return true
					}
					continue
				}
				matched = true
			}
			if !visit(en) {
				return false
			}
		}
		return true
	}
	if isQuery {
		if kc.hash.typeName() != t.attrTypes[ix.key.hash] {
			return nil, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
		if p := ix.parts[keyString(kc.hash)]; p != nil {
			from := p.entries.first()
			if !forward {
				from = p.entries.last()
			}
			switch {
			case in.ExclusiveStartKey != nil:
				i, found := p.search(startSort, startTie)
				switch {
				case forward && found:
					from = p.entries.next(i)
				case forward:
					from = i
				default:
					from = p.entries.prev(i)
				}
			case forward && kc.rangeCnd != nil:
				if lo := lowerBound(kc.rangeCnd); lo != nil {
					from, _ = p.search(lo, "")
				}
			}
			walk(p, from, forward)
		}
	} else {
		order := ix.sortedOrder()
		start := 0
		if in.ExclusiveStartKey != nil {
			start = sort.SearchStrings(order, startHash)
		}
		for pi := start; pi < len(order); pi++ {
			hk := order[pi]
			if in.TotalSegments > 1 {
				h := fnv.New32a()
				h.Write([]byte(hk))
				if int(h.Sum32()%uint32(in.TotalSegments)) != in.Segment {
					continue
				}
			}
			p := ix.parts[hk]
			from := p.entries.first()
			if in.ExclusiveStartKey != nil && hk == startHash {
				i, found := p.search(startSort, startTie)
				from = i
				if found {
					from = p.entries.next(i)
				}
			}
			if !walk(p, from, true) {
				break
			}
		}
	}
	out := map[string]any{"Count": count, "ScannedCount": scanned}
	if in.Select != "COUNT" {
		if items == nil {
			items = []Item{}
		}
		out["Items"] = items
	}
	if truncated && last != nil {
		lek := t.keyOf(last)
		if ix != t.primary {
			lek[ix.key.hash] = last[ix.key.hash]
			if ix.key.rng != "" {
				lek[ix.key.rng] = last[ix.key.rng]
			}
		}
		out["LastEvaluatedKey"] = lek
	}
	return out, nil
}

// lowerBound is the smallest range-key value a key condition can match, or
// nil when it has none; the walk seeks there instead of starting at the
// partition's first entry.
func lowerBound(c *cond) *AV {
	switch {
	case c.kind == cCmp && (c.op == "=" || c.op == ">" || c.op == ">="):
		return c.args[1].value
	case c.kind == cBetween:
		return c.args[1].value
	case c.kind == cFunc && c.op == "begins_with":
		return c.args[1].value
	}
	return nil
}
