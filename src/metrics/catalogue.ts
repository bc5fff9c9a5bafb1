/**
 * Every `tracetail_` metric, declared once: name, type, help, labels and, for the README's metric
 * reference, what the labels hold. Components create their metrics from these entries
 * (`telemetry.counter(METRICS.exportItems)`); `npm run docs:config` writes the README's table from
 * them (config/reference.ts) and a test fails when the two differ.
 */

export interface MetricSpec<L extends string = string> {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly buckets?: readonly number[];
  /** The README's labels column: the labels with their values, or what the metric holds. */
  readonly doc: string;
}

function spec<const L extends string = never>(s: Omit<MetricSpec<L>, 'labelNames'> & { labelNames?: readonly L[] }): MetricSpec<L> {
  return { ...s, labelNames: s.labelNames ?? [] };
}

export const METRICS = {
  buildInfo: spec({
    name: 'tracetail_build_info',
    type: 'gauge',
    help: 'Build information; the value is always 1.',
    labelNames: ['version', 'nodejs_version'],
    doc: '`version`, `nodejs_version`',
  }),
  exportItems: spec({
    name: 'tracetail_export_items_total',
    type: 'counter',
    help: 'Items (spans, log records, metric data points) by export outcome: sent, retried (per failed attempt), rejected by the backend in a partial success, dropped after a permanent failure.',
    labelNames: ['signal', 'outcome'],
    doc: '`signal`, `outcome` (`sent`, `retried`, `rejected`, `dropped`): see [Delivery promise](#delivery-promise)',
  }),
  exportQueueBytes: spec({
    name: 'tracetail_export_queue_bytes',
    type: 'gauge',
    help: 'Bytes waiting in the on-disk export queue.',
    labelNames: ['signal'],
    doc: '`signal`',
  }),
  exportQueueMaxBytes: spec({
    name: 'tracetail_export_queue_max_bytes',
    type: 'gauge',
    help: 'storage.max_queue_bytes: past this many bytes the export queue takes no more items.',
    doc: "(`storage.max_queue_bytes`: the queue's fill is `sum(tracetail_export_queue_bytes)` over it)",
  }),
  exportQueueOldestAge: spec({
    name: 'tracetail_export_queue_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest item waiting in the export queue; 0 when empty.',
    labelNames: ['signal'],
    doc: '`signal`',
  }),
  spansReceived: spec({
    name: 'tracetail_spans_received_total',
    type: 'counter',
    help: 'Spans accepted by the OTLP receivers (durable in the export queue), by transport.',
    labelNames: ['transport'],
    doc: '`transport` (`http`, `unix`, `grpc`): spans accepted (durable)',
  }),
  otlpRequests: spec({
    name: 'tracetail_otlp_requests_total',
    type: 'counter',
    help: 'OTLP export requests received, by transport (http, unix, grpc), signal and response code (HTTP status, or gRPC status name).',
    labelNames: ['transport', 'signal', 'code'],
    doc: '`transport`, `signal` (`traces`, `logs`, `metrics`; `unknown` for other paths), `code` (HTTP status, or gRPC status name such as `OK`, `RESOURCE_EXHAUSTED`)',
  }),
  otlpRequestSize: spec({
    name: 'tracetail_otlp_request_size_bytes',
    type: 'histogram',
    help: 'Size of OTLP request bodies after decompression.',
    labelNames: ['transport', 'signal'],
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
    doc: '`transport`, `signal`: body size after decompression',
  }),
  otlpItemsRejected: spec({
    name: 'tracetail_otlp_items_rejected_total',
    type: 'counter',
    help: 'Spans and log records refused in a partial success (not kept), by transport, signal and reason.',
    labelNames: ['transport', 'signal', 'reason'],
    doc: '`transport`, `signal`, `reason` (`invalid_id`): items refused in a partial success',
  }),
  otlpConnectionsRefused: spec({
    name: 'tracetail_otlp_connections_refused_total',
    type: 'counter',
    help: 'Connections closed on accept because the listener had limits.max_connections open.',
    labelNames: ['transport'],
    doc: '`transport`: connections closed past `limits.max_connections`',
  }),
  exportRequestDuration: spec({
    name: 'tracetail_export_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of export requests by result: success (partial successes included), retryable, permanent.',
    labelNames: ['signal', 'result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    doc: '`signal`, `result` (`success`, `retryable`, `permanent`)',
  }),
  exportRetries: spec({
    name: 'tracetail_export_retries_total',
    type: 'counter',
    help: 'Export requests that failed in a retryable way (429, 502, 503, 504, connection errors, timeouts) and will be sent again.',
    labelNames: ['signal'],
    doc: '`signal`',
  }),
  exportBreakerState: spec({
    name: 'tracetail_export_breaker_state',
    type: 'gauge',
    help: 'Circuit breaker of the export: 0 closed (sending), 1 open (backend left alone between probes), 2 half-open (a probe in flight).',
    labelNames: ['signal'],
    doc: '`signal` (0 closed, 1 open, 2 half-open)',
  }),
  exportQueueRefusals: spec({
    name: 'tracetail_export_queue_refusals_total',
    type: 'counter',
    help: 'Batches refused at the entry of the export queue (the sender is told to retry later; nothing is lost), by reason: queue_full, storage_full, storage_error, memory_limit, stopping.',
    labelNames: ['signal', 'reason'],
    doc: '`signal`, `reason` (`queue_full`, `storage_full` (the storage filesystem is full), `storage_error` (it cannot be written), `memory_limit`, `stopping`)',
  }),
  logRecords: spec({
    name: 'tracetail_log_records_total',
    type: 'counter',
    help: 'Log records by service, severity and whether they carry trace context (present or absent).',
    labelNames: ['service_name', 'severity', 'trace_context'],
    doc: '`service_name`, `severity`, `trace_context` (exemplars)',
  }),
  logFileRecords: spec({
    name: 'tracetail_log_file_records_total',
    type: 'counter',
    help: 'Log records read from each log file, by severity.',
    labelNames: ['path', 'severity'],
    doc: '`path`, `severity`: records read from each log file',
  }),
  logBytesRead: spec({
    name: 'tracetail_log_bytes_read_total',
    type: 'counter',
    help: 'Bytes read from log files.',
    doc: 'bytes read from log files',
  }),
  logFilesWatched: spec({
    name: 'tracetail_log_files_watched',
    type: 'gauge',
    help: 'Log files open for reading (rotated ones still being read included).',
    doc: 'files open for reading (rotated ones still being read included)',
  }),
  logFileCheckpoints: spec({
    name: 'tracetail_log_file_checkpoints',
    type: 'gauge',
    help: 'Checkpoints kept for log files: files being read, and rotated files that still exist (those of deleted files are removed).',
    doc: 'checkpoints kept: files being read, rotated files that still exist',
  }),
  logDirectoriesMissing: spec({
    name: 'tracetail_log_directories_missing',
    type: 'gauge',
    help: 'Base directories of logs.include globs that do not exist now (not created or mounted yet, or removed); their files are read once they are there.',
    doc: 'base directories of `logs.include` that do not exist now (read once created)',
  }),
  logFileLag: spec({
    name: 'tracetail_log_file_lag_bytes',
    type: 'gauge',
    help: 'Per file: its size minus the offset committed with the records read from it (what is still to be read and queued).',
    labelNames: ['path'],
    doc: '`path`: file size minus the committed offset',
  }),
  logRotations: spec({
    name: 'tracetail_log_rotations_total',
    type: 'counter',
    help: 'Log file rotations seen, by kind: rename (rename-and-create), truncate (copytruncate or in place), delete.',
    labelNames: ['kind'],
    doc: '`kind` (`rename`, `truncate`, `delete`)',
  }),
  logParseErrors: spec({
    name: 'tracetail_log_parse_errors_total',
    type: 'counter',
    help: 'Lines that did not parse in the configured logs.format; they are shipped as text.',
    doc: 'lines that did not parse in `logs.format` (shipped as text)',
  }),
  logLinesTruncated: spec({
    name: 'tracetail_log_lines_truncated_total',
    type: 'counter',
    help: 'Lines longer than logs.max_line_bytes, cut there (the rest continues as the next record).',
    doc: 'lines cut at `logs.max_line_bytes`',
  }),
  logInvalidUtf8: spec({
    name: 'tracetail_log_invalid_utf8_lines_total',
    type: 'counter',
    help: 'Lines holding invalid UTF-8, shipped with U+FFFD in place of the invalid bytes.',
    doc: 'lines with invalid UTF-8 (replaced)',
  }),
  logFilesSkipped: spec({
    name: 'tracetail_log_files_skipped_total',
    type: 'counter',
    help: 'Files matched by logs.include that are not read, by reason: binary (NUL bytes in the first block), unreadable (open failed; retried on change).',
    labelNames: ['reason'],
    doc: '`reason` (`binary`, `unreadable`)',
  }),
  seriesOverflow: spec({
    name: 'tracetail_series_overflow_total',
    type: 'counter',
    help: 'Updates that went to the overflow series (otel_metric_overflow="true") because the metric had max_series_per_metric series.',
    labelNames: ['metric'],
    doc: '`metric`',
  }),
  metricSeries: spec({
    name: 'tracetail_metric_series',
    type: 'gauge',
    help: 'Series (label sets) a budgeted metric has now, the overflow series not included.',
    labelNames: ['metric'],
    doc: '`metric`: label sets a budgeted metric has now',
  }),
  metricSeriesRemoved: spec({
    name: 'tracetail_metric_series_removed_total',
    type: 'counter',
    help: 'Series removed because they were not updated for metrics.series_idle_timeout.',
    labelNames: ['metric'],
    doc: '`metric`: series removed as idle',
  }),
  metricRuleRecords: spec({
    name: 'tracetail_metric_rule_records_total',
    type: 'counter',
    help: 'Log records a metrics rule selected, by result: recorded, or skipped because the value field was missing, not a number or negative (counters).',
    labelNames: ['rule', 'result'],
    doc: '`rule`, `result` (`recorded`, `value_missing`, `value_not_numeric`, `value_negative`)',
  }),
  spanDedupeEvictions: spec({
    name: 'tracetail_span_dedupe_evictions_total',
    type: 'counter',
    help: 'Span ids forgotten by span-metrics deduplication: expired (the window passed) or capacity (dedupe_max_spans reached early; a retry of such a span would be counted twice).',
    labelNames: ['reason'],
    doc: '`reason` (`expired`, `capacity`)',
  }),
  componentReceived: spec({
    name: 'tracetail_component_received_items_total',
    type: 'counter',
    help: 'Items (spans, log records) a component took in.',
    labelNames: ['component'],
    doc: '`component` (`receiver/files`, `span_metrics`, `service_graph`, `log_metrics`, `metric_rules`, `correlation_spans`, `correlation_logs`)',
  }),
  componentDiscarded: spec({
    name: 'tracetail_component_discarded_items_total',
    type: 'counter',
    help: 'Items a component did not pass on, by reason; intentional="true" when that is by design.',
    labelNames: ['component', 'reason', 'intentional'],
    doc: '`component`, `reason`, `intentional` (e.g. `span_metrics`, `duplicate`, `true`; `correlation_spans`/`correlation_logs`, `over_trace_limit`, `true`: not kept in the index, still exported)',
  }),
  componentErrors: spec({
    name: 'tracetail_component_errors_total',
    type: 'counter',
    help: 'Errors inside a component, by stage.',
    labelNames: ['component', 'stage'],
    doc: '`component`, `stage`',
  }),
  correlationLogRecords: spec({
    name: 'tracetail_correlation_log_records_total',
    type: 'counter',
    help: 'Log records by correlation result: matched (their trace was seen in spans), unmatched (trace context but no span within correlation.window), no_context.',
    labelNames: ['result'],
    doc: '`result` (`matched`, `unmatched`, `no_context`; see Correlation)',
  }),
  correlationTracesEvicted: spec({
    name: 'tracetail_correlation_traces_evicted_total',
    type: 'counter',
    help: 'Traces that left the correlation index: expired (idle past correlation.window), memory (over correlation.max_bytes, least recently active first), shutdown.',
    labelNames: ['reason'],
    doc: '`reason` (`expired`, `memory`, `shutdown`)',
  }),
  correlationIndexTraces: spec({
    name: 'tracetail_correlation_index_traces',
    type: 'gauge',
    help: 'Traces held in the correlation index.',
    doc: 'traces held in the index',
  }),
  correlationIndexBytes: spec({
    name: 'tracetail_correlation_index_bytes',
    type: 'gauge',
    help: 'Estimated memory held by the correlation index.',
    doc: '(estimated)',
  }),
  correlationResourceInherited: spec({
    name: 'tracetail_correlation_resource_inherited_total',
    type: 'counter',
    help: 'Log records whose resource took attributes it lacked from a span resource.',
    doc: '(log records that took attributes from a span resource)',
  }),
  traceContextInvalidIds: spec({
    name: 'tracetail_trace_context_invalid_ids_total',
    type: 'counter',
    help: 'Trace or span ids found in log records and refused (never exported as ids), by reason.',
    labelNames: ['reason'],
    doc: '`reason` (`wrong_length`, `not_hex`, `all_zero`, `out_of_range`, `imprecise_number`, `bad_traceparent`, `bad_flags`)',
  }),
  logSamplingRecords: spec({
    name: 'tracetail_log_sampling_records_total',
    type: 'counter',
    help: 'Log records read from files, by sampling decision: kept_error, kept_slow, kept_ratio (their trace), kept_level (WARN or above), kept_no_context, kept_overflow (past max_held_bytes), dropped.',
    labelNames: ['decision'],
    doc: '`decision` (`kept_error`, `kept_slow`, `kept_ratio`, `kept_level`, `kept_no_context`, `kept_overflow`, `dropped`): records read from files, with `logs.sampling` on',
  }),
  logSamplingHeldRecords: spec({
    name: 'tracetail_log_sampling_held_records',
    type: 'gauge',
    help: "Log records waiting for their trace's sampling decision.",
    doc: "records waiting for their trace's decision",
  }),
  logSamplingHeldBytes: spec({
    name: 'tracetail_log_sampling_held_bytes',
    type: 'gauge',
    help: "Estimated bytes of the log records waiting for their trace's sampling decision.",
    doc: 'their estimated bytes, against `logs.sampling.max_held_bytes`',
  }),
} as const;

/** The README's table of tracetail_ metrics. */
export function metricReference(): string {
  const rows = Object.values(METRICS).map((m: MetricSpec) => `| \`${m.name}\` | ${m.type} | ${m.doc.replace(/\|/g, '\\|')} |`);
  return ['| metric | type | labels |', '| --- | --- | --- |', ...rows].join('\n');
}
