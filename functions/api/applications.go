package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/posluha/posluha"
)

// Message is what the API queues for the dispatcher: the execution input
// of the compiled service (see bpmn2asl's package doc), sent as is as the
// input of StartExecution.
type Message struct {
	ApplicationID string         `json:"applicationId"`
	Service       string         `json:"service"`
	Citizen       Citizen        `json:"citizen"`
	Form          map[string]any `json:"form"`
}

// Citizen is the applicant as the process and the eligibility rules see
// them.
type Citizen struct {
	TaxNumber string `json:"taxNumber"`
	Name      string `json:"name"`
	Age       int    `json:"age"`
}

type newApplication struct {
	Service    string         `json:"service"`
	Form       map[string]any `json:"form"`
	OnBehalfOf *struct {
		TaxNumber string `json:"taxNumber"`
		Name      string `json:"name"`
		BirthDate string `json:"birthDate"`
	} `json:"onBehalfOf"`
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problemf(errBadRequest, posluha.Text{UK: "Тіло запиту не відповідає опису API", EN: "The body does not match the API description"})
	}
	return nil
}

// submit accepts an application: see the package doc.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request, who Identity) {
	var in newApplication
	if err := decodeBody(r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	now := h.d.Now().UTC()
	var c Citizen
	switch who.Role {
	case RoleCitizen:
		if in.OnBehalfOf != nil {
			h.writeError(w, r, problemf(posluha.ErrApplicationForbidden, posluha.Text{
				UK: "Подавати заяви від імені іншої особи можуть лише платформи-партнери", EN: "Only partner platforms submit on someone's behalf",
			}, fieldText{Pointer: "/onBehalfOf", Detail: posluha.Text{UK: "Не дозволено", EN: "not allowed"}}))
			return
		}
		c = Citizen{TaxNumber: who.Subject, Name: who.Name, Age: age(who.BirthDate, now)}
	case RolePartner:
		if in.OnBehalfOf == nil {
			h.writeError(w, r, problemf(posluha.ErrApplicationInvalid, posluha.Text{UK: "Вкажіть, від чийого імені подається заява", EN: "Say whom the application is for"},
				fieldText{Pointer: "/onBehalfOf", Detail: posluha.Text{UK: "Обов'язкове поле", EN: "required"}}))
			return
		}
		b := in.OnBehalfOf
		c = Citizen{TaxNumber: b.TaxNumber, Name: b.Name, Age: age(b.BirthDate, now)}
	default:
		h.writeError(w, r, problemf(posluha.ErrApplicationForbidden, posluha.Text{UK: "Працівники підтримки не подають заяв", EN: "Support staff do not submit applications"}))
		return
	}
	e := h.catalog.byID[in.Service]
	if e == nil {
		h.writeError(w, r, problemf(posluha.ErrApplicationInvalid, posluha.Text{UK: "Такої послуги немає", EN: "No such service"},
			fieldText{Pointer: "/service", Detail: posluha.Text{UK: "Невідома послуга", EN: "unknown service"}}))
		return
	}
	if e.svc.Status != posluha.ServiceActive {
		h.writeError(w, r, problemf(errServiceNotActive, posluha.Text{UK: "Послуга зараз не приймає заяв", EN: "The service does not accept applications now"}))
		return
	}
	if in.Form == nil {
		in.Form = map[string]any{}
	}
	if err := e.checkForm(in.Form); err != nil {
		h.writeError(w, r, err)
		return
	}
	if failed, err := e.checkEligibility(in.Form, c); failed != nil {
		if err != nil {
			h.d.Log.WarnContext(ctx, "eligibility rule failed to evaluate", "service", e.svc.ID, "rule", failed.ID, "err", err)
		}
		h.writeError(w, r, problemf(posluha.ErrApplicationInvalid, failed.Message,
			fieldText{Pointer: "", Parameter: "rule:" + failed.ID, Detail: failed.Message}))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	id := h.d.NewID()
	if key != "" {
		id = derivedID(who.Role+":"+who.Subject, c.TaxNumber, key)
	}
	app := &posluha.Application{
		ID: id, Service: e.svc.ID, Citizen: c.TaxNumber, SubmittedBy: submittedBy(who),
		Status: posluha.StatusSubmitted, Form: in.Form, Created: now, Updated: now,
		StatusHistory: []posluha.StatusChange{{Status: posluha.StatusSubmitted, Time: now}},
	}
	msg, err := json.Marshal(Message{ApplicationID: id, Service: e.svc.ID, Citizen: c, Form: in.Form})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	err = h.d.Applications.Create(ctx, app, e.svc.OneOpenApplication)
	if posluha.ErrorName(err) == posluha.ErrApplicationConflict && key != "" {
		prev, gerr := h.d.Applications.Get(ctx, id)
		if gerr == nil && prev.Citizen == c.TaxNumber {
			if prev.Service != app.Service || !sameForm(prev.Form, app.Form) {
				h.writeError(w, r, problemf(posluha.ErrApplicationConflict, posluha.Text{
					UK: "Цей Idempotency-Key уже використано для іншої заяви", EN: "This Idempotency-Key was used for a different application",
				}, fieldText{Parameter: "header:Idempotency-Key", Detail: posluha.Text{UK: "Уже використано", EN: "already used"}}))
				return
			}
			app, err = prev, nil
			if prev.Status != posluha.StatusSubmitted {
				h.accepted(w, app) // started already: nothing to hand over again
				return
			}
		}
	}
	if err != nil {
		if posluha.ErrorName(err) == posluha.ErrApplicationConflict {
			h.writeError(w, r, problemf(posluha.ErrApplicationConflict, posluha.Text{
				UK: "У вас уже є відкрита заява на цю послугу (" + posluha.ErrorMessage(err) + ")",
				EN: "You already have an open application for this service (" + posluha.ErrorMessage(err) + ")",
			}))
			return
		}
		h.writeError(w, r, err)
		return
	}
	if err := h.d.Queue.Send(ctx, id, msg); err != nil {
		// Stored but not handed over: the client's retry with the same
		// Idempotency-Key sends it again.
		h.d.Log.ErrorContext(ctx, "queue application", "applicationId", id, "service", e.svc.ID, "err", err)
		w.Header().Set("Retry-After", "1")
		h.writeError(w, r, posluha.Errorf(errUnavailable, "retry"))
		return
	}
	h.d.Log.InfoContext(ctx, "application accepted", "applicationId", id, "service", e.svc.ID)
	h.accepted(w, app)
}

// submittedBy is whom the record names as having submitted: a partner's
// client id, so the citizen and support can see who acted for them; a
// citizen's own submission names nobody.
func submittedBy(who Identity) string {
	if who.Role == RolePartner {
		return who.Subject
	}
	return ""
}

func (h *Handler) accepted(w http.ResponseWriter, app *posluha.Application) {
	w.Header().Set("Location", "/applications/"+app.ID)
	writeJSON(w, http.StatusAccepted, app)
}

// sameForm compares two forms as JSON values (a stored form comes back
// with float64 numbers, as a decoded request does).
func sameForm(a, b map[string]any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return reflect.DeepEqual(a, b)
	}
	return bytes.Equal(ja, jb)
}

