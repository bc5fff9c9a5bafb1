/**
 * A trace index fed with spans from the real OTel SDK and matching log batches, served by a real
 * DebugServer on port 0: what the debug API and page tests look at.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DebugServer } from '../../src/admin/debug-server.js';
import { createLogger } from '../../src/logger.js';
import { ServiceGraph } from '../../src/metrics/service-graph.js';
import { Telemetry } from '../../src/metrics/telemetry.js';
import { TraceIndex } from '../../src/processors/correlation/trace-index.js';
import { logBatch, SpanRecorder } from './otel.js';

export interface DebugFixture {
  server: DebugServer;
  index: TraceIndex;
  base: string;
  logLines: Record<string, unknown>[];
  /** The checkout trace: a server span, a client child with an error, and logs under both. */
  checkout: { traceId: string; serverSpanId: string; clientSpanId: string; logBodies: string[] };
  /** A second trace of another service. */
  other: { traceId: string };
  stop(): Promise<void>;
}

export async function startDebugFixture(options: { token?: string } = {}): Promise<DebugFixture> {
  const index = new TraceIndex({ windowMs: 600_000, maxBytes: 16 * 1024 * 1024 });
  const app = new SpanRecorder({ 'service.name': 'checkout', 'service.version': '1.4.0' });
  const t0 = Date.now() - 1000;
  const server = app.start('POST /orders', undefined, { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'POST', 'http.route': '/orders' } });
  const client = app.start('GET inventory', server, { kind: SpanKind.CLIENT, startTime: t0 + 20 });
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'inventory unavailable' });
  client.addEvent('retry', { attempt: 2 }, t0 + 60);
  client.end(t0 + 120);
  server.end(t0 + 200);

  const billing = new SpanRecorder({ 'service.name': 'billing' });
  const charge = billing.start('charge card', undefined, { kind: SpanKind.INTERNAL, startTime: t0 + 300 });
  charge.end(t0 + 310);

  // Logs written while the spans were open arrive before the spans, as they do in real life.
  const logBodies = ['order received <b>#42</b>', 'asking inventory', 'inventory call failed', 'order rejected'];
  index.addLogs(
    logBatch([
      { body: logBodies[0], span: server, timeMs: t0 + 5 },
      { body: logBodies[1], span: client, timeMs: t0 + 25 },
      { body: logBodies[2], span: client, timeMs: t0 + 118, severityNumber: 17, severityText: 'ERROR' },
      { body: logBodies[3], span: server, timeMs: t0 + 190, severityNumber: 13, severityText: 'WARN' },
      { body: 'startup complete' },
    ]),
  );
  const spans = [app.takeBatch(), billing.takeBatch()];
  const serviceGraph = new ServiceGraph({
    waitMs: 600_000,
    maxItems: 1000,
    buckets: [0.01, 0.1, 1],
    peerAttributes: ['peer.service'],
    maxSeries: 100,
    idleTimeoutMs: null,
    defaultServiceName: 'unknown_service',
    dedupeWindowMs: 300_000,
    dedupeMaxSpans: 100_000,
    telemetry: new Telemetry({ processMetrics: false }),
    log: createLogger('silent'),
  });
  for (const b of spans) {
    index.addSpans(b);
    serviceGraph.observe(b);
  }
  index.addLogs(logBatch([{ body: 'charged', span: charge, timeMs: t0 + 305 }], { 'service.name': 'billing' }));

  const logLines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  );
  const debug = new DebugServer({ endpoint: { host: '127.0.0.1', port: 0 }, token: options.token ?? null, maxConnections: 16, index, serviceGraph, log });
  await debug.start();
  const listening = logLines.find((l) => l.msg === 'listening' && l.listener === 'debug.endpoint');
  if (!listening) throw new Error('the debug server did not log its listener line');
  return {
    server: debug,
    index,
    base: `http://${String(listening.endpoint)}`,
    logLines,
    checkout: { traceId: server.spanContext().traceId, serverSpanId: server.spanContext().spanId, clientSpanId: client.spanContext().spanId, logBodies },
    other: { traceId: charge.spanContext().traceId },
    stop: () => debug.stop(),
  };
}
