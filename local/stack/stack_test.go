package stack

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/query/value"
)

// greetBPMN is a one-task service: a custom function greets the applicant.
const greetBPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="%ID%" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="greet" name="Greet">
      <bpmn:extensionElements><zeebe:taskDefinition type="custom.echo" /><zeebe:taskHeaders><zeebe:header key="salutation" value="%SALUTATION%" /></zeebe:taskHeaders></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="greet" />
    <bpmn:sequenceFlow id="f2" sourceRef="greet" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`

func writeService(t *testing.T, dir, id, salutation string) {
	t.Helper()
	src := strings.NewReplacer("%ID%", "Process_"+strings.ReplaceAll(id, "-", "_"), "%SALUTATION%", salutation).Replace(greetBPMN)
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id, "process.bpmn"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// echo stands for a service's own Lambda: it answers with the task's step and
// the salutation header, so the test sees the payload contract end to end.
func echo(_ context.Context, req posluha.TaskRequest) (map[string]any, error) {
	return map[string]any{"step": req.Step, "service": req.Service, "salutation": req.Arguments["salutation"], "app": req.ApplicationID}, nil
}

func openStack(t *testing.T, dir string) *Stack {
	t.Helper()
	return openStackEnv(t, dir, os.Getenv)
}

func openStackEnv(t *testing.T, dir string, getenv func(string) string) *Stack {
	t.Helper()
	s, err := Open(context.Background(), Config{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0", RegistriesAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0", StateMachines: dir,
		Functions: map[string]any{"echo": echo}, Getenv: getenv,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func run(t *testing.T, s *Stack, service, input string) *engine.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	x, err := s.Engine.StartExecution(ctx, engine.StartInput{MachineARN: s.Engine.MachineARN(service), Input: input})
	if err != nil {
		t.Fatal(err)
	}
	x, err = s.Engine.Await(ctx, x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestServicesCompileDeployAndRun(t *testing.T) {
	dir := t.TempDir()
	writeService(t, dir, "greeting", "Добрий день")
	s := openStack(t, dir)

	x := run(t, s, "greeting", `{"applicationId":"app-1","service":"greeting","citizen":"1234567890","form":{}}`)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s %s", x.Status, x.Error, x.Cause)
	}
	hist, err := s.Engine.History(context.Background(), x.ARN)
	if err != nil {
		t.Fatal(err)
	}
	var payload string
	for _, e := range hist {
		if e.Type == "TaskSucceeded" {
			payload = value.String(e.Details)
		}
	}
	for _, want := range []string{`"step":"greet"`, `"service":"greeting"`, `"salutation":"Добрий день"`, `"app":"app-1"`} {
		if !strings.Contains(payload, want) {
			t.Errorf("task result %s lacks %s", payload, want)
		}
	}

	// An analyst adds a folder and changes the first service: both are live
	// after the next sync, the change as a new version.
	writeService(t, dir, "second-service", "Вітаю")
	time.Sleep(10 * time.Millisecond) // a distinct mtime for the rewritten file
	writeService(t, dir, "greeting", "Слава Україні")
	os.Chtimes(filepath.Join(dir, "greeting", "process.bpmn"), time.Now().Add(time.Second), time.Now().Add(time.Second))
	ids, err := s.Deployer.Sync(context.Background())
	if err != nil || strings.Join(ids, ",") != "greeting,second-service" {
		t.Fatalf("Sync = %v, %v", ids, err)
	}
	if x := run(t, s, "second-service", `{"applicationId":"app-2"}`); x.Status != engine.StatusSucceeded {
		t.Fatalf("new service: %s %s", x.Status, x.Cause)
	}
	for _, svc := range s.Deployer.Services() {
		if svc.ID == "greeting" && svc.Version != 2 {
			t.Errorf("greeting version = %d, want 2", svc.Version)
		}
	}
}

func TestBrokenServiceDoesNotStopOthers(t *testing.T) {
	dir := t.TempDir()
	writeService(t, dir, "good", "hi")
	os.MkdirAll(filepath.Join(dir, "broken"), 0o755)
	os.WriteFile(filepath.Join(dir, "broken", "process.bpmn"), []byte("<bpmn:definitions"), 0o644)
	s := openStack(t, dir)
	if x := run(t, s, "good", `{"applicationId":"a"}`); x.Status != engine.StatusSucceeded {
		t.Fatalf("good service: %s", x.Status)
	}
	_, err := s.Deployer.Sync(context.Background())
	if err != nil {
		t.Fatalf("unchanged files are not recompiled, got %v", err)
	}
}

func TestPortTakenAndHealth(t *testing.T) {
	s := openStack(t, t.TempDir())
	_, err := Open(context.Background(), Config{DataDir: t.TempDir(), Addr: s.edgeAddr, RegistriesAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0", StateMachines: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "is taken") {
		t.Fatalf("second stack on the same port: %v", err)
	}
	resp, err := http.Get(s.URLs()["health"])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]string
	json.NewDecoder(resp.Body).Decode(&h)
	for _, c := range []string{"engine", "dynamodb", "sqs", "s3", "stepfunctions", "oidc", "api", "registries"} {
		if h[c] != "ok" {
			t.Errorf("health of %s = %q (all: %d %v)", c, h[c], resp.StatusCode, h)
		}
	}
}

const readBPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="fop-check" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="check" name="Статус ФОП">
      <bpmn:extensionElements><zeebe:taskDefinition type="registry.read" retries="0" /><zeebe:taskHeaders><zeebe:header key="connector" value="tax.fop-status" /></zeebe:taskHeaders>
      <zeebe:ioMapping><zeebe:input source="=citizen.taxNumber" target="taxNumber" /><zeebe:output source="=registered" target="isFop" /></zeebe:ioMapping></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:exclusiveGateway id="gw" default="f_no" />
    <bpmn:endEvent id="yes" />
    <bpmn:endEvent id="no" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression>=isFop</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="no" />
  </bpmn:process>
</bpmn:definitions>`

