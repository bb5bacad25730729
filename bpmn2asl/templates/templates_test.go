package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	posluha "github.com/posluha/posluha"
	"github.com/posluha/posluha/bpmn2asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
)

const zeebeSchema = "https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json"

// bindingFields lists the binding types the templates may use (those the
// compiler reads) and the field each requires.
var bindingFields = map[string]string{
	"zeebe:taskDefinition":       "property",
	"zeebe:taskHeader":           "key",
	"zeebe:input":                "name",
	"zeebe:output":               "source",
	"zeebe:property":             "name",
	"zeebe:userTask":             "",
	"zeebe:formDefinition":       "property",
	"zeebe:assignmentDefinition": "property",
}

var propertyTypes = map[string]bool{"String": true, "Text": true, "Hidden": true, "Dropdown": true, "Boolean": true, "Number": true}

// TestWellFormed checks each template against the rules of the Camunda 8
// element template schema that matter here, and that it names only task
// types and actions Posluha supports.
func TestWellFormed(t *testing.T) {
	files, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("%d templates, want at least 5", len(files))
	}
	ids := map[string]string{}
	types := map[string]bool{}
	for _, f := range files {
		t.Run(f.Path, func(t *testing.T) {
			raw, _ := FS.ReadFile(f.Path)
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var strict Template
			if err := dec.Decode(&strict); err != nil {
				t.Errorf("unknown or mistyped field: %v", err)
			}
			tp := f.Template
			if tp.Schema != zeebeSchema {
				t.Errorf("$schema = %q, want the Zeebe element templates schema", tp.Schema)
			}
			if tp.Name == "" || tp.ID == "" || tp.Version < 1 || tp.Description == "" {
				t.Errorf("name, id, version and description are required: %+v", tp)
			}
			if prev, dup := ids[tp.ID]; dup {
				t.Errorf("id %q also used by %s", tp.ID, prev)
			}
			ids[tp.ID] = f.Path
			ns := regexp.MustCompile(`^bpmn:[A-Z][A-Za-z]+$`)
			for _, a := range tp.AppliesTo {
				if !ns.MatchString(a) {
					t.Errorf("appliesTo %q is not a bpmn: type", a)
				}
			}
			if len(tp.AppliesTo) == 0 || !ns.MatchString(tp.ElementType.Value) {
				t.Errorf("appliesTo %v / elementType %q", tp.AppliesTo, tp.ElementType.Value)
			}
			groups := map[string]bool{}
			for _, g := range tp.Groups {
				if g.ID == "" || g.Label == "" {
					t.Errorf("group %+v lacks id or label", g)
				}
				groups[g.ID] = true
			}
			propIDs := map[string]*Property{}
			for i := range tp.Properties {
				if p := &tp.Properties[i]; p.ID != "" {
					propIDs[p.ID] = p
				}
			}
			bound := map[string]bool{}
			for _, p := range tp.Properties {
				where := fmt.Sprintf("property %q", p.Label)
				if !propertyTypes[p.Type] {
					t.Errorf("%s: type %q", where, p.Type)
				}
				if p.Type != "Hidden" && p.Label == "" {
					t.Errorf("%s: visible property without label", where)
				}
				if p.Group != "" && !groups[p.Group] {
					t.Errorf("%s: unknown group %q", where, p.Group)
				}
				if p.Type == "Dropdown" && len(p.Choices) == 0 {
					t.Errorf("%s: Dropdown without choices", where)
				}
				if p.FEEL != "" && p.FEEL != "optional" && p.FEEL != "required" {
					t.Errorf("%s: feel %q", where, p.FEEL)
				}
				field, ok := bindingFields[p.Binding.Type]
				if !ok {
					t.Errorf("%s: binding type %q is not one the compiler reads", where, p.Binding.Type)
				}
				var v string
				switch field {
				case "property":
					v = p.Binding.Property
				case "key":
					v = p.Binding.Key
				case "name":
					v = p.Binding.Name
				case "source":
					v = p.Binding.Source
				}
				if field != "" && v == "" {
					t.Errorf("%s: binding %s needs %s", where, p.Binding.Type, field)
				}
				k := p.Binding.Type + "#" + v
				if bound[k] && p.Condition == nil {
					t.Errorf("%s: binding %s bound twice", where, k)
				}
				bound[k] = true
				if p.Constraints != nil && p.Constraints.Pattern != nil {
					if _, err := regexp.Compile(p.Constraints.Pattern.Value); err != nil {
						t.Errorf("%s: pattern: %v", where, err)
					}
				}
				if c := p.Condition; c != nil {
					dep := propIDs[c.Property]
					if dep == nil {
						t.Errorf("%s: condition on unknown property %q", where, c.Property)
					} else if dep.Type == "Dropdown" && !hasChoice(dep, c.Equals) {
						t.Errorf("%s: condition value %q is not a choice of %q", where, c.Equals, c.Property)
					}
				}
				if p.Binding.Type == "zeebe:taskHeader" && p.Binding.Key == "action" {
					for _, ch := range p.Choices {
						switch ch.Value {
						case posluha.ActionStatus, posluha.ActionNotify, posluha.ActionWrite:
						default:
							t.Errorf("%s: action %q is not an eventwrite action", where, ch.Value)
						}
					}
				}
			}
			typ := tp.TaskType()
			switch tp.ElementType.Value {
			case "bpmn:UserTask":
				if typ != "" || !bound["zeebe:userTask#"] {
					t.Errorf("a user task template binds zeebe:userTask and no task type (got type %q)", typ)
				}
			default:
				if posluha.FunctionForTaskType(typ) == "" || strings.HasPrefix(typ, posluha.CustomTaskPrefix) {
					t.Errorf("task type %q is not one of Posluha's task types", typ)
				}
				types[typ] = true
			}
		})
	}
	for _, want := range []string{posluha.TaskRegistryRead, posluha.TaskEventWrite, posluha.TaskDocumentSign, posluha.TaskDocumentPDF} {
		if !types[want] {
			t.Errorf("no template for task type %s", want)
		}
	}
}

