package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// integrations routes the Step Functions SDK integrations our services may
// use to this stack's endpoints: DynamoDB items and SQS messages through
// their JSON protocols (the task's arguments are the API request, as in
// AWS), S3 objects through the S3 API.
func (s *Stack) integrations() map[string]engine.Integration {
	m := map[string]engine.Integration{}
	for _, a := range []string{"getItem", "putItem", "updateItem", "deleteItem"} {
		m["dynamodb:"+a] = s.jsonProtocol("DynamoDB_20120810", "DynamoDB", a)
	}
	m["sqs:sendMessage"] = s.jsonProtocol("AmazonSQS", "SQS", "sendMessage")
	m["aws-sdk:sqs:sendMessage"] = m["sqs:sendMessage"]
	m["aws-sdk:s3:putObject"] = s.s3PutObject
	m["aws-sdk:s3:getObject"] = s.s3GetObject
	m["events:putEvents"] = s.putEvents(true)
	m["aws-sdk:eventbridge:putEvents"] = s.putEvents(false)
	return m
}

// jsonProtocol forwards a task's arguments as one AWS JSON 1.0 request to
// the edge. A service error fails the task as Step Functions names it:
// "<Service>.<Exception>", the message as the cause.
func (s *Stack) jsonProtocol(targetPrefix, errPrefix, action string) engine.Integration {
	op := strings.ToUpper(action[:1]) + action[1:]
	return func(ctx context.Context, c *engine.Call) (any, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.edgeAddr+"/", bytes.NewReader(value.Marshal(c.Input)))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", targetPrefix+"."+op)
		resp, err := s.httpClient.Do(req)
		if err != nil {
			return nil, &engine.Failure{Name: errPrefix + ".SdkClientException", Cause: err.Error()}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out, err := value.Parse(body)
		if err != nil {
			return nil, &engine.Failure{Name: errPrefix + ".SdkClientException", Cause: "unreadable response: " + err.Error()}
		}
		if resp.StatusCode >= 300 {
			o, _ := out.(*value.Object)
			typ, _ := o.Get("__type")
			msg, _ := o.Get("message")
			if msg == nil {
				msg, _ = o.Get("Message")
			}
			name, _ := typ.(string)
			if i := strings.LastIndexByte(name, '#'); i >= 0 {
				name = name[i+1:]
			}
			return nil, &engine.Failure{Name: errPrefix + "." + name, Cause: fmt.Sprint(msg)}
		}
		return out, nil
	}
}

func (s *Stack) s3Client() *awss3.Client {
	return awss3.NewFromConfig(s.AWSConfig(), func(o *awss3.Options) { o.UsePathStyle = true })
}

func stringField(in any, name string) string {
	o, _ := in.(*value.Object)
	v, _ := o.Get(name)
	str, _ := v.(string)
	return str
}

func (s *Stack) s3PutObject(ctx context.Context, c *engine.Call) (any, error) {
	body := stringField(c.Input, "Body")
	if o, _ := c.Input.(*value.Object); o != nil {
		if v, ok := o.Get("Body"); ok {
			if _, isString := v.(string); !isString {
				body = value.String(v) // a JSON body is written as its text, as AWS does
			}
		}
	}
	out, err := s.s3Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(stringField(c.Input, "Bucket")),
		Key: aws.String(stringField(c.Input, "Key")), Body: strings.NewReader(body)})
	if err != nil {
		return nil, &engine.Failure{Name: "S3.S3Exception", Cause: err.Error()}
	}
	return value.ObjectOf("ETag", aws.ToString(out.ETag)), nil
}

func (s *Stack) s3GetObject(ctx context.Context, c *engine.Call) (any, error) {
	out, err := s.s3Client().GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(stringField(c.Input, "Bucket")), Key: aws.String(stringField(c.Input, "Key"))})
	if err != nil {
		return nil, &engine.Failure{Name: "S3.NoSuchKeyException", Cause: err.Error()}
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, &engine.Failure{Name: "S3.SdkClientException", Cause: err.Error()}
	}
	return value.ObjectOf("Body", string(b), "ContentLength", float64(len(b)), "ETag", aws.ToString(out.ETag)), nil
}
