// Package pdfgen is the pdfgen function: it renders a service's document
// template (statemachines/<service>/<template>.yaml) into a PDF with
// Ukrainian text, a table and a QR code to the public verification page,
// stores it in S3 with its SHA-256 and a system e-seal (.p7s) next to it,
// and returns {"document": {number, key, sha256, …}}.
//
// Keys scale to millions of objects and keep one application together:
//
//	<service>/<yyyy>/<mm>/<dd>/<applicationId>/<template>.pdf
//	<service>/<yyyy>/<mm>/<dd>/<applicationId>/<template>.seal.p7s
//	<service>/<yyyy>/<mm>/<dd>/<applicationId>/<template>.<requestId>.p7s   citizens' signatures (sign)
//	verify/<number>.json   public index: number → key, hash, seal (no personal data)
//
// The date is the issue date in Europe/Kyiv. The number is derived from
// (applicationId, step, template), so a retried or redriven task finds the
// index entry and returns the same document instead of issuing another.
// The index entry is written last: a document exists once it is there.
package pdfgen

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Kyiv in the Lambda without a zoneinfo

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/functions/sign/cms"
)

// Blobs is the document storage pdfgen needs (blob.Client, blob.Memory,
// blob.Fallback during a storage migration).
type Blobs = blob.Store

// Sealer makes the detached e-seal signature of a SHA-256 digest
// (kms.Seal: AWS KMS or the local key).
type Sealer interface {
	Sign(ctx context.Context, digest []byte) ([]byte, error)
}

// Verifier checks detached signatures (cms.Verifier trusting the seal's
// and the citizens' CAs).
type Verifier interface {
	Verify(der, digest []byte, w cms.Window) (*cms.SignedData, error)
}

// Deps are what the handler needs.
type Deps struct {
	Templates fs.FS // service folders
	Blobs     Blobs
	Seal      Sealer
	Verifier  Verifier
	// VerifyURL is the public verification page; the number is appended
	// ("https://posluha.gov.ua/verify/").
	VerifyURL string
	Log       *slog.Logger
	Now       func() time.Time
	// Steps reports the step of each task to the console's projection
	// (stepevents.FromEnv: STEP_EVENTS, AWS only); nil: off.
	Steps stepevents.Notifier
}

// Handler is the pdfgen function.
type Handler struct {
	d   Deps
	loc *time.Location
}

// New returns a Handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		loc = time.FixedZone("EET", 2*3600)
	}
	return &Handler{d: d, loc: loc}
}

// Document is the task's result under "document": what the BPMN keeps in
// a variable and the API shows the citizen. No personal data.
type Document struct {
	Number   string    `json:"number"`
	Key      string    `json:"key"`
	SHA256   string    `json:"sha256"`
	Seal     string    `json:"seal"` // key of the e-seal .p7s
	Filename string    `json:"filename,omitempty"`
	Service  string    `json:"service"`
	Template string    `json:"template"`
	IssuedAt time.Time `json:"issuedAt"`
	Size     int       `json:"size"`
}

// Output is the task's result.
type Output struct {
	Document Document `json:"document"`
}

// Number returns the document number for (applicationId, step, template):
// the template's prefix and 60 bits of a hash in Crockford base32, e.g.
// EP-7K3M-9QX2-HT4A.
func Number(prefix, applicationID, step, template string) string {
	h := sha256.Sum256([]byte(applicationID + "\x00" + step + "\x00" + template))
	s := crockford.EncodeToString(h[:8])[:12]
	if prefix == "" {
		prefix = "D"
	}
	return prefix + "-" + s[:4] + "-" + s[4:8] + "-" + s[8:12]
}

var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

