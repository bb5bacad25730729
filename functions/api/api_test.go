package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/statemachines"
)

// stack is the API behind the local gateway with tokens from the local
// OIDC provider and in-memory stores.
type stack struct {
	t     *testing.T
	url   string
	idp   *oidc.Provider
	mem   *dynamo.Memory
	queue *Queue
	exec  *Executions
	sigs  *Signatures
	docs  *Documents
	h     *api.Handler
}

func testServices(t *testing.T) []*posluha.Service { return testServicesF(t) }

func testServicesF(t testing.TB) []*posluha.Service {
	t.Helper()
	svcs, err := statemachines.Load(statemachines.FS)
	if err != nil {
		t.Fatal(err)
	}
	svcs = append(svcs,
		&posluha.Service{ID: "senior-card", Title: posluha.Text{UK: "Картка пенсіонера", EN: "Senior card"}, Status: posluha.ServiceActive,
			Form: map[string]any{"type": "object"},
			Eligibility: []posluha.Rule{{ID: "senior", Condition: "citizen.age >= 60",
				Message: posluha.Text{UK: "Лише для осіб від 60 років.", EN: "Only for people aged 60 and over."}}}},
		&posluha.Service{ID: "old-service", Title: posluha.Text{UK: "Архівна", EN: "Archived"}, Status: posluha.ServiceArchived},
	)
	return svcs
}

func newStack(t *testing.T, mod func(*api.Deps)) *stack {
	t.Helper()
	p, err := oidc.New(oidc.Options{Partners: map[string]string{"bank": "s3cret"}, Support: []string{"support-1"}})
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(p.Handler())
	t.Cleanup(idp.Close)
	p.SetIssuer(idp.URL)
	s := &stack{t: t, idp: p, mem: dynamo.NewMemory(), queue: &Queue{}, exec: &Executions{},
		sigs: &Signatures{
			SignerFunc: func(context.Context, string) (string, string, error) {
				return "", "", posluha.Errorf(posluha.ErrApplicationNotFound, "no such request")
			},
			SubmitFunc: func(context.Context, string, []byte) error { return nil },
		},
		docs: &Documents{LinkFunc: func(_ context.Context, key string, _ time.Duration) (string, error) {
			return "https://s3.local/bucket/" + key + "?X-Amz-Signature=x", nil
		}},
	}
	d := api.Deps{
		Services: testServices(t), Applications: s.mem.Applications, Notifications: s.mem.Notifications, Awaits: s.mem.Awaits,
		Queue: s.queue, Executions: s.exec, Signatures: s.sigs, Documents: s.docs,
		Limits: api.Limits{CitizenRate: 1000, CitizenBurst: 1000},
	}
	if mod != nil {
		mod(&d)
	}
	h, err := api.New(d)
	if err != nil {
		t.Fatal(err)
	}
	s.h = h
	gw := gateway.New(h.Lambda(), gateway.Options{Issuer: idp.URL, Audience: oidc.DefaultAudience,
		Public: api.PublicRoutes()})
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *stack) citizenToken(i int) string {
	s.t.Helper()
	tok, err := s.idp.CitizenToken(registries.Citizens()[i].TaxNumber)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (s *stack) do(method, path, token string, body any, hdr ...string) resp {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, b}
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	if status >= 400 && r.header.Get("Content-Type") != "application/problem+json" && r.status != 401 {
		t.Fatalf("content type %q for an error", r.header.Get("Content-Type"))
	}
}

var propyska = map[string]any{"service": "e-propyska", "form": map[string]any{"reestrNum": "1234567890", "tck": "Печерський РТЦК"}}

