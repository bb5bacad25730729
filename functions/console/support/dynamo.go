package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aws/aws-lambda-go/events"
)

// DynamoClient is the part of the DynamoDB API the console's stores use;
// *dynamodb.Client implements it.
type DynamoClient interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ DynamoClient = (*dynamodb.Client)(nil)

// DynamoProjection is the console's projection in one DynamoDB table (the
// AWS deployment's; template.yaml ProjectionTable). Items:
//
//	pk APP#<id>              sk A               the App as JSON (doc), a version (ver) and the GSI keys below
//	pk STEP#<svc>#<step>     sk <id>            a running application at a step (one item per step: a
//	                                            Parallel may be at several, which one GSI key cannot hold)
//	pk CNT#<svc>             sk s#<status> | p#<step> | f#<step>   counter n (ADD)
//	pk MIN#<svc>             sk <unix minute>   started, completed, failed (ADD)
//	pk SERVICES              sk <svc>
//
// Sparse GSIs on the application items, each projecting ALL so that a
// page is one Query: failed (fpk = svc#FAILED|TIMED_OUT, fsk = stopped#id),
// running (rpk = svc, rsk = since#id: stuck is a range on it), citizen
// (cpk = tax number, csk = id). Times in keys are zero-padded Unix
// nanoseconds, so string order is time order.
//
// Apply writes each event's effect in one transaction (the record, its
// index items and counter deltas) conditioned on the record's version, so
// two Lambdas applying events of the same application cannot lose an
// update: the loser re-reads and folds again. Redelivered events are
// recognised by Sequence in the record, as in local/console.Projection.
type DynamoProjection struct {
	Client DynamoClient
	Table  string
}

var _ Store = (*DynamoProjection)(nil)

// GSI names.
const (
	gsiFailed  = "failed"
	gsiRunning = "running"
	gsiCitizen = "citizen"
)

// CreateProjectionTable creates the table with its GSIs (local stacks and
// tests; AWS gets it from template.yaml, which must match).
func CreateProjectionTable(ctx context.Context, c DynamoClient, table string) error {
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	gsi := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}
	}
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr("pk"), attr("sk"), attr("fpk"), attr("fsk"), attr("rpk"), attr("rsk"), attr("cpk"), attr("csk")},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{gsi(gsiFailed, "fpk", "fsk"), gsi(gsiRunning, "rpk", "rsk"), gsi(gsiCitizen, "cpk", "csk")},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create projection table %s: %w", table, err)
	}
	return nil
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": avS(pk), "sk": avS(sk)}
}

// tkey is a time in a sort key: string order is time order.
func tkey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

func appKey(id string) map[string]types.AttributeValue { return itemKey("APP#"+id, "A") }

func stepPK(service, step string) string { return "STEP#" + service + "#" + step }

// appItem is the stored record with the keys of the GSIs it is in.
func appItem(a *App, ver int64) (map[string]types.AttributeValue, error) {
	doc, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode application %s: %w", a.ID, err)
	}
	it := appKey(a.ID)
	it["doc"], it["ver"] = avS(string(doc)), avN(ver)
	if a.Failed() {
		it["fpk"], it["fsk"] = avS(a.Service+"#"+a.Status), avS(tkey(a.Stopped)+"#"+a.ID)
	}
	if a.Status == "RUNNING" {
		it["rpk"], it["rsk"] = avS(a.Service), avS(tkey(a.Since)+"#"+a.ID)
	}
	if a.Citizen != "" {
		it["cpk"], it["csk"] = avS(a.Citizen), avS(a.ID)
	}
	return it, nil
}

func decodeApp(it map[string]types.AttributeValue) (*App, int64, error) {
	doc, _ := it["doc"].(*types.AttributeValueMemberS)
	if doc == nil {
		return nil, 0, errors.New("application item without doc")
	}
	var a App
	if err := json.Unmarshal([]byte(doc.Value), &a); err != nil {
		return nil, 0, fmt.Errorf("read application item: %w", err)
	}
	var ver int64
	if v, ok := it["ver"].(*types.AttributeValueMemberN); ok {
		ver, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	return &a, ver, nil
}

func (p *DynamoProjection) getApp(ctx context.Context, id string) (*App, int64, error) {
	out, err := p.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.Table), Key: appKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, 0, fmt.Errorf("get application %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, 0, nil
	}
	return decodeApp(out.Item)
}

