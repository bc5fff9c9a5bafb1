/**
 * A real instrumented app (OTel JS SDK + pino) sends its spans to the built CLI over OTLP/HTTP:
 * they reach the test collector and the correlation index, and the debug API returns each trace
 * with exactly its spans.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { idToHex } from '../../src/otlp/values.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { waitFor } from '../helpers/wait.js';
import { runPinoOtelApp } from '../helpers/app.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

describe('spans of a real app in the sidecar', () => {
  it('reach the collector and the index; the debug API returns each trace with exactly its spans', async () => {
    const collector = await TestCollector.start();
    cleanups.push(() => collector.close());
    const dir = tempDir();
    const cli: CliProcess = await startCli({
      config: testConfig(dir, {
        service: { name: 'pino-otel-app' },
        receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
        debug: { endpoint: '127.0.0.1:0' },
        export: { otlp: { endpoint: collector.url } },
      }),
    });
    cleanups.push(() => cli.stop());
    const otlp = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
    const debug = await cli.waitForEndpoint('debug.endpoint');

    const app = await runPinoOtelApp({
      // Outside logs.include: this test is about the spans alone (correlation.test.ts joins the logs).
      LOG_FILE: join(dir, 'app-logs/app.log'),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://${otlp}/v1/traces`,
      OTEL_SERVICE_NAME: 'pino-otel-app',
      REQUESTS: '10',
      UNSAMPLED: '2',
    });
    const spanCount = app.traces.reduce((n, t) => n + t.spans.length, 0);
    await collector.waitForItems('traces', spanCount);
    expect(collector.spans().map((s) => idToHex(s.spanId)).sort()).toEqual(app.traces.flatMap((t) => t.spans).sort());

    for (const t of app.traces) {
      const res = await fetch(`http://${debug}/api/v1/traces/${t.traceId}`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { spans: { spanId: string; service: string }[] };
      expect(doc.spans.map((s) => s.spanId).sort()).toEqual([...t.spans].sort());
      expect(new Set(doc.spans.map((s) => s.service))).toEqual(new Set(['pino-otel-app']));
    }
    for (const t of app.unsampledTraces) expect((await fetch(`http://${debug}/api/v1/traces/${t.traceId}`)).status).toBe(404);

    // Every fifth request of the app fails: those traces, and only those, have the error flag.
    const errors = (await (await fetch(`http://${debug}/api/v1/traces?status=error`)).json()) as { traces: { traceId: string }[] };
    expect(errors.traces.map((t) => t.traceId).sort()).toEqual(app.traces.filter((_, i) => i % 5 === 4).map((t) => t.traceId).sort());

    const metrics = await waitFor(
      async () => {
        const body = await (await fetch(cli.metricsUrl)).text();
        return body.includes(`tracetail_correlation_index_traces ${app.traces.length}\n`) ? body : undefined;
      },
      { what: 'the index gauge to count the traces' },
    );
    expect(metrics).toContain(`tracetail_component_received_items_total{component="correlation_spans"} ${spanCount}\n`);
  });
});
