package dynamodb

// Item operations: put, get, update, delete, batches and transactions.

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// writeInput covers PutItem, UpdateItem, DeleteItem and the transaction
// actions, which share their field names.
type writeInput struct {
	TableName                           string
	Item                                Item
	Key                                 Item
	ConditionExpression                 string
	UpdateExpression                    string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           Item
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	legacyParams
}

// legacyParams are the pre-expression parameters. They are rejected rather
// than ignored: ignoring Expected would turn a conditional write into an
// unconditional one.
type legacyParams struct {
	Expected            json.RawMessage
	AttributeUpdates    json.RawMessage
	AttributesToGet     json.RawMessage
	KeyConditions       json.RawMessage
	QueryFilter         json.RawMessage
	ScanFilter          json.RawMessage
	ConditionalOperator json.RawMessage
}

func (l *legacyParams) check() *apiErr {
	for name, v := range map[string]json.RawMessage{
		"Expected": l.Expected, "AttributeUpdates": l.AttributeUpdates, "AttributesToGet": l.AttributesToGet,
		"KeyConditions": l.KeyConditions, "QueryFilter": l.QueryFilter, "ScanFilter": l.ScanFilter, "ConditionalOperator": l.ConditionalOperator,
	} {
		if len(v) > 0 && string(v) != "null" {
			return validation("The legacy parameter %s is not supported by the local endpoint; use expressions", name)
		}
	}
	return nil
}

// prepared is the outcome of evaluating one write without applying it.
type prepared struct {
	t       *table
	old     Item
	new     Item // nil for a delete or a condition check
	del     bool
	touched map[string]bool
}

// prepare evaluates a write (kind Put, Update, Delete or ConditionCheck)
// against current state; nothing changes until commit.
func (e *engine) prepare(kind string, in *writeInput) (*prepared, *apiErr) {
	t, err := e.table(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	env := newEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	var condition *cond
	if in.ConditionExpression != "" {
		c, err := parseCondition("ConditionExpression", in.ConditionExpression, env)
		if err != nil {
			return nil, err.(*apiErr)
		}
		condition = c
	} else if kind == "ConditionCheck" {
		return nil, validation("ConditionCheck requires a ConditionExpression")
	}
	var actions []updateAction
	if kind == "Update" && in.UpdateExpression != "" {
		a, err := parseUpdate(in.UpdateExpression, env)
		if err != nil {
			return nil, err.(*apiErr)
		}
		actions = a
	}
	if err := env.unused(); err != nil {
		return nil, err.(*apiErr)
	}
	key := in.Key
	if kind == "Put" {
		if in.Item == nil {
			return nil, validation("Item is required")
		}
		if err := t.checkKeyAttrs(in.Item); err != nil {
			return nil, err
		}
		key = t.keyOf(in.Item)
	} else if err := t.checkKey(key); err != nil {
		return nil, err
	}
	p := &prepared{t: t, old: t.get(key)}
	if condition != nil {
		ok, err := evalCond(condition, p.old)
		if err != nil {
			return nil, err.(*apiErr)
		}
		if !ok {
			var item Item
			if in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
				item = p.old
			}
			return nil, conditionFailed(item)
		}
	}
	switch kind {
	case "Put":
		if in.Item.size() > maxItemSize {
			return nil, validation("Item size has exceeded the maximum allowed size")
		}
		p.new = in.Item
	case "Delete":
		p.del = true
	case "Update":
		n, touched, err := applyUpdate(p.old, key, actions)
		if err != nil {
			return nil, err.(*apiErr)
		}
		if err := t.checkKeyAttrs(n); err != nil {
			return nil, err
		}
		if n.size() > maxItemSize {
			return nil, validation("Item size to update has exceeded the maximum allowed size")
		}
		p.new, p.touched = n, touched
	}
	return p, nil
}

func (p *prepared) commit() {
	switch {
	case p.del && p.old != nil:
		p.t.delete(p.old)
	case p.new != nil:
		p.t.put(p.new)
	}
}

func (e *engine) putItem(in *writeInput) (any, *apiErr) {
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues can only be ALL_OLD or NONE")
	}
	p, err := e.prepare("Put", in)
	if err != nil {
		return nil, err
	}
	p.commit()
	out := map[string]any{}
	if in.ReturnValues == "ALL_OLD" && p.old != nil {
		out["Attributes"] = p.old
	}
	return out, nil
}

func (e *engine) deleteItem(in *writeInput) (any, *apiErr) {
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues can only be ALL_OLD or NONE")
	}
	p, err := e.prepare("Delete", in)
	if err != nil {
		return nil, err
	}
	p.commit()
	out := map[string]any{}
	if in.ReturnValues == "ALL_OLD" && p.old != nil {
		out["Attributes"] = p.old
	}
	return out, nil
}

