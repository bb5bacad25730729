// Package stack is the whole local/on-prem Posluha stack in one process:
// the Step Functions-compatible engine on a durable store, the Lambdas run
// in-process, the services compiled from statemachines/ and redeployed on
// change, and the HTTP endpoints that AWS SDKs and people use. `posluha
// serve` (make run) and the end-to-end tests both start it through Open.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/eventwrite"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/console"
	"github.com/posluha/posluha/local/dynamodb"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/lambdarun"
	"github.com/posluha/posluha/local/metrics"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/outbox"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/local/s3"
	"github.com/posluha/posluha/local/sfnapi"
	"github.com/posluha/posluha/local/sqs"
	"github.com/posluha/posluha/local/store"
)

// Config configures a stack. Zero values are the defaults `make run` uses.
type Config struct {
	DataDir string // default "data"
	Addr    string // the AWS-compatible edge endpoint; default 127.0.0.1:4566 ("127.0.0.1:0" in tests)
	// RegistriesAddr is the simulated Trembita security server; default
	// 127.0.0.1:8089, where connectors/*.yaml point by default.
	RegistriesAddr string
	// APIAddr is the citizen API (behind the local API gateway); default
	// 127.0.0.1:8080. OIDCAddr is the OIDC provider; default 127.0.0.1:8081.
	APIAddr       string
	OIDCAddr      string
	StateMachines string        // default "statemachines"
	Watch         time.Duration // poll statemachines/ for changes this often; 0 = no watching
	Logger        *slog.Logger
	Clock         engine.Clock
	// Functions adds Lambda handlers (function name → a handler that
	// aws-lambda-go accepts) to the built-in ones: a service's own custom
	// function, or a test double.
	Functions map[string]any
	// ResumeParked is how often writes parked by a registry outage are
	// retried; default 30s.
	ResumeParked time.Duration
	// Getenv reads the functions' configuration; os.Getenv when nil.
	Getenv func(string) string
}

