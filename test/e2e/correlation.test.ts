/**
 * Issue 6 end to end: a real instrumented app (OTel JS SDK + pino, test/fixtures/apps) writes its
 * logs to a file the built CLI tails and sends its spans to the CLI over OTLP/HTTP; the CLI exports
 * both to the test collector. What arrives there is joined: every log record with trace context
 * carries the ids of a span the collector also received (or, for the app's unsampled requests, of
 * no span at all, and those count as unmatched once the correlation window has passed), the log
 * resource is the span's, trace fields are not repeated as attributes; the correlation counters on
 * /metrics and the debug API agree with what the app did.
 *
 * The app runs twice. The first run's lines may be read before or after its spans arrive; by the
 * second run the CLI knows the app's span resource, so every line of the second run, with trace
 * context or without, must inherit the span resource attributes the log lacks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValue, LogRecord, ResourceLogs } from '../../src/otlp/types.js';
import type { RequestOf } from '../../src/otlp/codec.js';
import { anyValueToString, idToHex } from '../../src/otlp/values.js';
import { runPinoOtelApp, type AppSummary } from '../helpers/app.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { sampleValue } from '../helpers/metrics-harness.js';
import { waitFor } from '../helpers/wait.js';

const SERVICE = 'pino-otel-app';
/** Short, so that `unmatched` is observable; long enough that the traces of the second run are still indexed when the test reads them. */
const WINDOW_MS = 10_000;
/** Fields that become the body, severity, time or trace context: never attributes. */
const TAKEN_FIELDS = ['msg', 'level', 'time', 'trace_id', 'span_id', 'trace_flags'];

interface Received {
  record: LogRecord;
  resource: Record<string, string>;
  attributes: Record<string, string>;
}

interface TraceDoc {
  traceId: string;
  spans: { spanId: string; service: string; parentSpanId: string | null }[];
  logs: { body: string; spanId: string | null; service: string; severity: string }[];
  error: boolean;
  errorLogs: number;
  unmatchedLogs: number;
}

function flatten(kvs: KeyValue[] | undefined): Record<string, string> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValueToString(kv.value)]));
}

