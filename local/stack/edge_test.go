package stack

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "local",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// TestEdgeServesTheSDKs checks that one endpoint (AWS_ENDPOINT_URL) serves
// the real Step Functions, DynamoDB and SQS clients, and that their data
// survives a restart on the same data directory.
func TestEdgeServesTheSDKs(t *testing.T) {
	ctx := context.Background()
	dir, data := t.TempDir(), t.TempDir()
	writeService(t, dir, "greeting", "hi")
	cfg := Config{DataDir: data, Addr: "127.0.0.1:0", RegistriesAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0", StateMachines: dir, Functions: map[string]any{"echo": echo}}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ac := awsConfig(s.URLs()["aws"])

	machines, err := sfn.NewFromConfig(ac).ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(machines.StateMachines) != 1 || *machines.StateMachines[0].Name != "greeting" {
		t.Fatalf("ListStateMachines = %+v, %v", machines, err)
	}
	start, err := sfn.NewFromConfig(ac).StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: machines.StateMachines[0].StateMachineArn, Name: aws.String("app-1"), Input: aws.String(`{"applicationId":"app-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Engine.Await(ctx, *start.ExecutionArn); err != nil {
		t.Fatal(err)
	}

	ddb := dynamodb.NewFromConfig(ac)
	_, err = ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("applications"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("applications"),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "app-1"}}}); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(ac)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("submissions")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: aws.String(`{"applicationId":"app-1"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same data directory.
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ac = awsConfig(s.URLs()["aws"])
	desc, err := sfn.NewFromConfig(ac).DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil || desc.Status != "SUCCEEDED" {
		t.Fatalf("execution after restart: %+v, %v", desc, err)
	}
	item, err := dynamodb.NewFromConfig(ac).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("applications"),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "app-1"}}})
	if err != nil || item.Item == nil {
		t.Fatalf("item after restart: %+v, %v", item, err)
	}
	url, err := sqs.NewFromConfig(ac).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("submissions")})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sqs.NewFromConfig(ac).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 || *msgs.Messages[0].Body != `{"applicationId":"app-1"}` {
		t.Fatalf("message after restart: %+v, %v", msgs, err)
	}
}
