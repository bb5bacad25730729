package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/local/gateway"
	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
)

type env struct {
	p    *oidc.Provider
	gw   *httptest.Server
	last *events.APIGatewayV2HTTPRequest
	now  time.Time
	key  *rsa.PrivateKey
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.key = key
	p, err := oidc.New(oidc.Options{Key: key, Now: func() time.Time { return e.now }, Partners: map[string]string{"bank": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	idp := httptest.NewServer(p.Handler())
	t.Cleanup(idp.Close)
	p.SetIssuer(idp.URL)
	h := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		e.last = &ev
		b, _ := json.Marshal(ev)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
	}
	g := gateway.New(h, gateway.Options{Issuer: idp.URL, Audience: oidc.DefaultAudience, Now: func() time.Time { return e.now }, Public: []string{"GET /services"}})
	e.gw = httptest.NewServer(g)
	t.Cleanup(e.gw.Close)
	return e
}

func (e *env) call(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.gw.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func citizen(t *testing.T) registries.Citizen { return registries.Citizens()[0] }

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestRejectedTokens(t *testing.T) {
	e := newEnv(t)
	c := citizen(t)
	good, err := e.p.CitizenToken(c.TaxNumber)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		m, _ := e.p.CitizenClaims(c.TaxNumber)
		m["iss"], m["aud"] = e.p.Issuer(), oidc.DefaultAudience
		m["iat"], m["exp"] = e.now.Unix(), e.now.Add(time.Minute).Unix()
		mod(m)
		return m
	}
	kid, pub := e.p.PublicKey()
	sign := func(m jwt.MapClaims) string { // exactly these claims
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, m)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(e.key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(pub))})
	other, _ := rsa.GenerateKey(rand.Reader, 2048)

	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64(claims(func(m jwt.MapClaims) { m["sub"] = "1111111111" })) + "." + parts[2]
	none := b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(claims(func(jwt.MapClaims) {})) + "."
	noneSig := none + parts[2]
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(jwt.MapClaims) {}))
	hsTok.Header["kid"] = kid
	hs, _ := hsTok.SignedString(pubPEM)
	hsRaw, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(jwt.MapClaims) {})).SignedString(pub.N.Bytes())
	foreignTok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(func(jwt.MapClaims) {}))
	foreignTok.Header["kid"] = kid
	foreign, _ := foreignTok.SignedString(other)
	unknownKidTok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(func(jwt.MapClaims) {}))
	unknownKidTok.Header["kid"] = "nope"
	unknownKid, _ := unknownKidTok.SignedString(other)

	cases := []struct {
		name, token string
	}{
		{"missing", ""},
		{"garbage", "not.a.jwt"},
		{"alg none", none},
		{"alg none with a signature", noneSig},
		{"HS256 keyed with the public key PEM", hs},
		{"HS256 keyed with the modulus", hsRaw},
		{"tampered payload", tampered},
		{"signed by another key", foreign},
		{"unknown kid", unknownKid},
		{"expired", sign(claims(func(m jwt.MapClaims) { m["exp"] = e.now.Add(-time.Second).Unix() }))},
		{"no exp", sign(claims(func(m jwt.MapClaims) { delete(m, "exp") }))},
		{"not yet valid", sign(claims(func(m jwt.MapClaims) { m["nbf"] = e.now.Add(time.Hour).Unix() }))},
		{"issued in the future", sign(claims(func(m jwt.MapClaims) { m["iat"] = e.now.Add(time.Hour).Unix() }))},
		{"wrong audience", sign(claims(func(m jwt.MapClaims) { m["aud"] = "someone-else" }))},
		{"wrong issuer", sign(claims(func(m jwt.MapClaims) { m["iss"] = "http://evil.example" }))},
		{"no issuer", sign(claims(func(m jwt.MapClaims) { delete(m, "iss") }))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.last = nil
			status, body := e.call(t, "GET", "/applications", tc.token)
			if status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401 (%s)", status, body)
			}
			if e.last != nil {
				t.Fatal("the handler was invoked for a rejected token")
			}
			if body != `{"message":"Unauthorized"}` {
				t.Errorf("body = %s", body)
			}
		})
	}
	t.Run("good token passes its claims", func(t *testing.T) {
		status, body := e.call(t, "GET", "/applications?limit=5&x=1&x=2", good)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		jc := e.last.RequestContext.Authorizer.JWT
		if jc.Claims["sub"] != c.TaxNumber || jc.Claims["role"] != "citizen" || jc.Claims["birthdate"] != c.BirthDate {
			t.Errorf("claims = %v", jc.Claims)
		}
		if e.last.QueryStringParameters["x"] != "1,2" || e.last.RawQueryString != "limit=5&x=1&x=2" || e.last.Version != "2.0" {
			t.Errorf("event = %+v", e.last)
		}
	})
	t.Run("public route needs no token", func(t *testing.T) {
		if status, body := e.call(t, "GET", "/services/e-propyska", ""); status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		if e.last.RequestContext.Authorizer != nil {
			t.Error("public route got an authorizer context")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestDeviceFlowAndClientCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := citizen(t)
	tok, err := oidc.DeviceLogin(ctx, http.DefaultClient, e.p.Issuer(), c.TaxNumber)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.call(t, "GET", "/applications", tok); status != 200 {
		t.Fatalf("device-flow token: %d %s", status, body)
	}
	pt, err := oidc.ClientCredentials(ctx, http.DefaultClient, e.p.Issuer(), "bank", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.call(t, "GET", "/applications", pt); status != 200 || e.last.RequestContext.Authorizer.JWT.Claims["role"] != "partner" {
		t.Fatalf("partner token: %d %s", status, body)
	}
	if _, err := oidc.ClientCredentials(ctx, http.DefaultClient, e.p.Issuer(), "bank", "wrong"); err == nil {
		t.Fatal("wrong secret accepted")
	}
	// An unknown person cannot approve; a denied login yields no token.
	d, err := oidc.StartDevice(ctx, http.DefaultClient, e.p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if err := oidc.Approve(ctx, http.DefaultClient, d.VerificationURIComplete, "0000000000"); err == nil {
		t.Fatal("unknown citizen approved a login")
	}
}
