package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/local/oidc"
	"github.com/posluha/posluha/local/registries"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func start(t *testing.T, c *clock) (*oidc.Provider, string) {
	t.Helper()
	p, err := oidc.New(oidc.Options{Now: c.now, Partners: map[string]string{"bank:1": "s3cret/+"}, Support: []string{"support-7"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	p.SetIssuer(srv.URL)
	return p, srv.URL
}

func parse(t *testing.T, p *oidc.Provider, tok string, now time.Time) jwt.MapClaims {
	t.Helper()
	_, pub := p.PublicKey()
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuer(p.Issuer()), jwt.WithAudience(oidc.DefaultAudience)).ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestDiscoveryAndJWKS(t *testing.T) {
	_, iss := start(t, &clock{t: time.Now()})
	var d map[string]any
	resp, err := http.Get(iss + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if d["issuer"] != iss || d["jwks_uri"] != iss+"/jwks" || d["device_authorization_endpoint"] != iss+"/device/authorize" {
		t.Fatalf("discovery %v", d)
	}
	var set struct{ Keys []map[string]string }
	resp, err = http.Get(iss + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 1 || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["kid"] == "" || set.Keys[0]["n"] == "" {
		t.Fatalf("jwks %v", set)
	}
}

func TestDeviceFlow(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	p, iss := start(t, c)
	ctx := context.Background()
	citizen := registries.Citizens()[3]

	d, err := oidc.StartDevice(ctx, http.DefaultClient, iss)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.VerificationURIComplete, "user_code="+d.UserCode) || len(d.UserCode) != 9 {
		t.Fatalf("authorization %+v", d)
	}
	poll := func(code string) (string, error) {
		resp, err := http.PostForm(iss+"/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if tok, ok := m["access_token"].(string); ok {
			return tok, nil
		}
		return "", errors.New(m["error"].(string))
	}
	if _, err := poll(d.DeviceCode); err == nil || err.Error() != "authorization_pending" {
		t.Fatalf("before approval: %v", err)
	}
	if _, err := poll(d.DeviceCode); err == nil || err.Error() != "slow_down" {
		t.Fatalf("polling too fast: %v", err)
	}
	if err := oidc.Approve(ctx, http.DefaultClient, d.VerificationURIComplete, citizen.TaxNumber); err != nil {
		t.Fatal(err)
	}
	c.add(time.Second)
	tok, err := poll(d.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	cl := parse(t, p, tok, c.now())
	if cl["sub"] != citizen.TaxNumber || cl["name"] != citizen.FullName() || cl["birthdate"] != citizen.BirthDate || cl["role"] != "citizen" {
		t.Fatalf("claims %v", cl)
	}
	if _, err := poll(d.DeviceCode); err == nil || err.Error() != "expired_token" {
		t.Fatalf("a device code is used once: %v", err)
	}

	// Denied, expired, support staff.
	d2, _ := oidc.StartDevice(ctx, http.DefaultClient, iss)
	resp, _ := http.PostForm(iss+"/device/approve", url.Values{"user_code": {d2.UserCode}, "tax_number": {citizen.TaxNumber}, "deny": {"1"}})
	resp.Body.Close()
	c.add(time.Second)
	if _, err := poll(d2.DeviceCode); err == nil || err.Error() != "access_denied" {
		t.Fatalf("denied: %v", err)
	}
	d3, _ := oidc.StartDevice(ctx, http.DefaultClient, iss)
	c.add(6 * time.Minute)
	if err := oidc.Approve(ctx, http.DefaultClient, d3.VerificationURIComplete, citizen.TaxNumber); err == nil {
		t.Fatal("approved an expired code")
	}
	d4, _ := oidc.StartDevice(ctx, http.DefaultClient, iss)
	if err := oidc.Approve(ctx, http.DefaultClient, d4.VerificationURIComplete, "support-7"); err != nil {
		t.Fatal(err)
	}
	c.add(time.Second)
	st, err := poll(d4.DeviceCode)
	if err != nil || parse(t, p, st, c.now())["role"] != "support" {
		t.Fatalf("support login: %v", err)
	}
}

func TestClientCredentials(t *testing.T) {
	c := &clock{t: time.Now()}
	p, iss := start(t, c)
	ctx := context.Background()
	tok, err := oidc.ClientCredentials(ctx, http.DefaultClient, iss, "bank:1", "s3cret/+")
	if err != nil {
		t.Fatal(err)
	}
	if cl := parse(t, p, tok, c.now()); cl["role"] != "partner" || cl["client_id"] != "bank:1" {
		t.Fatalf("claims %v", cl)
	}
	var te *oidc.TokenError
	if _, err := oidc.ClientCredentials(ctx, http.DefaultClient, iss, "bank:1", "nope"); !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
	resp, _ := http.PostForm(iss+"/token", url.Values{"grant_type": {"password"}})
	var m map[string]string
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != 400 || m["error"] != "unsupported_grant_type" {
		t.Fatalf("password grant: %d %v", resp.StatusCode, m)
	}
	if _, err := p.CitizenToken("0000000000"); !errors.Is(err, oidc.ErrUnknownCitizen) {
		t.Fatalf("unknown citizen: %v", err)
	}
}
