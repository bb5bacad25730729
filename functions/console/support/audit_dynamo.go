package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAudit is the audit log in a DynamoDB table (the AWS deployment's
// ConsoleAuditTable): one item per entry, pk "log" and sort key seq, the
// entry as JSON in doc, and a sparse GSI byApplication (applicationId,
// seq). Entries are only ever created, with a conditional put on a seq
// nobody has taken; the function's IAM policy grants PutItem and Query
// only, so not even a bug here can edit or delete one. The hash chain is
// the local log's (Entry.Prev, Entry.Hash): Verify checks it.
//
// Appends are serialised by the condition: two consoles appending at once
// both read the same last entry, one put wins and the other re-reads.
type DynamoAudit struct {
	Client DynamoClient
	Table  string
}

var _ AuditLog = (*DynamoAudit)(nil)

const auditIndex = "byApplication"

// CreateAuditTable creates the table (local stacks and tests; AWS gets it
// from template.yaml, which must match).
func CreateAuditTable(ctx context.Context, c DynamoClient, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("applicationId"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String(auditIndex),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("applicationId"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create audit table %s: %w", table, err)
	}
	return nil
}

const auditPK = "log"

// maxAppendAttempts bounds the retries of an append that lost a race.
const maxAppendAttempts = 20

func (a *DynamoAudit) last(ctx context.Context) (*Entry, error) {
	out, err := a.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(a.Table), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(auditPK)}, ScanIndexForward: aws.Bool(false),
		Limit: aws.Int32(1), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the last audit entry: %w", err)
	}
	if len(out.Items) == 0 {
		return &Entry{}, nil
	}
	return decodeEntry(out.Items[0])
}

func decodeEntry(it map[string]types.AttributeValue) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal([]byte(str(it, "doc")), &e); err != nil {
		return nil, fmt.Errorf("read audit entry %d: %w", num(it, "seq"), err)
	}
	return &e, nil
}

// Append implements AuditLog.
func (a *DynamoAudit) Append(ctx context.Context, e Entry) (Entry, error) {
	e.Time = e.Time.UTC()
	for attempt := 0; ; attempt++ {
		last, err := a.last(ctx)
		if err != nil {
			return e, err
		}
		e.Seq, e.Prev, e.Hash = last.Seq+1, last.Hash, ""
		e.Hash = EntryHash(&e)
		doc, err := json.Marshal(e)
		if err != nil {
			return e, fmt.Errorf("encode audit entry: %w", err)
		}
		it := map[string]types.AttributeValue{"pk": avS(auditPK), "seq": avN(e.Seq), "doc": avS(string(doc))}
		if e.ApplicationID != "" {
			it["applicationId"] = avS(e.ApplicationID)
		}
		_, err = a.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a.Table), Item: it,
			ConditionExpression: aws.String("attribute_not_exists(seq)")})
		var taken *types.ConditionalCheckFailedException
		if errors.As(err, &taken) && attempt+1 < maxAppendAttempts {
			continue
		}
		if err != nil {
			return e, fmt.Errorf("write audit entry %d: %w", e.Seq, err)
		}
		return e, nil
	}
}

// List implements AuditLog.
func (a *DynamoAudit) List(ctx context.Context, applicationID string, limit int) ([]Entry, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(a.Table), ScanIndexForward: aws.Bool(false)}
	if applicationID == "" {
		in.KeyConditionExpression = aws.String("pk = :p")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": avS(auditPK)}
	} else {
		in.IndexName = aws.String(auditIndex)
		in.KeyConditionExpression = aws.String("applicationId = :p")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": avS(applicationID)}
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit))
	}
	var out []Entry
	for {
		res, err := a.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		for _, it := range res.Items {
			e, err := decodeEntry(it)
			if err != nil {
				return nil, err
			}
			out = append(out, *e)
		}
		if len(res.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= limit) {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Verify walks the whole log oldest first and checks the chain: every
// entry's hash, its link to the previous one, and no gap in seq. It
// returns the number of entries.
func (a *DynamoAudit) Verify(ctx context.Context) (int64, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(a.Table), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": avS(auditPK)}, ConsistentRead: aws.Bool(true)}
	var prev Entry
	for {
		res, err := a.Client.Query(ctx, in)
		if err != nil {
			return prev.Seq, fmt.Errorf("read audit log: %w", err)
		}
		for _, it := range res.Items {
			e, err := decodeEntry(it)
			if err != nil {
				return prev.Seq, err
			}
			if e.Seq != prev.Seq+1 || strconv.FormatInt(e.Seq, 10) != strconv.FormatInt(num(it, "seq"), 10) || e.Prev != prev.Hash || e.Hash != EntryHash(e) {
				return prev.Seq, fmt.Errorf("audit log: chain broken at entry %d", prev.Seq+1)
			}
			prev = *e
		}
		if len(res.LastEvaluatedKey) == 0 {
			return prev.Seq, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
