package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Client is the part of the DynamoDB API the adapters use; *dynamodb.Client
// implements it.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// Tables names the tables of one deployment.
type Tables struct {
	Applications  string
	Notifications string
	Awaits        string
	Effects       string
	Parked        string
	// Limits holds one item per registry: its rate bucket and concurrency
	// leases (Limiter).
	Limits string
	// ReadAudit holds one item per registry read (ReadAudit).
	ReadAudit string
}

// DefaultTables are the names the local stack uses.
var DefaultTables = Tables{
	Applications:  "posluha-applications",
	Notifications: "posluha-notifications",
	Awaits:        "posluha-awaits",
	Effects:       "posluha-effects",
	Parked:        "posluha-parked",
	Limits:        "posluha-registry-limits",
	ReadAudit:     "posluha-read-audit",
}

// TablesFromEnv reads the table names from APPLICATIONS_TABLE,
// NOTIFICATIONS_TABLE, AWAITS_TABLE, EFFECTS_TABLE, PARKED_TABLE,
// LIMITS_TABLE and READ_AUDIT_TABLE (template.yaml sets them from the table
// resources); a missing one takes its DefaultTables name.
func TablesFromEnv(getenv func(string) string) Tables {
	t := DefaultTables
	for _, f := range []struct {
		env string
		dst *string
	}{
		{"APPLICATIONS_TABLE", &t.Applications},
		{"NOTIFICATIONS_TABLE", &t.Notifications},
		{"AWAITS_TABLE", &t.Awaits},
		{"EFFECTS_TABLE", &t.Effects},
		{"PARKED_TABLE", &t.Parked},
		{"LIMITS_TABLE", &t.Limits},
		{"READ_AUDIT_TABLE", &t.ReadAudit},
	} {
		if v := getenv(f.env); v != "" {
			*f.dst = v
		}
	}
	return t
}

// GSI names.
const (
	IndexAppsByCitizen = "byCitizen"
	// IndexAppsSubmitted is sparse: only applications in status submitted
	// carry its hash key (see ListSubmitted).
	IndexAppsSubmitted          = "submitted"
	IndexNotificationsByCitizen = "byCitizen"
)

func attrDefs(names ...string) []types.AttributeDefinition {
	out := make([]types.AttributeDefinition, len(names))
	for i, n := range names {
		out[i] = types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	return out
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return ks
}

// TableDefinitions returns the CreateTable inputs of the tables (see the
// package documentation), the single source of their key schemas. A table
// whose name is empty is left out (a caller that names only the tables it
// uses).
func TableDefinitions(names Tables) []*dynamodb.CreateTableInput {
	gsi := func(name, hash, rng string) []types.GlobalSecondaryIndex {
		return []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(name),
			KeySchema:  keySchema(hash, rng),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}
	}
	simple := func(table, hash string) *dynamodb.CreateTableInput {
		return &dynamodb.CreateTableInput{
			TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: attrDefs(hash), KeySchema: keySchema(hash, ""),
		}
	}
	all := []*dynamodb.CreateTableInput{
		{
			TableName: aws.String(names.Applications), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: attrDefs("applicationId", "citizen", "created", attrSubmittedShard),
			KeySchema:            keySchema("applicationId", ""),
			GlobalSecondaryIndexes: append(gsi(IndexAppsByCitizen, "citizen", "created"),
				gsi(IndexAppsSubmitted, attrSubmittedShard, "created")...),
		},
		{
			TableName: aws.String(names.Notifications), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions:   attrDefs("id", "citizen", "time"),
			KeySchema:              keySchema("id", ""),
			GlobalSecondaryIndexes: gsi(IndexNotificationsByCitizen, "citizen", "time"),
		},
		simple(names.Awaits, "key"),
		simple(names.Effects, "key"),
		simple(names.Parked, "key"),
		simple(names.Limits, "registry"),
		{
			TableName: aws.String(names.ReadAudit), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: attrDefs("applicationId", "at"),
			KeySchema:            keySchema("applicationId", "at"),
		},
	}
	out := all[:0]
	for _, in := range all {
		if aws.ToString(in.TableName) != "" {
			out = append(out, in)
		}
	}
	return out
}

// ttlAttributes are the tables whose items expire, by TTL attribute.
func ttlAttributes(names Tables) map[string]string {
	return map[string]string{names.ReadAudit: "expiresAt"}
}

// ttlClient is implemented by *dynamodb.Client; CreateTables enables TTL
// through it when the client has it.
type ttlClient interface {
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTables creates the tables that do not exist yet (the local stack
// at start, tests). An existing table is left as it is.
func CreateTables(ctx context.Context, c Client, names Tables) error {
	for _, in := range TableDefinitions(names) {
		_, err := c.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
		}
		if err != nil {
			if err := addMissingIndexes(ctx, c, in); err != nil {
				return err
			}
		}
		attr, ok := ttlAttributes(names)[aws.ToString(in.TableName)]
		tc, canTTL := c.(ttlClient)
		if !ok || !canTTL || err != nil { // an existing table keeps its settings
			continue
		}
		if _, err := tc.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               in.TableName,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("enable TTL on %s: %w", aws.ToString(in.TableName), err)
		}
	}
	return nil
}

// conditionFailed reports whether err is a failed ConditionExpression.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// NewClientFromConfig returns a DynamoDB client for cfg (its endpoint,
// region and credentials), so that callers need not import the SDK's
// service package.
func NewClientFromConfig(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }
