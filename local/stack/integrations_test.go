package stack

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// TestSDKIntegrations runs a definition whose Task states use the
// optimised DynamoDB and SQS integrations and the S3 SDK integration,
// routed to the stack's endpoints, including a named service error caught
// by Catch.
func TestSDKIntegrations(t *testing.T) {
	ctx := context.Background()
	s := openStack(t, t.TempDir())
	ac := s.AWSConfig()
	if _, err := dynamodb.NewFromConfig(ac).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(ac).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("out")})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"Put","States":{
	  "Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"things","Item":{"id":{"S":"a1"},"n":{"N":"42"}}},"ResultPath":null,"Next":"PutAgain"},
	  "PutAgain":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"things","Item":{"id":{"S":"a1"}},"ConditionExpression":"attribute_not_exists(id)"},
	    "Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"ResultPath":"$.conflict","Next":"Get"}],"Next":"Get"},
	  "Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"things","Key":{"id":{"S":"a1"}}},"ResultSelector":{"n.$":"$.Item.n.N"},"ResultPath":"$.got","Next":"Send"},
	  "Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"` + aws.ToString(q.QueueUrl) + `","MessageBody":"hello"},"ResultSelector":{"id.$":"$.MessageId"},"ResultPath":"$.sent","Next":"Store"},
	  "Store":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","Parameters":{"Bucket":"documents","Key":"x/report.json","Body":{"n":1}},"ResultPath":null,"Next":"Load"},
	  "Load":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"documents","Key":"x/report.json"},"ResultSelector":{"body.$":"$.Body"},"ResultPath":"$.loaded","End":true}}}`
	m, err := s.Engine.CreateMachine(ctx, engine.CreateMachineInput{Name: "integrations", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Engine.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Input: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err = s.Engine.Await(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("%s: %s %s", x.Status, x.Error, x.Cause)
	}
	out := value.String(x.Output.V)
	for _, want := range []string{`"Error":"DynamoDB.ConditionalCheckFailedException"`, `"got":{"n":"42"}`, `"sent":{"id":"`, `"loaded":{"body":"{\"n\":1}"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output %s lacks %s", out, want)
		}
	}
	msgs, err := sqs.NewFromConfig(ac).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	if err != nil || len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != "hello" {
		t.Fatalf("message: %+v %v", msgs, err)
	}
}
