/**
 * Trace-aware log sampling in the built CLI. Traces made by the real OpenTelemetry JS SDK (a
 * BatchSpanProcessor exporting OTLP/HTTP protobuf to the CLI's receiver) and their log lines
 * written to a tailed file: every log of a failed or slow trace arrives at the collector, every
 * WARN arrives, and of the fast traces exactly those the SDK's own TraceIdRatioBasedSampler keeps
 * at the configured ratio; the decision counters add up to the lines written. A kill -9 while
 * records are held loses none of them.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TraceIdRatioBasedSampler, type Span } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { anyValueToString } from '../../src/otlp/values.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { scrape, sdkExport, sdkExporter, sumOf } from '../helpers/outage.js';
import { waitFor } from '../helpers/wait.js';

const RATIO = 0.1;
const DECISIONS = ['kept_error', 'kept_slow', 'kept_ratio', 'kept_level', 'kept_no_context', 'kept_overflow', 'dropped'];

interface AppTrace {
  traceId: string;
  kind: 'error' | 'slow' | 'fast';
  lines: string[];
  warn: string | null;
}

/** An app's tracer: the SDK's BasicTracerProvider with a BatchSpanProcessor over OTLP/HTTP protobuf. */
function tracerTo(otlp: string) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://${otlp}/v1/traces` }), { scheduledDelayMillis: 200, maxExportBatchSize: 64 })],
  });
  return { provider, tracer: provider.getTracer('sampling-e2e', '1.0.0') };
}

/** One trace: a server root and a child; its log lines written while it runs. Slow traces last 1.5 s by their timestamps. */
function makeTrace(tracer: ReturnType<BasicTracerProvider['getTracer']>, logFile: string, n: number, kind: AppTrace['kind'], withWarn: boolean): { t: AppTrace; end: () => void } {
  const start = Date.now() - 2000;
  const root = tracer.startSpan(`GET /orders/${n}`, { kind: SpanKind.SERVER, startTime: start });
  const child: Span = tracer.startSpan('charge', { kind: SpanKind.INTERNAL, startTime: start + 1 }, trace.setSpan(context.active(), root)) as Span;
  const { traceId, spanId } = root.spanContext();
  const lines: string[] = [];
  let out = '';
  for (let i = 0; i < 5; i++) {
    const msg = `trace ${n} line ${i}`;
    lines.push(msg);
    out += `${JSON.stringify({ level: 'info', msg, trace_id: traceId, span_id: spanId, trace_flags: '01' })}\n`;
  }
  const warn = withWarn ? `trace ${n} warning` : null;
  if (warn) out += `${JSON.stringify({ level: 'warn', msg: warn, trace_id: traceId, span_id: spanId, trace_flags: '01' })}\n`;
  appendFileSync(logFile, out);
  return {
    t: { traceId, kind, lines, warn },
    end: () => {
      if (kind === 'error') child.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
      child.end(start + 5);
      root.end(kind === 'slow' ? start + 1500 : start + 20);
    },
  };
}

const bodies = (collector: TestCollector) => collector.logRecords().map((r) => anyValueToString(r.body));

