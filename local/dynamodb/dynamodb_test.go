package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// MustServe starts a Server on dir behind a loopback listener and returns an
// SDK client for it; both stop at test cleanup.
func MustServe(tb testing.TB, dir string, opts Options) (*Server, *ddb.Client) {
	tb.Helper()
	s, err := New(dir, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s, NewClient(hs.URL, hs.Client())
}

// NewClient returns an SDK client for the endpoint at url.
func NewClient(url string, hc *http.Client) *ddb.Client {
	return ddb.New(ddb.Options{
		Region:           "eu-central-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	})
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

// createApps creates the applications table used by most tests: pk/sk with
// a GSI on status/createdAt.
func createApps(tb testing.TB, c *ddb.Client, name string) {
	tb.Helper()
	_, err := c.CreateTable(context.Background(), &ddb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("status"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("createdAt"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("byStatus"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		tb.Fatalf("CreateTable %s: %v", name, err)
	}
}

func TestTables(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	for _, name := range []string{"bbb", "aaa", "ccc"} {
		createApps(t, c, name)
	}
	var re *types.ResourceInUseException
	if _, err := c.CreateTable(ctx, &ddb.CreateTableInput{
		TableName:            aws.String("aaa"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); !errors.As(err, &re) {
		t.Errorf("CreateTable twice = %v, want ResourceInUseException", err)
	}

	d, err := c.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String("aaa")})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got := aws.ToString(d.Table.TableName); got != "aaa" || len(d.Table.GlobalSecondaryIndexes) != 1 || len(d.Table.KeySchema) != 2 {
		t.Errorf("DescribeTable = %+v", d.Table)
	}

	var got []string
	p := ddb.NewListTablesPaginator(c, &ddb.ListTablesInput{Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		got = append(got, out.TableNames...)
		pages++
	}
	if want := []string{"aaa", "bbb", "ccc"}; !reflect.DeepEqual(got, want) || pages != 2 {
		t.Errorf("ListTables = %v in %d pages, want %v in 2", got, pages, want)
	}

	if _, err := c.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: aws.String("bbb")}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String("bbb")}); !errors.As(err, &nf) {
		t.Errorf("DescribeTable deleted = %v, want ResourceNotFoundException", err)
	}
	if _, err := c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("nope"), Key: map[string]types.AttributeValue{"pk": s("x")}}); !errors.As(err, &nf) {
		t.Errorf("GetItem on missing table = %v, want ResourceNotFoundException", err)
	}
	out, err := c.ListTables(ctx, &ddb.ListTablesInput{})
	if err != nil || !reflect.DeepEqual(out.TableNames, []string{"aaa", "ccc"}) {
		t.Errorf("ListTables after delete = %v, %v", out.TableNames, err)
	}
}

func TestItems(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	createApps(t, c, "apps")
	key := map[string]types.AttributeValue{"pk": s("app#1"), "sk": s("meta")}
	item := map[string]types.AttributeValue{
		"pk": s("app#1"), "sk": s("meta"), "status": s("submitted"), "createdAt": n(100),
		"amount":  &types.AttributeValueMemberN{Value: "12.5"},
		"blob":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"ok":      &types.AttributeValueMemberBOOL{Value: true},
		"nothing": &types.AttributeValueMemberNULL{Value: true},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"nums":    &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bins":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"hist":    &types.AttributeValueMemberL{Value: []types.AttributeValue{s("submitted")}},
		"meta":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}},
	}
	cond := aws.String("attribute_not_exists(pk)")
	if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item, ConditionExpression: cond}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	_, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item, ConditionExpression: cond})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second conditional PutItem = %v, want ConditionalCheckFailedException", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ConditionalCheckFailedException" {
		t.Errorf("error code = %v", err)
	}

	got, err := c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("apps"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if !reflect.DeepEqual(normalize(got.Item), normalize(item)) {
		t.Errorf("GetItem = %#v\nwant %#v", got.Item, item)
	}

	tests := []struct {
		name    string
		update  string
		cond    string
		names   map[string]string
		values  map[string]types.AttributeValue
		wantErr bool
		check   func(map[string]types.AttributeValue) error
	}{
		{
			name:   "set and list_append",
			update: "SET #st = :p, hist = list_append(hist, :h), updatedAt = if_not_exists(updatedAt, :t)",
			cond:   "#st = :s AND (attribute_exists(pk) OR attribute_not_exists(pk))",
			names:  map[string]string{"#st": "status"},
			values: map[string]types.AttributeValue{":p": s("processing"), ":s": s("submitted"), ":h": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("processing")}}, ":t": n(7)},
			check: func(it map[string]types.AttributeValue) error {
				if len(it["hist"].(*types.AttributeValueMemberL).Value) != 2 || it["status"].(*types.AttributeValueMemberS).Value != "processing" {
					return fmt.Errorf("item %v", it)
				}
				return nil
			},
		},
		{
			name:   "add and remove",
			update: "ADD attempts :one, tags :c",
			cond:   "createdAt BETWEEN :lo AND :hi",
			values: map[string]types.AttributeValue{":one": n(1), ":c": &types.AttributeValueMemberSS{Value: []string{"c"}}, ":lo": n(50), ":hi": n(150)},
			check: func(it map[string]types.AttributeValue) error {
				if it["attempts"].(*types.AttributeValueMemberN).Value != "1" || len(it["tags"].(*types.AttributeValueMemberSS).Value) != 3 {
					return fmt.Errorf("item %#v %#v %#v", it["nothing"], it["attempts"], it["tags"])
				}
				return nil
			},
		},
		{
			name:   "remove",
			update: "REMOVE nothing, #m.k",
			cond:   "attribute_exists(nothing)",
			names:  map[string]string{"#m": "meta"},
			check: func(it map[string]types.AttributeValue) error {
				if _, ok := it["nothing"]; ok || len(it["meta"].(*types.AttributeValueMemberM).Value) != 0 {
					return fmt.Errorf("item %#v %#v", it["nothing"], it["meta"])
				}
				return nil
			},
		},
		{
			name:    "failed comparison",
			update:  "SET #st = :p",
			cond:    "createdAt > :hi",
			names:   map[string]string{"#st": "status"},
			values:  map[string]types.AttributeValue{":p": s("done"), ":hi": n(150)},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &ddb.UpdateItemInput{
				TableName: aws.String("apps"), Key: key, UpdateExpression: aws.String(tc.update),
				ConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: tc.values,
				ReturnValues: types.ReturnValueAllNew,
			}
			if tc.names != nil {
				in.ExpressionAttributeNames = tc.names
			}
			out, err := c.UpdateItem(ctx, in)
			if tc.wantErr {
				if !errors.As(err, &ccf) {
					t.Fatalf("UpdateItem = %v, want ConditionalCheckFailedException", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdateItem: %v", err)
			}
			if err := tc.check(out.Attributes); err != nil {
				t.Error(err)
			}
		})
	}

	old, err := c.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String("apps"), Key: key, ReturnValues: types.ReturnValueAllOld})
	if err != nil || old.Attributes["pk"] == nil {
		t.Fatalf("DeleteItem = %v, %v", old, err)
	}
	got, err = c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("apps"), Key: key})
	if err != nil || got.Item != nil {
		t.Errorf("GetItem after delete = %v, %v", got.Item, err)
	}
}

