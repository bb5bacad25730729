package jwks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/posluha/posluha/jwks"
	"github.com/posluha/posluha/local/oidc"
)

// provider is the local OIDC provider on 127.0.0.1:0, counting key set
// fetches.
func provider(t *testing.T) (*oidc.Provider, *atomic.Int64) {
	t.Helper()
	idp, err := oidc.New(oidc.Options{Issuer: "http://idp.test", Support: []string{"staff-7"}})
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int64
	h := idp.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" {
			fetches.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	idp.SetIssuer(srv.URL)
	return idp, &fetches
}

func sign(t *testing.T, idp *oidc.Provider, c jwt.MapClaims) string {
	t.Helper()
	s, err := idp.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	idp, fetches := provider(t)
	v := &jwks.Verifier{Issuer: idp.Issuer(), Audience: idp.Audience()}
	ctx := context.Background()
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": idp.Issuer(), "aud": idp.Audience(),
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("secret"))
	for _, tc := range []struct {
		name, authz, wantErr string
	}{
		{"valid", "Bearer " + sign(t, idp, jwt.MapClaims{"sub": "staff-7", "role": "support"}), ""},
		{"scheme in any case", "bearer " + sign(t, idp, jwt.MapClaims{"sub": "staff-7"}), ""},
		{"no token", "", "no bearer token"},
		{"basic", "Basic dXNlcjpwYXNz", "no bearer token"},
		{"other audience", "Bearer " + sign(t, idp, jwt.MapClaims{"aud": "someone-else"}), "audience"},
		{"other issuer", "Bearer " + sign(t, idp, jwt.MapClaims{"iss": "http://evil.test"}), "issuer"},
		{"expired", "Bearer " + sign(t, idp, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), "expired"},
		{"HS256", "Bearer " + hs, "signing method"},
		{"garbage", "Bearer not.a.jwt", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Verify(ctx, tc.authz)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				if claims["iss"] != idp.Issuer() {
					t.Fatalf("claims %v", claims)
				}
				return
			}
			if !errors.Is(err, jwks.ErrUnauthorized) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized about %q", err, tc.wantErr)
			}
		})
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("key set fetched %d times, want once (keys are kept)", n)
	}
}

// TestUnknownKid: a token naming a kid the set does not have is refused,
// and kids made up in a burst cost one refetch per 10 s, not one each.
func TestUnknownKid(t *testing.T) {
	idp, fetches := provider(t)
	now := time.Now()
	v := &jwks.Verifier{Issuer: idp.Issuer(), Audience: idp.Audience(), Now: func() time.Time { return now }}
	ctx := context.Background()
	good := "Bearer " + sign(t, idp, jwt.MapClaims{"sub": "staff-7"})
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimPrefix(good, "Bearer "), ".")
	// Re-sign is not needed: the kid is checked before the signature.
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{})
	forged.Header["kid"] = "made-up"
	hdr, _ := forged.SigningString()
	bad := "Bearer " + strings.Split(hdr, ".")[0] + "." + parts[1] + "." + parts[2]
	for range 5 {
		if _, err := v.Verify(ctx, bad); !errors.Is(err, jwks.ErrUnauthorized) || !strings.Contains(err.Error(), "unknown key") {
			t.Fatalf("Verify(unknown kid) = %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("key set fetched %d times within 10 s, want 1", n)
	}
	now = now.Add(11 * time.Second)
	v.Verify(ctx, bad)
	if n := fetches.Load(); n != 2 {
		t.Fatalf("key set fetched %d times after 11 s, want 2", n)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, set, wantErr string
		keys               int
	}{
		{"empty", `{"keys":[]}`, "", 0},
		{"other key types skipped", `{"keys":[{"kty":"EC","kid":"e"},{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}]}`, "", 0},
		{"rsa", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`, "", 1},
		{"not JSON", `{`, "jwks:", 0},
		{"bad modulus", `{"keys":[{"kty":"RSA","kid":"k","n":"***","e":"AQAB"}]}`, "modulus", 0},
		{"huge exponent", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQABAQAB"}]}`, "exponent", 0},
		{"exponent one", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQ"}]}`, "exponent", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := jwks.Parse(strings.NewReader(tc.set))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse = %v, want error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(keys) != tc.keys {
				t.Fatalf("Parse = %d keys, %v; want %d", len(keys), err, tc.keys)
			}
		})
	}
}
