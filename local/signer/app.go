package signer

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// App is the simulated citizen signing app (like Diia.Signature): it keeps
// one certificate per test citizen under Dir/citizens/<taxNumber>.{pem,key},
// issued by the CA on first use.
type App struct {
	CA  *CA
	Dir string
	Now func() time.Time
}

var taxRE = regexp.MustCompile(`^[0-9]{10}$`)

// Citizen returns the test citizen's identity, issuing it when new.
func (a *App) Citizen(taxNumber, name string) (*Identity, error) {
	if !taxRE.MatchString(taxNumber) {
		return nil, fmt.Errorf("tax number %q: want 10 digits", taxNumber)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	certFile := filepath.Join(a.Dir, "citizens", taxNumber+".pem")
	keyFile := filepath.Join(a.Dir, "citizens", taxNumber+".key")
	if cb, err := os.ReadFile(certFile); err == nil {
		cert, err := ParseCertificate(cb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", certFile, err)
		}
		kb, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, err
		}
		key, err := ParseKey(kb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyFile, err)
		}
		return &Identity{Cert: cert, Key: key}, nil
	}
	if name == "" {
		name = "Тестовий громадянин " + taxNumber
	}
	id, err := a.CA.Citizen(taxNumber, name, ECDSA, Validity{NotBefore: now().Add(-time.Hour), NotAfter: now().AddDate(2, 0, 0)})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return nil, err
	}
	kp, err := MarshalKey(id.Key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, kp, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, pemCert(id.Cert.Raw), 0o644); err != nil {
		return nil, err
	}
	return id, nil
}

// Sign signs a request's hash (hex SHA-256) as the citizen.
func (a *App) Sign(ctx context.Context, taxNumber, hashHex string) ([]byte, error) {
	if _, err := hex.DecodeString(hashHex); err != nil || len(hashHex) != 64 {
		return nil, errors.New("hash: want 64 hex digits (SHA-256)")
	}
	id, err := a.Citizen(taxNumber, "")
	if err != nil {
		return nil, err
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	return id.SignHash(ctx, hashHex, now())
}

// RunCLI is the signing app's command line (for `posluha signer sign`):
//
//	--dir DIR   where the CA and the citizens' keys live (created when missing)
//	--tax N     the citizen's tax number
//	--hash H    the request's SHA-256 (hex), as the request shows it
//	--out FILE  where to write the .p7s (DER); "-" writes base64 to out
func RunCLI(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("signer sign", flag.ContinueOnError)
	fs.SetOutput(out)
	dir := fs.String("dir", "data/pki", "CA and citizen keys")
	tax := fs.String("tax", "", "citizen's tax number (RNOKPP)")
	hash := fs.String("hash", "", "SHA-256 of the document (hex)")
	file := fs.String("out", "-", "signature file (DER); - for base64 on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ca, err := Open(*dir, time.Now())
	if err != nil {
		return err
	}
	app := &App{CA: ca, Dir: *dir}
	der, err := app.Sign(ctx, *tax, *hash)
	if err != nil {
		return err
	}
	if *file == "-" {
		_, err = fmt.Fprintln(out, base64.StdEncoding.EncodeToString(der))
		return err
	}
	return os.WriteFile(*file, der, 0o644)
}

// QRPage serves the page a citizen's browser shows for a signing request:
// GET ?request=<id> gives the deeplink as a QR code (inline SVG) to scan
// with the (simulated) app, and the link itself.
func QRPage(deeplinkBase string) http.Handler {
	idRE := regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("request")
		if !idRE.MatchString(id) {
			http.Error(w, "request: want a signing request id", http.StatusBadRequest)
			return
		}
		link := deeplinkBase + "?request=" + id
		svg, err := QRSVG(link, 6)
		if err != nil {
			http.Error(w, "qr code", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="uk"><meta charset="utf-8"><title>Підписання</title>
<body style="font-family:sans-serif;text-align:center"><h1>Підпишіть документ у застосунку</h1>%s
<p>Відскануйте QR-код застосунком або відкрийте <a href="%s">посилання</a>.</p></body></html>`, svg, html.EscapeString(link))
	})
}

// QRSVG draws text as a QR code in SVG, scale pixels per module.
func QRSVG(text string, scale int) (string, error) {
	code, err := qrcode.New(text)
	if err != nil {
		return "", err
	}
	w := &svgWriter{scale: scale}
	if err := code.Save(w); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

type svgWriter struct {
	scale int
	b     strings.Builder
}

func (s *svgWriter) Write(m qrcode.Matrix) error {
	n := m.Width() + 8 // quiet zone of 4 modules
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"><rect width="%d" height="%d" fill="#fff"/><path d="`,
		n*s.scale, n*s.scale, n, n, n, n)
	m.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		if v.IsSet() {
			fmt.Fprintf(&s.b, "M%d %dh1v1h-1z", x+4, y+4)
		}
	})
	s.b.WriteString(`" fill="#000"/></svg>`)
	return nil
}

func (s *svgWriter) Close() error { return nil }
