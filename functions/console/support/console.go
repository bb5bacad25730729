// Package support is the support staff's console as the local stack and
// the AWS deployment share it: the read model of where every application
// is (App, folded from status events by ChangeOf, kept by a Store), its
// DynamoDB store (DynamoProjection), the audit log (Entry, AuditLog,
// DynamoAudit), the HTTP API with its actions on executions (redrive, fix
// the data and resend, cancel), and the web page that draws live counts on
// the service's BPMN diagram with bpmn-js.
//
// It imports nothing under local/, so that the console and projection
// Lambdas link neither the engine nor the compiler: the local stack's parts
// (the bbolt projection, the audit file, the engine's actions, the bus
// wiring) are in local/console.
//
// # Routes (Mount puts them under /console)
//
//	GET  /console/                               the page (support only; without a session: the sign-in page, 401)
//	POST /console/login                          start the QR / device-flow sign-in at the OIDC provider
//	POST /console/login/token                    poll it; a support token becomes an HttpOnly session cookie
//	POST /console/logout
//	GET  /console/assets/…                       the page's script and style, bpmn-js's dist (Deps.BPMNJS)
//	GET  /console/api/services                   per service: counts by status, per step, failures per step, throughput per minute
//	GET  /console/api/services/{service}/diagram the BPMN with diagram interchange (laid out by bpmn-auto-layout when missing)
//	GET  /console/api/services/{service}/steps/{step}  running applications at a step
//	GET  /console/api/failed?service=&after=     failed applications, newest first
//	GET  /console/api/stuck?service=&olderThan=  running applications whose step has not changed for that long (default 1h)
//	GET  /console/api/search?q=                  an application id, or a citizen's tax number (audited)
//	GET  /console/api/applications/{id}          the application with the failed step's data (audited: personal data)
//	GET  /console/api/applications/{id}/status   status, steps and audit trail without personal data (not audited)
//	POST /console/api/applications/{id}/redrive  {"reason"}
//	POST /console/api/applications/{id}/resend   {"thread","input","variables","reason"}: validated JSON, then continue
//	POST /console/api/applications/{id}/cancel   {"reason"} (required)
//	GET  /console/api/audit?applicationId=       audit entries, newest first
//
// Every route but the sign-in and the assets needs a token with role
// "support" (Authorization: Bearer, or the session cookie; cookie
// sessions must send X-Console: 1 on POSTs, which cross-site forms
// cannot). No token: 401; another role (a citizen): 403.
//
// # Stores and AWS
//
// The handler reads a Store and writes an AuditLog. Locally these are the
// bbolt local/console.Projection fed by the bus and the JSON-lines
// local/console.Audit file; in AWS
// (functions/console, functions/projection) DynamoProjection and
// DynamoAudit, fed by EventBridge. Both stores fold events through the
// same code and pass the same tests. In AWS, Step Functions publishes the
// status changes itself and the task Lambdas publish the step events
// (functions/internal/stepevents); the local bus publishes both, and
// accepts PutEvents too.
//
// # Executions
//
// Actions go through Executions: the local engine (local/console
// EngineExecutions, whose Resend replaces the failed thread's data and
// redrives in one step) or Step Functions (functions/console, where Resend
// stores the failed task's corrected arguments for the task Lambda to
// use, then redrives). Their errors are *posluha.Error values named like Step
// Functions' errors, answered by name.
package support

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha"
)

// Verifier checks a bearer token ("Bearer <jwt>") and returns its claims;
// *gateway.Gateway is one. Errors mean 401.
type Verifier interface {
	Verify(ctx context.Context, authorization string) (jwt.MapClaims, error)
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(ctx context.Context, authorization string) (jwt.MapClaims, error)

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, a string) (jwt.MapClaims, error) { return f(ctx, a) }

