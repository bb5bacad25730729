package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/sign/cms"
)

// Reasons a signature is rejected (RejectedError.Reason). All of them are
// the error name Signature.Invalid for Step Functions and the API; the
// reason tells the citizen what to do.
const (
	ReasonMalformed          = "malformed"           // not a CMS signature
	ReasonUnsupported        = "unsupported"         // algorithm not accepted
	ReasonWrongDocument      = "wrong-document"      // messageDigest ≠ the request's hash
	ReasonBadSignature       = "bad-signature"       // cryptographically wrong
	ReasonUntrusted          = "untrusted"           // no chain to a trusted CA
	ReasonCertificateExpired = "certificate-expired" // not valid at signing time
	ReasonRevoked            = "revoked"             // revoked before signing (CRL)
	ReasonSigningTime        = "signing-time"        // missing or implausible signingTime
	ReasonWrongSigner        = "wrong-signer"        // another person's certificate
)

// RejectedError is a signature that fails verification. The request stays
// open: the signer may try again. errors.As finds the *posluha.Error
// (Signature.Invalid) in it.
type RejectedError struct {
	Reason string
	named  *posluha.Error
	cause  error
}

// Error gives the name, the message and the reason.
func (e *RejectedError) Error() string { return e.named.Error() + " (" + e.Reason + ")" }

// Unwrap gives the named error and the verifier's cause.
func (e *RejectedError) Unwrap() []error { return []error{e.named, e.cause} }

var reasonMessages = map[string]string{
	ReasonMalformed:          "Підпис пошкоджено або це не підпис CAdES/CMS.",
	ReasonUnsupported:        "Алгоритм підпису не підтримується.",
	ReasonWrongDocument:      "Підпис зроблено для іншого документа.",
	ReasonBadSignature:       "Підпис недійсний.",
	ReasonUntrusted:          "Сертифікат видано не кваліфікованим надавачем довірчих послуг.",
	ReasonCertificateExpired: "Сертифікат не був чинним на момент підписання.",
	ReasonRevoked:            "Сертифікат відкликано.",
	ReasonSigningTime:        "Час підписання відсутній або неправдоподібний.",
	ReasonWrongSigner:        "Документ підписала не та особа, від якої очікується підпис.",
}

func reject(reason string, cause error) error {
	return &RejectedError{Reason: reason, named: posluha.Errorf(posluha.ErrSignatureInvalid, "%s", reasonMessages[reason]), cause: cause}
}

func classify(err error) error {
	for _, c := range []struct {
		sentinel error
		reason   string
	}{
		{cms.ErrMalformed, ReasonMalformed},
		{cms.ErrUnsupported, ReasonUnsupported},
		{cms.ErrDigestMismatch, ReasonWrongDocument},
		{cms.ErrBadSignature, ReasonBadSignature},
		{cms.ErrUntrusted, ReasonUntrusted},
		{cms.ErrCertificateExpired, ReasonCertificateExpired},
		{cms.ErrRevoked, ReasonRevoked},
		{cms.ErrNoSigningTime, ReasonSigningTime},
	} {
		if errors.Is(err, c.sentinel) {
			return reject(c.reason, err)
		}
	}
	return fmt.Errorf("verify signature: %w", err)
}

// Signature is an accepted signature: the task's output under "signature".
type Signature struct {
	RequestID      string    `json:"requestId"`
	Key            string    `json:"key"` // the .p7s in S3
	DocumentKey    string    `json:"documentKey"`
	DocumentSHA256 string    `json:"documentSha256"`
	Signer         string    `json:"signer"`
	SignedAt       time.Time `json:"signedAt"`
}

func signatureOf(r *Request) Signature {
	return Signature{RequestID: r.ID, Key: r.SignatureKey, DocumentKey: r.DocumentKey, DocumentSHA256: r.Hash, Signer: r.Signer, SignedAt: r.SignedAt}
}

func taskOutput(r *Request) string {
	b, _ := json.Marshal(map[string]Signature{"signature": signatureOf(r)})
	return string(b)
}

// SignatureKey is where the .p7s of request id goes: next to the
// document, docKey's extension replaced by ".<id>.p7s" (by ".p7s" for a
// consent text, which is named after its request already).
func SignatureKey(docKey, id string) string {
	base := docKey
	if i := strings.LastIndexByte(base, '.'); i > strings.LastIndexByte(base, '/') {
		base = base[:i]
	}
	if strings.HasSuffix(base, "-"+id) {
		return base + ".p7s" // the document is this request's own (consent)
	}
	return base + "." + id + ".p7s"
}

