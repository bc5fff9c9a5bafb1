/**
 * The one schema of tracetail's configuration file (the README's Configuration). Every key is optional; the
 * defaults here are the documented defaults, and the README's reference table is generated from
 * the `doc()` metadata below (a test fails when the two drift).
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import { metricRulesSchema, RESERVED_LABELS, sanitizeLabelName } from '../metrics/rule-schema.js';
import { parseDuration, parseSize } from './units.js';

/** Metadata shown in the README reference: the type as a user writes it, and what the key does. */
export interface KeyDoc {
  type: string;
  description: string;
}
export const keyDocs = z.registry<KeyDoc>();

function doc<T extends z.ZodType>(schema: T, type: string, description: string): T {
  keyDocs.add(schema, { type, description });
  return schema;
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "500ms", "5s" or "1m", got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const size = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0 || !Number.isInteger(bytes)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size in bytes such as 1048576 or "64MiB", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

export interface Endpoint {
  host: string;
  port: number;
}

/** A listener address: TCP `host:port`, or a Unix domain socket written `unix:/path/to.sock`. */
export type ListenAddress = Endpoint | { path: string };

const HOST_RE = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)$/;
const endpoint = z.string().transform((text, ctx): Endpoint => parseEndpoint(text, ctx));
const endpointOrUnix = z.string().transform((text, ctx): ListenAddress => {
  if (!text.startsWith('unix:')) return parseEndpoint(text, ctx);
  // gRPC target syntax: unix:relative/path, unix:/abs/path and unix:///abs/path.
  const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
  if (path.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected a socket path after "unix:", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return { path };
});

function parseEndpoint(text: string, ctx: z.RefinementCtx): Endpoint {
  const i = text.lastIndexOf(':');
  const host = i > 0 ? text.slice(0, i) : '';
  const portText = i >= 0 ? text.slice(i + 1) : '';
  if (!HOST_RE.test(host) || !/^\d+$/.test(portText)) {
    ctx.addIssue({ code: 'custom', message: `expected "host:port" such as "127.0.0.1:4318", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  const port = Number(portText);
  if (port > 65535) {
    ctx.addIssue({ code: 'custom', message: `port ${port} is out of range 0-65535` });
    return z.NEVER;
  }
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

const glob = z.string().superRefine((text, ctx) => {
  try {
    picomatch.makeRe(text, { strictBrackets: true });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid glob ${JSON.stringify(text)}: ${(err as Error).message}` });
  }
});

const regex = z.string().superRefine((text, ctx) => {
  try {
    new RegExp(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

/** A regex with a `trace_id` named group (and optionally `span_id`, `trace_flags`). */
const traceContextPattern = regex.superRefine((text, ctx) => {
  let groups: string[] = [];
  try {
    groups = [...text.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]);
    new RegExp(text);
  } catch {
    return; // reported by `regex`
  }
  if (!groups.includes('trace_id')) {
    ctx.addIssue({ code: 'custom', message: 'needs a named group (?<trace_id>...); span_id and trace_flags groups are optional' });
  }
});

const traceContext = z
  .object({
    trace_id_fields: doc(
      z.array(z.string().min(1)).default([]),
      'list of field paths',
      'Fields holding the trace id, tried before the built-in names; `a.b` is a dotted key or a nested path. The value may be hex, decimal, a traceparent or an X-Ray id.',
    ),
    span_id_fields: doc(z.array(z.string().min(1)).default([]), 'list of field paths', 'Fields holding the span id (hex or decimal).'),
    trace_flags_fields: doc(z.array(z.string().min(1)).default([]), 'list of field paths', 'Fields holding the trace flags (hex byte, number or boolean sampled).'),
    patterns: doc(
      z.array(traceContextPattern).default([]),
      'list of regexes',
      'Tried on the line when the fields carry no context: named groups `trace_id` (required), `span_id`, `trace_flags`.',
    ),
    scan_text: doc(
      z.boolean().default(true),
      'boolean',
      'When the fields carry no context, look in the first line of the text for key=value ids, a traceparent, Spring/Sleuth brackets and X-Ray ids.',
    ),
  })
  .strict();

const fileMode = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? value.toString(8) : value;
  if (!/^0?[0-7]{3}$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: `expected an octal file mode such as "0660", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parseInt(text, 8);
});

export function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const httpUrl = z.string().superRefine((text, ctx) => {
  if (!isHttpUrl(text)) ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL such as "http://collector:4318", got ${JSON.stringify(text)}` });
});

