// Package oidc is the local stack's OpenID Connect provider: test citizens
// (local/registries.Citizens) sign in with a QR / device-flow login that
// mimics Diia.Signature, partner platforms get tokens with OAuth 2.0 client
// credentials, support staff with a support role. Tokens are RS256 JWTs
// whose keys the JWKS endpoint publishes; local/gateway verifies them the
// way API Gateway's JWT authorizer does in AWS.
//
// It is hand-rolled rather than built on zitadel/oidc's op package: op
// needs a full op.Storage (auth requests, clients, keys, refresh tokens,
// user info, introspection: some forty methods) and its own crypto and
// CSRF setup for flows this stack never uses, while the three grants
// here, discovery and JWKS are a few hundred lines that tests can drive
// directly. Nothing downstream depends on the issuer's library: the
// gateway checks standard JWTs against the published JWKS.
//
// # Endpoints
//
//	GET  /.well-known/openid-configuration   discovery
//	GET  /jwks                                the signing keys
//	POST /device/authorize                    device authorization (RFC 8628): device_code, user_code and a QR link
//	GET  /device?user_code=…                  the page the QR opens (what the app shows)
//	POST /device/approve                      the simulated Diia app: user_code + tax_number approve (deny=1 denies)
//	POST /token                               grant_type client_credentials | urn:ietf:params:oauth:grant-type:device_code
//
// # Claims
//
// Citizens: sub (tax number), name, birthdate, role "citizen", scope
// "openid applications". Partners: sub and client_id (the client id), role
// "partner". Support: sub (staff id), name, role "support".
package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/local/registries"
)

// DefaultAudience is the audience of the tokens (the API's client id in
// the HttpApi JWT authorizer).
const DefaultAudience = "posluha-api"

// Options configure a Provider.
type Options struct {
	// Issuer is the provider's base URL (http://127.0.0.1:port); it can be
	// set after listening with SetIssuer.
	Issuer   string
	Audience string // default DefaultAudience
	// Citizens who can sign in; default registries.Citizens().
	Citizens []registries.Citizen
	// Partners are client credentials: client id → secret.
	Partners map[string]string
	// Support staff ids who may sign in with the support role (through
	// the device flow, approving with their id instead of a tax number).
	Support []string
	TTL     time.Duration // token lifetime, default 15 minutes
	Now     func() time.Time
	// Key signs tokens; a fresh RSA 2048 key when nil.
	Key *rsa.PrivateKey
}

// Provider is the local OIDC provider.
type Provider struct {
	o        Options
	key      *rsa.PrivateKey
	kid      string
	citizens map[string]registries.Citizen
	support  map[string]bool

	mu      sync.Mutex
	issuer  string
	devices map[string]*device // by device_code
	byUser  map[string]*device // by user_code
}

type device struct {
	code, userCode string
	expires        time.Time
	subject        string // set on approval
	denied         bool
	lastPoll       time.Time
}

// New returns a provider.
func New(o Options) (*Provider, error) {
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.Citizens == nil {
		o.Citizens = registries.Citizens()
	}
	if o.TTL <= 0 {
		o.TTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	key := o.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("oidc: signing key: %w", err)
		}
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	p := &Provider{
		o: o, key: key, kid: hex.EncodeToString(sum[:8]), issuer: o.Issuer,
		citizens: map[string]registries.Citizen{}, support: map[string]bool{},
		devices: map[string]*device{}, byUser: map[string]*device{},
	}
	for _, c := range o.Citizens {
		p.citizens[c.TaxNumber] = c
	}
	for _, s := range o.Support {
		p.support[s] = true
	}
	return p, nil
}

// SetIssuer sets the issuer URL once the provider listens.
func (p *Provider) SetIssuer(u string) {
	p.mu.Lock()
	p.issuer = strings.TrimSuffix(u, "/")
	p.mu.Unlock()
}

// Issuer is the iss of the tokens.
func (p *Provider) Issuer() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issuer
}

// Audience is the aud of the tokens.
func (p *Provider) Audience() string { return p.o.Audience }

// PublicKey is the key that verifies the provider's tokens, with its kid.
func (p *Provider) PublicKey() (string, *rsa.PublicKey) { return p.kid, &p.key.PublicKey }