var numberRE = regexp.MustCompile(`^[A-Z]{1,8}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func indexKey(number string) string { return "verify/" + number + ".json" }

// Handle renders and stores a document. Arguments: template (task
// header), fields (ioMapping inputs fields.*). Errors: Task.Invalid,
// Document.Template.
func (h *Handler) Handle(ctx context.Context, req posluha.TaskRequest) (Output, error) {
	if err := req.Validate(); err != nil {
		return Output{}, err
	}
	stepevents.Enter(ctx, h.d.Steps, h.d.Log, &req)
	id, _ := req.Arguments["template"].(string)
	if id == "" {
		return Output{}, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.template (task header) is required")
	}
	tmpl, err := LoadTemplate(h.d.Templates, req.Service, id)
	if err != nil {
		return Output{}, err
	}
	number := Number(tmpl.Prefix, req.ApplicationID, req.Step, id)
	if b, _, err := h.d.Blobs.Get(ctx, indexKey(number)); err == nil {
		var doc Document
		if err := json.Unmarshal(b, &doc); err != nil {
			return Output{}, fmt.Errorf("index %s: %w", number, err)
		}
		return Output{Document: doc}, nil
	} else if !errors.Is(err, blob.ErrNotFound) {
		return Output{}, fmt.Errorf("read index: %w", err)
	}
	fields, _ := req.Arguments["fields"].(map[string]any)
	now := h.d.Now()
	pdf, err := Render(tmpl, Page{Number: number, IssuedAt: now, VerifyURL: h.d.VerifyURL + number, Fields: fields, Location: h.loc})
	if err != nil {
		return Output{}, err
	}
	sum := sha256.Sum256(pdf)
	doc := Document{
		Number: number, SHA256: hex.EncodeToString(sum[:]), Filename: tmpl.Filename,
		Service: req.Service, Template: id, IssuedAt: now.UTC(), Size: len(pdf),
		Key: fmt.Sprintf("%s/%s/%s/%s.pdf", req.Service, now.In(h.loc).Format("2006/01/02"), strings.ReplaceAll(req.ApplicationID, "/", "_"), id),
	}
	doc.Seal = strings.TrimSuffix(doc.Key, ".pdf") + ".seal.p7s"
	meta := map[string]string{"sha256": doc.SHA256, "number": number, "service": req.Service}
	if err := h.d.Blobs.Put(ctx, doc.Key, pdf, "application/pdf", meta); err != nil {
		return Output{}, fmt.Errorf("store document: %w", err)
	}
	seal, err := h.d.Seal.Sign(ctx, sum[:])
	if err != nil {
		return Output{}, fmt.Errorf("e-seal: %w", err)
	}
	if err := h.d.Blobs.Put(ctx, doc.Seal, seal, "application/pkcs7-signature", map[string]string{"document-sha256": doc.SHA256}); err != nil {
		return Output{}, fmt.Errorf("store e-seal: %w", err)
	}
	idx, _ := json.Marshal(doc)
	if err := h.d.Blobs.Put(ctx, indexKey(number), idx, "application/json", nil); err != nil {
		return Output{}, fmt.Errorf("store index: %w", err)
	}
	h.d.Log.InfoContext(ctx, "document issued", "applicationId", req.ApplicationID, "step", req.Step, "number", number, "size", len(pdf))
	return Output{Document: doc}, nil
}

// Lambda returns the handler the bootstrap binary and the local stack run.
func (h *Handler) Lambda() func(context.Context, posluha.TaskRequest) (Output, error) {
	return lambdaerr.Handler(h.d.Log, h.Handle)
}

// DownloadURL returns a short-lived presigned URL for a document (or its
// .p7s) for the API to hand to the citizen it belongs to.
func (h *Handler) DownloadURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	return h.d.Blobs.PresignGet(ctx, key, ttl, name)
}

// SealInfo describes a verified signature without personal data: the
// e-seal's organisation, never a citizen's name or tax number.
type SealInfo struct {
	Valid        bool      `json:"valid"`
	Organization string    `json:"organization,omitempty"`
	SignedAt     time.Time `json:"signedAt,omitzero"`
	Problem      string    `json:"problem,omitempty"`
}

// Verification is the public answer for a document number.
type Verification struct {
	Number     string     `json:"number"`
	Found      bool       `json:"found"`
	Genuine    bool       `json:"genuine"` // stored bytes match the hash and the e-seal is valid
	Service    string     `json:"service,omitempty"`
	IssuedAt   time.Time  `json:"issuedAt,omitzero"`
	SHA256     string     `json:"sha256,omitempty"` // compare with the file you hold
	Seal       *SealInfo  `json:"seal,omitempty"`
	Signatures []SealInfo `json:"signatures,omitempty"` // citizens' signatures of the PDF
}

// Verify answers the public verification page: whether document number
// exists, its stored bytes still have the issued hash, and its e-seal and
// any signatures are valid. An unknown or malformed number is Found false.
func (h *Handler) Verify(ctx context.Context, number string) (Verification, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	v := Verification{Number: number}
	if !numberRE.MatchString(number) {
		return v, nil
	}
	b, _, err := h.d.Blobs.Get(ctx, indexKey(number))
	if errors.Is(err, blob.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("verify %s: %w", number, err)
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return v, fmt.Errorf("verify %s: index: %w", number, err)
	}
	v.Found, v.Service, v.IssuedAt, v.SHA256 = true, doc.Service, doc.IssuedAt, doc.SHA256
	pdf, _, err := h.d.Blobs.Get(ctx, doc.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return v, nil // index without document: deleted after retention
	}
	if err != nil {
		return v, fmt.Errorf("verify %s: %w", number, err)
	}
	sum := sha256.Sum256(pdf)
	intact := hex.EncodeToString(sum[:]) == doc.SHA256
	seal := h.check(ctx, doc.Seal, sum[:], doc.IssuedAt)
	v.Seal = &seal
	base := strings.TrimSuffix(doc.Key, ".pdf") + "."
	err = h.d.Blobs.List(ctx, base, "", func(o blob.Object) error {
		if strings.HasSuffix(o.Key, ".p7s") && o.Key != doc.Seal {
			s := h.check(ctx, o.Key, sum[:], time.Time{})
			s.Organization = ""
			v.Signatures = append(v.Signatures, s)
		}
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("verify %s: list signatures: %w", number, err)
	}
	v.Genuine = intact && seal.Valid
	return v, nil
}

func (h *Handler) check(ctx context.Context, key string, digest []byte, issued time.Time) SealInfo {
	p7s, _, err := h.d.Blobs.Get(ctx, key)
	if err != nil {
		return SealInfo{Problem: "signature file missing"}
	}
	w := cms.Window{Skew: 5 * time.Minute}
	if !issued.IsZero() {
		w.NotBefore, w.NotAfter = issued, issued.Add(time.Hour)
	}
	sd, err := h.d.Verifier.Verify(p7s, digest, w)
	if err != nil {
		return SealInfo{Problem: problem(err)}
	}
	s := sd.Signers[0]
	return SealInfo{Valid: true, Organization: organization(s.Certificate), SignedAt: s.SigningTime.UTC()}
}

func organization(c *x509.Certificate) string {
	if len(c.Subject.Organization) > 0 {
		return c.Subject.Organization[0]
	}
	return ""
}

func problem(err error) string {
	for _, p := range []struct {
		e error
		s string
	}{
		{cms.ErrDigestMismatch, "signature is for other content"},
		{cms.ErrUntrusted, "signer not trusted"},
		{cms.ErrCertificateExpired, "certificate not valid at signing time"},
		{cms.ErrBadSignature, "signature does not verify"},
		{cms.ErrMalformed, "signature file damaged"},
	} {
		if errors.Is(err, p.e) {
			return p.s
		}
	}
	return "signature cannot be checked"
}
