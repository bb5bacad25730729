package registries

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCitizens(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Citizens() {
		if !ValidTaxNumber(c.TaxNumber) {
			t.Errorf("%s: tax number %s is not a valid RNOKPP", c.FullName(), c.TaxNumber)
		}
		if seen[c.TaxNumber] {
			t.Errorf("duplicate tax number %s", c.TaxNumber)
		}
		seen[c.TaxNumber] = true
		// The ninth digit is odd for men and even for women.
		if male := (c.TaxNumber[8]-'0')%2 == 1; male != c.Male {
			t.Errorf("%s: sex digit of %s disagrees", c.FullName(), c.TaxNumber)
		}
		b, _ := time.Parse(time.DateOnly, c.BirthDate)
		if got := TaxNumber(b, 0, c.Male)[:5]; got != c.TaxNumber[:5] {
			t.Errorf("%s: birth date digits %s, want %s", c.FullName(), c.TaxNumber[:5], got)
		}
	}
}

func TestValidTaxNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"3111412139", true},
		{"3111412138", false},
		{"311141213", false},
		{"31114121390", false},
		{"311141213a", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := ValidTaxNumber(tc.in); got != tc.want {
			t.Errorf("ValidTaxNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, h map[string]string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var xclient = map[string]string{"X-Road-Client": "UA/GOV/44444444/POSLUHA", "X-Road-Id": "m-1"}

func TestXRoadREST(t *testing.T) {
	sim := New(Options{Seed: 1})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tax := Citizens()[0].TaxNumber
	tests := []struct {
		name, method, path string
		h                  map[string]string
		wantStatus         int
		wantErr            string // X-Road-Error
		wantBody           string // substring
	}{
		{"read", "GET", "/r1/UA/GOV/00015622/DRRP/realtyRights/" + tax, xclient, 200, "", `"share":"1/2"`},
		{"query arg", "GET", "/r1/UA/GOV/00015622/DRRP/realtyRights?taxNumber=" + tax, xclient, 200, "", `"reestrNum":"1852963280000"`},
		{"no client", "GET", "/r1/UA/GOV/00015622/DRRP/realtyRights/" + tax, nil, 400, "Client.InvalidClientIdentifier", `"type":"Client.InvalidClientIdentifier"`},
		{"short id", "GET", "/r1/UA/GOV/00015622", xclient, 400, "Client.InvalidRequest", ""},
		{"unknown service", "GET", "/r1/UA/GOV/00015622/DRRP/nothing", xclient, 500, "Server.ServerProxy.UnknownService", ""},
		{"provider 404", "GET", "/r1/UA/GOV/00015622/DRRP/propertyOwners/1", xclient, 404, "", "not found"},
		{"provider 400", "GET", "/r1/UA/GOV/00015622/DRRP/realtyRights/1234567890", xclient, 400, "", "RNOKPP"},
		{"payment without key", "POST", "/r1/UA/GOV/37567646/DKSU/payment", xclient, 400, "", "Idempotency-Key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, srv, tc.method, tc.path, `{"iban":"UA213223130000026007233566001","amount":1}`, tc.h)
			if status != tc.wantStatus || h.Get("X-Road-Error") != tc.wantErr || !strings.Contains(body, tc.wantBody) {
				t.Errorf("%s %s = %d %q %s; want %d %q …%s…", tc.method, tc.path, status, h.Get("X-Road-Error"), body, tc.wantStatus, tc.wantErr, tc.wantBody)
			}
		})
	}
}

const soapReq = `<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"><SOAP-ENV:Header>` +
	`<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>44444444</id:memberCode><id:subsystemCode>POSLUHA</id:subsystemCode></xrd:client>` +
	`<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00034022</id:memberCode><id:subsystemCode>OBERIH</id:subsystemCode><id:serviceCode>status</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>` +
	`<xrd:id>m-1</xrd:id>%s</SOAP-ENV:Header><SOAP-ENV:Body><m:status xmlns:m="urn:m"><taxNumber>%s</taxNumber></m:status></SOAP-ENV:Body></SOAP-ENV:Envelope>`

func TestSOAP(t *testing.T) {
	sim := New(Options{Seed: 1})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	pv := `<xrd:protocolVersion>4.0</xrd:protocolVersion>`
	tests := []struct {
		name, body string
		wantStatus int
		want       string
	}{
		{"status", fmt.Sprintf(soapReq, pv, Citizens()[4].TaxNumber), 200, `<category>призовник</category>`},
		{"header echoed", fmt.Sprintf(soapReq, pv, Citizens()[4].TaxNumber), 200, `<xrd:id>m-1</xrd:id>`},
		{"no protocol version", fmt.Sprintf(soapReq, "", Citizens()[4].TaxNumber), 500, `<faultcode>SOAP-ENV:Client.MissingHeader</faultcode>`},
		{"bad tax number", fmt.Sprintf(soapReq, pv, "1234567890"), 500, `Client.InvalidTaxNumber`},
		{"not xml", "{}", 500, `Client.InvalidSoap`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, srv, "POST", "/", tc.body, map[string]string{"Content-Type": "text/xml"})
			if status != tc.wantStatus || !strings.Contains(body, tc.want) {
				t.Errorf("POST / = %d %s; want %d …%s…", status, body, tc.wantStatus, tc.want)
			}
		})
	}
}

