/**
 * Metrics end to end, and the dashboards against real data: the built CLI receives spans from the
 * real OTel SDK over OTLP/HTTP and tails a log file the test appends JSON and logfmt lines to; a
 * real Prometheus (exemplar storage on) scrapes its /metrics every second. Everything is asserted
 * through Prometheus's HTTP API: request rate, error ratio and p95 latency, stored exemplars whose
 * trace ids are spans the test sent, each rule of test/fixtures/metrics-rules.yaml, log record
 * counts by severity, the cardinality budget. Then, under continuous traffic, `promtool check
 * metrics` finds nothing on /metrics, and the key dashboard panels show the values the traffic
 * implies (that every panel query runs and returns data is test/e2e/dashboards.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckoutTraffic } from '../helpers/checkout-traffic.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { dashboardFiles, panelsOf, substitute } from '../helpers/dashboards.js';
import { withFixtureRules } from '../helpers/metrics-harness.js';
import { Prometheus, type PromSample } from '../helpers/prometheus.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const hasPrometheus = requireTool('prometheus');
const hasPromtool = hasPrometheus && requireTool('promtool');

const CART = 'span_name="GET /cart"';
const CALLS = 'traces_span_metrics_calls_total';
const SERVICE = 'checkout';

/** Grafana's values for the dashboards' variables here (scrape interval 1s, one CLI). */
function grafanaVariables(instance: string): Record<string, string> {
  return {
    job: 'tracetail',
    instance,
    service: SERVICE,
    span_kind: 'SPAN_KIND_SERVER',
    datasource: 'prometheus',
    // max($__interval + scrape interval, 4 * scrape interval), with room for a late scrape.
    __rate_interval: '10s',
    __interval: '2s',
    __range: '1m',
  };
}

// The CLI runs with `naming: otel`: the dashboards written for it.
const dashboards = dashboardFiles().filter(({ file }) => file !== 'tracetail-red-tempo.json');

