// Package sign is the sign function: hash-then-sign signing requests for
// citizens (one per signer, a `document.sign` waitForTaskToken task each)
// and the verifier the API calls when a signature arrives.
//
// Flow. The task (Handle) takes the document to sign — the consent text
// it renders from the task's arguments, or a document pdfgen stored —
// computes its SHA-256, stores the bytes in S3 and opens a Request (id,
// application, step, hash, signer's tax number, task token, deadline).
// The citizen's app opens the deeplink (or scans its QR) with the request
// id, fetches the hash (View), signs it and posts a detached CMS/CAdES
// signature to POST /applications/{id}/signatures; the API calls Submit,
// which verifies it (chain to a trusted CA, signer's tax number,
// messageDigest = hash, certificate valid at signing time), stores the
// .p7s next to the document and calls SendTaskSuccess with
// {"signature": {key, signer, signedAt, requestId, sha256}}. N co-owners
// are N tasks of a Map, so they sign in any order. A rejected signature
// leaves the request open for another try; after the deadline Submit
// answers Signature.Expired and the BPMN's timer (TimeoutSeconds on the
// task) takes the timeout path.
//
// Cryptography is behind Verifier (cms.Verifier: ECDSA P-256 and RSA; a
// DSTU 4145 algorithm plugs into its Algorithms).
package sign

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/lambdaerr"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/functions/sign/cms"
)

// Blobs is the document storage sign needs.
type Blobs interface {
	Put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error
	Get(ctx context.Context, key string) ([]byte, blob.Object, error)
}

// Tasks completes waitForTaskToken tasks (Step Functions).
type Tasks interface {
	// SendTaskSuccess answers the task; a token that is gone (timed out,
	// execution ended) is Signature.Expired.
	SendTaskSuccess(ctx context.Context, token, output string) error
}

// Verifier checks a detached signature of a digest (cms.Verifier).
type Verifier interface {
	Verify(der, digest []byte, w cms.Window) (*cms.SignedData, error)
}

// Deps are what the handler needs.
type Deps struct {
	Store    Store
	Blobs    Blobs
	Tasks    Tasks
	Verifier Verifier
	Log      *slog.Logger
	Now      func() time.Time
	// Deadline for signing; the BPMN timer should be the same or shorter
	// (e-Propyska: 30 days). Zero means 30 days.
	Deadline time.Duration
	// Deeplink is the base of the link the citizen's app opens, e.g.
	// "https://diia.example/sign" or "posluha://sign"; "?request=<id>" is
	// appended.
	Deeplink string
	// Skew tolerated between the phone's clock and ours; zero means 5 min.
	Skew time.Duration
	// Steps reports the step of each task to the console's projection
	// (stepevents.FromEnv: STEP_EVENTS, AWS only); nil: off.
	Steps stepevents.Notifier
}

// Handler is the sign function.
type Handler struct{ d Deps }

// New returns a Handler; zero Deps fields get their defaults.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Deadline == 0 {
		d.Deadline = 30 * 24 * time.Hour
	}
	if d.Skew == 0 {
		d.Skew = 5 * time.Minute
	}
	if d.Deeplink == "" {
		d.Deeplink = "posluha://sign"
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Opened is the task's result (ignored by waitForTaskToken, shown in the
// execution history): no personal data.
type Opened struct {
	RequestID string    `json:"requestId"`
	Deeplink  string    `json:"deeplink"`
	Hash      string    `json:"sha256"`
	Deadline  time.Time `json:"deadline"`
}

var taxNumber = regexp.MustCompile(`^[0-9]{10}$`)

// Kyiv is the time zone of dates in keys and documents.
var kyiv = mustKyiv()

func mustKyiv() *time.Location {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return loc
}

// RequestID is the deterministic id of the signing request of signer at
// (application, step), so a retried task reopens the same request.
func RequestID(applicationID, step, signer string) string {
	h := sha256.Sum256([]byte(applicationID + "\x00" + step + "\x00" + signer))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15]))
}

