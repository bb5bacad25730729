package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifiedTokenCache(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	g := New(nil, Options{Issuer: "http://idp", Audience: "posluha", Now: func() time.Time { return now }, CacheTokens: 2,
		Keys: func(context.Context) (map[string]*rsa.PublicKey, error) {
			return map[string]*rsa.PublicKey{"k": &key.PublicKey}, nil
		}})
	mint := func(sub string, exp time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "http://idp", "aud": "posluha", "sub": sub, "iat": now.Unix(), "exp": exp.Unix()})
		tok.Header["kid"] = "k"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := mint("1111111111", now.Add(time.Minute))
	for i := range 3 {
		c, err := g.Verify(context.Background(), "Bearer "+a)
		if err != nil || c["sub"] != "1111111111" {
			t.Fatalf("verify %d: %v %v", i, c, err)
		}
		c["sub"] = "changed by a caller" // must not reach the cache
	}
	if h := g.cache.hits.Load(); h != 2 {
		t.Fatalf("cache hits = %d, want 2 (the second and third use)", h)
	}

	// A tampered copy of a cached token is not a hit: it is checked, and
	// fails.
	if _, err := g.Verify(context.Background(), "Bearer "+a+"x"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("tampered token: %v", err)
	}

	// The cache is bounded: two more tokens push the first out or not,
	// but never past two entries.
	for _, sub := range []string{"2222222222", "3333333333"} {
		if _, err := g.Verify(context.Background(), "Bearer "+mint(sub, now.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		if n := len(g.cache.m); n > 2 {
			t.Fatalf("cache holds %d tokens, limit 2", n)
		}
	}

	// Once expired, a cached token is refused like any other.
	now = now.Add(2 * time.Minute)
	hits := g.cache.hits.Load()
	if _, err := g.Verify(context.Background(), "Bearer "+a); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("expired cached token: %v", err)
	}
	if g.cache.hits.Load() != hits {
		t.Fatal("an expired token was served from the cache")
	}

	// CacheTokens < 0 turns it off.
	off := New(nil, Options{Issuer: "http://idp", Audience: "posluha", Now: func() time.Time { return now }, CacheTokens: -1, Keys: g.o.Keys})
	b := mint("4444444444", now.Add(time.Minute))
	for range 2 {
		if _, err := off.Verify(context.Background(), "Bearer "+b); err != nil {
			t.Fatal(err)
		}
	}
	if off.cache.hits.Load() != 0 || off.cache.m != nil {
		t.Fatal("cache used while off")
	}
}
