package scenario

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints a readable report: PASS/FAIL per scenario, the path it
// took drawn as text (always for failures, for every scenario when
// verbose), and the coverage summary.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", r.Service, r.BPMN)
	for _, res := range r.Results {
		mark := "PASS"
		if !res.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  %s  [%s, %d steps, %s virtual]\n", mark, res.Scenario.Name, res.Status, len(res.Path), human(res.Elapsed))
		for _, f := range res.Failures {
			fmt.Fprintf(&b, "        ✗ %s\n", f)
		}
		if verbose || !res.Passed {
			b.WriteString(DrawPath(res.Path, "        "))
		}
	}
	pass := 0
	for _, res := range r.Results {
		if res.Passed {
			pass++
		}
	}
	fmt.Fprintf(&b, "  %d/%d scenarios passed\n", pass, len(r.Results))
	if r.Coverage != nil {
		pe, pf := r.Coverage.Percent()
		ue, uf := r.Coverage.Unreached()
		fmt.Fprintf(&b, "  coverage: %.0f%% of elements, %.0f%% of sequence flows\n", pe, pf)
		if len(ue) > 0 {
			fmt.Fprintf(&b, "    never reached: %s\n", strings.Join(ue, ", "))
		}
		if len(uf) > 0 {
			fmt.Fprintf(&b, "    flows never taken: %s\n", strings.Join(uf, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DrawPath draws a path as text, one element a line:
//
//	 0s ○ submitted            Заяву подано
//	 0s □ read_owners          Перевірити право власності (ДРРП)
//	30d ⚡ consent_deadline    30 днів минуло       (via f_…)
func DrawPath(path []Step, indent string) string {
	var b strings.Builder
	width := 0
	for _, s := range path {
		width = max(width, len(s.ID))
	}
	for i, s := range path {
		sym := map[string]string{"event": "○", "boundary": "⚡", "gateway": "◇", "subprocess": "▣", "task": "□"}[s.Kind]
		arrow := "↓"
		if i == 0 {
			arrow = " "
		}
		line := fmt.Sprintf("%s%s %6s %s %-*s  %s", indent, arrow, human(s.At), sym, width, s.ID, s.Name)
		if s.Flow != "" && i > 0 {
			line += "   (" + s.Flow + ")"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

// human prints a duration compactly: 0s, 4s, 1h2m, 30d1h.
func human(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%dd%dh", days, int(d.Hours())%24)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes reports as JUnit XML: a test suite per service, a test
// case per scenario, the path in system-out.
func WriteJUnit(w io.Writer, reports []*Report) error {
	var doc junitSuites
	for _, r := range reports {
		s := junitSuite{Name: r.Service, Tests: len(r.Results)}
		var total time.Duration
		for _, res := range r.Results {
			total += res.Wall
			c := junitCase{Name: res.Scenario.Name, Classname: "statemachines." + r.Service, File: res.Scenario.File,
				Time: fmt.Sprintf("%.3f", res.Wall.Seconds()), SystemOut: DrawPath(res.Path, "")}
			if !res.Passed {
				s.Failures++
				c.Failure = &junitFailure{Message: res.Failures[0], Type: "ScenarioFailed", Body: strings.Join(res.Failures, "\n")}
			}
			s.Cases = append(s.Cases, c)
		}
		s.Time = fmt.Sprintf("%.3f", total.Seconds())
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