// Handle opens (or reopens) the signing request of a document.sign task.
// Arguments: signer (tax number, required), signerName, document ("consent"
// or pdfgen's {number, key, sha256}), and the values the consent text
// shows (address, …). Errors: Task.Invalid, Document.Template.
func (h *Handler) Handle(ctx context.Context, req posluha.TaskRequest) (Opened, error) {
	if err := req.Validate(); err != nil {
		return Opened{}, err
	}
	if req.TaskToken == "" {
		return Opened{}, posluha.Errorf(posluha.ErrTaskInvalid, "document.sign must be a waitForTaskToken task (no taskToken)")
	}
	stepevents.Enter(ctx, h.d.Steps, h.d.Log, &req)
	signer, _ := req.Arguments["signer"].(string)
	if !taxNumber.MatchString(signer) {
		return Opened{}, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.signer: want a 10-digit tax number")
	}
	now := h.d.Now()
	id := RequestID(req.ApplicationID, req.Step, signer)
	doc, body, err := h.document(ctx, &req, id, now)
	if err != nil {
		return Opened{}, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if body != nil && doc.generated {
		if err := h.d.Blobs.Put(ctx, doc.key, body, "text/plain; charset=utf-8", map[string]string{"sha256": hash}); err != nil {
			return Opened{}, fmt.Errorf("store %s document: %w", doc.name, err)
		}
	}
	signerName, _ := req.Arguments["signerName"].(string)
	var already *Request
	r, err := h.d.Store.Upsert(ctx, id, func(cur *Request) (*Request, error) {
		if cur != nil && cur.Status == StatusSigned && cur.Hash == hash {
			// A retry or a redrive of a step already signed: answer the new
			// token with the signature we have.
			c := *cur
			c.TaskToken = req.TaskToken
			already = &c
			return &c, nil
		}
		next := &Request{
			ID: id, ApplicationID: req.ApplicationID, Service: req.Service, Step: req.Step,
			Document: doc.name, DocumentKey: doc.key, Hash: hash, Signer: signer, SignerName: signerName,
			TaskToken: req.TaskToken, CreatedAt: now, Deadline: now.Add(h.d.Deadline), Status: StatusPending,
		}
		if cur != nil && cur.Status == StatusPending && cur.Hash == hash {
			// a retried task: the citizen may already be signing what the
			// first attempt showed, so the request keeps its opening time
			next.CreatedAt, next.Attempts = cur.CreatedAt, cur.Attempts
		}
		return next, nil
	})
	if err != nil {
		return Opened{}, fmt.Errorf("open signing request: %w", err)
	}
	if already != nil {
		if err := h.d.Tasks.SendTaskSuccess(ctx, req.TaskToken, taskOutput(already)); err != nil {
			return Opened{}, fmt.Errorf("answer already signed request %s: %w", id, err)
		}
	}
	h.d.Log.InfoContext(ctx, "signing request opened", "applicationId", req.ApplicationID, "step", req.Step, "requestId", id)
	return Opened{RequestID: r.ID, Deeplink: h.d.Deeplink + "?request=" + r.ID, Hash: r.Hash, Deadline: r.Deadline}, nil
}

type docRef struct {
	name      string
	key       string
	generated bool // sign rendered it (consent) and must store it
}

// document returns what must be signed: a stored document named by the
// arguments (pdfgen's output), or a consent text rendered here.
func (h *Handler) document(ctx context.Context, req *posluha.TaskRequest, id string, now time.Time) (docRef, []byte, error) {
	switch d := req.Arguments["document"].(type) {
	case map[string]any:
		key, _ := d["key"].(string)
		if key == "" {
			return docRef{}, nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.document.key is required")
		}
		body, _, err := h.d.Blobs.Get(ctx, key)
		if err != nil {
			return docRef{}, nil, fmt.Errorf("read document to sign: %w", err)
		}
		if want, _ := d["sha256"].(string); want != "" {
			if got := sha256.Sum256(body); hex.EncodeToString(got[:]) != want {
				return docRef{}, nil, posluha.Errorf(posluha.ErrTaskInvalid, "document %s changed since it was issued", path.Base(key))
			}
		}
		name, _ := d["number"].(string)
		return docRef{name: name, key: key}, body, nil
	case string, nil:
		name, _ := d.(string)
		if name == "" {
			name = "consent"
		}
		text, err := consentText(name, req)
		if err != nil {
			return docRef{}, nil, err
		}
		key := fmt.Sprintf("%s/%s/%s/%s-%s.txt", safe(req.Service), now.In(kyiv).Format("2006/01/02"), safe(req.ApplicationID), safe(req.Step), id)
		return docRef{name: name, key: key, generated: true}, text, nil
	default:
		return docRef{}, nil, posluha.Errorf(posluha.ErrTaskInvalid, "arguments.document: want a name or {key, sha256}")
	}
}

// safe keeps an id usable as one key segment.
func safe(s string) string {
	if s == "" {
		return "_"
	}
	return strings.NewReplacer("/", "_", "..", "_").Replace(s)
}

// consentText renders the statement a co-owner signs. The wording is
// fixed per document name; the values come from the task arguments.
func consentText(name string, req *posluha.TaskRequest) ([]byte, error) {
	a := req.Arguments
	str := func(k string) string {
		switch v := a[k].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	var b strings.Builder
	switch name {
	case "consent":
		b.WriteString("ЗГОДА СПІВВЛАСНИКА\n\n")
		fmt.Fprintf(&b, "Я, %s, РНОКПП %s, як співвласник об'єкта нерухомості", str("signerName"), str("signer"))
		if addr := str("address"); addr != "" {
			fmt.Fprintf(&b, " за адресою: %s,", addr)
		}
		b.WriteString(" надаю згоду на реєстрацію місця проживання заявника за цією адресою.\n")
	default:
		fmt.Fprintf(&b, "Я, %s, РНОКПП %s, підписую документ «%s».\n", str("signerName"), str("signer"), name)
	}
	fmt.Fprintf(&b, "Заява № %s, послуга %s, крок %s.\n", req.ApplicationID, req.Service, req.Step)
	return []byte(b.String()), nil
}

// View is what the citizen's app shows and signs.
type View struct {
	RequestID     string    `json:"requestId"`
	ApplicationID string    `json:"applicationId"`
	Service       string    `json:"service"`
	Document      string    `json:"document"`
	Signer        string    `json:"signer"` // the API checks it is the caller
	Hash          string    `json:"sha256"`
	HashAlgorithm string    `json:"hashAlgorithm"`
	Deadline      time.Time `json:"deadline"`
	Status        string    `json:"status"`
}

// View returns a request for the signing app. Errors: Application.NotFound.
func (h *Handler) View(ctx context.Context, requestID string) (View, error) {
	r, err := h.d.Store.Get(ctx, requestID)
	if err != nil {
		return View{}, err
	}
	status := r.Status
	if status == StatusPending && h.d.Now().After(r.Deadline) {
		status = StatusExpired
	}
	return View{RequestID: r.ID, ApplicationID: r.ApplicationID, Service: r.Service, Document: r.Document,
		Signer: r.Signer, Hash: r.Hash, HashAlgorithm: "SHA-256", Deadline: r.Deadline, Status: status}, nil
}

// Lambda returns the handler the bootstrap binary and the local stack run.
func (h *Handler) Lambda() func(context.Context, posluha.TaskRequest) (Opened, error) {
	return lambdaerr.Handler(h.d.Log, h.Handle)
}

// Close releases the store (the bbolt file of the local stack).
func (h *Handler) Close() error {
	if c, ok := h.d.Store.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
