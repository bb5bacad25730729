// Package signer is the local stack's stand-in for the national PKI and the
// citizens' phones: a test CA that issues citizens' qualified-like
// certificates (tax number in the subject serialNumber as "TINUA-<RNOKPP>")
// and the system e-seal certificate, a simulated signing app that signs a
// request's hash (hash-then-sign, like Diia.Signature), and the local
// KMS-like e-seal key.
//
// Nothing here is for production: keys live in files under the data
// directory (0600) and the CA is trusted only by the local stack.
package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/posluha/posluha/functions/sign/cms"
)

// CA is a test certification authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA creates a self-signed ECDSA P-256 root valid for ten years from now.
func NewCA(name string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Posluha local test CA"}, Country: []string{"UA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Pool returns a pool holding the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM returns the CA certificate in PEM.
func (ca *CA) PEM() []byte { return pemCert(ca.Cert.Raw) }

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Identity is a certificate with its private key.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Algorithm of a generated key.
type Algorithm string

// Key algorithms the test CA issues for.
const (
	ECDSA Algorithm = "ecdsa" // P-256
	RSA   Algorithm = "rsa"   // 2048 bits
)

// Validity bounds an issued certificate.
type Validity struct{ NotBefore, NotAfter time.Time }

func newKey(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case ECDSA, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("unknown key algorithm %q", alg)
}

// Citizen issues a signing certificate for a citizen: subject CN name,
// serialNumber "TINUA-<taxNumber>", digitalSignature and nonRepudiation.
func (ca *CA) Citizen(taxNumber, name string, alg Algorithm, v Validity) (*Identity, error) {
	key, err := newKey(alg)
	if err != nil {
		return nil, err
	}
	subj := pkix.Name{
		CommonName:   name,
		SerialNumber: "TINUA-" + taxNumber,
		Country:      []string{"UA"},
	}
	return ca.issue(subj, key, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, v)
}

// Seal issues the system e-seal certificate for an existing public key
// (the local key, or a KMS key's public half).
func (ca *CA) Seal(org string, pub crypto.PublicKey, v Validity) (*x509.Certificate, error) {
	id, err := ca.issueFor(pkix.Name{CommonName: org + " (електронна печатка)", Organization: []string{org}, Country: []string{"UA"}},
		pub, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, v)
	if err != nil {
		return nil, err
	}
	return id, nil
}

func (ca *CA) issue(subj pkix.Name, key crypto.Signer, usage x509.KeyUsage, v Validity) (*Identity, error) {
	cert, err := ca.issueFor(subj, key.Public(), usage, v)
	if err != nil {
		return nil, err
	}
	return &Identity{Cert: cert, Key: key}, nil
}

func (ca *CA) issueFor(subj pkix.Name, pub crypto.PublicKey, usage x509.KeyUsage, v Validity) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subj,
		NotBefore:    v.NotBefore,
		NotAfter:     v.NotAfter,
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue %s: %w", subj.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// CRL returns a PEM revocation list of the CA revoking certs at the given
// time (TRUSTED_CRL_FILE for the functions).
func (ca *CA) CRL(at time.Time, revoked ...*x509.Certificate) ([]byte, error) {
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: at})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(at.Unix()), ThisUpdate: at, NextUpdate: at.AddDate(0, 0, 7), RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n.Add(n, big.NewInt(1))
}

// SignHash is what the citizen's app does with a signing request: sign the
// document hash (hex SHA-256, as the request shows it) and return the
// detached CAdES signature to post to the API.
func (id *Identity) SignHash(ctx context.Context, hashHex string, at time.Time) ([]byte, error) {
	digest, err := hex.DecodeString(hashHex)
	if err != nil {
		return nil, fmt.Errorf("hash %q: %w", hashHex, err)
	}
	return cms.Sign(ctx, digest, cms.CryptoSigner{Signer: id.Key}, id.Cert, nil, at)
}

// Open loads the CA kept in dir (ca.pem, ca.key) or creates one there.
func Open(dir string, now time.Time) (*CA, error) {
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	certPEM, err := os.ReadFile(certFile)
	if errors.Is(err, os.ErrNotExist) {
		ca, err := NewCA("Posluha Local CA", now)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("ca dir: %w", err)
		}
		keyPEM, err := MarshalKey(ca.Key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("write ca key: %w", err)
		}
		if err := os.WriteFile(certFile, ca.PEM(), 0o644); err != nil {
			return nil, fmt.Errorf("write ca cert: %w", err)
		}
		return ca, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ca: %w", err)
	}
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read ca key: %w", err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// MarshalKey encodes a private key as PKCS #8 PEM.
func MarshalKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey decodes a PKCS #8 PEM private key.
func ParseKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T cannot sign", k)
	}
	return s, nil
}

// ParseCertificate decodes the first PEM certificate.
func ParseCertificate(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}
