package stack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/console/support"
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/local/console"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/scenario"
)

// Queue names of the burst buffer.
const (
	submissionsQueue = "applications"
	submissionsDLQ   = "applications-dlq"
)

// startWeb starts what citizens and partners reach: the OIDC provider and
// the API gateway in front of the api function, and the dispatcher that
// drains the submissions queue into executions.
func (s *Stack) startWeb(ctx context.Context, lctx context.Context) error {
	idpLn, err := listen("OIDC provider", s.cfg.OIDCAddr)
	if err != nil {
		return err
	}
	webLn, err := listen("citizen API", s.cfg.APIAddr)
	if err != nil {
		idpLn.Close()
		return err
	}
	if s.OIDC, err = oidc.New(oidc.Options{Support: []string{"support"}, Partners: map[string]string{"partner-bank": "partner-secret"}}); err != nil {
		idpLn.Close()
		webLn.Close()
		return err
	}
	s.OIDC.SetIssuer("http://" + idpLn.Addr().String())
	s.idpSrv = &http.Server{Handler: s.OIDC.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.serve(s.idpSrv, idpLn)

	// The burst buffer: a queue with a dead-letter queue for submissions
	// that keep failing to start (posluha queue replay brings them back).
	q := sqs.NewFromConfig(s.AWSConfig())
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(submissionsDLQ)})
	if err != nil {
		webLn.Close()
		return fmt.Errorf("create %s: %w", submissionsDLQ, err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		webLn.Close()
		return err
	}
	main, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(submissionsQueue), Attributes: map[string]string{
		"VisibilityTimeout": "60",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"8"}`, attrs.Attributes["QueueArn"]),
	}})
	if err != nil {
		webLn.Close()
		return fmt.Errorf("create %s: %w", submissionsQueue, err)
	}
	s.queueURL, s.dlqURL = aws.ToString(main.QueueUrl), aws.ToString(dlq.QueueUrl)

	// The sign function's request store is a bbolt file only one handler
	// may open; the API submits signatures through the stack's handler.
	apiEnv := func(name string) string {
		switch name {
		case "SIGN_DB":
			return ""
		case "APPLICATIONS_QUEUE_BATCH":
			return "1" // batch sends under load: ~1.8× the accepted submissions/s
		}
		return s.functionEnv(name)
	}
	deps, err := api.WireDeps(ctx, s.AWSConfig(), s.log, apiEnv)
	if err != nil {
		webLn.Close()
		return fmt.Errorf("api: %w", err)
	}
	deps.Signatures = api.SignSubmitter{Sign: s.Sign}
	s.apps = deps.Applications
	h, err := api.New(deps)
	if err != nil {
		webLn.Close()
		return fmt.Errorf("api: %w", err)
	}
	s.Lambdas.Register("api", h.Lambda())
	gw := gateway.New(h.Lambda(), gateway.Options{
		Issuer: s.OIDC.Issuer(), Audience: oidc.DefaultAudience,
		Public: api.PublicRoutes(),
	})
	s.webSrv = &http.Server{Handler: s.Metrics.Instrument("api", gw), ReadHeaderTimeout: 10 * time.Second}
	s.webAddr = webLn.Addr().String()
	s.serve(s.webSrv, webLn)

	poller, err := dispatcher.WirePoller(ctx, s.AWSConfig(), s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("dispatcher: %w", err)
	}
	d, err := dispatcher.Wire(ctx, s.AWSConfig(), s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("dispatcher: %w", err)
	}
	s.Lambdas.Register("dispatcher", d.Lambda())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := poller.Run(lctx); err != nil {
			s.log.Error("dispatcher stopped", "err", err)
		}
	}()
	s.wg.Add(1)
	go s.sweep(lctx, d)
	return nil
}

// mountConsole serves the support console and the Prometheus metrics on
// the edge endpoint.
func (s *Stack) mountConsole() error {
	nm := scenario.NodeModules(".")
	c := support.New(support.Deps{
		Projection: s.Console.Projection, Audit: s.Console.Audit, Sync: s.Console.Bus.Sync,
		Verifier: gateway.New(nil, gateway.Options{Issuer: s.OIDC.Issuer(), Audience: oidc.DefaultAudience}),
		Issuer:   s.OIDC.Issuer(), Executions: &console.EngineExecutions{Engine: s.Engine},
		Diagram: console.Diagrams(s.cfg.StateMachines, nm), BPMNJS: console.BPMNJS(nm), Log: s.log,
		Applications: s.apps,
	})
	s.mux.Handle("/console/", s.Metrics.Instrument("console", c.Handler()))
	s.Metrics.Mount(s.mux)
	q := sqs.NewFromConfig(s.AWSConfig())
	s.Metrics.RegisterQueue(submissionsQueue, func() float64 {
		out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.queueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			return -1
		}
		n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		return float64(n)
	})
	return errors.Join(
		// A scrape has no context of its own; the counts are local reads.
		s.Metrics.Executions(func() (map[string]map[string]int64, error) {
			return s.Console.Projection.StatusCounts(context.Background())
		}),
		s.Metrics.Steps(func() (map[string]map[string]int64, error) {
			return s.Console.Projection.StepCounts(context.Background())
		}),
		s.Metrics.BusPending(s.Console.Bus.Pending),
	)
}