// derivedID makes the application id from the submitter (the citizen, or
// the partner client), the applicant and the client's Idempotency-Key, so
// a repeated request lands on the same record while another caller's key
// never collides with it.
func derivedID(submitter, citizen, key string) string {
	s := sha256.Sum256([]byte("posluha/application\x00" + submitter + "\x00" + citizen + "\x00" + key))
	b := s[:16]
	b[6] = b[6]&0x0f | 0x80 // UUIDv8: custom
	b[8] = b[8]&0x3f | 0x80
	return uuidString(b)
}

// newID returns a UUIDv7: time-ordered, random.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ms<<16)
	copy(b[:6], t[:6])
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return uuidString(b[:])
}

func uuidString(b []byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return string(s[:])
}

// load returns the application when who may see it; anyone else's is
// Application.NotFound (not Forbidden: its existence is nobody's
// business).
func (h *Handler) load(ctx context.Context, who Identity, id string) (*posluha.Application, error) {
	app, err := h.d.Applications.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case who.Role == RoleCitizen && app.Citizen == who.Subject:
		return app, nil
	case who.Role == RoleSupport:
		// Viewing is audited like an action (DESIGN: personal data).
		h.d.Log.InfoContext(ctx, "support view", "applicationId", id, "staff", who.Subject)
		return app, nil
	}
	return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
}

// mine loads an application the caller may act on: only its citizen.
func (h *Handler) mine(ctx context.Context, who Identity, id string) (*posluha.Application, error) {
	if who.Role != RoleCitizen {
		return nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
	}
	return h.load(ctx, who, id)
}