describe('logs and spans of a real app joined by the built CLI', () => {
  let collector: TestCollector;
  let cli: CliProcess;
  let dir: string;
  let debug: string;
  const runs: { file: string; app: AppSummary; lines: Record<string, unknown>[] }[] = [];
  /** Debug API documents of the second run's traces, read while they are still in the window. */
  const docs = new Map<string, { status: number; doc?: TraceDoc }>();
  let received: Received[] = [];

  const metrics = async () => (await fetch(cli.metricsUrl)).text();
  const correlationCount = (body: string, result: string) => sampleValue(body, 'tracetail_correlation_log_records_total', { result });

  async function runApp(file: string, requests: number, unsampled: number, otlp: string) {
    const app = await runPinoOtelApp({
      LOG_FILE: join(dir, 'logs', file),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://${otlp}/v1/traces`,
      OTEL_SERVICE_NAME: SERVICE,
      REQUESTS: String(requests),
      UNSAMPLED: String(unsampled),
    });
    const lines = readFileSync(join(dir, 'logs', file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    runs.push({ file, app, lines });
    return app;
  }

  const spanCount = () => runs.reduce((n, r) => n + r.app.traces.reduce((m, t) => m + t.spans.length, 0), 0);
  const lineCount = () => runs.reduce((n, r) => n + r.lines.length, 0);

  beforeAll(async () => {
    collector = await TestCollector.start();
    dir = tempDir('tracetail-e2e-correlation-');
    cli = await startCli({
      dir,
      config: testConfig(dir, {
        service: { name: SERVICE },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
        debug: { endpoint: '127.0.0.1:0' },
        export: { otlp: { endpoint: collector.url } },
        correlation: { window: `${WINDOW_MS / 1000}s` },
      }),
    });
    const otlp = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
    debug = await cli.waitForEndpoint('debug.endpoint');

    await runApp('first.log', 10, 2, otlp);
    // The first run's spans are in the index before the second run starts.
    await waitFor(
      async () => sampleValue(await metrics(), 'tracetail_component_received_items_total', { component: 'correlation_spans' }) === spanCount(),
      { timeoutMs: 20_000, intervalMs: 100, what: 'the first run\'s spans in the correlation index' },
    );
    const second = await runApp('second.log', 10, 2, otlp);
    await collector.waitForItems('logs', lineCount());
    await collector.waitForItems('traces', spanCount());

    // Read the debug documents at once: the traces leave the index WINDOW_MS after their last line.
    for (const t of [...second.traces, ...second.unsampledTraces]) {
      const res = await fetch(`http://${debug}/api/v1/traces/${t.traceId}`);
      docs.set(t.traceId, { status: res.status, doc: res.status === 200 ? ((await res.json()) as TraceDoc) : undefined });
    }

    received = collector.accepted('logs').flatMap((r) =>
      ((r.body as RequestOf['logs']).resourceLogs ?? []).flatMap((rl: ResourceLogs) => {
        const resource = flatten(rl.resource?.attributes);
        return (rl.scopeLogs ?? []).flatMap((sl) => (sl.logRecords ?? []).map((record) => ({ record, resource, attributes: flatten(record.attributes) })));
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await cli?.stop();
    await collector?.close();
  });

  it('exports every line once and every sampled span, and no span of an unsampled request', () => {
    expect(received).toHaveLength(lineCount());
    const sampled = runs.flatMap((r) => r.app.traces.flatMap((t) => t.spans));
    expect(collector.spans().map((s) => idToHex(s.spanId)).sort()).toEqual(sampled.sort());
    const unsampledTraces = new Set(runs.flatMap((r) => r.app.unsampledTraces.map((t) => t.traceId)));
    expect(collector.spans().filter((s) => unsampledTraces.has(idToHex(s.traceId)))).toEqual([]);
    // Line by line: the file, the message, the time and the pino level as the OTel severity.
    for (const { file, lines } of runs) {
      const got = received
        .filter((r) => r.attributes['log.file.name'] === file)
        .map((r) => `${anyValueToString(r.record.body)}|${Long.fromValue(r.record.timeUnixNano!).div(1_000_000).toString()}|${r.record.severityNumber}`)
        .sort();
      const want = lines.map((l) => `${l.msg}|${l.time}|${{ 20: 5, 30: 9, 50: 17 }[l.level as number]}`).sort();
      expect(got).toEqual(want);
    }
  });

  it('gives every record with context the ids of a span the collector received, with that span\'s service; unsampled ones point at no span', () => {
    const spans = new Map<string, { traceId: string; service: string }>();
    for (const r of collector.accepted('traces'))
      for (const rs of (r.body as RequestOf['traces']).resourceSpans ?? []) {
        const service = flatten(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.set(idToHex(s.spanId), { traceId: idToHex(s.traceId), service });
      }
    const unsampled = new Map(runs.flatMap((r) => r.app.unsampledTraces.map((t) => [t.traceId, new Set(t.spans)] as const)));

    let matched = 0;
    let pointingNowhere = 0;
    let noContext = 0;
    for (const { record, resource } of received) {
      // Decoded messages carry an empty default for ids they lack.
      const traceId = idToHex(record.traceId);
      const spanId = idToHex(record.spanId);
      if (traceId === '') {
        noContext++;
        expect(spanId).toBe('');
        continue;
      }
      const span = spans.get(spanId);
      if (span) {
        matched++;
        expect(span.traceId).toBe(traceId);
        expect(resource['service.name']).toBe(span.service);
        expect(record.flags! & 0xff, 'sampled flag').toBe(1);
      } else {
        pointingNowhere++;
        expect(unsampled.get(traceId)?.has(spanId), `${traceId}/${spanId} is neither a received span nor an unsampled one`).toBe(true);
        expect(record.flags! & 0xff, 'sampled flag').toBe(0);
        expect(resource['service.name']).toBe(SERVICE);
      }
    }
    const sum = (f: (a: AppSummary) => number) => runs.reduce((n, r) => n + f(r.app), 0);
    expect(matched).toBe(sum((a) => a.logsWithContext - a.unmatchedLogs));
    expect(pointingNowhere).toBe(sum((a) => a.unmatchedLogs));
    expect(noContext).toBe(sum((a) => a.logsWithoutContext));
  });

  it('keeps the trace fields out of the attributes and the other fields in', () => {
    for (const { record, attributes } of received) {
      for (const f of [...TAKEN_FIELDS, 'traceId', 'spanId', 'traceparent']) expect(attributes, f).not.toHaveProperty(f);
      expect(attributes['log.file.path']).toBe(join(dir, 'logs', attributes['log.file.name']));
      expect(attributes).toHaveProperty('pid');
      if (anyValueToString(record.body) !== 'starting' && anyValueToString(record.body) !== 'stopping') expect(attributes).toHaveProperty('orderId');
    }
  });

  it('gives the log records the span resource attributes they lack', async () => {
    const spanResources = collector.accepted('traces').flatMap((r) => ((r.body as RequestOf['traces']).resourceSpans ?? []).map((rs) => flatten(rs.resource?.attributes)));
    expect(spanResources.length).toBeGreaterThan(0);
    for (const res of spanResources) expect(res).toMatchObject({ 'service.name': SERVICE, 'service.version': '1.2.3', 'deployment.environment.name': 'e2e' });

    for (const { resource, attributes } of received) {
      // Inherited whole or not at all, never changed.
      if ('service.version' in resource || 'deployment.environment.name' in resource) {
        expect(resource).toMatchObject({ 'service.version': '1.2.3', 'deployment.environment.name': 'e2e' });
      }
      // Every line of the second run was read after the app's span resource was known.
      if (attributes['log.file.name'] === 'second.log') {
        expect(resource, JSON.stringify(attributes)).toMatchObject({ 'service.name': SERVICE, 'service.version': '1.2.3', 'deployment.environment.name': 'e2e' });
      }
    }
    const inherited = sampleValue(await metrics(), 'tracetail_correlation_resource_inherited_total', {});
    expect(inherited).toBeGreaterThanOrEqual(runs[1].lines.length);
    expect(inherited).toBeLessThanOrEqual(lineCount());
  });

  it('serves each trace of the app from the debug API with exactly its spans and its logs', () => {
    const [, second] = runs;
    second.app.traces.forEach((t, i) => {
      const got = docs.get(t.traceId)!;
      expect(got.status, t.traceId).toBe(200);
      const doc = got.doc!;
      expect(doc.spans.map((s) => s.spanId).sort()).toEqual([...t.spans].sort());
      expect(new Set(doc.spans.map((s) => s.service))).toEqual(new Set([SERVICE]));
      const [server, db] = t.spans;
      const last = i % 5 === 4 ? 'order not found' : 'request served';
      expect(doc.logs.map((l) => [l.body, l.spanId])).toEqual([
        ['request received', server],
        ['querying orders', db],
        [last, server],
      ]);
      expect(doc).toMatchObject({ error: i % 5 === 4, errorLogs: i % 5 === 4 ? 1 : 0, unmatchedLogs: 0 });
    });
    // An unsampled request: its lines are indexed, waiting for spans that never come.
    for (const t of second.app.unsampledTraces) {
      const got = docs.get(t.traceId)!;
      expect(got.status, t.traceId).toBe(200);
      expect(got.doc!.spans).toEqual([]);
      expect(got.doc!.logs.map((l) => l.body)).toEqual(['request received', 'querying orders', 'request served']);
      expect(got.doc!.unmatchedLogs).toBe(t.logs);
    }
  });

  it('counts matched and no_context as the lines are read, unmatched once the window has passed', async () => {
    const sum = (f: (a: AppSummary) => number) => runs.reduce((n, r) => n + f(r.app), 0);
    const want = { matched: sum((a) => a.logsWithContext - a.unmatchedLogs), unmatched: sum((a) => a.unmatchedLogs), no_context: sum((a) => a.logsWithoutContext) };
    const body = await waitFor(
      async () => {
        const text = await metrics();
        return correlationCount(text, 'unmatched') === want.unmatched && text;
      },
      { timeoutMs: WINDOW_MS + 20_000, intervalMs: 250, what: `${want.unmatched} unmatched log records after the window` },
    );
    expect({ matched: correlationCount(body, 'matched'), unmatched: correlationCount(body, 'unmatched'), no_context: correlationCount(body, 'no_context') }).toEqual(want);
    // The expired traces are gone from the index and the API.
    await waitFor(async () => (await fetch(`http://${debug}/api/v1/traces/${runs[1].app.traces[0].traceId}`)).status === 404, {
      timeoutMs: WINDOW_MS + 20_000,
      intervalMs: 250,
      what: 'the trace to leave the index',
    });
    expect(correlationCount(await metrics(), 'unmatched')).toBe(want.unmatched);
  }, WINDOW_MS + 60_000);
});
