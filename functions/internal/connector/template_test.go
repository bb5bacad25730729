package connector

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

const goodTemplate = `id: drrp.realty-rights
title: Речові права на нерухоме майно
protocol: xroad-rest
endpoint: http://127.0.0.1:8089
endpointEnv: POSLUHA_REGISTRY_URL
client: UA/GOV/43220275/POSLUHA
service: UA/GOV/00015622/DRRP/realtyRights
path: /{taxNumber}
request: '{"taxNumber": taxNumber}'
response: properties
timeout: 3s
rateLimit: {perSecond: 50, burst: 10}
concurrency: 8
`

func TestParseGood(t *testing.T) {
	ts, err := Parse("connectors/drrp.yaml", []byte(goodTemplate))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tp := ts[0]
	if tp.Registry != "drrp" || tp.Method != "GET" || tp.TimeoutDuration().String() != "3s" {
		t.Errorf("Parse = registry %q method %q timeout %s, want drrp GET 3s", tp.Registry, tp.Method, tp.TimeoutDuration())
	}
	if got := tp.Limits(); got != (Limits{PerSecond: 50, Burst: 10, Concurrency: 8}) {
		t.Errorf("Limits = %+v", got)
	}
}

// TestParseBad checks that every bad template names file:line:col and the
// problem.
func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // substring of the error, starting with the position
	}{
		{"syntax", "id: a\nprotocol: [rest\n", "t.yaml:2:"},
		{"unknown field", "id: a.b\nprotocol: rest\nendpoint: http://x\nrtimeout: 3s\n", "t.yaml:4:1: unknown field \"rtimeout\""},
		{"retries", "id: a.b\nprotocol: rest\nendpoint: http://x\nretries: 3\n", "t.yaml:4:1: unknown field \"retries\": retries belong to the state machine"},
		{"missing id", "protocol: rest\nendpoint: http://x\n", "t.yaml:1:1: id: is required"},
		{"bad id", "id: Drrp Owners\nprotocol: rest\nendpoint: http://x\n", "t.yaml:1:5: id: \"Drrp Owners\""},
		{"unknown protocol", "id: a\nprotocol: soap\nendpoint: http://x\n", "t.yaml:2:11: protocol: unknown protocol \"soap\""},
		{"bad endpoint", "id: a\nprotocol: rest\nendpoint: ftp://x\n", "t.yaml:3:11: endpoint: \"ftp://x\": want an http or https URL"},
		{"endpoint credentials", "id: a\nprotocol: rest\nendpoint: http://u:p@x\n", "t.yaml:3:11: endpoint: credentials"},
		{"no endpoint", "id: a\nprotocol: rest\n", "t.yaml:1:1: endpoint: is required"},
		{"client parts", "id: a\nprotocol: xroad-rest\nendpoint: http://x\nclient: UA/GOV\nservice: UA/GOV/1/S/svc\n", "t.yaml:4:9: client: \"UA/GOV\" has 2 parts"},
		{"service missing", "id: a\nprotocol: uxp-rest\nendpoint: http://x\nclient: UA/GOV/1/C\n", "service: is required for uxp-rest"},
		{"timeout", "id: a\nprotocol: rest\nendpoint: http://x\ntimeout: 5 sec\n", "t.yaml:4:10: timeout: \"5 sec\" is not a duration"},
		{"rate", "id: a\nprotocol: rest\nendpoint: http://x\nrateLimit:\n  perSecond: -1\n", "t.yaml:5:14: rateLimit.perSecond: must be positive"},
		{"rate type", "id: a\nprotocol: rest\nendpoint: http://x\nrateLimit:\n  perSecond: fast\n", "t.yaml:5:14:"},
		{"pem inline", "id: a\nprotocol: rest\nendpoint: https://x\ntls:\n  cert: \"-----BEGIN CERTIFICATE-----\"\n  key: env:K\n", "t.yaml:5:9: tls.cert: holds PEM material"},
		{"tls ref", "id: a\nprotocol: rest\nendpoint: https://x\ntls:\n  ca: /etc/ca.pem\n", "t.yaml:5:7: tls.ca: \"/etc/ca.pem\": want env:NAME or file:PATH"},
		{"soap missing", "id: a\nprotocol: xroad-soap\nendpoint: http://x\nclient: UA/GOV/1/C\nservice: UA/GOV/1/S/svc/v1\n", "soap: is required for xroad-soap"},
		{"soap operation", "id: a\nprotocol: xroad-soap\nendpoint: http://x\nclient: UA/GOV/1/C\nservice: UA/GOV/1/S/svc/v1\nsoap:\n  namespace: urn:x\n  operation: 'get owners'\n", "t.yaml:8:14: soap.operation:"},
		{"soap get", "id: a\nprotocol: xroad-soap\nendpoint: http://x\nclient: UA/GOV/1/C\nservice: UA/GOV/1/S/svc/v1\nmethod: GET\nsoap: {namespace: 'urn:x', operation: op}\n", "t.yaml:6:9: method: xroad-soap calls are POST"},
		{"write get", "id: a\nprotocol: rest\nendpoint: http://x\nwrite: true\nmethod: get\n", "method: a write cannot be GET"},
		{"path", "id: a\nprotocol: rest\nendpoint: http://x\npath: owners/{tax number}\n", "t.yaml:4:7: path: must start with '/'"},
		{"path query", "id: a\nprotocol: rest\nendpoint: http://x\npath: /owners?x=1\n", "path: must not hold a query"},
		{"not a mapping", "- id: a\n", "t.yaml:1:1: a connector template is a mapping"},
		{"empty", "", "t.yaml:1:1: no connector template in file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse = nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tc.want)
			}
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Errorf("Parse error %T is not a *TemplateError", err)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("t.yaml", []byte("id: a\nprotocol: rest\nendpoint: ftp://x\ntimeout: soon\nconcurrency: -1\n"))
	if err == nil {
		t.Fatal("Parse = nil error")
	}
	for _, want := range []string{"t.yaml:3:11: endpoint", "t.yaml:4:10: timeout", "t.yaml:5:14: concurrency"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"c/drrp.yaml":     {Data: []byte(goodTemplate)},
		"c/dup.yaml":      {Data: []byte(strings.Replace(goodTemplate, "concurrency: 8", "concurrency: 8", 1))},
		"c/limits.yml":    {Data: []byte("id: drrp.other\nprotocol: rest\nendpoint: http://x\nconcurrency: 3\n")},
		"c/README.md":     {Data: []byte("not a template")},
		"c/ok/inner.yaml": {Data: []byte("nonsense: [")},
	}
	_, err := LoadFS(fsys, "c")
	if err == nil {
		t.Fatal("LoadFS = nil error, want duplicate id and conflicting limits")
	}
	for _, want := range []string{
		"c/dup.yaml:1:5: id: duplicate connector id \"drrp.realty-rights\", first defined in c/drrp.yaml",
		"c/limits.yml:4:14: concurrency: registry \"drrp\" limits differ",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFS error %q lacks %q", err, want)
		}
	}
	delete(fsys, "c/dup.yaml")
	delete(fsys, "c/limits.yml")
	ts, err := LoadFS(fsys, "c")
	if err != nil || len(ts) != 1 {
		t.Fatalf("LoadFS = %d templates, %v; want 1, nil", len(ts), err)
	}
}

func TestParseEmbedded(t *testing.T) {
	service := `id: housing-aid
title: {uk: Допомога на житло, en: Housing aid}
connectorTemplates:
  - id: housing.registry
    protocol: rest
    endpoint: http://127.0.0.1:8089/rest/housing
  - id: housing.bad
    protocol: rest
    endpoint: http://x
    timeout: forever
`
	_, err := ParseEmbedded("statemachines/housing-aid/service.yaml", []byte(service), "$.connectorTemplates")
	if err == nil || !strings.Contains(err.Error(), "statemachines/housing-aid/service.yaml:10:14: timeout:") {
		t.Fatalf("ParseEmbedded error = %v, want a position in service.yaml", err)
	}
	ts, err := ParseEmbedded("service.yaml", []byte(strings.Replace(service, "forever", "2s", 1)), "$.connectorTemplates")
	if err != nil || len(ts) != 2 || ts[1].ID != "housing.bad" {
		t.Fatalf("ParseEmbedded = %d templates, %v", len(ts), err)
	}
	if ts, err := ParseEmbedded("service.yaml", []byte("id: x\n"), "$.connectorTemplates"); err != nil || ts != nil {
		t.Errorf("ParseEmbedded without templates = %v, %v; want none", ts, err)
	}
}
