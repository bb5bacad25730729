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
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
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
	// params are the parameters' schemas by operation id, compiled once
	// like the bodies.
	params map[string][]param
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
	bodies, params, err := compileSchemas(doc, b)
	if err != nil {
		return nil, err
	}
	return &spec{doc: doc, json: b, router: r, bodies: bodies, params: params}, nil
}

// param is one parameter of an operation.
type param struct {
	name, in string
	required bool
	integer  bool // the value is parsed as a number before validation
	schema   *jsonschema.Schema
}

const specURL = "urn:posluha:openapi"

func compileSchemas(doc *openapi3.T, docJSON []byte) (map[string]*jsonschema.Schema, map[string][]param, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docJSON))
	if err != nil {
		return nil, nil, fmt.Errorf("openapi as JSON Schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, raw); err != nil {
		return nil, nil, fmt.Errorf("openapi as JSON Schema: %w", err)
	}
	out := map[string]*jsonschema.Schema{}
	params := map[string][]param{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			opPtr := "/paths/" + escape(path) + "/" + strings.ToLower(method)
			for i, pr := range op.Parameters {
				p := pr.Value
				ptr := fmt.Sprintf("%s/parameters/%d", opPtr, i)
				if pr.Ref != "" {
					ptr = strings.TrimPrefix(pr.Ref, "#")
				}
				sch, err := c.Compile(specURL + "#" + ptr + "/schema")
				if err != nil {
					return nil, nil, fmt.Errorf("openapi %s %s parameter %s: %w", method, path, p.Name, err)
				}
				integer := p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is("integer")
				params[op.OperationID] = append(params[op.OperationID], param{name: p.Name, in: p.In, required: p.Required, integer: integer, schema: sch})
			}
			if op.RequestBody == nil || op.RequestBody.Value == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			ptr := "/paths/" + escape(path) + "/" + strings.ToLower(method) + "/requestBody/content/application~1json/schema"
			sch, err := c.Compile(specURL + "#" + ptr)
			if err != nil {
				return nil, nil, fmt.Errorf("openapi %s %s body schema: %w", method, path, err)
			}
			out[op.OperationID] = sch
		}
	}
	return out, params, nil
}

// checkParams validates path, query and header parameters.
func (s *spec) checkParams(r *http.Request, opID string, pathParams map[string]string) error {
	var fields []fieldText
	q := r.URL.Query()
	for _, p := range s.params[opID] {
		var v string
		var ok bool
		switch p.in {
		case "path":
			v, ok = pathParams[p.name]
		case "query":
			ok = q.Has(p.name)
			v = q.Get(p.name)
		case "header":
			v = r.Header.Get(p.name)
			ok = v != ""
		}
		at := p.in + ":" + p.name
		if !ok {
			if p.required {
				fields = append(fields, fieldText{Parameter: at, Detail: posluha.Text{UK: "Обов'язковий параметр", EN: "required"}})
			}
			continue
		}
		var inst any = v
		if p.integer {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fields = append(fields, fieldText{Parameter: at, Detail: posluha.Text{UK: "Потрібне ціле число", EN: "not an integer"}})
				continue
			}
			inst = n
		}
		if err := p.schema.Validate(inst); err != nil {
			en := err.Error()
			var ve *jsonschema.ValidationError
			if errors.As(err, &ve) {
				var leavesOut []fieldText
				leaves(ve, "", &leavesOut)
				if len(leavesOut) > 0 {
					fields = append(fields, fieldText{Parameter: at, Detail: leavesOut[0].Detail})
					continue
				}
			}
			fields = append(fields, fieldText{Parameter: at, Detail: posluha.Text{UK: "Неправильне значення", EN: en}})
		}
	}
	if len(fields) > 0 {
		return problemf(errBadRequest, posluha.Text{UK: "Неправильні параметри запиту", EN: "Bad request parameters"}, fields...)
	}
	return nil
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
	if err := s.checkParams(r, route.Operation.OperationID, params); err != nil {
		return err
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

// pointer builds an RFC 6901 JSON pointer from path tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
