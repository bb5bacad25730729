package stack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posluha/posluha/functions/eventwrite"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/registryread"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/functions/tables"
	"github.com/posluha/posluha/local/outbox"
	"github.com/posluha/posluha/local/signer"
)

// functionEnv is the environment the in-process functions see: the
// process's own, with the registry endpoints defaulting to the simulator
// this stack runs (the way SAM passes Environment.Variables to a Lambda).
func (s *Stack) functionEnv(name string) string {
	if name == "STEP_EVENTS" {
		// The bus derives step events from the engine's saves; the task
		// functions must not put a second, differently ordered copy.
		return ""
	}
	if v := s.cfg.Getenv(name); v != "" {
		return v
	}
	if v, ok := s.pki[name]; ok {
		return v
	}
	reg := "http://" + s.regAddr
	switch name {
	case "POSLUHA_LIMITER":
		// Every function runs in this process, so an in-process limiter is
		// shared by all of them; the DynamoDB one (the default in AWS,
		// where instances are many) cost a conditional write per admission
		// and per waiting turn, which in a burst was an eighth of the CPU.
		return "local"
	case "DOCUMENTS_BUCKET":
		return documentsBucket
	case "S3_PATH_STYLE":
		return "true"
	case "SIGN_DB":
		return filepath.Join(s.cfg.DataDir, "sign.db")
	case "AWS_ENDPOINT_URL_S3":
		return "http://" + s.edgeAddr
	case "APPLICATIONS_QUEUE_URL":
		return s.queueURL
	case "STATE_MACHINE_ARN_PREFIX":
		return "arn:aws:states:local:000000000000:stateMachine:"
	case "VERIFY_URL":
		return "http://" + s.edgeAddr + "/verify/"
	case "POSLUHA_REGISTRY_URL":
		return reg
	case "POSLUHA_USR_URL":
		return reg + "/rest/usr"
	case "POSLUHA_NOTIFY_URL":
		return reg + "/rest/notify"
	}
	return ""
}

// AWSConfig is the SDK configuration the in-process functions use: every
// service at this stack's edge endpoint, with fixed local credentials,
// served in-process (see inProcess).
// The region is a real one although ARNs here say "local": the SDK's
// endpoint rules compile every partition's region regexp on each call for
// a region they do not know (a quarter of all allocations under a burst),
// and the local endpoints ignore the signing region.
func (s *Stack) AWSConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String("http://" + s.edgeAddr),
		HTTPClient:   &http.Client{Transport: &inProcess{host: s.edgeAddr, handler: func() http.Handler { return s.edge.Handler }, next: s.httpClient.Transport}},
	}
}

// registerFunctions wires the Lambdas of functions/ in-process, each the
// same handler its bootstrap binary starts, talking to the stack's
// endpoints through the real SDKs.
func (s *Stack) registerFunctions(ctx context.Context) error {
	ac := s.AWSConfig()
	if err := tables.Create(ctx, ac, s.functionEnv); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}

	rr, err := registryread.Wire(ctx, ac, s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("registryread: %w", err)
	}
	s.Lambdas.Register("registryread", rr.Lambda())

	deps, err := eventwrite.WireDeps(ctx, ac, s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("eventwrite: %w", err)
	}
	ob, err := outbox.Open(filepath.Join(s.cfg.DataDir, "outbox.db"))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	s.closers = append(s.closers, ob.Close)
	s.Outbox = ob
	deps.Outbox = ob
	ew := eventwrite.New(deps)
	s.EventWrite = ew
	s.Lambdas.Register("eventwrite", ew.Lambda())
	s.mux.Handle("GET /outbox", ob.Handler())

	// Documents: the test CA and the local e-seal key stand in for the
	// qualified CA and the KMS key of AWS.
	if s.pki, err = signer.Env(filepath.Join(s.cfg.DataDir, "pki"), time.Now()); err != nil {
		return fmt.Errorf("local PKI: %w", err)
	}
	pdf, err := pdfgen.Wire(ctx, ac, s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("pdfgen: %w", err)
	}
	s.PdfGen = pdf
	s.Lambdas.Register("pdfgen", pdf.Lambda())
	sg, err := sign.Wire(ctx, ac, s.log, s.functionEnv)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	s.closers = append(s.closers, sg.Close)
	s.Sign = sg
	s.Lambdas.Register("sign", sg.Lambda())
	return nil
}

// documentsBucket holds result documents and signatures in the local S3 store.
const documentsBucket = "documents"

// resumeParked retries the writes eventwrite parked during a registry
// outage, as the EventBridge schedule does in AWS.
func (s *Stack) resumeParked(ctx context.Context, every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if r, err := s.EventWrite.ResumeParked(ctx); err != nil {
				s.log.Error("resume parked writes", "err", err)
			} else if r.Resumed > 0 {
				s.log.Info("parked writes resumed", "resumed", r.Resumed)
			}
		}
	}
}
