package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/stack"
)

type serveOptions struct {
	cfg      stack.Config
	logLevel string
}

func (m *Main) parseServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	o := &m.serve
	fs.StringVar(&o.cfg.DataDir, "data", "data", "data directory (executions, tables, queues, objects)")
	fs.StringVar(&o.cfg.Addr, "addr", "127.0.0.1:4566", "AWS-compatible endpoint (Step Functions, DynamoDB, SQS) for AWS_ENDPOINT_URL")
	fs.StringVar(&o.cfg.RegistriesAddr, "registries-addr", "127.0.0.1:8089", "simulated Trembita security server")
	fs.StringVar(&o.cfg.APIAddr, "api-addr", "127.0.0.1:8080", "citizen API behind the local API gateway")
	fs.StringVar(&o.cfg.OIDCAddr, "oidc-addr", "127.0.0.1:8081", "OIDC provider (test citizens, device-flow login)")
	fs.StringVar(&o.cfg.StateMachines, "statemachines", "statemachines", "service folders to compile and deploy")
	fs.DurationVar(&o.cfg.Watch, "watch", time.Second, "redeploy changed services this often (0: never)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	return fs.Parse(args)
}

func (m *Main) runServe(ctx context.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.serve.logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := m.serve.cfg
	cfg.Logger = log
	s, err := stack.Open(ctx, cfg)
	if err != nil {
		return err
	}
	m.stack = s
	fmt.Fprintln(m.Stdout, "Posluha local stack is running. Ctrl-C stops it.")
	urls := s.URLs()
	names := make([]string, 0, len(urls))
	for n := range urls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(m.Stdout, "  %-12s %s\n", n, urls[n])
	}
	for _, svc := range s.Deployer.Services() {
		fmt.Fprintf(m.Stdout, "  service      %s (version %d) %s\n", svc.ID, svc.Version, svc.MachineARN)
	}
	if c := registries.Citizens(); len(c) > 0 {
		token, err := s.OIDC.TokenFor(c[0].TaxNumber, c[0].FullName(), c[0].BirthDate)
		if err == nil {
			fmt.Fprintf(m.Stdout, "  test citizen %s (РНОКПП %s); a token for the API, valid 15 minutes:\n    %s\n", c[0].FullName(), c[0].TaxNumber, token)
		}
	}
	fmt.Fprintf(m.Stdout, "  try: curl %s/services\n", urls["api"])
	fmt.Fprintf(m.Stdout, "       aws stepfunctions list-state-machines --endpoint-url %s\n", urls["aws"])
	<-ctx.Done()
	fmt.Fprintln(m.Stdout, "shutting down")
	return nil
}
