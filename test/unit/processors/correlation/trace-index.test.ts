import { SpanStatusCode } from '@opentelemetry/api';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { findAttribute, anyValueToString, idToHex } from '../../../../src/otlp/values.js';
import { ResourceInheritance } from '../../../../src/processors/correlation/resource-inheritance.js';
import { errorLogs, MAX_LOGS_PER_TRACE, MAX_SPANS_PER_TRACE, TraceIndex, type CorrelationResult, type EvictionReason } from '../../../../src/processors/correlation/trace-index.js';
import { loadConfig } from '../../../../src/config/load.js';
import { createLogger } from '../../../../src/logger.js';
import { Telemetry } from '../../../../src/metrics/telemetry.js';
import type { LogBatch } from '../../../../src/pipeline/batches.js';
import { Correlation } from '../../../../src/processors/correlation/correlation.js';
import { nanosToMs, nanosToString } from '../../../../src/processors/correlation/summaries.js';
import { encodeLogBatch, encodeTraceBatch } from '../../../../src/pipeline/encode.js';
import { logBatch, SpanRecorder } from '../../../helpers/otel.js';

function setup(options: { windowMs?: number; maxBytes?: number } = {}) {
  let now = 1_000_000;
  const results: Record<CorrelationResult, number> = { matched: 0, unmatched: 0, no_context: 0 };
  const evicted: Record<EvictionReason, number> = { expired: 0, memory: 0, shutdown: 0 };
  const index = new TraceIndex({
    windowMs: options.windowMs ?? 60_000,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
    now: () => now,
    onResults: (r) => {
      for (const k of Object.keys(r) as CorrelationResult[]) results[k] += r[k];
    },
    onEvicted: (reason, n) => (evicted[reason] += n),
  });
  return { index, results, evicted, advance: (ms: number) => (now += ms) };
}

