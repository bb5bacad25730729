package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha/functions/console"
	"github.com/posluha/posluha/functions/console/support"
)

// get invokes the console Lambda with a payload 2.0 GET.
func get(t *testing.T, h *console.Handler, path string) (int, string, string) {
	t.Helper()
	resp, err := h.Lambda()(context.Background(), events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	body := resp.Body
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	return resp.StatusCode, resp.Headers["Content-Type"], body
}

// TestBPMNJSAssets: the function finds the bpmn-js folder make lambdas
// puts next to its bootstrap (LAMBDA_TASK_ROOT) and serves its files to
// the page without a session; nothing outside it, no listings; without
// the folder the page still works, without the diagram.
func TestBPMNJSAssets(t *testing.T) {
	root := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	if dir := console.BPMNJS(root, log); dir != "" || !strings.Contains(logs.String(), "no diagram") {
		t.Fatalf("BPMNJS without the folder = %q, log %s; want \"\" and a warning", dir, logs.String())
	}
	if dir := console.BPMNJS("", log); dir != "" {
		t.Fatalf(`BPMNJS("") = %q`, dir)
	}
	lib := filepath.Join(root, "bpmn-js")
	for name, data := range map[string]string{
		"bpmn-viewer.production.min.js":    "window.BpmnJS = function () {};",
		"assets/bpmn-js.css":               ".djs-container {}",
		"assets/bpmn-font/font/bpmn.woff2": "wOF2",
	} {
		p := filepath.Join(lib, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "secret.js"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := console.BPMNJS(root, log)
	if dir != lib {
		t.Fatalf("BPMNJS = %q, want %q", dir, lib)
	}
	h := console.New(support.Deps{BPMNJS: dir})
	for _, tc := range []struct {
		path   string
		status int
		ctype  string
		body   string
	}{
		{"/console/assets/bpmn-js/bpmn-viewer.production.min.js", 200, "javascript", "window.BpmnJS = function () {};"},
		{"/console/assets/bpmn-js/assets/bpmn-js.css", 200, "text/css", ".djs-container {}"},
		{"/console/assets/bpmn-js/assets/bpmn-font/font/bpmn.woff2", 200, "", "wOF2"},
		// The router answers a path with .. with a redirect to the cleaned
		// path, which is outside bpmn-js.
		{"/console/assets/bpmn-js/../secret.js", 307, "", ""},
		{"/console/assets/bpmn-js/%2e%2e/secret.js", 404, "", ""},
		{"/console/assets/bpmn-js/assets", 404, "", ""},
		{"/console/assets/bpmn-js/", 404, "", ""},
		{"/console/assets/bpmn-js/nope.js", 404, "", ""},
		{"/console/assets/console.js", 200, "javascript", ""}, // the page's own script, embedded
	} {
		status, ctype, body := get(t, h, tc.path)
		if status != tc.status || !strings.Contains(ctype, tc.ctype) || (tc.body != "" && body != tc.body) || body == "secret" {
			t.Errorf("GET %s = %d %q %.40q; want %d %q %q", tc.path, status, ctype, body, tc.status, tc.ctype, tc.body)
		}
	}
	if status, _, _ := get(t, console.New(support.Deps{}), "/console/assets/bpmn-js/bpmn-viewer.production.min.js"); status != 404 {
		t.Errorf("without bpmn-js: %d, want 404", status)
	}
}
