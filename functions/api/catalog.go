package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/query/jsonata"
	"github.com/posluha/posluha/query/value"
)

// catalog holds the services with their compiled form schemas and
// eligibility rules.
type catalog struct {
	list []*posluha.Service
	byID map[string]*entry
}

type entry struct {
	svc   *posluha.Service
	form  *jsonschema.Schema // nil: any object
	rules []rule
}

type rule struct {
	posluha.Rule
	expr *jsonata.Expr
}

func newCatalog(services []*posluha.Service) (*catalog, error) {
	c := &catalog{byID: map[string]*entry{}}
	var errs []error
	for _, s := range services {
		e := &entry{svc: s}
		if s.Form != nil {
			sch, err := compileForm(s.ID, s.Form)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			e.form = sch
		}
		for _, r := range s.Eligibility {
			x, err := jsonata.Compile(r.Condition)
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s: eligibility rule %s: %w", s.ID, r.ID, err))
				continue
			}
			e.rules = append(e.rules, rule{Rule: r, expr: x})
		}
		c.byID[s.ID] = e
		c.list = append(c.list, s)
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ID < c.list[j].ID })
	return c, errors.Join(errs...)
}

func compileForm(id string, form map[string]any) (*jsonschema.Schema, error) {
	b, err := json.Marshal(form)
	if err != nil {
		return nil, fmt.Errorf("service %s: form schema: %w", id, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("service %s: form schema: %w", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := "urn:posluha:service:" + id + ":form"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("service %s: form schema: %w", id, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("service %s: form schema: %w", id, err)
	}
	return sch, nil
}

var english = message.NewPrinter(language.English)

// checkForm validates a form; the problem lists every bad field with a
// JSON pointer into the request body (so under /form).
func (e *entry) checkForm(form map[string]any) error {
	if e.form == nil {
		return nil
	}
	err := e.form.Validate(form)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate form of %s: %w", e.svc.ID, err)
	}
	var fields []fieldText
	leaves(ve, "/form", &fields)
	if len(fields) == 0 {
		fields = []fieldText{{Pointer: "/form", Detail: posluha.Text{UK: "Форма заповнена неправильно", EN: "The form is not valid"}}}
	}
	return problemf(posluha.ErrApplicationInvalid, posluha.Text{UK: "Виправте поля форми", EN: "Correct the form's fields"}, fields...)
}

// leaves lists the innermost failures of a validation with JSON pointers
// (under prefix) and bilingual texts.
func leaves(ve *jsonschema.ValidationError, prefix string, out *[]fieldText) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			leaves(c, prefix, out)
		}
		return
	}
	at := prefix + pointer(ve.InstanceLocation)
	en := ve.ErrorKind.LocalizedString(english)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, fieldText{Pointer: at + pointer([]string{m}), Detail: posluha.Text{UK: "Обов'язкове поле", EN: "required"}})
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, fieldText{Pointer: at + pointer([]string{p}), Detail: posluha.Text{UK: "Невідоме поле", EN: "unknown field"}})
		}
		return
	}
	*out = append(*out, fieldText{Pointer: at, Detail: posluha.Text{UK: ukKind(ve.ErrorKind), EN: en}})
}

func ukKind(k jsonschema.ErrorKind) string {
	switch k.(type) {
	case *kind.Type:
		return "Неправильний тип значення"
	case *kind.Pattern, *kind.Format:
		return "Неправильний формат"
	case *kind.MinLength:
		return "Занадто коротке значення"
	case *kind.MaxLength:
		return "Занадто довге значення"
	case *kind.Minimum, *kind.ExclusiveMinimum:
		return "Замале значення"
	case *kind.Maximum, *kind.ExclusiveMaximum:
		return "Завелике значення"
	case *kind.Enum, *kind.Const:
		return "Значення не з допустимого переліку"
	case *kind.MinItems, *kind.MaxItems:
		return "Неприпустима кількість елементів"
	}
	return "Неправильне значення"
}

// checkEligibility runs the rules over {"form","citizen"}; every rule must
// yield true. A rule that fails to evaluate counts as not met (fail
// closed) and is logged for the service's analysts.
func (e *entry) checkEligibility(form map[string]any, c Citizen) (failed *rule, evalErr error) {
	if len(e.rules) == 0 {
		return nil, nil
	}
	in, err := value.FromGo(map[string]any{
		"form":    form,
		"citizen": map[string]any{"taxNumber": c.TaxNumber, "name": c.Name, "age": float64(c.Age)},
	})
	if err != nil {
		return &e.rules[0], fmt.Errorf("eligibility input: %w", err)
	}
	for i := range e.rules {
		r := &e.rules[i]
		v, ok, err := r.expr.Eval(jsonata.Env{Input: in, HasInput: true})
		if err != nil {
			return r, fmt.Errorf("eligibility rule %s of %s: %w", r.ID, e.svc.ID, err)
		}
		if b, isBool := v.(bool); !ok || !isBool || !b {
			return r, nil
		}
	}
	return nil, nil
}