func TestControlAPI(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sim := New(Options{Seed: 1, Now: func() time.Time { return now }})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	read := func() int {
		status, _, _ := do(t, srv, "GET", "/rest/usr/entry/41234567", "", nil)
		return status
	}
	profile := `{"latency":{"min":"1ms","max":"2ms"},"maintenance":[{"from":"2026-11-26T11:00:00Z","to":"2026-11-26T13:00:00Z"}]}`
	if status, _, body := do(t, srv, "PUT", "/_sim/registries/usr/profile", profile, nil); status != 200 {
		t.Fatalf("PUT profile = %d %s", status, body)
	}
	if got := read(); got != 503 {
		t.Errorf("read in a maintenance window = %d, want 503", got)
	}
	now = now.Add(2 * time.Hour)
	if got := read(); got != 200 {
		t.Errorf("read after the window = %d, want 200", got)
	}
	do(t, srv, "POST", "/_sim/registries/usr/down", "", nil)
	if got := read(); got != 503 {
		t.Errorf("read while down = %d, want 503", got)
	}
	do(t, srv, "POST", "/_sim/registries/usr/up", "", nil)
	if got := read(); got != 200 {
		t.Errorf("read after up = %d, want 200", got)
	}
	for _, bad := range []string{`{"errorRate": 2}`, `{"latency":{"min":"soon"}}`, `{"errRate": 0.1}`} {
		if status, _, _ := do(t, srv, "PUT", "/_sim/registries/usr/profile", bad, nil); status != 400 {
			t.Errorf("PUT profile %s = %d, want 400", bad, status)
		}
	}
	status, _, body := do(t, srv, "GET", "/_sim/registries", "", nil)
	var list []map[string]any
	if status != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 7 {
		t.Errorf("GET /_sim/registries = %d %s", status, body)
	}
	if st := sim.Stats("usr"); st.Requests != 4 || st.Refused != 2 || st.OK != 2 {
		t.Errorf("Stats = %+v, want 4 requests, 2 refused, 2 ok", st)
	}
}

// outcomes sends the same 40 requests and returns their statuses in order.
func outcomes(t *testing.T, seed uint64) string {
	sim := New(Options{Seed: seed})
	sim.SetProfile("usr", Profile{ErrorRate: 0.5})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	var b strings.Builder
	for i := 0; i < 40; i++ {
		status, _, _ := do(t, srv, "GET", "/rest/usr/entry/41234567", "", nil)
		fmt.Fprintf(&b, "%d ", status)
	}
	return b.String()
}

func TestFaultsAreReproducible(t *testing.T) {
	a, b, c := outcomes(t, 7), outcomes(t, 7), outcomes(t, 8)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same faults: %s", a)
	}
	if !strings.Contains(a, "200") || !strings.Contains(a, "502") {
		t.Errorf("error rate 0.5 gave %s", a)
	}
}
