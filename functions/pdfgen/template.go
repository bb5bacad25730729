package pdfgen

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/posluha/posluha"
)

// Template is a document layout in a service folder
// (statemachines/<service>/<id>.yaml, or templates/<id>.yaml there).
// Text may hold {{field}} placeholders: the task's arguments.fields, plus
// number, issuedAt, verifyUrl and applicationId. A missing field renders
// as "—"; an RFC 3339 time or a yyyy-mm-dd date renders as dd.mm.yyyy
// (Europe/Kyiv).
type Template struct {
	// Prefix starts the document number, e.g. "EP" → EP-7K3M-9QX2-HT4A.
	Prefix     string   `yaml:"prefix"`
	Authority  string   `yaml:"authority"` // issuing body, above the title
	Title      string   `yaml:"title"`
	Subtitle   string   `yaml:"subtitle"`
	Paragraphs []string `yaml:"paragraphs"`
	Table      *Table   `yaml:"table"`
	Closing    []string `yaml:"closing"` // paragraphs after the table
	Footer     string   `yaml:"footer"`  // every page, small print
	Filename   string   `yaml:"filename"`
}

// Table is a bordered table; Header may be empty.
type Table struct {
	Header []string   `yaml:"header"`
	Widths []float64  `yaml:"widths"` // relative column widths
	Rows   [][]string `yaml:"rows"`
}

var templateID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// LoadTemplate reads <service>/<id>.yaml (or <service>/templates/<id>.yaml)
// from fsys. Errors: Document.Template.
func LoadTemplate(fsys fs.FS, service, id string) (*Template, error) {
	if !templateID.MatchString(id) || !templateID.MatchString(service) {
		return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template %q of service %q: bad name", id, service)
	}
	var b []byte
	var err error
	for _, p := range []string{path.Join(service, id+".yaml"), path.Join(service, "templates", id+".yaml")} {
		if b, err = fs.ReadFile(fsys, p); err == nil {
			break
		}
	}
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template %s/%s.yaml not found", service, id)
	}
	return ParseTemplate(b)
}

// ParseTemplate decodes a template. Errors: Document.Template.
func ParseTemplate(b []byte) (*Template, error) {
	var t Template
	if err := yaml.UnmarshalWithOptions(b, &t, yaml.Strict()); err != nil {
		return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template: %s", yaml.FormatError(err, false, true))
	}
	if t.Title == "" {
		return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template: title is required")
	}
	if t.Table != nil {
		n := len(t.Table.Header)
		for i, r := range t.Table.Rows {
			if n == 0 {
				n = len(r)
			}
			if len(r) != n {
				return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template: table row %d has %d cells, want %d", i+1, len(r), n)
			}
		}
		if len(t.Table.Widths) != 0 && len(t.Table.Widths) != n {
			return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "template: table widths has %d values, want %d", len(t.Table.Widths), n)
		}
	}
	return &t, nil
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.]+)\s*\}\}`)

// expand replaces {{field}} with its value.
func expand(s string, fields map[string]any, loc *time.Location) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		var v any = fields
		for part := range strings.SplitSeq(name, ".") {
			mm, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = mm[part]
		}
		return format(v, loc)
	})
}

// format renders a field value for print.
func format(v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return t.In(loc).Format("02.01.2006")
		}
		if t, err := time.Parse(time.DateOnly, x); err == nil {
			return t.Format("02.01.2006")
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "так"
		}
		return "ні"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if s := format(x[k], loc); s != "—" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return "—"
		}
		return strings.Join(parts, ", ")
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, format(e, loc))
		}
		return strings.Join(parts, "; ")
	default:
		return fmt.Sprint(x)
	}
}