const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

const multiline = z
  .object({
    preset: doc(
      z.enum(['java', 'python', 'go']).nullable().default(null),
      'java | python | go | null',
      'Start pattern preset for Java stack traces, Python tracebacks or Go panics.',
    ),
    start_pattern: doc(regex.nullable().default(null), 'regex | null', 'A line matching this starts a new record; other lines are appended to the current one.'),
    max_lines: doc(z.number().int().positive().default(500), 'integer', 'Most lines in one record; more start a new record.'),
    max_bytes: doc(size.prefault(1048576), 'size', 'Most bytes in one record; more start a new record.'),
    timeout: doc(duration.prefault('1s'), 'duration', 'How long the last record waits for continuation lines before it is flushed.'),
  })
  .strict();

const otlpReceiverHttp = z
  .object({ endpoint: doc(endpoint.nullable().prefault('127.0.0.1:4318'), 'host:port | null', 'OTLP/HTTP listener; null disables.') })
  .strict();
const otlpReceiverGrpc = z
  .object({
    endpoint: doc(
      endpointOrUnix.nullable().prefault('127.0.0.1:4317'),
      'host:port | unix:path | null',
      'OTLP/gRPC listener (`unix:/path/to.sock` for a Unix domain socket, with `receivers.otlp.unix.mode`); null disables.',
    ),
  })
  .strict();
const otlpReceiverUnix = z
  .object({
    path: doc(z.string().min(1).nullable().default('/var/run/tracetail/otlp.sock'), 'path | null', 'OTLP/HTTP on a Unix domain socket; null disables.'),
    mode: doc(fileMode.prefault('0660'), 'octal mode', 'File mode of the socket (and of a gRPC `unix:` socket).'),
  })
  .strict();

const tls = z
  .object({
    ca_file: doc(z.string().nullable().default(null), 'path | null', 'CA certificate (PEM) that signs the backend certificate.'),
    cert_file: doc(z.string().nullable().default(null), 'path | null', 'Client certificate (PEM) for mutual TLS.'),
    key_file: doc(z.string().nullable().default(null), 'path | null', 'Client private key (PEM) for mutual TLS.'),
    insecure_skip_verify: doc(z.boolean().default(false), 'boolean', 'Do not verify the backend certificate (testing only).'),
  })
  .strict();

const batchOverride = z
  .object({
    max_items: doc(z.number().int().positive().optional(), 'integer', 'Most items in one export request of this signal.'),
    max_bytes: doc(size.optional(), 'size', 'Most bytes in one export request of this signal.'),
    timeout: doc(duration.optional(), 'duration', 'How long the oldest queued item of this signal waits for a batch to fill.'),
  })
  .strict();

const batch = z
  .object({
    max_items: doc(z.number().int().positive().default(8192), 'integer', 'Most items (spans, log records, data points) in one export request; a full batch leaves at once (the Collector batch processor\'s send_batch_size). A larger trace or logs request from the app is queued in parts.'),
    max_bytes: doc(size.prefault('4MiB'), 'size', 'Most bytes in one export request, before compression. A larger trace or logs request from the app is queued in parts.'),
    timeout: doc(duration.prefault('200ms'), 'duration', 'How long the oldest queued item waits for a batch to fill.'),
    traces: doc(batchOverride.nullable().default(null), 'map | null', 'Overrides of max_items, max_bytes and timeout for traces.'),
    logs: doc(batchOverride.nullable().default(null), 'map | null', 'Overrides of max_items, max_bytes and timeout for logs.'),
    metrics: doc(batchOverride.nullable().default(null), 'map | null', 'Overrides of max_items, max_bytes and timeout for forwarded metrics.'),
  })
  .strict();

const retry = z
  .object({
    initial_interval: doc(duration.prefault('1s'), 'duration', 'Wait after the first retryable failure (429, 502, 503, 504, connection errors) unless the backend sent Retry-After.'),
    max_interval: doc(duration.prefault('30s'), 'duration', 'Cap of one wait between retries.'),
    multiplier: doc(z.number().min(1).default(1.5), 'number', 'Growth of the wait per consecutive failure.'),
    randomization_factor: doc(z.number().min(0).max(1).default(0.5), 'number', 'Jitter: each wait is drawn from ±this fraction around the current interval.'),
  })
  .strict();