func (h *Handler) getApplication(w http.ResponseWriter, r *http.Request, who Identity) {
	app, err := h.load(r.Context(), who, r.PathValue("applicationId"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, app)
}

func queryInt(r *http.Request, name string, def int) int {
	if v := r.URL.Query().Get(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func (h *Handler) listApplications(w http.ResponseWriter, r *http.Request, who Identity) {
	if who.Role != RoleCitizen {
		h.writeError(w, r, problemf(posluha.ErrApplicationForbidden, posluha.Text{UK: "Список заяв є лише в кабінеті громадянина", EN: "Only citizens list their applications"}))
		return
	}
	apps, next, err := h.d.Applications.ListByCitizen(r.Context(), who.Subject, queryInt(r, "limit", 20), r.URL.Query().Get("after"))
	if posluha.ErrorName(err) == posluha.ErrApplicationInvalid {
		err = problemf(errBadRequest, posluha.Text{UK: "Неправильна позначка сторінки", EN: "Bad page token"},
			fieldText{Parameter: "query:after", Detail: posluha.Text{UK: "Неправильне значення", EN: "not a page token"}})
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if apps == nil {
		apps = []*posluha.Application{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items []*posluha.Application `json:"items"`
		Next  string                 `json:"next,omitempty"`
	}{apps, next})
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request, who Identity) {
	ctx := r.Context()
	id := r.PathValue("applicationId")
	cur, err := h.mine(ctx, who, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.d.Executions == nil {
		h.writeError(w, r, posluha.Errorf(errUnavailable, "no executions"))
		return
	}
	now := h.d.Now().UTC()
	app, err := h.d.Applications.Update(ctx, id, func(a *posluha.Application) error {
		if a.Status == posluha.StatusCancelled {
			return nil // a repeated cancel: stop again below
		}
		if !a.Open() {
			return problemf(posluha.ErrApplicationConflict, posluha.Text{
				UK: "Заява вже завершена, скасувати її не можна", EN: "The application has finished and cannot be cancelled",
			})
		}
		return a.Move(posluha.StatusChange{Status: posluha.StatusCancelled, Step: a.Step, Time: now, Reason: "cancelled by the citizen"})
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.d.Executions.Stop(ctx, cur.Service, id, "cancelled by the citizen"); err != nil {
		// Cancelled in the record; the repeated request stops it.
		h.d.Log.ErrorContext(ctx, "stop execution", "applicationId", id, "err", err)
		h.writeError(w, r, posluha.Errorf(errUnavailable, "retry"))
		return
	}
	h.d.Log.InfoContext(ctx, "application cancelled", "applicationId", id)
	writeJSON(w, http.StatusOK, app)
}

func (h *Handler) sign(w http.ResponseWriter, r *http.Request, who Identity) {
	var in struct {
		RequestID string `json:"requestId"`
		Signature string `json:"signature"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("applicationId")
	if h.d.Signatures == nil {
		h.writeError(w, r, posluha.Errorf(errUnavailable, "no signatures"))
		return
	}
	// The one who may sign is the request's signer — a co-owner signs on
	// the applicant's application — and nobody else, the applicant
	// included: to anyone else the request does not exist.
	app, signer, err := h.d.Signatures.Signer(ctx, in.RequestID)
	if err != nil || app != id || signer != who.Subject {
		if err != nil && posluha.ErrorName(err) == posluha.ErrInternal {
			h.d.Log.ErrorContext(ctx, "signing request", "applicationId", id, "err", err)
		}
		h.writeError(w, r, posluha.Errorf(posluha.ErrApplicationNotFound, "no signing request %s for you on application %s", in.RequestID, id))
		return
	}
	cms, err := base64.StdEncoding.DecodeString(in.Signature)
	if err != nil {
		h.writeError(w, r, problemf(posluha.ErrSignatureInvalid, posluha.Text{UK: "Підпис має бути в base64", EN: "The signature must be base64"},
			fieldText{Pointer: "/signature", Detail: posluha.Text{UK: "Не base64", EN: "not base64"}}))
		return
	}
	if err := h.d.Signatures.Submit(ctx, in.RequestID, cms); err != nil {
		if posluha.ErrorName(err) == posluha.ErrInternal {
			h.d.Log.ErrorContext(ctx, "submit signature", "applicationId", id, "err", err)
		}
		h.writeError(w, r, err)
		return
	}
	h.d.Log.InfoContext(ctx, "signature accepted", "applicationId", id)
	w.WriteHeader(http.StatusAccepted)
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request, who Identity) {
	var in struct {
		Step   string          `json:"step"`
		Answer json.RawMessage `json:"answer"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("applicationId")
	app, err := h.mine(ctx, who, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.d.Awaits == nil || h.d.Executions == nil {
		h.writeError(w, r, posluha.Errorf(errUnavailable, "no awaits"))
		return
	}
	if app.Status != posluha.StatusWaiting {
		h.writeError(w, r, problemf(posluha.ErrApplicationConflict, posluha.Text{
			UK: "Заява зараз не очікує вашої відповіді", EN: "The application is not waiting for an answer",
		}))
		return
	}
	if len(in.Answer) == 0 {
		in.Answer = json.RawMessage("{}")
	}
	// The correlation key eventwrite's await uses by default.
	key := in.Step + "/" + id
	aw, err := h.d.Awaits.Take(ctx, key)
	if err != nil {
		if posluha.ErrorName(err) == posluha.ErrApplicationNotFound {
			err = problemf(posluha.ErrApplicationNotFound, posluha.Text{UK: "Цей крок не очікує відповіді", EN: "This step does not wait for an answer"},
				fieldText{Pointer: "/step", Detail: posluha.Text{UK: "Крок не очікує", EN: "not waiting"}})
		}
		h.writeError(w, r, err)
		return
	}
	if aw.ApplicationID != id {
		// A key built from another id cannot match; put it back untouched.
		h.d.Awaits.Put(ctx, aw)
		h.writeError(w, r, posluha.Errorf(posluha.ErrApplicationNotFound, "no such step"))
		return
	}
	if err := h.d.Executions.SendTaskSuccess(ctx, aw.Token, string(in.Answer)); err != nil {
		if posluha.ErrorName(err) != posluha.ErrApplicationNotFound {
			// Transient: keep the token so the citizen can answer again.
			if perr := h.d.Awaits.Put(ctx, aw); perr != nil {
				h.d.Log.ErrorContext(ctx, "restore await", "applicationId", id, "step", in.Step, "err", perr)
			}
		}
		h.writeError(w, r, err)
		return
	}
	now := h.d.Now().UTC()
	if _, err := h.d.Applications.Update(ctx, id, func(a *posluha.Application) error {
		if a.Status != posluha.StatusWaiting {
			return nil
		}
		return a.Move(posluha.StatusChange{Status: posluha.StatusProcessing, Step: aw.Step, Time: now, Reason: "answered"})
	}); err != nil {
		// The task is answered; the next status task catches up.
		h.d.Log.WarnContext(ctx, "status after answer", "applicationId", id, "step", aw.Step, "err", err)
	}
	h.d.Log.InfoContext(ctx, "step answered", "applicationId", id, "step", aw.Step)
	w.WriteHeader(http.StatusAccepted)
}

// DocumentLink is a result document with download links.
type DocumentLink struct {
	Number     string    `json:"number"`
	URL        string    `json:"url"`
	Signatures []string  `json:"signatures,omitempty"`
	Expires    time.Time `json:"expires"`
}

func (h *Handler) documents(w http.ResponseWriter, r *http.Request, who Identity) {
	ctx := r.Context()
	app, err := h.load(ctx, who, r.PathValue("applicationId"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.d.Documents == nil && len(app.Documents) > 0 {
		h.writeError(w, r, posluha.Errorf(errUnavailable, "no documents store"))
		return
	}
	out := []DocumentLink{}
	exp := h.d.Now().Add(h.linkTTL).UTC()
	for _, d := range app.Documents {
		u, err := h.d.Documents.Link(ctx, d.Key, h.linkTTL)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		l := DocumentLink{Number: d.Number, URL: u, Expires: exp}
		for _, s := range d.Signatures {
			su, err := h.d.Documents.Link(ctx, s, h.linkTTL)
			if err != nil {
				h.writeError(w, r, err)
				return
			}
			l.Signatures = append(l.Signatures, su)
		}
		out = append(out, l)
	}
	writeJSON(w, http.StatusOK, struct {
		Items []DocumentLink `json:"items"`
	}{out})
}

func (h *Handler) notifications(w http.ResponseWriter, r *http.Request, who Identity) {
	if who.Role != RoleCitizen {
		h.writeError(w, r, problemf(posluha.ErrApplicationForbidden, posluha.Text{UK: "Сповіщення є лише в кабінеті громадянина", EN: "Only citizens have notifications"}))
		return
	}
	if h.d.Notifications == nil {
		h.writeError(w, r, posluha.Errorf(errUnavailable, "no notifications"))
		return
	}
	ns, err := h.d.Notifications.List(r.Context(), who.Subject, queryInt(r, "limit", 20))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if ns == nil {
		ns = []*posluha.Notification{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items []*posluha.Notification `json:"items"`
	}{ns})
}
