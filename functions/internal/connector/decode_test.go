package connector

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/query/value"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// rsp builds a response; msgID is the message id the request carried.
func rsp(status int, h http.Header, body []byte, msgID ...string) response {
	r := response{status: status, header: h, body: body}
	if len(msgID) > 0 {
		r.msgID = msgID[0]
	}
	return r
}

var jsonCT = hdr("Content-Type", "application/json; charset=utf-8")

func TestDecodeREST(t *testing.T) {
	tests := []struct {
		name string
		r    response
		want string // JSON of the value, or an error name
	}{
		{"ok", rsp(200, jsonCT, []byte(`{"a":[1,"б"]}`)), `{"a":[1,"б"]}`},
		{"no content", rsp(204, http.Header{}, nil), `null`},
		{"no content type", rsp(200, http.Header{}, []byte(`{"a":1}`)), `{"a":1}`},
		{"problem json", rsp(200, hdr("Content-Type", "application/problem+json"), []byte(`{}`)), `{}`},
		{"html", rsp(200, hdr("Content-Type", "text/html"), []byte(`<html>`)), posluha.ErrRegistryBadResponse},
		{"truncated", rsp(200, jsonCT, []byte(`{"a":[1,`)), posluha.ErrRegistryBadResponse},
		{"trailing garbage", rsp(200, jsonCT, []byte(`{"a":1}}`)), posluha.ErrRegistryBadResponse},
		{"404", rsp(404, jsonCT, []byte(`{"error":"not found"}`)), posluha.ErrRegistryNotFound},
		{"400", rsp(400, jsonCT, []byte(`{"error":"bad"}`)), posluha.ErrRegistryBadRequest},
		{"409", rsp(409, jsonCT, nil), posluha.ErrRegistryBadRequest},
		{"429", rsp(429, jsonCT, nil), posluha.ErrRegistryUnavailable},
		{"500", rsp(500, jsonCT, []byte(`{"error":"x"}`)), posluha.ErrRegistryUnavailable},
		{"503 html", rsp(503, hdr("Content-Type", "text/html"), []byte(`<h1>down`)), posluha.ErrRegistryUnavailable},
		{"redirect", rsp(302, hdr("Location", "http://elsewhere"), nil), posluha.ErrRegistryBadResponse},
		{"x-road server", rsp(500, hdr("X-Road-Error", "Server.ServerProxy.NetworkError"), []byte(`{"type":"Server.ServerProxy.NetworkError"}`)), posluha.ErrRegistryUnavailable},
		{"x-road client", rsp(400, hdr("X-Road-Error", "Client.InvalidClientIdentifier"), nil), posluha.ErrRegistryBadRequest},
		{"x-road client on 500", rsp(500, hdr("X-Road-Error", "Client.BadRequest"), nil), posluha.ErrRegistryBadRequest},
		{"x-road header wins over 200", rsp(200, hdr("X-Road-Error", "Server.ClientProxy.X"), []byte(`{}`)), posluha.ErrRegistryUnavailable},
		{"x-road odd code", rsp(500, hdr("X-Road-Error", "Weird"), nil), posluha.ErrRegistryBadResponse},
		{"uxp body server", rsp(503, jsonCT, []byte(`{"type":"Server.ServerProxy.ServiceUnavailable","message":"m"}`)), posluha.ErrRegistryUnavailable},
		{"uxp body client", rsp(500, jsonCT, []byte(`{"type":"Client.InvalidServiceIdentifier"}`)), posluha.ErrRegistryBadRequest},
		{"x-road id echoed", rsp(200, hdr("X-Road-Id", "m-1"), []byte(`{}`), "m-1"), `{}`},
		{"x-road id of another message", rsp(200, hdr("X-Road-Id", "m-2"), []byte(`{}`), "m-1"), posluha.ErrRegistryBadResponse},
		{"provider type field", rsp(400, jsonCT, []byte(`{"type":"validation"}`)), posluha.ErrRegistryBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeREST("c", tc.r)
			checkDecoded(t, got, err, tc.want)
		})
	}
}

