import { basename } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsHarness, sampleValue, samples, withFixtureRules } from '../../helpers/metrics-harness.js';
import { SdkSource } from '../../helpers/otel-batches.js';
import type { KeyValue } from '../../../src/otlp/types.js';
import type { LogBatch } from '../../../src/pipeline/batches.js';

describe('log metrics', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  it('counts records by service, severity and trace context, with a trace exemplar', async () => {
    h = await new MetricsHarness().start();
    const name = 'tracetail_log_records_total';
    // Every severity x context of the configured service exists from start-up, at 0.
    let { body } = await h.scrape();
    expect(samples(body, name)).toHaveLength(14);
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'error', trace_context: 'present' })).toBe(0);

    const app = new SdkSource('checkout');
    const span = app.span({ name: 'POST /pay', durationMs: 20, error: true });
    app.log({ body: 'payment failed', severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', span });
    app.log({ body: 'retrying', severityNumber: SeverityNumber.WARN, span });
    app.log({ body: 'no context here', severityText: 'warning' });
    app.log({ body: 'no level' });
    app.log({ body: 'pino fatal', severityNumber: SeverityNumber.FATAL2 });
    const other = new SdkSource('billing');
    other.log({ body: 'other service', severityText: 'INFO' });
    await h.logs.consume(app.takeLogBatch());
    await h.logs.consume(other.takeLogBatch());

    ({ body } = await h.scrape());
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'error', trace_context: 'present' })).toBe(1);
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'warn', trace_context: 'present' })).toBe(1);
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'warn', trace_context: 'absent' })).toBe(1);
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'unspecified', trace_context: 'absent' })).toBe(1);
    expect(sampleValue(body, name, { service_name: 'checkout', severity: 'fatal', trace_context: 'absent' })).toBe(1);
    expect(sampleValue(body, name, { service_name: 'billing', severity: 'info', trace_context: 'absent' })).toBe(1);

    const om = (await h.scrape('openmetrics')).body;
    const errors = samples(om, name).find((s) => s.labels.severity === 'error' && s.labels.trace_context === 'present');
    const { traceId, spanId } = span.spanContext();
    expect(errors?.exemplar).toMatch(new RegExp(`^\\{trace_id="${traceId}",span_id="${spanId}"\\} 1 \\d+`));
    expect(samples(om, name).filter((s) => s.labels.trace_context === 'absent' && s.exemplar)).toEqual([]);
  });
});

describe('metrics rules (test/fixtures/metrics-rules.yaml)', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  it('turns JSON/logfmt fields and regex captures into counters, a histogram and a gauge', async () => {
    h = await new MetricsHarness().start(withFixtureRules());
    const app = new SdkSource('checkout');
    const span = app.span({ name: 'GET /cart', durationMs: 42 });
    // What the file tailer makes of JSON or logfmt lines: the message in the body, the other
    // fields as attributes (numbers typed as the line had them, or as text from logfmt).
    app.log({ body: 'request completed', severityText: 'info', attributes: { route: '/cart', status: 200, duration_ms: 42, bytes: 1000 }, span });
    app.log({ body: 'request completed', severityText: 'info', attributes: { route: '/cart', status: 200, duration_ms: '180', bytes: '24' } });
    app.log({ body: 'request completed', severityText: 'info', attributes: { route: '/pay', status: 502, duration_ms: 2000.5 } });
    app.log({ body: 'request started', severityText: 'info', attributes: { route: '/cart' } });
    app.log({ body: 'payment via stripe failed: card_declined', severityText: 'error' });
    app.log({ body: 'payment via stripe failed: card_declined', severityText: 'error' });
    app.log({ body: 'payment via paypal failed: timeout', severityText: 'error' });
    app.log({ body: 'queue state', attributes: { component: 'worker-1', queue: 'emails', queue_depth: '17' } });
    app.log({ body: 'queue state', attributes: { component: 'worker-2', queue: 'emails', queue_depth: 12 } });
    app.log({ body: 'queue state', attributes: { component: 'api', queue: 'emails', queue_depth: 99 } });
    app.log({ body: 'queue state', attributes: { component: 'worker-3', queue: 'emails', queue_depth: 'many' } });
    await h.logs.consume(app.takeLogBatch());

    const { body } = await h.scrape();
    expect(sampleValue(body, 'app_http_requests_total', { route: '/cart', status_code: '200' })).toBe(2);
    expect(sampleValue(body, 'app_http_requests_total', { route: '/pay', status_code: '502' })).toBe(1);
    expect(samples(body, 'app_http_requests_total')).toHaveLength(2);

    const hist = 'app_http_request_duration_seconds';
    expect(sampleValue(body, `${hist}_count`, { route: '/cart' })).toBe(2);
    expect(sampleValue(body, `${hist}_sum`, { route: '/cart' })).toBeCloseTo(0.222, 9);
    expect(sampleValue(body, `${hist}_bucket`, { route: '/cart', le: '0.05' })).toBe(1);
    expect(sampleValue(body, `${hist}_bucket`, { route: '/cart', le: '0.25' })).toBe(2);
    expect(sampleValue(body, `${hist}_bucket`, { route: '/pay', le: '2.5' })).toBe(1);
    expect(sampleValue(body, `${hist}_bucket`, { route: '/pay', le: '1' })).toBe(0);

    expect(sampleValue(body, 'app_http_response_bytes_total', {})).toBe(1024);
    expect(sampleValue(body, 'tracetail_metric_rule_records_total', { rule: 'app_http_response_bytes_total', result: 'value_missing' })).toBe(1);

    expect(sampleValue(body, 'app_payment_failures_total', { provider: 'stripe', reason: 'card_declined' })).toBe(2);
    expect(sampleValue(body, 'app_payment_failures_total', { provider: 'paypal', reason: 'timeout' })).toBe(1);

    expect(sampleValue(body, 'app_queue_depth', { queue: 'emails' })).toBe(12);
    expect(sampleValue(body, 'tracetail_metric_rule_records_total', { rule: 'app_queue_depth', result: 'value_not_numeric' })).toBe(1);
    expect(sampleValue(body, 'tracetail_metric_rule_records_total', { rule: 'app_queue_depth', result: 'recorded' })).toBe(2);

    // The record that ran inside a span gives the histogram its exemplar.
    const om = (await h.scrape('openmetrics')).body;
    const bucket = samples(om, `${hist}_bucket`).find((s) => s.labels.route === '/cart' && s.labels.le === '0.05');
    expect(bucket?.exemplar).toMatch(new RegExp(`^\\{trace_id="${span.spanContext().traceId}",span_id="[0-9a-f]{16}"\\} 0\\.042 `));
    expect(om).toContain('# TYPE app_http_requests counter');
    expect(om).toContain('# HELP app_queue_depth Jobs waiting in the work queue, as last logged.');
  });

  it('drops the series of a rule removed on reload, keeps the others counting', async () => {
    h = await new MetricsHarness().start(withFixtureRules());
    const app = new SdkSource('checkout');
    const completed = () => app.log({ body: 'request completed', attributes: { route: '/a', status: 200, duration_ms: 1, bytes: 1 } });
    completed();
    await h.logs.consume(app.takeLogBatch());
    const rules = (h.config.metrics.rules as unknown[]).filter((r) => (r as { name: string }).name !== 'app_queue_depth');
    h.build({ metrics: { rules } });
    completed();
    await h.logs.consume(app.takeLogBatch());
    const { body } = await h.scrape();
    expect(body).not.toContain('app_queue_depth');
    expect(sampleValue(body, 'app_http_requests_total', { route: '/a' })).toBe(2);
  });
});

