/**
 * A real Prometheus scrapes tracetail's /metrics (OpenMetrics, exemplar storage on) while spans
 * made by the real OTel SDK and log records go through the metrics pipelines; the assertions are
 * PromQL through Prometheus's HTTP API: request rate, error ratio, p95 latency, stored exemplars
 * with the trace ids that were sent, a user rule's series, and a clean scrape (Prometheus's
 * OpenMetrics parser is strict: one bad line fails the whole scrape).
 *
 * The `Source` below feeds the in-process pipelines; driving the built CLI through its OTLP
 * receiver and a tailed log file only changes how `sendSpans`/`sendLogs` deliver.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsHarness, withFixtureRules } from '../helpers/metrics-harness.js';
import { SdkSource } from '../helpers/otel-batches.js';
import { Prometheus, type PromSample } from '../helpers/prometheus.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const hasPrometheus = requireTool('prometheus');

const CART = 'span_name="GET /cart"';
const CALLS = 'traces_span_metrics_calls_total';

describe.skipIf(!hasPrometheus)('Prometheus scraping tracetail', () => {
  let sidecar: MetricsHarness;
  let prom: Prometheus;
  const app = new SdkSource('checkout');
  const startedAt = Date.now() / 1000;

  const sendSpans = () => sidecar.traces.consume(app.takeTraceBatch());
  const sendLogs = () => sidecar.logs.consume(app.takeLogBatch());

  /** One wave of traffic on GET /cart: `ok` fast calls (30 ms), `failed` slow errors (300 ms), their logs. */
  async function wave(ok: number, failed: number): Promise<void> {
    for (let i = 0; i < ok; i++) {
      const span = app.span({ name: 'GET /cart', durationMs: 30 });
      app.log({ body: 'request completed', severityNumber: SeverityNumber.INFO, attributes: { route: '/cart', status: 200, duration_ms: 30, bytes: 512 }, span });
    }
    for (let i = 0; i < failed; i++) {
      const span = app.span({ name: 'GET /cart', durationMs: 300, error: true });
      app.log({ body: 'request completed', severityNumber: SeverityNumber.ERROR, attributes: { route: '/cart', status: 500, duration_ms: 300, bytes: 20 }, span });
      app.log({ body: 'payment via stripe failed: card_declined', severityNumber: SeverityNumber.ERROR, span });
    }
    await sendSpans();
    await sendLogs();
  }

  beforeAll(async () => {
    // A small budget so the scrape also carries overflow series.
    sidecar = await new MetricsHarness().start(withFixtureRules({ metrics: { max_series_per_metric: 30 } }));
    prom = await new Prometheus().start([sidecar.address]);
    await waitFor(async () => (await prom.value('up{job="tracetail"}')) === 1, { timeoutMs: 30_000, intervalMs: 250, what: 'the first scrape' });
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await sidecar?.stop();
  });

  it('answers rate, error ratio and p95 queries with the values the traffic implies', { timeout: 120_000 }, async () => {
    // Wave 1 creates the series; the rates are measured over wave 2 alone, between the last scrape
    // that saw wave 1 and the first that saw wave 2.
    await wave(8, 2);
    for (let i = 0; i < 40; i++) app.span({ name: `GET /item/${i}`, durationMs: 1 });
    await sendSpans();
    const total = `sum(${CALLS}{${CART}})`;
    await waitFor(async () => (await prom.value(total)) === 10, { timeoutMs: 30_000, intervalMs: 250, what: 'wave 1 in Prometheus' });
    await wave(80, 20);
    await waitFor(async () => (await prom.value(total)) === 110, { timeoutMs: 30_000, intervalMs: 250, what: 'wave 2 in Prometheus' });

    // The scrapes around wave 2: the last that saw a series at `before` and the first at `after`.
    // A range from one to the other holds exactly those two samples.
    const around = async (series: string, before: number, after: number) => {
      const [raw] = await prom.query(`${series}[5m]`);
      const values = (raw as PromSample).values!.map(([t, v]) => [Number(t), Number(v)] as const);
      const t1 = values.filter(([, v]) => v === before).at(-1)![0];
      const t2 = values.find(([, v]) => v === after)![0];
      const ms = Math.round((t2 - t1) * 1000);
      return { t2, window: `[${ms}ms]`, seconds: ms / 1000 };
    };
    const { t2, window, seconds } = await around(`${CALLS}{${CART},status_code="STATUS_CODE_UNSET"}`, 8, 88);
    // A range that starts and ends on the two samples: Prometheus does not extrapolate.
    expect(await prom.value(`sum(rate(${CALLS}{${CART}}${window}))`, t2)).toBeCloseTo(100 / seconds, 6);
    expect(await prom.value(`sum(rate(${CALLS}{${CART},status_code="STATUS_CODE_ERROR"}${window})) / sum(rate(${CALLS}{${CART}}${window}))`, t2)).toBeCloseTo(0.2, 9);
    // 80 calls in (0.01, 0.05], 20 in (0.2, 0.4]: the 95th is 15/20 of the way through the second.
    expect(await prom.value(`histogram_quantile(0.95, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket{${CART}}${window})))`, t2)).toBeCloseTo(0.35, 9);
    expect(await prom.value(`histogram_quantile(0.5, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket{${CART}}${window})))`, t2)).toBeCloseTo(0.01 + 0.04 * (50 / 80), 9);

    // The user rule from the fixture, from the same log records.
    expect(await prom.value('app_http_requests_total{route="/cart",status_code="200"}')).toBe(88);
    expect(await prom.value('app_http_requests_total{route="/cart",status_code="500"}')).toBe(22);
    expect(await prom.value('app_payment_failures_total{provider="stripe",reason="card_declined"}')).toBe(22);
    const rule = await around('app_http_request_duration_seconds_count{route="/cart"}', 10, 110);
    expect(await prom.value(`histogram_quantile(0.95, sum by (le) (rate(app_http_request_duration_seconds_bucket{route="/cart"}${rule.window})))`, rule.t2)).toBeCloseTo(
      0.25 + 0.25 * (15 / 20),
      9,
    );
    expect(await prom.value('tracetail_log_records_total{service_name="checkout",severity="error",trace_context="present"}')).toBe(44);

    // Past the budget of 30: one overflow series holds the rest.
    expect(await prom.value('count(traces_span_metrics_calls_total)')).toBe(31);
    expect(await prom.value('traces_span_metrics_calls_total{otel_metric_overflow="true"}')).toBe(40 - 28);
    expect(await prom.value('tracetail_series_overflow_total{metric="traces_span_metrics_calls_total"}')).toBe(40 - 28);
  });

  it('stores exemplars that point at traces the app sent', { timeout: 60_000 }, async () => {
    const end = Date.now() / 1000 + 5;
    const traceIdsIn = async (query: string) => {
      const found = await prom.exemplars(query, startedAt - 60, end);
      return found.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id)).filter((id) => id !== undefined);
    };
    for (const query of [
      `traces_span_metrics_duration_seconds_bucket{${CART}}`,
      `${CALLS}{${CART}}`,
      'tracetail_log_records_total{severity="error"}',
      'app_http_request_duration_seconds_bucket',
    ]) {
      const ids = await waitFor(async () => {
        const found = await traceIdsIn(query);
        return found.length > 0 && found;
      }, { timeoutMs: 20_000, intervalMs: 500, what: `exemplars of ${query}` });
      for (const id of ids) expect(app.sentTraceIds.has(id), `${query}: ${id}`).toBe(true);
    }
    const errorExemplars = await prom.exemplars(`${CALLS}{${CART},status_code="STATUS_CODE_ERROR"}`, startedAt - 60, end);
    expect(errorExemplars[0]?.exemplars[0]?.labels).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('scrapes OpenMetrics cleanly: target healthy, no scrape error', async () => {
    const { activeTargets } = await prom.targets();
    expect(activeTargets).toHaveLength(1);
    expect(activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    expect(await prom.value('scrape_samples_scraped{job="tracetail"}')).toBeGreaterThan(100);
  });
});