// Deps are the console's collaborators.
type Deps struct {
	Projection Store
	Executions Executions
	Audit      AuditLog
	Verifier   Verifier
	// Issuer is the OIDC provider's base URL for the sign-in (device
	// flow); "" hides the sign-in button.
	Issuer string
	// Diagram returns a service's BPMN with diagram interchange; nil
	// shows counts without a diagram.
	Diagram func(ctx context.Context, service string) ([]byte, error)
	// BPMNJS is the directory of bpmn-js's dist files (node_modules/bpmn-js/dist
	// locally, next to the bootstrap in the console Lambda), served under
	// /console/assets/bpmn-js/; "" shows counts without the diagram.
	BPMNJS string
	// Sync, when set, waits until the bus delivered what was saved so far
	// (an action's answer then shows its effect).
	Sync func(ctx context.Context) error
	// StuckAfter is the default age of a step that counts as stuck; 1h.
	StuckAfter time.Duration
	Now        func() time.Time
	Log        *slog.Logger
	Client     *http.Client // for the sign-in; default 10 s timeout
	// Applications, when set, gets the status support's actions imply:
	// cancel → cancelled (with the reason, so the citizen sees it), redrive
	// and resend of a failed application → processing. Applications the
	// table does not know (executions started without the API) are left.
	Applications posluha.Applications
}

// Console serves the page and the API.
type Console struct {
	d     Deps
	locks sync.Map // application id → *sync.Mutex: one action at a time
}

// New returns a console.
func New(d Deps) *Console {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.StuckAfter <= 0 {
		d.StuckAfter = time.Hour
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Console{d: d}
}

// Mount registers the console under /console on mux.
func Mount(mux *http.ServeMux, d Deps) *Console {
	c := New(d)
	mux.Handle("/console/", c.Handler())
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusFound))
	return c
}

//go:embed web
var web embed.FS

// Handler serves every route under /console/.
func (c *Console) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /console/{$}", c.auth(c.page))
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/login/token", c.loginToken)
	m.HandleFunc("POST /console/logout", c.logout)
	m.HandleFunc("GET /console/assets/", c.assets)
	m.HandleFunc("GET /console/api/services", c.auth(c.services))
	m.HandleFunc("GET /console/api/services/{service}/diagram", c.auth(c.diagram))
	m.HandleFunc("GET /console/api/services/{service}/steps/{step}", c.auth(c.atStep))
	m.HandleFunc("GET /console/api/failed", c.auth(c.failed))
	m.HandleFunc("GET /console/api/stuck", c.auth(c.stuck))
	m.HandleFunc("GET /console/api/search", c.auth(c.search))
	m.HandleFunc("GET /console/api/applications/{id}", c.auth(c.application))
	m.HandleFunc("GET /console/api/applications/{id}/status", c.auth(c.status))
	m.HandleFunc("POST /console/api/applications/{id}/redrive", c.auth(c.redrive))
	m.HandleFunc("POST /console/api/applications/{id}/resend", c.auth(c.resend))
	m.HandleFunc("POST /console/api/applications/{id}/cancel", c.auth(c.cancel))
	m.HandleFunc("GET /console/api/audit", c.auth(c.auditList))
	return m
}

// Staff is the signed-in support person.
type Staff struct {
	ID   string
	Name string
}

const cookieName = "posluha_console"

type handler func(w http.ResponseWriter, r *http.Request, who Staff)

// auth admits support tokens only: 401 without a valid token, 403 for any
// other role.
func (c *Console) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		fromCookie := false
		if authz == "" {
			if ck, err := r.Cookie(cookieName); err == nil && ck.Value != "" {
				authz, fromCookie = "Bearer "+ck.Value, true
			}
		}
		page := r.URL.Path == "/console/"
		if authz == "" || c.d.Verifier == nil {
			c.denied(w, r, page, http.StatusUnauthorized, "sign in with a support account")
			return
		}
		claims, err := c.d.Verifier.Verify(r.Context(), authz)
		if err != nil {
			c.d.Log.InfoContext(r.Context(), "console token rejected", "err", err)
			c.denied(w, r, page, http.StatusUnauthorized, "the token is not valid; sign in again")
			return
		}
		role, _ := claims["role"].(string)
		if role != "support" {
			c.denied(w, r, page, http.StatusForbidden, "the console is for support staff")
			return
		}
		if fromCookie && r.Method == http.MethodPost && r.Header.Get("X-Console") != "1" {
			problem(w, http.StatusForbidden, "missing X-Console header", "cookie sessions must send X-Console: 1")
			return
		}
		sub, _ := claims["sub"].(string)
		name, _ := claims["name"].(string)
		h(w, r, Staff{ID: sub, Name: name})
	}
}

