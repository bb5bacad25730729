package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/posluha/posluha"
)

// OpenAPI is the API's OpenAPI 3.1 document, as checked in.
//
//go:embed openapi.yaml
var OpenAPI []byte

// spec validates requests against the OpenAPI document.
type spec struct {
	doc    *openapi3.T
	json   []byte
	router routers.Router
	opts   *openapi3filter.Options
	// bodies are the request body schemas by operation id, compiled once.
	// kin-openapi validates 3.1 bodies by compiling a JSON Schema
	// validator per request, which cost two thirds of a submission's CPU;
	// the document's schemas are JSON Schema 2020-12, so they compile
	// here once, $refs and all.
	bodies map[string]*jsonschema.Schema
}

func loadSpec() (*spec, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi routes: %w", err)
	}
	bodies, err := compileBodies(doc, b)
	if err != nil {
		return nil, err
	}
	return &spec{doc: doc, json: b, router: r, bodies: bodies, opts: &openapi3filter.Options{
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		MultiError:          true,
		SkipSettingDefaults: true,
		ExcludeRequestBody:  true,
	}}, nil
}

const specURL = "urn:posluha:openapi"

func compileBodies(doc *openapi3.T, docJSON []byte) (map[string]*jsonschema.Schema, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docJSON))
	if err != nil {
		return nil, fmt.Errorf("openapi as JSON Schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, raw); err != nil {
		return nil, fmt.Errorf("openapi as JSON Schema: %w", err)
	}
	out := map[string]*jsonschema.Schema{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			ptr := "/paths/" + escape(path) + "/" + strings.ToLower(method) + "/requestBody/content/application~1json/schema"
			sch, err := c.Compile(specURL + "#" + ptr)
			if err != nil {
				return nil, fmt.Errorf("openapi %s %s body schema: %w", method, path, err)
			}
			out[op.OperationID] = sch
		}
	}
	return out, nil
}

func escape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(h.spec.json)
}

// validate checks the route, the body's size and media type and then the
// parameters and body against the document. The body is read here (at
// most max bytes) and put back for the route's handler.
func (s *spec) validate(w http.ResponseWriter, r *http.Request, max int64) error {
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return problemf(errMethod, posluha.Text{UK: "Цей метод не підтримується для " + r.URL.Path, EN: "Method " + r.Method + " is not allowed on " + r.URL.Path})
		}
		return problemf(errNoRoute, posluha.Text{UK: "Такої адреси немає", EN: "No such resource"})
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, max+1))
		r.Body.Close()
		if err != nil {
			return problemf(errBadRequest, posluha.Text{UK: "Не вдалося прочитати тіло запиту", EN: "Could not read the request body"})
		}
		if int64(len(body)) > max {
			return problemf(errTooLarge, posluha.Text{
				UK: fmt.Sprintf("Тіло запиту більше за %d КіБ", max>>10),
				EN: fmt.Sprintf("The request body is larger than %d KiB", max>>10),
			})
		}
		if len(body) > 0 {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
				return problemf(errMediaType, posluha.Text{UK: "Надсилайте тіло як application/json", EN: "Send the body as application/json"})
			}
			if !json.Valid(body) {
				return problemf(errBadRequest, posluha.Text{UK: "Тіло запиту — не коректний JSON", EN: "The request body is not valid JSON"})
			}
			r.Header.Set("Content-Type", "application/json")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.opts}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return requestProblem(err)
	}
	sch := s.bodies[route.Operation.OperationID]
	if sch == nil {
		return nil
	}
	if len(body) == 0 {
		return problemf(errBadRequest, posluha.Text{UK: "Потрібне тіло запиту", EN: "A request body is required"})
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return problemf(errBadRequest, posluha.Text{UK: "Тіло запиту — не коректний JSON", EN: "The request body is not valid JSON"})
	}
	if err := sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("validate %s body: %w", route.Operation.OperationID, err)
		}
		var fields []fieldText
		leaves(ve, "", &fields)
		return problemf(posluha.ErrApplicationInvalid, posluha.Text{UK: "Виправте поля запиту", EN: "Correct the request's fields"}, fields...)
	}
	return nil
}

