package dynamodb

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzExpressions feeds arbitrary text to every expression parser and
// evaluates what parses: nothing may panic.
func FuzzExpressions(f *testing.F) {
	for _, s := range []string{
		"attribute_not_exists(pk)", "#s = :v AND (a < :n OR NOT begins_with(b, :p))", "a BETWEEN :n AND :n",
		"a IN (:v, :n)", "size(a.b[2]) > :n", "contains(tags, :v)", "SET a = list_append(if_not_exists(a, :l), :l), b = b + :n REMOVE c[0], d.e",
		"ADD n :n DELETE s :v", "a.b[1].c, #s", "attribute_type(a, :v)", "", "((((", "SET a[99999999999999999999] = :v",
	} {
		f.Add(s)
	}
	env := func() *exprEnv {
		return newEnv(map[string]string{"#s": "status"}, Item{":v": strAV("x"), ":n": numAV("5"), ":p": strAV("x"), ":l": {L: []*AV{strAV("q")}, kind: kindL}})
	}
	item := Item{"a": numAV("1"), "b": strAV("xyz"), "tags": {SS: []string{"x"}, kind: kindSS},
		"c": {L: []*AV{numAV("1"), numAV("2")}, kind: kindL}, "d": {M: map[string]*AV{"e": strAV("q")}, kind: kindM}}
	f.Fuzz(func(t *testing.T, src string) {
		if c, err := parseCondition("ConditionExpression", src, env()); err == nil {
			evalCond(c, item)
			evalCond(c, nil)
		}
		if acts, err := parseUpdate(src, env()); err == nil {
			applyUpdate(item, Item{"pk": strAV("k")}, acts)
			applyUpdate(nil, Item{"pk": strAV("k")}, acts)
		}
		if p, err := parseProjection(src, env()); err == nil {
			project(item, p)
		}
	})
}

// FuzzHandler sends arbitrary bodies to every operation: the answer is
// always a JSON body with a status below 500, never a panic.
func FuzzHandler(f *testing.F) {
	f.Add("PutItem", `{"TableName":"apps","Item":{"pk":{"S":"a"},"sk":{"S":"b"}}}`)
	f.Add("Query", `{"TableName":"apps","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}},"ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"1"}}}`)
	f.Add("UpdateItem", `{"TableName":"apps","Key":{"pk":{"S":"a"},"sk":{"S":"b"}},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{":v":{"L":[]}}}`)
	f.Add("TransactWriteItems", `{"TransactItems":[{"Delete":{"TableName":"apps","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}}}]}`)
	f.Add("BatchWriteItem", `{"RequestItems":{"apps":[{"PutRequest":{"Item":{"pk":{"NULL":true}}}}]}}`)
	f.Add("Scan", `{"TableName":"apps","IndexName":"byStatus","Segment":1,"TotalSegments":2}`)
	f.Add("UpdateTable", `{"TableName":"apps","AttributeDefinitions":[{"AttributeName":"n","AttributeType":"N"}],"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"byN","KeySchema":[{"AttributeName":"n","KeyType":"HASH"}],"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["x"]}}},{"Delete":{"IndexName":"byStatus"}}]}`)
	srv, err := New(f.TempDir(), Options{TTLSweep: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	call := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	call("CreateTable", `{"TableName":"apps","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"status","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"GlobalSecondaryIndexes":[{"IndexName":"byStatus","KeySchema":[{"AttributeName":"status","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		w := call(op, body)
		if w.Code >= 500 {
			t.Errorf("%s %q: status %d %s", op, body, w.Code, w.Body)
		}
	})
}

// FuzzItemDecode compares the direct item decoder with encoding/json's
// generic decoding on arbitrary valid JSON.
func FuzzItemDecode(f *testing.F) {
	f.Add(`{"a":{"S":"x"},"b":{"L":[{"N":"1"},{"M":{"c":{"B":"AQ=="}}}]}}`)
	f.Add(`{"k\"":{"SS":["a","b"]}, "a":{"S":"1"}, "a":{"N":"2"}}`)
	f.Add(`{"a":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		var it Item
		err := json.Unmarshal([]byte(s), &it)
		var generic map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &generic) != nil || err != nil {
			return
		}
		if len(it) != len(generic) {
			t.Fatalf("%s: %d attributes, generic %d", s, len(it), len(generic))
		}
		for k, raw := range generic {
			var want AV
			if err := want.UnmarshalJSON(raw); err != nil || !equalAV(it[k], &want) {
				t.Fatalf("%s: attribute %q = %v, want %v (%v)", s, k, it[k], want, err)
			}
		}
	})
}