describe('trace-aware log sampling in the built CLI', () => {
  const running: CliProcess[] = [];
  const collectors: TestCollector[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await Promise.all(collectors.splice(0).map((c) => c.close()));
  });

  async function start(dir: string, collector: TestCollector, sampling: Record<string, unknown>): Promise<{ cli: CliProcess; otlp: string }> {
    const cli = await startCli({
      dir,
      config: testConfig(dir, {
        service: { name: 'checkout' },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
        export: { otlp: { endpoint: collector.url }, batch: { timeout: '100ms' } },
        logs: { sampling: { enabled: true, ...sampling } },
      }),
    });
    running.push(cli);
    return { cli, otlp: await cli.waitForEndpoint('receivers.otlp.http.endpoint') };
  }

  it('keeps every log of failed and slow traces, every WARN, and the fast traces the SDK ratio sampler keeps', async () => {
    const collector = await TestCollector.start();
    collectors.push(collector);
    const dir = tempDir('tracetail-e2e-sampling-');
    mkdirSync(join(dir, 'logs'));
    const logFile = join(dir, 'logs', 'app.log');
    appendFileSync(logFile, `${JSON.stringify({ level: 'info', msg: 'starting' })}\n`);
    const { cli, otlp } = await start(dir, collector, { ratio: RATIO, slow_threshold: '1s', decision_wait: '30s' });
    const { provider, tracer } = tracerTo(otlp);

    const traces: AppTrace[] = [];
    for (let n = 0; n < 200; n++) {
      const kind = n % 10 === 0 ? 'error' : n % 10 === 5 ? 'slow' : 'fast';
      const { t, end } = makeTrace(tracer, logFile, n, kind, n % 7 === 0);
      traces.push(t);
      end();
    }
    await provider.forceFlush();
    await provider.shutdown();
    const written = 1 + traces.reduce((n, t) => n + t.lines.length + (t.warn ? 1 : 0), 0);

    // Every record decided: the counters add up to the lines written.
    await waitFor(async () => DECISIONS.reduce(async (n, d) => (await n) + sumOf(await scrape(cli), 'tracetail_log_sampling_records_total', { decision: d }), Promise.resolve(0)).then((n) => n === written), {
      timeoutMs: 45_000,
      intervalMs: 200,
      what: 'every record decided',
    });
    const sdk = new TraceIdRatioBasedSampler(RATIO);
    const ratioKeeps = (id: string) => sdk.shouldSample(context.active(), id).decision === SamplingDecision.RECORD_AND_SAMPLED;
    const expected = new Set<string>(['starting']);
    for (const t of traces) {
      if (t.warn) expected.add(t.warn);
      if (t.kind !== 'fast' || ratioKeeps(t.traceId)) for (const l of t.lines) expected.add(l);
    }
    await collector.waitForItems('logs', expected.size, 30_000);
    await waitFor(async () => sumOf(await scrape(cli), 'tracetail_export_queue_bytes', { signal: 'logs' }) === 0, { timeoutMs: 20_000, what: 'the logs queue drained' });

    const got = bodies(collector);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(expected);
    const fastKept = traces.filter((t) => t.kind === 'fast' && ratioKeeps(t.traceId)).length;
    const fast = traces.filter((t) => t.kind === 'fast').length;
    // Not a vacuous ratio: some fast traces are kept and most are not.
    expect(fastKept).toBeGreaterThan(0);
    expect(fastKept).toBeLessThan(fast / 2);

    const body = await scrape(cli);
    const count = (d: string) => sumOf(body, 'tracetail_log_sampling_records_total', { decision: d });
    expect(count('kept_error')).toBe(20 * 5);
    expect(count('kept_slow')).toBe(20 * 5);
    expect(count('kept_ratio')).toBe(fastKept * 5);
    expect(count('kept_level')).toBe(traces.filter((t) => t.warn).length);
    expect(count('kept_no_context')).toBe(1);
    expect(count('kept_overflow')).toBe(0);
    expect(count('dropped')).toBe((fast - fastKept) * 5);
    expect(sumOf(body, 'tracetail_log_sampling_held_records')).toBe(0);
    // Metrics from logs still see every line.
    expect(sumOf(body, 'tracetail_log_records_total')).toBe(written);
  }, 120_000);

  it('loses no record held at a kill -9: they are read again and decided after the restart', async () => {
    const collector = await TestCollector.start();
    collectors.push(collector);
    const dir = tempDir('tracetail-e2e-sampling-crash-');
    mkdirSync(join(dir, 'logs'));
    const logFile = join(dir, 'logs', 'app.log');
    const sampling = { ratio: 1, decision_wait: '10m' };
    const first = await start(dir, collector, sampling);

    // The app runs its requests; their spans are not exported yet (the records wait for them).
    const finished = new InMemorySpanExporter();
    const appTracer = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), spanProcessors: [new SimpleSpanProcessor(finished)] }).getTracer('sampling-e2e');
    const pending = Array.from({ length: 30 }, (_, n) => makeTrace(appTracer, logFile, n, n % 3 === 0 ? 'error' : 'fast', n % 5 === 0));
    appendFileSync(logFile, `${JSON.stringify({ level: 'info', msg: 'no context' })}\n`);
    const held = pending.reduce((n, p) => n + p.t.lines.length, 0);
    await waitFor(async () => sumOf(await scrape(first.cli), 'tracetail_log_sampling_held_records') === held, { timeoutMs: 20_000, what: 'records held' });
    // What was not held is in the queue and on its way; the held ones are only in memory.
    await collector.waitForItems('logs', 1 + pending.filter((p) => p.t.warn).length, 20_000);
    first.cli.kill('SIGKILL');
    await first.cli.exited;
    running.splice(running.indexOf(first.cli), 1);

    const second = await start(dir, collector, sampling);
    await waitFor(async () => sumOf(await scrape(second.cli), 'tracetail_log_sampling_held_records') === held, { timeoutMs: 20_000, what: 'records held again after the restart' });
    // Now the traces end and the SDK's exporter sends their spans: the traces are decided.
    for (const p of pending) p.end();
    const sent = await sdkExport(sdkExporter(second.otlp), finished.getFinishedSpans());
    expect(sent.ok, String(sent.error)).toBe(true);

    const want = new Set(['no context', ...pending.flatMap((p) => [...p.t.lines, ...(p.t.warn ? [p.t.warn] : [])])]);
    await waitFor(() => want.size === new Set(bodies(collector)).size && [...want].every((b) => bodies(collector).includes(b)), { timeoutMs: 30_000, what: 'every record at the collector' });
    expect(new Set(bodies(collector))).toEqual(want);
  }, 120_000);
});
