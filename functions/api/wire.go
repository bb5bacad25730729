package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/statemachines"
)

// SQSQueue implements Queue with SendMessage.
type SQSQueue struct {
	Client interface {
		SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	}
	URL string
}

// Send implements Queue. The request's trace header travels as the
// message's AWSTraceHeader, which the dispatcher hands to StartExecution.
func (q *SQSQueue) Send(ctx context.Context, applicationID string, body []byte) error {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body))}
	if t := TraceHeader(ctx); t != "" {
		in.MessageSystemAttributes = map[string]sqstypes.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(t)},
		}
	}
	_, err := q.Client.SendMessage(ctx, in)
	if err != nil {
		return fmt.Errorf("send %s to the queue: %w", applicationID, err)
	}
	return nil
}

// StepFunctions implements Executions with aws-sdk-go-v2.
type StepFunctions struct {
	Client interface {
		StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
		SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	}
	// MachineARN returns the state machine of a service.
	MachineARN func(service string) string
}

// Stop implements Executions.
func (s *StepFunctions) Stop(ctx context.Context, service, applicationID, cause string) error {
	arn := ExecutionARN(s.MachineARN(service), applicationID)
	_, err := s.Client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Cause: aws.String(cause), Error: aws.String("Application.Cancelled")})
	var notExist *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &notExist) {
		return nil // not started yet: the dispatcher skips cancelled applications
	}
	if err != nil {
		return fmt.Errorf("stop execution %s: %w", applicationID, err)
	}
	return nil
}

// SendTaskSuccess implements Executions.
func (s *StepFunctions) SendTaskSuccess(ctx context.Context, token, output string) error {
	_, err := s.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
	var (
		notExist *sfntypes.TaskDoesNotExist
		timedOut *sfntypes.TaskTimedOut
		invalid  *sfntypes.InvalidToken
	)
	if errors.As(err, &notExist) || errors.As(err, &timedOut) || errors.As(err, &invalid) {
		return posluha.Errorf(posluha.ErrApplicationNotFound, "the step no longer waits")
	}
	if err != nil {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}

// ExecutionARN is the ARN of the execution named name of a state machine:
// arn:…:stateMachine:<machine> → arn:…:execution:<machine>:<name>.
func ExecutionARN(machineARN, name string) string {
	return strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// MachineARNs returns the function that names a service's state machine:
// the prefix (STATE_MACHINE_ARN_PREFIX, "arn:aws:states:<region>:<account>:stateMachine:")
// followed by the service id, the naming template.yaml and the local stack
// use.
func MachineARNs(prefix string) func(service string) string {
	return func(service string) string { return prefix + service }
}

// BlobDocuments implements Documents with presigned S3 URLs.
type BlobDocuments struct{ Blob *blob.Client }

// Link implements Documents.
func (b *BlobDocuments) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return b.Blob.PresignGet(ctx, key, ttl, "")
}

// SignSubmitter adapts the sign function's handler (its verifier, request
// store and SendTaskSuccess) to Signatures.
type SignSubmitter struct{ Sign *sign.Handler }

// Signer implements Signatures.
func (s SignSubmitter) Signer(ctx context.Context, requestID string) (string, string, error) {
	v, err := s.Sign.View(ctx, requestID)
	if err != nil {
		return "", "", err
	}
	return v.ApplicationID, v.Signer, nil
}

// Submit implements Signatures.
func (s SignSubmitter) Submit(ctx context.Context, requestID string, cms []byte) error {
	_, err := s.Sign.Submit(ctx, requestID, cms)
	return err
}

// Wire builds the handler from the environment: the services compiled into
// the binary; DynamoDB tables (dynamo.TablesFromEnv); the queue
// APPLICATIONS_QUEUE_URL (APPLICATIONS_QUEUE_BATCH=1: BatchQueue, for the
// local stack); state machines STATE_MACHINE_ARN_PREFIX;
// documents in DOCUMENTS_BUCKET (optional); signatures through the sign
// package when SIGN_TABLE or SIGN_DB is set (see sign.Wire; without
// them the route answers 503).
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	d, err := WireDeps(ctx, cfg, log, getenv)
	if err != nil {
		return nil, err
	}
	return New(d)
}

// WireDeps builds the dependencies Wire uses, so that the local stack can
// replace one (e.g. Signatures with the sign handler it already runs)
// before calling New.
func WireDeps(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (Deps, error) {
	services, err := statemachines.Load(statemachines.FS)
	if err != nil {
		return Deps{}, fmt.Errorf("load services: %w", err)
	}
	queueURL := getenv("APPLICATIONS_QUEUE_URL")
	if queueURL == "" {
		return Deps{}, fmt.Errorf("APPLICATIONS_QUEUE_URL is not set")
	}
	prefix := getenv("STATE_MACHINE_ARN_PREFIX")
	if prefix == "" {
		return Deps{}, fmt.Errorf("STATE_MACHINE_ARN_PREFIX is not set")
	}
	db := dynamodb.NewFromConfig(cfg)
	tables := dynamo.TablesFromEnv(getenv)
	d := Deps{
		Services:      services,
		Applications:  dynamo.NewApplications(db, tables.Applications),
		Notifications: dynamo.NewNotifications(db, tables.Notifications),
		Awaits:        dynamo.NewAwaits(db, tables.Awaits),
		Queue:         &SQSQueue{Client: sqs.NewFromConfig(cfg), URL: queueURL},
		Executions:    &StepFunctions{Client: sfn.NewFromConfig(cfg), MachineARN: MachineARNs(prefix)},
		Log:           log,
	}
	if getenv("APPLICATIONS_QUEUE_BATCH") != "" {
		d.Queue = &BatchQueue{Client: sqs.NewFromConfig(cfg), URL: queueURL}
	}
	if b := getenv("DOCUMENTS_BUCKET"); b != "" {
		d.Documents = &BlobDocuments{Blob: blob.New(cfg, blob.Options{Bucket: b, Endpoint: getenv("AWS_ENDPOINT_URL_S3"), PathStyle: getenv("AWS_ENDPOINT_URL_S3") != ""})}
	}
	if getenv("SIGN_TABLE") != "" || getenv("SIGN_DB") != "" {
		sh, err := sign.Wire(ctx, cfg, log, getenv)
		if err != nil {
			return Deps{}, fmt.Errorf("signatures: %w", err)
		}
		d.Signatures = SignSubmitter{Sign: sh}
	}
	return d, nil
}
