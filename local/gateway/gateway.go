// Package gateway is the local API Gateway (HTTP API, payload format 2.0)
// in front of the api function: it verifies the caller's JWT against the
// OIDC provider's JWKS the way the HttpApi JWT authorizer does (issuer,
// audience, expiry, signature, an algorithm allow-list), turns the HTTP
// request into an events.APIGatewayV2HTTPRequest carrying the token's
// claims in requestContext.authorizer.jwt.claims, invokes the handler
// in-process and writes its response.
//
// Like AWS, a rejected token is answered by the gateway itself with 401
// {"message":"Unauthorized"} and a WWW-Authenticate header; routes listed
// as public skip the authorizer. Claims are flattened to strings as AWS
// does: numbers in decimal, arrays as "[a b]".
package gateway

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/jwks"
)

// Handler is the function behind the gateway (api.Handler.Lambda()).
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Options configure a Gateway.
type Options struct {
	Issuer   string // the tokens' iss
	Audience string // one of the tokens' aud
	// JWKSURL is where the keys are; default Issuer + "/jwks".
	JWKSURL string
	// Keys, when set, replaces the JWKS fetch (kid → key).
	Keys func(ctx context.Context) (map[string]*rsa.PublicKey, error)
	// Algorithms allowed in the token header; default RS256 only (what
	// the HttpApi JWT authorizer accepts). none and HS* are never allowed.
	Algorithms []string
	// Public are routes without the authorizer: "GET /services" matches
	// the path and everything under it.
	Public []string
	// Leeway tolerates clock skew on exp/nbf/iat; default 0.
	Leeway time.Duration
	// MaxBody is API Gateway's payload limit, default 10 MiB.
	MaxBody int64
	// CacheTokens is how many verified tokens are remembered until they
	// expire, as the HttpApi JWT authorizer caches them: a portal that
	// polls with one token pays the RSA check once. Default 10,000;
	// negative: no cache. A token is found by its SHA-256, so only the
	// exact bytes once verified hit; a key removed from the JWKS stops new
	// tokens at once and cached ones at their exp.
	CacheTokens int
	Now         func() time.Time
	Client      *http.Client
	Log         *slog.Logger
}

// Gateway is an http.Handler.
type Gateway struct {
	o     Options
	h     Handler
	v     *jwks.Verifier
	seq   atomic.Uint64
	cache struct {
		sync.Mutex
		m    map[[sha256.Size]byte]cachedToken
		hits atomic.Uint64
	}
}

type cachedToken struct {
	claims jwt.MapClaims
	exp    time.Time
}

// New returns a gateway in front of h.
func New(h Handler, o Options) *Gateway {
	if o.JWKSURL == "" {
		o.JWKSURL = strings.TrimSuffix(o.Issuer, "/") + "/jwks"
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{"RS256"}
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 10 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CacheTokens == 0 {
		o.CacheTokens = 10000
	}
	v := &jwks.Verifier{Issuer: o.Issuer, Audience: o.Audience, URL: o.JWKSURL, Client: o.Client, Now: o.Now,
		Keys: o.Keys, Algorithms: o.Algorithms, Leeway: o.Leeway}
	return &Gateway{o: o, h: h, v: v}
}

// ErrUnauthorized wraps every token rejection.
var ErrUnauthorized = jwks.ErrUnauthorized

func (g *Gateway) public(r *http.Request) bool {
	for _, p := range g.o.Public {
		m, path, ok := strings.Cut(p, " ")
		if !ok || m != r.Method {
			continue
		}
		if r.URL.Path == path || strings.HasPrefix(r.URL.Path, strings.TrimSuffix(path, "/")+"/") {
			return true
		}
	}
	return false
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var claims map[string]string
	var scopes []string
	if !g.public(r) {
		c, err := g.Verify(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			g.o.Log.InfoContext(r.Context(), "token rejected", "path", r.URL.Path, "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		claims = flatten(c)
		if s, ok := c["scope"].(string); ok {
			scopes = strings.Fields(s)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, g.o.MaxBody+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if int64(len(body)) > g.o.MaxBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := g.Event(r, body, claims, scopes)
	resp, err := g.h(r.Context(), ev)
	if err != nil {
		g.o.Log.ErrorContext(r.Context(), "handler failed", "path", r.URL.Path, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	write(w, resp)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// Event builds the payload 2.0 event of a request.
func (g *Gateway) Event(r *http.Request, body []byte, claims map[string]string, scopes []string) events.APIGatewayV2HTTPRequest {
	now := g.o.Now()
	headers := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			continue
		}
		headers[lk] = strings.Join(v, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, v := range q {
			query[k] = strings.Join(v, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "000000000000", Stage: "$default", APIID: "local",
			DomainName: r.Host, DomainPrefix: strings.Split(r.Host, ".")[0],
			RequestID: fmt.Sprintf("local-%d-%d", now.UnixNano(), g.seq.Add(1)),
			Time:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

func write(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// flatten turns claims into the strings API Gateway passes.
func flatten(c jwt.MapClaims) map[string]string {
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = claimString(v)
	}
	return out
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Verify checks a bearer token ("Bearer <jwt>") and returns its claims.
// Errors wrap ErrUnauthorized and say why (for logs, not for callers).
func (g *Gateway) Verify(ctx context.Context, authorization string) (jwt.MapClaims, error) {
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	}
	tok = strings.TrimSpace(tok)
	sum := sha256.Sum256([]byte(tok))
	if c, ok := g.cached(sum); ok {
		return c, nil
	}
	claims, err := g.v.Verify(ctx, authorization)
	if err != nil {
		return nil, err
	}
	g.remember(sum, claims)
	return claims, nil
}

// cached returns a copy of a verified token's claims while it has not
// expired (by the same clock and leeway as the parser).
func (g *Gateway) cached(sum [sha256.Size]byte) (jwt.MapClaims, bool) {
	if g.o.CacheTokens < 0 {
		return nil, false
	}
	g.cache.Lock()
	c, ok := g.cache.m[sum]
	g.cache.Unlock()
	if !ok || !g.o.Now().Before(c.exp.Add(g.o.Leeway)) {
		return nil, false
	}
	g.cache.hits.Add(1)
	return maps.Clone(c.claims), true
}

func (g *Gateway) remember(sum [sha256.Size]byte, claims jwt.MapClaims) {
	if g.o.CacheTokens < 0 {
		return
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return
	}
	now := g.o.Now()
	g.cache.Lock()
	defer g.cache.Unlock()
	if g.cache.m == nil {
		g.cache.m = map[[sha256.Size]byte]cachedToken{}
	}
	if len(g.cache.m) >= g.o.CacheTokens {
		// Expired tokens first; if the cache is still full, forget an
		// arbitrary half (map order): a miss only costs a verification.
		for k, c := range g.cache.m {
			if !now.Before(c.exp.Add(g.o.Leeway)) {
				delete(g.cache.m, k)
			}
		}
		for k := range g.cache.m {
			if len(g.cache.m) < g.o.CacheTokens/2 {
				break
			}
			delete(g.cache.m, k)
		}
	}
	g.cache.m[sum] = cachedToken{claims: maps.Clone(claims), exp: exp.Time}
}
