package dynamodb

import (
	"encoding/json"
	"fmt"
	"net/http"
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
	run, aerr := e.decodeOp(op, body)
	if aerr != nil {
		return nil, aerr
	}
	return run()
}

// decodeOp decodes a request into the function that carries it out. The
// decoding touches no table, so the Server does it before taking its
// lock: under a burst it is most of a write's time, and writers would
// otherwise queue behind each other's JSON.
func (e *engine) decodeOp(op string, body []byte) (func() (any, *apiErr), *apiErr) {
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
		return func() (any, *apiErr) {
			return e.createTable(&in)
		}, nil
	case "DescribeTable":
		var in struct{ TableName string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			t, err := e.table(in.TableName)
			if err != nil {
				return nil, err
			}
			return map[string]any{"Table": t.describe("ACTIVE")}, nil
		}, nil
	case "DeleteTable":
		var in struct{ TableName string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			t, err := e.table(in.TableName)
			if err != nil {
				return nil, err
			}
			delete(e.tables, t.name)
			return map[string]any{"TableDescription": t.describe("DELETING")}, nil
		}, nil
	case "UpdateTable":
		var in updateTableInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.updateTable(&in)
		}, nil
	case "ListTables":
		var in struct {
			ExclusiveStartTableName string
			Limit                   int
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.listTables(in.ExclusiveStartTableName, in.Limit)
		}, nil
	case "DescribeTimeToLive", "UpdateTimeToLive":
		var in struct {
			TableName               string
			TimeToLiveSpecification *ttlSpec
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.timeToLive(op, in.TableName, in.TimeToLiveSpecification)
		}, nil
	case "PutItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.putItem(&in)
		}, nil
	case "UpdateItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.updateItem(&in)
		}, nil
	case "DeleteItem":
		var in writeInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.deleteItem(&in)
		}, nil
	case "GetItem":
		var in readInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.getItem(&in)
		}, nil
	case "Query", "Scan":
		var in readInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.queryScan(op == "Query", &in)
		}, nil
	case "BatchGetItem":
		var in struct{ RequestItems map[string]readInput }
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
			return e.batchGet(in.RequestItems)
		}, nil
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
		return func() (any, *apiErr) {
			return e.batchWrite(in.RequestItems)
		}, nil
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct {
				Put, Update, Delete, ConditionCheck *writeInput
			}
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
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
		}, nil
	case "TransactGetItems":
		var in struct {
			TransactItems []struct{ Get *readInput }
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return func() (any, *apiErr) {
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
		}, nil
	}
	return nil, &apiErr{status: http.StatusBadRequest, typ: "UnknownOperationException", msg: "operation " + op + " is not supported by the local endpoint"}
}
