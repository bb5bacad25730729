package feel

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// Error is a translation failure positioned within the FEEL source.
// Offset is the 0-based byte offset into src; Line and Column are 1-based
// (Column counts runes) so that diagnostics can point into the BPMN
// attribute. Hint, when set, suggests a fix.
type Error struct {
	Offset int
	Line   int
	Column int
	Msg    string
	Hint   string
}

// Error formats the error as "line:col: msg", the form the compiler's
// diagnostics embed.
func (e *Error) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// newError positions msg at byte offset off of src.
func newError(src string, off int, msg, hint string) *Error {
	off = max(0, min(off, len(src)))
	for off > 0 && off < len(src) && !utf8.RuneStart(src[off]) {
		off--
	}
	line, col := 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &Error{Offset: off, Line: line, Column: col, Msg: msg, Hint: hint}
}

// Translate turns a FEEL expression (optionally prefixed with '=') into the
// text of an equivalent JSONata expression, without the {% %} delimiters.
// Errors are always of type *Error.
func Translate(src string) (string, error) {
	r, err := translate(src)
	if err != nil {
		return "", err
	}
	return r.text, nil
}

// TranslateCondition is Translate for gateway conditions: the result always
// evaluates to a JSONata boolean (never undefined or a non-boolean), which a
// Step Functions Choice rule requires. FEEL's null and non-boolean results
// become false, as in Zeebe where a condition that is not true is not taken.
func TranslateCondition(src string) (string, error) {
	r, err := translate(src)
	if err != nil {
		return "", err
	}
	if r.typ == kBool && r.total {
		return r.text, nil
	}
	return wrap(r, pCmp+1) + " = true", nil
}

// Names returns the free variable names (first path segments) that the
// expression reads, sorted and without duplicates, so the compiler can check
// them against the process variables. Names inside a list filter's
// predicate are not reported: FEEL resolves them against the list item's
// members first, so they need not be process variables. Errors are *Error.
func Names(src string) ([]string, error) {
	g, _, err := run(src)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(g.free))
	for n := range g.free {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// CheckVariable returns an error if name cannot be a process variable,
// i.e. a Step Functions variable read as $name in the generated JSONata:
// names must be ASCII identifiers, not start with "__", not be "states",
// and not be the name of a JSONata built-in function (a variable $count
// would shadow $count() in every expression of the state machine). This is
// the rule Translate applies to the variables an expression reads; the
// compiler should apply it to the variables it writes as well.
func CheckVariable(name string) error {
	if msg, hint := varProblem(name); msg != "" {
		return fmt.Errorf("%s (%s)", msg, hint)
	}
	return nil
}

func translate(src string) (js, error) {
	_, r, err := run(src)
	if err != nil {
		return js{}, err
	}
	return r, nil
}

// run parses and generates; it is the only place that recovers the
// generator's bailout panic.
func run(src string) (g *gen, r js, err error) {
	n, perr := parse(src)
	if perr != nil {
		return nil, js{}, perr
	}
	g = &gen{src: src, free: map[string]bool{}}
	defer func() {
		if x := recover(); x != nil {
			b, ok := x.(bailout)
			if !ok {
				panic(x)
			}
			g, r, err = nil, js{}, b.err
		}
	}()
	r = g.expr(n, nil)
	return g, r, nil
}
