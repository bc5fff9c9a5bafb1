/**
 * Service graph metrics of the built CLI in a real Prometheus. Three services instrumented with the
 * real OpenTelemetry JS SDK (each its own provider and OTLP/HTTP exporter, as separate processes
 * would be) send their spans to one CLI: user -> frontend -> checkout -> payments, and checkout ->
 * postgres (a database client span). The counters and histogram counts Prometheus scraped equal
 * the edges of that topology exactly, the RED dashboard's service map draws it, and `promtool
 * check metrics` finds nothing.
 */
import { spawnSync } from 'node:child_process';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { dashboardFiles, panelsOf, substitute } from '../helpers/dashboards.js';
import { scrape } from '../helpers/outage.js';
import { Prometheus } from '../helpers/prometheus.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const hasPrometheus = requireTool('prometheus');
const TRACES = 40;
const FAILED_PAYMENTS = 6;

describe.skipIf(!hasPrometheus)('service graph of a generated topology in Prometheus', () => {
  let cli: CliProcess;
  let prom: Prometheus;

  beforeAll(async () => {
    const dir = tempDir('tracetail-e2e-service-graph-');
    cli = await startCli({ dir, config: testConfig(dir, { receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } }, metrics: { service_graph: { wait: '2s' } } }) });
    const otlp = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
    prom = await new Prometheus().start([cli.endpoint('metrics.endpoint')!]);

    const providers = Object.fromEntries(
      ['frontend', 'checkout', 'payments'].map((service) => [
        service,
        new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://${otlp}/v1/traces` }), { scheduledDelayMillis: 100 })],
        }),
      ]),
    );
    const tracer = (service: string) => providers[service].getTracer('topology');
    const child = (service: string, name: string, kind: SpanKind, parent: Span, attributes = {}) => tracer(service).startSpan(name, { kind, attributes }, trace.setSpan(context.active(), parent));
    for (let i = 0; i < TRACES; i++) {
      const root = tracer('frontend').startSpan('GET /', { kind: SpanKind.SERVER });
      const toCheckout = child('frontend', 'POST /checkout', SpanKind.CLIENT, root, { 'server.address': 'checkout' });
      const checkout = child('checkout', 'POST /checkout', SpanKind.SERVER, toCheckout);
      const toPayments = child('checkout', 'POST /charge', SpanKind.CLIENT, checkout, { 'peer.service': 'payments' });
      const payments = child('payments', 'POST /charge', SpanKind.SERVER, toPayments);
      if (i < FAILED_PAYMENTS) payments.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
      payments.end();
      toPayments.end();
      const query = child('checkout', 'INSERT orders', SpanKind.CLIENT, checkout, { 'db.system': 'postgresql', 'db.name': 'postgres' });
      query.end();
      checkout.end();
      toCheckout.end();
      root.end();
    }
    // Downstream services report first here, so servers wait for their clients as often as the reverse.
    await providers.payments.forceFlush();
    await providers.checkout.forceFlush();
    await providers.frontend.forceFlush();
    await Promise.all(Object.values(providers).map((p) => p.shutdown()));
    await waitFor(async () => (await prom.value('sum(traces_service_graph_request_total)')) === 4 * TRACES, { timeoutMs: 30_000, intervalMs: 250, what: 'every edge in Prometheus' });
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await cli?.stop();
  });

  const edges = async (metric: string) =>
    Object.fromEntries((await prom.query(metric)).map((s) => [`${s.metric.client} -> ${s.metric.server} (${s.metric.connection_type ?? ''})`, Number(s.value![1])]));

  it('counts each edge of the topology exactly, with the virtual nodes user and postgres', async () => {
    const want = {
      'user -> frontend (virtual_node)': TRACES,
      'frontend -> checkout ()': TRACES,
      'checkout -> payments ()': TRACES,
      'checkout -> postgres (database)': TRACES,
    };
    expect(await edges('traces_service_graph_request_total')).toEqual(want);
    // Every edge has its failed series, at 0 when nothing failed (error ratios need no `or`).
    expect(await edges('traces_service_graph_request_failed_total')).toEqual({ ...Object.fromEntries(Object.keys(want).map((k) => [k, 0])), 'checkout -> payments ()': FAILED_PAYMENTS });
    expect(await edges('traces_service_graph_request_server_seconds_count')).toEqual(want);
    expect(await edges('traces_service_graph_request_client_seconds_count')).toEqual(want);
    // The Collector servicegraph connector's default buckets.
    const buckets = (await prom.query('traces_service_graph_request_server_seconds_bucket{client="frontend"}')).map((s) => s.metric.le).sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
    expect(buckets).toEqual(['0.002', '0.004', '0.006', '0.008', '0.01', '0.05', '0.1', '0.2', '0.4', '0.8', '1', '1.4', '2', '5', '10', '15', '+Inf']);
  });

  it('draws the topology in the RED dashboard\'s service map: the node graph\'s edges and nodes frames', async () => {
    const red = dashboardFiles().find((f) => f.file === 'tracetail-red.json')!.d;
    const map = panelsOf(red).find((p) => p.type === 'nodeGraph')!;
    const vars = { datasource: 'prometheus', job: 'tracetail', instance: cli.endpoint('metrics.endpoint')!, service: '.*', span_kind: '.*', __rate_interval: '10s', __interval: '2s', __range: '5m' };
    const [edgesTarget, nodesTarget] = map.targets!;
    // increase() over the range needs two scrapes of a series.
    await waitFor(async () => (await prom.query(substitute(edgesTarget.expr, vars))).length === 4, { timeoutMs: 20_000, intervalMs: 250, what: 'the service map\'s edges' });
    const edgeRows = (await prom.query(substitute(edgesTarget.expr, vars))).map((s) => `${s.metric.id}|${s.metric.source}|${s.metric.target}`);
    expect(edgeRows.sort()).toEqual(['checkout -> payments|checkout|payments', 'checkout -> postgres|checkout|postgres', 'frontend -> checkout|frontend|checkout', 'user -> frontend|user|frontend']);
    const nodes = (await prom.query(substitute(nodesTarget.expr, vars))).map((s) => `${s.metric.id}|${s.metric.title}`);
    expect(nodes.sort()).toEqual(['checkout|checkout', 'frontend|frontend', 'payments|payments', 'postgres|postgres', 'user|user']);
  });

  it('counts nothing unpaired or dropped, and passes promtool', async () => {
    const body = await scrape(cli);
    expect(body).not.toMatch(/^traces_service_graph_(unpaired|dropped)_spans_total\{/m);
    expect(body).toMatch(/^# TYPE traces_service_graph_unpaired_spans_total counter$/m);
    if (requireTool('promtool')) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
