package oidc_test

import (
	"testing"
	"time"

	"github.com/posluha/posluha/local/oidc"
)

// BenchmarkMint is the cost of one citizen token (an RS256 signature), the
// load generator's main expense.
func BenchmarkMint(b *testing.B) {
	p, err := oidc.New(oidc.Options{Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	p.SetIssuer("http://127.0.0.1")
	for b.Loop() {
		if _, err := p.TokenFor("3111412139", "Шевченко Тарас Григорович", "1985-03-09"); err != nil {
			b.Fatal(err)
		}
	}
}
