package jsonata

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/query/value"
)

// conformanceFloor is the number of conformance cases that must pass; it
// only goes up.
const conformanceFloor = 816

const casesDir = "../../../shared/conformance/jsonata/cases"

type conformanceCase struct {
	name     string
	expr     string
	input    any
	assign   *value.Object
	wantFail bool
	want     any
}

func loadCase(t testing.TB, path string) (conformanceCase, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := value.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc := v.(*value.Object)
	c := conformanceCase{name: strings.TrimSuffix(filepath.Base(path), ".json")}
	c.input, _ = doc.Get("input")
	def, _ := doc.Get("definition")
	states, _ := def.(*value.Object).Get("States")
	for _, m := range states.(*value.Object).Members() {
		st := m.Value.(*value.Object)
		if a, ok := st.Get("Assign"); ok {
			c.assign, _ = a.(*value.Object)
		}
		if o, ok := st.Get("Output"); ok {
			s, _ := o.(string)
			if !strings.HasPrefix(s, "{%") || !strings.HasSuffix(s, "%}") {
				return c, false
			}
			c.expr = strings.TrimSuffix(strings.TrimPrefix(s, "{%"), "%}")
		}
	}
	exp, _ := doc.Get("expect")
	status, _ := exp.(*value.Object).Get("status")
	c.wantFail = status == "FAILED"
	c.want, _ = exp.(*value.Object).Get("output")
	return c, c.expr != ""
}

// runCase evaluates a case the way Step Functions does: no context item,
// the input as $states.input, Assign'ed variables bound.
func runCase(c conformanceCase) (got any, err error) {
	vars := map[string]any{
		"states": value.ObjectOf("input", c.input, "context", value.ObjectOf(
			"Execution", value.ObjectOf("Id", "arn:aws:states:local:000000000000:execution:test:1", "Input", c.input, "Name", "1"),
			"State", value.ObjectOf("Name", "Eval"),
		)),
	}
	for _, m := range c.assign.Members() {
		vars[m.Key] = m.Value
		if s, ok := m.Value.(string); ok && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") {
			e, err := Compile(strings.TrimSuffix(strings.TrimPrefix(s, "{%"), "%}"))
			if err != nil {
				return nil, err
			}
			v, _, err := e.Eval(Env{Vars: map[string]any{"states": vars["states"]}})
			if err != nil {
				return nil, err
			}
			vars[m.Key] = v
		}
	}
	e, err := Compile(c.expr)
	if err != nil {
		return nil, err
	}
	v, ok, err := e.Eval(Env{Vars: vars})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("undefined result")
	}
	return v, nil
}

func TestConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if len(files) == 0 {
		t.Skip("no conformance cases at " + casesDir)
	}
	pass, total := 0, 0
	var failures []string
	for _, f := range files {
		c, ok := loadCase(t, f)
		if !ok {
			continue
		}
		total++
		got, err := runCase(c)
		switch {
		case c.wantFail && err != nil:
			var je *Error
			if errors.As(err, &je) || err.Error() == "undefined result" {
				pass++
				continue
			}
			failures = append(failures, c.name+": want *Error, got "+err.Error())
		case c.wantFail:
			failures = append(failures, c.name+": want failure, got "+value.String(got))
		case err != nil:
			failures = append(failures, c.name+": "+err.Error()+"   expr: "+c.expr)
		case !value.Equal(got, c.want):
			failures = append(failures, c.name+": got "+value.String(got)+", want "+value.String(c.want)+"   expr: "+c.expr)
		default:
			pass++
		}
	}
	if testing.Verbose() || os.Getenv("JSONATA_FAILURES") != "" {
		for _, f := range failures {
			t.Log(f)
		}
	}
	t.Logf("conformance: %d/%d cases pass", pass, total)
	if pass < conformanceFloor {
		t.Errorf("conformance: %d pass, below the floor %d", pass, conformanceFloor)
	}
}