describe('trace index: correlation results', () => {
  it('counts a log whose trace has spans as matched, and a log without context as no_context', () => {
    const { index, results } = setup();
    const app = new SpanRecorder();
    const span = app.start('GET /orders');
    span.end();
    index.addSpans(app.takeBatch());
    index.addLogs(logBatch([{ body: 'inside', span }, { body: 'no context' }]));
    expect(results).toEqual({ matched: 1, unmatched: 0, no_context: 1 });
    const entry = index.get(span.spanContext().traceId)!;
    expect(entry.spans.map((s) => s.name)).toEqual(['GET /orders']);
    expect(entry.logs.map((l) => l.body)).toEqual(['inside']);
  });

  it('matches a log whose span arrives after it, when the span arrives', () => {
    const { index, results } = setup();
    const app = new SpanRecorder();
    const span = app.start('slow job');
    index.addLogs(logBatch([{ body: 'started', span }, { body: 'still going', span }]));
    expect(results).toEqual({ matched: 0, unmatched: 0, no_context: 0 });
    span.end();
    index.addSpans(app.takeBatch());
    expect(results).toEqual({ matched: 2, unmatched: 0, no_context: 0 });
    // A later log of the same trace is matched at once, and the earlier ones are not counted twice.
    index.addLogs(logBatch([{ body: 'after', span }]));
    expect(results).toEqual({ matched: 3, unmatched: 0, no_context: 0 });
  });

  it('has span resources to give only once a span was kept, not while it holds logs alone', () => {
    const { index } = setup();
    const app = new SpanRecorder();
    const span = app.start('GET /orders');
    index.addLogs(logBatch([{ body: 'before its span', span }]));
    expect(index.size).toBe(1);
    expect(index.hasSpanResources).toBe(false);
    span.end();
    index.addSpans(app.takeBatch());
    expect(index.hasSpanResources).toBe(true);
  });

  it('keeps traces in order of their last activity, a trace touched twice in a row included', () => {
    const { index, evicted, advance } = setup({ windowMs: 30_000 });
    const app = new SpanRecorder();
    const [x, y] = [app.start('x'), app.start('y')];
    index.addLogs(logBatch([{ body: 'x1', span: x }]));
    advance(10_000);
    index.addLogs(logBatch([{ body: 'y1', span: y }, { body: 'y2', span: y }]));
    advance(10_000);
    index.addLogs(logBatch([{ body: 'x2', span: x }, { body: 'x3', span: x }]));
    advance(25_000);
    index.sweep();
    // y was last active 10 s before x: it alone expired, although x came first.
    expect(evicted.expired).toBe(1);
    expect(index.get(y.spanContext().traceId)).toBeUndefined();
    expect(index.get(x.spanContext().traceId)?.logs.map((l) => l.body)).toEqual(['x1', 'x2', 'x3']);
  });

  it('counts a log whose trace saw no span within the window as unmatched when the window ends', () => {
    const { index, results, evicted, advance } = setup({ windowMs: 30_000 });
    const app = new SpanRecorder();
    const unsampled = app.start('never exported');
    index.addLogs(logBatch([{ body: 'orphan', span: unsampled }]));
    advance(29_000);
    index.sweep();
    expect(results.unmatched).toBe(0);
    advance(2_000);
    index.sweep();
    expect(results).toEqual({ matched: 0, unmatched: 1, no_context: 0 });
    expect(evicted.expired).toBe(1);
    expect(index.get(unsampled.spanContext().traceId)).toBeUndefined();
  });

  it('counts pending logs as unmatched when the index is cleared at shutdown', () => {
    const { index, results, evicted } = setup();
    index.addLogs(logBatch([{ body: 'x', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }]));
    index.clear();
    expect(results.unmatched).toBe(1);
    expect(evicted.shutdown).toBe(1);
    expect(index.size).toBe(0);
  });

  it('joins a Datadog decimal (zero-high) trace id with the full OTel trace id of its spans', () => {
    const { index, results } = setup();
    const app = new SpanRecorder();
    const span = app.start('GET /charge');
    const full = span.spanContext().traceId;
    const low64Only = '0000000000000000' + full.slice(16);
    index.addLogs(logBatch([{ body: 'logged with dd.trace_id', traceId: low64Only }]));
    span.end();
    index.addSpans(app.takeBatch());
    expect(results.matched).toBe(1);
    expect(index.get(full)!.logs.map((l) => l.body)).toEqual(['logged with dd.trace_id']);
    expect(index.get(low64Only)).toBe(index.get(full));
    // Later logs with the low 64 bits alone match at once.
    index.addLogs(logBatch([{ body: 'again', traceId: low64Only }]));
    expect(results.matched).toBe(2);
    expect(index.get(full)!.logs).toHaveLength(2);
  });

  it('matches a zero-high log that arrives after the spans of its trace, and forgets the trace when it leaves', () => {
    const { index, results, advance } = setup({ windowMs: 10_000 });
    const app = new SpanRecorder();
    const span = app.start('GET /refund');
    span.end();
    index.addSpans(app.takeBatch());
    const full = span.spanContext().traceId;
    const low64Only = '0000000000000000' + full.slice(16);
    index.addLogs(logBatch([{ body: 'dd log after the span', traceId: low64Only }]));
    expect(results.matched).toBe(1);
    expect(index.get(full)!.logs.map((l) => l.body)).toEqual(['dd log after the span']);
    advance(11_000);
    index.sweep();
    expect(index.size).toBe(0);
    // The id is no longer resolved to the trace that left: its logs start a trace of their own.
    expect(index.resolve(low64Only)).toBe(low64Only);
    index.addLogs(logBatch([{ body: 'later', traceId: low64Only }]));
    expect(index.get(low64Only)!.logs).toHaveLength(1);
    expect(results.matched).toBe(1);
  });

  it('keeps span and log times to the nanosecond', () => {
    const { index } = setup();
    const start = Long.fromString('1714564800123456789', true);
    const end = Long.fromString('1714564800987654321', true);
    const traceId = Buffer.alloc(16, 0x4b);
    const batch = {
      resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId, spanId: Buffer.alloc(8, 1), name: 'exact', startTimeUnixNano: start, endTimeUnixNano: end }] }] }],
      transport: 'http',
    };
    index.addSpans(batch);
    const log = logBatch([{ body: 'exact', traceId: traceId.toString('hex') }]);
    const time = Long.fromString('18446744073709551614', true);
    log.resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano = time;
    index.addLogs(log);
    const entry = index.get(traceId.toString('hex'))!;
    expect(nanosToString(entry.spans[0].start)).toBe('1714564800123456789');
    expect(nanosToString(entry.spans[0].end)).toBe('1714564800987654321');
    expect(entry.spans[0].startMs).toBe(nanosToMs(start));
    expect(nanosToString(entry.logs[0].time)).toBe('18446744073709551614');
    expect(entry.startMs).toBe(nanosToMs(start));
    expect(entry.endMs).toBe(nanosToMs(end));
  });

  it('counts error logs per trace and caps the logs kept per trace', () => {
    const { index } = setup();
    const app = new SpanRecorder();
    const span = app.start('bulk');
    span.end();
    index.addSpans(app.takeBatch());
    const logs = Array.from({ length: MAX_LOGS_PER_TRACE + 5 }, (_, i) => ({ body: `line ${i}`, span, severityNumber: i % 10 === 0 ? 17 : 9 }));
    index.addLogs(logBatch(logs));
    const entry = index.get(span.spanContext().traceId)!;
    expect(entry.logs).toHaveLength(MAX_LOGS_PER_TRACE);
    expect(entry.droppedLogs).toBe(5);
    expect(errorLogs(entry)).toBe(Math.ceil((MAX_LOGS_PER_TRACE + 5) / 10));
  });
});

