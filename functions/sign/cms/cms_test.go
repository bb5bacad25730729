package cms_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/sign/cms"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

type pki struct {
	root    *x509.Certificate
	rootKey crypto.Signer
}

func mustPKI(tb testing.TB) *pki {
	tb.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		tb.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &pki{root: c, rootKey: k}
}

func (p *pki) issue(tb testing.TB, tax string, key crypto.Signer, nb, na time.Time) *x509.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "Тарас Шевченко", SerialNumber: "TINUA-" + tax},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.root, key.Public(), p.rootKey)
	if err != nil {
		tb.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

func TestSignVerify(t *testing.T) {
	p := mustPKI(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	doc := sha256.Sum256([]byte("згода співвласника"))
	other := sha256.Sum256([]byte("інший документ"))
	good := p.issue(t, "1234567890", ec, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	expired := p.issue(t, "1234567890", ec, t0.AddDate(-2, 0, 0), t0.AddDate(-1, 0, 0))
	rsaCert := p.issue(t, "1234567891", rs, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	stranger := mustPKI(t)
	untrusted := stranger.issue(t, "1234567890", ec, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	window := cms.Window{NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour), Skew: time.Minute}

	tests := []struct {
		name   string
		key    crypto.Signer
		cert   *x509.Certificate
		signed []byte
		at     time.Time
		want   error
	}{
		{"ecdsa", ec, good, doc[:], t0, nil},
		{"rsa", rs, rsaCert, doc[:], t0, nil},
		{"wrong hash", ec, good, other[:], t0, cms.ErrDigestMismatch},
		{"expired certificate", ec, expired, doc[:], t0, cms.ErrCertificateExpired},
		{"untrusted CA", ec, untrusted, doc[:], t0, cms.ErrUntrusted},
		{"key does not match certificate", rs, good, doc[:], t0, cms.ErrUnsupported},
		{"signed before the request", ec, good, doc[:], t0.Add(-2 * time.Hour), cms.ErrNoSigningTime},
		{"signed in the future", ec, good, doc[:], t0.Add(2 * time.Hour), cms.ErrNoSigningTime},
	}
	v := cms.NewVerifier(p.pool())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := cms.Sign(context.Background(), tc.signed, cms.CryptoSigner{Signer: tc.key}, tc.cert, nil, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := v.Verify(der, doc[:], window)
			if tc.want == nil && err != nil {
				t.Fatalf("Verify = %v, want ok", err)
			}
			if tc.want != nil {
				// a key/cert mismatch is a bad signature when the key types agree
				if !errors.Is(err, tc.want) && !(tc.want == cms.ErrUnsupported && errors.Is(err, cms.ErrBadSignature)) {
					t.Fatalf("Verify = %v, want %v", err, tc.want)
				}
				return
			}
			if got := cms.SubjectSerialNumber(sd.Signers[0].Certificate); got != "TINUA-"+tc.cert.Subject.SerialNumber[6:] {
				t.Errorf("serialNumber = %q", got)
			}
			if !sd.Signers[0].SigningTime.Equal(tc.at) {
				t.Errorf("signingTime = %v, want %v", sd.Signers[0].SigningTime, tc.at)
			}
		})
	}
}

func TestTamperedSignature(t *testing.T) {
	p := mustPKI(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc := sha256.Sum256([]byte("doc"))
	der, err := cms.Sign(context.Background(), doc[:], cms.CryptoSigner{Signer: ec}, p.issue(t, "1", ec, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	v := cms.NewVerifier(p.pool())
	// flip a byte of the signing time inside the signed attributes
	i := bytes.Index(der, []byte("261126100000Z"))
	if i < 0 {
		t.Fatal("signing time not found")
	}
	bad := bytes.Clone(der)
	bad[i+11] = '1'
	if _, err := v.Verify(bad, doc[:], cms.Window{}); !errors.Is(err, cms.ErrBadSignature) {
		t.Fatalf("tampered attrs: %v, want ErrBadSignature", err)
	}
	for _, garbage := range [][]byte{nil, []byte("hello"), der[:len(der)/2], append(bytes.Clone(der), 0)} {
		if _, err := v.Verify(garbage, doc[:], cms.Window{}); !errors.Is(err, cms.ErrMalformed) {
			t.Errorf("garbage %d bytes: %v, want ErrMalformed", len(garbage), err)
		}
	}
}

// TestOpenSSLVerifies checks our encoding with an independent
// implementation: openssl cms -verify (Debian package openssl).
func TestOpenSSLVerifies(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (Debian package openssl)")
	}
	p := mustPKI(t)
	now := time.Now()
	for _, alg := range []string{"ecdsa", "rsa"} {
		t.Run(alg, func(t *testing.T) {
			var key crypto.Signer
			if alg == "rsa" {
				key, _ = rsa.GenerateKey(rand.Reader, 2048)
			} else {
				key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			cert := p.issue(t, "3012345678", key, now.Add(-time.Hour), now.Add(time.Hour))
			doc := []byte("%PDF-1.4 test document\n")
			h := sha256.Sum256(doc)
			der, err := cms.Sign(context.Background(), h[:], cms.CryptoSigner{Signer: key}, cert, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			write := func(name string, b []byte) string {
				f := filepath.Join(dir, name)
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return f
			}
			ca := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw}))
			sig, content := write("doc.p7s", der), write("doc.pdf", doc)
			out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
				"-content", content, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl cms -verify: %v\n%s", err, out)
			}
			write("doc.pdf", []byte("tampered"))
			if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
				"-content", content, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
				t.Fatalf("openssl accepted a tampered document:\n%s", out)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	p := mustPKI(f)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc := sha256.Sum256([]byte("doc"))
	der, _ := cms.Sign(context.Background(), doc[:], cms.CryptoSigner{Signer: ec}, p.issue(f, "1", ec, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)), nil, t0)
	f.Add(der)
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Add([]byte{})
	v := cms.NewVerifier(p.pool())
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := cms.Parse(b)
		if err != nil {
			if !errors.Is(err, cms.ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(sd.Signers) == 0 || sd.Signers[0].Certificate == nil {
			t.Fatal("parsed without a signer certificate")
		}
		_, _ = v.Verify(b, doc[:], cms.Window{})
	})
}

func BenchmarkVerify(b *testing.B) {
	p := mustPKI(b)
	for _, alg := range []string{"ecdsa-p256", "rsa-2048"} {
		b.Run(alg, func(b *testing.B) {
			var key crypto.Signer
			if alg == "rsa-2048" {
				key, _ = rsa.GenerateKey(rand.Reader, 2048)
			} else {
				key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			doc := sha256.Sum256([]byte("doc"))
			der, err := cms.Sign(context.Background(), doc[:], cms.CryptoSigner{Signer: key}, p.issue(b, "1", key, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)), nil, t0)
			if err != nil {
				b.Fatal(err)
			}
			v := cms.NewVerifier(p.pool())
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := v.Verify(der, doc[:], cms.Window{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
			if used := cpuTime() - start; used > 0 {
				b.ReportMetric(float64(b.N)/used.Seconds(), "validations/cpu-s")
			}
		})
	}
}

// cpuTime is the process's CPU time: throughput per CPU-second stays
// meaningful on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestRevoked(t *testing.T) {
	p := mustPKI(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := p.issue(t, "1234567890", ec, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	doc := sha256.Sum256([]byte("doc"))
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: t0, NextUpdate: t0.AddDate(0, 0, 7),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: t0}},
	}, p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(crlDER)
	v := cms.NewVerifier(p.pool())
	v.CRLs = []*x509.RevocationList{crl}
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"signed before revocation", t0.Add(-time.Hour), nil},
		{"signed after revocation", t0.Add(time.Hour), cms.ErrRevoked},
	}
	for _, tc := range tests {
		der, _ := cms.Sign(context.Background(), doc[:], cms.CryptoSigner{Signer: ec}, cert, nil, tc.at)
		if _, err := v.Verify(der, doc[:], cms.Window{}); !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
