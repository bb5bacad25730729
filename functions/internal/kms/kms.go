// Package kms holds the system e-seal key behind one interface: an AWS KMS
// asymmetric key (ECC_NIST_P256 signing ECDSA_SHA_256, or RSA signing
// RSASSA_PKCS1_V1_5_SHA_256) in AWS, or a local private key (PEM file from
// local/signer) in the local stack. The private half of the KMS key never
// leaves KMS: Sign sends only the digest (MessageType DIGEST).
//
// Seal wraps a key with its certificate into the detached CAdES signature
// stored next to every outgoing PDF.
package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posluha/posluha/functions/sign/cms"
)

// Key signs SHA-256 digests; it is cms.KeySigner.
type Key = cms.KeySigner

// API is the part of the KMS client AWS uses.
type API interface {
	Sign(ctx context.Context, in *awskms.SignInput, opts ...func(*awskms.Options)) (*awskms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *awskms.GetPublicKeyInput, opts ...func(*awskms.Options)) (*awskms.GetPublicKeyOutput, error)
}

// AWS is a KMS asymmetric signing key.
type AWS struct {
	api   API
	keyID string
	pub   crypto.PublicKey
	alg   types.SigningAlgorithmSpec
}

// NewAWS reads the public key of keyID (id, ARN or alias) once and returns
// the key.
func NewAWS(ctx context.Context, api API, keyID string) (*AWS, error) {
	out, err := api.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("kms public key %s: %w", keyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kms public key %s: %w", keyID, err)
	}
	k := &AWS{api: api, keyID: keyID, pub: pub}
	switch pub.(type) {
	case *ecdsa.PublicKey:
		k.alg = types.SigningAlgorithmSpecEcdsaSha256
	case *rsa.PublicKey:
		k.alg = types.SigningAlgorithmSpecRsassaPkcs1V15Sha256
	default:
		return nil, fmt.Errorf("kms key %s: unsupported public key %T", keyID, pub)
	}
	return k, nil
}

// NewAWSFromConfig is NewAWS with a client made from cfg.
func NewAWSFromConfig(ctx context.Context, cfg aws.Config, keyID string) (*AWS, error) {
	return NewAWS(ctx, awskms.NewFromConfig(cfg), keyID)
}

// Public returns the key's public half.
func (k *AWS) Public() crypto.PublicKey { return k.pub }

// SignDigest asks KMS to sign a SHA-256 digest.
func (k *AWS) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := k.api.Sign(ctx, &awskms.SignInput{
		KeyId: aws.String(k.keyID), Message: digest,
		MessageType: types.MessageTypeDigest, SigningAlgorithm: k.alg,
	})
	if err != nil {
		return nil, fmt.Errorf("kms sign: %w", err)
	}
	return out.Signature, nil
}

// Local is a private key held in memory (the local stack's e-seal).
type Local struct{ signer crypto.Signer }

// NewLocal wraps a private key.
func NewLocal(k crypto.Signer) *Local { return &Local{signer: k} }

// ParseLocal reads a PKCS #8 PEM private key.
func ParseLocal(pemKey []byte) (*Local, error) {
	blk, _ := pem.Decode(pemKey)
	if blk == nil {
		return nil, errors.New("local key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("local key: %T cannot sign", k)
	}
	return &Local{signer: s}, nil
}

// Public returns the public half.
func (l *Local) Public() crypto.PublicKey { return l.signer.Public() }

// SignDigest signs a SHA-256 digest (ASN.1 ECDSA or PKCS #1 v1.5).
func (l *Local) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return l.signer.Sign(rand.Reader, digest, crypto.SHA256)
}

// Seal is the system e-seal: a key with its certificate and chain.
type Seal struct {
	Key   Key
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	Now   func() time.Time
}

// NewSeal checks that cert is the key's and returns the seal.
func NewSeal(key Key, cert *x509.Certificate, chain ...*x509.Certificate) (*Seal, error) {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := cert.PublicKey.(equaler); !ok || !e.Equal(key.Public()) {
		return nil, errors.New("e-seal: certificate does not belong to the key")
	}
	return &Seal{Key: key, Cert: cert, Chain: chain, Now: time.Now}, nil
}

// Sign returns the detached CAdES signature of a document's SHA-256 digest.
func (s *Seal) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return cms.Sign(ctx, digest, s.Key, s.Cert, s.Chain, now())
}

// ParseCertificates reads PEM certificates: the seal's first, then its chain.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// LoadSeal builds the e-seal from the environment: SEAL_CERT_PEM (or the
// file SEAL_CERT_FILE) holds the certificate and chain; SEAL_KMS_KEY_ID
// selects an AWS KMS key, else SEAL_KEY_FILE a local PEM key.
func LoadSeal(ctx context.Context, cfg aws.Config, getenv func(string) string) (*Seal, error) {
	certPEM := []byte(getenv("SEAL_CERT_PEM"))
	if f := getenv("SEAL_CERT_FILE"); len(certPEM) == 0 && f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("e-seal certificate: %w", err)
		}
		certPEM = b
	}
	if len(certPEM) == 0 {
		return nil, errors.New("e-seal: SEAL_CERT_PEM or SEAL_CERT_FILE is required")
	}
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("e-seal: %w", err)
	}
	var key Key
	switch {
	case getenv("SEAL_KMS_KEY_ID") != "":
		key, err = NewAWSFromConfig(ctx, cfg, getenv("SEAL_KMS_KEY_ID"))
	case getenv("SEAL_KEY_FILE") != "":
		var b []byte
		if b, err = os.ReadFile(getenv("SEAL_KEY_FILE")); err == nil {
			key, err = ParseLocal(b)
		}
	default:
		err = errors.New("SEAL_KMS_KEY_ID or SEAL_KEY_FILE is required")
	}
	if err != nil {
		return nil, fmt.Errorf("e-seal key: %w", err)
	}
	return NewSeal(key, certs[0], certs[1:]...)
}

// CryptoSigner adapts a Key to crypto.Signer, for the standard library's
// certificate and CSR code (SHA-256 only).
type CryptoSigner struct {
	Ctx context.Context
	Key Key
}

// Public returns the key's public half.
func (s CryptoSigner) Public() crypto.PublicKey { return s.Key.Public() }

// Sign signs a SHA-256 digest.
func (s CryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != crypto.SHA256 {
		return nil, fmt.Errorf("e-seal key signs SHA-256 digests only, not %v", opts.HashFunc())
	}
	return s.Key.SignDigest(s.Ctx, digest)
}

// CSR returns a PKCS #10 certificate request (PEM) for the e-seal key,
// signed by the key itself (in KMS), to send to the qualified trust
// service provider that issues the e-seal certificate.
func CSR(ctx context.Context, key Key, subject pkix.Name) ([]byte, error) {
	tmpl := &x509.CertificateRequest{Subject: subject}
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		tmpl.SignatureAlgorithm = x509.SHA256WithRSA
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, CryptoSigner{Ctx: ctx, Key: key})
	if err != nil {
		return nil, fmt.Errorf("e-seal CSR: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}
