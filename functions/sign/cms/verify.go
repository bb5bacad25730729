package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Algorithm verifies a signature made with one public-key algorithm over
// the SHA-256 digest of the signed attributes.
type Algorithm interface {
	Verify(pub crypto.PublicKey, digest, sig []byte) error
}

// AlgorithmFunc adapts a function to Algorithm.
type AlgorithmFunc func(pub crypto.PublicKey, digest, sig []byte) error

// Verify calls f.
func (f AlgorithmFunc) Verify(pub crypto.PublicKey, digest, sig []byte) error {
	return f(pub, digest, sig)
}

func verifyECDSA(pub crypto.PublicKey, digest, sig []byte) error {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: ECDSA signature with a %T key", ErrBadSignature, pub)
	}
	if !ecdsa.VerifyASN1(k, digest, sig) {
		return ErrBadSignature
	}
	return nil
}

func verifyRSA(pub crypto.PublicKey, digest, sig []byte) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: RSA signature with a %T key", ErrBadSignature, pub)
	}
	if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// StandardAlgorithms returns the algorithms verified out of the box, keyed
// by signatureAlgorithm OID: ECDSA with SHA-256 (also written as bare
// id-ecPublicKey) and RSA PKCS #1 v1.5 (sha256WithRSAEncryption or bare
// rsaEncryption). Add a national algorithm (DSTU 4145) to the map.
func StandardAlgorithms() map[string]Algorithm {
	return map[string]Algorithm{
		oidECDSAWithSHA256.String(): AlgorithmFunc(verifyECDSA),
		oidECPublicKey.String():     AlgorithmFunc(verifyECDSA),
		oidSHA256WithRSA.String():   AlgorithmFunc(verifyRSA),
		oidRSAEncryption.String():   AlgorithmFunc(verifyRSA),
	}
}

// Verifier checks detached signatures against trusted CAs.
type Verifier struct {
	Roots         *x509.CertPool
	Intermediates *x509.CertPool // optional; certificates in the message are added
	Algorithms    map[string]Algorithm
	// KeyUsages the signer certificate must allow; nil accepts any.
	KeyUsages []x509.ExtKeyUsage
	// CRLs are the CAs' revocation lists (each checked against its issuer
	// in the verified chain). A certificate revoked at or before the
	// signing time is ErrRevoked. OCSP is not implemented.
	CRLs []*x509.RevocationList
}

// NewVerifier returns a Verifier trusting roots with StandardAlgorithms.
func NewVerifier(roots *x509.CertPool) *Verifier {
	return &Verifier{Roots: roots, Algorithms: StandardAlgorithms()}
}

// Window bounds the signingTime a signature may claim: a signature for a
// request opened at NotBefore cannot have been made before it, nor after
// NotAfter (now). Skew tolerates clock differences of the signer's phone.
type Window struct {
	NotBefore, NotAfter time.Time
	Skew                time.Duration
}

// Verify parses der and checks every SignerInfo: the messageDigest equals
// digest (SHA-256 of the document), the signature over the signed
// attributes verifies, signingTime is present and inside w, and the
// certificate chains to a root and was valid at signing time. It returns
// the parsed signature; errors wrap the package's sentinels.
func (v *Verifier) Verify(der, digest []byte, w Window) (*SignedData, error) {
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	inter := x509.NewCertPool()
	if v.Intermediates != nil {
		inter = v.Intermediates.Clone()
	}
	for _, c := range sd.Certificates {
		inter.AddCert(c)
	}
	for i := range sd.Signers {
		if err := v.verifySigner(&sd.Signers[i], digest, w, inter); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

func (v *Verifier) verifySigner(s *SignerInfo, digest []byte, w Window, inter *x509.CertPool) error {
	if !s.DigestOID.Equal(oidSHA256) {
		return fmt.Errorf("%w: digest algorithm %v", ErrUnsupported, s.DigestOID)
	}
	alg, ok := v.Algorithms[s.SignatureOID.String()]
	if !ok {
		return fmt.Errorf("%w: signature algorithm %v", ErrUnsupported, s.SignatureOID)
	}
	if subtle.ConstantTimeCompare(s.MessageDigest, digest) != 1 {
		return ErrDigestMismatch
	}
	h := sha256.Sum256(s.signedAttrs)
	if err := alg.Verify(s.Certificate.PublicKey, h[:], s.signature); err != nil {
		return err
	}
	if s.SigningTime.IsZero() {
		return fmt.Errorf("%w: no signingTime attribute", ErrNoSigningTime)
	}
	if !w.NotBefore.IsZero() && s.SigningTime.Before(w.NotBefore.Add(-w.Skew)) {
		return fmt.Errorf("%w: signed at %s, before the request was opened", ErrNoSigningTime, s.SigningTime.Format(time.RFC3339))
	}
	if !w.NotAfter.IsZero() && s.SigningTime.After(w.NotAfter.Add(w.Skew)) {
		return fmt.Errorf("%w: signed at %s, in the future", ErrNoSigningTime, s.SigningTime.Format(time.RFC3339))
	}
	c := s.Certificate
	if s.SigningTime.Before(c.NotBefore) || s.SigningTime.After(c.NotAfter) {
		return fmt.Errorf("%w: valid %s to %s, signed %s", ErrCertificateExpired,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), s.SigningTime.Format(time.DateOnly))
	}
	usages := v.KeyUsages
	if usages == nil {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	chains, err := c.Verify(x509.VerifyOptions{
		Roots:         v.Roots,
		Intermediates: inter,
		CurrentTime:   s.SigningTime,
		KeyUsages:     usages,
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return fmt.Errorf("%w: %v", ErrCertificateExpired, err)
		}
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if len(chains[0]) > 1 {
		return v.checkRevoked(c, chains[0][1], s.SigningTime)
	}
	return nil
}

// checkRevoked looks c up in the CRLs issued (and signed) by issuer.
func (v *Verifier) checkRevoked(c, issuer *x509.Certificate, at time.Time) error {
	for _, l := range v.CRLs {
		if !bytes.Equal(l.RawIssuer, c.RawIssuer) || l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range l.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 && !e.RevocationTime.After(at) {
				return fmt.Errorf("%w: since %s", ErrRevoked, e.RevocationTime.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}
