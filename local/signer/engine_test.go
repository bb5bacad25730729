package signer_test

import (
	"context"
	"encoding/json"
	"errors"
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

// engineTasks completes tasks in the local engine, mapping a gone token to
// Signature.Expired as sign.SFN does for the Step Functions API.
type engineTasks struct{ e *engine.Engine }

func (t engineTasks) SendTaskSuccess(ctx context.Context, token, output string) error {
	err := t.e.SendTaskSuccess(ctx, token, output)
	var ae *engine.APIError
	if errors.As(err, &ae) && (ae.Code == "TaskDoesNotExist" || ae.Code == "TaskTimedOut" || ae.Code == "InvalidToken") {
		return posluha.Errorf(posluha.ErrSignatureExpired, "the process no longer waits for this signature")
	}
	return err
}

// ePropyska is the e-Propyska process in a local engine with the real sign
// and pdfgen handlers; registries and the event service answer canned
// data (eventwrite records the steps it ran).
type ePropyska struct {
	eng      *engine.Engine
	signing  *sign.Handler
	pdf      *pdfgen.Handler
	app      *signer.App
	opened   chan sign.Opened
	events   chan string
	coOwners []string
	x        *engine.Execution
}

func startEPropyska(t *testing.T, ctx context.Context, clock engine.Clock) *ePropyska {
	t.Helper()
	dir := t.TempDir()
	now := clock.Now()
	env, err := signer.Env(filepath.Join(dir, "pki"), now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := signer.Open(filepath.Join(dir, "pki"), now)
	if err != nil {
		t.Fatal(err)
	}
	store, err := s3.New(filepath.Join(dir, "s3"), s3.Options{Buckets: []string{"documents"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(store.Handler())
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "local", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	env["DOCUMENTS_BUCKET"], env["S3_PATH_STYLE"], env["TEMPLATES_DIR"] = "documents", "true", "../../statemachines"
	env["SIGN_DB"] = filepath.Join(dir, "sign.db")
	getenv := func(k string) string { return env[k] }
	log := slog.New(slog.DiscardHandler)

	runner := lambdarun.New()
	_, virtual := clock.(*engine.VirtualClock)
	eng := engine.New(engine.Config{Store: engine.NewMemStore(), Invoker: &engine.Router{Lambda: runner}, Clock: clock, AutoAdvance: virtual})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })

	pdf, err := pdfgen.Wire(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	deps, err := sign.WireDeps(ctx, cfg, log, getenv)
	if err != nil {
		t.Fatal(err)
	}
	deps.Tasks = engineTasks{eng} // the stack's Step Functions is its engine
	deps.Now = clock.Now
	signing := sign.New(deps)
	t.Cleanup(func() { signing.Close() })

	p := &ePropyska{eng: eng, signing: signing, pdf: pdf, app: &signer.App{CA: ca, Dir: filepath.Join(dir, "pki"), Now: clock.Now},
		opened: make(chan sign.Opened, 8), events: make(chan string, 32), coOwners: []string{"2222222222", "3333333333"}}
	open := signing.Lambda()
	runner.Register("sign", func(ctx context.Context, req posluha.TaskRequest) (sign.Opened, error) {
		out, err := open(ctx, req)
		if err == nil {
			p.opened <- out
		}
		return out, err
	})
	runner.Register("pdfgen", pdf.Lambda())
	applicant := "1111111111"
	runner.Register("registryread", func(ctx context.Context, req posluha.TaskRequest) (map[string]any, error) {
		owners := []map[string]any{{"taxNumber": applicant, "name": "Заявник"}}
		for _, c := range p.coOwners {
			owners = append(owners, map[string]any{"taxNumber": c, "name": "Співвласник " + c})
		}
		return map[string]any{"owners": owners, "address": "м. Одеса, вул. Дерибасівська, 10"}, nil
	})
	runner.Register("eventwrite", func(ctx context.Context, req posluha.TaskRequest) (map[string]any, error) {
		p.events <- req.Step
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
		t.Errorf("unexpected substitution %s", m)
		return m
	})
	m, err := eng.CreateMachine(ctx, engine.CreateMachineInput{Name: "e-propyska", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(map[string]any{"applicationId": "app-e2e", "service": "e-propyska",
		"citizen": map[string]any{"taxNumber": applicant, "name": "Заявник Тестовий", "age": 30},
		"form":    map[string]any{"reestrNum": "1234567", "tck": "Приморський РТЦК"}})
	p.x, err = eng.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: "app-e2e", Input: string(input)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// requests waits for the signing requests of every owner: the applicant
// and the co-owners all sign their consent.
func (p *ePropyska) requests(t *testing.T, ctx context.Context) []sign.View {
	t.Helper()
	var out []sign.View
	for range len(p.coOwners) + 1 {
		select {
		case o := <-p.opened:
			v, err := p.signing.View(ctx, o.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		case <-ctx.Done():
			t.Fatal("no signing requests opened")
		}
	}
	return out
}

func (p *ePropyska) steps() map[string]bool {
	seen := map[string]bool{}
	for {
		select {
		case s := <-p.events:
			seen[s] = true
		default:
			return seen
		}
	}
}

// TestEPropyskaCoOwnersSign: the applicant and two co-owners get signing
// requests from the multi-instance task, sign in reverse order through the simulated app,
// the process continues and issues the certificate.
func TestEPropyskaCoOwnersSign(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := startEPropyska(t, ctx, engine.RealClock{})
	reqs := p.requests(t, ctx)
	for i := len(reqs) - 1; i >= 0; i-- {
		der, err := p.app.Sign(ctx, reqs[i].Signer, reqs[i].Hash)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.signing.Submit(ctx, reqs[i].RequestID, der); err != nil {
			t.Fatalf("submit %s: %v", reqs[i].RequestID, err)
		}
	}
	done, err := p.eng.Await(ctx, p.x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s %s", done.Status, done.Error, done.Cause)
	}
	if steps := p.steps(); !steps["notify_done"] || steps["reject_no_consent"] {
		t.Errorf("steps = %v, want the registration path", steps)
	}
	number := pdfgen.Number("EP", "app-e2e", "certificate", "certificate")
	if v, err := p.pdf.Verify(ctx, number); err != nil || !v.Genuine {
		t.Fatalf("certificate %s: %+v, %v", number, v, err)
	}
}

// TestEPropyskaConsentDeadline: nobody signs; the engine's virtual clock
// jumps to the BPMN timer (30 days), which rejects the application, and a
// late signature is Signature.Expired.
func TestEPropyskaConsentDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clock := engine.NewVirtualClock(time.Now())
	p := startEPropyska(t, ctx, clock)
	reqs := p.requests(t, ctx)
	done, err := p.eng.Await(ctx, p.x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if steps := p.steps(); done.Status != "SUCCEEDED" || !steps["reject_no_consent"] || steps["notify_done"] {
		t.Fatalf("execution %s, steps %v: want the no-consent rejection", done.Status, steps)
	}
	late, err := p.app.Sign(ctx, reqs[1].Signer, reqs[1].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.signing.Submit(ctx, reqs[1].RequestID, late); posluha.ErrorName(err) != posluha.ErrSignatureExpired {
		t.Fatalf("late signature = %v, want Signature.Expired", err)
	}
}
