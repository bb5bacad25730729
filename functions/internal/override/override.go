// Package override holds support's corrected task arguments in AWS: "fix
// the data and resend" in the console writes one record per (application,
// step), then redrives the failed execution. Step Functions reruns the
// failed Task state with the payload it had, so the task Lambdas
// (registryread, eventwrite) look the record up at the start of every
// task and run with its arguments instead of the payload's.
//
// A record stays until its TTL: a second redrive of the same step uses it
// again, a second resend replaces it. Because the key is the step, a BPMN
// loop that comes back to the same step later in the same application also
// runs with the corrected arguments; support fixes the data of a step, not
// of one visit to it.
//
// The local stack never sets OVERRIDES_TABLE: its engine edits a failed
// execution's data itself (local/console), so nothing is looked up there.
package override

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// Override is support's replacement for the arguments of one application
// step: who set it and when, for the audit trail and the logs.
type Override struct {
	ApplicationID string
	Step          string
	Arguments     map[string]any
	Who           string
	When          time.Time
}

// Key is the record's key: the step's idempotency key.
func Key(applicationID, step string) string {
	return (&posluha.TaskRequest{ApplicationID: applicationID, Step: step}).IdempotencyKey()
}

// Client is the part of the DynamoDB API the table uses; *dynamodb.Client
// implements it. Task Lambdas need GetItem only, the console PutItem.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// DefaultRetention is how long a record lives: a Standard execution runs
// at most a year and can be redriven for 14 days after it failed, so a
// record outlives every execution that could still use it. The arguments
// are personal data, so it does not stay longer.
const DefaultRetention = 380 * 24 * time.Hour

// ErrInvalid names an override the table refuses (no application or step,
// no arguments).
var ErrInvalid = errors.New("override: applicationId, step and arguments are required")

// Table stores overrides in a DynamoDB table keyed by "key" (S), with the
// TTL attribute "expiresAt".
type Table struct {
	Client Client
	Name   string
	// Retention is the records' TTL; DefaultRetention when 0.
	Retention time.Duration
	// Now is the clock Get compares the TTL with; time.Now when nil.
	Now func() time.Time
}

// Put stores o, replacing an earlier override of the same step. Errors:
// ErrInvalid; the DynamoDB error, wrapped.
func (t *Table) Put(ctx context.Context, o *Override) error {
	if o.ApplicationID == "" || o.Step == "" || o.Arguments == nil {
		return ErrInvalid
	}
	args, err := json.Marshal(o.Arguments)
	if err != nil {
		return fmt.Errorf("override %s: arguments: %w", Key(o.ApplicationID, o.Step), err)
	}
	ret := t.Retention
	if ret == 0 {
		ret = DefaultRetention
	}
	item := map[string]types.AttributeValue{
		"key":           &types.AttributeValueMemberS{Value: Key(o.ApplicationID, o.Step)},
		"applicationId": &types.AttributeValueMemberS{Value: o.ApplicationID},
		"step":          &types.AttributeValueMemberS{Value: o.Step},
		// JSON text, so numbers and nesting reach the task exactly as the
		// Lambda runtime would decode its payload.
		"arguments": &types.AttributeValueMemberS{Value: string(args)},
		"when":      &types.AttributeValueMemberS{Value: o.When.UTC().Format(time.RFC3339Nano)},
		"expiresAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(o.When.Add(ret).Unix(), 10)},
	}
	if o.Who != "" {
		item["who"] = &types.AttributeValueMemberS{Value: o.Who}
	}
	if _, err := t.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: item}); err != nil {
		return fmt.Errorf("put override %s: %w", Key(o.ApplicationID, o.Step), err)
	}
	return nil
}

// Get returns the override of one step, and false when there is none
// (or only an expired one DynamoDB has not removed yet). Errors: the
// DynamoDB error, wrapped; a record that does not decode.
func (t *Table) Get(ctx context.Context, applicationID, step string) (*Override, bool, error) {
	k := Key(applicationID, step)
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name),
		Key:            map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: k}},
		ConsistentRead: aws.Bool(true), // a redrive right after the resend must see it
	})
	if err != nil {
		return nil, false, fmt.Errorf("get override %s: %w", k, err)
	}
	if out.Item == nil {
		return nil, false, nil
	}
	s := func(name string) string {
		if v, ok := out.Item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	if n, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN); ok {
		// DynamoDB deletes expired items up to days late.
		now := time.Now
		if t.Now != nil {
			now = t.Now
		}
		if exp, err := strconv.ParseInt(n.Value, 10, 64); err == nil && now().Unix() > exp {
			return nil, false, nil
		}
	}
	o := &Override{ApplicationID: s("applicationId"), Step: s("step"), Who: s("who")}
	if err := json.Unmarshal([]byte(s("arguments")), &o.Arguments); err != nil || o.Arguments == nil {
		return nil, false, fmt.Errorf("override %s: arguments are not a JSON object", k)
	}
	if w, err := time.Parse(time.RFC3339Nano, s("when")); err == nil {
		o.When = w
	}
	return o, true, nil
}

// Source is what the task Lambdas read; *Table implements it.
type Source interface {
	Get(ctx context.Context, applicationID, step string) (*Override, bool, error)
}

var _ Source = (*Table)(nil)

// Apply replaces req.Arguments with the step's override when there is
// one, and reports whether it did. A nil src looks nothing up (no
// OVERRIDES_TABLE). When the lookup fails the task must not run with
// arguments support may have corrected: the error is Registry.Unavailable,
// which the state machine retries, as for a read whose audit record could
// not be stored.
func Apply(ctx context.Context, src Source, log *slog.Logger, req *posluha.TaskRequest) (bool, error) {
	if src == nil {
		return false, nil
	}
	o, ok, err := src.Get(ctx, req.ApplicationID, req.Step)
	if err != nil {
		return false, fmt.Errorf("%w: %w", posluha.Errorf(posluha.ErrRegistryUnavailable, "support's corrected data for step %s could not be read", req.Step), err)
	}
	if !ok {
		return false, nil
	}
	req.Arguments = o.Arguments
	// Names and times only: the arguments are personal data.
	log.InfoContext(ctx, "task runs with support's corrected arguments", "applicationId", req.ApplicationID,
		"service", req.Service, "step", req.Step, "by", o.Who, "since", o.When)
	return true, nil
}

// FromEnv returns the table named by OVERRIDES_TABLE, or a nil Source
// when it is not set (the local stack), so that Apply looks nothing up.
func FromEnv(c Client, getenv func(string) string) Source {
	name := getenv("OVERRIDES_TABLE")
	if name == "" {
		return nil
	}
	return &Table{Client: c, Name: name}
}

// TableDefinition is the table's schema (tests, local tools); template.yaml
// declares the same in AWS.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("key"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("key"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
}