func (e *engine) updateItem(in *writeInput) (any, *apiErr) {
	p, err := e.prepare("Update", in)
	if err != nil {
		return nil, err
	}
	p.commit()
	out := map[string]any{}
	pick := func(it Item) Item {
		r := Item{}
		for k := range p.touched {
			if v := it[k]; v != nil {
				r[k] = v
			}
		}
		return r
	}
	switch in.ReturnValues {
	case "", "NONE":
	case "ALL_OLD":
		if p.old != nil {
			out["Attributes"] = p.old
		}
	case "ALL_NEW":
		out["Attributes"] = p.new
	case "UPDATED_OLD":
		if p.old != nil {
			out["Attributes"] = pick(p.old)
		}
	case "UPDATED_NEW":
		out["Attributes"] = pick(p.new)
	default:
		return nil, validation("Invalid ReturnValues %q", in.ReturnValues)
	}
	return out, nil
}

// readInput covers GetItem, BatchGetItem's per-table entries, Query and Scan.
type readInput struct {
	TableName                 string
	Key                       Item
	Keys                      []Item
	IndexName                 string
	KeyConditionExpression    string
	FilterExpression          string
	ProjectionExpression      string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues Item
	ExclusiveStartKey         Item
	Limit                     int
	ScanIndexForward          *bool
	Select                    string
	Segment                   int
	TotalSegments             int
	ConsistentRead            bool
	legacyParams
}

func (e *engine) getItem(in *readInput) (map[string]any, *apiErr) {
	t, err := e.table(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkKey(in.Key); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	env := newEnv(in.ExpressionAttributeNames, nil)
	var proj []docPath
	if in.ProjectionExpression != "" {
		p, err := parseProjection(in.ProjectionExpression, env)
		if err != nil {
			return nil, err.(*apiErr)
		}
		proj = p
	}
	if err := env.unused(); err != nil {
		return nil, err.(*apiErr)
	}
	out := map[string]any{}
	if it := t.get(in.Key); it != nil {
		out["Item"] = project(it, proj)
	}
	return out, nil
}

func (e *engine) batchGet(req map[string]readInput) (any, *apiErr) {
	n := 0
	for _, r := range req {
		n += len(r.Keys)
	}
	if n == 0 || n > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	resp := map[string][]Item{}
	for name, r := range req {
		resp[name] = []Item{}
		for _, k := range r.Keys {
			g, err := e.getItem(&readInput{TableName: name, Key: k, ProjectionExpression: r.ProjectionExpression, ExpressionAttributeNames: r.ExpressionAttributeNames})
			if err != nil {
				return nil, err
			}
			if it, ok := g["Item"]; ok {
				resp[name] = append(resp[name], it.(Item))
			}
		}
	}
	return map[string]any{"Responses": resp, "UnprocessedKeys": map[string]any{}}, nil
}

func (e *engine) batchWrite(req map[string][]struct {
	PutRequest    *struct{ Item Item }
	DeleteRequest *struct{ Key Item }
}) (any, *apiErr) {
	var ps []*prepared
	seen := map[string]bool{}
	n := 0
	for name, list := range req {
		for _, w := range list {
			n++
			var p *prepared
			var err *apiErr
			switch {
			case w.PutRequest != nil:
				p, err = e.prepare("Put", &writeInput{TableName: name, Item: w.PutRequest.Item})
			case w.DeleteRequest != nil:
				p, err = e.prepare("Delete", &writeInput{TableName: name, Key: w.DeleteRequest.Key})
			default:
				err = validation("WriteRequest needs PutRequest or DeleteRequest")
			}
			if err != nil {
				return nil, err
			}
			k := name + "\x01" + p.t.pkString(firstNonNil(p.new, p.old, w))
			if seen[k] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			ps = append(ps, p)
		}
	}
	if n == 0 || n > 25 {
		return nil, validation("Too many items requested for the BatchWriteItem call")
	}
	for _, p := range ps {
		p.commit()
	}
	return map[string]any{"UnprocessedItems": map[string]any{}}, nil
}

func firstNonNil(a, b Item, w struct {
	PutRequest    *struct{ Item Item }
	DeleteRequest *struct{ Key Item }
}) Item {
	switch {
	case a != nil:
		return a
	case w.DeleteRequest != nil:
		return w.DeleteRequest.Key
	}
	return b
}

type txItem struct {
	kind string
	in   *writeInput
}

func (e *engine) transactWrite(items []txItem) (any, *apiErr) {
	if len(items) == 0 || len(items) > 100 {
		return nil, validation("TransactItems must have between 1 and 100 entries")
	}
	ps := make([]*prepared, len(items))
	reasons := make([]reason, len(items))
	failed := false
	seen := map[string]bool{}
	for i, ti := range items {
		reasons[i] = reason{Code: "None"}
		p, err := e.prepare(ti.kind, ti.in)
		if err != nil {
			if err.typ != "ConditionalCheckFailedException" {
				return nil, err
			}
			reasons[i] = reason{Code: "ConditionalCheckFailed", Message: err.msg, Item: err.item}
			failed = true
			continue
		}
		key := ti.in.Key
		if ti.kind == "Put" {
			key = ti.in.Item
		}
		k := p.t.name + "\x01" + p.t.pkString(key)
		if seen[k] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		ps[i] = p
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r.Code
		}
		return nil, &apiErr{status: http.StatusBadRequest, typ: "TransactionCanceledException",
			msg: fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons %v", codes), reasons: reasons}
	}
	for _, p := range ps {
		p.commit()
	}
	return map[string]any{}, nil
}