const breaker = z
  .object({
    failure_threshold: doc(z.number().int().min(0).default(5), 'integer', 'Consecutive failed requests that open the circuit breaker; 0 never opens it.'),
    probe_interval: doc(duration.prefault('15s'), 'duration', 'While the breaker is open, one probe request per this interval (±20%) and nothing else.'),
  })
  .strict();

const protocol = z.enum(['http/protobuf', 'http/json']);
const compression = z.enum(['gzip', 'none']);

export const configSchema = z
  .object({
    log_level: doc(logLevel.default('info'), 'trace | debug | info | warn | error | silent', "tracetail's own log level (JSON on stderr); TRACETAIL_LOG_LEVEL overrides it."),
    service: z
      .object({
        name: doc(z.string().min(1).nullable().default(null), 'string | null', 'Resource `service.name` for records that carry none; OTEL_SERVICE_NAME overrides it.'),
        resource_attributes: doc(attributes.default({}), 'map', 'Resource attributes added to every record; merged with OTEL_RESOURCE_ATTRIBUTES.'),
      })
      .strict()
      .prefault({}),
    logs: z
      .object({
        include: doc(z.array(glob).default(['/var/log/app/**/*.log']), 'list of globs', 'Log files to tail.'),
        exclude: doc(z.array(glob).default([]), 'list of globs', 'Files matching these are never read.'),
        start_at: doc(z.enum(['beginning', 'end']).default('beginning'), 'beginning | end', 'Where reading starts in a file never seen before; files seen before resume from their checkpoint.'),
        format: doc(z.enum(['auto', 'json', 'logfmt', 'regex', 'text']).default('auto'), 'auto | json | logfmt | regex | text', 'How lines are parsed into records.'),
        regex: doc(regex.nullable().default(null), 'regex | null', 'For `format: regex`: named groups time, level, msg, trace_id, span_id and others become fields.'),
        multiline: multiline.nullable().default(null),
        max_line_bytes: doc(size.prefault(1048576), 'size', 'Longer lines are cut, counted and flagged.'),
        poll_interval: doc(duration.nullable().default(null), 'duration | null', 'Poll files at this interval instead of using inotify (NFS and friends).'),
        partial_line_timeout: doc(duration.prefault('5s'), 'duration', 'How long an unterminated last line waits for its newline.'),
        trace_context: traceContext.prefault({}),
        sampling: z
          .object({
            enabled: doc(z.boolean().default(false), 'boolean', 'Trace-aware sampling of log records read from files: records with trace context wait for their trace\'s decision (README: Trace-aware log sampling).'),
            ratio: doc(z.number().min(0).max(1).default(0.1), 'number 0..1', 'Share of the traces that are neither failed nor slow whose logs are kept, by the trace id as the W3C TraceIdRatioBased sampler of the OpenTelemetry JS SDK decides it.'),
            slow_threshold: doc(duration.prefault('1s'), 'duration', 'A trace whose local root span lasts at least this long is slow: all its logs are kept.'),
            decision_wait: doc(duration.prefault('10s'), 'duration', 'How long records wait for their trace\'s local root span; then the trace is decided on what is known (an error span seen, else the ratio).'),
            max_held_bytes: doc(size.prefault('32MiB'), 'size', 'Most bytes of records waiting for a decision; records past it are kept at once (never dropped).'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    receivers: z
      .object({
        otlp: z
          .object({
            http: otlpReceiverHttp.nullable().prefault({}),
            grpc: otlpReceiverGrpc.nullable().prefault({}),
            unix: otlpReceiverUnix.nullable().prefault({}),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        endpoint: doc(endpoint.prefault('0.0.0.0:9464'), 'host:port', 'Serves /metrics, /healthz and /readyz.'),
        span_metrics: z
          .object({
            naming: doc(z.enum(['otel', 'tempo']).default('otel'), 'otel | tempo', 'Span metric names: the Collector spanmetrics connector or Grafana Tempo metrics-generator.'),
            histogram_buckets: doc(
              z.array(z.number().positive()).min(1).default([0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15]),
              'list of seconds',
              'Duration histogram bucket bounds.',
            ),
            dimensions: doc(
              z.array(z.string().min(1)).default([]).superRefine(checkDimensions),
              'list of strings',
              'Extra span or resource attributes turned into labels (`http.route` becomes `http_route`).',
            ),
            dedupe_window: doc(duration.prefault('5m'), 'duration', 'A span id seen again within this window (an SDK retrying an accepted request) is not counted twice.'),
            dedupe_max_spans: doc(z.number().int().nonnegative().default(100000), 'integer', 'Most span ids remembered for deduplication; past it the oldest are forgotten early (counted). 0 disables deduplication.'),
          })
          .strict()
          .prefault({}),
        service_graph: z
          .object({
            enabled: doc(z.boolean().default(true), 'boolean', 'Service graph metrics (`traces_service_graph_*`) from pairs of client and server spans.'),
            wait: doc(duration.prefault('10s'), 'duration', 'How long one side of a client/server pair waits for the other before it is counted unpaired (or as an edge to a virtual node).'),
            max_items: doc(z.number().int().positive().default(10000), 'integer', 'Most pairs waiting for their other side; spans past it are counted in traces_service_graph_dropped_spans_total.'),
            histogram_buckets: doc(
              z.array(z.number().positive()).min(1).default([0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15]),
              'list of seconds',
              'Bucket bounds of the request_server_seconds and request_client_seconds histograms (the Collector servicegraph connector\'s defaults).',
            ),
            peer_attributes: doc(
              z.array(z.string().min(1)).min(1).default(['peer.service', 'db.name', 'db.system', 'server.address']),
              'list of strings',
              'Span attributes that name the server of a client span that found no server span, first found wins (a virtual node).',
            ),
          })
          .strict()
          .prefault({}),
        max_series_per_metric: doc(z.number().int().positive().default(2000), 'integer', 'Cardinality budget per metric; new label sets past it go to one overflow series (`otel_metric_overflow="true"`).'),
        series_idle_timeout: doc(
          duration.nullable().prefault('1h'),
          'duration | null',
          'A span, log or rule series not updated for this long is removed (a counter that comes back starts again from 0, like a reset); null keeps series forever.',
        ),
        rules: doc(metricRulesSchema.default([]), 'list of rules', 'User-defined log -> metric rules (see Metrics).'),
      })
      .strict()
      .prefault({}),
    export: z
      .object({
        enabled: doc(
          z.boolean().default(true),
          'boolean',
          'false: nothing is queued or exported (a metrics-only sidecar); span and log metrics are still made and file checkpoints still move.',
        ),
        otlp: z
          .object({
            endpoint: doc(httpUrl.nullable().default(null), 'URL | null', 'Base URL of the OTLP/HTTP backend (`/v1/<signal>` is appended); OTEL_EXPORTER_OTLP_ENDPOINT overrides it.'),
            traces_endpoint: doc(httpUrl.nullable().default(null), 'URL | null', 'Full URL for traces, used as given.'),
            logs_endpoint: doc(httpUrl.nullable().default(null), 'URL | null', 'Full URL for logs, used as given.'),
            metrics_endpoint: doc(httpUrl.nullable().default(null), 'URL | null', 'Full URL for forwarded metrics, used as given.'),
            protocol: doc(protocol.default('http/protobuf'), 'http/protobuf | http/json', 'Wire encoding.'),
            headers: doc(z.record(z.string(), z.string()).default({}), 'map', 'Request headers (values are redacted when printed).'),
            compression: doc(compression.default('gzip'), 'gzip | none', 'Request compression.'),
            compression_level: doc(
              z.number().int().min(1).max(9).default(1),
              'integer 1-9',
              'gzip level: 1 (the fastest) costs about half the CPU of 6 for requests a few percent larger; 9 is the smallest.',
            ),
            timeout: doc(duration.prefault('10s'), 'duration', 'Timeout of one export request.'),
            tls: tls.prefault({}),
          })
          .strict()
          .prefault({}),
        batch: batch.prefault({}),
        retry: retry.prefault({}),
        breaker: breaker.prefault({}),
        concurrency: doc(z.number().int().positive().max(64).default(1), 'integer', 'Export requests in flight per signal; with 1 the backend receives items in queue order.'),
        readiness: z
          .object({
            max_queue_age: doc(
              duration.nullable().prefault('5m'),
              'duration | null',
              '/readyz answers 503 while the oldest item in the export queue is older than this (nothing is dropped); null: never.',
            ),
          })
          .strict()
          .prefault({}),
        file: z
          .object({
            directory: doc(z.string().nullable().default(null), 'path | null', 'Write OTLP JSON lines here when no OTLP endpoint is set.'),
            max_file_bytes: doc(size.prefault(104857600), 'size', 'An output file is rotated past this size.'),
            max_files: doc(z.number().int().min(1).default(8), 'integer', 'Files kept per signal, the one being written included; past it the oldest rotated file is removed.'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        directory: doc(z.string().min(1).default('/var/lib/tracetail'), 'path', 'Checkpoints and the on-disk export queue.'),
        max_queue_bytes: doc(size.prefault(268435456), 'size', 'Bound of the on-disk queue; past it tailing pauses and receivers answer 429/503.'),
        compress_above: doc(
          size.prefault('32MiB'),
          'size',
          'While the queue holds more than this (the backend slow or down), entries are stored gzip-compressed (at export.otlp.compression_level): an outage fills the queue several times more slowly. 0: always.',
        ),
      })
      .strict()
      .prefault({}),
    debug: z
      .object({
        endpoint: doc(endpoint.nullable().prefault('127.0.0.1:9465'), 'host:port | null', 'Debug API and page; loopback only unless a token is set.'),
        token: doc(z.string().min(1).nullable().default(null), 'string | null', 'Bearer token required by the debug API when set.'),
      })
      .strict()
      .prefault({}),
    correlation: z
      .object({
        enabled: doc(
          z.boolean().default(true),
          'boolean',
          'false: no trace index (no matched/unmatched counts, no resource inheritance, no debug API).',
        ),
        window: doc(
          duration.refine((ms) => ms >= 1000, 'must be at least 1s').prefault('5m'),
          'duration',
          'How long a trace stays in the in-memory index after its last span or log; a log whose trace saw no span within it counts as unmatched.',
        ),
        max_bytes: doc(
          size.refine((bytes) => bytes >= 65536, 'must be at least 64KiB').prefault('8MiB'),
          'size',
          'Memory of the trace index: a quarter for the traces (past it the least recently active leave first), three quarters for their spans and log records (the newest overwrite the oldest).',
        ),
        inherit_resource: doc(
          z.boolean().default(true),
          'boolean',
          "Log records read from files take the resource attributes they lack from their trace's span resource (or, until it arrives, from the latest span resource of their service).",
        ),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        memory_mib: doc(z.number().int().positive().default(200), 'integer', 'Soft memory limit; above it receivers push back and tailing pauses.'),
        max_request_bytes: doc(size.prefault(67108864), 'size', 'Largest OTLP request, measured after decompression.'),
        max_connections: doc(z.number().int().positive().default(1024), 'integer', 'Concurrent connections per listener.'),
        header_timeout: doc(duration.prefault('10s'), 'duration', 'Time an OTLP/HTTP client has to send the request headers; slower clients get 408 and are disconnected.'),
        body_timeout: doc(duration.prefault('30s'), 'duration', 'Time an OTLP/HTTP client has to send the request body once the headers are in; slower clients get 408.'),
      })
      .strict()
      .prefault({}),
    shutdown_timeout: doc(duration.prefault('20s'), 'duration', 'How long a stop may take to flush everything.'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.logs.format === 'regex' && !cfg.logs.regex) {
      ctx.addIssue({ code: 'custom', path: ['logs', 'regex'], message: 'required when logs.format is "regex"' });
    }
    if (cfg.debug.endpoint && !cfg.debug.token && !isLoopback(cfg.debug.endpoint.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['debug', 'endpoint'],
        message: `binding the debug API to ${cfg.debug.endpoint.host} needs debug.token; use a loopback address or set a token`,
      });
    }
    if (cfg.export.retry.initial_interval > cfg.export.retry.max_interval) {
      ctx.addIssue({ code: 'custom', path: ['export', 'retry', 'initial_interval'], message: 'must not be longer than export.retry.max_interval' });
    }
    const t = cfg.export.otlp.tls;
    if (Boolean(t.cert_file) !== Boolean(t.key_file)) {
      ctx.addIssue({ code: 'custom', path: ['export', 'otlp', 'tls'], message: 'cert_file and key_file must be set together' });
    }
  });

function checkDimensions(dimensions: string[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  dimensions.forEach((dimension, i) => {
    const label = sanitizeLabelName(dimension);
    const clash = seen.get(label);
    if (clash !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `"${dimension}" and "${clash}" both become the label ${label}` });
    else if (RESERVED_LABELS.has(label) || ['service_name', 'service', 'span_name', 'span_kind', 'status_code'].includes(label)) {
      ctx.addIssue({ code: 'custom', path: [i], message: `"${dimension}" becomes the label ${label}, which span metrics already use` });
    }
    seen.set(label, dimension);
  });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export type FileConfig = z.output<typeof configSchema>;