func checkDecoded(t *testing.T, got any, err error, want string) {
	t.Helper()
	if strings.Contains(want, ".") && !strings.ContainsAny(want, "{[\"") {
		if posluha.ErrorName(err) != want {
			t.Errorf("decode = %s, %v; want %s", value.String(got), err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("decode error: %v", err)
	}
	if s := value.String(got); s != want {
		t.Errorf("decode = %s, want %s", s, want)
	}
}

const envOpen = `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><SOAP-ENV:Header><xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body>`
const envClose = `</SOAP-ENV:Body></SOAP-ENV:Envelope>`

func soapBody(s string) []byte { return []byte(envOpen + s + envClose) }

func withID(id, body string) []byte {
	return []byte(strings.Replace(envOpen, "<xrd:protocolVersion>", "<xrd:id>"+id+"</xrd:id><xrd:protocolVersion>", 1) + body + envClose)
}

func fault(code string) []byte {
	return soapBody(`<SOAP-ENV:Fault><faultcode>` + code + `</faultcode><faultstring>ПІБ Шевченко</faultstring></SOAP-ENV:Fault>`)
}

func TestDecodeSOAP(t *testing.T) {
	xmlCT := hdr("Content-Type", "text/xml")
	tests := []struct {
		name string
		r    response
		want string
	}{
		{"ok", rsp(200, xmlCT, soapBody(`<ns:opResponse xmlns:ns="urn:x"><name>Тарас</name><owners><n>1</n></owners><owners><n>2</n></owners><x xsi:nil="true"/></ns:opResponse>`)), `{"name":"Тарас","owners":[{"n":"1"},{"n":"2"}],"x":null}`},
		{"id echoed", rsp(200, xmlCT, withID("m-1", `<r/>`), "m-1"), `{}`},
		{"id of another message", rsp(200, xmlCT, withID("m-2", `<r/>`), "m-1"), posluha.ErrRegistryBadResponse},
		{"declared array of one", rsp(200, xmlCT, soapBody(`<r><coOwners><n>1</n></coOwners></r>`)), `{"coOwners":[{"n":"1"}]}`},
		{"empty response element", rsp(200, xmlCT, soapBody(`<ns:opResponse xmlns:ns="urn:x"/>`)), `{}`},
		{"server fault", rsp(500, xmlCT, fault("SOAP-ENV:Server.ServerProxy.ServiceFailed")), posluha.ErrRegistryUnavailable},
		{"client fault", rsp(500, xmlCT, fault("Client.InvalidTaxNumber")), posluha.ErrRegistryBadRequest},
		{"fault on 200", rsp(200, xmlCT, fault("Server.X")), posluha.ErrRegistryUnavailable},
		{"x-road header", rsp(500, hdr("X-Road-Error", "Server.ClientProxy.SslAuthenticationFailed"), []byte("oops")), posluha.ErrRegistryUnavailable},
		{"odd fault", rsp(500, xmlCT, fault("MustUnderstand")), posluha.ErrRegistryBadResponse},
		{"proxy error page", rsp(502, hdr("Content-Type", "text/html"), []byte("<html><body>Bad gateway</body></html>")), posluha.ErrRegistryUnavailable},
		{"truncated", rsp(200, xmlCT, soapBody(`<r><a>1</a>`)[:len(envOpen)+8]), posluha.ErrRegistryBadResponse},
		{"not soap", rsp(200, xmlCT, []byte(`<html/>`)), posluha.ErrRegistryBadResponse},
		{"json", rsp(200, jsonCT, []byte(`{"a":1}`)), posluha.ErrRegistryBadResponse},
		{"empty body", rsp(200, xmlCT, soapBody(``)), posluha.ErrRegistryBadResponse},
		{"dtd", rsp(200, xmlCT, []byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><x/>`)), posluha.ErrRegistryBadResponse},
		{"latin1", rsp(200, xmlCT, []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><x/>`)), posluha.ErrRegistryBadResponse},
		{"deep", rsp(200, xmlCT, soapBody(strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100))), posluha.ErrRegistryBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeSOAP("c", map[string]bool{"coOwners": true}, tc.r)
			checkDecoded(t, got, err, tc.want)
			if err != nil && strings.Contains(err.Error(), "Шевченко") {
				t.Errorf("error %q quotes the payload", err)
			}
		})
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	req := value.ObjectOf("taxNumber", "3111412139", "amount", 6500.5, "flags", []any{true, false}, "none", nil,
		"payer", value.ObjectOf("name", "Тарас <&>"))
	b, err := appendEnvelope(nil, soapHeader{
		client: []string{"UA", "GOV", "1", "POSLUHA"}, service: []string{"UA", "GOV", "2", "DRRP", "op", "v1"},
		id: "id-1", userID: "UA3111412139", issue: "app-1",
	}, "urn:x", "op", req)
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseXML(b)
	if err != nil {
		t.Fatalf("parse own envelope: %v\n%s", err, b)
	}
	h := root.child(nsSOAPEnv, "Header")
	if h == nil || h.child(nsXRoad, "protocolVersion").text.String() != "4.0" || h.child(nsXRoad, "issue").text.String() != "app-1" {
		t.Fatalf("header missing fields:\n%s", b)
	}
	if svc := h.child(nsXRoad, "service"); svc.child(nsIDs, "serviceVersion").text.String() != "v1" {
		t.Errorf("service version missing:\n%s", b)
	}
	env, err := decodeEnvelope(b)
	if err != nil || env.fault != nil || env.id != "id-1" {
		t.Fatalf("decodeEnvelope = %+v, %v; want a body and id id-1", env, err)
	}
	got := value.String(xmlToValue(env.body, nil))
	want := `{"taxNumber":"3111412139","amount":"6500.5","flags":["true","false"],"none":null,"payer":{"name":"Тарас <&>"}}`
	if got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	if _, err := appendEnvelope(nil, soapHeader{}, "urn:x", "op", value.ObjectOf("bad key", 1)); err == nil {
		t.Error("appendEnvelope accepted a key that is not an XML name")
	}
}

func TestLocalLimiterBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept []time.Duration
	l := NewLocalLimiter()
	l.Now = func() time.Time { return now }
	l.Sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}
	lim := Limits{PerSecond: 10, Burst: 2}
	for i := 0; i < 4; i++ {
		release, err := l.Acquire(context.Background(), "r", lim)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	if len(slept) != 2 || slept[0] != want[0] || slept[1] != want[1] {
		t.Errorf("waits = %v, want %v (burst of 2, then one per 100ms)", slept, want)
	}
	// A second later the bucket is full again: no wait.
	now = now.Add(time.Second)
	slept = nil
	if _, err := l.Acquire(context.Background(), "r", lim); err != nil || len(slept) != 0 {
		t.Errorf("after refill: waits %v, err %v", slept, err)
	}
	// A deadline closer than the next token fails at once and gives the token back.
	for i := 0; i < 2; i++ {
		l.Acquire(context.Background(), "r", lim)
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Millisecond))
	defer cancel()
	if _, err := l.Acquire(ctx, "r", lim); err == nil {
		t.Error("Acquire past the deadline succeeded")
	}
}

func TestLocalLimiterSlots(t *testing.T) {
	l := NewLocalLimiter()
	lim := Limits{Concurrency: 2}
	r1, _ := l.Acquire(context.Background(), "r", lim)
	r2, _ := l.Acquire(context.Background(), "r", lim)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Acquire(ctx, "r", lim); err == nil {
		t.Fatal("third slot granted with a cap of 2")
	}
	r1()
	r1() // releasing twice frees one slot only
	if _, err := l.Acquire(context.Background(), "r", lim); err != nil {
		t.Fatalf("slot after release: %v", err)
	}
	if _, err := l.Acquire(ctx, "r", lim); err == nil {
		t.Fatal("double release freed two slots")
	}
	r2()
}