// normalize makes sets order-insensitive for comparison.
func normalize(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		if ss, ok := v.(*types.AttributeValueMemberSS); ok {
			c := append([]string(nil), ss.Value...)
			sort.Strings(c)
			v = &types.AttributeValueMemberSS{Value: c}
		}
		out[k] = v
	}
	return out
}

func putN(tb testing.TB, c *ddb.Client, table, pk string, count int) {
	tb.Helper()
	reqs := []types.WriteRequest{}
	flush := func() {
		if len(reqs) == 0 {
			return
		}
		out, err := c.BatchWriteItem(context.Background(), &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			tb.Fatalf("BatchWriteItem: %v, unprocessed %v", err, out.UnprocessedItems)
		}
		reqs = reqs[:0]
	}
	for i := range count {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": s(pk), "sk": s(fmt.Sprintf("step#%03d", i)), "status": s([]string{"done", "waiting"}[i%2]), "createdAt": n(i),
		}}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()
}

func TestQueryScanBatch(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	createApps(t, c, "apps")
	putN(t, c, "apps", "app#1", 30)
	putN(t, c, "apps", "app#2", 5)

	query := func(in *ddb.QueryInput) ([]string, int) {
		t.Helper()
		var sks []string
		pages := 0
		p := ddb.NewQueryPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			pages++
			for _, it := range out.Items {
				sks = append(sks, it["sk"].(*types.AttributeValueMemberS).Value)
			}
		}
		return sks, pages
	}
	vals := func(kv ...any) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return m
	}
	tests := []struct {
		name      string
		in        *ddb.QueryInput
		wantFirst string
		wantLen   int
		wantPages int
	}{
		{"begins_with paginated", &ddb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :pre)"),
			ExpressionAttributeValues: vals(":p", s("app#1"), ":pre", s("step#01")), Limit: aws.Int32(4),
		}, "step#010", 10, 3},
		{"between descending", &ddb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :p AND sk BETWEEN :a AND :b"),
			ExpressionAttributeValues: vals(":p", s("app#1"), ":a", s("step#005"), ":b", s("step#009")),
			ScanIndexForward:          aws.Bool(false),
		}, "step#009", 5, 1},
		{"filter", &ddb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :p"),
			FilterExpression:          aws.String("#s = :w OR createdAt < :z"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: vals(":p", s("app#1"), ":w", s("waiting"), ":z", n(1)),
		}, "step#000", 16, 1},
		{"gsi", &ddb.QueryInput{
			IndexName:                 aws.String("byStatus"),
			KeyConditionExpression:    aws.String("#s = :w AND createdAt >= :c"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: vals(":w", s("waiting"), ":c", n(25)),
		}, "step#025", 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.TableName = aws.String("apps")
			got, pages := query(tc.in)
			if len(got) != tc.wantLen || (len(got) > 0 && got[0] != tc.wantFirst) || pages < tc.wantPages {
				t.Errorf("Query = %v (%d pages), want %d items from %s in ≥%d pages", got, pages, tc.wantLen, tc.wantFirst, tc.wantPages)
			}
		})
	}

	total, pages := 0, 0
	sp := ddb.NewScanPaginator(c, &ddb.ScanInput{TableName: aws.String("apps"), Limit: aws.Int32(7)})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		total += len(out.Items)
		pages++
	}
	if total != 35 || pages < 5 {
		t.Errorf("Scan = %d items in %d pages, want 35 in ≥5", total, pages)
	}

	bg, err := c.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"apps": {Keys: []map[string]types.AttributeValue{
		{"pk": s("app#1"), "sk": s("step#001")}, {"pk": s("app#2"), "sk": s("step#004")}, {"pk": s("app#3"), "sk": s("x")},
	}}}})
	if err != nil || len(bg.Responses["apps"]) != 2 {
		t.Errorf("BatchGetItem = %v, %v", bg, err)
	}
	_, err = c.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"apps": {
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("app#2"), "sk": s("step#004")}}},
	}}})
	if err != nil {
		t.Fatalf("BatchWriteItem delete: %v", err)
	}
	got, _ := query(&ddb.QueryInput{TableName: aws.String("apps"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: vals(":p", s("app#2"))})
	if len(got) != 4 {
		t.Errorf("after batch delete app#2 has %v", got)
	}
}