// Sign signs claims as the provider (iss, aud, iat, exp, jti are filled in
// when missing). Tests use it to mint tokens quickly, also broken ones.
func (p *Provider) Sign(claims jwt.MapClaims) (string, error) {
	now := p.o.Now()
	set := func(k string, v any) {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	set("iss", p.Issuer())
	set("aud", p.o.Audience)
	set("iat", now.Unix())
	set("nbf", now.Unix())
	set("exp", now.Add(p.o.TTL).Unix())
	set("jti", randomCode(12))
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = p.kid
	s, err := t.SignedString(p.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ErrUnknownCitizen is returned for a tax number that is not a test
// citizen.
var ErrUnknownCitizen = errors.New("oidc: unknown citizen")

// CitizenClaims are the claims of a test citizen's token.
func (p *Provider) CitizenClaims(taxNumber string) (jwt.MapClaims, error) {
	c, ok := p.citizens[taxNumber]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownCitizen, taxNumber)
	}
	return jwt.MapClaims{
		"sub": c.TaxNumber, "name": c.FullName(), "birthdate": c.BirthDate,
		"role": "citizen", "scope": "openid applications",
	}, nil
}

// CitizenToken mints a citizen's access token without the device flow.
func (p *Provider) CitizenToken(taxNumber string) (string, error) {
	c, err := p.CitizenClaims(taxNumber)
	if err != nil {
		return "", err
	}
	return p.Sign(c)
}

// TokenFor mints a token for any person (load tests with generated
// citizens that are not in the registries).
func (p *Provider) TokenFor(taxNumber, name, birthDate string) (string, error) {
	return p.Sign(jwt.MapClaims{"sub": taxNumber, "name": name, "birthdate": birthDate, "role": "citizen", "scope": "openid applications"})
}

// PartnerToken mints a partner client's token without the token endpoint.
func (p *Provider) PartnerToken(clientID string) (string, error) {
	return p.Sign(jwt.MapClaims{"sub": clientID, "client_id": clientID, "role": "partner", "scope": "applications.on-behalf"})
}

// SupportToken mints a support staff member's token.
func (p *Provider) SupportToken(staffID string) (string, error) {
	return p.Sign(jwt.MapClaims{"sub": staffID, "name": staffID, "role": "support", "scope": "openid support"})
}

// Handler serves the provider's endpoints.
func (p *Provider) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	m.HandleFunc("GET /jwks", p.jwks)
	m.HandleFunc("POST /device/authorize", p.deviceAuthorize)
	m.HandleFunc("GET /device", p.devicePage)
	m.HandleFunc("POST /device/approve", p.approve)
	m.HandleFunc("POST /token", p.token)
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError writes an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	iss := p.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/jwks",
		"token_endpoint":                        iss + "/token",
		"device_authorization_endpoint":         iss + "/device/authorize",
		"grant_types_supported":                 []string{"client_credentials", "urn:ietf:params:oauth:grant-type:device_code"},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"sub", "name", "birthdate", "role", "client_id"},
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	pub := &p.key.PublicKey
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func randomCode(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64(b)
}

// userCode is eight letters from an alphabet without look-alikes, shown
// as XXXX-XXXX (RFC 8628 §6.1).
func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

const deviceTTL = 5 * time.Minute

func (p *Provider) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	now := p.o.Now()
	d := &device{code: randomCode(24), userCode: userCode(), expires: now.Add(deviceTTL)}
	p.mu.Lock()
	for k, old := range p.devices { // forget expired flows
		if now.After(old.expires) {
			delete(p.devices, k)
			delete(p.byUser, old.userCode)
		}
	}
	p.devices[d.code], p.byUser[d.userCode] = d, d
	iss := p.issuer
	p.mu.Unlock()
	verify := iss + "/device"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": d.code, "user_code": d.userCode,
		"verification_uri": verify, "verification_uri_complete": verify + "?user_code=" + d.userCode,
		"expires_in": int(deviceTTL / time.Second), "interval": 1,
	})
}

func (p *Provider) devicePage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	p.mu.Lock()
	d := p.byUser[code]
	p.mu.Unlock()
	if d == nil {
		http.Error(w, "unknown or expired code", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Дія.Підпис: підтвердіть вхід до Послуги (код %s)\n", d.userCode)
}

// approve is the simulated Diia app: the citizen scanned the QR
// (user_code) and confirmed with their key (tax_number).
func (p *Provider) approve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form expected")
		return
	}
	code, sub := r.PostForm.Get("user_code"), r.PostForm.Get("tax_number")
	_, isCitizen := p.citizens[sub]
	if !isCitizen && !p.support[sub] {
		oauthError(w, http.StatusForbidden, "access_denied", "unknown person")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.byUser[code]
	if d == nil || p.o.Now().After(d.expires) {
		oauthError(w, http.StatusNotFound, "expired_token", "unknown or expired user code")
		return
	}
	if r.PostForm.Get("deny") != "" {
		d.denied = true
	} else {
		d.subject = sub
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form expected")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		id, secret, ok := r.BasicAuth()
		if ok { // RFC 6749 §2.3.1: form-encoded before Basic
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		} else {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		want, known := p.o.Partners[id]
		if !known || want == "" || !constantEqual(want, secret) {
			w.Header().Set("WWW-Authenticate", `Basic realm="posluha"`)
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
			return
		}
		t, err := p.PartnerToken(id)
		p.issued(w, t, err)
	case "urn:ietf:params:oauth:grant-type:device_code":
		p.mu.Lock()
		d := p.devices[r.PostForm.Get("device_code")]
		now := p.o.Now()
		var state string
		switch {
		case d == nil || now.After(d.expires):
			state = "expired_token"
		case d.denied:
			state = "access_denied"
		case d.subject == "":
			state = "authorization_pending"
			if now.Sub(d.lastPoll) < 500*time.Millisecond {
				state = "slow_down"
			}
			d.lastPoll = now
		default:
			delete(p.devices, d.code)
			delete(p.byUser, d.userCode)
		}
		p.mu.Unlock()
		if state != "" {
			oauthError(w, http.StatusBadRequest, state, strings.ReplaceAll(state, "_", " "))
			return
		}
		var (
			t   string
			err error
		)
		if p.support[d.subject] {
			t, err = p.SupportToken(d.subject)
		} else {
			t, err = p.CitizenToken(d.subject)
		}
		p.issued(w, t, err)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+strconv.Quote(gt)+" is not supported")
	}
}

func (p *Provider) issued(w http.ResponseWriter, token string, err error) {
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": int(p.o.TTL / time.Second),
	})
}

func constantEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return ha == hb
}