func TestSubmitAndRead(t *testing.T) {
	s := newStack(t, nil)
	tok := s.citizenToken(0)
	r := s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "key-00000001")
	wantStatus(t, r, 202)
	app := r.json(t)
	id := app["applicationId"].(string)
	if loc := r.header.Get("Location"); loc != "/applications/"+id {
		t.Errorf("Location = %q", loc)
	}
	if app["status"] != "submitted" || s.queue.count(id) != 1 {
		t.Fatalf("app %v, queued %d", app, s.queue.count(id))
	}
	var msg api.Message
	if err := json.Unmarshal(s.queue.Sent[id][0], &msg); err != nil {
		t.Fatal(err)
	}
	c := registries.Citizens()[0]
	if msg.ApplicationID != id || msg.Service != "e-propyska" || msg.Citizen.TaxNumber != c.TaxNumber || msg.Citizen.Name != c.FullName() || msg.Citizen.Age < 40 || msg.Form["tck"] != "Печерський РТЦК" {
		t.Errorf("message = %+v", msg)
	}

	g := s.do("GET", "/applications/"+id, tok, nil)
	wantStatus(t, g, 200)
	if h := g.json(t)["statusHistory"].([]any); len(h) != 1 {
		t.Errorf("history = %v", h)
	}

	// The same key again: the same application, handed over again while
	// it is still submitted (the dispatcher starts one execution).
	again := s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "key-00000001")
	wantStatus(t, again, 202)
	if again.json(t)["applicationId"] != id || s.queue.count(id) != 2 {
		t.Fatalf("replay gave %s, queued %d", again.body, s.queue.count(id))
	}
	// Another key while it is open: the one-open rule.
	other := s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "key-00000002")
	wantStatus(t, other, 409)
	if !strings.Contains(string(other.body), id) {
		t.Errorf("conflict does not name the open application: %s", other.body)
	}
	// The same key with another form: conflict.
	changed := map[string]any{"service": "e-propyska", "form": map[string]any{"reestrNum": "999999999", "tck": "Інший ТЦК"}}
	wantStatus(t, s.do("POST", "/applications", tok, changed, "Idempotency-Key", "key-00000001"), 409)

	// List mine, paginated.
	s.do("POST", "/applications", tok, map[string]any{"service": "senior-card", "form": map[string]any{}}) // 422: age
	l := s.do("GET", "/applications?limit=1", tok, nil)
	wantStatus(t, l, 200)
	if items := l.json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("items = %v", items)
	}

	// Another citizen sees nothing of it.
	tok2 := s.citizenToken(1)
	wantStatus(t, s.do("GET", "/applications/"+id, tok2, nil), 404)
	wantStatus(t, s.do("POST", "/applications/"+id+"/cancel", tok2, nil), 404)
	wantStatus(t, s.do("POST", "/applications/"+id+"/answers", tok2, map[string]any{"step": "x"}), 404)
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok2, map[string]any{"requestId": "r", "signature": "AAAAAAAAAAAAAAAAAAAAAAAA"}), 404)
	wantStatus(t, s.do("GET", "/applications/"+id+"/documents", tok2, nil), 404)
	if items := s.do("GET", "/applications", tok2, nil).json(t)["items"].([]any); len(items) != 0 {
		t.Errorf("another citizen lists %v", items)
	}
	// The same Idempotency-Key from another citizen is another application.
	r2 := s.do("POST", "/applications", tok2, propyska, "Idempotency-Key", "key-00000001")
	wantStatus(t, r2, 202)
	if r2.json(t)["applicationId"] == id {
		t.Fatal("two citizens share an application through a key")
	}

	// Support reads it; a partner does not.
	st, _ := s.idp.SupportToken("support-1")
	wantStatus(t, s.do("GET", "/applications/"+id, st, nil), 200)
	wantStatus(t, s.do("POST", "/applications/"+id+"/cancel", st, nil), 404)
	pt, _ := s.idp.PartnerToken("bank")
	wantStatus(t, s.do("GET", "/applications/"+id, pt, nil), 404)

	// Cancel: stops the execution, frees the one-open lock.
	var stopped string
	s.exec.StopFunc = func(_ context.Context, service, aid, _ string) error { stopped = service + "/" + aid; return nil }
	c1 := s.do("POST", "/applications/"+id+"/cancel", tok, nil)
	wantStatus(t, c1, 200)
	if c1.json(t)["status"] != "cancelled" || stopped != "e-propyska/"+id {
		t.Fatalf("cancel: %s, stopped %q", c1.body, stopped)
	}
	wantStatus(t, s.do("POST", "/applications/"+id+"/cancel", tok, nil), 200) // repeated
	wantStatus(t, s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "key-00000003"), 202)
}

