package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/posluha/posluha"
)

// Error names of the HTTP edge, besides the domain's (posluha.Err*).
const (
	errUnauthorized     = "Auth.Unauthorized"
	errTooManyRequests  = "Request.TooMany"
	errTooLarge         = "Request.TooLarge"
	errMediaType        = "Request.MediaType"
	errBadRequest       = "Request.Invalid"
	errNoRoute          = "Request.NotFound"
	errMethod           = "Request.MethodNotAllowed"
	errUnavailable      = "Service.Unavailable"
	errServiceNotActive = "Service.NotActive"
)

// statusOf maps error names to HTTP statuses; unknown names are 500.
var statusOf = map[string]int{
	errUnauthorized:                 http.StatusUnauthorized,
	posluha.ErrApplicationForbidden: http.StatusForbidden,
	posluha.ErrApplicationNotFound:  http.StatusNotFound,
	errNoRoute:                      http.StatusNotFound,
	errMethod:                       http.StatusMethodNotAllowed,
	posluha.ErrApplicationConflict:  http.StatusConflict,
	errServiceNotActive:             http.StatusConflict,
	posluha.ErrSignatureExpired:     http.StatusConflict,
	errTooLarge:                     http.StatusRequestEntityTooLarge,
	errMediaType:                    http.StatusUnsupportedMediaType,
	posluha.ErrApplicationInvalid:   http.StatusUnprocessableEntity,
	posluha.ErrSignatureInvalid:     http.StatusUnprocessableEntity,
	errBadRequest:                   http.StatusBadRequest,
	posluha.ErrTaskInvalid:          http.StatusBadRequest,
	errTooManyRequests:              http.StatusTooManyRequests,
	errUnavailable:                  http.StatusServiceUnavailable,
	posluha.ErrInternal:             http.StatusInternalServerError,
}

// titles are the citizen-facing titles per error name.
var titles = map[string]posluha.Text{
	errUnauthorized:                 {UK: "Потрібно увійти", EN: "Sign-in required"},
	posluha.ErrApplicationForbidden: {UK: "Недостатньо прав", EN: "Not allowed"},
	posluha.ErrApplicationNotFound:  {UK: "Не знайдено", EN: "Not found"},
	errNoRoute:                      {UK: "Не знайдено", EN: "Not found"},
	errMethod:                       {UK: "Метод не підтримується", EN: "Method not allowed"},
	posluha.ErrApplicationConflict:  {UK: "Конфлікт із поточним станом", EN: "Conflict with the current state"},
	errServiceNotActive:             {UK: "Послуга зараз недоступна", EN: "The service is not available now"},
	posluha.ErrSignatureExpired:     {UK: "Термін підписання минув", EN: "The signing request has expired"},
	errTooLarge:                     {UK: "Запит завеликий", EN: "Request too large"},
	errMediaType:                    {UK: "Непідтримуваний формат запиту", EN: "Unsupported media type"},
	posluha.ErrApplicationInvalid:   {UK: "Заяву заповнено неправильно", EN: "The application is not valid"},
	posluha.ErrSignatureInvalid:     {UK: "Підпис недійсний", EN: "The signature is not valid"},
	errBadRequest:                   {UK: "Неправильний запит", EN: "Bad request"},
	posluha.ErrTaskInvalid:          {UK: "Неправильний запит", EN: "Bad request"},
	errTooManyRequests:              {UK: "Забагато запитів", EN: "Too many requests"},
	errUnavailable:                  {UK: "Сервіс тимчасово недоступний", EN: "Temporarily unavailable"},
	posluha.ErrInternal:             {UK: "Внутрішня помилка", EN: "Internal error"},
}

// fieldError points at one bad field of the request: a JSON pointer into
// the body, or a parameter as "query:limit" / "header:Idempotency-Key".
type fieldError struct {
	Pointer   string `json:"pointer"`
	Parameter string `json:"parameter,omitempty"`
	Detail    string `json:"detail"`
}

// fieldText is a fieldError before the language is chosen.
type fieldText struct {
	Pointer   string
	Parameter string
	Detail    posluha.Text
}

// problemError is an error the API builds itself, with a localised detail
// and, for invalid input, the bad fields.
type problemError struct {
	name   string
	detail posluha.Text
	fields []fieldText
}

func (e *problemError) Error() string { return e.name + ": " + e.detail.EN }

func problemf(name string, detail posluha.Text, fields ...fieldText) *problemError {
	return &problemError{name: name, detail: detail, fields: fields}
}

// problem is the RFC 9457 body.
type problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []fieldError `json:"errors,omitempty"`
}

// writeError is the one way the API reports a failure: the error's name
// chooses the status, the body is application/problem+json in the
// caller's language. 5xx say nothing more than their title and are
// logged; 4xx are the caller's business and are not.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	en := prefersEnglish(r)
	var (
		pe   *problemError
		name string
		p    problem
	)
	if errors.As(err, &pe) {
		name = pe.name
		p.Detail = pick(pe.detail, en)
		for _, f := range pe.fields {
			p.Errors = append(p.Errors, fieldError{Pointer: f.Pointer, Parameter: f.Parameter, Detail: pick(f.Detail, en)})
		}
	} else {
		name = posluha.ErrorName(err)
		if _, known := statusOf[name]; known && name != posluha.ErrInternal {
			p.Detail = posluha.ErrorMessage(err) // safe by contract (posluha.Error)
			if !en {
				p.Detail = ukDetail(name, p.Detail)
			}
		}
	}
	status, ok := statusOf[name]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		h.d.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
		p.Detail, p.Errors = "", nil
		if status == http.StatusInternalServerError {
			name = posluha.ErrInternal
		}
	}
	t := titles[name]
	if t.UK == "" {
		t = titles[posluha.ErrInternal]
	}
	p.Type = "urn:posluha:problem:" + name
	p.Title = pick(t, en)
	p.Status = status
	p.Code = name
	p.Instance = r.URL.Path
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", map[bool]string{true: "en", false: "uk"}[en])
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func pick(t posluha.Text, en bool) string {
	if en && t.EN != "" {
		return t.EN
	}
	if t.UK == "" {
		return t.EN
	}
	return t.UK
}

// ukDetail gives a Ukrainian detail for domain errors whose message is
// English: the generic text of the name, followed by the identifiers the
// message carries (ids are not words and read the same in both).
func ukDetail(name, en string) string {
	for _, r := range en {
		if r >= 'А' && r <= 'я' || r == 'і' || r == 'ї' || r == 'є' || r == 'ґ' {
			return en // already Ukrainian (the sign package's rejections)
		}
	}
	switch name {
	case posluha.ErrApplicationConflict:
		return "Дію не можна виконати в поточному стані заяви (" + en + ")"
	case posluha.ErrApplicationNotFound:
		return "Заяву або крок не знайдено"
	case posluha.ErrSignatureInvalid:
		return "Підпис не відповідає документу або підписувачу"
	case posluha.ErrSignatureExpired:
		return "Запит на підписання більше не чинний"
	}
	return en
}
