// Package diag holds the compiler's diagnostics as data, in the style of
// esbuild's logger: every stage (parse, structure, emit) appends Diagnostic
// values to a List; nothing prints. The CLI sorts them and renders them as
// text, JSON or GitHub Actions annotations.
//
// Codes (see codes.go) are API: CI scripts and analysts' documentation refer
// to them, so a code is never reused for a different problem.
package diag

import (
	"cmp"
	"fmt"
	"slices"
)

// Severity says whether a diagnostic stops compilation (Error) or is advice
// (Warning).
type Severity int

const (
	// Error makes `check` exit 1 and `compile` produce no output.
	Error Severity = iota
	// Warning is reported but does not fail the build.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name, for JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("unknown severity %q", b)
	}
	return nil
}

// Note is secondary information attached to a diagnostic, usually pointing
// at a related element (the other duplicate, the matching join, …).
type Note struct {
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Col       int    `json:"col,omitempty"`
	ElementID string `json:"elementId,omitempty"`
	Message   string `json:"message"`
}

// Diagnostic is one problem found in a BPMN file. Line and Col are 1-based
// (Col counts runes); zero means unknown. ElementID and ElementName identify
// the BPMN element the analyst has to fix.
type Diagnostic struct {
	Severity    Severity `json:"severity"`
	Code        Code     `json:"code"`
	File        string   `json:"file,omitempty"`
	Line        int      `json:"line,omitempty"`
	Col         int      `json:"col,omitempty"`
	ElementID   string   `json:"elementId,omitempty"`
	ElementName string   `json:"elementName,omitempty"`
	Message     string   `json:"message"`
	Hint        string   `json:"hint,omitempty"`
	Notes       []Note   `json:"notes,omitempty"`
}

// Error implements the error interface with the one-line text form
// (without hint and notes), so a Diagnostic can travel as an error.
func (d Diagnostic) Error() string { return d.header() }

// Compare orders diagnostics by file, line, column, code, element id and
// message; it is the order List.Done and Sort produce.
func Compare(a, b Diagnostic) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Col, b.Col),
		cmp.Compare(a.Code, b.Code),
		cmp.Compare(a.ElementID, b.ElementID),
		cmp.Compare(a.Message, b.Message),
	)
}

// Sort sorts ds in place in Compare order (stable).
func Sort(ds []Diagnostic) { slices.SortStableFunc(ds, Compare) }

// HasErrors reports whether any diagnostic has Error severity.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings in ds.
func Count(ds []Diagnostic) (errors, warnings int) {
	for _, d := range ds {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// List collects diagnostics during one compilation. The zero value is ready
// to use. It is not safe for concurrent use.
type List struct {
	items []Diagnostic
}

// Add appends d. If d.Severity is the zero value and the code is registered
// as a warning, the registered severity is not applied: set it explicitly,
// or use Report.
func (l *List) Add(d Diagnostic) { l.items = append(l.items, d) }

// AddAll appends every diagnostic of ds.
func (l *List) AddAll(ds []Diagnostic) { l.items = append(l.items, ds...) }

// Report appends a diagnostic with the code's registered severity and a
// formatted message, and returns a pointer to it so the caller can fill in
// position, element and hint. The pointer is valid until the next append.
func (l *List) Report(code Code, format string, args ...any) *Diagnostic {
	l.items = append(l.items, Diagnostic{
		Severity: code.Severity(),
		Code:     code,
		Message:  fmt.Sprintf(format, args...),
	})
	return &l.items[len(l.items)-1]
}

// Len returns the number of diagnostics collected so far.
func (l *List) Len() int { return len(l.items) }

// HasErrors reports whether an error has been collected.
func (l *List) HasErrors() bool { return HasErrors(l.items) }

// Done returns the collected diagnostics sorted, with exact duplicates
// removed. The List may be reused afterwards.
func (l *List) Done() []Diagnostic {
	out := slices.Clone(l.items)
	Sort(out)
	out = slices.CompactFunc(out, func(a, b Diagnostic) bool {
		return Compare(a, b) == 0 && a.Severity == b.Severity && a.Hint == b.Hint &&
			a.ElementName == b.ElementName && slices.Equal(a.Notes, b.Notes)
	})
	return out
}
