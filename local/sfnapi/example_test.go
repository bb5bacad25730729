package sfnapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
)

// ExampleNew wires the API in front of an engine and drives it with the
// SDK. `posluha serve` does the same with the bbolt store (store.Open),
// passing it as Options.Tokens too, and the Lambda router as both the
// engine's Invoker and Options.TestInvoker.
func ExampleNew() {
	ctx := context.Background()
	st := engine.NewMemStore()
	eng := engine.New(engine.Config{Store: st})
	if err := eng.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	srv := httptest.NewServer(sfnapi.New(eng, sfnapi.Options{Tokens: st}).Handler())
	defer srv.Close()

	client := sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	m, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("hello"),
		RoleArn:    aws.String("arn:aws:iam::111111111111:role/local"),
		Definition: aws.String(`{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Добрий день, {}!', $.name)"},"End":true}}}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("app-1"), Input: aws.String(`{"name":"Олена"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := eng.Await(ctx, *x.ExecutionArn); err != nil {
		fmt.Println(err)
		return
	}
	d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*d.ExecutionArn)
	fmt.Println(d.Status, *d.Output)
	// Output:
	// arn:aws:states:us-east-1:111111111111:execution:hello:app-1
	// SUCCEEDED {"greeting":"Добрий день, Олена!"}
}
