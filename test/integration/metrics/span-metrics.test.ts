import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsHarness, promtoolProblems, sampleValue, samples } from '../../helpers/metrics-harness.js';
import type { TraceBatch } from '../../../src/pipeline/batches.js';
import { SdkSource, SpanKind } from '../../helpers/otel-batches.js';
import { requireTool } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

const hasPromtool = requireTool('promtool');

describe('span metrics', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  it('counts calls and durations by service, name, kind and status, with trace exemplars', async () => {
    h = await new MetricsHarness().start();
    const app = new SdkSource('checkout');
    for (let i = 0; i < 8; i++) app.span({ name: 'GET /cart', durationMs: 30 });
    for (let i = 0; i < 2; i++) app.span({ name: 'GET /cart', durationMs: 300, error: true });
    app.span({ name: 'SELECT carts', kind: SpanKind.CLIENT, durationMs: 5 });
    await h.traces.consume(app.takeTraceBatch());
    expect(h.queuedItems('traces')).toBe(11); // durable first, counted after

    const { body, contentType } = await h.scrape('text');
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const calls = 'traces_span_metrics_calls_total';
    const ok = { service_name: 'checkout', span_name: 'GET /cart', span_kind: 'SPAN_KIND_SERVER', status_code: 'STATUS_CODE_UNSET' };
    expect(sampleValue(body, calls, ok)).toBe(8);
    expect(sampleValue(body, calls, { ...ok, status_code: 'STATUS_CODE_ERROR' })).toBe(2);
    expect(sampleValue(body, calls, { span_name: 'SELECT carts', span_kind: 'SPAN_KIND_CLIENT' })).toBe(1);
    const dur = 'traces_span_metrics_duration_seconds';
    expect(sampleValue(body, `${dur}_count`, ok)).toBe(8);
    expect(sampleValue(body, `${dur}_sum`, ok)).toBeCloseTo(0.24, 6);
    expect(sampleValue(body, `${dur}_bucket`, { ...ok, le: '0.01' })).toBe(0);
    expect(sampleValue(body, `${dur}_bucket`, { ...ok, le: '0.05' })).toBe(8);
    expect(sampleValue(body, `${dur}_bucket`, { ...ok, status_code: 'STATUS_CODE_ERROR', le: '0.2' })).toBe(0);
    expect(sampleValue(body, `${dur}_bucket`, { ...ok, status_code: 'STATUS_CODE_ERROR', le: '0.4' })).toBe(2);
    expect(sampleValue(body, `${dur}_bucket`, { ...ok, le: '+Inf' })).toBe(8);
    expect(body).not.toContain('trace_id=');
    expect(sampleValue(body, 'tracetail_component_received_items_total', { component: 'span_metrics' })).toBe(11);

    const om = await h.scrape('openmetrics');
    expect(om.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toContain('# TYPE traces_span_metrics_calls counter');
    const withExemplar = samples(om.body, calls).filter((s) => s.exemplar);
    expect(withExemplar.length).toBe(3);
    for (const s of [...withExemplar, ...samples(om.body, `${dur}_bucket`).filter((b) => b.exemplar)]) {
      const m = /^\{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} (\S+) (\d+(?:\.\d+)?)$/.exec(s.exemplar!);
      expect(m, s.exemplar).not.toBeNull();
      expect(app.sentTraceIds.has(m![1])).toBe(true);
    }
    // The error series' latency exemplar sits in the bucket of its value.
    const errBucket = samples(om.body, `${dur}_bucket`).find((s) => s.labels.status_code === 'STATUS_CODE_ERROR' && s.labels.le === '0.4');
    expect(errBucket?.exemplar).toMatch(/\} 0\.3 /);
  });

  it('counts a span once when an SDK retries a request that was already accepted', async () => {
    h = await new MetricsHarness().start();
    const app = new SdkSource('checkout');
    for (let i = 0; i < 5; i++) app.span({ name: 'POST /pay', durationMs: 10 });
    const batch = app.takeTraceBatch();
    await h.traces.consume(batch);
    await h.traces.consume(batch); // the retry: exported again (at least once), counted once
    const { body } = await h.scrape();
    expect(sampleValue(body, 'traces_span_metrics_calls_total', { span_name: 'POST /pay' })).toBe(5);
    expect(h.queuedItems('traces')).toBe(10);
    expect(sampleValue(body, 'tracetail_component_discarded_items_total', { component: 'span_metrics', reason: 'duplicate', intentional: 'true' })).toBe(5);
  });

  it('never fails a durable batch: a batch it cannot read is counted as an error', async () => {
    h = await new MetricsHarness().start();
    const broken = { resourceSpans: [{ resource: null, scopeSpans: null }], transport: 'http' } as unknown as TraceBatch;
    await expect(h.traces.consume(broken)).resolves.toBeUndefined();
    const { body } = await h.scrape();
    expect(sampleValue(body, 'tracetail_component_errors_total', { component: 'span_metrics', stage: 'processing' })).toBe(1);
  });

  it('forgets span ids past dedupe_max_spans and counts the early evictions', async () => {
    h = await new MetricsHarness().start({ metrics: { span_metrics: { dedupe_max_spans: 3 } } });
    const app = new SdkSource('checkout');
    for (let i = 0; i < 5; i++) app.span({ name: 'op', durationMs: 1 });
    await h.traces.consume(app.takeTraceBatch());
    const { body } = await h.scrape();
    expect(sampleValue(body, 'tracetail_span_dedupe_evictions_total', { reason: 'capacity' })).toBe(2);
  });

  it('adds configured dimensions from span or resource attributes', async () => {
    h = await new MetricsHarness().start({ metrics: { span_metrics: { dimensions: ['http.route', 'deployment.environment'] } } });
    const app = new SdkSource('checkout', { 'deployment.environment': 'prod' });
    app.span({ name: 'GET', durationMs: 1, attributes: { 'http.route': '/cart/:id' } });
    app.span({ name: 'GET', durationMs: 1 });
    await h.traces.consume(app.takeTraceBatch());
    const { body } = await h.scrape();
    const calls = samples(body, 'traces_span_metrics_calls_total');
    expect(calls.map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ http_route: '/cart/:id', deployment_environment: 'prod' }),
        { service_name: 'checkout', span_name: 'GET', span_kind: 'SPAN_KIND_SERVER', status_code: 'STATUS_CODE_UNSET', deployment_environment: 'prod' },
      ]),
    );
  });

  it('switches to Tempo names on reload and leaves no stale families', async () => {
    h = await new MetricsHarness().start();
    const app = new SdkSource('checkout');
    app.span({ name: 'GET /', durationMs: 2 });
    await h.traces.consume(app.takeTraceBatch());
    h.build({ metrics: { span_metrics: { naming: 'tempo' } } });
    app.span({ name: 'GET /', durationMs: 2 });
    await h.traces.consume(app.takeTraceBatch());
    const { body } = await h.scrape();
    expect(body).not.toContain('traces_span_metrics_');
    expect(sampleValue(body, 'traces_spanmetrics_calls_total', { service: 'checkout', span_name: 'GET /' })).toBe(1);
    expect(sampleValue(body, 'traces_spanmetrics_latency_count', { service: 'checkout' })).toBe(1);
    expect(body).toContain('# TYPE traces_spanmetrics_latency histogram');
  });

  it('keeps counting across a reload with the same config', async () => {
    h = await new MetricsHarness().start();
    const app = new SdkSource('checkout');
    app.span({ name: 'GET /', durationMs: 2 });
    await h.traces.consume(app.takeTraceBatch());
    h.build({});
    app.span({ name: 'GET /', durationMs: 2 });
    await h.traces.consume(app.takeTraceBatch());
    expect(sampleValue((await h.scrape()).body, 'traces_span_metrics_calls_total', { span_name: 'GET /' })).toBe(2);
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics, exemplars and overflow series included, under load', async () => {
    h = await new MetricsHarness().start({ metrics: { max_series_per_metric: 50 } });
    const app = new SdkSource('checkout');
    let feeding = true;
    const feeder = (async () => {
      for (let round = 0; feeding && round < 400; round++) {
        for (let i = 0; i < 20; i++) app.span({ name: `op ${round % 100} ${i % 5}`, durationMs: i, error: i % 7 === 0 });
        await h.traces.consume(app.takeTraceBatch());
        app.log({ body: 'request completed', severityText: 'info', attributes: { route: `/r${round % 9}`, status: 200, duration_ms: 12 } });
        await h.logs.consume(app.takeLogBatch());
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let i = 0; i < 5; i++) {
        const { body } = await h.scrape('text');
        expect(promtoolProblems(body)).toBe('');
      }
    } finally {
      feeding = false;
      await feeder;
    }
    const { body } = await h.scrape('text');
    expect(body).toContain('otel_metric_overflow="true"');
    expect(promtoolProblems(body)).toBe('');
    // The OpenMetrics rendering of the same registry: promtool lints only the text format, so the
    // OpenMetrics output is checked by a real Prometheus scrape in the e2e test.
    expect((await h.scrape('openmetrics')).body).toMatch(/otel_metric_overflow="true".* # \{trace_id="[0-9a-f]{32}"/);
  });
});

