// Package templates holds the Camunda Modeler element templates (Camunda 8 /
// Zeebe schema) for Posluha's task types, so analysts pick "Registry read"
// or "Sign documents" instead of typing task types and header keys. Copy
// the *.json files into Camunda Modeler's resources/element-templates
// folder.
//
// The templates bind only what the compiler reads: zeebe:taskDefinition
// type and retries, zeebe:taskHeaders (connector, action, template, status)
// and zeebe:ioMapping inputs (the task's arguments), plus zeebe:userTask
// and zeebe:formDefinition for the wait-for-citizen user task.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// FS holds the template files (*.json).
//
//go:embed *.json
var FS embed.FS

// Template is the part of an element template the tests and tools read.
type Template struct {
	Schema      string   `json:"$schema"`
	Name        string   `json:"name"`
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords,omitempty"`
	Version     int      `json:"version"`
	AppliesTo   []string `json:"appliesTo"`
	ElementType struct {
		Value string `json:"value"`
	} `json:"elementType"`
	Groups     []Group    `json:"groups,omitempty"`
	Properties []Property `json:"properties"`
}

// Group is a properties-panel group.
type Group struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Property is one template property and its binding.
type Property struct {
	ID          string       `json:"id,omitempty"`
	Label       string       `json:"label,omitempty"`
	Description string       `json:"description,omitempty"`
	Group       string       `json:"group,omitempty"`
	Type        string       `json:"type"`
	Value       any          `json:"value,omitempty"`
	FEEL        string       `json:"feel,omitempty"`
	Optional    bool         `json:"optional,omitempty"`
	Choices     []Choice     `json:"choices,omitempty"`
	Binding     Binding      `json:"binding"`
	Constraints *Constraints `json:"constraints,omitempty"`
	Condition   *Condition   `json:"condition,omitempty"`
}

// Choice is a Dropdown entry.
type Choice struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Binding says where in the BPMN XML a property's value goes.
type Binding struct {
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`     // zeebe:input, zeebe:property, property
	Key      string `json:"key,omitempty"`      // zeebe:taskHeader
	Property string `json:"property,omitempty"` // zeebe:taskDefinition, zeebe:formDefinition, …
	Source   string `json:"source,omitempty"`   // zeebe:output
}

// Constraints are the property's validation rules.
type Constraints struct {
	NotEmpty bool `json:"notEmpty,omitempty"`
	Pattern  *struct {
		Value   string `json:"value"`
		Message string `json:"message"`
	} `json:"pattern,omitempty"`
}

// Condition shows a property only when another one has a given value.
type Condition struct {
	Property string   `json:"property"`
	Equals   string   `json:"equals,omitempty"`
	OneOf    []string `json:"oneOf,omitempty"`
}

// File is one template with the file it came from.
type File struct {
	Path     string
	Template Template
}

// All decodes every template file, sorted by file name.
func All() ([]File, error) {
	paths, err := fs.Glob(FS, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []File
	for _, p := range paths {
		b, err := FS.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var t Template
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("template %s: %w", p, err)
		}
		out = append(out, File{Path: p, Template: t})
	}
	return out, nil
}

// TaskType returns the value of the template's Hidden zeebe:taskDefinition
// type binding ("" for templates without one, such as user tasks).
func (t *Template) TaskType() string {
	for _, p := range t.Properties {
		if p.Binding.Type == "zeebe:taskDefinition" && p.Binding.Property == "type" {
			s, _ := p.Value.(string)
			return s
		}
	}
	return ""
}