// Submit verifies a detached CMS signature (DER) for a signing request and,
// when it is good, stores it and completes the task. The same signature
// submitted twice gives the same result.
//
// Errors: Application.NotFound (no such request), Signature.Invalid as a
// *RejectedError (the signer may try again), Signature.Expired (the
// deadline passed or the process no longer waits), Application.Conflict
// (already signed with another signature).
func (h *Handler) Submit(ctx context.Context, requestID string, der []byte) (Signature, error) {
	r, err := h.d.Store.Get(ctx, requestID)
	if err != nil {
		return Signature{}, err
	}
	sigSum := sha256.Sum256(der)
	sigHash := hex.EncodeToString(sigSum[:])
	switch {
	case r.Status == StatusSigned && r.SignatureHash == sigHash:
		return signatureOf(r), nil
	case r.Status == StatusSigned:
		return Signature{}, posluha.Errorf(posluha.ErrApplicationConflict, "the request is already signed")
	case r.Status == StatusExpired:
		return Signature{}, posluha.Errorf(posluha.ErrSignatureExpired, "the signing deadline has passed")
	}
	now := h.d.Now()
	if now.After(r.Deadline) {
		return Signature{}, posluha.Errorf(posluha.ErrSignatureExpired, "the signing deadline has passed")
	}
	signedAt, err := h.verify(r, der, now)
	if err != nil {
		var rej *RejectedError
		if errors.As(err, &rej) {
			_, _ = h.d.Store.Upsert(ctx, r.ID, func(cur *Request) (*Request, error) {
				c := *cur
				c.Attempts++
				return &c, nil
			})
			h.d.Log.InfoContext(ctx, "signature rejected", "applicationId", r.ApplicationID, "step", r.Step, "requestId", r.ID, "reason", rej.Reason)
		}
		return Signature{}, err
	}
	key := SignatureKey(r.DocumentKey, r.ID)
	if err := h.d.Blobs.Put(ctx, key, der, "application/pkcs7-signature",
		map[string]string{"sha256": sigHash, "document-sha256": r.Hash, "request": r.ID}); err != nil {
		return Signature{}, fmt.Errorf("store signature: %w", err)
	}
	signed := *r
	signed.Status, signed.SignatureKey, signed.SignatureHash, signed.SignedAt = StatusSigned, key, sigHash, signedAt.UTC()
	if err := h.d.Tasks.SendTaskSuccess(ctx, r.TaskToken, taskOutput(&signed)); err != nil {
		if posluha.ErrorName(err) == posluha.ErrSignatureExpired {
			_, _ = h.d.Store.Upsert(ctx, r.ID, func(cur *Request) (*Request, error) {
				c := *cur
				c.Status = StatusExpired
				return &c, nil
			})
		}
		return Signature{}, fmt.Errorf("complete signing task: %w", err)
	}
	out, err := h.d.Store.Upsert(ctx, r.ID, func(cur *Request) (*Request, error) {
		if cur.TaskToken != r.TaskToken {
			// reopened meanwhile (a retried task): keep the new token, the
			// next Submit of this signature answers it
			return cur, nil
		}
		return &signed, nil
	})
	if err != nil {
		return Signature{}, fmt.Errorf("record signature: %w", err)
	}
	h.d.Log.InfoContext(ctx, "signature accepted", "applicationId", r.ApplicationID, "step", r.Step, "requestId", r.ID)
	return signatureOf(out), nil
}

// verify checks der against the request and returns the signing time.
func (h *Handler) verify(r *Request, der []byte, now time.Time) (time.Time, error) {
	digest, err := hex.DecodeString(r.Hash)
	if err != nil {
		return time.Time{}, fmt.Errorf("request %s: bad hash: %w", r.ID, err)
	}
	sd, err := h.d.Verifier.Verify(der, digest, cms.Window{NotBefore: r.CreatedAt, NotAfter: now, Skew: h.d.Skew})
	if err != nil {
		return time.Time{}, classify(err)
	}
	if len(sd.Signers) != 1 {
		return time.Time{}, reject(ReasonMalformed, fmt.Errorf("%d signers, want exactly one", len(sd.Signers)))
	}
	s := sd.Signers[0]
	if !SignerMatches(cms.SubjectSerialNumber(s.Certificate), r.Signer) {
		return time.Time{}, reject(ReasonWrongSigner, errors.New("certificate subject serialNumber is not the expected tax number"))
	}
	return s.SigningTime, nil
}

// SignerMatches reports whether a certificate's subject serialNumber names
// the tax number: "TINUA-1234567890" (Ukrainian qualified certificates),
// or the bare number.
func SignerMatches(serialNumber, taxNumber string) bool {
	s := strings.TrimPrefix(strings.ToUpper(serialNumber), "TINUA-")
	return taxNumber != "" && bytes.Equal([]byte(s), []byte(taxNumber))
}
