package dynamodb

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for TestModel (0: from the clock)")

// modelItem is the reference model's view of one item.
type modelItem struct {
	pk, sk string
	status string // "" when absent
	n      int
}

// TestModel runs random writes against the server and a plain map, then
// checks Query (table and GSI, both directions, paginated) and Scan against
// the map, before and after a restart that replays the log. A failure
// prints the seed; rerun with -seed to reproduce.
func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	srv, err := New(dir, Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	call := func(op string, in any) (map[string]any, *apiErr) {
		t.Helper()
		body, _ := json.Marshal(in)
		// No wait for the fsync: Close flushes before the restart.
		out, _, aerr := srv.apply(op, body)
		var res map[string]any
		if aerr == nil {
			json.Unmarshal(out, &res)
		}
		return res, aerr
	}
	if _, err := call("CreateTable", map[string]any{
		"TableName": "apps",
		"AttributeDefinitions": []map[string]string{{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
			{"AttributeName": "status", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}},
		"KeySchema": []map[string]string{{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}},
		"GlobalSecondaryIndexes": []map[string]any{{"IndexName": "byStatus",
			"KeySchema":  []map[string]string{{"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}},
			"Projection": map[string]string{"ProjectionType": "ALL"}}},
	}); err != nil {
		t.Fatal(err)
	}
	model := map[string]modelItem{}
	statuses := []string{"submitted", "processing", "done"}
	key := func(pk, sk string) map[string]any {
		return map[string]any{"pk": map[string]string{"S": pk}, "sk": map[string]string{"S": sk}}
	}
	for range 3000 {
		pk := fmt.Sprint("p", rng.IntN(4))
		sk := fmt.Sprintf("s%04d", rng.IntN(700)) // several chunks per partition
		id := pk + "/" + sk
		_, exists := model[id]
		switch op := rng.IntN(10); {
		case op < 5: // put, conditional half the time
			it := modelItem{pk: pk, sk: sk, status: statuses[rng.IntN(3)], n: rng.IntN(50)}
			item := key(pk, sk)
			item["status"] = map[string]string{"S": it.status}
			item["n"] = map[string]string{"N": strconv.Itoa(it.n)}
			in := map[string]any{"TableName": "apps", "Item": item}
			cond := rng.IntN(2) == 0
			if cond {
				in["ConditionExpression"] = "attribute_not_exists(pk)"
			}
			_, err := call("PutItem", in)
			switch {
			case cond && exists && (err == nil || err.typ != "ConditionalCheckFailedException"):
				t.Fatalf("conditional put on existing %s = %v", id, err)
			case err != nil && !(cond && exists):
				t.Fatalf("put %s: %v", id, err)
			case err == nil:
				model[id] = it
			}
		case op < 7:
			if _, err := call("DeleteItem", map[string]any{"TableName": "apps", "Key": key(pk, sk)}); err != nil {
				t.Fatalf("delete %s: %v", id, err)
			}
			delete(model, id)
		case op < 9: // ADD n, and sometimes drop the status (leaving the GSI)
			upd := "ADD n :one"
			if rng.IntN(3) == 0 {
				upd += " REMOVE #s"
			}
			in := map[string]any{"TableName": "apps", "Key": key(pk, sk), "UpdateExpression": upd,
				"ConditionExpression":       "attribute_exists(pk)",
				"ExpressionAttributeValues": map[string]any{":one": map[string]string{"N": "1"}}}
			if len(upd) > 10 {
				in["ExpressionAttributeNames"] = map[string]string{"#s": "status"}
			}
			_, err := call("UpdateItem", in)
			if !exists {
				if err == nil || err.typ != "ConditionalCheckFailedException" {
					t.Fatalf("update of missing %s = %v", id, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("update %s: %v", id, err)
			}
			it := model[id]
			it.n++
			if len(upd) > 10 {
				it.status = ""
			}
			model[id] = it
		default: // SET status
			it, ok := model[id]
			if !ok {
				continue
			}
			it.status = statuses[rng.IntN(3)]
			_, err := call("UpdateItem", map[string]any{"TableName": "apps", "Key": key(pk, sk), "UpdateExpression": "SET #s = :s",
				"ExpressionAttributeNames":  map[string]string{"#s": "status"},
				"ExpressionAttributeValues": map[string]any{":s": map[string]string{"S": it.status}}})
			if err != nil {
				t.Fatalf("set status %s: %v", id, err)
			}
			model[id] = it
		}
	}

	check := func(stage string) {
		t.Helper()
		// Paginated query, returning "pk/sk" in order.
		query := func(in map[string]any) []string {
			var got []string
			for {
				res, err := call("Query", in)
				if err != nil {
					t.Fatalf("%s: query: %v", stage, err)
				}
				for _, it := range res["Items"].([]any) {
					m := it.(map[string]any)
					got = append(got, m["pk"].(map[string]any)["S"].(string)+"/"+m["sk"].(map[string]any)["S"].(string))
				}
				lek, ok := res["LastEvaluatedKey"]
				if !ok {
					return got
				}
				in["ExclusiveStartKey"] = lek
			}
		}
		for p := range 4 {
			pk := fmt.Sprint("p", p)
			var want []string
			for id, it := range model {
				if it.pk == pk {
					want = append(want, id)
				}
			}
			sort.Strings(want)
			for _, forward := range []bool{true, false} {
				got := query(map[string]any{"TableName": "apps", "KeyConditionExpression": "pk = :p", "Limit": 37, "ScanIndexForward": forward,
					"ExpressionAttributeValues": map[string]any{":p": map[string]string{"S": pk}}})
				w := append([]string(nil), want...)
				if !forward {
					sort.Sort(sort.Reverse(sort.StringSlice(w)))
				}
				if !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
					t.Fatalf("%s: query %s forward=%v: %d items, want %d", stage, pk, forward, len(got), len(w))
				}
			}
		}
		for _, st := range statuses {
			var want []modelItem
			for _, it := range model {
				if it.status == st {
					want = append(want, it)
				}
			}
			// GSI order: n, then the table key.
			sort.Slice(want, func(i, j int) bool {
				if want[i].n != want[j].n {
					return want[i].n < want[j].n
				}
				return want[i].pk+"\x00"+want[i].sk < want[j].pk+"\x00"+want[j].sk
			})
			got := query(map[string]any{"TableName": "apps", "IndexName": "byStatus", "KeyConditionExpression": "#s = :s", "Limit": 23,
				"ExpressionAttributeNames":  map[string]string{"#s": "status"},
				"ExpressionAttributeValues": map[string]any{":s": map[string]string{"S": st}}})
			if len(got) != len(want) {
				t.Fatalf("%s: GSI %s: %d items, want %d", stage, st, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i].pk+"/"+want[i].sk {
					t.Fatalf("%s: GSI %s item %d = %s, want %s/%s", stage, st, i, got[i], want[i].pk, want[i].sk)
				}
			}
		}
		seen := map[string]bool{}
		in := map[string]any{"TableName": "apps", "Limit": 41}
		for {
			res, err := call("Scan", in)
			if err != nil {
				t.Fatalf("%s: scan: %v", stage, err)
			}
			for _, it := range res["Items"].([]any) {
				m := it.(map[string]any)
				id := m["pk"].(map[string]any)["S"].(string) + "/" + m["sk"].(map[string]any)["S"].(string)
				if seen[id] {
					t.Fatalf("%s: scan returned %s twice", stage, id)
				}
				seen[id] = true
			}
			lek, ok := res["LastEvaluatedKey"]
			if !ok {
				break
			}
			in["ExclusiveStartKey"] = lek
		}
		if len(seen) != len(model) {
			t.Fatalf("%s: scan found %d items, want %d", stage, len(seen), len(model))
		}
	}
	check("live")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err = New(dir, Options{TTLSweep: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	check("replayed")
}
