#!/usr/bin/env node
// Writes the Grafana dashboards of this directory from the definitions below (`npm run
// dashboards`), as a monitoring mixin does: every panel gets the datasource variable, every
// query the job and instance filters, and the Service RED dashboard is written twice, for span
// metrics named as the OpenTelemetry Collector names them (`naming: otel`) and as Grafana Tempo
// does (`naming: tempo`). The JSON files are what Grafana loads; a test checks they match this.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const SEL = 'job=~"$job",instance=~"$instance"';
/** The selector of a tracetail metric on this dashboard: job, instance, and `extra` matchers. */
const on = (metric, extra = '') => `${metric}{${SEL}${extra ? `,${extra}` : ''}}`;
const rate = (metric, extra, range = '$__rate_interval') => `rate(${on(metric, extra)}[${range}])`;

// ---- panels ------------------------------------------------------------------------------------

/**
 * A panel: `targets` are [expr, legend] pairs (or an expr alone); `w` and `h` are its
 * size on the 24-column grid (the layout places it). Options by type follow Grafana 10/11 defaults.
 */
function panel(type, title, description, unit, targets, more = {}) {
  const { w = 8, h = 8, table = false, exemplar = false, options, fieldConfig, ...rest } = more;
  return {
    type,
    title,
    description,
    datasource: DATASOURCE,
    fieldConfig: {
      defaults: { unit, ...(type === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false } } : {}), ...fieldConfig?.defaults },
      overrides: fieldConfig?.overrides ?? [],
    },
    options: options ?? (type === 'timeseries' ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } } : {}),
    targets: targets.map((t, i) => {
      const [expr, legendFormat] = typeof t === 'string' ? [t] : t;
      return {
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr,
        legendFormat: legendFormat ?? '__auto',
        editorMode: 'code',
        ...(table ? { format: 'table', instant: true, range: false } : { range: true, instant: false }),
        ...(type === 'heatmap' ? { format: 'heatmap' } : {}),
        ...(exemplar ? { exemplar: true } : {}),
      };
    }),
    ...(table ? { transformations: [{ id: 'organize', options: { excludeByName: { Time: true }, renameByName: table } }] } : {}),
    ...rest,
    _size: { w, h },
  };
}

const timeseries = (title, description, unit, targets, more) => panel('timeseries', title, description, unit, targets, more);

/** A stat panel showing the last value. */
const stat = (title, description, unit, targets, more = {}) =>
  panel('stat', title, description, unit, targets, {
    w: 4,
    h: 4,
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' },
    ...more,
  });

/** A table of instant values (over the dashboard's time range when the query uses $__range); `columns` renames fields. */
const table = (title, description, unit, targets, columns, more = {}) =>
  panel('table', title, description, unit, targets, {
    table: columns,
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false }, sortBy: [{ displayName: Object.values(columns).at(-1), desc: true }] },
    ...more,
  });

const row = (title) => ({ type: 'row', title, collapsed: false, panels: [], _size: { w: 24, h: 1 } });

