package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// ReadRecord is one audited registry read: who read, for which application
// and registry, when and with what outcome; never what was read. Its fields
// are registryread.Record's, so that one converts to the other.
type ReadRecord struct {
	Time          time.Time `json:"time"`
	Principal     string    `json:"principal"`
	ApplicationID string    `json:"applicationId"`
	Service       string    `json:"service"`
	Step          string    `json:"step"`
	Attempt       int       `json:"attempt"`
	Connector     string    `json:"connector"`
	Registry      string    `json:"registry"`
	Outcome       string    `json:"outcome"`
	DurationMS    int64     `json:"durationMs"`
}

// ReadAudit appends read records to a table keyed by applicationId and at
// (time#step#attempt#connector), so that an application's reads list in
// time order.
type ReadAudit struct {
	c     Client
	table string
	// Retention, when positive, sets expiresAt (the table's TTL attribute)
	// that long after the read.
	Retention time.Duration
}

// NewReadAudit returns the adapter for table.
func NewReadAudit(c Client, table string) *ReadAudit { return &ReadAudit{c: c, table: table} }

func auditKey(r ReadRecord) string {
	return fmtTime(r.Time) + "#" + r.Step + "#" + strconv.Itoa(r.Attempt) + "#" + r.Connector
}

// Put stores r. The put never overwrites (attribute_not_exists): the one
// record its key can collide with is r itself, put again after a lost
// response, so a failed condition is success. Errors: Application.Invalid
// for a record without applicationId or time; store failures otherwise.
func (a *ReadAudit) Put(ctx context.Context, r ReadRecord) error {
	if r.ApplicationID == "" || r.Time.IsZero() {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "audit record needs an applicationId and a time")
	}
	m := map[string]types.AttributeValue{
		"applicationId": str(r.ApplicationID), "at": str(auditKey(r)), "time": str(fmtTime(r.Time)),
		"principal": str(r.Principal), "service": str(r.Service), "step": str(r.Step),
		"attempt": num(int64(r.Attempt)), "connector": str(r.Connector), "registry": str(r.Registry),
		"outcome": str(r.Outcome), "durationMs": num(r.DurationMS),
	}
	if a.Retention > 0 {
		m["expiresAt"] = num(r.Time.Add(a.Retention).Unix())
	}
	_, err := a.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(a.table), Item: m,
		ConditionExpression: aws.String("attribute_not_exists(applicationId)"),
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("put read audit of %s: %w", r.ApplicationID, err)
	}
	return nil
}

// List returns an application's read records, oldest first (one page of at
// most 1000: an application makes a handful of reads).
func (a *ReadAudit) List(ctx context.Context, applicationID string) ([]ReadRecord, error) {
	out, err := a.c.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(a.table),
		KeyConditionExpression:    aws.String("applicationId = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": str(applicationID)},
		Limit:                     aws.Int32(1000),
	})
	if err != nil {
		return nil, fmt.Errorf("list read audit of %s: %w", applicationID, err)
	}
	rs := make([]ReadRecord, 0, len(out.Items))
	for _, m := range out.Items {
		it := &item{m: m}
		r := ReadRecord{
			Time: it.time("time"), Principal: it.str("principal"), ApplicationID: it.str("applicationId"),
			Service: it.str("service"), Step: it.str("step"), Attempt: int(it.int("attempt")),
			Connector: it.str("connector"), Registry: it.str("registry"), Outcome: it.str("outcome"),
			DurationMS: it.int("durationMs"),
		}
		if it.err != nil {
			return nil, fmt.Errorf("decode read audit: %w", it.err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
