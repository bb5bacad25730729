// Package cms reads and writes detached CMS (RFC 5652) SignedData in the
// CAdES-BES shape the citizens' signing apps produce: one or more
// SignerInfos whose signed attributes carry contentType, messageDigest,
// signingTime and (written here, read when present) signingCertificateV2.
//
// Hash-then-sign: the signer never needs the document, only its digest, so
// Sign takes a digest and Verify checks the messageDigest attribute against
// the digest the caller computed from the stored document.
//
// The public-key algorithm is behind Algorithm (see algorithm.go): ECDSA
// (P-256, P-384) and RSA PKCS#1 v1.5 are registered; a national algorithm
// such as DSTU 4145 is added by registering another Algorithm for its OIDs.
//
// Errors are sentinels wrapped with context (errors.Is): ErrMalformed,
// ErrUnsupported, ErrBadSignature, ErrDigestMismatch, ErrUntrusted,
// ErrCertificateExpired, ErrRevoked (CRLs), ErrNoSigningTime.
package cms
