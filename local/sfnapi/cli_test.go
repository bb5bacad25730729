package sfnapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives the server with `aws stepfunctions --endpoint-url`
// when the AWS CLI is installed (skipped otherwise, and in -short mode:
// every call starts a Python interpreter).
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the AWS CLI")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no aws CLI in PATH")
	}
	s := newStack(t, stackConfig{})
	home := t.TempDir()
	command := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append([]string{"stepfunctions", "--endpoint-url", s.srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE="+home+"/config",
			"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=")
		return cmd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := command(ctx, args...).Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		var v map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws %s: %v in %s", args[0], err, out)
			}
		}
		return v
	}
	created := run("create-state-machine", "--name", "cli", "--definition", passMachine, "--role-arn", role)
	arn, _ := created["stateMachineArn"].(string)
	if !strings.HasSuffix(arn, ":stateMachine:cli") {
		t.Fatalf("create = %v", created)
	}
	started := run("start-execution", "--state-machine-arn", arn, "--name", "app-1", "--input", `{"applicationId":"app-1"}`)
	x, _ := started["executionArn"].(string)
	s.await(x)
	d := run("describe-execution", "--execution-arn", x)
	if d["status"] != "SUCCEEDED" || !strings.Contains(d["output"].(string), `"b":1`) {
		t.Errorf("describe = %v", d)
	}
	h := run("get-execution-history", "--execution-arn", x, "--max-items", "3")
	if evs, _ := h["events"].([]any); len(evs) != 3 || h["NextToken"] == nil {
		t.Errorf("history page = %v", h)
	}
	l := run("list-executions", "--state-machine-arn", arn, "--status-filter", "SUCCEEDED")
	if evs, _ := l["executions"].([]any); len(evs) != 1 {
		t.Errorf("list = %v", l)
	}
	v := run("validate-state-machine-definition", "--definition", `{"StartAt":"A","States":{}}`)
	if v["result"] != "FAIL" {
		t.Errorf("validate = %v", v)
	}
	express := run("create-state-machine", "--name", "quote", "--definition", passMachine, "--role-arn", role, "--type", "EXPRESS")
	// botocore prefixes the host with "sync-" unless told not to.
	sync := command(ctx, "start-sync-execution", "--state-machine-arn", express["stateMachineArn"].(string), "--input", `{"k":1}`)
	sync.Env = append(sync.Env, "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
	out, err := sync.Output()
	var res map[string]any
	if err != nil || json.Unmarshal(out, &res) != nil || res["status"] != "SUCCEEDED" {
		t.Errorf("start-sync-execution: %v %s", err, out)
	}
	// Errors reach the CLI by name.
	out, err = command(ctx, "describe-execution", "--execution-arn", x+"-nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "(ExecutionDoesNotExist)") {
		t.Errorf("unknown execution: %v %s", err, out)
	}
	run("delete-state-machine", "--state-machine-arn", arn)
}
