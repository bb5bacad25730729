package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// location renders "file:line:col" leaving out unknown parts.
func location(file string, line, col int) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(line))
		if col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(col))
		}
	}
	return b.String()
}

// header is the first line of the text form, without a newline.
func (d Diagnostic) header() string {
	var b strings.Builder
	if loc := location(d.File, d.Line, d.Col); loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s[%s]: %s", d.Severity, d.Code, d.Message)
	if d.ElementID != "" {
		fmt.Fprintf(&b, " (element %s", d.ElementID)
		if d.ElementName != "" {
			fmt.Fprintf(&b, " %q", d.ElementName)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Text renders d in the compiler's text form:
//
//	file:line:col: error[CODE]: message (element id "name")
//	  hint: …
//	  note: file:line:col: … (element id)
//
// Every line ends with a newline.
func (d Diagnostic) Text() string {
	var b strings.Builder
	b.WriteString(d.header())
	b.WriteByte('\n')
	if d.Hint != "" {
		b.WriteString("  hint: ")
		b.WriteString(d.Hint)
		b.WriteByte('\n')
	}
	for _, n := range d.Notes {
		b.WriteString("  note: ")
		if loc := location(n.File, n.Line, n.Col); loc != "" {
			b.WriteString(loc)
			b.WriteString(": ")
		}
		b.WriteString(n.Message)
		if n.ElementID != "" {
			fmt.Fprintf(&b, " (element %s)", n.ElementID)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteText writes every diagnostic in text form, in the given order.
func WriteText(w io.Writer, ds []Diagnostic) error {
	for _, d := range ds {
		if _, err := io.WriteString(w, d.Text()); err != nil {
			return err
		}
	}
	return nil
}

// Summary returns "2 errors, 1 warning" style text ("no problems" when ds is
// empty).
func Summary(ds []Diagnostic) string {
	e, w := Count(ds)
	if e == 0 && w == 0 {
		return "no problems"
	}
	plural := func(n int, s string) string {
		if n == 1 {
			return "1 " + s
		}
		return strconv.Itoa(n) + " " + s + "s"
	}
	return plural(e, "error") + ", " + plural(w, "warning")
}

// Report is the JSON document `--format json` prints: the diagnostics and
// their counts. Diagnostics is never null.
type Report struct {
	Diagnostics []Diagnostic `json:"diagnostics"`
	Errors      int          `json:"errors"`
	Warnings    int          `json:"warnings"`
}

// WriteJSON writes ds as an indented Report followed by a newline.
func WriteJSON(w io.Writer, ds []Diagnostic) error {
	r := Report{Diagnostics: ds}
	if r.Diagnostics == nil {
		r.Diagnostics = []Diagnostic{}
	}
	r.Errors, r.Warnings = Count(ds)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// GitHub renders d as a GitHub Actions workflow command:
//
//	::error file=F,line=L,col=C,title=CODE::message (element id "name") — hint
//
// Properties and data are escaped as the runner expects (%, CR, LF, and in
// properties also ':' and ','). The result ends with a newline.
func (d Diagnostic) GitHub() string {
	cmd := "error"
	if d.Severity == Warning {
		cmd = "warning"
	}
	var props []string
	if d.File != "" {
		props = append(props, "file="+escapeProperty(d.File))
	}
	if d.Line > 0 {
		props = append(props, "line="+strconv.Itoa(d.Line))
		if d.Col > 0 {
			props = append(props, "col="+strconv.Itoa(d.Col))
		}
	}
	props = append(props, "title="+escapeProperty(string(d.Code)))
	msg := d.Message
	if d.ElementID != "" {
		msg += " (element " + d.ElementID
		if d.ElementName != "" {
			msg += " " + strconv.Quote(d.ElementName)
		}
		msg += ")"
	}
	if d.Hint != "" {
		msg += "\nhint: " + d.Hint
	}
	for _, n := range d.Notes {
		msg += "\nnote: "
		if loc := location(n.File, n.Line, n.Col); loc != "" {
			msg += loc + ": "
		}
		msg += n.Message
	}
	return "::" + cmd + " " + strings.Join(props, ",") + "::" + escapeData(msg) + "\n"
}

// WriteGitHub writes every diagnostic as a GitHub Actions annotation.
func WriteGitHub(w io.Writer, ds []Diagnostic) error {
	for _, d := range ds {
		if _, err := io.WriteString(w, d.GitHub()); err != nil {
			return err
		}
	}
	return nil
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
