package connector

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/query/jsonata"
	"github.com/posluha/posluha/query/value"
)

// maxBody bounds what a registry may send back; more is a bad response,
// not a reason to run out of memory.
const maxBody = 8 << 20

// IdempotencyHeader carries the idempotency key of a write, in every dialect.
const IdempotencyHeader = "Idempotency-Key"

// Args is what a task gives a call: who asks, for which application and
// step, and the arguments the request mapping reads.
type Args struct {
	ApplicationID string
	Service       string
	Step          string
	// UserID is the X-Road userId; the template's userId when empty.
	UserID    string
	Arguments map[string]any
}

// Options configure a Set.
type Options struct {
	// Getenv reads endpoint overrides and mTLS references; os.Getenv when nil.
	Getenv func(string) string
	// ReadFile reads file: references; os.ReadFile when nil.
	ReadFile func(string) ([]byte, error)
	// Limiter admits calls per registry; a new LocalLimiter when nil.
	Limiter Limiter
	// Transport is the base HTTP transport (cloned per mTLS identity);
	// http.DefaultTransport's settings when nil.
	Transport *http.Transport
	// RoundTripper, when set, carries every connector's requests instead
	// of a network transport (in-process stacks, benchmarks); mTLS is then
	// its business.
	RoundTripper http.RoundTripper
	// NewID returns a message id (X-Road-Id, Uxp-QueryID, xrd:id); random
	// when nil.
	NewID func() string
}

// Set is the loaded connectors of a process, safe for concurrent calls.
type Set struct {
	conns   map[string]*conn
	limits  map[string]Limits
	limiter Limiter
	newID   func() string
}

type conn struct {
	t        *Template
	endpoint string
	client   *http.Client
}