func TestTransactWriteItems(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	createApps(t, c, "apps")
	putN(t, c, "apps", "app#1", 2)
	item := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s("meta"), "status": s("submitted"), "createdAt": n(1)}
	}
	_, err := c.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("apps"), Item: item("app#9"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#1"), "sk": s("step#000")},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems = %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if want := []string{"None", "ConditionalCheckFailed"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("CancellationReasons = %v, want %v", codes, want)
	}
	got, err := c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#9"), "sk": s("meta")}})
	if err != nil || got.Item != nil {
		t.Errorf("cancelled transaction left %v (%v)", got.Item, err)
	}

	_, err = c.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("apps"), Item: item("app#9"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#1"), "sk": s("step#000")},
			UpdateExpression: aws.String("SET #s = :d"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("cancelled")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#1"), "sk": s("step#001")},
			ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	if err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	got, err = c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#9"), "sk": s("meta")}})
	if err != nil || got.Item == nil {
		t.Errorf("committed transaction missing item: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	srv, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	tests := []struct {
		name, method, target, body string
		status                     int
		typ                        string
	}{
		{"get", http.MethodGet, "DynamoDB_20120810.ListTables", "", 405, "UnknownOperationException"},
		{"no target", http.MethodPost, "", "{}", 400, "UnknownOperationException"},
		{"unknown op", http.MethodPost, "DynamoDB_20120810.ExecuteStatement", "{}", 400, "UnknownOperationException"},
		{"bad json", http.MethodPost, "DynamoDB_20120810.PutItem", "{", 400, "SerializationException"},
		{"ttl missing table", http.MethodPost, "DynamoDB_20120810.DescribeTimeToLive", `{"TableName":"x"}`, 400, "ResourceNotFoundException"},
		{"bad limit", http.MethodPost, "DynamoDB_20120810.ListTables", `{"Limit":1000}`, 400, "ValidationException"},
		{"wrong types", http.MethodPost, "DynamoDB_20120810.PutItem", `{"TableName":5}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", stringsReader(tc.body))
			req.Header.Set("X-Amz-Target", tc.target)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			var body apiError
			if err := jsonUnmarshal(w.Body.Bytes(), &body); err != nil || body.Type == "" || body.Message == "" {
				t.Errorf("body %q is not an AWS JSON error (%v)", w.Body, err)
			}
			if tc.typ != "" && !hasSuffix(body.Type, tc.typ) {
				t.Errorf("__type = %q, want %s", body.Type, tc.typ)
			}
		})
	}
}

func TestTimeToLive(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	srv, c := MustServe(t, t.TempDir(), Options{TTLSweep: -1, Now: func() time.Time { return now }})
	createApps(t, c, "apps")
	_, err := c.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{TableName: aws.String("apps"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)}})
	if err != nil {
		t.Fatalf("UpdateTimeToLive: %v", err)
	}
	d, err := c.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: aws.String("apps")})
	if err != nil || d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Fatalf("DescribeTimeToLive = %+v, %v", d, err)
	}
	for i, exp := range []int{999_999, 1_000_001} {
		_, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: map[string]types.AttributeValue{
			"pk": s("p"), "sk": s(strconv.Itoa(i)), "expiresAt": n(exp)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := srv.SweepExpired(); n != 1 || err != nil {
		t.Fatalf("SweepExpired = %d, %v; want 1", n, err)
	}
	out, err := c.Scan(ctx, &ddb.ScanInput{TableName: aws.String("apps")})
	if err != nil || len(out.Items) != 1 || out.Items[0]["sk"].(*types.AttributeValueMemberS).Value != "1" {
		t.Errorf("Scan after sweep = %v, %v", out, err)
	}
}

// TestRestart checks that state, including table metadata and TTL settings,
// comes back after a clean close, after a crash (log abandoned with queued
// records) and after compaction.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	for _, compact := range []int64{-1, 1} {
		t.Run(fmt.Sprintf("compact=%d", compact), func(t *testing.T) {
			dir := t.TempDir()
			srv, err := New(dir, Options{CompactBytes: compact, Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			c := NewClient(hs.URL, hs.Client())
			createApps(t, c, "apps")
			putN(t, c, "apps", "app#1", 40)
			c.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{TableName: aws.String("apps"),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}})
			c.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("app#1"), "sk": s("step#000")}})
			hs.Close()
			srv.wal.Abandon() // crash: nothing more is flushed
			srv.closed = true

			for round := range 2 { // the second round replays a compacted log
				srv, err := New(dir, Options{CompactBytes: compact, Logger: testLogger()})
				if err != nil {
					t.Fatal(err)
				}
				hs := httptest.NewServer(srv.Handler())
				c = NewClient(hs.URL, hs.Client())
				out, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), IndexName: aws.String("byStatus"),
					KeyConditionExpression:    aws.String("#s = :d"),
					ExpressionAttributeNames:  map[string]string{"#s": "status"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("done")}})
				if err != nil || len(out.Items) != 19 {
					t.Fatalf("round %d: GSI query after restart = %v, %v; want 19 items", round, out, err)
				}
				d, err := c.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: aws.String("apps")})
				if err != nil || d.TimeToLiveDescription == nil || aws.ToString(d.TimeToLiveDescription.AttributeName) != "exp" {
					t.Fatalf("round %d: TTL after restart = %+v, %v", round, d, err)
				}
				hs.Close()
				if err := srv.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if fi, err := os.Stat(filepath.Join(dir, logFile)); err != nil || fi.Size() == 0 {
				t.Errorf("log file: %v", err)
			}
		})
	}
}

// TestConcurrentConditionalPuts races writers on overlapping keys: exactly
// one PutItem per key may win, and after a restart exactly the winners exist.
func TestConcurrentConditionalPuts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := NewClient(hs.URL, hs.Client())
	createApps(t, c, "apps")
	const keys, writers = 50, 8
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := range keys {
				_, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
					Item: map[string]types.AttributeValue{"pk": s(strconv.Itoa(k)), "sk": s("meta"), "writer": n(w)}})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					mu.Lock()
					wins[strconv.Itoa(k)]++
					mu.Unlock()
				case !errors.As(err, &ccf):
					t.Errorf("PutItem: %v", err)
				}
			}
		})
	}
	wg.Wait()
	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for k, v := range wins {
		if v != 1 {
			t.Errorf("key %s won %d times", k, v)
		}
	}
	_, c = MustServe(t, dir, Options{})
	out, err := c.Scan(ctx, &ddb.ScanInput{TableName: aws.String("apps")})
	if err != nil || len(out.Items) != keys || len(wins) != keys {
		t.Errorf("after restart %d items (%v), %d winners; want %d", len(out.Items), err, len(wins), keys)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func hasSuffix(s, suffix string) bool { return strings.HasSuffix(s, suffix) }

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestCompareNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1}, {"10", "9", 1}, {"-10", "-9", -1}, {"-1", "1", -1}, {"0", "-0", 0},
		{"1.5", "1", 1}, {"1e2", "99", 1}, {"-0.001", "0", -1}, {"123456789012345678901234567890", "123456789012345678901234567891", -1},
	}
	for _, tc := range tests {
		a, _ := canonicalNumber(tc.a)
		b, _ := canonicalNumber(tc.b)
		if got, _ := compareAV(numAV(a), numAV(b)); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got, _ := compareAV(numAV(b), numAV(a)); got != -tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "1/2", "0x10", "--1"} {
		if _, err := canonicalNumber(bad); err == nil {
			t.Errorf("canonicalNumber(%q) accepted", bad)
		}
	}
}

// TestLargePartition exercises the chunked entry lists: one partition and
// one GSI partition with thousands of entries, deletes, and pagination in
// both directions.
func TestLargePartition(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	createApps(t, c, "apps")
	const total = 2000
	putN(t, c, "apps", "big", total) // sk step#000…, status alternating, createdAt = i
	want := map[int]bool{}
	for i := range total {
		want[i] = true
	}
	for i := 0; i < total; i += 3 {
		if _, err := c.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("big"), "sk": s(fmt.Sprintf("step#%03d", i))}}); err != nil {
			t.Fatal(err)
		}
		delete(want, i)
	}
	for _, forward := range []bool{true, false} {
		var got []string
		p := ddb.NewQueryPaginator(c, &ddb.QueryInput{TableName: aws.String("apps"), Limit: aws.Int32(97), ScanIndexForward: aws.Bool(forward),
			KeyConditionExpression:    aws.String("pk = :p AND sk >= :lo"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("big"), ":lo": s("step#100")}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				got = append(got, it["sk"].(*types.AttributeValueMemberS).Value)
			}
		}
		var exp []string
		for i := range total {
			if sk := fmt.Sprintf("step#%03d", i); want[i] && sk >= "step#100" {
				exp = append(exp, sk)
			}
		}
		sort.Strings(exp)
		if !forward {
			sort.Sort(sort.Reverse(sort.StringSlice(exp)))
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("forward=%v: got %d items, want %d", forward, len(got), len(exp))
		}
	}
	if _, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), IndexName: aws.String("byStatus"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("#s = :d"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("waiting")}}); err == nil {
		t.Errorf("ConsistentRead on a GSI was accepted")
	}
	// The GSI keeps numeric order across chunk splits.
	out, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), IndexName: aws.String("byStatus"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(3),
		KeyConditionExpression:    aws.String("#s = :d"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("waiting")}})
	if err != nil || len(out.Items) != 3 || out.Items[0]["createdAt"].(*types.AttributeValueMemberN).Value != "1999" || out.LastEvaluatedKey == nil {
		t.Errorf("GSI query = %v, %v", out, err)
	}
}

func TestReturnValuesAndProjection(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	createApps(t, c, "apps")
	key := map[string]types.AttributeValue{"pk": s("a"), "sk": s("meta")}
	item := map[string]types.AttributeValue{"pk": s("a"), "sk": s("meta"), "status": s("submitted"), "createdAt": n(5),
		"doc": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"name": s("x"), "tags": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("t0"), s("t1")}}}}}
	if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item}); err != nil {
		t.Fatal(err)
	}

	_, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["status"] == nil {
		t.Errorf("ConditionalCheckFailedException with ALL_OLD = %v (item %v)", err, ccf)
	}

	tests := []struct {
		name   string
		rv     types.ReturnValue
		update string
		want   []string // attribute names returned
	}{
		{"updated old", types.ReturnValueUpdatedOld, "SET #s = :v", []string{"status"}},
		{"updated new", types.ReturnValueUpdatedNew, "SET #s = :v", []string{"status"}},
		{"all old", types.ReturnValueAllOld, "SET #s = :v", []string{"createdAt", "doc", "pk", "sk", "status"}},
		{"none", types.ReturnValueNone, "SET #s = :v", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String("apps"), Key: key, UpdateExpression: aws.String(tc.update),
				ExpressionAttributeNames: map[string]string{"#s": "status"}, ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(tc.name)},
				ReturnValues: tc.rv})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range out.Attributes {
				got = append(got, k)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("attributes = %v, want %v", got, tc.want)
			}
		})
	}

	g, err := c.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("apps"), Key: key, ProjectionExpression: aws.String("#d.tags[1], createdAt"),
		ExpressionAttributeNames: map[string]string{"#d": "doc"}})
	if err != nil {
		t.Fatal(err)
	}
	tags := g.Item["doc"].(*types.AttributeValueMemberM).Value["tags"].(*types.AttributeValueMemberL).Value
	if len(g.Item) != 2 || len(tags) != 1 || tags[0].(*types.AttributeValueMemberS).Value != "t1" {
		t.Errorf("projection = %#v", g.Item)
	}

	cnt, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), Select: types.SelectCount, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")}})
	if err != nil || cnt.Count != 1 || cnt.Items != nil {
		t.Errorf("Select COUNT = %+v, %v", cnt, err)
	}

	tg, err := c.TransactGetItems(ctx, &ddb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("apps"), Key: key}},
		{Get: &types.Get{TableName: aws.String("apps"), Key: map[string]types.AttributeValue{"pk": s("zz"), "sk": s("meta")}}},
	}})
	if err != nil || len(tg.Responses) != 2 || tg.Responses[0].Item == nil || tg.Responses[1].Item != nil {
		t.Errorf("TransactGetItems = %+v, %v", tg, err)
	}

	var ve smithyAPIError
	_, err = c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item,
		Expected: map[string]types.ExpectedAttributeValue{"pk": {Exists: aws.Bool(false)}}})
	if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
		t.Errorf("legacy Expected = %v, want ValidationException", err)
	}
	_, err = c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: item, ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":unused": s("x")}})
	if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
		t.Errorf("unused value = %v, want ValidationException", err)
	}
	big := map[string]types.AttributeValue{"pk": s("big"), "sk": s("meta"), "blob": s(strings.Repeat("x", 410<<10))}
	if _, err = c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("apps"), Item: big}); !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
		t.Errorf("oversized item = %v, want ValidationException", err)
	}
}

type smithyAPIError = smithy.APIError

// TestFastScalar checks that the reflection-free path decodes exactly as
// the general one.
func TestFastScalar(t *testing.T) {
	for _, in := range []string{`{"S":"abc"}`, `{"S":""}`, `{"N":"12"}`, `{"N":"-0"}`, `{"N":"007"}`, `{"N":"1.50"}`,
		`{"S":"a\"b"}`, `{"S":"\u00e9"}`, `{"S":"é"}`, `{"B":"AQI="}`, `{ "S" : "x" }`, `{"N":"x"}`,
		// Composites (fastComposite), as an application's history is sent.
		`{"M":{}}`, `{"L":[]}`, `{"M":{"a":{"S":"x"},"b":{"N":"1.0"}}}`,
		`{"L":[{"M":{"status":{"S":"submitted"},"time":{"S":"2026-11-26T12:00:00Z"}}},{"M":{"step":{"S":"a\"b"}}}]}`,
		`{"L":[{"L":[{"BOOL":true},{"SS":["a","b"]}]},{"NS":["1","01"]}]}`, `{"M":{"a":{"S":"x","N":"1"}}}`,
		`{"L":[{"S":"x"},{}]}`, `{"M":{"a":{"SS":[]}}}`, `{"M":{"a":{"S":"x"}},"S":"y"}`, `{"M":{"a":null}}`,
		`{"L":[null]}`, `{"M":{"a":{"NULL":false}}}`, `{"M":{"x\u0041":{"S":"é"}}}`} {
		var fast, slow AV
		ferr := json.Unmarshal([]byte(in), &fast)
		var w wireAV
		serr := json.Unmarshal([]byte(in), &w)
		if serr == nil {
			// The general path, bypassing fastScalar.
			serr = slow.UnmarshalJSON(append([]byte(" "), in...))
		}
		if (ferr == nil) != (serr == nil) || ferr == nil && !equalAV(&fast, &slow) {
			t.Errorf("%s: fast %v (%v), general %v (%v)", in, fast, ferr, slow, serr)
		}
	}
}

func TestExpressionLimits(t *testing.T) {
	env := newEnv(nil, Item{":v": strAV("x")})
	deep := strings.Repeat("(", 3000) + "a = :v" + strings.Repeat(")", 3000)
	if _, err := parseCondition("ConditionExpression", deep, env); err == nil {
		t.Errorf("an expression over 4 KB was accepted")
	}
	// Reserved words must be aliased, as in AWS (case-insensitive, any
	// path segment).
	for _, src := range []string{"attribute_not_exists(status)", "a.Count = :v", "Ttl = :v"} {
		if _, err := parseCondition("ConditionExpression", src, newEnv(nil, Item{":v": strAV("x")})); err == nil || !strings.Contains(err.Error(), "reserved keyword") {
			t.Errorf("%s: err = %v, want a reserved keyword error", src, err)
		}
	}
	if _, err := parseCondition("ConditionExpression", "attribute_not_exists(#s)", newEnv(map[string]string{"#s": "status"}, nil)); err != nil {
		t.Errorf("aliased reserved word: %v", err)
	}
	ok := strings.Repeat("(", 1000) + "a = :v" + strings.Repeat(")", 1000)
	if _, err := parseCondition("ConditionExpression", ok, env); err != nil {
		t.Errorf("nested expression within limits: %v", err)
	}
}

func TestNestingLimit(t *testing.T) {
	srv, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	deep := `{"TableName":"apps","Item":{"pk":{"S":"a"},"x":` + strings.Repeat(`{"L":[`, 100000) + `{"S":"\"[{"}` + strings.Repeat(`]}`, 100000) + `}}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(deep))
	req.Header.Set("X-Amz-Target", targetPrefix+"PutItem")
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "ValidationException") {
		t.Errorf("deeply nested item = %d %s", w.Code, w.Body)
	}
	if d := jsonDepth([]byte(`{"a":"[[[{{","b":[{"c":"\"]"}]}`)); d != 3 {
		t.Errorf("jsonDepth = %d, want 3", d)
	}
}

// TestUpdateTableGSI adds a GSI to a table with data (as a schema migration
// would), deletes another, and checks both survive a compacting restart.
func TestUpdateTableGSI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := New(dir, Options{CompactBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := NewClient(hs.URL, hs.Client())
	createApps(t, c, "apps")
	putN(t, c, "apps", "app#1", 10)
	_, err = c.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: aws.String("apps"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{
			{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("bySk"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("sk"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
			{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byStatus")}},
		}})
	if err != nil {
		t.Fatalf("UpdateTable: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: aws.String("apps"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{
		{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("nope")}}}}); !errors.As(err, &nf) {
		t.Errorf("deleting a missing index = %v, want ResourceNotFoundException", err)
	}
	hs.Close()
	srv.Close()

	check := func(stage string) {
		out, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("apps"), IndexName: aws.String("bySk"),
			KeyConditionExpression:    aws.String("sk = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": s("step#003")}})
		if err != nil || len(out.Items) != 1 || len(out.Items[0]) != 2 {
			t.Fatalf("%s: query on the added GSI = %v, %v", stage, out, err)
		}
		d, err := c.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String("apps")})
		if err != nil || len(d.Table.GlobalSecondaryIndexes) != 1 || len(d.Table.AttributeDefinitions) != 2 {
			t.Fatalf("%s: DescribeTable = %+v, %v", stage, d.Table, err)
		}
	}
	for _, stage := range []string{"replayed and compacted", "compacted log replayed"} {
		srv, err := New(dir, Options{CompactBytes: 1})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		c = NewClient(hs.URL, hs.Client())
		check(stage)
		hs.Close()
		srv.Close()
	}
}