/** Places the panels left to right, starting a new line when one does not fit, and numbers them. */
function layout(panels) {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return panels.map((p, i) => {
    const { _size, ...rest } = p;
    if (x + _size.w > 24 || p.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const placed = { ...rest, id: i + 1, gridPos: { h: _size.h, w: _size.w, x, y } };
    x += _size.w;
    lineHeight = Math.max(lineHeight, _size.h);
    if (p.type === 'row') {
      y += _size.h;
      x = 0;
      lineHeight = 0;
    }
    return placed;
  });
}

// ---- variables and the dashboard ---------------------------------------------------------------

function queryVariable(name, label, query) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-query` },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: {},
    options: [],
    hide: 0,
    regex: '',
  };
}

const COMMON_VARIABLES = [
  { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [], regex: '', multi: false, includeAll: false },
  queryVariable('job', 'Job', 'label_values(tracetail_build_info, job)'),
  queryVariable('instance', 'Instance', 'label_values(tracetail_build_info{job=~"$job"}, instance)'),
];

function dashboard({ uid, title, description, tags, variables = [], panels }) {
  return {
    id: null,
    uid,
    title,
    description,
    tags: ['tracetail', ...tags],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    links: [{ title: 'tracetail dashboards', type: 'dashboards', tags: ['tracetail'], asDropdown: true, includeVars: true, keepTime: true }],
    templating: { list: [...COMMON_VARIABLES, ...variables] },
    panels: layout(panels),
  };
}

// ---- Service RED -------------------------------------------------------------------------------

/** Span metric names and the service label of each `metrics.span_metrics.naming`. */
const NAMING = {
  otel: { calls: 'traces_span_metrics_calls_total', buckets: 'traces_span_metrics_duration_seconds_bucket', service: 'service_name', uid: 'tracetail-red', title: 'tracetail / Service RED' },
  tempo: { calls: 'traces_spanmetrics_calls_total', buckets: 'traces_spanmetrics_latency_bucket', service: 'service', uid: 'tracetail-red-tempo', title: 'tracetail / Service RED (Tempo names)' },
};

function serviceRed(naming) {
  const n = NAMING[naming];
  const spans = `${n.service}=~"$service",span_kind=~"$span_kind"`;
  const byOp = `${n.service}, span_name`;
  const opLegend = `{{${n.service}}} {{span_name}}`;
  const calls = (extra = '', range) => rate(n.calls, extra ? `${spans},${extra}` : spans, range);
  const errors = 'status_code="STATUS_CODE_ERROR"';
  // Operations without an error have no error series: `or ... * 0` shows them at 0 instead of nothing.
  const errorRatio = `(sum by (${byOp}) (${calls(errors)}) or sum by (${byOp}) (${calls()}) * 0) / sum by (${byOp}) (${calls()})`;
  const quantile = (q, range) => `histogram_quantile(${q}, sum by (le, ${byOp}) (${rate(n.buckets, spans, range)}))`;
  const logs = `service_name=~"$service"`;
  const metricNote = naming === 'otel' ? 'metrics.span_metrics.naming: otel (the OpenTelemetry Collector spanmetrics names)' : 'metrics.span_metrics.naming: tempo (Grafana Tempo metrics-generator names)';
  return dashboard({
    uid: n.uid,
    title: n.title,
    description: `Request rate, errors and duration of each operation, from the spans tracetail receives, and the service's logs beside them. For ${metricNote}.`,
    tags: ['red', 'traces', 'logs'],
    variables: [
      queryVariable('service', 'Service', `label_values(${n.calls}{${SEL}}, ${n.service})`),
      queryVariable('span_kind', 'Span kind', `label_values(${n.calls}{${SEL},${n.service}=~"$service"}, span_kind)`),
    ],
    panels: [
      row('Requests, errors and duration (from spans)'),
      timeseries('Request rate', `Calls per second by operation (${n.calls}). Exemplars link to a trace.`, 'reqps', [[`sum by (${byOp}) (${calls()})`, opLegend]], { exemplar: true }),
      timeseries('Error ratio', 'Share of the calls of each operation whose span status is ERROR.', 'percentunit', [[errorRatio, opLegend]], { fieldConfig: { defaults: { min: 0, max: 1 } } }),
      timeseries('Errors per second', 'Calls per second whose span status is ERROR, by operation. Exemplars link to a failed trace.', 'reqps', [[`sum by (${byOp}) (${calls(errors)})`, opLegend]], { exemplar: true }),
      timeseries('Latency p50 by operation', 'Median span duration of each operation.', 's', [[quantile(0.5), opLegend]], { exemplar: true }),
      timeseries('Latency p95 by operation', '95th percentile of the span duration of each operation. Exemplars link to a trace of that duration.', 's', [[quantile(0.95), opLegend]], { exemplar: true }),
      timeseries('Latency p99 by operation', '99th percentile of the span duration of each operation.', 's', [[quantile(0.99), opLegend]], { exemplar: true }),
      panel('heatmap', 'Latency distribution', 'Span durations of the selected operations per bucket over time; exemplars (the dots) open the trace of a call.', 's', [[`sum by (le) (${rate(n.buckets, spans)})`, '{{le}}']], {
        w: 24,
        exemplar: true,
        options: { calculate: false, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', steps: 64 }, yAxis: { axisPlacement: 'left', unit: 's' }, exemplars: { color: 'rgba(255,0,255,0.7)' }, tooltip: { mode: 'single', yHistogram: false } },
      }),
      table('Slowest operations', 'The ten operations with the highest p95 duration over the dashboard\'s time range.', 's', [`topk(10, ${quantile(0.95, '$__range')})`], { [n.service]: 'Service', span_name: 'Operation', Value: 'p95' }, { w: 12 }),
      table(
        'Most failing operations',
        'The ten operations with the most calls whose span status is ERROR over the dashboard\'s time range (0 when none failed).',
        'short',
        [`topk(10, sum by (${byOp}) (increase(${on(n.calls, `${spans},${errors}`)}[$__range])) or sum by (${byOp}) (increase(${on(n.calls, spans)}[$__range])) * 0)`],
        { [n.service]: 'Service', span_name: 'Operation', Value: 'Errors' },
        { w: 12 },
      ),
      ...serviceMap(),
      row('Logs of the service (from log files and OTLP)'),
      timeseries('Error log records per second', 'Log records of severity ERROR or FATAL, beside the failing calls above. Exemplars link to the trace of a record.', 'cps', [[`sum by (severity) (${rate('tracetail_log_records_total', `${logs},severity=~"error|fatal"`)})`, '{{severity}}']], { exemplar: true }),
      timeseries('Log records by severity', 'Log records per second of the selected services by severity (tracetail_log_records_total).', 'cps', [[`sum by (severity) (${rate('tracetail_log_records_total', logs)})`, '{{severity}}']]),
      timeseries('Logs with trace context', 'Share of the log records that carry a trace id, and so link to their trace.', 'percentunit', [[`sum(${rate('tracetail_log_records_total', `${logs},trace_context="present"`)}) / sum(${rate('tracetail_log_records_total', logs)})`, 'with trace context']], { fieldConfig: { defaults: { min: 0, max: 1 } } }),
    ],
  });
}