func problemOf(t *testing.T, r resp) (code string, pointers []string) {
	t.Helper()
	m := r.json(t)
	code, _ = m["code"].(string)
	if errs, ok := m["errors"].([]any); ok {
		for _, e := range errs {
			em := e.(map[string]any)
			p, _ := em["pointer"].(string)
			if p == "" {
				p, _ = em["parameter"].(string)
			}
			pointers = append(pointers, p)
		}
	}
	if m["status"].(float64) != float64(r.status) || m["title"] == "" || m["type"] == "" {
		t.Errorf("problem %s", r.body)
	}
	return code, pointers
}

func TestErrors(t *testing.T) {
	s := newStack(t, func(d *api.Deps) { d.MaxBody = 2048 })
	tok := s.citizenToken(2)
	big := `{"service":"e-propyska","form":{"tck":"` + strings.Repeat("я", 2000) + `"}}`
	cases := []struct {
		name     string
		method   string
		path     string
		token    string
		body     any
		headers  []string
		status   int
		code     string
		pointers []string
	}{
		{"no token", "GET", "/applications", "", nil, nil, 401, "", nil},
		{"unknown route", "GET", "/nowhere", tok, nil, nil, 404, "Request.NotFound", nil},
		{"wrong method", "DELETE", "/applications", tok, nil, nil, 405, "Request.MethodNotAllowed", nil},
		{"unknown application", "GET", "/applications/0000000000000000", tok, nil, nil, 404, "Application.NotFound", nil},
		{"bad application id", "GET", "/applications/NOT_AN_ID", tok, nil, nil, 400, "Request.Invalid", []string{"path:applicationId"}},
		{"bad limit", "GET", "/applications?limit=1000", tok, nil, nil, 400, "Request.Invalid", []string{"query:limit"}},
		{"not JSON", "POST", "/applications", tok, "{", nil, 400, "Request.Invalid", nil},
		{"form media type", "POST", "/applications", tok, "service=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "Request.MediaType", nil},
		{"too large", "POST", "/applications", tok, big, nil, 413, "Request.TooLarge", nil},
		{"envelope: missing form, unknown field", "POST", "/applications", tok, `{"service":"e-propyska","extra":1}`, nil, 422, "Application.Invalid", []string{"/form", "/extra"}},
		{"bad form", "POST", "/applications", tok, map[string]any{"service": "e-propyska", "form": map[string]any{"reestrNum": "12ab", "extra": true}}, nil, 422, "Application.Invalid", []string{"/form/tck", "/form/extra", "/form/reestrNum"}},
		{"unknown service", "POST", "/applications", tok, map[string]any{"service": "no-such", "form": map[string]any{}}, nil, 422, "Application.Invalid", []string{"/service"}},
		{"not eligible", "POST", "/applications", tok, map[string]any{"service": "senior-card", "form": map[string]any{}}, nil, 422, "Application.Invalid", []string{"rule:senior"}},
		{"archived service", "POST", "/applications", tok, map[string]any{"service": "old-service", "form": map[string]any{}}, nil, 409, "Service.NotActive", nil},
		{"citizen on behalf", "POST", "/applications", tok, map[string]any{"service": "senior-card", "form": map[string]any{},
			"onBehalfOf": map[string]any{"taxNumber": "1234567890", "name": "X", "birthDate": "1950-01-01"}}, nil, 403, "Application.Forbidden", []string{"/onBehalfOf"}},
		{"bad idempotency key", "POST", "/applications", tok, propyska, []string{"Idempotency-Key", "no spaces allowed"}, 400, "Request.Invalid", []string{"header:Idempotency-Key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(tc.method, tc.path, tc.token, tc.body, tc.headers...)
			wantStatus(t, r, tc.status)
			if tc.status == 401 {
				return
			}
			code, ptrs := problemOf(t, r)
			if code != tc.code {
				t.Errorf("code = %q, want %q (%s)", code, tc.code, r.body)
			}
			for _, want := range tc.pointers {
				found := false
				for _, p := range ptrs {
					found = found || p == want
				}
				if !found {
					t.Errorf("pointers %v lack %q (%s)", ptrs, want, r.body)
				}
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	s := newStack(t, nil)
	tok := s.citizenToken(0)
	body := map[string]any{"service": "senior-card", "form": map[string]any{}}
	uk := s.do("POST", "/applications", tok, body).json(t)
	en := s.do("POST", "/applications", tok, body, "Accept-Language", "en-GB,en;q=0.9,uk;q=0.5").json(t)
	if uk["detail"] != "Лише для осіб від 60 років." || en["detail"] != "Only for people aged 60 and over." {
		t.Fatalf("uk %v / en %v", uk["detail"], en["detail"])
	}
	if uk["title"] != "Заяву заповнено неправильно" || en["title"] != "The application is not valid" {
		t.Fatalf("titles %v / %v", uk["title"], en["title"])
	}
}

func TestRateLimit(t *testing.T) {
	s := newStack(t, func(d *api.Deps) {
		d.Limits = api.Limits{CitizenRate: 0.001, CitizenBurst: 2, PartnerRate: 0.001, PartnerBurst: 1}
	})
	tok := s.citizenToken(0)
	wantStatus(t, s.do("GET", "/applications", tok, nil), 200)
	wantStatus(t, s.do("GET", "/applications", tok, nil), 200)
	r := s.do("GET", "/applications", tok, nil)
	wantStatus(t, r, 429)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another citizen has their own bucket.
	wantStatus(t, s.do("GET", "/applications", s.citizenToken(1), nil), 200)
	// So does each partner client.
	pt, _ := s.idp.PartnerToken("bank")
	body := map[string]any{"service": "senior-card", "form": map[string]any{}, "onBehalfOf": map[string]any{"taxNumber": "1234567890", "name": "П", "birthDate": "1950-01-01"}}
	wantStatus(t, s.do("POST", "/applications", pt, body), 202)
	wantStatus(t, s.do("POST", "/applications", pt, body), 429)
	other, _ := s.idp.PartnerToken("insurer")
	wantStatus(t, s.do("POST", "/applications", other, body), 202)
}

func TestPartnerOnBehalf(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	pt, err := oidc.ClientCredentials(ctx, http.DefaultClient, s.idp.Issuer(), "bank", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	senior := map[string]any{"taxNumber": "1234567890", "name": "Петренко Петро Петрович", "birthDate": "1950-02-03"}
	r := s.do("POST", "/applications", pt, map[string]any{"service": "senior-card", "form": map[string]any{}, "onBehalfOf": senior})
	wantStatus(t, r, 202)
	if m := r.json(t); m["citizen"] != "1234567890" || m["submittedBy"] != "bank" {
		t.Fatalf("application %s", r.body)
	}
	// The citizen sees it as theirs, and who submitted it for them.
	ctok, _ := s.idp.TokenFor("1234567890", "Петренко Петро Петрович", "1950-02-03")
	got := s.do("GET", "/applications/"+r.json(t)["applicationId"].(string), ctok, nil)
	wantStatus(t, got, 200)
	if m := got.json(t); m["citizen"] != "1234567890" || m["submittedBy"] != "bank" {
		t.Fatalf("GET of the partner's submission: %s", got.body)
	}
	// The partner's key never lands on an application the citizen made
	// with the same key.
	own := s.do("POST", "/applications", ctok, map[string]any{"service": "senior-card", "form": map[string]any{"x": 1}}, "Idempotency-Key", "shared-key-1")
	wantStatus(t, own, 202)
	viaPartner := s.do("POST", "/applications", pt, map[string]any{"service": "senior-card", "form": map[string]any{}, "onBehalfOf": senior}, "Idempotency-Key", "shared-key-1")
	wantStatus(t, viaPartner, 202)
	if viaPartner.json(t)["applicationId"] == own.json(t)["applicationId"] || strings.Contains(string(viaPartner.body), `"x"`) {
		t.Fatalf("partner replay reached the citizen's application: %s", viaPartner.body)
	}
	// A citizen's own submission names no submitter, in the answer and
	// in the stored record.
	if _, ok := own.json(t)["submittedBy"]; ok {
		t.Fatalf("citizen's own submission: %s", own.body)
	}
	mine := s.do("GET", "/applications/"+own.json(t)["applicationId"].(string), ctok, nil)
	wantStatus(t, mine, 200)
	if _, ok := mine.json(t)["submittedBy"]; ok {
		t.Fatalf("citizen's own application: %s", mine.body)
	}
	young := map[string]any{"taxNumber": "1234567891", "name": "Петренко Іван", "birthDate": "2010-02-03"}
	wantStatus(t, s.do("POST", "/applications", pt, map[string]any{"service": "senior-card", "form": map[string]any{}, "onBehalfOf": young}), 422)
	wantStatus(t, s.do("POST", "/applications", pt, map[string]any{"service": "senior-card", "form": map[string]any{}}), 422)
	wantStatus(t, s.do("GET", "/applications", pt, nil), 403)
}

func TestQueueFailureThenRetry(t *testing.T) {
	s := newStack(t, nil)
	tok := s.citizenToken(3)
	s.queue.SendFunc = func(context.Context, string, []byte) error { return errors.New("sqs down") }
	r := s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "retry-0001")
	wantStatus(t, r, 503)
	if m := r.json(t); m["detail"] != nil {
		t.Errorf("5xx with detail: %s", r.body)
	}
	s.queue.SendFunc = nil
	r = s.do("POST", "/applications", tok, propyska, "Idempotency-Key", "retry-0001")
	wantStatus(t, r, 202)
	if s.queue.count(r.json(t)["applicationId"].(string)) != 1 {
		t.Fatal("the retry did not hand the application over")
	}
}

func TestAnswerSignDocumentsNotifications(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	tok := s.citizenToken(4)
	c := registries.Citizens()[4]
	r := s.do("POST", "/applications", tok, propyska)
	wantStatus(t, r, 202)
	id := r.json(t)["applicationId"].(string)

	// Not waiting yet: 409.
	wantStatus(t, s.do("POST", "/applications/"+id+"/answers", tok, map[string]any{"step": "Task_confirm", "answer": map[string]any{"ok": true}}), 409)

	// The process parks on a user task (what eventwrite's await does).
	now := time.Now().UTC()
	s.mem.Awaits.Put(ctx, &posluha.Await{Key: "Task_confirm/" + id, ApplicationID: id, Step: "Task_confirm", Token: "tok-1", Created: now})
	s.mem.Applications.Update(ctx, id, func(a *posluha.Application) error {
		a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: "Task_confirm", Time: now})
		return a.Move(posluha.StatusChange{Status: posluha.StatusWaiting, Step: "Task_confirm", Time: now})
	})
	wantStatus(t, s.do("POST", "/applications/"+id+"/answers", tok, map[string]any{"step": "Task_other"}), 404)
	var sent string
	s.exec.SendTaskSuccessFunc = func(_ context.Context, token, out string) error { sent = token + " " + out; return nil }
	wantStatus(t, s.do("POST", "/applications/"+id+"/answers", tok, map[string]any{"step": "Task_confirm", "answer": map[string]any{"ok": true}}), 202)
	if sent != `tok-1 {"ok":true}` {
		t.Fatalf("SendTaskSuccess(%s)", sent)
	}
	if a, _ := s.mem.Applications.Get(ctx, id); a.Status != posluha.StatusProcessing {
		t.Fatalf("status %s after the answer", a.Status)
	}

	// Signatures go to the sign package with the request id; only the
	// request's signer may post: here the applicant for their own requests
	// and a co-owner (citizen 1) for theirs on this application.
	coOwner := registries.Citizens()[1].TaxNumber
	s.sigs.SignerFunc = func(_ context.Context, req string) (string, string, error) {
		switch req {
		case "co-owner":
			return id, coOwner, nil
		case "elsewhere":
			return "another-application", c.TaxNumber, nil
		}
		return id, c.TaxNumber, nil
	}
	var got string
	s.sigs.SubmitFunc = func(_ context.Context, req string, cms []byte) error {
		got = req + ":" + string(cms)
		if req == "bad" {
			return posluha.Errorf(posluha.ErrSignatureInvalid, "signature does not verify")
		}
		return nil
	}
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok, map[string]any{"requestId": "req-1", "signature": "Y21zLWJ5dGVzLWhlcmUtMTIzNA=="}), 202)
	if got != "req-1:cms-bytes-here-1234" {
		t.Fatalf("Submit(%s)", got)
	}
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok, map[string]any{"requestId": "bad", "signature": "Y21zLWJ5dGVzLWhlcmUtMTIzNA=="}), 422)
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok, map[string]any{"requestId": "r", "signature": "%%%%not-base64%%%%%"}), 422)
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", s.citizenToken(1), map[string]any{"requestId": "co-owner", "signature": "Y21zLWJ5dGVzLWhlcmUtMTIzNA=="}), 202)
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok, map[string]any{"requestId": "co-owner", "signature": "Y21zLWJ5dGVzLWhlcmUtMTIzNA=="}), 404)
	wantStatus(t, s.do("POST", "/applications/"+id+"/signatures", tok, map[string]any{"requestId": "elsewhere", "signature": "Y21zLWJ5dGVzLWhlcmUtMTIzNA=="}), 404)

	// Documents: presigned links.
	s.mem.Applications.Update(ctx, id, func(a *posluha.Application) error {
		a.Documents = []posluha.Document{{Number: "D-1", Key: "docs/" + id + "/certificate.pdf", Signatures: []string{"docs/" + id + "/certificate.pdf.p7s"}}}
		return nil
	})
	d := s.do("GET", "/applications/"+id+"/documents", tok, nil)
	wantStatus(t, d, 200)
	if !strings.Contains(string(d.body), "X-Amz-Signature") || !strings.Contains(string(d.body), ".p7s") {
		t.Fatalf("documents %s", d.body)
	}

	// Notifications: mine only.
	s.mem.Notifications.Add(ctx, &posluha.Notification{ID: id + "/n1", Citizen: c.TaxNumber, ApplicationID: id, Template: "t", Title: posluha.Text{UK: "Готово"}, Time: now})
	s.mem.Notifications.Add(ctx, &posluha.Notification{ID: "other/n1", Citizen: "0000000000", Template: "t", Time: now})
	n := s.do("GET", "/notifications", tok, nil)
	wantStatus(t, n, 200)
	if items := n.json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("notifications %s", n.body)
	}
}