// TestItemDecode checks the direct item decoder against encoding/json's
// generic decoding of the same objects.
func TestItemDecode(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{`{}`, false},
		{` { "a" : {"S":"x"} , "b":{"N":"1"} } `, false},
		{`{"k\"ey":{"S":"}{"},"e\u00e9":{"L":[{"M":{"x":{"S":"]"}}},{"NULL":true}]}}`, false},
		{"{\n\"a\":\t{\"BOOL\":false}}", false},
		{`{"a":null}`, true},
		{`{"a":{"S":"x","N":"1"}}`, true},
		{`[]`, true},
	}
	for _, tc := range tests {
		var it Item
		err := json.Unmarshal([]byte(tc.in), &it)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var generic map[string]json.RawMessage
		json.Unmarshal([]byte(tc.in), &generic)
		if len(generic) != len(it) {
			t.Errorf("%s: %d attributes, want %d", tc.in, len(it), len(generic))
		}
		for k, raw := range generic {
			var want AV
			if err := want.UnmarshalJSON(raw); err != nil || !equalAV(it[k], &want) {
				t.Errorf("%s: attribute %q = %v, want %v (%v)", tc.in, k, it[k], want, err)
			}
		}
	}
}

func TestLocalSecondaryIndex(t *testing.T) {
	ctx := context.Background()
	_, c := MustServe(t, t.TempDir(), Options{})
	_, err := c.CreateTable(ctx, &ddb.CreateTableInput{
		TableName: aws.String("steps"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("at"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("byTime"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("at"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"note"}}}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []int{30, 10, 20} {
		c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("steps"), Item: map[string]types.AttributeValue{
			"pk": s("a"), "sk": s(fmt.Sprint("s", i)), "at": n(at), "note": s("n"), "secret": s("x")}})
	}
	out, err := c.Query(ctx, &ddb.QueryInput{TableName: aws.String("steps"), IndexName: aws.String("byTime"),
		KeyConditionExpression:    aws.String("pk = :p AND #at > :t"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a"), ":t": n(15)}})
	if err != nil || len(out.Items) != 2 {
		t.Fatalf("LSI query = %v, %v", out, err)
	}
	if got := out.Items[0]["at"].(*types.AttributeValueMemberN).Value; got != "20" {
		t.Errorf("first item at = %s, want 20", got)
	}
	if _, ok := out.Items[0]["secret"]; ok || out.Items[0]["note"] == nil {
		t.Errorf("INCLUDE projection = %v", out.Items[0])
	}
}