describe('log metrics without a configured service name', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  it('makes no unknown_service series at start-up, and counts records under the service they carry', async () => {
    h = await new MetricsHarness().start({ service: { name: null } });
    const name = 'tracetail_log_records_total';
    let { body } = await h.scrape();
    expect(body).toContain(`# TYPE ${name} counter`);
    expect(samples(body, name)).toEqual([]);

    const app = new SdkSource('checkout');
    app.log({ body: 'ready', severityText: 'info' });
    await h.logs.consume(app.takeLogBatch());
    ({ body } = await h.scrape());
    expect(samples(body, name).map((s) => s.labels)).toEqual([{ service_name: 'checkout', severity: 'info', trace_context: 'absent' }]);
  });
});

describe('log records per file', () => {
  let h: MetricsHarness;
  afterEach(async () => h?.stop());

  /** A batch as the file receiver hands it on: records of several files, each with its file attributes last. */
  function fileBatch(lines: { path: string; severityNumber: number; truncated?: boolean }[]): LogBatch {
    const attributesOf = new Map<string, KeyValue[]>();
    const logRecords = lines.map(({ path, severityNumber, truncated }) => {
      let file = attributesOf.get(path);
      if (!file) attributesOf.set(path, (file = [{ key: 'log.file.path', value: { stringValue: path } }, { key: 'log.file.name', value: { stringValue: basename(path) } }]));
      const attributes: KeyValue[] = [{ key: 'route', value: { stringValue: '/cart' } }, ...file];
      if (truncated) attributes.push({ key: 'tracetail.truncated', value: { boolValue: true } });
      return { timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber, severityText: '', body: { stringValue: 'x' }, attributes, droppedAttributesCount: 0, flags: 0, traceId: null, spanId: null };
    });
    return { transport: 'file', resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords }] }] } as unknown as LogBatch;
  }

  it('counts the records read from each file by severity; records received over OTLP are not counted there', async () => {
    h = await new MetricsHarness().start();
    const name = 'tracetail_log_file_records_total';
    const INFO = 9;
    const ERROR = 17;
    await h.logs.consume(
      fileBatch([
        { path: '/var/log/app/a.log', severityNumber: INFO },
        { path: '/var/log/app/a.log', severityNumber: ERROR, truncated: true },
        { path: '/var/log/app/b.log', severityNumber: INFO },
        { path: '/var/log/app/a.log', severityNumber: INFO },
      ]),
    );
    await h.logs.consume(fileBatch([{ path: '/var/log/app/b.log', severityNumber: INFO }]));
    const app = new SdkSource('checkout');
    app.log({ body: 'over OTLP', severityText: 'info', attributes: { 'log.file.path': '/elsewhere.log' } });
    await h.logs.consume({ ...app.takeLogBatch(), transport: 'http' });

    const { body } = await h.scrape();
    expect(sampleValue(body, name, { path: '/var/log/app/a.log', severity: 'info' })).toBe(2);
    expect(sampleValue(body, name, { path: '/var/log/app/a.log', severity: 'error' })).toBe(1);
    expect(sampleValue(body, name, { path: '/var/log/app/b.log', severity: 'info' })).toBe(2);
    expect(samples(body, name)).toHaveLength(3);
  });
});
