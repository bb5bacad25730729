package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/local/load"
	"github.com/posluha/posluha/local/stack"
)

type loadOptions struct {
	opts      load.Options
	data      string
	reconcile bool
	json      string
	drain     time.Duration
}

func (m *Main) parseLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.load.opts.RegisterFlags(fs)
	fs.StringVar(&m.load.data, "data", "", "data directory of the stack under load (default: a new temporary one)")
	fs.BoolVar(&m.load.reconcile, "reconcile", true, "afterwards, check every 202 has a record and a finished execution, none twice")
	fs.StringVar(&m.load.json, "json", "", "also write the figures to this file (JSON)")
	fs.DurationVar(&m.load.drain, "drain-timeout", 30*time.Minute, "how long the reconciliation waits for executions to finish after the burst")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if m.load.opts.Duration == 0 && m.load.opts.Applicants == 0 {
		return errors.New("load: give --duration or --applicants")
	}
	return nil
}

// runLoad starts the whole local stack in this process on free loopback
// ports and plays a burst of citizens against its API: the figures are
// the stack's, on this machine, with nothing in between.
func (m *Main) runLoad(ctx context.Context) error {
	data := m.load.data
	if data == "" {
		dir, err := os.MkdirTemp("", "posluha-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		data = dir
	}
	s, err := stack.Open(ctx, stack.Config{DataDir: data, Addr: "127.0.0.1:0", RegistriesAddr: "127.0.0.1:0",
		APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0", StateMachines: "statemachines"})
	if err != nil {
		return err
	}
	m.stack = s
	o := m.load.opts
	o.APIURL = s.URLs()["api"]
	o.Token = func(_ context.Context, a load.Applicant) (string, error) {
		return s.OIDC.TokenFor(a.TaxNumber, a.Name, a.BirthDate)
	}
	paid := &paidRecords{Records: &load.FreshTokenRecords{Records: &load.APIRecords{URL: o.APIURL, Token: o.Token}}}
	if m.load.reconcile {
		prefix := "arn:aws:states:local:000000000000:stateMachine:"
		o.Check = &load.Reconciler{
			Records:    paid,
			Executions: &load.SFNExecutions{Client: sfn.NewFromConfig(s.AWSConfig()), MachineARN: func(svc string) string { return prefix + svc }},
			Timeout:    m.load.drain,
		}
		o.AfterBurst = func() { waitDrained(ctx, s, o.Service, m.load.drain, 30*time.Second, m.Stdout) }
	}
	res, err := load.Run(ctx, o, m.Stdout)
	if res != nil {
		// The treasury's own count is the check that nobody was paid
		// twice: it counts payments executed, not requests (a replayed
		// Idempotency-Key does not pay again).
		tr := s.Registries.Stats("treasury")
		fmt.Fprintf(m.Stdout, "treasury: %d payments executed, %d replays answered from the idempotency store\n", s.Registries.EffectivePayments(), tr.Replays)
	}
	if err != nil {
		return err
	}
	// Records are read after the drain, so every paid application is
	// `done`: as many payments as paid applications means none twice.
	// (A reused data directory may hold earlier runs' executions that
	// resume and pay in this process: then the counts are only shown.)
	if m.load.reconcile {
		n := int(paid.done.Load())
		fmt.Fprintf(m.Stdout, "payout: %d applications paid (status done), %d treasury payments\n", n, s.Registries.EffectivePayments())
		if n != s.Registries.EffectivePayments() && m.load.data == "" {
			return fmt.Errorf("load: %d applications paid but %d treasury payments", n, s.Registries.EffectivePayments())
		}
	}
	if m.load.json != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(m.load.json, b, 0o644); err != nil {
			return err
		}
	}
	if r := res.Reconcile; r != nil && (r.MissingRecords > 0 || r.DuplicateIDs > 0 || r.DoubleApplied > 0 || r.NoExecution > 0) {
		return fmt.Errorf("load: reconciliation found problems: %+v", *r)
	}
	return nil
}

// paidRecords counts the records read whose application is done (for
// lockdown-payout: paid).
type paidRecords struct {
	load.Records
	done atomic.Int64
}

func (p *paidRecords) Get(ctx context.Context, a load.Accepted) (*posluha.Application, error) {
	app, err := p.Records.Get(ctx, a)
	if err == nil && app.Status == posluha.StatusDone {
		p.done.Add(1)
	}
	return app, err
}

// runQueueReplay moves the submissions that ended in the dead-letter queue
// back to the queue, once their cause is fixed.
func (m *Main) runQueueReplay(ctx context.Context) error {
	c := sqs.NewFromConfig(awsConfigFor(m.replay.endpoint))
	url := func(name string) (string, error) {
		out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
		if err != nil {
			return "", fmt.Errorf("queue %s: %w", name, err)
		}
		return *out.QueueUrl, nil
	}
	dlq, err := url(m.replay.dlq)
	if err != nil {
		return err
	}
	q, err := url(m.replay.queue)
	if err != nil {
		return err
	}
	n, err := dispatcher.Replay(ctx, c, dlq, q)
	fmt.Fprintf(m.Stdout, "moved %d messages from %s to %s\n", n, m.replay.dlq, m.replay.queue)
	return err
}

type replayOptions struct{ endpoint, queue, dlq string }

func (m *Main) parseQueue(args []string) error {
	if len(args) == 0 || args[0] != "replay" {
		return errors.New("usage: posluha queue replay [--endpoint URL] [--queue NAME] [--dlq NAME]")
	}
	fs := flag.NewFlagSet("queue replay", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.replay.endpoint, "endpoint", "http://127.0.0.1:4566", "the SQS endpoint (the local stack's AWS endpoint)")
	fs.StringVar(&m.replay.queue, "queue", "applications", "the submissions queue")
	fs.StringVar(&m.replay.dlq, "dlq", "applications-dlq", "its dead-letter queue")
	return fs.Parse(args[1:])
}

// awsConfigFor is the SDK configuration for a local endpoint.
func awsConfigFor(endpoint string) aws.Config {
	return aws.Config{Region: "local", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}
