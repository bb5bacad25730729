// Package tables creates the DynamoDB tables the functions use, for the
// local stack and for tests against a DynamoDB-compatible endpoint. In AWS,
// template.yaml declares the same tables. It exists so that local/, which
// may not import functions/internal, can provision them.
package tables

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/posluha/posluha/functions/internal/dynamo"
)

// Create creates every table that is missing, with the names the functions
// read from the environment (APPLICATIONS_TABLE, …) through getenv.
func Create(ctx context.Context, cfg aws.Config, getenv func(string) string) error {
	return dynamo.CreateTables(ctx, dynamodb.NewFromConfig(cfg), dynamo.TablesFromEnv(getenv))
}