func hasChoice(p *Property, v string) bool {
	for _, c := range p.Choices {
		if c.Value == v {
			return true
		}
	}
	return false
}

// apply renders the BPMN element the Modeler would produce from the
// template with its default values (the first choice of a Dropdown whose
// value is unset, "x" for a required empty String), honouring conditions.
func apply(tp *Template, id string) string {
	values := map[string]string{}
	val := func(p *Property) string {
		s, _ := p.Value.(string)
		if s == "" && p.Type == "Dropdown" && len(p.Choices) > 0 {
			s = p.Choices[0].Value
		}
		if s == "" && p.Constraints != nil && p.Constraints.NotEmpty {
			s = "x.y"
		}
		return s
	}
	for i := range tp.Properties {
		if p := &tp.Properties[i]; p.ID != "" {
			values[p.ID] = val(p)
		}
	}
	var def, headers, inputs, ext []string
	for i := range tp.Properties {
		p := &tp.Properties[i]
		if c := p.Condition; c != nil && values[c.Property] != c.Equals {
			continue
		}
		v := html.EscapeString(val(p))
		switch p.Binding.Type {
		case "zeebe:taskDefinition":
			def = append(def, fmt.Sprintf(`%s="%s"`, p.Binding.Property, v))
		case "zeebe:taskHeader":
			if v != "" {
				headers = append(headers, fmt.Sprintf(`<zeebe:header key="%s" value="%s"/>`, p.Binding.Key, v))
			}
		case "zeebe:input":
			if v != "" {
				inputs = append(inputs, fmt.Sprintf(`<zeebe:input source="%s" target="%s"/>`, v, p.Binding.Name))
			}
		case "zeebe:userTask":
			ext = append(ext, `<zeebe:userTask/>`)
		case "zeebe:formDefinition":
			ext = append(ext, fmt.Sprintf(`<zeebe:formDefinition %s="%s"/>`, p.Binding.Property, v))
		}
	}
	if len(def) > 0 {
		ext = append(ext, `<zeebe:taskDefinition `+strings.Join(def, " ")+`/>`)
	}
	if len(headers) > 0 {
		ext = append(ext, `<zeebe:taskHeaders>`+strings.Join(headers, "")+`</zeebe:taskHeaders>`)
	}
	if len(inputs) > 0 {
		ext = append(ext, `<zeebe:ioMapping>`+strings.Join(inputs, "")+`</zeebe:ioMapping>`)
	}
	tag := "bpmn:" + strings.ToLower(tp.ElementType.Value[5:6]) + tp.ElementType.Value[6:]
	return fmt.Sprintf(`<%s id="%s" name="%s"><bpmn:extensionElements>%s</bpmn:extensionElements></%s>`,
		tag, id, html.EscapeString(tp.Name), strings.Join(ext, ""), tag)
}

// TestApplyAndCompile applies every template with its defaults to a task
// in a one-task process and compiles it: the parser must read back the
// bindings, and the compiler must accept the result.
func TestApplyAndCompile(t *testing.T) {
	files, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f.Path, func(t *testing.T) {
			tp := &f.Template
			src := `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D">
<bpmn:process id="P" isExecutable="true">
<bpmn:startEvent id="S"/>` + apply(tp, "T") + `<bpmn:endEvent id="E"/>
<bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/><bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E"/>
</bpmn:process></bpmn:definitions>`
			defs, ds := bpmn.Parse("t.bpmn", []byte(src))
			if defs == nil || diag.HasErrors(ds) {
				t.Fatalf("parse: %v\n%s", ds, src)
			}
			n := defs.Node("T")
			if n.TaskType() != tp.TaskType() {
				t.Errorf("task type read back %q, want %q", n.TaskType(), tp.TaskType())
			}
			if tp.ElementType.Value == "bpmn:UserTask" && (n.UserTask == nil || !n.UserTask.Zeebe) {
				t.Errorf("zeebe:userTask not read back")
			}
			res, cds := bpmn2asl.Compile("t.bpmn", []byte(src), bpmn2asl.Options{Service: "demo"})
			if res == nil || diag.HasErrors(cds) {
				var b strings.Builder
				_ = diag.WriteText(&b, cds)
				t.Fatalf("compile:\n%s\n%s", b.String(), src)
			}
			if !bytes.Contains(res.ASL, []byte(`"bpmn:T"`)) {
				t.Errorf("no state for the task")
			}
		})
	}
}
