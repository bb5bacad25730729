package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Env prepares the local stack's PKI in dir — the test CA, and the system
// e-seal key (the local stand-in for the AWS KMS key) with its certificate
// — creating what is missing, and returns the environment the sign and
// pdfgen functions read:
//
//	TRUSTED_CA_FILE  the CA citizens' certificates and the e-seal chain to
//	SEAL_KEY_FILE    the e-seal private key (PKCS #8 PEM, 0600)
//	SEAL_CERT_FILE   its certificate
//
// The stack adds DOCUMENTS_BUCKET, S3_PATH_STYLE=true, SIGN_DB and
// VERIFY_URL.
func Env(dir string, now time.Time) (map[string]string, error) {
	ca, err := Open(dir, now)
	if err != nil {
		return nil, err
	}
	keyFile, certFile := filepath.Join(dir, "seal.key"), filepath.Join(dir, "seal.pem")
	if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		cert, err := ca.Seal("Posluha (local)", key.Public(), Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)})
		if err != nil {
			return nil, err
		}
		kp, err := MarshalKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, kp, 0o600); err != nil {
			return nil, fmt.Errorf("write seal key: %w", err)
		}
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
			return nil, fmt.Errorf("write seal certificate: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	return map[string]string{
		"TRUSTED_CA_FILE": filepath.Join(dir, "ca.pem"),
		"SEAL_KEY_FILE":   keyFile,
		"SEAL_CERT_FILE":  certFile,
	}, nil
}