describe('trace index: bounds', () => {
  it('evicts the least recently active traces first past max_bytes, and counts the evictions', () => {
    const { index, evicted, results } = setup({ maxBytes: 64 * 1024 });
    const app = new SpanRecorder();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const span = app.start(`request ${i}`);
      span.setAttribute('http.route', `/orders/${i}`);
      span.end();
      ids.push(span.spanContext().traceId);
      index.addSpans(app.takeBatch());
      index.addLogs(logBatch([{ body: `log of request ${i}`, span }]));
      expect(index.bytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(evicted.memory).toBeGreaterThan(50);
    expect(evicted.memory + index.size).toBe(200);
    // The traces held are the most recently active ones.
    expect(ids.map((id) => index.get(id) !== undefined)).toEqual(ids.map((_, i) => i >= 200 - index.size));
    expect(results.matched).toBe(200);
  });

  it('keeps a trace that is still active and lets idle ones expire', () => {
    const { index, advance } = setup({ windowMs: 10_000 });
    const app = new SpanRecorder();
    const busy = app.start('busy');
    const idle = app.start('idle');
    busy.end();
    idle.end();
    index.addSpans(app.takeBatch());
    advance(6_000);
    index.addLogs(logBatch([{ body: 'keeps it alive', span: busy }]));
    advance(6_000);
    index.sweep();
    expect(index.get(busy.spanContext().traceId)).toBeDefined();
    expect(index.get(idle.spanContext().traceId)).toBeUndefined();
  });
});

describe('trace index: queries', () => {
  it('lists recent traces with filters on service, status and duration', () => {
    const { index } = setup();
    const checkout = new SpanRecorder({ 'service.name': 'checkout' });
    const billing = new SpanRecorder({ 'service.name': 'billing' });
    const t0 = Date.now();
    const fast = checkout.start('fast', undefined, { startTime: t0 });
    fast.end(t0 + 5);
    const slow = checkout.start('slow', undefined, { startTime: t0 });
    slow.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    slow.end(t0 + 900);
    const other = billing.start('charge', undefined, { startTime: t0 });
    other.end(t0 + 50);
    index.addSpans(checkout.takeBatch());
    index.addSpans(billing.takeBatch());
    index.addLogs(logBatch([{ body: 'warned', span: other, severityNumber: 17, severityText: 'ERROR' }], { 'service.name': 'billing' }));

    const names = (q: Parameters<TraceIndex['query']>[0]) => index.query(q).map((e) => e.spans[0].name);
    expect(names({ limit: 10 })).toEqual(['charge', 'slow', 'fast']);
    expect(names({ limit: 1 })).toEqual(['charge']);
    expect(names({ limit: 10, service: 'checkout' })).toEqual(['slow', 'fast']);
    expect(names({ limit: 10, status: 'error' })).toEqual(['charge', 'slow']);
    expect(names({ limit: 10, status: 'ok' })).toEqual(['fast']);
    expect(names({ limit: 10, minDurationMs: 40 })).toEqual(['charge', 'slow']);
  });
});

describe('resource inheritance', () => {
  const spanResource = { 'service.name': 'checkout', 'service.version': '2.3.1', 'deployment.environment.name': 'prod', 'k8s.pod.name': 'from-span' };

  /** An index that has seen one ended span (of `spanResource`); the app to start more. */
  function indexWithSpan() {
    const { index } = setup();
    const app = new SpanRecorder(spanResource);
    const span = app.start('GET /');
    span.end();
    index.addSpans(app.takeBatch());
    return { index, app, span };
  }

  function attrs(batch: ReturnType<typeof logBatch>, i = 0): Record<string, string> {
    return Object.fromEntries((batch.resourceLogs[i].resource?.attributes ?? []).map((kv) => [kv.key, anyValueToString(kv.value)]));
  }

  it("adds the attributes a file log's resource lacks from its trace's span resource, keeping its own", () => {
    const { index, span } = indexWithSpan();
    const p = new ResourceInheritance(index);
    const out = p.process(logBatch([{ body: 'x', span }], { 'service.name': 'checkout', 'k8s.pod.name': 'from-env' }));
    expect(attrs(out)).toEqual({ 'service.name': 'checkout', 'k8s.pod.name': 'from-env', 'service.version': '2.3.1', 'deployment.environment.name': 'prod' });
    // Idempotent: a retried batch gains nothing more.
    expect(attrs(p.process(out))).toEqual(attrs(out));
  });

  it('replaces an unknown_service name with the span service, and uses the service resource before the trace arrives', () => {
    const { index, app } = indexWithSpan();
    const p = new ResourceInheritance(index);
    const pending = app.start('not ended yet');
    const out = p.process(logBatch([{ body: 'y', span: pending }], { 'service.name': 'unknown_service' }));
    expect(attrs(out)['service.name']).toBe('checkout');
    expect(attrs(out)['service.version']).toBe('2.3.1');
  });

  it('splits records that inherit from different span resources', () => {
    const { index } = setup();
    const a = new SpanRecorder({ 'service.name': 'worker', 'service.version': '1' });
    const b = new SpanRecorder({ 'service.name': 'worker', 'service.version': '2' });
    const sa = a.start('a');
    const sb = b.start('b');
    sa.end();
    sb.end();
    index.addSpans(a.takeBatch());
    index.addSpans(b.takeBatch());
    const out = new ResourceInheritance(index).process(logBatch([{ body: '1', span: sa }, { body: '2', span: sb }, { body: '3', span: sa }], { 'service.name': 'worker' }));
    expect(out.resourceLogs).toHaveLength(2);
    const byVersion = Object.fromEntries(
      out.resourceLogs.map((rl) => [
        anyValueToString(findAttribute(rl.resource?.attributes, 'service.version')),
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => anyValueToString(r.body))),
      ]),
    );
    expect(byVersion).toEqual({ '1': ['1', '3'], '2': ['2'] });
  });

  it('leaves logs received over OTLP as they are', () => {
    const { index, span } = indexWithSpan();
    const batch = logBatch([{ body: 'x', span }], { 'service.name': 'unknown_service' }, 'http');
    expect(new ResourceInheritance(index).process(batch)).toBe(batch);
  });

  it('gives a zero-high Datadog trace id its full 128-bit id once the spans are known', () => {
    const { index, span } = indexWithSpan();
    const full = span.spanContext().traceId;
    const out = new ResourceInheritance(index).process(logBatch([{ body: 'dd', traceId: '0000000000000000' + full.slice(16) }]));
    expect(idToHex(out.resourceLogs[0].scopeLogs[0].logRecords[0].traceId)).toBe(full);
  });
});

