package signer_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/pdfgen"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/lambdarun"
	"github.com/posluha/posluha/local/s3"
	"github.com/posluha/posluha/local/signer"
)

// engineTasks completes tasks in the local engine (the Tasks the sign
// function gets in the local stack).
type engineTasks struct{ e *engine.Engine }

func (t engineTasks) SendTaskSuccess(ctx context.Context, token, output string) error {
	return t.e.SendTaskSuccess(ctx, token, output)
}

// TestEPropyskaCoOwnersSign runs the compiled e-Propyska process in the
// local engine with the real sign and pdfgen handlers (registries and the
// event service answer canned data): two co-owners get signing requests
// from the multi-instance task, sign in reverse order through the
// simulated app, the process continues and issues the certificate.
func TestEPropyskaCoOwnersSign(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	env, err := signer.Env(filepath.Join(dir, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca, err := signer.Open(filepath.Join(dir, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store, err := s3.New(filepath.Join(dir, "s3"), s3.Options{Buckets: []string{"documents"}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(store.Handler())
	defer srv.Close()
	cfg := aws.Config{Region: "local", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	env["DOCUMENTS_BUCKET"], env["S3_PATH_STYLE"], env["TEMPLATES_DIR"] = "documents", "true", "../../statemachines"
	env["SIGN_DB"] = filepath.Join(dir, "sign.db")
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)

	runner := lambdarun.New()
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Invoker: &engine.Router{Lambda: runner}})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	pdf, err := pdfgen.WireConfig(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	deps, err := sign.WireDeps(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	deps.Tasks = engineTasks{eng} // the stack's Step Functions is its engine
	signing := sign.New(deps)
	defer signing.Close()

	opened := make(chan sign.Opened, 4)
	open := signing.Lambda()
	runner.Register("sign", func(ctx context.Context, req posluha.TaskRequest) (sign.Opened, error) {
		out, err := open(ctx, req)
		if err == nil {
			opened <- out
		}
		return out, err
	})
	runner.Register("pdfgen", pdf.Lambda())
	applicant, coOwners := "1111111111", []string{"2222222222", "3333333333"}
	runner.Register("registryread", func(ctx context.Context, req posluha.TaskRequest) (map[string]any, error) {
		owners := []map[string]any{{"taxNumber": applicant, "name": "Заявник"}}
		for _, c := range coOwners {
			owners = append(owners, map[string]any{"taxNumber": c, "name": "Співвласник " + c})
		}
		return map[string]any{"owners": owners, "address": "м. Одеса, вул. Дерибасівська, 10"}, nil
	})
	runner.Register("eventwrite", func(ctx context.Context, req posluha.TaskRequest) (map[string]any, error) {
		return map[string]any{"recordId": "REC-" + req.Step, "registeredAt": "2026-11-26"}, nil
	})

	asl, err := os.ReadFile("../../statemachines/e-propyska/process.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	def := regexp.MustCompile(`\$\{([A-Za-z]+)FunctionArn\}`).ReplaceAllStringFunc(string(asl), func(m string) string {
		for _, f := range []string{"sign", "pdfgen", "registryread", "eventwrite"} {
			if m == "${"+posluha.SubstitutionName(f)+"}" {
				return posluha.LocalFunctionARN(f)
			}
		}
		t.Fatalf("unexpected substitution %s", m)
		return m
	})
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "e-propyska", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(map[string]any{"applicationId": "app-e2e", "service": "e-propyska",
		"citizen": map[string]any{"taxNumber": applicant, "name": "Заявник Тестовий", "age": 30},
		"form":    map[string]any{"reestrNum": "1234567", "tck": "Приморський РТЦК"}})
	x, err := eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: "app-e2e", Input: string(input)})
	if err != nil {
		t.Fatal(err)
	}

	app := &signer.App{CA: ca, Dir: filepath.Join(dir, "pki")}
	var requests []sign.Opened
	for range coOwners {
		select {
		case o := <-opened:
			requests = append(requests, o)
		case <-ctx.Done():
			t.Fatal("no signing requests opened")
		}
	}
	for i := len(requests) - 1; i >= 0; i-- { // in reverse order
		v, err := signing.View(ctx, requests[i].RequestID)
		if err != nil {
			t.Fatal(err)
		}
		der, err := app.Sign(ctx, v.Signer, v.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signing.Submit(ctx, v.RequestID, der); err != nil {
			t.Fatalf("submit %s: %v", v.RequestID, err)
		}
	}
	done, err := eng.Await(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s %s", done.Status, done.Error, done.Cause)
	}
	number := pdfgen.Number("EP", "app-e2e", "certificate", "certificate")
	if v, err := pdf.Verify(ctx, number); err != nil || !v.Genuine {
		t.Fatalf("certificate %s: %+v, %v", number, v, err)
	}
}