// ---- Service map -------------------------------------------------------------------------------

/**
 * The service graph (traces_service_graph_*, the names Tempo and the Collector's servicegraph
 * connector use) as a Grafana node graph: an edges frame (id, source, target, mainstat) and a nodes
 * frame (id, title, mainstat), both instant tables over the dashboard's time range, the fields
 * made with label_join; and the edges' rates and error ratios over time.
 */
function serviceMap() {
  const requests = 'traces_service_graph_request_total';
  const edgeSum = (metric) => `sum by (client, server) (increase(${on(metric)}[$__range]))`;
  // label_join with one source label copies it (no regex, so no $1 for Grafana to mistake for a variable).
  const edges = `label_join(label_join(label_join(${edgeSum(requests)}, "id", " -> ", "client", "server"), "source", "", "client"), "target", "", "server")`;
  const asNode = (side) => `sum by (id) (label_join(increase(${on(requests)}[$__range]), "id", "", "${side}"))`;
  const nodes = `label_join(${asNode('server')} or ${asNode('client')}, "title", "", "id")`;
  const edgeRate = (metric) => `sum by (client, server) (${rate(metric)})`;
  return [
    row('Service map (from client and server spans)'),
    panel('nodeGraph', 'Service map', 'Who calls whom, from pairs of client and server spans (traces_service_graph_request_total over the time range). "user" is the caller of a root server span; databases and peers without spans of their own are virtual nodes.', 'short', [edges, nodes], {
      w: 24,
      h: 12,
      table: { 'Value #A': 'mainstat', 'Value #B': 'mainstat' },
      options: { nodes: { mainStatUnit: 'short' }, edges: { mainStatUnit: 'short' } },
    }),
    timeseries('Requests between services', 'Requests per second on each edge of the service graph.', 'reqps', [[edgeRate(requests), '{{client}} -> {{server}}']], { w: 12 }),
    timeseries(
      'Failed requests between services',
      'Share of the requests on each edge where the client or the server span has status ERROR.',
      'percentunit',
      [[`${edgeRate('traces_service_graph_request_failed_total')} / ${edgeRate(requests)}`, '{{client}} -> {{server}}']],
      { w: 12, fieldConfig: { defaults: { min: 0, max: 1 } } },
    ),
    timeseries(
      'Server latency p95 between services',
      '95th percentile of the server span duration on each edge (traces_service_graph_request_server_seconds).',
      's',
      [[`histogram_quantile(0.95, sum by (le, client, server) (${rate('traces_service_graph_request_server_seconds_bucket')}))`, '{{client}} -> {{server}}']],
      { w: 24 },
    ),
  ];
}

// ---- Logs and correlation ----------------------------------------------------------------------

