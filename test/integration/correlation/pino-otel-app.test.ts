/**
 * The correlation path with a real instrumented app: the fixture app (OTel JS SDK + pino) writes
 * its logs to a file and sends its spans over OTLP/HTTP to the test collector. Here the file is read
 * line by line (a stand-in for the file receiver) and the spans are taken, decoded, from the
 * collector; from there on it is tracetail's own code: extraction, the logs and traces pipelines
 * with the correlation stages, the index and the debug API documents.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceDocument } from '../../../src/admin/debug-api.js';
import { loadConfig } from '../../../src/config/load.js';
import { Telemetry } from '../../../src/metrics/telemetry.js';
import type { RequestOf } from '../../../src/otlp/codec.js';
import type { LogRecord } from '../../../src/otlp/types.js';
import { anyValueToString, findAttribute, idToHex, keyValue, toAnyValue } from '../../../src/otlp/values.js';
import type { LogBatch, TraceBatch } from '../../../src/pipeline/batches.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { Correlation } from '../../../src/processors/correlation/correlation.js';
import { applyTraceContext, TraceContextExtractor } from '../../../src/processors/trace-context/extract.js';
import { createLogger } from '../../../src/logger.js';
import { runPinoOtelApp, type AppSummary } from '../../helpers/app.js';
import { tempDir } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';


const PINO_SEVERITY: Record<number, [number, string]> = { 10: [1, 'TRACE'], 20: [5, 'DEBUG'], 30: [9, 'INFO'], 40: [13, 'WARN'], 50: [17, 'ERROR'], 60: [21, 'FATAL'] };

/** Stand-in for the file receiver's record building: one LogRecord per pino line, context extracted. */
function recordOf(line: string, extractor: TraceContextExtractor): LogRecord {
  const fields = JSON.parse(line) as Record<string, unknown>;
  const [severityNumber, severityText] = PINO_SEVERITY[fields.level as number];
  const ns = Long.fromNumber((fields.time as number) * 1e6, true);
  const record: LogRecord = {
    timeUnixNano: ns,
    observedTimeUnixNano: ns,
    severityNumber,
    severityText,
    body: toAnyValue(fields.msg),
    attributes: Object.entries(fields)
      .filter(([k]) => !['msg', 'level', 'time'].includes(k))
      .map(([k, v]) => keyValue(k, v)),
  };
  const ctx = extractor.extract(fields, line);
  if (ctx) applyTraceContext(record, ctx);
  return record;
}

