package connector_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/local/registries"
)

// issue makes a certificate signed by parent (self-signed when parent is nil).
func issue(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, server bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	if parent == nil {
		tmpl.IsCA, parent, parentKey = true, tmpl, key
	} else if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestMutualTLS: the security server demands a client certificate; the
// template names it by reference (env: and file:), never inline.
func TestMutualTLS(t *testing.T) {
	ca, caKey, caPEM, _ := issue(t, "Trembita test CA", nil, nil, false)
	_, _, srvCert, srvKey := issue(t, "security-server", ca, caKey, true)
	_, _, cliCert, cliKey := issue(t, "POSLUHA", ca, caKey, false)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	sim := registries.New(registries.Options{Seed: 1})
	srv := httptest.NewUnstartedServer(sim.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()

	keyFile := filepath.Join(t.TempDir(), "client.key")
	if err := os.WriteFile(keyFile, cliKey, 0o600); err != nil {
		t.Fatal(err)
	}
	src := "id: drrp.tls\nprotocol: xroad-rest\nendpoint: " + srv.URL + "\nclient: UA/GOV/44444444/POSLUHA\nservice: UA/GOV/00015622/DRRP/realtyRights\npath: /{taxNumber}\n" +
		"tls:\n  cert: env:TREMBITA_CERT\n  key: file:" + keyFile + "\n  ca: env:TREMBITA_CA\n"
	ts, err := connector.Parse("tls.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"TREMBITA_CERT": string(cliCert), "TREMBITA_CA": string(caPEM)}
	set, err := connector.New(ts, connector.Options{Getenv: func(k string) string { return vars[k] }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	args := connector.Args{Arguments: map[string]any{"taxNumber": registries.Citizens()[0].TaxNumber}}
	if _, err := set.Call(context.Background(), "drrp.tls", args, ""); err != nil {
		t.Fatalf("Call with a client certificate: %v", err)
	}

	// Without the client certificate the security server refuses the handshake.
	noCert, err := connector.Parse("tls.yaml", []byte(strings.Replace(src, "  cert: env:TREMBITA_CERT\n  key: file:"+keyFile+"\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	set2, err := connector.New(noCert, connector.Options{Getenv: func(k string) string { return vars[k] }, Transport: http.DefaultTransport.(*http.Transport).Clone()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set2.Call(context.Background(), "drrp.tls", args, ""); posluha.ErrorName(err) != posluha.ErrRegistryUnavailable {
		t.Errorf("Call without a client certificate = %v, want Registry.Unavailable", err)
	}

	// A missing secret fails at start, not on a citizen's application.
	delete(vars, "TREMBITA_CERT")
	if _, err := connector.New(ts, connector.Options{Getenv: func(k string) string { return vars[k] }}); err == nil || !strings.Contains(err.Error(), "TREMBITA_CERT is empty") {
		t.Errorf("New without the certificate = %v, want an error naming TREMBITA_CERT", err)
	}
}
