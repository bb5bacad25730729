package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// schemaClient is implemented by *dynamodb.Client; CreateTables adds the
// indexes a table made by an older version lacks through it.
type schemaClient interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
}

// addMissingIndexes creates the GSIs of in that the existing table does
// not have (a local data directory from before the index existed: the
// applications' "submitted" index). In AWS CloudFormation does this from
// template.yaml; locally the stack calls CreateTables at every start.
func addMissingIndexes(ctx context.Context, c Client, in *dynamodb.CreateTableInput) error {
	sc, ok := c.(schemaClient)
	if !ok || len(in.GlobalSecondaryIndexes) == 0 {
		return nil
	}
	out, err := sc.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", aws.ToString(in.TableName), err)
	}
	have := map[string]bool{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	for _, g := range in.GlobalSecondaryIndexes {
		if have[aws.ToString(g.IndexName)] {
			continue
		}
		_, err := sc.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: in.TableName, AttributeDefinitions: in.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to %s: %w", aws.ToString(g.IndexName), aws.ToString(in.TableName), err)
		}
	}
	return nil
}
