// Package statemachines holds the public services, one folder each:
// process.bpmn (the analysts' model), service.yaml (the catalogue entry,
// docs/service-yaml.md) and process.asl.json (compiled by bpmn2asl, checked
// in, kept current by a test). The folders are embedded so that binaries
// and `make run` work on the built-in services with no files around them.
package statemachines

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/posluha/posluha"
)

// FS holds every service folder: the catalogue entry, the process, its
// compiled definition and the document templates.
//
//go:embed */*.yaml */process.bpmn */process.asl.json
var FS embed.FS

// Load reads every <id>/service.yaml in fsys, checks it and returns the
// services ordered by id. A bad file is reported with file:line:col; every
// bad file is reported, not only the first.
func Load(fsys fs.FS) ([]*posluha.Service, error) {
	files, err := fs.Glob(fsys, "*/service.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*posluha.Service
	var errs []error
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := Parse(f, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := path.Dir(f); s.ID != want {
			errs = append(errs, fmt.Errorf("%s: id %q must equal the folder name %q", f, s.ID, want))
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// Parse decodes one service.yaml; unknown fields are errors, since a typo
// in a catalogue entry would otherwise silently drop a rule.
func Parse(file string, src []byte) (*posluha.Service, error) {
	var s posluha.Service
	dec := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField(), yaml.UseJSONUnmarshaler())
	if err := dec.Decode(&s); err != nil {
		return nil, yamlError(file, err)
	}
	if s.Form != nil {
		form, err := jsonNumbers(s.Form)
		if err != nil {
			return nil, fmt.Errorf("%s: form: %w", file, err)
		}
		s.Form = form.(map[string]any)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %s", file, posluha.ErrorMessage(err))
	}
	return &s, nil
}

var yamlPos = regexp.MustCompile(`^\[(\d+):(\d+)\] `)

// yamlError rewrites goccy's "[line:col] message" as "file:line:col: message",
// the form editors and CI annotations understand.
func yamlError(file string, err error) error {
	msg := strings.TrimSpace(yaml.FormatError(err, false, false))
	if m := yamlPos.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s:%s: %s", file, m[1], m[2], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", file, msg)
}

// jsonNumbers turns YAML's integer types into float64, the number type of
// decoded JSON, so a form schema reads the same from YAML and from JSON.
func jsonNumbers(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			c, err := jsonNumbers(e)
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
		return t, nil
	case []any:
		for i, e := range t {
			c, err := jsonNumbers(e)
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case float64, string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unsupported YAML value %v (%T)", v, v)
}