// New prepares templates for calls: resolves endpoint overrides and loads
// mTLS material. It fails when a referenced variable or file is missing,
// at start rather than on a citizen's application.
func New(templates []*Template, o Options) (*Set, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.Limiter == nil {
		o.Limiter = NewLocalLimiter()
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
		base.MaxIdleConnsPerHost = 64
	}
	var rt http.RoundTripper = base
	if o.RoundTripper != nil {
		rt = o.RoundTripper
	}
	plain := &http.Client{Transport: rt, CheckRedirect: noRedirects}
	s := &Set{conns: map[string]*conn{}, limits: map[string]Limits{}, limiter: o.Limiter, newID: o.NewID}
	var errs []error
	for _, t := range templates {
		if _, dup := s.conns[t.ID]; dup {
			errs = append(errs, fmt.Errorf("connector %s (%s): duplicate id", t.ID, t.Source))
			continue
		}
		c := &conn{t: t, endpoint: strings.TrimRight(t.Endpoint, "/"), client: plain}
		if t.EndpointEnv != "" {
			if e := o.Getenv(t.EndpointEnv); e != "" {
				if err := checkEndpoint(e); err != nil {
					errs = append(errs, fmt.Errorf("connector %s: %s: %w", t.ID, t.EndpointEnv, err))
					continue
				}
				c.endpoint = strings.TrimRight(e, "/")
			}
		}
		if c.endpoint == "" {
			errs = append(errs, fmt.Errorf("connector %s: no endpoint: set %s", t.ID, t.EndpointEnv))
			continue
		}
		if t.TLS != nil && o.RoundTripper == nil {
			cfg, err := tlsConfig(t.TLS, o)
			if err != nil {
				errs = append(errs, fmt.Errorf("connector %s: mTLS: %w", t.ID, err))
				continue
			}
			tr := base.Clone()
			tr.TLSClientConfig = cfg
			c.client = &http.Client{Transport: tr, CheckRedirect: noRedirects}
		}
		s.conns[t.ID] = c
		if l := t.Limits(); l != (Limits{}) {
			if _, ok := s.limits[t.Registry]; !ok {
				s.limits[t.Registry] = l
			}
		}
	}
	// A slot is held for the call, which its timeout bounds; the longest
	// timeout of a registry's connectors bounds them all.
	for _, c := range s.conns {
		if l, ok := s.limits[c.t.Registry]; ok && c.t.timeout > l.Hold {
			l.Hold = c.t.timeout
			s.limits[c.t.Registry] = l
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func tlsConfig(r *TLSRef, o Options) (*tls.Config, error) {
	read := func(ref string) ([]byte, error) {
		kind, rest, _ := strings.Cut(ref, ":")
		if kind == "env" {
			v := o.Getenv(rest)
			if v == "" {
				return nil, fmt.Errorf("environment variable %s is empty", rest)
			}
			return []byte(v), nil
		}
		b, err := o.ReadFile(rest)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rest, err)
		}
		return b, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.Cert != "" {
		cert, err := read(r.Cert)
		if err != nil {
			return nil, fmt.Errorf("cert: %w", err)
		}
		key, err := read(r.Key)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if r.CA != "" {
		ca, err := read(r.CA)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("ca: no certificate in PEM")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Template returns the template of connector id.
func (s *Set) Template(id string) (*Template, bool) {
	c, ok := s.conns[id]
	if !ok {
		return nil, false
	}
	return c.t, true
}

// Call calls connector id with args and returns the mapped response.
// idempotencyKey (applicationId/step) goes out as the Idempotency-Key
// header; writes must have one.
//
// Errors: Task.Invalid (unknown connector, a write without a key, arguments
// outside the data model), Registry.Unavailable, Registry.BadRequest,
// Registry.NotFound, Registry.BadResponse.
func (s *Set) Call(ctx context.Context, id string, args Args, idempotencyKey string) (any, error) {
	c, ok := s.conns[id]
	if !ok {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "unknown connector %q", id)
	}
	t := c.t
	if t.Write && idempotencyKey == "" {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "%s is a write and needs an idempotency key", id)
	}
	in, err := value.FromGo(args.Arguments)
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrTaskInvalid, "%s: arguments: %v", id, err)
	}
	if args.Arguments == nil {
		in = value.NewObject(0)
	}
	reqVal := in
	if t.request != nil {
		v, defined, err := t.request.Eval(jsonata.Env{Input: in, HasInput: true, Vars: map[string]any{
			"applicationId": args.ApplicationID, "service": args.Service, "step": args.Step,
		}})
		if err != nil {
			return nil, posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: request mapping: %s", id, mappingError(err))
		}
		if !defined {
			v = nil
		}
		reqVal = v
	}
	req, msgID, err := s.build(ctx, c, args, reqVal, idempotencyKey)
	if err != nil {
		return nil, err
	}

	release, err := s.limiter.Acquire(ctx, t.Registry, s.limits[t.Registry])
	if err != nil {
		var named *posluha.Error
		if errors.As(err, &named) {
			// A shared limiter names its refusals itself: Throttled for
			// the limit, Unavailable when its own store is down.
			return nil, posluha.Errorf(named.Name, "%s: %s", id, named.Message)
		}
		return nil, posluha.Errorf(posluha.ErrRegistryThrottled, "%s: registry %s is at its limit", id, t.Registry)
	}
	defer release()

	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	resp, err := c.client.Do(req.WithContext(cctx))
	if err != nil {
		return nil, transportError(id, cctx, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, transportError(id, cctx, err)
	}
	if len(body) > maxBody {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: body larger than %d bytes", id, maxBody)
	}
	return t.decode(response{status: resp.StatusCode, header: resp.Header, body: body, msgID: msgID})
}

// decode classifies a reply and applies the response mapping.
func (t *Template) decode(r response) (any, error) {
	var v any
	var err error
	if t.Protocol == XRoadSOAP {
		v, err = decodeSOAP(t.ID, t.arrays, r)
	} else {
		v, err = decodeREST(t.ID, r)
	}
	if err != nil {
		return nil, err
	}
	if t.response == nil {
		if o, ok := v.(*value.Object); ok && o.Len() == 0 && t.Protocol == XRoadSOAP && !t.Write {
			// A SOAP read says "nothing" with an empty response element.
			return nil, posluha.Errorf(posluha.ErrRegistryNotFound, "%s: empty response", t.ID)
		}
		return v, nil
	}
	out, defined, err := t.response.Eval(jsonata.Env{Input: v, HasInput: true, Vars: map[string]any{"status": float64(r.status)}})
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: response mapping: %s", t.ID, mappingError(err))
	}
	if !defined {
		return nil, posluha.Errorf(posluha.ErrRegistryNotFound, "%s: no result", t.ID)
	}
	return out, nil
}

// mappingError keeps a JSONata error's code, not its message, which may
// quote values from the payload.
func mappingError(err error) string {
	var je *jsonata.Error
	if errors.As(err, &je) {
		return "JSONata " + je.Code
	}
	return "evaluation failed"
}

// build makes the HTTP request of one call in the template's dialect.
func (s *Set) build(ctx context.Context, c *conn, args Args, reqVal any, key string) (*http.Request, string, error) {
	t := c.t
	p, rest, err := expandPath(t.Path, reqVal)
	if err != nil {
		return nil, "", posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: %v", t.ID, err)
	}
	u := c.endpoint
	if t.Protocol == XRoadREST {
		u += "/r1"
		for _, part := range t.service {
			u += "/" + url.PathEscape(part)
		}
	}
	u += p
	if strings.Count(u, "/") == 2 {
		u += "/" // a bare host: the request line needs a path
	}
	msgID := s.newID()
	userID := args.UserID
	if userID == "" {
		userID = t.UserID
	}

	var body []byte
	switch {
	case t.Protocol == XRoadSOAP:
		body, err = appendEnvelope(make([]byte, 0, 1024), soapHeader{
			client: t.client, service: t.service, id: msgID, userID: userID, issue: args.ApplicationID,
		}, t.SOAP.Namespace, t.SOAP.Operation, reqVal)
		if err != nil {
			return nil, "", posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: request: %v", t.ID, err)
		}
	case t.Method == "GET" || t.Method == "DELETE":
		q, err := queryOf(rest)
		if err != nil {
			return nil, "", posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: request: %v", t.ID, err)
		}
		if q != "" {
			u += "?" + q
		}
	case reqVal != nil:
		body = value.Marshal(reqVal)
	}

	req, err := http.NewRequestWithContext(ctx, t.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, "", posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: request URL: %v", t.ID, err)
	}
	h := req.Header
	switch t.Protocol {
	case XRoadSOAP:
		h.Set("Content-Type", "text/xml; charset=utf-8")
		h.Set("SOAPAction", `""`)
	case XRoadREST:
		h.Set("X-Road-Client", escapeID(t.client))
		h.Set("X-Road-Id", msgID)
		if userID != "" {
			h.Set("X-Road-UserId", userID)
		}
		if args.ApplicationID != "" {
			h.Set("X-Road-Issue", args.ApplicationID)
		}
	case UXPREST:
		h.Set("Uxp-Client", escapeID(t.client))
		h.Set("Uxp-Service", escapeID(t.service))
		h.Set("Uxp-QueryID", msgID)
		if userID != "" {
			h.Set("Uxp-UserId", userID)
		}
	}
	if t.Protocol != XRoadSOAP {
		h.Set("Accept", "application/json")
		if len(body) > 0 {
			h.Set("Content-Type", "application/json; charset=utf-8")
		}
	}
	if key != "" {
		h.Set(IdempotencyHeader, key)
	}
	return req, msgID, nil
}

func escapeID(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// expandPath fills {name} placeholders from the members of the mapped
// request and returns the members it did not use.
func expandPath(tmpl string, req any) (string, []value.Member, error) {
	var members []value.Member
	if o, ok := req.(*value.Object); ok {
		members = o.Members()
	}
	if !strings.Contains(tmpl, "{") {
		return tmpl, members, nil
	}
	used := map[string]bool{}
	var firstErr error
	out := placeholderPattern.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		for _, mem := range members {
			if mem.Key != name {
				continue
			}
			used[name] = true
			s, ok := scalarText(mem.Value)
			if !ok || s == "" {
				if firstErr == nil {
					firstErr = fmt.Errorf("path parameter %s is %s, want a non-empty string or number", name, value.TypeName(mem.Value))
				}
				return ""
			}
			return url.PathEscape(s)
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("path parameter %s is missing from the request", name)
		}
		return ""
	})
	if firstErr != nil {
		return "", nil, firstErr
	}
	rest := members[:0:0]
	for _, mem := range members {
		if !used[mem.Key] {
			rest = append(rest, mem)
		}
	}
	return out, rest, nil
}

func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case float64:
		return string(value.AppendNumber(nil, t)), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// queryOf encodes members as query parameters; arrays repeat the name.
func queryOf(members []value.Member) (string, error) {
	q := url.Values{}
	for _, m := range members {
		if list, ok := m.Value.([]any); ok {
			for _, e := range list {
				s, ok := scalarText(e)
				if !ok {
					return "", fmt.Errorf("query parameter %s holds %s", m.Key, value.TypeName(e))
				}
				q.Add(m.Key, s)
			}
			continue
		}
		if m.Value == nil {
			continue
		}
		s, ok := scalarText(m.Value)
		if !ok {
			return "", fmt.Errorf("query parameter %s is %s, want a scalar", m.Key, value.TypeName(m.Value))
		}
		q.Add(m.Key, s)
	}
	return q.Encode(), nil
}