// TestRegistryReadThroughTheSimulator runs a BPMN registry.read task through
// the engine, the registryread Lambda, its connector and the simulated
// Trembita security server: the whole read path of the stack.
func TestRegistryReadThroughTheSimulator(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "fop-check"), 0o755)
	os.WriteFile(filepath.Join(dir, "fop-check", "process.bpmn"), []byte(readBPMN), 0o644)
	// The limiter AWS uses, shared through the stack's DynamoDB (the stack
	// itself defaults to the in-process one).
	s := openStackEnv(t, dir, func(k string) string {
		if k == "POSLUHA_LIMITER" {
			return "dynamodb"
		}
		return os.Getenv(k)
	})
	citizen := registries.Citizens()[0]
	x := run(t, s, "fop-check", `{"applicationId":"app-9","citizen":{"taxNumber":"`+citizen.TaxNumber+`"},"form":{}}`)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s %s", x.Status, x.Error, x.Cause)
	}
	hist, _ := s.Engine.History(context.Background(), x.ARN)
	var path []string
	for _, e := range hist {
		if e.Type == "SucceedStateEntered" || e.Type == "TaskSucceeded" {
			path = append(path, e.Type+":"+value.String(e.Details))
		}
	}
	if !strings.Contains(strings.Join(path, "\n"), `"registered"`) {
		t.Fatalf("registry answer missing from history: %v", path)
	}

	// The registry goes down: the read fails with the named error, which a
	// BPMN error boundary or Retry would match.
	s.Registries.SetDown("tax", true)
	x = run(t, s, "fop-check", `{"applicationId":"app-10","citizen":{"taxNumber":"`+citizen.TaxNumber+`"}}`)
	if x.Status != engine.StatusFailed || x.Error != "Registry.Unavailable" {
		t.Fatalf("outage: %s %s %s", x.Status, x.Error, x.Cause)
	}

	// Both reads are audited in the stack's DynamoDB, and the registry's
	// limits are kept there too (shared with eventwrite).
	db := dynamodb.NewFromConfig(s.AWSConfig())
	for app, outcome := range map[string]string{"app-9": "ok", "app-10": "Registry.Unavailable"} {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("posluha-read-audit"),
			KeyConditionExpression:    aws.String("applicationId = :a"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: app}}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("read audit of %s = %v, %v; want one record", app, out, err)
		}
		if got, _ := out.Items[0]["outcome"].(*types.AttributeValueMemberS); got == nil || got.Value != outcome {
			t.Errorf("read audit of %s: outcome %v, want %s", app, out.Items[0]["outcome"], outcome)
		}
	}
	lim, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("posluha-registry-limits"),
		Key: map[string]types.AttributeValue{"registry": &types.AttributeValueMemberS{Value: "tax"}}})
	if err != nil || lim.Item["tat"] == nil {
		t.Errorf("limits of tax = %v, %v; want the shared bucket", lim, err)
	}
}
