package dynamodb

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"time"
)

// engine holds every table; the Server serialises calls into it.
type engine struct {
	tables map[string]*table
	now    func() time.Time
	region string
}

func newEngine(now func() time.Time, region string) *engine {
	return &engine{tables: map[string]*table{}, now: now, region: region}
}

// pageLimit is DynamoDB's 1 MB cap on one Query or Scan page.
const pageLimit = 1 << 20

// maxItemSize is DynamoDB's 400 KB item limit.
const maxItemSize = 400 << 10

func (e *engine) table(name string) (*table, *apiErr) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t := e.tables[name]
	if t == nil {
		return nil, notFound(name)
	}
	return t, nil
}

// call dispatches one operation; the result is JSON-encoded by the caller.
func (e *engine) call(op string, body []byte) (any, *apiErr) {
	decode := func(v any) *apiErr {
		if err := json.Unmarshal(body, v); err != nil {
			return &apiErr{status: http.StatusBadRequest, typ: "SerializationException", msg: fmt.Sprintf("%s: %v", op, err)}
		}
		return nil
	}
	switch op {
	case "CreateTable":
		var in createTableInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.createTable(&in)
	case "DescribeTable":
		var in struct{ TableName string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		t, err := e.table(in.TableName)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Table": t.describe("ACTIVE")}, nil
	case "DeleteTable":
		var in struct{ TableName string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		t, err := e.table(in.TableName)
		if err != nil {
			return nil, err
		}
		delete(e.tables, t.name)
		return map[string]any{"TableDescription": t.describe("DELETING")}, nil
	case "UpdateTable":
		var in updateTableInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.updateTable(&in)
	case "ListTables":
		var in struct {
			ExclusiveStartTableName string
			Limit                   int
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.listTables(in.ExclusiveStartTableName, in.Limit)
	case "DescribeTimeToLive", "UpdateTimeToLive":
		var in struct {
			TableName               string
			TimeToLiveSpecification *ttlSpec
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.timeToLive(op, in.TableName, in.TimeToLiveSpecification)
	case "PutItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.putItem(&in)
	case "UpdateItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.updateItem(&in)
	case "DeleteItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.deleteItem(&in)
	case "GetItem":
		var in readInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.getItem(&in)
	case "Query", "Scan":
		var in readInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.queryScan(op == "Query", &in)
	case "BatchGetItem":
		var in struct{ RequestItems map[string]readInput }
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.batchGet(in.RequestItems)
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item Item }
				DeleteRequest *struct{ Key Item }
			}
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return e.batchWrite(in.RequestItems)
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct {
				Put, Update, Delete, ConditionCheck *writeInput
			}
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		items := make([]txItem, len(in.TransactItems))
		for i, ti := range in.TransactItems {
			switch {
			case ti.Put != nil:
				items[i] = txItem{"Put", ti.Put}
			case ti.Update != nil:
				items[i] = txItem{"Update", ti.Update}
			case ti.Delete != nil:
				items[i] = txItem{"Delete", ti.Delete}
			case ti.ConditionCheck != nil:
				items[i] = txItem{"ConditionCheck", ti.ConditionCheck}
			default:
				return nil, validation("TransactItems[%d] names no action", i)
			}
		}
		return e.transactWrite(items)
	case "TransactGetItems":
		var in struct {
			TransactItems []struct{ Get *readInput }
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		var out []map[string]any
		for _, ti := range in.TransactItems {
			if ti.Get == nil {
				return nil, validation("TransactGetItems entries need Get")
			}
			r, err := e.getItem(ti.Get)
			if err != nil {
				return nil, err
			}
			resp := map[string]any{}
			if it, ok := r["Item"]; ok {
				resp["Item"] = it
			}
			out = append(out, resp)
		}
		return map[string]any{"Responses": out}, nil
	}
	return nil, &apiErr{status: http.StatusBadRequest, typ: "UnknownOperationException", msg: "operation " + op + " is not supported by the local endpoint"}
}

type keyElem struct {
	AttributeName string
	KeyType       string
}

type throughput struct {
	ReadCapacityUnits  int64
	WriteCapacityUnits int64
}

type projectionIn struct {
	ProjectionType   string
	NonKeyAttributes []string
}

type indexIn struct {
	IndexName             string
	KeySchema             []keyElem
	Projection            projectionIn
	ProvisionedThroughput *throughput
}

type createTableInput struct {
	TableName              string
	AttributeDefinitions   []attrDef
	KeySchema              []keyElem
	BillingMode            string
	ProvisionedThroughput  *throughput
	GlobalSecondaryIndexes []indexIn
	LocalSecondaryIndexes  []indexIn
}

func keyDefOf(ks []keyElem, types map[string]string, what string) (keyDef, *apiErr) {
	var k keyDef
	for _, e := range ks {
		if _, ok := types[e.AttributeName]; !ok {
			return k, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: %v", e.AttributeName, sortedKeys(types))
		}
		switch e.KeyType {
		case "HASH":
			if k.hash != "" {
				return k, validation("%s: only one HASH key is allowed", what)
			}
			k.hash = e.AttributeName
		case "RANGE":
			if k.rng != "" {
				return k, validation("%s: only one RANGE key is allowed", what)
			}
			k.rng = e.AttributeName
		default:
			return k, validation("%s: invalid KeyType %q", what, e.KeyType)
		}
	}
	if k.hash == "" {
		return k, validation("%s: no HASH key in KeySchema", what)
	}
	return k, nil
}

func (e *engine) createTable(in *createTableInput) (any, *apiErr) {
	if len(in.TableName) < 3 || len(in.TableName) > 255 {
		return nil, validation("TableName must be between 3 and 255 characters long")
	}
	if _, ok := e.tables[in.TableName]; ok {
		return nil, &apiErr{status: http.StatusBadRequest, typ: "ResourceInUseException", msg: "Table already exists: " + in.TableName}
	}
	t := &table{
		name: in.TableName, created: e.now(), region: e.region,
		attrTypes: map[string]string{}, attrDefs: in.AttributeDefinitions, keySchema: in.KeySchema,
		billing: in.BillingMode, throughput: in.ProvisionedThroughput, indexes: map[string]*index{},
	}
	if t.billing == "" {
		t.billing = "PROVISIONED"
	}
	for _, d := range in.AttributeDefinitions {
		if d.AttributeType != "S" && d.AttributeType != "N" && d.AttributeType != "B" {
			return nil, validation("Invalid AttributeType %q for %s", d.AttributeType, d.AttributeName)
		}
		t.attrTypes[d.AttributeName] = d.AttributeType
	}
	k, err := keyDefOf(in.KeySchema, t.attrTypes, "KeySchema")
	if err != nil {
		return nil, err
	}
	t.key = k
	t.primary = newIndex("", k)
	used := map[string]bool{k.hash: true, k.rng: true}
	add := func(list []indexIn, global bool) *apiErr {
		for _, ii := range list {
			ix, err := t.newSecondary(ii, global)
			if err != nil {
				return err
			}
			t.indexes[ii.IndexName] = ix
			used[ix.key.hash], used[ix.key.rng] = true, true
		}
		return nil
	}
	if err := add(in.GlobalSecondaryIndexes, true); err != nil {
		return nil, err
	}
	if err := add(in.LocalSecondaryIndexes, false); err != nil {
		return nil, err
	}
	for name := range t.attrTypes {
		if !used[name] {
			return nil, validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
		}
	}
	e.tables[t.name] = t
	return map[string]any{"TableDescription": t.describe("ACTIVE")}, nil
}

// newSecondary builds (without adding or filling) a secondary index.
func (t *table) newSecondary(ii indexIn, global bool) (*index, *apiErr) {
	ik, err := keyDefOf(ii.KeySchema, t.attrTypes, "IndexName "+ii.IndexName)
	if err != nil {
		return nil, err
	}
	if !global && ik.hash != t.key.hash {
		return nil, validation("Local secondary index %s must have the table's hash key", ii.IndexName)
	}
	if _, dup := t.indexes[ii.IndexName]; dup || ii.IndexName == "" {
		return nil, validation("Duplicate or empty index name %q", ii.IndexName)
	}
	ix := newIndex(ii.IndexName, ik)
	ix.global, ix.keySchema, ix.throughput = global, ii.KeySchema, ii.ProvisionedThroughput
	ix.projection, ix.nonKey = ii.Projection.ProjectionType, ii.Projection.NonKeyAttributes
	if ix.projection == "" {
		ix.projection = "ALL"
	}
	ix.projWire = ii.Projection
	return ix, nil
}

// updateTableInput is the part of UpdateTable that changes anything here.
type updateTableInput struct {
	TableName                   string
	AttributeDefinitions        []attrDef
	BillingMode                 string
	ProvisionedThroughput       *throughput
	GlobalSecondaryIndexUpdates []struct {
		Create *indexIn
		Delete *struct{ IndexName string }
		Update *struct {
			IndexName             string
			ProvisionedThroughput *throughput
		}
	}
}

// updateTable adds and removes GSIs (filled at once from the table's items:
// locally an index is ACTIVE immediately) and records billing and capacity.
func (e *engine) updateTable(in *updateTableInput) (any, *apiErr) {
	t, err := e.table(in.TableName)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for k, v := range t.attrTypes {
		types[k] = v
	}
	defs := append([]attrDef(nil), t.attrDefs...)
	for _, d := range in.AttributeDefinitions {
		if d.AttributeType != "S" && d.AttributeType != "N" && d.AttributeType != "B" {
			return nil, validation("Invalid AttributeType %q for %s", d.AttributeType, d.AttributeName)
		}
		if old, ok := types[d.AttributeName]; ok && old != d.AttributeType {
			return nil, validation("Cannot change the type of attribute %s", d.AttributeName)
		} else if !ok {
			defs = append(defs, d)
		}
		types[d.AttributeName] = d.AttributeType
	}
	// Validate every change against a scratch copy before touching t.
	scratch := *t
	scratch.attrTypes = types
	scratch.indexes = map[string]*index{}
	for k, v := range t.indexes {
		scratch.indexes[k] = v
	}
	var created []*index
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			ix, err := scratch.newSecondary(*u.Create, true)
			if err != nil {
				return nil, err
			}
			scratch.indexes[ix.name] = ix
			created = append(created, ix)
		case u.Delete != nil:
			if ix := scratch.indexes[u.Delete.IndexName]; ix == nil || !ix.global {
				return nil, &apiErr{status: http.StatusBadRequest, typ: "ResourceNotFoundException", msg: "Requested resource not found: Index: " + u.Delete.IndexName + " not found"}
			}
			delete(scratch.indexes, u.Delete.IndexName)
		case u.Update != nil:
			ix := scratch.indexes[u.Update.IndexName]
			if ix == nil || !ix.global {
				return nil, &apiErr{status: http.StatusBadRequest, typ: "ResourceNotFoundException", msg: "Requested resource not found: Index: " + u.Update.IndexName + " not found"}
			}
		default:
			return nil, validation("GlobalSecondaryIndexUpdates entries need Create, Update or Delete")
		}
	}
	for _, ix := range created {
		// Items whose attribute has another type than declared stay out,
		// where DynamoDB would refuse to build the index.
		for _, p := range t.primary.parts {
			p.entries.each(func(en *entry) {
				for _, a := range []string{ix.key.hash, ix.key.rng} {
					if v := en.item[a]; a != "" && v != nil && v.typeName() != types[a] {
						return
					}
				}
				ix.put(en.item, t.pkString(en.item))
			})
		}
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		if u.Update != nil {
			scratch.indexes[u.Update.IndexName].throughput = u.Update.ProvisionedThroughput
		}
	}
	t.indexes = scratch.indexes
	// Keep only attribute definitions some key still uses, as DynamoDB does.
	used := map[string]bool{t.key.hash: true, t.key.rng: true}
	for _, ix := range t.indexes {
		used[ix.key.hash], used[ix.key.rng] = true, true
	}
	t.attrDefs, t.attrTypes = nil, map[string]string{}
	for _, d := range defs {
		if used[d.AttributeName] {
			t.attrDefs = append(t.attrDefs, d)
			t.attrTypes[d.AttributeName] = d.AttributeType
		}
	}
	if in.BillingMode != "" {
		t.billing = in.BillingMode
	}
	if in.ProvisionedThroughput != nil {
		t.throughput = in.ProvisionedThroughput
	}
	return map[string]any{"TableDescription": t.describe("ACTIVE")}, nil
}

// createRequest renders the table's current definition as a CreateTable
// request, for compaction.
func (t *table) createRequest() ([]byte, error) {
	in := map[string]any{"TableName": t.name, "AttributeDefinitions": t.attrDefs, "KeySchema": t.keySchema, "BillingMode": t.billing}
	if t.throughput != nil {
		in["ProvisionedThroughput"] = t.throughput
	}
	var gsis, lsis []map[string]any
	for _, name := range sortedKeys(t.indexes) {
		ix := t.indexes[name]
		m := map[string]any{"IndexName": ix.name, "KeySchema": ix.keySchema, "Projection": ix.projWire}
		if ix.global {
			if ix.throughput != nil {
				m["ProvisionedThroughput"] = ix.throughput
			}
			gsis = append(gsis, m)
		} else {
			lsis = append(lsis, m)
		}
	}
	if gsis != nil {
		in["GlobalSecondaryIndexes"] = gsis
	}
	if lsis != nil {
		in["LocalSecondaryIndexes"] = lsis
	}
	return json.Marshal(in)
}

func (t *table) arn() string {
	return "arn:aws:dynamodb:" + t.region + ":000000000000:table/" + t.name
}

// describe renders a TableDescription.
func (t *table) describe(status string) map[string]any {
	d := map[string]any{
		"TableName": t.name, "TableStatus": status, "TableArn": t.arn(), "TableId": t.name,
		"KeySchema": t.keySchema, "AttributeDefinitions": t.attrDefs,
		"CreationDateTime": float64(t.created.UnixMilli()) / 1000,
		"ItemCount":        t.primary.count, "TableSizeBytes": t.size,
		"BillingModeSummary": map[string]string{"BillingMode": t.billing},
	}
	pt := map[string]any{"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}
	if t.throughput != nil {
		pt["ReadCapacityUnits"], pt["WriteCapacityUnits"] = t.throughput.ReadCapacityUnits, t.throughput.WriteCapacityUnits
	}
	d["ProvisionedThroughput"] = pt
	var gsis, lsis []map[string]any
	for _, name := range sortedKeys(t.indexes) {
		ix := t.indexes[name]
		m := map[string]any{
			"IndexName": ix.name, "KeySchema": ix.keySchema, "Projection": ix.projWire,
			"IndexArn": t.arn() + "/index/" + ix.name, "ItemCount": ix.count, "IndexSizeBytes": 0,
		}
		if ix.global {
			m["IndexStatus"] = "ACTIVE"
			ipt := map[string]any{"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}
			if ix.throughput != nil {
				ipt["ReadCapacityUnits"], ipt["WriteCapacityUnits"] = ix.throughput.ReadCapacityUnits, ix.throughput.WriteCapacityUnits
			}
			m["ProvisionedThroughput"] = ipt
			gsis = append(gsis, m)
		} else {
			lsis = append(lsis, m)
		}
	}
	if gsis != nil {
		d["GlobalSecondaryIndexes"] = gsis
	}
	if lsis != nil {
		d["LocalSecondaryIndexes"] = lsis
	}
	return d
}

func (e *engine) listTables(start string, limit int) (any, *apiErr) {
	if limit < 0 || limit > 100 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", limit)
	}
	if limit == 0 {
		limit = 100
	}
	var names []string
	for n := range e.tables {
		if n > start {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := map[string]any{"TableNames": names}
	if len(names) > limit {
		out["TableNames"] = names[:limit]
		out["LastEvaluatedTableName"] = names[limit-1]
	}
	if names == nil {
		out["TableNames"] = []string{}
	}
	return out, nil
}

// ttlSpec is DynamoDB's TimeToLiveSpecification.
type ttlSpec struct {
	AttributeName string `json:"AttributeName"`
	Enabled       bool   `json:"Enabled"`
}

func (e *engine) timeToLive(op, name string, spec *ttlSpec) (any, *apiErr) {
	t, err := e.table(name)
	if err != nil {
		return nil, err
	}
	if op == "DescribeTimeToLive" {
		desc := map[string]string{"TimeToLiveStatus": "DISABLED"}
		if t.ttl != "" {
			desc = map[string]string{"TimeToLiveStatus": "ENABLED", "AttributeName": t.ttl}
		}
		return map[string]any{"TimeToLiveDescription": desc}, nil
	}
	if spec == nil || spec.AttributeName == "" {
		return nil, validation("TimeToLiveSpecification with AttributeName is required")
	}
	switch {
	case spec.Enabled && t.ttl != "":
		return nil, validation("TimeToLive is already enabled")
	case !spec.Enabled && t.ttl == "":
		return nil, validation("TimeToLive is already disabled")
	case spec.Enabled:
		t.ttl = spec.AttributeName
	default:
		t.ttl = ""
	}
	return map[string]any{"TimeToLiveSpecification": spec}, nil
}

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
