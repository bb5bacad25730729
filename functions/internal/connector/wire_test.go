package connector

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

type captured struct {
	req  *http.Request
	body string
}

// capture answers every request with status and body, keeping the request.
func capture(c *captured, status int, ct, body string) http.RoundTripper {
	return rt(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		c.req, c.body = r, string(b)
		h := http.Header{"Content-Type": {ct}}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body))), Request: r}, nil
	})
}

type rt func(*http.Request) (*http.Response, error)

func (f rt) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWire checks each dialect's request on the wire: URL, X-Road/UXP
// headers, idempotency key, body.
func TestWire(t *testing.T) {
	const common = "endpoint: https://ss.example/\nclient: UA/GOV/44444444/POSLUHA\nuserId: UAposluha\n"
	tests := []struct {
		name, src  string
		args       map[string]any
		key        string
		respCT     string
		resp       string
		wantURL    string
		wantHeader map[string]string
		wantBody   []string // substrings
	}{
		{
			name:   "xroad-rest GET",
			src:    "id: a.b\nprotocol: xroad-rest\n" + common + "service: UA/GOV/00015622/DRRP/realty rights\npath: /owners/{tax}\n",
			args:   map[string]any{"tax": "3111412139", "from": "2020-01-01", "kinds": []any{"квартира", "будинок"}},
			respCT: "application/json", resp: `{}`,
			wantURL: "https://ss.example/r1/UA/GOV/00015622/DRRP/realty%20rights/owners/3111412139?from=2020-01-01&kinds=%D0%BA%D0%B2%D0%B0%D1%80%D1%82%D0%B8%D1%80%D0%B0&kinds=%D0%B1%D1%83%D0%B4%D0%B8%D0%BD%D0%BE%D0%BA",
			wantHeader: map[string]string{"X-Road-Client": "UA/GOV/44444444/POSLUHA", "X-Road-Id": "msg-1", "X-Road-UserId": "UAposluha",
				"X-Road-Issue": "app-1", "Accept": "application/json", "Idempotency-Key": ""},
		},
		{
			name:   "xroad-rest write",
			src:    "id: a.b\nprotocol: xroad-rest\nwrite: true\n" + common + "service: UA/GOV/37567646/DKSU/payment\n",
			args:   map[string]any{"amount": 6500, "iban": "UA21"},
			key:    "app-1/Activity_pay",
			respCT: "application/json", resp: `{}`,
			wantURL:    "https://ss.example/r1/UA/GOV/37567646/DKSU/payment",
			wantHeader: map[string]string{"Idempotency-Key": "app-1/Activity_pay", "Content-Type": "application/json; charset=utf-8"},
			wantBody:   []string{`{"amount":6500,"iban":"UA21"}`},
		},
		{
			name:   "uxp-rest",
			src:    "id: a.b\nprotocol: uxp-rest\n" + common + "service: UA/GOV/37508470/DMS/residence/v1\npath: /uxp/{tax}\n",
			args:   map[string]any{"tax": "3471361001"},
			respCT: "application/json", resp: `{}`,
			wantURL: "https://ss.example/uxp/3471361001",
			wantHeader: map[string]string{"Uxp-Client": "UA/GOV/44444444/POSLUHA", "Uxp-Service": "UA/GOV/37508470/DMS/residence/v1",
				"Uxp-QueryID": "msg-1", "X-Road-Client": ""},
		},
		{
			name:   "xroad-soap",
			src:    "id: a.b\nprotocol: xroad-soap\nwrite: true\n" + common + "service: UA/GOV/37567646/DKSU/payment/v1\nsoap: {namespace: 'urn:dksu', operation: payment}\n",
			args:   map[string]any{"amount": 6500.5, "purpose": "<допомога & ще>"},
			key:    "app-1/Activity_pay",
			respCT: "text/xml", resp: `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><r/></e:Body></e:Envelope>`,
			wantURL:    "https://ss.example/",
			wantHeader: map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`, "Idempotency-Key": "app-1/Activity_pay"},
			wantBody: []string{
				`<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>44444444</id:memberCode><id:subsystemCode>POSLUHA</id:subsystemCode></xrd:client>`,
				`<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>37567646</id:memberCode><id:subsystemCode>DKSU</id:subsystemCode><id:serviceCode>payment</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>`,
				`<xrd:id>msg-1</xrd:id><xrd:userId>UAposluha</xrd:userId><xrd:issue>app-1</xrd:issue><xrd:protocolVersion>4.0</xrd:protocolVersion>`,
				`<ns:payment xmlns:ns="urn:dksu"><amount>6500.5</amount><purpose>&lt;допомога &amp; ще&gt;</purpose></ns:payment>`,
			},
		},
		{
			name:   "rest",
			src:    "id: a.b\nprotocol: rest\nendpoint: http://usr.example/api\npath: /entry/{code}\n",
			args:   map[string]any{"code": 41234567},
			respCT: "application/json", resp: `{}`,
			wantURL:    "http://usr.example/api/entry/41234567",
			wantHeader: map[string]string{"X-Road-Client": "", "Uxp-Client": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := Parse("t.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			var c captured
			set, err := New(ts, Options{RoundTripper: capture(&c, 200, tc.respCT, tc.resp), NewID: func() string { return "msg-1" }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := set.Call(context.Background(), "a.b", Args{ApplicationID: "app-1", Step: "s", Arguments: tc.args}, tc.key); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if got := c.req.URL.String(); got != tc.wantURL {
				t.Errorf("URL = %s\nwant  %s", got, tc.wantURL)
			}
			for k, v := range tc.wantHeader {
				if got := c.req.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, want := range tc.wantBody {
				if !strings.Contains(c.body, want) {
					t.Errorf("body lacks %s\nbody: %s", want, c.body)
				}
			}
		})
	}
}