describe('correlation stages never cost a batch', () => {
  it('the resource processor passes a batch it cannot read on as it came, and counts the error', async () => {
    const { index } = setup();
    const app = new SpanRecorder();
    const span = app.start('x');
    span.end();
    index.addSpans(app.takeBatch());
    const telemetry = new Telemetry({ processMetrics: false });
    const p = new ResourceInheritance(index, { telemetry, log: createLogger('silent') });
    const broken = { resourceLogs: [{ resource: null, scopeLogs: [{ logRecords: [null] }] }], transport: 'file' } as unknown as LogBatch;
    expect(p.process(broken)).toBe(broken);
    const errors = await telemetry.registry.getSingleMetric('tracetail_component_errors_total')!.get();
    expect(errors.values.find((v) => v.labels.component === 'correlation_resource')?.value).toBe(1);
  });

  it('the index observers count what they could not read instead of throwing, and items over the per-trace limit', async () => {
    const telemetry = new Telemetry({ processMetrics: false });
    const config = loadConfig({ env: {} });
    const c = new Correlation({ config, log: createLogger('silent'), telemetry });
    expect(() => c.logObserver.observe({ resourceLogs: [null], transport: 'file' } as unknown as LogBatch)).not.toThrow();
    const app = new SpanRecorder();
    const root = app.start('root');
    for (let i = 0; i < MAX_SPANS_PER_TRACE + 3; i++) app.start(`child ${i}`, root).end();
    root.end();
    c.traceObserver.observe(app.takeBatch());
    const value = async (name: string, labels: Record<string, string>) =>
      (await telemetry.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    expect(await value('tracetail_component_errors_total', { component: 'correlation_logs' })).toBe(1);
    expect(await value('tracetail_component_received_items_total', { component: 'correlation_spans' })).toBe(MAX_SPANS_PER_TRACE + 4);
    expect(await value('tracetail_component_discarded_items_total', { component: 'correlation_spans', reason: 'over_trace_limit' })).toBe(4);
  });
});

describe('trace index: table and ring', () => {
  it.each([256 * 1024, 2 * 1024 * 1024])('finds every trace it holds through heavy churn (max_bytes %i: table growth, eviction and removal)', (maxBytes) => {
    // Rows are evicted by memory, others expire; a model says what must be held.
    const { index, advance } = setup({ maxBytes, windowMs: 50_000 });
    const model = new Map<string, number>();
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const ids = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? '0000000000000000' : (i + 1).toString(16).padStart(16, 'a')) + Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0'));
    let t = 0;
    for (let step = 0; step < 20_000; step++) {
      const id = ids[Math.floor(random() * ids.length)];
      index.addLogs(logBatch([{ body: `log ${step}`, traceId: id, spanId: '00f067aa0ba902b7' }]));
      model.set(id, t);
      if (index.get(id)?.id !== id) throw new Error(`step ${step}: trace ${id} not found right after its log`);
      advance(10);
      t += 10;
    }
    // Held: the most recently active traces, as many as fit, none idle past the window.
    const byRecency = [...model.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
    const held = byRecency.filter((id) => index.get(id) !== undefined);
    expect(held.length).toBe(index.size);
    expect(byRecency.slice(0, index.size)).toEqual(held);
    for (const id of held) expect(index.get(id)!.id).toBe(id);
    expect(index.size).toBeGreaterThan(maxBytes / 2000);
    expect(index.bytes).toBeLessThanOrEqual(maxBytes);
  });

  it('keeps items of an encoded batch as the bytes of the encoding, the same as it would encode them itself', () => {
    const app = new SpanRecorder();
    const span = app.start('GET /orders');
    span.setAttribute('http.route', '/orders');
    span.end();
    const spans = app.takeBatch();
    const logs = logBatch([{ body: 'inside', span, severityNumber: 13, severityText: 'WARN' }]);
    const plain = setup();
    plain.index.addSpans(spans);
    plain.index.addLogs(logs);
    const encoded = setup();
    encoded.index.addSpans(encodeTraceBatch(spans));
    encoded.index.addLogs(encodeLogBatch(logs));
    const id = span.spanContext().traceId;
    const view = (e: ReturnType<TraceIndex['get']>) => ({ ...e, lastActivity: 0 });
    expect(view(encoded.index.get(id))).toEqual(view(plain.index.get(id)));
    expect(encoded.index.get(id)!.spans[0].attributes).toContain('/orders');
    expect(encoded.index.get(id)!.logs[0].body).toBe('inside');
  });

  it('shows of a trace the items the ring still holds, and counts the others as dropped', () => {
    const { index } = setup({ maxBytes: 64 * 1024 });
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    for (let i = 0; i < 400; i++) index.addLogs(logBatch([{ body: `line ${i} ${'x'.repeat(100)}`, traceId: id }]));
    const entry = index.get(id)!;
    expect(entry.logCounts.reduce((a, b) => a + b, 0)).toBe(400);
    expect(entry.logs.length).toBeGreaterThan(50);
    expect(entry.logs.length).toBeLessThan(400);
    expect(entry.droppedLogs).toBe(400 - entry.logs.length);
    // The newest ones, in order.
    expect(entry.logs.map((l) => l.body.split(' ')[1])).toEqual(Array.from({ length: entry.logs.length }, (_, i) => String(400 - entry.logs.length + i)));
  });
});
