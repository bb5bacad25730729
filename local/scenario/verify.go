package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// verify compares a finished execution with the scenario's expectations
// and appends a failure per difference, each pointing at the line of the
// expectation.
func (m *model) verify(sc *Scenario, res *Result) {
	fail := func(path, format string, args ...any) {
		res.Failures = append(res.Failures, sc.where(path)+": "+fmt.Sprintf(format, args...))
	}
	ex := sc.Expect
	want := ex.Status
	if want == "" {
		want = "SUCCEEDED"
	}
	if res.Status != want {
		detail := ""
		if res.Error != "" {
			detail = fmt.Sprintf(" (%s: %s)", res.Error, res.Cause)
		}
		if res.Status == "RUNNING" {
			detail = " (it waits for an answer nobody gives: " + m.pending(res) + ")"
		}
		fail("$.expect.status", "status: want %s, got %s%s", want, res.Status, detail)
	}
	if ex.Error != "" && res.Error != ex.Error {
		fail("$.expect.error", "error: want %s, got %q", ex.Error, res.Error)
	}

	if len(ex.Path) > 0 {
		if ex.ExactPath {
			got := make([]string, len(res.Path))
			ok := len(res.Path) == len(ex.Path)
			for i, s := range res.Path {
				got[i] = s.ID
				if ok && !s.is(ex.Path[i]) {
					ok = false
				}
			}
			if !ok {
				fail("$.expect.path", "path: want exactly %s, got %s", strings.Join(ex.Path, " → "), strings.Join(got, " → "))
			}
		} else {
			i := 0
			for _, s := range res.Path {
				if i < len(ex.Path) && s.is(ex.Path[i]) {
					i++
				}
			}
			if i < len(ex.Path) {
				after := "the start"
				if i > 0 {
					after = ex.Path[i-1]
				}
				fail(fmt.Sprintf("$.expect.path[%d]", i), "path: %s was not reached after %s; the execution went %s", ex.Path[i], after, pathIDs(res.Path))
			}
		}
	}
	for i, p := range ex.NotReached {
		for _, s := range res.Path {
			if s.is(p) {
				fail(fmt.Sprintf("$.expect.notReached[%d]", i), "path: %s was reached but must not be", p)
				break
			}
		}
	}

	out, _ := res.Output.(map[string]any)
	for _, part := range []struct {
		key  string
		want map[string]any
	}{{"output", ex.Output}, {"variables", ex.Variables}} {
		for _, k := range sortedKeys(part.want) {
			w := normalize(part.want[k])
			g, has := out[k]
			if !has {
				fail("$.expect."+part.key+"."+k, "%s: %s is missing", part.key, k)
				continue
			}
			if !subset(w, g) {
				fail("$.expect."+part.key+"."+k, "%s: %s: want %s, got %s", part.key, k, show(w), show(g))
			}
		}
	}

	var notes, docs []map[string]any
	for _, c := range res.Calls {
		switch {
		case c.TaskType == "event.write" && (c.Action == "notify" || c.Action == "status"):
			notes = append(notes, normalize(c.fields()).(map[string]any))
		case c.TaskType == "document.pdf":
			docs = append(docs, normalize(c.fields()).(map[string]any))
		}
	}
	matchList(fail, "notifications", ex.Notifications, notes)
	matchList(fail, "documents", ex.Documents, docs)

	for _, k := range sortedKeys(ex.Calls) {
		n := 0
		for _, c := range res.Calls {
			if c.Step == k || c.Connector == k {
				n++
			}
		}
		if n != ex.Calls[k] {
			fail("$.expect.calls."+k, "calls: want %d calls of %s, got %d", ex.Calls[k], k, n)
		}
	}
}

// matchList checks that every expected entry matches (as a subset) a
// recorded one, in order.
func matchList(fail func(string, string, ...any), what string, want, got []map[string]any) {
	j := 0
	for i, w := range want {
		wn := normalize(w)
		found := false
		for ; j < len(got); j++ {
			if subset(wn, got[j]) {
				found = true
				j++
				break
			}
		}
		if !found {
			var seen []string
			for _, g := range got {
				seen = append(seen, show(brief(g)))
			}
			if len(seen) == 0 {
				seen = []string{"none"}
			}
			fail(fmt.Sprintf("$.expect.%s[%d]", what, i), "%s: %s was not sent (in this order); sent: %s", what, show(wn), strings.Join(seen, ", "))
			return
		}
	}
}

// brief drops bulky fields from a call for messages.
func brief(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			continue
		}
		out[k] = v
	}
	return out
}

// subset reports whether got contains want: objects field by field
// (recursively), everything else equal.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, has := g[k]
			if !has || !subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func pathIDs(p []Step) string {
	ids := make([]string, len(p))
	for i, s := range p {
		ids[i] = s.ID
	}
	return strings.Join(ids, " → ")
}

// is reports whether the step is the element named by an id or a name.
func (s Step) is(ref string) bool { return s.ID == ref || (s.Name != "" && s.Name == ref) }

// pending names the callback tasks a stuck execution waits for.
func (m *model) pending(res *Result) string {
	var out []string
	for _, c := range res.Calls {
		if c.Answer != "never" {
			continue
		}
		name := c.Step
		if n := m.defs.Node(c.Step); n != nil && n.Name != "" {
			name += " (" + n.Name + ")"
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return "a task token"
	}
	return strings.Join(out, ", ")
}