// maxApplyAttempts bounds the re-reads after losing a race on one record.
const maxApplyAttempts = 8

// Apply implements Store: each event in its own transaction, in order.
func (p *DynamoProjection) Apply(ctx context.Context, evs []events.CloudWatchEvent) error {
	for _, e := range evs {
		ch, ok := ChangeOf(e)
		if !ok {
			continue
		}
		if err := p.applyOne(ctx, ch); err != nil {
			return fmt.Errorf("apply event %s: %w", e.ID, err)
		}
	}
	return nil
}

func (p *DynamoProjection) applyOne(ctx context.Context, ch Change) error {
	for attempt := 0; ; attempt++ {
		prev, ver, err := p.getApp(ctx, ch.ID)
		if err != nil {
			return err
		}
		next, bumps := ch.Fold(prev)
		if next == nil {
			return nil
		}
		items, err := p.writes(prev, next, ver, bumps)
		if err != nil {
			return err
		}
		_, err = p.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var canceled *types.TransactionCanceledException
		var conflict *types.TransactionConflictException
		if (errors.As(err, &canceled) || errors.As(err, &conflict)) && attempt+1 < maxApplyAttempts {
			continue // another writer moved the record: fold again on what it wrote
		}
		if err != nil {
			return fmt.Errorf("write application %s: %w", ch.ID, err)
		}
		return nil
	}
}

// writes are the transaction that moves prev to next: the record (only if
// it is still at version ver), the step items and counters that changed,
// the minute counts.
func (p *DynamoProjection) writes(prev, next *App, ver int64, bumps []Bump) ([]types.TransactWriteItem, error) {
	it, err := appItem(next, ver+1)
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: aws.String(p.Table), Item: it}
	if prev == nil {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		put.ConditionExpression = aws.String("ver = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": avN(ver)}
	}
	out := []types.TransactWriteItem{{Put: put}}
	if prev == nil || prev.Service != next.Service {
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(p.Table), Item: itemKey("SERVICES", next.Service)}})
	}
	oldS, newS := runningSteps(prev), runningSteps(next)
	for _, k := range oldS {
		if !slices.Contains(newS, k) {
			out = append(out, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(p.Table), Key: itemKey(k, prev.ID)}})
		}
	}
	for _, k := range newS {
		if !slices.Contains(oldS, k) {
			out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(p.Table), Item: itemKey(k, next.ID)}})
		}
	}
	oldC, newC := Counters(prev), Counters(next)
	for _, c := range oldC {
		if !slices.Contains(newC, c) {
			out = append(out, p.add(c, -1))
		}
	}
	for _, c := range newC {
		if !slices.Contains(oldC, c) {
			out = append(out, p.add(c, 1))
		}
	}
	for _, b := range bumps {
		out = append(out, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(p.Table),
			Key:                       itemKey("MIN#"+b.Service, fmt.Sprintf("%012d", b.At.Unix()/60)),
			UpdateExpression:          aws.String("ADD #k :one"),
			ExpressionAttributeNames:  map[string]string{"#k": b.Kind},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": avN(1)}}})
	}
	return out, nil
}

func runningSteps(a *App) []string {
	if a == nil || a.Status != "RUNNING" {
		return nil
	}
	var out []string
	for _, st := range a.Steps {
		if k := stepPK(a.Service, st); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// add is a counter delta; c is a Counters() key (kind 0 service 0 name).
func (p *DynamoProjection) add(c string, d int64) types.TransactWriteItem {
	pk, sk := counterKey(c)
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(p.Table), Key: itemKey(pk, sk),
		UpdateExpression: aws.String("ADD n :d"), ExpressionAttributeValues: map[string]types.AttributeValue{":d": avN(d)}}}
}

