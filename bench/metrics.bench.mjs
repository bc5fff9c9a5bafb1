// Metrics benchmark (run by `npm run bench`, on the built dist/):
//   1. span metrics: CPU cost per span (ns), with and without span-id deduplication;
//   2. log metrics (+ the fixture's user rules): CPU cost per record at a paced 100,000 records/s;
//   3. scrape latency of GET /metrics with 2,000 span-metric series (text and OpenMetrics).
// Batches are made by the real OTel SDK and its OTLP serializer, decoded by tracetail's codec.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { loadConfig } = await dist('config/load.js');
const { decodeRequest } = await dist('otlp/codec.js');
const { Telemetry } = await dist('metrics/telemetry.js');
const { buildMetricObservers } = await dist('metrics/index.js');
const { AdminServer } = await dist('admin/admin-server.js');
const { createLogger } = await dist('logger.js');

const log = createLogger('silent');
const fixtureRules = parse(readFileSync(join(root, 'test/fixtures/metrics-rules.yaml'), 'utf8'));

function observers(extra = {}) {
  const config = loadConfig({ text: stringify({ service: { name: 'checkout' }, ...extra }), env: {} });
  const telemetry = new Telemetry();
  return { telemetry, ...buildMetricObservers({ config, log, telemetry }) };
}

function sdk(service) {
  const resource = resourceFromAttributes({ 'service.name': service });
  const spans = new InMemorySpanExporter();
  const logs = new InMemoryLogRecordExporter();
  const tracer = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('bench');
  const logger = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logs })] }).getLogger('bench');
  return { spans, logs, tracer, logger };
}

/** `count` batches of `size` spans over `names` span names, one in ten an error. */
function traceBatches(count, size, names) {
  const s = sdk('checkout');
  const out = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < size; i++, n++) {
      const end = Date.now();
      const span = s.tracer.startSpan(`GET /api/${n % names}`, { kind: SpanKind.SERVER, startTime: end - (n % 500), attributes: { 'http.route': `/api/${n % names}` } });
      if (n % 10 === 0) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(end);
    }
    out.push({ resourceSpans: decodeRequest('traces', ProtobufTraceSerializer.serializeRequest(s.spans.getFinishedSpans()), 'protobuf').resourceSpans, transport: 'http' });
    s.spans.reset();
  }
  return out;
}

/** `count` batches of `size` records shaped like parsed JSON request logs, half with trace context. */
function logBatches(count, size) {
  const s = sdk('checkout');
  const span = s.tracer.startSpan('GET /cart');
  const traced = trace.setSpan(context.active(), span);
  const out = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < size; i++, n++) {
      const error = n % 20 === 0;
      s.logger.emit({
        body: n % 50 === 0 ? 'payment via stripe failed: card_declined' : 'request completed',
        severityNumber: error ? SeverityNumber.ERROR : SeverityNumber.INFO,
        severityText: error ? 'error' : 'info',
        attributes: { route: `/r/${n % 20}`, status: error ? 500 : 200, duration_ms: n % 700, bytes: 512, component: n % 3 === 0 ? 'worker-1' : 'api', queue: 'emails', queue_depth: n % 40 },
        context: n % 2 === 0 ? traced : context.active(),
      });
    }
    out.push({ resourceLogs: decodeRequest('logs', ProtobufLogsSerializer.serializeRequest(s.logs.getFinishedLogRecords()), 'protobuf').resourceLogs, transport: 'file' });
    s.logs.reset();
  }
  return out;
}

const items = (b) => (b.resourceSpans ?? b.resourceLogs).reduce((n, r) => n + (r.scopeSpans ?? r.scopeLogs).reduce((m, s) => m + (s.spans ?? s.logRecords).length, 0), 0);

/** Give every span a new span id (as a new request would), outside the timed part. */
let idCounter = 0;
function renewSpanIds(batches) {
  for (const b of batches) for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) Buffer.from(span.spanId.buffer, span.spanId.byteOffset, 8).writeUInt32BE(++idCounter >>> 0, 0);
}

