// The support console page: live counts on the BPMN diagram (bpmn-js),
// failed and stuck applications, search, and the actions. Everything comes
// from /console/api (the projection), refreshed every few seconds.
'use strict';
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k ?? ''));
  return e;
};
const fmt = (t) => (t ? new Date(t).toLocaleString('uk-UA', { timeZone: 'Europe/Kyiv' }) : '');

async function api(path, opts = {}) {
  const r = await fetch('/console/api' + path, {
    ...opts,
    headers: { 'X-Console': '1', ...(opts.body ? { 'Content-Type': 'application/json' } : {}) },
  });
  if (r.status === 401) { location.reload(); throw new Error('signed out'); }
  const body = r.headers.get('Content-Type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error((body && (body.detail || body.title)) || r.statusText);
  return body;
}

let selected = '';
let viewer = null;
let drawn = '';
let lastStats = null;
let openApp = '';

function sparkline(minutes) {
  const w = 180, h = 28, now = Date.now();
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', w); svg.setAttribute('height', h); svg.classList.add('spark');
  const max = Math.max(1, ...minutes.map((m) => m.completed + m.failed + m.started));
  for (const m of minutes) {
    const age = Math.floor((now - new Date(m.time).getTime()) / 60000);
    if (age < 0 || age >= 60) continue;
    const x = (59 - age) * 3;
    const add = (v, color, y0) => {
      const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      const hh = (v / max) * h;
      r.setAttribute('x', x); r.setAttribute('width', 2); r.setAttribute('y', y0 - hh); r.setAttribute('height', hh); r.setAttribute('fill', color);
      svg.append(r);
      return y0 - hh;
    };
    let y = h;
    y = add(m.completed, '#2e7d32', y);
    add(m.failed, '#c62828', y);
  }
  return svg;
}

function renderServices(list) {
  const box = $('services');
  box.replaceChildren();
  for (const s of list) {
    const b = s.byStatus;
    const last = s.minutes.filter((m) => Date.now() - new Date(m.time).getTime() < 60000 * 2);
    const perMin = last.reduce((a, m) => a + m.completed, 0);
    const card = el('div', { class: 'card' + (s.service === selected ? ' selected' : ''), 'data-service': s.service, onclick: () => select(s.service) },
      el('div', { class: 'n' }, s.service),
      el('div', {}, `у роботі ${b.RUNNING || 0} · завершено ${b.SUCCEEDED || 0} · помилки ${(b.FAILED || 0) + (b.TIMED_OUT || 0)} · скасовано ${b.ABORTED || 0}`),
      el('div', { class: 'muted' }, `завершено за останні 2 хв: ${perMin}`),
      sparkline(s.minutes));
    box.append(card);
  }
  if (!selected && list.length) select(list[0].service);
}

async function select(service) {
  selected = service;
  $('diagram-title').textContent = service;
  document.querySelectorAll('.card').forEach((c) => c.classList.toggle('selected', c.dataset.service === service));
  await drawDiagram();
}

async function drawDiagram() {
  if (!selected || typeof BpmnJS === 'undefined') return;
  if (drawn !== selected) {
    let xml;
    try { xml = await api(`/services/${encodeURIComponent(selected)}/diagram`); } catch (e) { $('canvas').textContent = 'Діаграма недоступна: ' + e.message; drawn = ''; return; }
    if (!viewer) viewer = new BpmnJS({ container: '#canvas' });
    await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
    drawn = selected;
  }
  overlay();
}

function overlay() {
  if (!viewer || !lastStats || drawn !== selected) return;
  const s = lastStats.find((x) => x.service === selected);
  const overlays = viewer.get('overlays');
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  overlays.remove({ type: 'count' });
  registry.forEach((e) => canvas.removeMarker(e, 'has-failed'));
  if (!s) return;
  let n = 0;
  for (const [step, count] of Object.entries(s.atStep)) {
    if (!registry.get(step)) continue;
    overlays.add(step, 'count', { position: { top: -12, left: -8 }, html: `<span class="badge running" data-step="${step}">${count}</span>` });
    n++;
  }
  for (const [step, count] of Object.entries(s.failedAt)) {
    if (!registry.get(step)) continue;
    overlays.add(step, 'count', { position: { top: -12, right: 12 }, html: `<span class="badge failed" data-step="${step}">${count}</span>` });
    canvas.addMarker(step, 'has-failed');
    n++;
  }
  document.body.dataset.badges = String(n);
  document.body.dataset.diagram = 'true';
}

function appRow(a, cols) {
  return el('tr', { class: 'row', 'data-app': a.applicationId, onclick: () => openDetail(a.applicationId) }, ...cols.map((c) => el('td', {}, c)));
}

async function refreshLists() {
  const failed = await api('/failed?limit=50');
  $('failed-list').tBodies[0].replaceChildren(...failed.applications.map((a) =>
    appRow(a, [a.applicationId, a.service, a.failedStep || a.failedState || '', a.error || '', fmt(a.stopped)])));
  const stuck = await api('/stuck?limit=50');
  $('stuck-list').tBodies[0].replaceChildren(...stuck.applications.map((a) =>
    appRow(a, [a.applicationId, a.service, (a.steps || []).join(', '), fmt(a.since)])));
}

async function refresh() {
  try {
    const { services } = await api('/services');
    lastStats = services;
    renderServices(services);
    overlay();
    await refreshLists();
    if (openApp) await refreshDetail();
    document.body.dataset.ready = 'true';
  } catch (e) {
    document.body.dataset.error = String(e);
  }
}

// refreshDetail updates the open application from the status endpoint
// (no personal data, not audited); a changed status reopens it.
async function refreshDetail() {
  const s = await api('/applications/' + encodeURIComponent(openApp) + '/status');
  const cur = $('detail-status');
  if (cur && cur.textContent !== s.status) { await openDetail(openApp); return; }
  renderAudit(s.audit);
}

async function openDetail(id) {
  openApp = id;
  const d = await api('/applications/' + encodeURIComponent(id));
  $('detail-id').textContent = d.applicationId;
  const body = $('detail-body');
  const kids = [
    el('p', {}, 'Стан: ', el('span', { id: 'detail-status', class: 'status-' + d.status }, d.status),
      ` · послуга ${d.service} · РНОКПП ${d.citizen || '—'} · повторних запусків: ${d.redriveCount}`),
    el('p', {}, 'Кроки: ' + ((d.steps || []).join(', ') || '—')),
  ];
  if (d.error || d.cause) {
    kids.push(el('p', { class: 'error' }, `Помилка ${d.error || ''} на кроці ${d.failedStep || d.failedState || '?'}`), el('pre', {}, d.cause || ''));
  }
  const reason = el('input', { type: 'text', id: 'reason', placeholder: 'Причина (для журналу; для скасування обов’язкова)' });
  const actions = el('div', { class: 'actions' });
  const msg = el('p', { id: 'action-msg', role: 'status' });
  const run = async (path, body) => {
    msg.textContent = '…';
    try {
      await api(`/applications/${encodeURIComponent(id)}/${path}`, { method: 'POST', body: JSON.stringify({ reason: reason.value, ...body }) });
      msg.textContent = 'Виконано.';
      await refresh();
    } catch (e) { msg.textContent = e.message; msg.className = 'error'; }
  };
  if (d.status === 'FAILED' || d.status === 'TIMED_OUT' || d.status === 'ABORTED') {
    actions.append(el('button', { id: 'redrive', class: 'primary', type: 'button', onclick: () => run('redrive', {}) }, 'Перезапустити з кроку, що впав'));
  }
  if (d.status === 'RUNNING') {
    actions.append(el('button', { id: 'cancel', class: 'danger', type: 'button', onclick: () => {
      if (!reason.value.trim()) { msg.textContent = 'Вкажіть причину скасування.'; return; }
      run('cancel', {});
    } }, 'Скасувати'));
  }
  kids.push(reason, actions);
  if (d.stepData) {
    const input = el('textarea', { id: 'step-input', spellcheck: 'false' }, JSON.stringify(d.stepData.input, null, 2));
    const vars = el('textarea', { id: 'step-vars', spellcheck: 'false' }, JSON.stringify(d.stepData.variables, null, 2));
    const resend = el('button', { id: 'resend', type: 'button', onclick: () => {
      let i, v;
      try { i = JSON.parse(input.value); v = JSON.parse(vars.value); } catch (e) { msg.textContent = 'Некоректний JSON: ' + e.message; msg.className = 'error'; return; }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) { msg.textContent = 'Змінні мають бути JSON-об’єктом.'; msg.className = 'error'; return; }
      run('resend', { thread: d.stepData.thread, input: i, variables: v });
    } }, 'Виправити дані й надіслати');
    kids.push(el('h3', {}, `Дані кроку ${d.stepData.state}`), el('label', {}, 'Вхід кроку'), input, el('label', {}, 'Змінні'), vars, el('div', { class: 'actions' }, resend));
  }
  kids.push(msg, el('h3', {}, 'Журнал дій'), el('ul', { id: 'audit-list' }));
  body.className = '';
  body.replaceChildren(...kids);
  renderAudit(d.audit);
}

function renderAudit(entries) {
  const ul = $('audit-list');
  if (!ul) return;
  ul.replaceChildren(...(entries || []).map((e) => el('li', { 'data-action': e.action },
    `${fmt(e.time)} · ${e.actorName || e.actor} · ${e.action}` + (e.reason ? ` · «${e.reason}»` : '') + (e.outcome !== 'ok' ? ` · ${e.outcome}` : ''))));
}

$('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = $('search').value.trim();
  if (!q) return;
  const res = await api('/search?q=' + encodeURIComponent(q));
  $('search-section').hidden = false;
  $('search-list').tBodies[0].replaceChildren(...res.applications.map((a) =>
    appRow(a, [a.applicationId, a.service, a.status, (a.steps || []).join(', ')])));
  if (res.applications.length === 1) openDetail(res.applications[0].applicationId);
});
$('logout').addEventListener('click', async () => { await fetch('/console/logout', { method: 'POST' }); location.reload(); });

refresh();
setInterval(refresh, 3000);
