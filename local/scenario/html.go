package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/posluha/posluha/bpmn2asl/bpmn"
)

// The HTML coverage report shows the BPMN diagram itself (bpmn-js, the
// viewer build, inlined so the page is one static file) with reached
// elements and flows in green, unreached ones in red, and the hit counts
// as badges. bpmn-js needs diagram interchange (DI) coordinates; models
// drawn by hand in the repo often have none, so the report lays out a copy
// with bpmn-auto-layout (the service's process.bpmn is never modified).
// Both come from node_modules (npm: bpmn-js, bpmn-auto-layout).

// NodeModules finds the node_modules folder at or above dir ("" if none).
func NodeModules(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(abs, "node_modules")
		if st, err := os.Stat(filepath.Join(p, "bpmn-js")); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

// layoutScript reads BPMN XML on stdin and prints it with DI added.
// bpmn-auto-layout follows the <incoming>/<outgoing> children that
// modellers write but hand-written files (and our demo models) may omit,
// so the script first rebuilds them from the sequence flows' sourceRef and
// targetRef with bpmn-moddle.
const layoutScript = `import { layoutProcess } from 'bpmn-auto-layout';
import { BpmnModdle } from 'bpmn-moddle';
let src = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) src += chunk;
const moddle = new BpmnModdle();
const { rootElement } = await moddle.fromXML(src);
const fix = (container) => {
  const elements = container.flowElements || [];
  for (const el of elements) {
    if (el.$type === 'bpmn:SequenceFlow') continue;
    el.incoming = []; el.outgoing = [];
  }
  for (const f of elements) {
    if (f.$type !== 'bpmn:SequenceFlow' || !f.sourceRef || !f.targetRef) continue;
    f.sourceRef.outgoing = f.sourceRef.outgoing || []; f.sourceRef.outgoing.push(f);
    f.targetRef.incoming = f.targetRef.incoming || []; f.targetRef.incoming.push(f);
  }
  for (const el of elements) if (el.flowElements) fix(el);
};
for (const root of rootElement.rootElements || []) if (root.$type === 'bpmn:Process') fix(root);
const { xml } = await moddle.toXML(rootElement, { format: true });
process.stdout.write(await layoutProcess(xml));
`

// Diagram returns the BPMN to draw: the source itself when it carries DI,
// else a copy laid out by bpmn-auto-layout (run with node from the folder
// holding node_modules).
func Diagram(ctx context.Context, src []byte, nodeModules string) ([]byte, error) {
	if defs, _ := bpmn.Parse("process.bpmn", src); defs != nil && defs.HasDiagram {
		return src, nil
	}
	if nodeModules == "" {
		return nil, fmt.Errorf("lay out the diagram: node_modules with bpmn-auto-layout not found (npm install)")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--input-type=module", "-e", layoutScript)
	cmd.Dir = filepath.Dir(nodeModules)
	cmd.Stdin = bytes.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lay out the diagram with bpmn-auto-layout: %w: %s", err, stderr.String())
	}
	return out, nil
}

// WriteHTML writes the static coverage report of one service.
func WriteHTML(ctx context.Context, w io.Writer, rep *Report, nodeModules string) error {
	src, err := os.ReadFile(rep.BPMN)
	if err != nil {
		return fmt.Errorf("read process: %w", err)
	}
	diagram, err := Diagram(ctx, src, nodeModules)
	if err != nil {
		return err
	}
	read := func(rel string) (string, error) {
		b, err := os.ReadFile(filepath.Join(nodeModules, "bpmn-js", "dist", rel))
		if err != nil {
			return "", fmt.Errorf("read bpmn-js %s: %w", rel, err)
		}
		return string(b), nil
	}
	js, err := read("bpmn-viewer.production.min.js")
	if err != nil {
		return err
	}
	css1, err := read("assets/diagram-js.css")
	if err != nil {
		return err
	}
	css2, err := read("assets/bpmn-js.css")
	if err != nil {
		return err
	}
	cov, _ := json.Marshal(rep.Coverage)
	// json.Marshal escapes <, > and &, so the XML is safe inside <script>.
	xmlJS, _ := json.Marshal(string(diagram))
	pe, pf := rep.Coverage.Percent()
	ue, uf := rep.Coverage.Unreached()
	type row struct {
		Name, File, Status, Path string
		Passed                   bool
		Failures                 []string
	}
	var rows []row
	for _, r := range rep.Results {
		rows = append(rows, row{Name: r.Scenario.Name, File: filepath.Base(r.Scenario.File), Status: r.Status,
			Path: pathIDs(r.Path), Passed: r.Passed, Failures: r.Failures})
	}
	data := map[string]any{
		"Service": rep.Service, "Rows": rows,
		"ElementsPct": fmt.Sprintf("%.0f", pe), "FlowsPct": fmt.Sprintf("%.0f", pf),
		"UnreachedElements": ue, "UnreachedFlows": uf,
		"CSS":      template.CSS(css1 + "\n" + css2),
		"ViewerJS": template.JS(js),
		"XML":      template.JS(xmlJS),
		"Coverage": template.JS(cov),
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="uk">
<head>
<meta charset="utf-8">
<title>{{.Service}}: scenario coverage</title>
<style>{{.CSS}}</style>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 12px 20px; background: #f4f6f8; border-bottom: 1px solid #dde; }
h1 { font-size: 20px; margin: 0 0 4px; }
#canvas { height: 520px; border-bottom: 1px solid #dde; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border-radius: 3px; }
.legend .r { background: #c8f0c8; border: 1px solid #1b7f3b; }
.legend .u { background: #ffd6d6; border: 1px solid #c62828; }
.djs-element.reached .djs-visual > :first-child { fill: #c8f0c8 !important; stroke: #1b7f3b !important; }
.djs-element.unreached .djs-visual > :first-child { fill: #ffd6d6 !important; stroke: #c62828 !important; }
.djs-connection.reached .djs-visual > path { stroke: #1b7f3b !important; stroke-width: 3px !important; }
.djs-connection.unreached .djs-visual > path { stroke: #c62828 !important; stroke-dasharray: 6 4; stroke-width: 2px !important; }
.hits { background: #1b7f3b; color: #fff; font-size: 11px; border-radius: 8px; padding: 0 5px; }
.hits.zero { background: #c62828; }
main { padding: 12px 20px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td, th { border-bottom: 1px solid #eee; padding: 4px 6px; text-align: left; vertical-align: top; }
.pass { color: #1b7f3b; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
code { font-size: 12px; }
</style>
</head>
<body>
<header>
<h1>{{.Service}} — scenario coverage</h1>
<div class="legend"><span class="r">reached</span><span class="u">not reached by any scenario</span>
{{.ElementsPct}}% of elements, {{.FlowsPct}}% of sequence flows reached.
{{if .UnreachedElements}}Never reached: <code>{{range .UnreachedElements}}{{.}} {{end}}</code>{{end}}
{{if .UnreachedFlows}}Flows never taken: <code>{{range .UnreachedFlows}}{{.}} {{end}}</code>{{end}}
</div>
</header>
<div id="canvas"></div>
<main>
<table>
<tr><th></th><th>scenario</th><th>file</th><th>status</th><th>path</th></tr>
{{range .Rows}}<tr><td class="{{if .Passed}}pass">PASS{{else}}fail">FAIL{{end}}</td><td>{{.Name}}{{range .Failures}}<br><small class="fail">{{.}}</small>{{end}}</td><td><code>{{.File}}</code></td><td>{{.Status}}</td><td><code>{{.Path}}</code></td></tr>
{{end}}</table>
</main>
<script>{{.ViewerJS}}</script>
<script>
(async function () {
  const coverage = {{.Coverage}};
  const xml = {{.XML}};
  const viewer = new BpmnJS({ container: '#canvas' });
  try {
    await viewer.importXML(xml);
    const canvas = viewer.get('canvas'), overlays = viewer.get('overlays'), registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport');
    // Leave room around the diagram for the hit-count badges.
    const vb = canvas.viewbox();
    canvas.viewbox({ x: vb.x - 30, y: vb.y - 30, width: vb.width + 60, height: vb.height + 60 });
    let reached = 0, unreached = 0;
    const mark = (id, hits, badge) => {
      if (!registry.get(id)) return;
      canvas.addMarker(id, hits > 0 ? 'reached' : 'unreached');
      if (hits > 0) reached++; else unreached++;
      if (badge) overlays.add(id, { position: { top: -8, right: 8 }, html: '<div class="hits' + (hits > 0 ? '' : ' zero') + '">' + hits + '</div>' });
    };
    for (const [id, hits] of Object.entries(coverage.elements)) mark(id, hits, true);
    for (const [id, hits] of Object.entries(coverage.flows)) mark(id, hits, false);
    document.body.dataset.reached = reached;
    document.body.dataset.unreached = unreached;
    document.body.dataset.ready = 'true';
  } catch (err) {
    document.body.dataset.error = String(err && err.message || err);
  }
})();
</script>
</body>
</html>
`))