/** A full garbage collection, so memory readings show what is live rather than what is not yet collected. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Live memory: the lowest of a few readings, each after a full collection (buffers of a request just served may still be held). */
async function memoryMiB(): Promise<{ rss: number; heap: number }> {
  let rss = Infinity;
  let heap = Infinity;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    const m = process.memoryUsage();
    rss = Math.min(rss, m.rss / 1024 / 1024);
    heap = Math.min(heap, m.heapUsed / 1024 / 1024);
  }
  return { rss, heap };
}

describe('cardinality budget', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  it('keeps 10,000 distinct span names within max_series_per_metric plus one overflow series, with flat RSS', async () => {
    // A small dedupe memory so that its own (bounded) growth is over after the first round; the
    // same for the correlation index, which keeps recent spans up to correlation.max_bytes.
    h = await new MetricsHarness().start({ metrics: { span_metrics: { dedupe_max_spans: 10_000 } }, correlation: { max_bytes: '1MiB' } });
    const budget = h.config.metrics.max_series_per_metric;
    const app = new SdkSource('checkout', {}, { trackTraceIds: false });
    const feed = async (round: number) => {
      for (let i = 0; i < 10_000; i += 500) {
        for (let j = i; j < i + 500; j++) app.span({ name: `GET /item/${round}-${j}`, durationMs: 3 });
        await h.traces.consume(app.takeTraceBatch());
      }
      await h.scrape();
    };
    await feed(0);
    let { body } = await h.scrape();
    const calls = samples(body, 'traces_span_metrics_calls_total');
    expect(calls.length).toBe(budget + 1);
    expect(calls.filter((s) => s.labels.otel_metric_overflow === 'true')).toEqual([{ labels: { otel_metric_overflow: 'true' }, value: 10_000 - budget, exemplar: undefined }]);
    expect(calls.reduce((n, s) => n + s.value, 0)).toBe(10_000);
    expect(samples(body, 'traces_span_metrics_duration_seconds_count').length).toBe(budget + 1);
    expect(sampleValue(body, 'tracetail_series_overflow_total', { metric: 'traces_span_metrics_calls_total' })).toBe(10_000 - budget);
    expect(sampleValue(body, 'tracetail_metric_series', { metric: 'traces_span_metrics_calls_total' })).toBe(budget);

    // Five more rounds of 10,000 new names each: without the budget every round adds about 55 MiB
    // of heap and 100 MiB of RSS (measured); with it the heap stays where it was. RSS moves with the
    // allocator and the other tests running beside this one, hence its wider margin.
    await feed(1);
    const before = await memoryMiB();
    for (let round = 2; round <= 6; round++) await feed(round);
    const after = await memoryMiB();
    ({ body } = await h.scrape());
    expect(samples(body, 'traces_span_metrics_calls_total').length).toBe(budget + 1);
    expect(sampleValue(body, 'tracetail_series_overflow_total', { metric: 'traces_span_metrics_calls_total' })).toBe(70_000 - budget);
    expect(after.heap - before.heap, `heap ${before.heap.toFixed(1)} -> ${after.heap.toFixed(1)} MiB`).toBeLessThan(5);
    expect(after.rss - before.rss, `RSS ${before.rss.toFixed(1)} -> ${after.rss.toFixed(1)} MiB`).toBeLessThan(40);
  });

  it('removes series idle for longer than series_idle_timeout, but not the pre-created ones', async () => {
    h = await new MetricsHarness().start({ metrics: { series_idle_timeout: '200ms' } });
    const app = new SdkSource('checkout');
    app.span({ name: 'GET /once', durationMs: 1 });
    await h.traces.consume(app.takeTraceBatch());
    expect(sampleValue((await h.scrape()).body, 'traces_span_metrics_calls_total', { span_name: 'GET /once' })).toBe(1);
    const body = await waitFor(
      async () => {
        const b = (await h.scrape()).body;
        return sampleValue(b, 'traces_span_metrics_calls_total', { span_name: 'GET /once' }) === undefined && b;
      },
      { what: 'the idle series to be removed' },
    );
    expect(sampleValue(body, 'tracetail_metric_series_removed_total', { metric: 'traces_span_metrics_calls_total' })).toBe(1);
    expect(sampleValue(body, 'tracetail_log_records_total', { service_name: 'checkout', severity: 'error', trace_context: 'present' })).toBe(0);
  });
});
