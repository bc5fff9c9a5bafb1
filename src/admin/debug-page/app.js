// tracetail debug page: the list of recent traces, and one trace as a waterfall with its log lines
// under the spans they belong to. Plain DOM; every value from the API is set as text, never HTML.
'use strict';

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = 'tracetail.debug.token';
let refreshTimer;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'style') Object.assign(node.style, v); // CSSOM, which the page's CSP allows
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

class NeedsToken extends Error {}

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { headers });
  if (res.status === 401) throw new NeedsToken('a token is needed');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

function askForToken() {
  const form = $('#token-form');
  form.hidden = false;
  $('#token').focus();
}

$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value);
  $('#token-form').hidden = true;
  route();
});

function formatMs(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function severityBadges(counts) {
  const out = el('span');
  for (const sev of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unspecified']) {
    if (counts[sev] > 0) out.append(el('span', { class: `badge ${sev}`, text: `${counts[sev]} ${sev}`, title: `${counts[sev]} ${sev} log records` }));
  }
  return out;
}

// ---- the list -------------------------------------------------------------------------------------

function filterParams() {
  const form = $('#filters');
  const params = new URLSearchParams();
  for (const name of ['service', 'status', 'min_duration', 'limit']) {
    const v = form.elements[name].value.trim();
    if (v) params.set(name, v);
  }
  return params;
}

async function showList() {
  $('#trace-view').hidden = true;
  $('#list-view').hidden = false;
  const status = $('#list-status');
  const body = $('#traces tbody');
  try {
    const data = await api(`api/v1/traces?${filterParams()}`);
    body.replaceChildren(
      ...data.traces.map((t) =>
        el(
          'tr',
          { class: t.error ? 'trace error' : 'trace', 'data-trace-id': t.traceId },
          el('td', { text: formatTime(t.startTime) }),
          el(
            'td',
            {},
            el('a', { href: `#/trace/${t.traceId}`, text: t.rootName ? `${t.rootService ? t.rootService + ': ' : ''}${t.rootName}` : `(no span yet) ${t.services.join(', ')}` }),
          ),
          el('td', { text: formatMs(t.durationMs) }),
          el('td', { text: String(t.spanCount) + (t.errorSpans ? ` (${t.errorSpans} error)` : '') }),
          el('td', {}, severityBadges(t.logCounts)),
          el('td', { class: 'mono', text: t.traceId }),
        ),
      ),
    );
    status.className = 'status';
    status.textContent = `${data.traces.length} of ${data.indexedTraces} traces in the index`;
  } catch (err) {
    if (err instanceof NeedsToken) return askForToken();
    status.className = 'status error';
    status.textContent = err.message;
  }
}

/** The service graph's edges, busiest first: who calls whom, how often, how often it failed. */
async function showEdges() {
  const status = $('#edges-status');
  try {
    const data = await api('api/v1/service-graph');
    $('#edges tbody').replaceChildren(
      ...data.edges.map((e) =>
        el(
          'tr',
          { class: e.failed > 0 ? 'edge error' : 'edge' },
          el('td', { text: e.client }),
          el('td', { text: e.server }),
          el('td', { text: e.connection_type || 'service' }),
          el('td', { text: String(e.requests) }),
          el('td', { text: String(e.failed) }),
          el('td', { text: formatMs((e.server_seconds_sum / e.requests) * 1000) }),
          el('td', { text: formatMs((e.client_seconds_sum / e.requests) * 1000) }),
        ),
      ),
    );
    status.className = 'status';
    status.textContent = data.enabled ? `${data.edges.length} edges` : 'metrics.service_graph is off';
  } catch (err) {
    if (err instanceof NeedsToken) return;
    status.className = 'status error';
    status.textContent = err.message;
  }
}

$('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  showList();
});

// ---- one trace ----------------------------------------------------------------------------------

/** Spans in tree order (children after their parent, by start time), with their depth. */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else roots.push(s);
  }
  const out = [];
  const visit = (s, depth) => {
    out.push({ span: s, depth });
    for (const c of children.get(s.spanId) ?? []) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return out;
}

function logRow(log, depth) {
  return el(
    'div',
    { class: 'row log-row', 'data-log-span-id': log.spanId ?? '' },
    el(
      'div',
      { class: `log ${log.severity}`, style: { paddingLeft: `${1.6 + depth * 1.1}em` } },
      el('span', { class: 'when', text: `+${formatMs(log.offsetMs)}` }),
      el('span', { class: 'sev', text: log.severityText || log.severity }),
      el('span', { class: 'body', text: log.body }),
    ),
  );
}