describe.skipIf(!hasPrometheus)('Prometheus scraping the built CLI', () => {
  let cli: CliProcess;
  let prom: Prometheus;
  let app: CheckoutTraffic;
  let instance: string;
  const startedAt = Date.now() / 1000;

  /** One wave of GET /cart: `ok` fast calls (30 ms), `failed` slow errors (300 ms), their log lines. */
  async function wave(ok: number, failed: number, queueDepth: number): Promise<void> {
    for (let i = 0; i < ok; i++) {
      const span = app.span({ name: 'GET /cart', durationMs: 30 });
      app.json('info', 'request completed', { route: '/cart', status: 200, duration_ms: 30, bytes: 512 }, span);
    }
    for (let i = 0; i < failed; i++) {
      const span = app.span({ name: 'GET /cart', durationMs: 300, error: true });
      app.json('error', 'request completed', { route: '/cart', status: 500, duration_ms: 300, bytes: 20 }, span);
      app.json('error', 'payment via stripe failed: card_declined', { route: '/cart' }, span);
    }
    // Lines without trace context: a warning, and a worker's logfmt report.
    app.json('warn', 'cache hit ratio low', { cache: 'carts' });
    app.raw(`time=${new Date().toISOString()} level=info component=worker-1 queue=emails queue_depth=${queueDepth} msg="queue polled"`);
    await app.flush();
  }

  /** The scrapes around a change: the last that saw `series` at `before`, the first at `after`; a range from one to the other. */
  async function around(series: string, before: number, after: number) {
    const [raw] = await prom.query(`${series}[5m]`);
    const values = (raw as PromSample).values!.map(([t, v]) => [Number(t), Number(v)] as const);
    const t1 = values.filter(([, v]) => v === before).at(-1)![0];
    const t2 = values.find(([, v]) => v === after)![0];
    const ms = Math.round((t2 - t1) * 1000);
    return { t2, window: `[${ms}ms]`, seconds: ms / 1000 };
  }

  beforeAll(async () => {
    const dir = tempDir('tracetail-e2e-prometheus-');
    cli = await startCli({
      dir,
      config: testConfig(
        dir,
        withFixtureRules({
          service: { name: SERVICE },
          receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
          // A small budget so the scrape also carries an overflow series.
          metrics: { max_series_per_metric: 30 },
        }),
      ),
    });
    const otlp = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
    instance = cli.endpoint('metrics.endpoint')!;
    app = new CheckoutTraffic(`http://${otlp}/v1/traces`, join(dir, 'logs/checkout/app.log'));
    prom = await new Prometheus().start([instance]);
    await waitFor(async () => (await prom.value('up{job="tracetail"}')) === 1, { timeoutMs: 30_000, intervalMs: 250, what: `the first scrape (${prom.stderr})` });
  }, 90_000);

  afterAll(async () => {
    await app?.shutdown();
    await prom?.stop();
    await cli?.stop();
  });

  it('answers rate, error ratio and p95 queries with the values the traffic implies', { timeout: 120_000 }, async () => {
    // Wave 1 creates the series; the rates are measured over wave 2 alone, between the last scrape
    // that saw wave 1 and the first that saw wave 2.
    await wave(8, 2, 7);
    for (let i = 0; i < 40; i++) app.span({ name: `GET /item/${i}`, durationMs: 1 });
    await app.flush();
    const total = `sum(${CALLS}{${CART}})`;
    const ruleCount = 'app_http_request_duration_seconds_count{route="/cart"}';
    await waitFor(async () => (await prom.value(total)) === 10 && (await prom.value(ruleCount)) === 10, { timeoutMs: 30_000, intervalMs: 250, what: 'wave 1 in Prometheus' });
    await wave(80, 20, 3);
    await waitFor(async () => (await prom.value(total)) === 110 && (await prom.value(ruleCount)) === 110, { timeoutMs: 30_000, intervalMs: 250, what: 'wave 2 in Prometheus' });

    const { t2, window, seconds } = await around(`${CALLS}{${CART},status_code="STATUS_CODE_UNSET"}`, 8, 88);
    // A range that starts and ends on the two samples: Prometheus does not extrapolate.
    expect(await prom.value(`sum(rate(${CALLS}{${CART}}${window}))`, t2)).toBeCloseTo(100 / seconds, 6);
    expect(await prom.value(`sum(rate(${CALLS}{${CART},status_code="STATUS_CODE_ERROR"}${window})) / sum(rate(${CALLS}{${CART}}${window}))`, t2)).toBeCloseTo(0.2, 9);
    // 80 calls in (0.01, 0.05], 20 in (0.2, 0.4]: the 95th is 15/20 of the way through the second.
    expect(await prom.value(`histogram_quantile(0.95, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket{${CART}}${window})))`, t2)).toBeCloseTo(0.35, 9);
    expect(await prom.value(`histogram_quantile(0.5, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket{${CART}}${window})))`, t2)).toBeCloseTo(0.01 + 0.04 * (50 / 80), 9);
    expect(await prom.value(`${CALLS}{${CART},status_code="STATUS_CODE_ERROR",service_name="${SERVICE}",span_kind="SPAN_KIND_SERVER"}`)).toBe(22);

    // Past the budget of 30: one overflow series holds the rest.
    expect(await prom.value(`count(${CALLS})`)).toBe(31);
    expect(await prom.value(`${CALLS}{otel_metric_overflow="true"}`)).toBe(40 - 28);
    expect(await prom.value(`tracetail_series_overflow_total{metric="${CALLS}"}`)).toBe(40 - 28);
  });

  it('turns the tailed lines into the fixture rules\' series and counts them by severity', async () => {
    // Every rule of test/fixtures/metrics-rules.yaml, from the lines of both waves.
    expect(await prom.value('app_http_requests_total{route="/cart",status_code="200"}')).toBe(88);
    expect(await prom.value('app_http_requests_total{route="/cart",status_code="500"}')).toBe(22);
    expect(await prom.value('app_http_response_bytes_total')).toBe(88 * 512 + 22 * 20);
    expect(await prom.value('app_payment_failures_total{provider="stripe",reason="card_declined"}')).toBe(22);
    await waitFor(async () => (await prom.value('app_queue_depth{queue="emails"}')) === 3, { timeoutMs: 10_000, intervalMs: 250, what: 'the last queue depth' });
    const rule = await around('app_http_request_duration_seconds_count{route="/cart"}', 10, 110);
    // 80 lines of 30 ms in (0.025, 0.05], 20 of 300 ms in (0.25, 0.5].
    expect(await prom.value(`histogram_quantile(0.95, sum by (le) (rate(app_http_request_duration_seconds_bucket{route="/cart"}${rule.window})))`, rule.t2)).toBeCloseTo(
      0.25 + 0.25 * (15 / 20),
      9,
    );
    expect(await prom.value('app_http_request_duration_seconds_sum{route="/cart"}')).toBeCloseTo(88 * 0.03 + 22 * 0.3, 9);

    const byLevel = (severity: string, context: string) => prom.value(`tracetail_log_records_total{service_name="${SERVICE}",severity="${severity}",trace_context="${context}"}`);
    await waitFor(async () => (await byLevel('info', 'absent')) === 2, { timeoutMs: 10_000, intervalMs: 250, what: 'the logfmt lines counted' });
    expect(await byLevel('info', 'present')).toBe(88);
    expect(await byLevel('error', 'present')).toBe(44);
    expect(await byLevel('warn', 'absent')).toBe(2);
    expect(await byLevel('info', 'absent')).toBe(2);
    expect(await prom.value(`sum(tracetail_log_records_total{service_name="${SERVICE}"})`)).toBe(app.linesWritten);
    expect(await prom.value('sum(tracetail_log_parse_errors_total)')).toBe(0);
    // Every line with context names a span the CLI received: all matched.
    expect(await prom.value('tracetail_correlation_log_records_total{result="matched"}')).toBe(88 + 44);
    expect(await prom.value('tracetail_correlation_log_records_total{result="no_context"}')).toBe(4);
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
      'app_http_requests_total',
    ]) {
      const ids = await waitFor(
        async () => {
          const found = await traceIdsIn(query);
          return found.length > 0 && found;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: `exemplars of ${query}` },
      );
      for (const id of ids) expect(app.sentTraceIds.has(id), `${query}: ${id}`).toBe(true);
    }
    const errorExemplars = await prom.exemplars(`${CALLS}{${CART},status_code="STATUS_CODE_ERROR"}`, startedAt - 60, end);
    expect(errorExemplars[0]?.exemplars[0]?.labels).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  describe('under continuous traffic', () => {
    const WAVES = 20;
    /** promtool's output on each /metrics body fetched during the traffic. */
    const lint: string[] = [];
    /** The first scrape that saw all the traffic: the dashboards are evaluated there. */
    let at = 0;
    let vars: Record<string, string>;

    beforeAll(async () => {
      vars = grafanaVariables(instance);
      const unset = `${CALLS}{${CART},status_code="STATUS_CODE_UNSET"}`;
      const before = (await prom.value(unset)) ?? 0;
      let sending = true;
      const traffic = (async () => {
        try {
          for (let i = 0; i < WAVES; i++) {
            await wave(20, 5, i);
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          sending = false;
        }
      })();
      while (sending) {
        const body = await (await fetch(`http://${instance}/metrics`)).text();
        if (hasPromtool) {
          const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
          lint.push(`${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? '' : ` (exit ${r.status})`));
        }
      }
      await traffic;
      const after = before + WAVES * 20;
      await waitFor(async () => (await prom.value(unset)) === after, { timeoutMs: 30_000, intervalMs: 250, what: 'the traffic in Prometheus' });
      const [raw] = await prom.query(`${unset}[2m]`);
      at = Number((raw as PromSample).values!.find(([, v]) => Number(v) === after)![0]);
    }, 120_000);

    it.skipIf(!hasPromtool)('passes promtool check metrics on every /metrics it served', () => {
      expect(lint.length).toBeGreaterThan(2);
      expect(lint.filter((l) => l !== '')).toEqual([]);
    });

    it('scrapes cleanly: the target is up with no scrape error', async () => {
      const { activeTargets } = await prom.targets();
      expect(activeTargets).toHaveLength(1);
      expect(activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
      expect(await prom.value('scrape_samples_scraped{job="tracetail"}')).toBeGreaterThan(100);
    });

    /** The panel's query result at `at`, by the panel title; throws when the dashboards lack the panel. */
    async function panel(title: string, refIndex = 0): Promise<PromSample[]> {
      const p = dashboards.flatMap(({ d }) => panelsOf(d)).find((x) => x.title === title);
      if (!p?.targets?.[refIndex]) throw new Error(`no panel "${title}" in dashboards/`);
      return prom.query(substitute(p.targets[refIndex].expr, vars), at);
    }
    const value = (s: PromSample | undefined) => Number(s?.value?.[1]);
    const cart = (r: PromSample[]) => r.find((s) => s.metric.span_name === 'GET /cart');

    it('shows the traffic on the RED and logs panels: request rate, error ratio, latency, errors, logs by severity and file, correlation', async () => {
      expect(value(cart(await panel('Request rate')))).toBeGreaterThan(0);
      expect(value(cart(await panel('Error ratio')))).toBeCloseTo(0.2, 9);
      expect(value(cart(await panel('Latency p95 by operation')))).toBeCloseTo(0.35, 9);
      // 80% in (0.01, 0.05], 20% in (0.2, 0.4] per wave.
      expect(value(cart(await panel('Latency p50 by operation')))).toBeCloseTo(0.01 + 0.04 * (50 / 80), 9);
      expect(value(cart(await panel('Errors per second')))).toBeGreaterThan(0);
      const slowest = await panel('Slowest operations');
      expect(value(cart(slowest))).toBeGreaterThan(0.2);
      expect(cart(await panel('Most failing operations'))).toBeDefined();
      const bySeverity = Object.fromEntries((await panel('Log records by severity')).map((s) => [s.metric.severity, value(s)]));
      for (const severity of ['info', 'warn', 'error']) expect(bySeverity[severity], severity).toBeGreaterThan(0);
      // Per wave 20 + 10 lines with context out of 20 + 10 + 2. Not exact: rate() extrapolates the
      // two series of different histories differently toward the window's start.
      expect(value((await panel('Logs with trace context'))[0])).toBeCloseTo(30 / 32, 1);
      expect(value((await panel('Records by file'))[0])).toBeGreaterThan(0);
      const correlation = Object.fromEntries((await panel('Correlation results')).map((s) => [s.metric.result, value(s)]));
      expect(correlation.matched).toBeGreaterThan(0);
      expect(correlation.unmatched).toBe(0);
    });

    it('shows the sidecar\'s health: files, bytes, spans, OTLP requests, exports, memory, CPU, event loop', async () => {
      expect(value((await panel('Files watched'))[0])).toBe(1);
      expect(value((await panel('File lag'))[0])).toBeGreaterThanOrEqual(0);
      expect(value((await panel('Bytes read'))[0])).toBeGreaterThan(0);
      expect(value((await panel('Spans received')).find((s) => s.metric.transport === 'http'))).toBeGreaterThan(0);
      const otlp = await panel('OTLP requests by status');
      expect(otlp.find((s) => s.metric.signal === 'traces' && s.metric.code === '200'), JSON.stringify(otlp)).toBeDefined();
      expect((await panel('Export outcomes')).length).toBeGreaterThan(0);
      expect((await panel('Export queue size')).length).toBeGreaterThan(0);
      expect(value((await panel('Memory'))[0])).toBeGreaterThan(10 * 1024 * 1024);
      expect(value((await panel('CPU'))[0])).toBeGreaterThan(0);
      expect(value((await panel('Event loop lag p99'))[0])).toBeGreaterThanOrEqual(0);
      expect((await panel('Series overflow')).find((s) => s.metric.metric === CALLS)).toBeDefined();
    });
  });
});
