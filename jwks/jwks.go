// Package jwks verifies bearer JWTs against an OIDC issuer's JSON Web Key
// Set the way the HttpApi JWT authorizer does: RS256 only (none and HS*
// never), issuer, audience, expiry required, keys by kid. The local API
// gateway checks every token with it, and functions use it where a route
// cannot sit behind the authorizer (the console keeps its session in a
// cookie, which the authorizer does not read).
//
// Keys are fetched when a token names an unknown kid, at most every 10
// seconds, so that made-up kids cannot make the function hammer the
// provider, while a rotated key is picked up on its first use.
package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrUnauthorized wraps every rejection; the message after it says why
// (for logs, not for callers).
var ErrUnauthorized = errors.New("unauthorized")

// refetchAfter bounds how often unknown kids refetch the set.
const refetchAfter = 10 * time.Second

// Verifier checks tokens of one issuer and audience.
type Verifier struct {
	Issuer   string
	Audience string
	// URL is where the key set is; "" is Issuer + "/jwks".
	URL    string
	Client *http.Client // default: 5 s timeout
	Now    func() time.Time
	// Keys, when set, replaces the fetch from URL (kid → key).
	Keys func(ctx context.Context) (map[string]*rsa.PublicKey, error)
	// Algorithms allowed in the token header; default RS256 only. Keys are
	// RSA, so only RS*/PS* can ever verify; none and HS* never do.
	Algorithms []string
	// Leeway tolerates clock skew on exp, nbf and iat; default 0.
	Leeway time.Duration

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks a bearer token ("Bearer <jwt>") and returns its claims.
// Errors wrap ErrUnauthorized.
func (v *Verifier) Verify(ctx context.Context, authorization string) (jwt.MapClaims, error) {
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return nil, fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	}
	algs := v.Algorithms
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.Leeway),
		jwt.WithTimeFunc(v.now),
	)
	claims := jwt.MapClaims{}
	if _, err := p.ParseWithClaims(strings.TrimSpace(tok), claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("algorithm %s is not allowed", t.Method.Alg())
		}
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return claims, nil
}

func (v *Verifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := v.keys[kid]; k != nil {
		return k, nil
	}
	if v.keys != nil && v.now().Sub(v.fetched) < refetchAfter {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	m, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.fetched = m, v.now()
	if k := m[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key %q", kid)
}

func (v *Verifier) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	if v.Keys != nil {
		return v.Keys(ctx)
	}
	u := v.URL
	if u == "" {
		u = strings.TrimSuffix(v.Issuer, "/") + "/jwks"
	}
	c := v.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", u, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: %s", u, resp.Status)
	}
	return Parse(io.LimitReader(resp.Body, 1<<20))
}

// Parse reads a JSON Web Key Set and returns its RSA signing keys by kid;
// keys of other types or uses are left out.
func Parse(r io.Reader) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(r).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil || len(n) == 0 {
			return nil, fmt.Errorf("jwks: key %q: modulus is not base64url", k.Kid)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("jwks: key %q: exponent is not a small base64url integer", k.Kid)
		}
		exp := new(big.Int).SetBytes(e).Int64()
		if exp < 3 {
			return nil, fmt.Errorf("jwks: key %q: exponent %d", k.Kid, exp)
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
	}
	return out, nil
}
