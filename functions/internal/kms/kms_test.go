package kms_test

import (
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
	"testing"
	"time"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/posluha/posluha/functions/internal/kms"
	"github.com/posluha/posluha/functions/sign/cms"
)

// fakeKMS answers like KMS for one private key: func fields per method.
type fakeKMS struct {
	key crypto.Signer
}

func (f *fakeKMS) GetPublicKey(ctx context.Context, in *awskms.GetPublicKeyInput, _ ...func(*awskms.Options)) (*awskms.GetPublicKeyOutput, error) {
	der, err := x509.MarshalPKIXPublicKey(f.key.Public())
	return &awskms.GetPublicKeyOutput{PublicKey: der}, err
}

func (f *fakeKMS) Sign(ctx context.Context, in *awskms.SignInput, _ ...func(*awskms.Options)) (*awskms.SignOutput, error) {
	if in.MessageType != types.MessageTypeDigest || len(in.Message) != 32 {
		return nil, errors.New("KMS must get a SHA-256 digest")
	}
	sig, err := f.key.Sign(rand.Reader, in.Message, crypto.SHA256)
	return &awskms.SignOutput{Signature: sig, SigningAlgorithm: in.SigningAlgorithm}, err
}

func TestSealVerifies(t *testing.T) {
	ctx := context.Background()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	ca, _ := x509.ParseCertificate(caDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	awsEC, err := kms.NewAWS(ctx, &fakeKMS{key: ecKey}, "alias/e-seal")
	if err != nil {
		t.Fatal(err)
	}
	awsRSA, err := kms.NewAWS(ctx, &fakeKMS{key: rsaKey}, "alias/e-seal-rsa")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  kms.Key
	}{
		{"aws kms ecdsa", awsEC},
		{"aws kms rsa", awsRSA},
		{"local", kms.NewLocal(ecKey)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: "Posluha e-seal"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, tc.key.Public(), caKey)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(der)
			seal, err := kms.NewSeal(tc.key, cert)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("pdf"))
			p7s, err := seal.Sign(ctx, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cms.NewVerifier(pool).Verify(p7s, digest[:], cms.Window{}); err != nil {
				t.Fatalf("verify seal: %v", err)
			}
			if _, err := kms.NewSeal(tc.key, ca); err == nil {
				t.Error("NewSeal accepted a certificate of another key")
			}
		})
	}
}

func TestCSR(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := kms.NewAWS(context.Background(), &fakeKMS{key: key}, "alias/e-seal")
	if err != nil {
		t.Fatal(err)
	}
	p, err := kms.CSR(context.Background(), k, pkix.Name{CommonName: "Posluha e-seal", Organization: []string{"Posluha"}})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(p)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil || csr.Subject.CommonName != "Posluha e-seal" {
		t.Fatalf("CSR %v: %v", csr.Subject, err)
	}
}
