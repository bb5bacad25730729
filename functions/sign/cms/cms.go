package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"
)

// Sentinel errors; every error this package returns wraps one of them.
var (
	// ErrMalformed: the bytes are not a CMS SignedData this package reads.
	ErrMalformed = errors.New("malformed signature")
	// ErrUnsupported: a digest or signature algorithm nobody registered.
	ErrUnsupported = errors.New("unsupported algorithm")
	// ErrBadSignature: the signature over the signed attributes is wrong.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrDigestMismatch: the signature is for another document.
	ErrDigestMismatch = errors.New("message digest does not match the document")
	// ErrUntrusted: the certificate does not chain to a trusted CA.
	ErrUntrusted = errors.New("certificate is not issued by a trusted CA")
	// ErrCertificateExpired: the certificate was not valid at signing time.
	ErrCertificateExpired = errors.New("certificate not valid at signing time")
	// ErrNoSigningTime: signingTime is missing or out of the allowed window.
	ErrNoSigningTime = errors.New("signing time missing or out of range")
	// ErrRevoked: the certificate was revoked before the signing time.
	ErrRevoked = errors.New("certificate revoked")
)

// Object identifiers used here.
var (
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECPublicKey         = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSAEncryption       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSubjectSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue // SET OF AlgorithmIdentifier
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue // SET OF SignerInfo
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF AttributeValue
}

// SignerInfo is one parsed signature of a SignedData.
type SignerInfo struct {
	Certificate   *x509.Certificate // the signer's, found among the message's certificates
	DigestOID     asn1.ObjectIdentifier
	SignatureOID  asn1.ObjectIdentifier
	MessageDigest []byte
	SigningTime   time.Time // zero when the attribute is absent
	signedAttrs   []byte    // DER of the SET OF attributes, as signed
	signature     []byte
}

// SignedData is a parsed detached CMS signature.
type SignedData struct {
	Certificates []*x509.Certificate
	Signers      []SignerInfo
}

// Parse decodes a detached CMS SignedData (DER). It checks structure only;
// Verifier.Verify checks trust, digest and signature. Any input that is not
// a well-formed SignedData gives an error wrapping ErrMalformed; Parse never
// panics.
func Parse(der []byte) (*SignedData, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: content info: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not signedData", ErrMalformed, ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: signed data: %v", ErrMalformed, err)
	}
	if len(sd.EncapContentInfo.EContent.Bytes) != 0 {
		return nil, fmt.Errorf("%w: signature is not detached", ErrMalformed)
	}
	out := &SignedData{}
	if len(sd.Certificates.Bytes) != 0 {
		certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificates: %v", ErrMalformed, err)
		}
		out.Certificates = certs
	}
	if sd.SignerInfos.Tag != asn1.TagSet {
		return nil, fmt.Errorf("%w: signerInfos is not a SET", ErrMalformed)
	}
	for b := sd.SignerInfos.Bytes; len(b) > 0; {
		var si signerInfo
		b, err = asn1.Unmarshal(b, &si)
		if err != nil {
			return nil, fmt.Errorf("%w: signer info: %v", ErrMalformed, err)
		}
		s, err := parseSignerInfo(&si, out.Certificates)
		if err != nil {
			return nil, err
		}
		out.Signers = append(out.Signers, s)
	}
	if len(out.Signers) == 0 {
		return nil, fmt.Errorf("%w: no signer infos", ErrMalformed)
	}
	return out, nil
}

func parseSignerInfo(si *signerInfo, certs []*x509.Certificate) (SignerInfo, error) {
	s := SignerInfo{
		DigestOID:    si.DigestAlgorithm.Algorithm,
		SignatureOID: si.SignatureAlgorithm.Algorithm,
		signature:    si.Signature,
	}
	cert, err := findCertificate(si.SID, certs)
	if err != nil {
		return s, err
	}
	s.Certificate = cert
	if len(si.SignedAttrs.FullBytes) == 0 {
		return s, fmt.Errorf("%w: no signed attributes", ErrMalformed)
	}
	// The signature covers the attributes with their universal SET tag,
	// not the [0] IMPLICIT tag they travel under (RFC 5652 §5.4).
	s.signedAttrs = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	var contentType bool
	for b := si.SignedAttrs.Bytes; len(b) > 0; {
		var a attribute
		var err error
		b, err = asn1.Unmarshal(b, &a)
		if err != nil {
			return s, fmt.Errorf("%w: signed attribute: %v", ErrMalformed, err)
		}
		if a.Values.Tag != asn1.TagSet || a.Values.Class != asn1.ClassUniversal {
			return s, fmt.Errorf("%w: attribute %v values are not a SET", ErrMalformed, a.Type)
		}
		switch {
		case a.Type.Equal(oidAttrMessageDigest):
			if _, err := asn1.Unmarshal(a.Values.Bytes, &s.MessageDigest); err != nil {
				return s, fmt.Errorf("%w: messageDigest: %v", ErrMalformed, err)
			}
		case a.Type.Equal(oidAttrSigningTime):
			if _, err := asn1.Unmarshal(a.Values.Bytes, &s.SigningTime); err != nil {
				return s, fmt.Errorf("%w: signingTime: %v", ErrMalformed, err)
			}
		case a.Type.Equal(oidAttrContentType):
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(a.Values.Bytes, &oid); err != nil || !oid.Equal(oidData) {
				return s, fmt.Errorf("%w: contentType is not data", ErrMalformed)
			}
			contentType = true
		}
	}
	if s.MessageDigest == nil || !contentType {
		return s, fmt.Errorf("%w: contentType and messageDigest attributes are required", ErrMalformed)
	}
	return s, nil
}

