package bpmn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/posluha/posluha/bpmn2asl/diag"
)

// doc wraps flow elements in a definitions/process with the given prefix.
func doc(prefix, body string) string {
	p := prefix
	xmlns := "xmlns"
	if p != "" {
		xmlns += ":" + p
		p += ":"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<%sdefinitions %s="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D">
<%sprocess id="P" isExecutable="true">
%s
</%sprocess>
</%sdefinitions>`, p, xmlns, p, strings.NewReplacer("<x:", "<"+p, "</x:", "</"+p).Replace(body), p, p)
}

// expectParse parses src and checks that the diagnostics, rendered as
// "line:col CODE", equal want (in order).
func expectParse(t *testing.T, src string, want ...string) *Definitions {
	t.Helper()
	defs, ds := Parse("t.bpmn", []byte(src))
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("Parse diagnostics = %q, want %q\n%s", got, want, renderDiags(ds))
	}
	return defs
}

func renderDiags(ds []diag.Diagnostic) string {
	var b strings.Builder
	_ = diag.WriteText(&b, ds)
	return b.String()
}

func TestPrefixes(t *testing.T) {
	body := `<x:startEvent id="s"/><x:endEvent id="e"/><x:sequenceFlow id="f" sourceRef="s" targetRef="e"/>`
	for _, prefix := range []string{"", "bpmn", "bpmn2", "semantic", "model", "bpmn20", "sem"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			defs := expectParse(t, doc(prefix, body))
			if defs == nil || defs.Prefix != prefix || len(defs.Processes) != 1 {
				t.Fatalf("defs = %+v", defs)
			}
			s := defs.Node("s")
			if s == nil || len(s.Outgoing) != 1 || s.Outgoing[0].Target != defs.Node("e") {
				t.Errorf("flow s→e not resolved: %+v", s)
			}
		})
	}
}

func TestEncodings(t *testing.T) {
	latin := func(decl string) []byte {
		s := `<?xml version="1.0" encoding="` + decl + `"?>` + "\n" +
			`<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="P"><task id="t" name="Gr` + "\xf6\xdf" + `e ` + "\x80" + `"/></process></definitions>`
		return []byte(s)
	}
	tests := []struct {
		name string
		src  []byte
		want string // name of task t
	}{
		{"iso-8859-1", latin("ISO-8859-1"), "Größe \u0080"},
		{"latin1", latin("latin1"), "Größe \u0080"},
		{"windows-1252", latin("windows-1252"), "Größe €"},
		{"bom", append([]byte{0xEF, 0xBB, 0xBF}, []byte(doc("bpmn", `<x:task id="t" name="Ґанок"/>`))...), "Ґанок"},
		{"utf-16le bom", utf16le(doc("", `<task id="t" name="Ґ"/>`)), "Ґ"},
		{"utf-16le no bom", utf16le(doc("", `<task id="t" name="Ґ"/>`))[2:], "Ґ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, ds := Parse("t.bpmn", tc.src)
			if defs == nil {
				t.Fatalf("not parsed: %s", renderDiags(ds))
			}
			if n := defs.Node("t"); n == nil || n.Name != tc.want {
				t.Errorf("name = %+v, want %q", n, tc.want)
			}
		})
	}
	_, ds := Parse("t.bpmn", latin("EBCDIC-037"))
	if len(ds) != 1 || ds[0].Code != diag.BadEncoding {
		t.Errorf("EBCDIC: %s", renderDiags(ds))
	}
}

func utf16le(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, r := range s {
		if r > 0xFFFF {
			panic("test helper: BMP only")
		}
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

func TestPositions(t *testing.T) {
	src := doc("bpmn", `<x:serviceTask id="Ґ1" name="Ї" default="f">
  <x:extensionElements><zeebe:taskDefinition type="registry.read" retries="x"/></x:extensionElements>
</x:serviceTask>
<x:boundaryEvent id="b" attachedToRef="ns:Ґ1"/>
<x:sequenceFlow id="f" sourceRef="Ґ1" targetRef="b">
  <x:conditionExpression>  =a &gt; 1</x:conditionExpression>
</x:sequenceFlow>`)
	defs := expectParse(t, src)
	n := defs.Node("Ґ1")
	b := defs.Node("b")
	f := defs.Flow("f")
	tests := []struct {
		what      string
		got, want Pos
	}{
		{"task", n.Pos, Pos{4, 1}},
		{"task name attr (columns count runes)", n.At("name"), Pos{4, 27}},
		{"task default attr", n.At("default"), Pos{4, 36}},
		{"absent attr falls back to element", n.At("zeebe:foo"), Pos{4, 1}},
		{"taskDefinition", n.TaskDefinition.Pos, Pos{5, 27}},
		{"retries attr", n.TaskDefinition.RetriesPos, Pos{5, 70}},
		{"boundary attachedToRef", b.At("attachedToRef"), Pos{7, 28}},
		{"condition text", f.Condition.TextPos, Pos{9, 31}},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s at %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if b.AttachedTo != n || len(n.Boundaries) != 1 {
		t.Errorf("prefixed attachedToRef not resolved")
	}
	if f.Condition.Text != "=a > 1" {
		t.Errorf("condition %q", f.Condition.Text)
	}
}

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty input", "", []string{"1:1 BPMN001"}},
		{"not xml", "hello", []string{"1:6 BPMN001"}},
		{"unclosed", doc("bpmn", `<x:task id="t">`), []string{"5:16 BPMN001"}},
		{"mismatched tag", "<a>\n  <b></a>", []string{"2:10 BPMN001"}},
		{"bad declaration", `<?xml version="1.0"encoding="UTF-8"?><a/>`, []string{"1:20 BPMN001"}},
		{"not bpmn", `<definitions xmlns="urn:x"/>`, []string{"1:1 BPMN002"}},
		{"no process", `<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>`, []string{"1:1 BPMN010"}},
		{"empty process", doc("", ``), []string{"3:1 BPMN011"}},
		{"dangling", doc("", `<task id="a"/><sequenceFlow id="f" sourceRef="a" targetRef="zz"/>`), []string{"4:50 BPMN014"}},
		{"unknown element", doc("", `<task id="a"/><fooTask id="x"/>`), []string{"4:15 BPMN020"}},
		{"vendor element ignored", doc("", `<task id="a"/><zeebe:fooTask id="x"/>`), nil},
		{"duplicate", doc("", `<task id="a"/><task id="a"/>`), []string{"4:21 BPMN012"}},
		{"boundary on nothing", doc("", `<task id="a"/><boundaryEvent id="b" attachedToRef="c"/>`), []string{"4:37 BPMN015"}},
		{"bad boolean", doc("", `<task id="a"/><boundaryEvent id="b" attachedToRef="a" cancelActivity="no"/>`), []string{"4:55 BPMN022"}},
		{"default elsewhere", doc("", `<exclusiveGateway id="g" default="f"/><task id="a"/><sequenceFlow id="f" sourceRef="a" targetRef="g"/>`), []string{"4:26 BPMN017"}},
		{"dangling message", doc("", `<receiveTask id="r" messageRef="m"/>`), []string{"4:21 BPMN016"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectParse(t, tc.src, tc.want...)
		})
	}
}

func TestBounds(t *testing.T) {
	deep := strings.Repeat("<a>", maxDepth+10) + strings.Repeat("</a>", maxDepth+10)
	_, ds := Parse("deep.bpmn", []byte(deep))
	if len(ds) != 1 || ds[0].Code != diag.TooDeep {
		t.Errorf("deep: %s", renderDiags(ds))
	}
	// Deep but within limits: nested sub-processes.
	var b strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, `<subProcess id="s%d">`, i)
	}
	b.WriteString(`<task id="t"/>`)
	for i := 0; i < 50; i++ {
		b.WriteString(`</subProcess>`)
	}
	defs := expectParse(t, doc("", b.String()))
	if n := defs.Node("t"); n == nil || n.Parent == nil || n.Parent.ID != "s49" {
		t.Errorf("nested task: %+v", n)
	}
}

func TestExtensions(t *testing.T) {
	src := doc("bpmn", `<x:callActivity id="c"><x:extensionElements>
  <zeebe:calledElement processId="child" propagateAllChildVariables="true"/>
  <zeebe:ioMapping><zeebe:input source="=a" target="b"/></zeebe:ioMapping>
  <zeebe:properties><zeebe:property name="p" value="1"/></zeebe:properties>
</x:extensionElements></x:callActivity>
<x:userTask id="u"/>
<x:scriptTask id="s"><x:extensionElements><zeebe:script expression="=1+1" resultVariable="r"/></x:extensionElements></x:scriptTask>
<x:serviceTask id="h"><x:extensionElements><zeebe:taskHeaders><zeebe:header key="action" value="notify"/><zeebe:header key="template" value="t1"/></zeebe:taskHeaders></x:extensionElements></x:serviceTask>`)
	defs := expectParse(t, src)
	c := defs.Node("c")
	if c.CalledElement != "child" || c.PropagateAllChildVariables == nil || !*c.PropagateAllChildVariables ||
		len(c.Inputs) != 1 || c.Inputs[0].Target != "b" || len(c.Properties) != 1 {
		t.Errorf("callActivity: %+v", c)
	}
	if u := defs.Node("u"); u.UserTask == nil || u.UserTask.Zeebe {
		t.Errorf("plain userTask: %+v", u.UserTask)
	}
	if s := defs.Node("s"); s.Script != "=1+1" || s.ResultVariable != "r" {
		t.Errorf("script: %+v", s)
	}
	h := defs.Node("h")
	if v, ok := h.Header("template"); !ok || v != "t1" || h.TaskType() != "" {
		t.Errorf("headers: %+v", h.Headers)
	}
}

func TestDeterministic(t *testing.T) {
	src := []byte(doc("bpmn", `<x:task id="a"/><x:task id="a"/><x:sequenceFlow id="f" sourceRef="a" targetRef="q"/><x:fooTask id="z"/>`))
	d1, ds1 := Parse("t.bpmn", src)
	d2, ds2 := Parse("t.bpmn", src)
	if string(snapshot(d1, ds1)) != string(snapshot(d2, ds2)) {
		t.Error("two parses of the same input differ")
	}
}

func TestFlowDeclaredOutsideItsScope(t *testing.T) {
	defs := expectParse(t, doc("", `<startEvent id="s"/><subProcess id="sub"><startEvent id="a"/><endEvent id="b"/></subProcess><endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="sub"/><sequenceFlow id="f2" sourceRef="sub" targetRef="e"/>
<sequenceFlow id="inner" sourceRef="a" targetRef="b"/>`), "6:1 BPMN018")
	sub := defs.Node("sub")
	f := defs.Flow("inner")
	if f.Parent != sub || len(sub.Sub.Flows) != 1 || len(defs.Processes[0].Flows) != 2 {
		t.Errorf("flow not moved into the sub-process: parent %v, %d inner, %d outer flows", f.Parent, len(sub.Sub.Flows), len(defs.Processes[0].Flows))
	}
	if a := defs.Node("a"); len(a.Outgoing) != 1 || a.Outgoing[0] != f {
		t.Errorf("flow not linked")
	}
}

func TestUndeclaredPrefix(t *testing.T) {
	src := `<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="P">
<startEvent id="s"><bpmn:signalEventDefinition/></startEvent>
<serviceTask id="t"><extensionElements><zeebe:taskDefinition type="event.write"/></extensionElements></serviceTask>
<bpmn:endEvent id="e"/></process></definitions>`
	defs := expectParse(t, src, "2:20 BPMN005", "3:40 BPMN005")
	if defs.Node("s").EventKind() != SignalEvent || defs.Node("t").TaskType() != "event.write" || defs.Node("e") == nil {
		t.Errorf("undeclared prefixes not read as their namespaces")
	}
}

func TestEventDefinitionRef(t *testing.T) {
	src := `<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
<messageEventDefinition id="md" messageRef="m"/>
<message id="m" name="answer"/>
<process id="P"><task id="t"/>
<boundaryEvent id="b" attachedToRef="t"><eventDefinitionRef>md</eventDefinitionRef></boundaryEvent>
<boundaryEvent id="c" attachedToRef="t"><eventDefinitionRef>nope</eventDefinitionRef></boundaryEvent>
</process></definitions>`
	defs := expectParse(t, src, "6:41 BPMN016")
	b := defs.Node("b")
	if b.EventKind() != MessageEvent || b.Event().Message == nil || b.Event().Message.Name != "answer" {
		t.Errorf("eventDefinitionRef not resolved: %+v", b.Event())
	}
}

func TestLineEndings(t *testing.T) {
	for name, nl := range map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			src := strings.ReplaceAll(doc("", `<task id="a"/>
  <task id="b"/>`), "\n", nl)
			defs := expectParse(t, src)
			if p := defs.Node("b").Pos; p != (Pos{5, 3}) {
				t.Errorf("task b at %v, want 5:3", p)
			}
		})
	}
}
