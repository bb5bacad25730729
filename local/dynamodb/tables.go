package dynamodb

// Table operations: create, describe, update (GSIs), delete, list, TTL.

import (
	"encoding/json"
	"net/http"
	"sort"
)

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