// requestProblem turns kin-openapi's validation errors into one problem
// with a pointer per bad field: body fields as JSON pointers, parameters
// by name.
func requestProblem(err error) error {
	var reqErrs []*openapi3filter.RequestError
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			var re *openapi3filter.RequestError
			if errors.As(e, &re) {
				reqErrs = append(reqErrs, re)
			}
		}
	} else {
		var re *openapi3filter.RequestError
		if errors.As(err, &re) {
			reqErrs = append(reqErrs, re)
		}
	}
	var fields []fieldText
	name := errBadRequest
	for _, re := range reqErrs {
		switch {
		case re.Parameter != nil:
			fields = append(fields, fieldText{Parameter: re.Parameter.In + ":" + re.Parameter.Name, Detail: posluha.Text{
				UK: "Неправильне значення параметра " + re.Parameter.Name, EN: paramReason(re),
			}})
		case re.RequestBody != nil:
			var schemaErrs []*openapi3.SchemaError
			collectSchemaErrors(re.Err, &schemaErrs)
			if len(schemaErrs) == 0 {
				fields = append(fields, fieldText{Pointer: "", Detail: posluha.Text{UK: "Тіло запиту не відповідає опису API", EN: "The body does not match the API description"}})
				continue
			}
			name = posluha.ErrApplicationInvalid
			for _, se := range schemaErrs {
				fields = append(fields, schemaFields(se)...)
			}
		}
	}
	if len(fields) == 0 {
		return problemf(errBadRequest, posluha.Text{UK: "Запит не відповідає опису API", EN: "The request does not match the API description"})
	}
	return problemf(name, posluha.Text{UK: "Виправте поля запиту", EN: "Correct the request's fields"}, fields...)
}

func paramReason(re *openapi3filter.RequestError) string {
	if re.Err != nil {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			return "parameter " + re.Parameter.Name + ": " + se.Reason
		}
	}
	if re.Reason != "" {
		return "parameter " + re.Parameter.Name + ": " + re.Reason
	}
	return "parameter " + re.Parameter.Name + " is not valid"
}

func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	if err == nil {
		return
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		*out = append(*out, se)
	}
}

// schemaText gives a bilingual text for the common keywords of the API's
// own schemas.
func schemaText(se *openapi3.SchemaError) posluha.Text {
	uk := "Неправильне значення"
	switch se.SchemaField {
	case "required":
		uk = "Обов'язкове поле"
	case "additionalProperties":
		uk = "Невідоме поле"
	case "type":
		uk = "Неправильний тип значення"
	case "pattern", "format":
		uk = "Неправильний формат"
	case "minLength", "maxLength":
		uk = "Неприпустима довжина"
	}
	return posluha.Text{UK: uk, EN: se.Reason}
}

// pointer builds an RFC 6901 JSON pointer from path tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// schemaFields points at the fields a schema error is about. For OpenAPI
// 3.1 kin-openapi validates with a JSON Schema 2020-12 validator whose
// reason reads "at '/a/b': message"; required and additionalProperties
// name the properties in quotes, and each gets its own pointer.
func schemaFields(se *openapi3.SchemaError) []fieldText {
	at, msg := pointer(se.JSONPointer()), se.Reason
	if _, rest, ok := strings.Cut(se.Reason, "at '"); ok {
		if p, m, ok := strings.Cut(rest, "': "); ok {
			at, msg = p, m
		}
	}
	text := schemaText(se)
	text.EN = msg
	var names []string
	switch se.SchemaField {
	case "required":
		names = quoted(msg)
	case "additionalProperties":
		names = quoted(strings.TrimSuffix(msg, " not allowed"))
	}
	if len(names) == 0 {
		return []fieldText{{Pointer: at, Detail: text}}
	}
	out := make([]fieldText, len(names))
	for i, n := range names {
		out[i] = fieldText{Pointer: at + pointer([]string{n}), Detail: text}
	}
	return out
}

// quoted returns the 'single-quoted' words of s.
func quoted(s string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(s, "'")
		if !ok {
			return out
		}
		w, after, ok := strings.Cut(rest, "'")
		if !ok {
			return out
		}
		out = append(out, w)
		s = after
	}
}