function logsAndCorrelation() {
  const logs = 'service_name=~"$service"';
  return dashboard({
    uid: 'tracetail-logs',
    title: 'tracetail / Logs and correlation',
    description: 'The log records tracetail reads and receives, how many carry trace context and find their trace, and what reading and parsing the files met.',
    tags: ['logs', 'correlation'],
    variables: [queryVariable('service', 'Service', `label_values(tracetail_log_records_total{${SEL}}, service_name)`)],
    panels: [
      row('Log records'),
      timeseries('Records by severity', 'Log records per second by severity, from files and OTLP (tracetail_log_records_total). Exemplars link to the trace of a record.', 'cps', [[`sum by (severity) (${rate('tracetail_log_records_total', logs)})`, '{{severity}}']], { exemplar: true }),
      timeseries('Records by file', 'Log records read per second from each file (tracetail_log_file_records_total).', 'cps', [[`sum by (path) (${rate('tracetail_log_file_records_total')})`, '{{path}}']]),
      table('Records by file and severity', 'Records read from each file over the dashboard\'s time range, by severity.', 'short', [`sum by (path, severity) (increase(${on('tracetail_log_file_records_total')}[$__range]))`], { path: 'File', severity: 'Severity', Value: 'Records' }),
      row('Trace context and correlation'),
      timeseries('Share with trace context', 'Share of the log records that carry a trace id (trace_context="present").', 'percentunit', [[`sum(${rate('tracetail_log_records_total', `${logs},trace_context="present"`)}) / sum(${rate('tracetail_log_records_total', logs)})`, 'with trace context']], { fieldConfig: { defaults: { min: 0, max: 1 } } }),
      timeseries('Correlation results', 'Log records per second by result: matched (their trace was seen in spans), unmatched (their trace left the index without a span: unsampled requests, gaps in instrumentation), no_context.', 'cps', [[`sum by (result) (${rate('tracetail_correlation_log_records_total')})`, '{{result}}']]),
      timeseries('Invalid trace ids', 'Trace or span ids found in log lines and refused, by reason (tracetail_trace_context_invalid_ids_total): never exported as ids.', 'cps', [[`sum by (reason) (${rate('tracetail_trace_context_invalid_ids_total')})`, '{{reason}}']]),
      timeseries('Records given the span resource', 'Log records per second that took resource attributes (service.name, service.version, ...) from the spans of their trace or service.', 'cps', [[`sum(${rate('tracetail_correlation_resource_inherited_total')})`, 'inherited']]),
      timeseries('Traces in the index', 'Traces the in-memory trace index holds for correlation (bounded by correlation.window and correlation.max_bytes).', 'short', [[`sum(${on('tracetail_correlation_index_traces')})`, 'traces']]),
      timeseries('Trace index memory', 'Estimated memory of the trace index, against correlation.max_bytes.', 'bytes', [[`sum(${on('tracetail_correlation_index_bytes')})`, 'estimated']]),
      timeseries('Traces evicted', 'Traces leaving the index per second, by reason: expired (window), memory (max_bytes), shutdown.', 'cps', [[`sum by (reason) (${rate('tracetail_correlation_traces_evicted_total')})`, '{{reason}}']], { w: 12 }),
      timeseries('Log-to-metric rules', 'Records each metrics.rules rule selected, by result: recorded, or why it could not use them (no data without rules).', 'cps', [[`sum by (rule, result) (${rate('tracetail_metric_rule_records_total')})`, '{{rule}} {{result}}']], { w: 12 }),
      row('Trace-aware log sampling (logs.sampling)'),
      timeseries(
        'Sampling decisions',
        'Log records read from files per second by sampling decision: kept_error, kept_slow and kept_ratio (their trace), kept_level (WARN or above), kept_no_context, kept_overflow (past max_held_bytes), dropped. No data while logs.sampling is off.',
        'cps',
        [[`sum by (decision) (${rate('tracetail_log_sampling_records_total')})`, '{{decision}}']],
        { w: 12 },
      ),
      timeseries('Records waiting for a decision', 'Log records held until their trace\'s local root span ends (or logs.sampling.decision_wait).', 'short', [[`sum(${on('tracetail_log_sampling_held_records')})`, 'held records']], { w: 4 }),
      timeseries('Bytes waiting for a decision', 'Estimated bytes of the held log records, against logs.sampling.max_held_bytes (past it records are kept at once).', 'bytes', [[`sum(${on('tracetail_log_sampling_held_bytes')})`, 'held bytes']], { w: 4 }),
      timeseries('Kept share', 'Share of the log records with trace context that sampling kept (by their trace\'s decision).', 'percentunit', [
        [`sum(${rate('tracetail_log_sampling_records_total', 'decision=~"kept_(error|slow|ratio)"')}) / sum(${rate('tracetail_log_sampling_records_total', 'decision=~"kept_(error|slow|ratio)|dropped"')})`, 'kept'],
      ], { w: 4, fieldConfig: { defaults: { min: 0, max: 1 } } }),
      row('Reading and parsing'),
      timeseries('Parse errors', 'Lines that did not parse in logs.format and were shipped as text (tracetail_log_parse_errors_total).', 'cps', [[`sum(${rate('tracetail_log_parse_errors_total')})`, 'parse errors']], { w: 6 }),
      timeseries('Truncated and invalid UTF-8 lines', 'Lines cut at logs.max_line_bytes (the rest follows as the next record), and lines with invalid UTF-8 (replaced by U+FFFD).', 'cps', [
        [`sum(${rate('tracetail_log_lines_truncated_total')})`, 'truncated'],
        [`sum(${rate('tracetail_log_invalid_utf8_lines_total')})`, 'invalid UTF-8'],
      ], { w: 6 }),
      timeseries('Rotations', 'File rotations seen per second, by kind: rename (and create), truncate (copytruncate), delete.', 'cps', [[`sum by (kind) (${rate('tracetail_log_rotations_total')})`, '{{kind}}']], { w: 6 }),
      timeseries('Files skipped', 'Files matched by logs.include but not read, by reason: binary (NUL bytes in the first block), unreadable (picked up once readable).', 'cps', [[`sum by (reason) (${rate('tracetail_log_files_skipped_total')})`, '{{reason}}']], { w: 6 }),
    ],
  });
}