describe('correlation with a real OTel SDK + pino app', () => {
  const spanBatches: TraceBatch[] = [];
  const exported: LogBatch[] = [];
  let summary: AppSummary;
  let lines: string[];
  let now = Date.now();
  let collector: TestCollector;
  const telemetry = new Telemetry({ processMetrics: false });
  const config = loadConfig({ text: 'service:\n  name: pino-otel-app\ncorrelation:\n  window: 1m\n', env: { K8S_POD_NAME: 'app-pod-1' } });
  const correlation = new Correlation({ config, log: createLogger('silent'), telemetry, now: () => now });

  beforeAll(async () => {
    collector = await TestCollector.start();
    const dir = tempDir();
    summary = await runPinoOtelApp({ LOG_FILE: join(dir, 'app.log'), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`, OTEL_SERVICE_NAME: 'pino-otel-app', REQUESTS: '12', UNSAMPLED: '2' });
    for (const r of collector.accepted('traces')) spanBatches.push({ resourceSpans: (r.body as RequestOf['traces']).resourceSpans, transport: 'http' });
    lines = readFileSync(join(dir, 'app.log'), 'utf8').split('\n').filter(Boolean);

    const extractor = new TraceContextExtractor();
    const logs = new Pipeline<LogBatch>({ consume: async (b) => void exported.push(b) }, correlation.logProcessors, [correlation.logObserver]);
    const traces = new Pipeline<TraceBatch>({ consume: async () => undefined }, [], [correlation.traceObserver]);
    const batchOf = (ls: string[]): LogBatch => ({
      resourceLogs: [{ resource: { attributes: Object.entries(config.resource).map(([k, v]) => keyValue(k, v)) }, scopeLogs: [{ scope: { name: 'tracetail' }, logRecords: ls.map((l) => recordOf(l, extractor)) }] }],
      transport: 'file',
    });
    // As in the sidecar: the first lines are read before the app's spans arrive, the rest after.
    const half = Math.floor(lines.length / 2);
    await logs.consume(batchOf(lines.slice(0, half)));
    for (const b of spanBatches) await traces.consume(b);
    await logs.consume(batchOf(lines.slice(half)));
  });
  afterAll(async () => {
    await collector?.close();
  });

  async function counter(name: string): Promise<Record<string, number>> {
    await telemetry.collect();
    const m = await telemetry.registry.getSingleMetric(name)!.get();
    return Object.fromEntries(m.values.map((v) => [String(v.labels.result ?? v.labels.reason ?? ''), v.value]));
  }

  it('the app wrote what it says and exported every sampled span', () => {
    expect(lines).toHaveLength(summary.logsWithContext + summary.logsWithoutContext);
    const received = new Set(spanBatches.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => idToHex(s.spanId))))));
    expect([...received].sort()).toEqual(summary.traces.flatMap((t) => t.spans).sort());
  });

  it('gives every log record with context the TraceId/SpanId of a span of its trace, and the span service name', () => {
    const spansByTrace = new Map<string, Set<string>>();
    const spanService = new Map<string, string>();
    for (const b of spanBatches)
      for (const rs of b.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            const t = idToHex(s.traceId);
            if (!spansByTrace.has(t)) spansByTrace.set(t, new Set());
            spansByTrace.get(t)!.add(idToHex(s.spanId));
            spanService.set(t, anyValueToString(findAttribute(rs.resource?.attributes, 'service.name')));
          }
    const unsampled = new Map(summary.unsampledTraces.map((t) => [t.traceId, new Set(t.spans)]));
    let withContext = 0;
    let inherited = 0;
    for (const rl of exported.flatMap((b) => b.resourceLogs)) {
      const resource = Object.fromEntries((rl.resource?.attributes ?? []).map((kv) => [kv.key, anyValueToString(kv.value)]));
      expect(resource['k8s.pod.name']).toBe('app-pod-1');
      for (const r of rl.scopeLogs.flatMap((sl) => sl.logRecords)) {
        if (!r.traceId) continue;
        withContext++;
        const t = idToHex(r.traceId);
        const s = idToHex(r.spanId);
        if (unsampled.has(t)) {
          expect(unsampled.get(t)!.has(s)).toBe(true);
          continue;
        }
        expect(spansByTrace.get(t)?.has(s), `${t}/${s}`).toBe(true);
        expect(resource['service.name']).toBe(spanService.get(t));
        if (resource['service.version'] === '1.2.3') {
          expect(resource['deployment.environment.name']).toBe('e2e');
          inherited++;
        }
      }
    }
    expect(withContext).toBe(summary.logsWithContext);
    // The second half was read after the spans arrived: those records took the span resource.
    expect(inherited).toBeGreaterThan(0);
  });

  it('gives the debug API document of a trace exactly its spans and its logs', () => {
    const errored = summary.traces[4];
    const doc = traceDocument(correlation.index.get(errored.traceId)!) as { spans: { spanId: string }[]; logs: { body: string; spanId: string }[]; error: boolean; errorLogs: number };
    expect(doc.spans.map((s) => s.spanId).sort()).toEqual([...errored.spans].sort());
    expect(doc.logs).toHaveLength(errored.logs);
    expect(doc.logs.map((l) => l.body)).toEqual(['request received', 'querying orders', 'order not found']);
    expect(doc).toMatchObject({ error: true, errorLogs: 1 });
  });
  it('counts matched and no_context at once, unmatched when the window ends', async () => {
    const sampledLogs = summary.logsWithContext - summary.unmatchedLogs;
    expect(await counter('tracetail_correlation_log_records_total')).toEqual({ matched: sampledLogs, unmatched: 0, no_context: summary.logsWithoutContext });
    now += 61_000;
    correlation.index.sweep();
    expect(await counter('tracetail_correlation_log_records_total')).toEqual({ matched: sampledLogs, unmatched: summary.unmatchedLogs, no_context: summary.logsWithoutContext });
  });

});