func counterKey(c string) (pk, sk string) {
	parts := strings.SplitN(c, "\x00", 3)
	return "CNT#" + parts[1], parts[0] + "#" + parts[2]
}

// Get implements Store.
func (p *DynamoProjection) Get(ctx context.Context, id string) (*App, error) {
	a, _, err := p.getApp(ctx, id)
	if err == nil && a == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return a, err
}

// queryAll runs a query to the end (small partitions: counters, services).
func (p *DynamoProjection) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	in.TableName = aws.String(p.Table)
	var out []map[string]types.AttributeValue
	for {
		res, err := p.Client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func str(it map[string]types.AttributeValue, name string) string {
	v, _ := it[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

func num(it map[string]types.AttributeValue, name string) int64 {
	v, _ := it[name].(*types.AttributeValueMemberN)
	if v == nil {
		return 0
	}
	x, _ := strconv.ParseInt(v.Value, 10, 64)
	return x
}

func pkIs(v string) (*string, map[string]types.AttributeValue) {
	return aws.String("pk = :pk"), map[string]types.AttributeValue{":pk": avS(v)}
}

// Services implements Store.
func (p *DynamoProjection) Services(ctx context.Context) ([]string, error) {
	kc, vals := pkIs("SERVICES")
	items, err := p.queryAll(ctx, &dynamodb.QueryInput{KeyConditionExpression: kc, ExpressionAttributeValues: vals})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, str(it, "sk"))
	}
	return out, nil
}

// Stats implements Store.
func (p *DynamoProjection) Stats(ctx context.Context, service string, now time.Time) (*ServiceStats, error) {
	st := &ServiceStats{Service: service, ByStatus: map[string]int64{}, AtStep: map[string]int64{}, FailedAt: map[string]int64{}, Minutes: []Minute{}}
	kc, vals := pkIs("CNT#" + service)
	items, err := p.queryAll(ctx, &dynamodb.QueryInput{KeyConditionExpression: kc, ExpressionAttributeValues: vals})
	if err != nil {
		return nil, fmt.Errorf("counters of %s: %w", service, err)
	}
	for _, it := range items {
		kind, name, _ := strings.Cut(str(it, "sk"), "#")
		c := num(it, "n")
		if c <= 0 {
			continue // counters that went back to zero stay as items
		}
		switch kind {
		case "s":
			st.ByStatus[name] = c
		case "p":
			st.AtStep[name] = c
		case "f":
			st.FailedAt[name] = c
		}
	}
	from := now.Add(-time.Hour).Unix() / 60
	items, err = p.queryAll(ctx, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND sk >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS("MIN#" + service), ":from": avS(fmt.Sprintf("%012d", from))}})
	if err != nil {
		return nil, fmt.Errorf("throughput of %s: %w", service, err)
	}
	for _, it := range items {
		m, _ := strconv.ParseInt(str(it, "sk"), 10, 64)
		st.Minutes = append(st.Minutes, Minute{Time: time.Unix(m*60, 0).UTC(), Started: num(it, KindStarted), Completed: num(it, KindCompleted), Failed: num(it, KindFailed)})
	}
	return st, nil
}

