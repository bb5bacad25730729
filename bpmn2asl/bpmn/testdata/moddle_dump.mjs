// Dumps, for each BPMN file given, the flow elements bpmn-moddle (the
// reference reader of bpmn-js) sees: id, type, parent scope, and the
// resolved sourceRef/targetRef/attachedToRef/default ids. Used by
// TestModdleDifferential; run from the repository root's node_modules.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
const require = createRequire(path.resolve(process.env.NODE_MODULES_DIR || 'node_modules') + '/');
const mod = require('bpmn-moddle');
const BpmnModdle = mod.default || mod.BpmnModdle || mod;

const out = {};
for (const file of process.argv.slice(2)) {
  const buf = fs.readFileSync(file);
  const head = buf.subarray(0, 200).toString('latin1');
  const latin = /encoding=["'](iso-8859-1|windows-1252|latin1)["']/i.test(head);
  const xml = latin ? buf.toString('latin1') : buf.toString('utf8');
  const moddle = new BpmnModdle();
  let res;
  try {
    res = await moddle.fromXML(xml);
  } catch (e) {
    out[file] = { error: String(e.message || e).split('\n')[0] };
    continue;
  }
  const els = [];
  const walk = (container, parent) => {
    for (const fe of container.flowElements || []) {
      const type = fe.$type.replace(/^bpmn:/, '');
      if (/^(DataObject|DataObjectReference|DataStoreReference)$/.test(type)) continue;
      const e = { id: fe.id || '', type, parent };
      if (fe.sourceRef) e.source = fe.sourceRef.id || '';
      if (fe.targetRef) e.target = fe.targetRef.id || '';
      if (fe.attachedToRef) e.attachedTo = fe.attachedToRef.id || '';
      if (fe.default) e.default = fe.default.id || '';
      if (fe.name) e.name = fe.name;
      if (fe.conditionExpression) e.condition = (fe.conditionExpression.body || '').trim();
      if (type === 'BoundaryEvent') e.cancel = fe.cancelActivity !== false;
      const defs = (fe.eventDefinitions || []).map((d) => {
        let s = d.$type.replace(/^bpmn:/, '').replace(/EventDefinition$/, '');
        const r = d.messageRef || d.errorRef || d.signalRef || d.escalationRef;
        if (r && r.id) s += ':' + r.id;
        const t = d.timeDuration || d.timeDate || d.timeCycle;
        if (t) s += '=' + (t.body || '').trim();
        return s;
      });
      if (defs.length) e.events = defs.join(',');
      const lc = fe.loopCharacteristics;
      if (lc) e.loop = lc.$type === 'bpmn:MultiInstanceLoopCharacteristics' ? (lc.isSequential ? 'sequential' : 'parallel') : 'standard';
      els.push(e);
      if (fe.flowElements) walk(fe, fe.id || '');
    }
  };
  for (const root of res.rootElement.rootElements || []) {
    if (root.$type === 'bpmn:Process') walk(root, '');
  }
  out[file] = { elements: els };
}
process.stdout.write(JSON.stringify(out));