// Stack is a running local stack.
type Stack struct {
	cfg      Config
	log      *slog.Logger
	Store    *store.DB
	Engine   *engine.Engine
	Lambdas  *lambdarun.Runner
	Deployer *Deployer

	Registries *registries.Sim
	DynamoDB   *dynamodb.Server
	SQS        *sqs.Server
	SFN        *sfnapi.Server
	OIDC       *oidc.Provider
	Console    *console.Local
	Metrics    *metrics.Metrics
	Outbox     *outbox.Outbox
	EventWrite *eventwrite.Handler
	S3         *s3.Store
	Sign       *sign.Handler
	PdfGen     *pdfgen.Handler

	edge     *http.Server
	edgeAddr string
	regSrv   *http.Server
	regAddr  string
	mux      *http.ServeMux
	health   map[string]func(context.Context) error
	closers  []func() error
	feed     *bus.Feed
	router   *engine.Router
	apps     posluha.Applications // the API's applications table, for the console's actions
	// httpClient is shared by the in-process functions' SDK clients; a
	// burst keeps hundreds of requests in flight to the edge.
	httpClient *http.Client
	idpSrv     *http.Server
	webSrv     *http.Server
	webAddr    string
	queueURL   string
	dlqURL     string
	pki        map[string]string

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Open starts every component; on error it closes what it had started.
func Open(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:4566"
	}
	if cfg.RegistriesAddr == "" {
		cfg.RegistriesAddr = "127.0.0.1:8089"
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = "127.0.0.1:8080"
	}
	if cfg.OIDCAddr == "" {
		cfg.OIDCAddr = "127.0.0.1:8081"
	}
	if cfg.ResumeParked <= 0 {
		cfg.ResumeParked = 30 * time.Second
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.StateMachines == "" {
		cfg.StateMachines = "statemachines"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{cfg: cfg, log: cfg.Logger, health: map[string]func(context.Context) error{},
		httpClient: &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Listen first: a taken port is the most common start-up failure and
	// should be reported before anything else is touched.
	edgeLn, err := listen("AWS endpoint", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s.edgeAddr = edgeLn.Addr().String()
	s.edge = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	regLn, err := listen("simulated registries", cfg.RegistriesAddr)
	if err != nil {
		edgeLn.Close()
		return nil, err
	}
	s.regAddr = regLn.Addr().String()
	s.Registries = registries.New(registries.Options{})
	s.regSrv = &http.Server{Handler: s.Registries.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.serve(s.regSrv, regLn)

	// The AWS-compatible services first, behind the edge, so that the
	// functions can reach them through the real SDKs when they are wired.
	if s.Store, err = store.Open(filepath.Join(cfg.DataDir, "engine.db"), store.Options{}); err != nil {
		edgeLn.Close()
		return nil, err
	}
	// Every save the engine makes also feeds the status bus (EventBridge's
	// shape), which the support console's projection and the metrics
	// read: neither ever polls execution histories.
	if s.Console, err = console.OpenLocal(filepath.Join(cfg.DataDir, "console"), cfg.Logger); err != nil {
		edgeLn.Close()
		return nil, err
	}
	s.feed = s.Console.Feed(s.Store)
	s.Metrics = metrics.New()
	s.Console.Bus.Subscribe("metrics", s.Metrics.BusHandler())
	s.Lambdas = lambdarun.New()
	s.router = &engine.Router{Lambda: s.Lambdas, Integrations: s.integrations()}
	s.Engine = engine.New(engine.Config{
		Store:   s.feed,
		Clock:   cfg.Clock,
		Invoker: s.router,
		Region:  "local",
		Account: "000000000000",
		Logger:  cfg.Logger,
	})
	if s.DynamoDB, err = dynamodb.New(filepath.Join(cfg.DataDir, "dynamodb"), dynamodb.Options{Logger: cfg.Logger}); err != nil {
		edgeLn.Close()
		return nil, err
	}
	if s.SQS, err = sqs.New(filepath.Join(cfg.DataDir, "sqs"), sqs.Options{Logger: cfg.Logger, Region: "local", BaseURL: "http://" + s.edgeAddr}); err != nil {
		edgeLn.Close()
		return nil, err
	}
	if s.S3, err = s3.New(filepath.Join(cfg.DataDir, "s3"), s3.Options{Buckets: []string{documentsBucket}}); err != nil {
		edgeLn.Close()
		return nil, err
	}
	s.SFN = sfnapi.New(s.Engine, sfnapi.Options{Logger: cfg.Logger, Tokens: s.Store, TestInvoker: s.router})
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /health", s.serveHealth)
	s.mux.Handle("/", s.edgeHandler())
	s.edge.Handler = s.mux
	s.serve(s.edge, edgeLn)
	s.health["engine"] = func(ctx context.Context) error {
		_, err := s.Engine.ListMachines(ctx)
		return err
	}

	// Then the functions, then the engine starts running (and resumes the
	// executions a previous run left), then the services are deployed.
	if err := s.registerFunctions(ctx); err != nil {
		return nil, err
	}
	for name, h := range cfg.Functions {
		s.Lambdas.Register(name, h)
	}
	if err := s.Console.Start(ctx); err != nil {
		return nil, err
	}
	if err := s.Engine.Start(ctx); err != nil {
		return nil, err
	}
	s.Deployer = &Deployer{Engine: s.Engine, Dir: cfg.StateMachines, Functions: s.Lambdas.Functions()}
	if _, err := s.Deployer.Sync(ctx); err != nil {
		// A broken service must not keep the others from running.
		s.log.Error("deploy services", "err", err)
	}

	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	if err := s.startWeb(ctx, lctx); err != nil {
		return nil, err
	}
	if err := s.mountConsole(); err != nil {
		return nil, err
	}
	s.mountPublic()
	s.addHealthChecks()
	s.wg.Add(1)
	go s.resumeParked(lctx, cfg.ResumeParked)
	if cfg.Watch > 0 {
		s.wg.Add(1)
		go s.watch(lctx, cfg.Watch)
	}
	return s, nil
}

func listen(what, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, errAddrInUse) || strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("%s: port %s is taken by another program; stop it or choose another address", what, addr)
		}
		return nil, fmt.Errorf("%s: listen on %s: %w", what, addr, err)
	}
	return ln, nil
}

func (s *Stack) serve(srv *http.Server, ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// edgeHandler routes AWS JSON-protocol requests by their X-Amz-Target
// prefix, so one endpoint serves every service, like AWS_ENDPOINT_URL
// pointing at a single LocalStack edge port.
func (s *Stack) edgeHandler() http.Handler {
	s3h := s.S3.Handler()
	routes := map[string]http.Handler{
		"AWSStepFunctions":  s.SFN.Handler(),
		"DynamoDB_20120810": s.DynamoDB.Handler(),
		"AmazonSQS":         s.SQS.Handler(),
		"AWSEvents":         s.Console.Bus.Handler(), // PutEvents onto the status bus
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		prefix, _, _ := strings.Cut(target, ".")
		if h, ok := routes[prefix]; ok {
			h.ServeHTTP(w, r)
			return
		}
		// The SQS query protocol (older SDKs, the AWS CLI v1) posts a form
		// with an Action instead of a target header.
		if target == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			s.SQS.Handler().ServeHTTP(w, r)
			return
		}
		// Everything else without a target is S3's REST protocol (path style).
		if target == "" {
			s3h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"no local service for X-Amz-Target %q"}`, target)
	})
}

func (s *Stack) watch(ctx context.Context, every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ids, err := s.Deployer.Sync(ctx)
			for _, id := range ids {
				s.log.Info("service redeployed", "service", id)
			}
			if err != nil {
				s.log.Error("redeploy", "err", err)
			}
		}
	}
}

// URLs returns what a person needs to reach each component.
func (s *Stack) URLs() map[string]string {
	return map[string]string{
		"aws":        "http://" + s.edgeAddr,
		"health":     "http://" + s.edgeAddr + "/health",
		"registries": "http://" + s.regAddr,
		"outbox":     "http://" + s.edgeAddr + "/outbox",
		"api":        "http://" + s.webAddr,
		"oidc":       s.OIDC.Issuer(),
		"console":    "http://" + s.edgeAddr + "/console/",
		"metrics":    "http://" + s.edgeAddr + "/metrics",
		"verify":     "http://" + s.edgeAddr + "/verify/{number}",
	}
}

func (s *Stack) serveHealth(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(s.health))
	for n := range s.health {
		names = append(names, n)
	}
	sort.Strings(names)
	status := http.StatusOK
	var b strings.Builder
	b.WriteString("{")
	for i, n := range names {
		state := "ok"
		if err := s.health[n](r.Context()); err != nil {
			state, status = "down", http.StatusServiceUnavailable
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", n, state)
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// Close stops every component, waiting for in-flight work to park.
func (s *Stack) Close() error {
	if s.stop != nil {
		s.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{s.webSrv, s.idpSrv, s.edge, s.regSrv} {
		if srv != nil {
			srv.Shutdown(ctx)
		}
	}
	s.wg.Wait()
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	if s.Engine != nil {
		errs = append(errs, s.Engine.Close())
	}
	if s.Console != nil { // after the engine's last save, before the store
		errs = append(errs, s.Console.Close())
	}
	if s.SQS != nil {
		errs = append(errs, s.SQS.Close())
	}
	if s.DynamoDB != nil {
		errs = append(errs, s.DynamoDB.Close())
	}
	if s.S3 != nil {
		errs = append(errs, s.S3.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}