func TestCatalogue(t *testing.T) {
	s := newStack(t, nil)
	r := s.do("GET", "/services?status=active", "", nil)
	wantStatus(t, r, 200)
	items := r.json(t)["items"].([]any)
	for _, it := range items {
		if it.(map[string]any)["status"] != "active" {
			t.Errorf("filter: %v", it)
		}
	}
	if len(items) < 3 {
		t.Errorf("catalogue %s", r.body)
	}
	wantStatus(t, s.do("GET", "/services?status=bogus", "", nil), 400)
	f := s.do("GET", "/services/e-propyska/form", "", nil)
	wantStatus(t, f, 200)
	if f.json(t)["required"] == nil || f.header.Get("Content-Type") != "application/schema+json" {
		t.Errorf("form %s", f.body)
	}
	wantStatus(t, s.do("GET", "/services/nope-nope", "", nil), 404)
	o := s.do("GET", "/openapi.json", "", nil)
	wantStatus(t, o, 200)
	if o.json(t)["openapi"] != "3.1.0" {
		t.Errorf("openapi %s", o.body[:100])
	}
}

// TestQRLogin signs a citizen in the way the portal does (device flow,
// approved in the simulated Diia app) and applies with that token.
func TestQRLogin(t *testing.T) {
	s := newStack(t, nil)
	c := registries.Citizens()[5]
	tok, err := oidc.DeviceLogin(context.Background(), http.DefaultClient, s.idp.Issuer(), c.TaxNumber)
	if err != nil {
		t.Fatal(err)
	}
	r := s.do("POST", "/applications", tok, propyska)
	wantStatus(t, r, 202)
	if r.json(t)["citizen"] != c.TaxNumber {
		t.Fatalf("application %s", r.body)
	}
}