func (c *Console) denied(w http.ResponseWriter, r *http.Request, page bool, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="posluha-console"`)
	}
	if page {
		c.serveFile(w, "web/login.html", "text/html; charset=utf-8", status)
		return
	}
	problem(w, status, http.StatusText(status), msg)
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// stepFunctionsStatus answers the Step Functions error names the
// executions adapters (local/console.EngineExecutions,
// functions/internal/executions) give their *posluha.Error values, and the
// console's own InvalidExecutionInput; other names are internal errors.
var stepFunctionsStatus = map[string]int{
	"ExecutionDoesNotExist": http.StatusNotFound, "StateMachineDoesNotExist": http.StatusNotFound,
	"ExecutionNotRedrivable": http.StatusConflict, "ExecutionAlreadyExists": http.StatusConflict,
	"InvalidExecutionInput": http.StatusBadRequest, "InvalidOutput": http.StatusBadRequest,
	"InvalidArn": http.StatusBadRequest, "ValidationException": http.StatusBadRequest,
	"ExecutionLimitExceeded": http.StatusTooManyRequests, "ThrottlingException": http.StatusTooManyRequests,
	"NotSupported": http.StatusNotImplemented,
}

// invalidInput is a 400 for data support sent.
func invalidInput(msg string) error {
	return &posluha.Error{Name: "InvalidExecutionInput", Message: msg}
}

// fail answers an error: named Step Functions errors by their name, the
// rest 500 without detail (logged).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *posluha.Error
	switch {
	case errors.Is(err, ErrNotFound):
		problem(w, http.StatusNotFound, "Application.NotFound", err.Error())
	case errors.As(err, &pe) && stepFunctionsStatus[pe.Name] != 0:
		problem(w, stepFunctionsStatus[pe.Name], pe.Name, pe.Message)
	default:
		c.d.Log.ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
		problem(w, http.StatusInternalServerError, "Internal", "")
	}
}

func (c *Console) serveFile(w http.ResponseWriter, name, ctype string, status int) {
	b, err := web.ReadFile(name)
	if err != nil {
		problem(w, http.StatusNotFound, "Not Found", "")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	w.WriteHeader(status)
	w.Write(b)
}

func (c *Console) page(w http.ResponseWriter, r *http.Request, _ Staff) {
	c.serveFile(w, "web/console.html", "text/html; charset=utf-8", http.StatusOK)
}

// assets serves the page's own files and bpmn-js's dist folder.
func (c *Console) assets(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, "/console/assets/")
	if strings.Contains(rel, "..") {
		problem(w, http.StatusNotFound, "Not Found", "")
		return
	}
	if lib, ok := strings.CutPrefix(rel, "bpmn-js/"); ok {
		if c.d.BPMNJS == "" {
			problem(w, http.StatusNotFound, "Not Found", "bpmn-js is not installed (npm ci locally, make lambdas for AWS)")
			return
		}
		// Files only (every one in dist has an extension): no listings.
		if !fs.ValidPath(lib) || path.Ext(lib) == "" {
			problem(w, http.StatusNotFound, "Not Found", "")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, os.DirFS(c.d.BPMNJS), lib)
		return
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	ctype, ok := types[path.Ext(rel)]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "")
		return
	}
	c.serveFile(w, "web/"+rel, ctype, http.StatusOK)
}

// login starts the device flow at the provider for the page.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if c.d.Issuer == "" {
		problem(w, http.StatusNotFound, "Not Found", "no OIDC provider configured")
		return
	}
	form := url.Values{"client_id": {"posluha-console"}, "scope": {"openid support"}}
	c.proxyForm(w, r, c.d.Issuer+"/device/authorize", form, false)
}

// loginToken polls the provider; a support token is kept in an HttpOnly
// cookie (the page never sees it), any other answer is passed on.
func (c *Console) loginToken(w http.ResponseWriter, r *http.Request) {
	if c.d.Issuer == "" {
		problem(w, http.StatusNotFound, "Not Found", "no OIDC provider configured")
		return
	}
	if err := r.ParseForm(); err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", "form expected")
		return
	}
	form := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {r.PostForm.Get("device_code")},
		"client_id":   {"posluha-console"},
	}
	c.proxyForm(w, r, c.d.Issuer+"/token", form, true)
}

func (c *Console) proxyForm(w http.ResponseWriter, r *http.Request, u string, form url.Values, token bool) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.d.Client.Do(req)
	if err != nil {
		c.d.Log.WarnContext(r.Context(), "console sign-in: provider unreachable", "err", err)
		problem(w, http.StatusBadGateway, "Bad Gateway", "the sign-in service does not answer")
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if !token || resp.StatusCode != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if json.Unmarshal(body, &t) != nil || t.AccessToken == "" {
		problem(w, http.StatusBadGateway, "Bad Gateway", "the sign-in service answered without a token")
		return
	}
	claims, err := c.d.Verifier.Verify(r.Context(), "Bearer "+t.AccessToken)
	if err != nil {
		problem(w, http.StatusUnauthorized, "Unauthorized", "the token is not valid")
		return
	}
	if role, _ := claims["role"].(string); role != "support" {
		problem(w, http.StatusForbidden, "Forbidden", "the console is for support staff")
		return
	}
	sub, _ := claims["sub"].(string)
	name, _ := claims["name"].(string)
	if _, err := c.d.Audit.Append(r.Context(), Entry{Time: c.d.Now(), Actor: sub, ActorName: name, Action: ActionSignedIn, Outcome: "ok"}); err != nil {
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: t.AccessToken, Path: "/console/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: max(t.ExpiresIn, 60),
	})
	writeJSON(w, http.StatusOK, map[string]string{"staff": sub, "name": name})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func limitOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	return n
}

// cursors are index keys; they travel base64url-encoded.
func cursorIn(r *http.Request) string {
	b, err := base64.RawURLEncoding.DecodeString(r.URL.Query().Get("after"))
	if err != nil {
		return ""
	}
	return string(b)
}

// listing is a page as the API answers it: citizens masked, no step data.
type listing struct {
	Apps []*App `json:"applications"`
	Next string `json:"next,omitempty"`
}

func mask(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
}

func (c *Console) writePage(w http.ResponseWriter, p *Page) {
	out := listing{Apps: make([]*App, len(p.Apps))}
	for i, a := range p.Apps {
		cp := *a
		cp.Citizen, cp.FailedInput = mask(a.Citizen), nil
		out.Apps[i] = &cp
	}
	if p.Next != "" {
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(p.Next))
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Console) services(w http.ResponseWriter, r *http.Request, _ Staff) {
	names, err := c.d.Projection.Services(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := []*ServiceStats{}
	for _, n := range names {
		st, err := c.d.Projection.Stats(r.Context(), n, c.d.Now())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		out = append(out, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out, "time": c.d.Now().UTC()})
}

func (c *Console) diagram(w http.ResponseWriter, r *http.Request, _ Staff) {
	if c.d.Diagram == nil {
		problem(w, http.StatusNotFound, "Not Found", "no diagrams configured")
		return
	}
	b, err := c.d.Diagram(r.Context(), r.PathValue("service"))
	if errors.Is(err, os.ErrNotExist) {
		problem(w, http.StatusNotFound, "Not Found", "no diagram for this service")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (c *Console) atStep(w http.ResponseWriter, r *http.Request, _ Staff) {
	p, err := c.d.Projection.AtStep(r.Context(), r.PathValue("service"), r.PathValue("step"), limitOf(r), cursorIn(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.writePage(w, p)
}

func (c *Console) failed(w http.ResponseWriter, r *http.Request, _ Staff) {
	p, err := c.d.Projection.Failed(r.Context(), r.URL.Query().Get("service"), limitOf(r), cursorIn(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.writePage(w, p)
}

func (c *Console) stuck(w http.ResponseWriter, r *http.Request, _ Staff) {
	age := c.d.StuckAfter
	if s := r.URL.Query().Get("olderThan"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			problem(w, http.StatusBadRequest, "Bad Request", "olderThan is a duration such as 30m or 2h")
			return
		}
		age = d
	}
	svc := r.URL.Query().Get("service")
	names := []string{svc}
	if svc == "" {
		var err error
		if names, err = c.d.Projection.Services(r.Context()); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	all := &Page{Apps: []*App{}}
	limit := ClampLimit(limitOf(r))
	for _, n := range names {
		p, err := c.d.Projection.Stuck(r.Context(), n, c.d.Now().Add(-age), limit-len(all.Apps), "")
		if err != nil {
			c.fail(w, r, err)
			return
		}
		all.Apps = append(all.Apps, p.Apps...)
		if len(all.Apps) >= limit {
			break
		}
	}
	c.writePage(w, all)
}

// search finds an application by id, else a citizen's applications; a
// search by citizen reveals whose applications they are, so it is audited.
func (c *Console) search(w http.ResponseWriter, r *http.Request, who Staff) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" || len(q) > 200 {
		problem(w, http.StatusBadRequest, "Bad Request", "q is an application id or a citizen's tax number")
		return
	}
	if a, err := c.d.Projection.Get(r.Context(), q); err == nil {
		c.writePage(w, &Page{Apps: []*App{a}})
		return
	} else if !errors.Is(err, ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	p, err := c.d.Projection.ByCitizen(r.Context(), q, limitOf(r), cursorIn(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(p.Apps) > 0 {
		if _, err := c.d.Audit.Append(r.Context(), Entry{Time: c.d.Now(), Actor: who.ID, ActorName: who.Name, Action: ActionView,
			Reason: "search by citizen", Outcome: "ok", After: mustJSON(map[string]any{"citizen": q, "found": len(p.Apps)})}); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.writePage(w, p)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// detail is an application with what support needs to act on it.
type detail struct {
	*App
	StepData *StepData `json:"stepData,omitempty"`
	Audit    []Entry   `json:"audit"`
}

// application answers the whole record, personal data included: the view
// is written to the audit log before the answer.
func (c *Console) application(w http.ResponseWriter, r *http.Request, who Staff) {
	a, err := c.d.Projection.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := detail{App: a}
	if a.Failed() || a.Status == "ABORTED" {
		if sd, err := c.d.Executions.FailedData(r.Context(), a.ExecutionARN); err == nil {
			d.StepData = sd
		}
	}
	if _, err := c.d.Audit.Append(r.Context(), Entry{Time: c.d.Now(), Actor: who.ID, ActorName: who.Name, Action: ActionView,
		ApplicationID: a.ID, ExecutionARN: a.ExecutionARN, Outcome: "ok"}); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Audit, err = c.d.Audit.List(r.Context(), a.ID, 50); err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// status answers what the page refreshes: no personal data, so no audit
// entry (the page would otherwise log a view every few seconds).
func (c *Console) status(w http.ResponseWriter, r *http.Request, _ Staff) {
	a, err := c.d.Projection.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	es, err := c.d.Audit.List(r.Context(), a.ID, 50)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for i := range es {
		es[i].Before, es[i].After = nil, nil
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"applicationId": a.ID, "status": a.Status, "steps": a.Steps, "redriveCount": a.RedriveCount,
		"error": a.Error, "failedStep": a.FailedStep, "audit": es,
	})
}

type actionBody struct {
	Reason    string          `json:"reason"`
	Thread    string          `json:"thread"`
	Input     json.RawMessage `json:"input"`
	Variables json.RawMessage `json:"variables"`
}

func readBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// act runs one action on an application: one at a time per application,
// audited with the record before and after (and the outcome, also when it
// fails).
func (c *Console) act(w http.ResponseWriter, r *http.Request, who Staff, action string, run func(a *App, body *actionBody) (before, after any, err error)) {
	var body actionBody
	if err := readBody(r, &body); err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", "the body is JSON: "+err.Error())
		return
	}
	if len(body.Reason) > 2000 {
		problem(w, http.StatusBadRequest, "Bad Request", "the reason is too long (2000 characters at most)")
		return
	}
	id := r.PathValue("id")
	mu, _ := c.locks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	a, err := c.d.Projection.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	before, after, err := run(a, &body)
	outcome := "ok"
	if err != nil {
		outcome = err.Error()
	}
	if before == nil {
		before = map[string]any{"status": a.Status, "steps": a.Steps, "failedStep": a.FailedStep, "error": a.Error}
	}
	if c.d.Sync != nil && err == nil {
		if serr := c.d.Sync(r.Context()); serr != nil {
			c.d.Log.WarnContext(r.Context(), "wait for the projection", "err", serr)
		}
	}
	if after == nil && err == nil {
		if na, gerr := c.d.Projection.Get(r.Context(), id); gerr == nil {
			after = map[string]any{"status": na.Status, "steps": na.Steps, "redriveCount": na.RedriveCount}
		}
	}
	e := Entry{Time: c.d.Now(), Actor: who.ID, ActorName: who.Name, Action: action, ApplicationID: a.ID,
		ExecutionARN: a.ExecutionARN, Reason: body.Reason, Before: mustJSON(before), Outcome: outcome}
	if after != nil {
		e.After = mustJSON(after)
	}
	entry, aerr := c.d.Audit.Append(r.Context(), e)
	if aerr != nil {
		c.fail(w, r, aerr)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	na, _ := c.d.Projection.Get(r.Context(), id)
	writeJSON(w, http.StatusOK, map[string]any{"application": na, "audit": entry})
}

// moveApplication records what an action did in the applications table.
func (c *Console) moveApplication(ctx context.Context, a *App, to posluha.Status, reason string) error {
	if c.d.Applications == nil {
		return nil
	}
	_, err := c.d.Applications.Update(ctx, a.ID, func(app *posluha.Application) error {
		if to == posluha.StatusProcessing && app.Status != posluha.StatusFailed {
			return nil // only a failed application moves back
		}
		return app.Move(posluha.StatusChange{Status: to, Step: app.Step, Time: c.d.Now(), Reason: reason})
	})
	if posluha.ErrorName(err) == posluha.ErrApplicationNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("application record %s: %w", a.ID, err)
	}
	return nil
}

func (c *Console) redrive(w http.ResponseWriter, r *http.Request, who Staff) {
	c.act(w, r, who, ActionRedrive, func(a *App, b *actionBody) (any, any, error) {
		if err := c.d.Executions.Redrive(r.Context(), a.ExecutionARN); err != nil {
			return nil, nil, err
		}
		return nil, nil, c.moveApplication(r.Context(), a, posluha.StatusProcessing, "redriven by support: "+b.Reason)
	})
}

func (c *Console) cancel(w http.ResponseWriter, r *http.Request, who Staff) {
	c.act(w, r, who, ActionCancel, func(a *App, b *actionBody) (any, any, error) {
		if strings.TrimSpace(b.Reason) == "" {
			return nil, nil, invalidInput("a reason is required to cancel")
		}
		if err := c.d.Executions.Stop(r.Context(), a.ExecutionARN, "Support.Cancelled", b.Reason); err != nil {
			return nil, nil, err
		}
		return nil, nil, c.moveApplication(r.Context(), a, posluha.StatusCancelled, b.Reason)
	})
}

// resend validates the edited data (JSON; variables an object), records
// the data before and after the edit, then continues the execution.
func (c *Console) resend(w http.ResponseWriter, r *http.Request, who Staff) {
	c.act(w, r, who, ActionResend, func(a *App, b *actionBody) (any, any, error) {
		if !json.Valid(b.Input) {
			return nil, nil, invalidInput("input is not valid JSON")
		}
		if len(b.Variables) == 0 {
			b.Variables = json.RawMessage(`{}`)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(b.Variables, &obj) != nil {
			return nil, nil, invalidInput("variables must be a JSON object")
		}
		old, err := c.d.Executions.FailedData(r.Context(), a.ExecutionARN)
		if err != nil {
			return nil, nil, err
		}
		if b.Thread == "" {
			b.Thread = old.Thread
		}
		next := &StepData{Thread: b.Thread, State: old.State, Input: b.Input, Variables: b.Variables,
			Step: old.Step, ApplicationID: old.ApplicationID, By: who.ID}
		if err := c.d.Executions.Resend(r.Context(), a.ExecutionARN, next); err != nil {
			return old, nil, err
		}
		return old, next, c.moveApplication(r.Context(), a, posluha.StatusProcessing, "data fixed by support: "+b.Reason)
	})
}

func (c *Console) auditList(w http.ResponseWriter, r *http.Request, _ Staff) {
	es, err := c.d.Audit.List(r.Context(), r.URL.Query().Get("applicationId"), limitOf(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if es == nil {
		es = []Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}