// ---- Sidecar health ----------------------------------------------------------------------------

function sidecarHealth() {
  const breakerStates = { type: 'value', options: { 0: { text: 'closed', color: 'green', index: 0 }, 1: { text: 'open', color: 'red', index: 1 }, 2: { text: 'half-open', color: 'orange', index: 2 } } };
  return dashboard({
    uid: 'tracetail-sidecar',
    title: 'tracetail / Sidecar health',
    description: 'Is tracetail keeping up: its receivers, the log files it tails, the export and its on-disk queue, its metric budgets, and the process.',
    tags: ['health'],
    panels: [
      row('Overview'),
      stat('Up', 'Whether Prometheus scraped tracetail last time (up).', 'none', [[`min(up{${SEL}})`, 'up']], {
        fieldConfig: { defaults: { mappings: [{ type: 'value', options: { 0: { text: 'down', color: 'red', index: 0 }, 1: { text: 'up', color: 'green', index: 1 } } }] } },
      }),
      stat('Uptime', 'Time since the (oldest selected) tracetail process started.', 's', [[`min(time() - ${on('process_start_time_seconds')})`, 'uptime']]),
      stat('Files watched', 'Log files open for reading, rotated ones still being read included (tracetail_log_files_watched).', 'short', [[`sum(${on('tracetail_log_files_watched')})`, 'files']]),
      stat('Export queue fill', 'Bytes in the on-disk export queue against storage.max_queue_bytes; at 100% the receivers answer 503 and tailing pauses.', 'percentunit', [[`max(sum by (job, instance) (${on('tracetail_export_queue_bytes')}) / max by (job, instance) (${on('tracetail_export_queue_max_bytes')}))`, 'fill']], {
        fieldConfig: { defaults: { min: 0, max: 1, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.5 }, { color: 'red', value: 0.8 }] } } },
      }),
      table('Versions', 'The tracetail and Node.js version of each instance (tracetail_build_info).', 'none', [`max by (instance, version, nodejs_version) (${on('tracetail_build_info')})`], { instance: 'Instance', version: 'tracetail', nodejs_version: 'Node.js', Value: 'Instances' }, {
        w: 8,
        h: 4,
      }),
      row('Receivers'),
      timeseries('Spans received', 'Spans accepted (in the durable queue) per second, by transport (tracetail_spans_received_total).', 'cps', [[`sum by (transport) (${rate('tracetail_spans_received_total')})`, '{{transport}}']]),
      timeseries('OTLP requests by status', 'OTLP requests per second by transport, signal and answer: 200, 400, 413, 415, and 429/503 when tracetail pushes back.', 'reqps', [[`sum by (transport, signal, code) (${rate('tracetail_otlp_requests_total')})`, '{{transport}} {{signal}} {{code}}']]),
      timeseries('Items received by component', 'Items per second each pipeline component took in: receiver/files counts the log records read from files.', 'cps', [[`sum by (component) (${rate('tracetail_component_received_items_total')})`, '{{component}}']]),
      timeseries('OTLP request size p95', '95th percentile of the OTLP request body size after decompression, by transport and signal (limit: limits.max_request_bytes).', 'bytes', [[`histogram_quantile(0.95, sum by (le, transport, signal) (${rate('tracetail_otlp_request_size_bytes_bucket')}))`, '{{transport}} {{signal}}']]),
      timeseries('Items refused in partial successes', 'Spans and log records refused inside a 200 (partial_success) for an invalid id, by transport and signal.', 'cps', [[`sum by (transport, signal, reason) (${rate('tracetail_otlp_items_rejected_total')})`, '{{transport}} {{signal}} {{reason}}']]),
      timeseries('Connections refused', 'Connections closed on accept because limits.max_connections were open, by transport.', 'cps', [[`sum by (transport) (${rate('tracetail_otlp_connections_refused_total')})`, '{{transport}}']]),
      row('Log files'),
      timeseries('File lag', 'Bytes written to each file that tracetail has not committed yet (file size minus the committed offset): growing means tailing is behind.', 'bytes', [[`max by (path) (${on('tracetail_log_file_lag_bytes')})`, '{{path}}']], { w: 12 }),
      timeseries('Bytes read', 'Bytes read from log files per second.', 'Bps', [[`sum(${rate('tracetail_log_bytes_read_total')})`, 'read']], { w: 12 }),
      timeseries('Log directories missing', 'Base directories of logs.include that do not exist (not mounted or created yet, or removed): their files are read once they are there.', 'short', [[`max by (instance) (${on('tracetail_log_directories_missing')})`, '{{instance}}']], { w: 12 }),
      timeseries('File checkpoints', 'Checkpoints kept: files being read and rotated files that still exist; those of deleted files are removed, so this follows the files on disk.', 'short', [[`max by (instance) (${on('tracetail_log_file_checkpoints')})`, '{{instance}}']], { w: 12 }),
      row('Export'),
      timeseries('Export outcomes', 'Items per second by signal and outcome: sent, retried (sent again later, not a loss), rejected (by the backend in a partial success), dropped (refused permanently).', 'cps', [[`sum by (signal, outcome) (${rate('tracetail_export_items_total')})`, '{{signal}} {{outcome}}']]),
      timeseries('Export request duration p95', '95th percentile of the duration of export requests, by signal and result.', 's', [[`histogram_quantile(0.95, sum by (le, signal, result) (${rate('tracetail_export_request_duration_seconds_bucket')}))`, '{{signal}} {{result}}']]),
      timeseries('Export retries', 'Export requests retried per second after a retryable failure (429, 502, 503, 504, connection errors), by signal.', 'reqps', [[`sum by (signal) (${rate('tracetail_export_retries_total')})`, '{{signal}}']]),
      panel('state-timeline', 'Circuit breaker', 'State of each signal\'s circuit breaker: closed (exporting), open (the backend is left alone but for one probe per export.breaker.probe_interval), half-open (probing).', 'none', [[`max by (signal) (${on('tracetail_export_breaker_state')})`, '{{signal}}']], {
        fieldConfig: { defaults: { mappings: [breakerStates], color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } } },
        options: { mergeValues: true, showValue: 'auto', alignValue: 'left', rowHeight: 0.9, legend: { displayMode: 'list', placement: 'bottom', showLegend: false }, tooltip: { mode: 'single', sort: 'none' } },
      }),
      timeseries('Export queue size', 'Bytes waiting in the on-disk export queue by signal, and the limit (storage.max_queue_bytes).', 'bytes', [
        [`sum by (signal) (${on('tracetail_export_queue_bytes')})`, '{{signal}}'],
        [`max(${on('tracetail_export_queue_max_bytes')})`, 'limit'],
      ]),
      timeseries('Oldest queued item', 'Age of the oldest item waiting in the export queue, by signal; /readyz fails past export.readiness.max_queue_age.', 's', [[`max by (signal) (${on('tracetail_export_queue_oldest_age_seconds')})`, '{{signal}}']]),
      timeseries('Queue refusals', 'Batches refused at the queue entry, by signal and reason (queue_full, storage_full, storage_error, memory_limit, stopping): the sender is told to retry, nothing is lost.', 'cps', [[`sum by (signal, reason) (${rate('tracetail_export_queue_refusals_total')})`, '{{signal}} {{reason}}']]),
      timeseries('Drops by reason', 'Items lost per second: dropped or rejected by the backend, by signal; and items a component discarded, by component and reason (intentional ones, such as duplicate spans, are exported anyway).', 'cps', [
        [`sum by (signal, outcome) (${rate('tracetail_export_items_total', 'outcome=~"dropped|rejected"')})`, '{{signal}} {{outcome}}'],
        [`sum by (component, reason) (${rate('tracetail_component_discarded_items_total')})`, '{{component}} {{reason}}'],
      ], { w: 12 }),
      timeseries('Component errors', 'Unexpected errors per second by component and stage; the batch goes on as it came.', 'cps', [[`sum by (component, stage) (${rate('tracetail_component_errors_total')})`, '{{component}} {{stage}}']], { w: 12 }),
      row('Metric series'),
      timeseries('Series per metric', 'Label sets each budgeted metric has now, against metrics.max_series_per_metric.', 'short', [[`max by (metric) (${on('tracetail_metric_series')})`, '{{metric}}']], { w: 6 }),
      timeseries('Series overflow', 'Updates that went to the overflow series (otel_metric_overflow="true") because the metric was at its budget.', 'cps', [[`sum by (metric) (${rate('tracetail_series_overflow_total')})`, '{{metric}}']], { w: 6 }),
      timeseries('Idle series removed', 'Series removed per second because they were not updated for metrics.series_idle_timeout.', 'cps', [[`sum by (metric) (${rate('tracetail_metric_series_removed_total')})`, '{{metric}}']], { w: 6 }),
      timeseries('Span ids forgotten early', 'Span ids the deduplication table forgot before metrics.span_metrics.dedupe_window, by reason (capacity: raise dedupe_max_spans).', 'cps', [[`sum by (reason) (${rate('tracetail_span_dedupe_evictions_total')})`, '{{reason}}']], { w: 6 }),
      row('Process'),
      timeseries('Memory', 'Resident memory of the process (against limits.memory_mib) and the V8 heap in use.', 'bytes', [
        [`max by (instance) (${on('process_resident_memory_bytes')})`, 'resident {{instance}}'],
        [`max by (instance) (${on('nodejs_heap_size_used_bytes')})`, 'heap used {{instance}}'],
      ], { w: 6 }),
      timeseries('CPU', 'CPU time used per second (1 is one core).', 'percentunit', [[`sum by (instance) (${rate('process_cpu_seconds_total')})`, '{{instance}}']], { w: 6 }),
      timeseries('Event loop lag p99', '99th percentile of the Node.js event loop delay: high values delay every request and read.', 's', [[`max by (instance) (${on('nodejs_eventloop_lag_p99_seconds')})`, '{{instance}}']], { w: 6 }),
      timeseries('Open file descriptors', 'File descriptors open (tailed files, sockets, the queue) and the limit.', 'short', [
        [`max by (instance) (${on('process_open_fds')})`, 'open {{instance}}'],
        [`max by (instance) (${on('process_max_fds')})`, 'limit {{instance}}'],
      ], { w: 6 }),
    ],
  });
}

export const DASHBOARDS = {
  'tracetail-red.json': serviceRed('otel'),
  'tracetail-red-tempo.json': serviceRed('tempo'),
  'tracetail-logs.json': logsAndCorrelation(),
  'tracetail-sidecar.json': sidecarHealth(),
};

export const render = (d) => `${JSON.stringify(d, null, 2)}\n`;

if (process.argv[1] === import.meta.filename) {
  for (const [file, d] of Object.entries(DASHBOARDS)) writeFileSync(join(import.meta.dirname, file), render(d));
}