func findCertificate(sid asn1.RawValue, certs []*x509.Certificate) (*x509.Certificate, error) {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || ias.Serial == nil {
			return nil, fmt.Errorf("%w: signer identifier: %v", ErrMalformed, err)
		}
		for _, c := range certs {
			if c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) {
				return c, nil
			}
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
	default:
		return nil, fmt.Errorf("%w: unknown signer identifier", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: the signer's certificate is not in the signature", ErrMalformed)
}

// SubjectSerialNumber returns the subject's serialNumber attribute (OID
// 2.5.4.5), where Ukrainian qualified certificates carry the tax number as
// "TINUA-<RNOKPP>".
func SubjectSerialNumber(c *x509.Certificate) string {
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidSubjectSerialNumber) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// KeySigner signs a SHA-256 digest: an in-memory key, AWS KMS, a hardware
// token. The signature is ASN.1 DER for ECDSA and PKCS #1 v1.5 for RSA.
type KeySigner interface {
	Public() crypto.PublicKey
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// CryptoSigner adapts a crypto.Signer (ecdsa or rsa private key) to KeySigner.
type CryptoSigner struct{ crypto.Signer }

// SignDigest signs digest with SHA-256 options.
func (s CryptoSigner) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return s.Sign(rand.Reader, digest, crypto.SHA256)
}

// Sign returns a detached CAdES-BES signature (DER) of a document whose
// SHA-256 digest is given, by the key of cert, with the chain (without the
// root) embedded for the verifier.
func Sign(ctx context.Context, digest []byte, key KeySigner, cert *x509.Certificate, chain []*x509.Certificate, at time.Time) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("sign: digest is %d bytes, want SHA-256", len(digest))
	}
	var sigAlg pkix.AlgorithmIdentifier
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	case *rsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("sign: %w: key type %T", ErrUnsupported, key.Public())
	}
	certHash := sha256.Sum256(cert.Raw)
	attrs, err := attributeSet(
		attr(oidAttrContentType, oidData),
		attr(oidAttrSigningTime, at.UTC()),
		attr(oidAttrMessageDigest, digest),
		attr(oidAttrSigningCertV2, signingCertificateV2{Certs: []essCertIDv2{{CertHash: certHash[:]}}}),
	)
	if err != nil {
		return nil, fmt.Errorf("sign: attributes: %w", err)
	}
	h := sha256.Sum256(attrs)
	sig, err := key.SignDigest(ctx, h[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sid, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber})
	if err != nil {
		return nil, fmt.Errorf("sign: signer id: %w", err)
	}
	si, err := asn1.Marshal(signerInfo{
		Version:            1,
		SID:                asn1.RawValue{FullBytes: sid},
		DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
		SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs[headerLen(attrs):]},
		SignatureAlgorithm: sigAlg,
		Signature:          sig,
	})
	if err != nil {
		return nil, fmt.Errorf("sign: signer info: %w", err)
	}
	digestAlgs, err := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: oidSHA256})
	if err != nil {
		return nil, err
	}
	var certs []byte
	for _, c := range append([]*x509.Certificate{cert}, chain...) {
		certs = append(certs, c.Raw...)
	}
	sd, err := asn1.Marshal(signedData{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: digestAlgs},
		EncapContentInfo: encapContentInfo{EContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certs},
		SignerInfos:      asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: si},
	})
	if err != nil {
		return nil, fmt.Errorf("sign: signed data: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd},
	})
}

type essCertIDv2 struct {
	CertHash []byte // hashAlgorithm defaults to SHA-256 and is omitted
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

type rawAttr struct {
	oid asn1.ObjectIdentifier
	val any
}

func attr(oid asn1.ObjectIdentifier, v any) rawAttr { return rawAttr{oid, v} }

// attributeSet encodes attributes as a DER SET OF: elements sorted by
// their encodings (X.690 §11.6).
func attributeSet(as ...rawAttr) ([]byte, error) {
	enc := make([][]byte, 0, len(as))
	for _, a := range as {
		v, err := asn1.Marshal(a.val)
		if err != nil {
			return nil, fmt.Errorf("attribute %v: %w", a.oid, err)
		}
		b, err := asn1.Marshal(attribute{Type: a.oid, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
		if err != nil {
			return nil, fmt.Errorf("attribute %v: %w", a.oid, err)
		}
		enc = append(enc, b)
	}
	sort.Slice(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 })
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(enc, nil)})
}

// headerLen is the length of a DER tag+length header.
func headerLen(der []byte) int {
	if len(der) < 2 || der[1] < 0x80 {
		return 2
	}
	return 2 + int(der[1]&0x7f)
}