// page runs one index query for up to limit applications.
func (p *DynamoProjection) page(ctx context.Context, in *dynamodb.QueryInput, limit int, sortKey string) (*Page, error) {
	in.TableName = aws.String(p.Table)
	in.Limit = aws.Int32(int32(limit + 1))
	page := &Page{Apps: []*App{}}
	for {
		res, err := p.Client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range res.Items {
			if len(page.Apps) == limit {
				// One more item exists: the cursor is the last key returned.
				page.Next = sortKeyOf(page.Apps[limit-1], sortKey)
				return page, nil
			}
			a, _, err := decodeApp(it)
			if err != nil {
				return nil, err
			}
			page.Apps = append(page.Apps, a)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return page, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func sortKeyOf(a *App, sortKey string) string {
	switch sortKey {
	case "fsk":
		return tkey(a.Stopped) + "#" + a.ID
	case "rsk":
		return tkey(a.Since) + "#" + a.ID
	}
	return a.ID
}

// Failed implements Store. Across services it merges each service's
// FAILED and TIMED_OUT runs of the failed index.
func (p *DynamoProjection) Failed(ctx context.Context, service string, limit int, after string) (*Page, error) {
	limit = ClampLimit(limit)
	parts := []string{service + "#FAILED"}
	if service == "" {
		names, err := p.Services(ctx)
		if err != nil {
			return nil, err
		}
		parts = parts[:0]
		for _, svc := range names {
			parts = append(parts, svc+"#FAILED", svc+"#TIMED_OUT")
		}
	}
	// One query per run, at once: across services they are independent,
	// and in AWS each costs a network round trip.
	pages := make([]*Page, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() {
			in := &dynamodb.QueryInput{IndexName: aws.String(gsiFailed), ScanIndexForward: aws.Bool(false),
				KeyConditionExpression: aws.String("fpk = :p"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(part)}}
			if after != "" {
				in.KeyConditionExpression = aws.String("fpk = :p AND fsk < :a")
				in.ExpressionAttributeValues[":a"] = avS(after)
			}
			pages[i], errs[i] = p.page(ctx, in, limit, "fsk")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("failed applications: %w", err)
	}
	var all []*App
	more := false
	for _, pg := range pages {
		all = append(all, pg.Apps...)
		more = more || pg.Next != ""
	}
	sort.Slice(all, func(i, j int) bool { return sortKeyOf(all[i], "fsk") > sortKeyOf(all[j], "fsk") })
	out := &Page{Apps: all}
	if len(all) > limit {
		out.Apps, more = all[:limit], true
	}
	if more {
		out.Next = sortKeyOf(out.Apps[len(out.Apps)-1], "fsk")
	}
	return out, nil
}

// Stuck implements Store.
func (p *DynamoProjection) Stuck(ctx context.Context, service string, cutoff time.Time, limit int, after string) (*Page, error) {
	limit = ClampLimit(limit)
	hi := tkey(cutoff)
	in := &dynamodb.QueryInput{IndexName: aws.String(gsiRunning), KeyConditionExpression: aws.String("rpk = :p AND rsk < :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(service), ":hi": avS(hi)}}
	if after != "" {
		if after >= hi {
			return &Page{Apps: []*App{}}, nil
		}
		// BETWEEN is inclusive: after+"\x00" is the least key after it.
		in.KeyConditionExpression = aws.String("rpk = :p AND rsk BETWEEN :lo AND :hi")
		in.ExpressionAttributeValues[":lo"] = avS(after + "\x00")
	}
	pg, err := p.page(ctx, in, limit, "rsk")
	if err != nil {
		return nil, fmt.Errorf("stuck applications of %s: %w", service, err)
	}
	return pg, nil
}

// ByCitizen implements Store.
func (p *DynamoProjection) ByCitizen(ctx context.Context, citizen string, limit int, after string) (*Page, error) {
	limit = ClampLimit(limit)
	if citizen == "" {
		return &Page{Apps: []*App{}}, nil
	}
	in := &dynamodb.QueryInput{IndexName: aws.String(gsiCitizen), KeyConditionExpression: aws.String("cpk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(citizen)}}
	if after != "" {
		in.KeyConditionExpression = aws.String("cpk = :p AND csk > :a")
		in.ExpressionAttributeValues[":a"] = avS(after)
	}
	pg, err := p.page(ctx, in, limit, "csk")
	if err != nil {
		return nil, fmt.Errorf("applications of a citizen: %w", err)
	}
	return pg, nil
}

// AtStep implements Store: the step's items, then the records in one
// BatchGetItem per 100.
func (p *DynamoProjection) AtStep(ctx context.Context, service, step string, limit int, after string) (*Page, error) {
	limit = ClampLimit(limit)
	in := &dynamodb.QueryInput{TableName: aws.String(p.Table), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(stepPK(service, step))}, Limit: aws.Int32(int32(limit + 1))}
	if after != "" {
		in.KeyConditionExpression = aws.String("pk = :p AND sk > :a")
		in.ExpressionAttributeValues[":a"] = avS(after)
	}
	var ids []string
	for len(ids) <= limit {
		res, err := p.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("applications at %s/%s: %w", service, step, err)
		}
		for _, it := range res.Items {
			ids = append(ids, str(it, "sk"))
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	page := &Page{Apps: []*App{}}
	if len(ids) > limit {
		ids = ids[:limit]
		page.Next = ids[limit-1]
	}
	byID := map[string]*App{}
	for i := 0; i < len(ids); i += 100 {
		keys := []map[string]types.AttributeValue{}
		for _, id := range ids[i:min(i+100, len(ids))] {
			keys = append(keys, appKey(id))
		}
		req := map[string]types.KeysAndAttributes{p.Table: {Keys: keys}}
		for len(req) > 0 {
			res, err := p.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("applications at %s/%s: %w", service, step, err)
			}
			for _, it := range res.Responses[p.Table] {
				a, _, err := decodeApp(it)
				if err != nil {
					return nil, err
				}
				byID[a.ID] = a
			}
			req = res.UnprocessedKeys
		}
	}
	for _, id := range ids {
		if a := byID[id]; a != nil {
			page.Apps = append(page.Apps, a)
		}
	}
	return page, nil
}

// StatusCounts implements Store.
func (p *DynamoProjection) StatusCounts(ctx context.Context) (map[string]map[string]int64, error) {
	return p.counts(ctx, "s")
}

// StepCounts implements Store.
func (p *DynamoProjection) StepCounts(ctx context.Context) (map[string]map[string]int64, error) {
	return p.counts(ctx, "p")
}

func (p *DynamoProjection) counts(ctx context.Context, kind string) (map[string]map[string]int64, error) {
	names, err := p.Services(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, svc := range names {
		items, err := p.queryAll(ctx, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :k)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS("CNT#" + svc), ":k": avS(kind + "#")}})
		if err != nil {
			return nil, fmt.Errorf("counters of %s: %w", svc, err)
		}
		for _, it := range items {
			c := num(it, "n")
			if c <= 0 {
				continue
			}
			if out[svc] == nil {
				out[svc] = map[string]int64{}
			}
			out[svc][strings.TrimPrefix(str(it, "sk"), kind+"#")] = c
		}
	}
	return out, nil
}

// Load writes new applications straight in (records, step items, counters
// and services), 25 items a request: benchmarks and bulk imports into an
// empty table. Unlike Apply it does not read what was there.
func (p *DynamoProjection) Load(ctx context.Context, apps []*App) error {
	var puts []types.WriteRequest
	counts := map[string]int64{}
	services := map[string]bool{}
	for _, a := range apps {
		it, err := appItem(a, 1)
		if err != nil {
			return err
		}
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		for _, k := range runningSteps(a) {
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: itemKey(k, a.ID)}})
		}
		for _, c := range Counters(a) {
			counts[c]++
		}
		if !services[a.Service] {
			services[a.Service] = true
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: itemKey("SERVICES", a.Service)}})
		}
	}
	for i := 0; i < len(puts); i += 25 {
		req := map[string][]types.WriteRequest{p.Table: puts[i:min(i+25, len(puts))]}
		for len(req) > 0 {
			res, err := p.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("load applications: %w", err)
			}
			req = res.UnprocessedItems
		}
	}
	for c, d := range counts {
		pk, sk := counterKey(c)
		if _, err := p.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(p.Table), Key: itemKey(pk, sk),
			UpdateExpression: aws.String("ADD n :d"), ExpressionAttributeValues: map[string]types.AttributeValue{":d": avN(d)}}); err != nil {
			return fmt.Errorf("load counters: %w", err)
		}
	}
	return nil
}