// A small working set observed round after round: holding 200,000 decoded spans at once would make
// the benchmark measure the garbage collector walking its own input.
// CPU time (process.cpuUsage) rather than wall time: on a shared machine wall time also counts the
// moments another process had the core.
function timeRounds(observer, batches, rounds) {
  let cpuUs = 0;
  let wallNs = 0;
  for (let r = 0; r < rounds; r++) {
    if (batches[0].resourceSpans) renewSpanIds(batches);
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (const b of batches) observer.observe(b);
    wallNs += Number(process.hrtime.bigint() - start);
    const used = process.cpuUsage(cpu);
    cpuUs += used.user + used.system;
  }
  return { cpuNs: cpuUs * 1000, wallNs };
}

// ---- 1. span metrics ------------------------------------------------------------------------------
{
  const batches = traceBatches(20, 500, 200); // 10,000 spans per round, 200 names x 2 statuses
  const rounds = 20;
  const spans = batches.reduce((n, b) => n + items(b), 0) * rounds;
  for (const [label, extra] of [
    ['with dedupe (default)', {}],
    ['without dedupe', { metrics: { span_metrics: { dedupe_max_spans: 0 } } }],
    ['with 2 dimensions', { metrics: { span_metrics: { dimensions: ['http.route', 'telemetry.sdk.language'] } } }],
  ]) {
    const warm = observers(extra);
    timeRounds(warm.spanMetrics, batches, 3); // JIT warm-up on a throwaway registry
    const { spanMetrics } = observers(extra);
    globalThis.gc?.();
    const { cpuNs, wallNs } = timeRounds(spanMetrics, batches, rounds);
    console.log(`span metrics ${label}: ${(cpuNs / spans).toFixed(0)} ns CPU/span (wall ${(wallNs / spans).toFixed(0)} ns; ${spans} spans, ${((spans / cpuNs) * 1e9 / 1e6).toFixed(2)} M spans/s per core)`);
  }
}

// ---- 2. log metrics at 100,000 records/s ----------------------------------------------------------
{
  const batchSize = 1000;
  const seconds = 3;
  const rate = 100_000;
  const batches = logBatches(20, batchSize);
  const total = (rate / batchSize) * seconds;
  for (const [label, extra] of [
    ['log metrics', {}],
    ['log metrics + 5 fixture rules', fixtureRules],
  ]) {
    const warm = observers(extra);
    for (const o of warm.logs) timeRounds(o, batches, 2);
    const { logs: stages } = observers(extra);
    // Paced: one batch of 1,000 every 10 ms (100,000 records/s); the observers' CPU time is measured.
    globalThis.gc?.();
    let busyCpuUs = 0;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * batchSize * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const cpu = process.cpuUsage();
      for (const o of stages) o.observe(batches[i % batches.length]);
      const used = process.cpuUsage(cpu);
      busyCpuUs += used.user + used.system;
    }
    const wall = (performance.now() - t0) / 1000;
    const records = total * batchSize;
    console.log(
      `${label} at ${(records / wall / 1000).toFixed(0)}k records/s: ${((busyCpuUs * 1000) / records).toFixed(0)} ns CPU/record, ` +
        `${((busyCpuUs / 1e6 / wall) * 100).toFixed(1)}% of one core`,
    );
  }
}

// ---- 3. scrape latency with 2,000 series ----------------------------------------------------------
{
  const { telemetry, spanMetrics } = observers();
  for (const b of traceBatches(4, 500, 2000)) spanMetrics.observe(b); // 2,000 names, one status each
  const admin = new AdminServer({ endpoint: { host: '127.0.0.1', port: 0 }, maxConnections: 16, telemetry, log, readiness: () => ({ ready: true, reasons: [] }) });
  await admin.start();
  const url = `http://127.0.0.1:${admin.address.port}/metrics`;
  for (const [format, accept] of [
    ['text 0.0.4', '*/*'],
    ['OpenMetrics', 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'],
  ]) {
    const times = [];
    let bytes = 0;
    let lines = 0;
    for (let i = 0; i < 60; i++) {
      const s = performance.now();
      const body = await (await fetch(url, { headers: { accept } })).text();
      times.push(performance.now() - s);
      bytes = body.length;
      lines = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    }
    const sorted = times.slice(10).sort((a, b) => a - b);
    const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1);
    console.log(`scrape ${format}, ${spanMetrics.calls.size} series per span metric (${lines} samples, ${(bytes / 1024).toFixed(0)} KiB): p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms`);
  }
  await admin.stop();
}