function detailsOf(span) {
  const rows = Object.entries(span.attributes).map(([k, v]) => el('tr', {}, el('td', { class: 'mono', text: k }), el('td', { class: 'mono', text: typeof v === 'string' ? v : JSON.stringify(v) })));
  const facts = [
    ['span id', span.spanId],
    ['kind', span.kind],
    ['status', span.status.message ? `${span.status.code}: ${span.status.message}` : span.status.code],
    ['start', span.startTimeUnixNano],
    ['duration', formatMs(span.durationMs)],
  ].map(([k, v]) => el('tr', {}, el('td', { text: k }), el('td', { class: 'mono', text: v ?? '' })));
  const events = span.events.map((e) => el('tr', {}, el('td', { text: `event +${formatMs(e.offsetMs)}` }), el('td', { class: 'mono', text: `${e.name} ${JSON.stringify(e.attributes)}` })));
  return el('div', { class: 'details' }, el('table', {}, el('tbody', {}, ...facts, ...rows, ...events)));
}

function spanRow(span, depth, total) {
  const left = total > 0 ? (span.offsetMs / total) * 100 : 0;
  const width = total > 0 ? Math.max((span.durationMs / total) * 100, 0.2) : 100;
  const isError = span.status.code === 'STATUS_CODE_ERROR';
  const row = el(
    'div',
    { class: `row span-row${isError ? ' error' : ''}`, 'data-span-id': span.spanId, title: `${span.name} — ${formatMs(span.durationMs)}` },
    el('div', { class: 'label', style: { paddingLeft: `${0.5 + depth * 1.1}em` } }, el('span', { class: 'service', text: span.service }), el('span', { class: 'name', text: span.name })),
    el(
      'div',
      { class: 'timeline' },
      el('div', { class: 'bar', style: { left: `${left}%`, width: `${width}%` } }),
      el('span', { class: 'bar-label', style: left + width > 80 ? { right: `${100 - left + 0.5}%` } : { left: `${left + width + 0.5}%` }, text: formatMs(span.durationMs) }),
    ),
  );
  row.addEventListener('click', () => {
    const next = row.nextElementSibling;
    if (next?.classList.contains('details')) next.remove();
    else row.after(detailsOf(span));
  });
  return row;
}

function renderTrace(t) {
  $('#trace-title').textContent = t.rootName ? `${t.rootService ? t.rootService + ': ' : ''}${t.rootName}` : `trace ${t.traceId}`;
  const facts = [
    ['trace id', t.traceId],
    ['services', t.services.join(', ')],
    ['started', t.startTime ?? ''],
    ['duration', formatMs(t.durationMs)],
    ['spans', `${t.spanCount}${t.errorSpans ? ` (${t.errorSpans} with error status)` : ''}${t.droppedSpans ? `, ${t.droppedSpans} not kept` : ''}`],
    ['logs', `${t.logCount}${t.droppedLogs ? `, ${t.droppedLogs} not kept` : ''}${t.unmatchedLogs ? `, ${t.unmatchedLogs} waiting for a span` : ''}`],
  ];
  $('#trace-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { class: k === 'trace id' ? 'mono' : '', text: v })]));

  const bySpan = new Map();
  const loose = [];
  const spanIds = new Set(t.spans.map((s) => s.spanId));
  for (const log of t.logs) {
    if (log.spanId && spanIds.has(log.spanId)) {
      if (!bySpan.has(log.spanId)) bySpan.set(log.spanId, []);
      bySpan.get(log.spanId).push(log);
    } else loose.push(log);
  }
  const rows = [];
  if (loose.length > 0) {
    rows.push(el('div', { class: 'section-title', text: t.spans.length ? 'logs of this trace outside its known spans' : 'logs (no span of this trace received yet)' }));
    for (const log of loose) rows.push(logRow(log, -1));
  }
  const total = t.durationMs;
  for (const { span, depth } of treeOrder(t.spans)) {
    rows.push(spanRow(span, depth, total));
    for (const log of bySpan.get(span.spanId) ?? []) rows.push(logRow(log, depth));
  }
  $('#waterfall').replaceChildren(...rows);
}

async function showTrace(id) {
  $('#list-view').hidden = true;
  $('#trace-view').hidden = false;
  const status = $('#trace-status');
  status.className = 'status';
  status.textContent = 'loading…';
  $('#waterfall').replaceChildren();
  try {
    renderTrace(await api(`api/v1/traces/${encodeURIComponent(id)}`));
    status.textContent = '';
  } catch (err) {
    if (err instanceof NeedsToken) return askForToken();
    status.className = 'status error';
    status.textContent = err.message;
  }
}

// ---- routing ------------------------------------------------------------------------------------

function route() {
  clearInterval(refreshTimer);
  const m = /^#\/trace\/([0-9a-fA-F]+)$/.exec(location.hash);
  if (m) return showTrace(m[1]);
  showList();
  showEdges();
  refreshTimer = setInterval(() => {
    if ($('#filters').elements.auto.checked && !$('#list-view').hidden) {
      showList();
      showEdges();
    }
  }, 5000);
}

window.addEventListener('hashchange', route);
route();
