/**
 * The real OpenTelemetry JS SDK as the client: spans and log records made by the SDK are exported
 * with its own OTLP exporters (http/protobuf, http/json, gRPC; plain and gzip) to the receivers over
 * TCP and over the Unix sockets, and what arrives in the pipeline is compared field by field with
 * what the SDK produced (its ReadableSpan / ReadableLogRecord objects, mapped as the OTLP spec says).
 */
import * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import { OTLPLogExporter as LogsHttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogRecords, capturedSpans, startOtlp, UnixSocketAgent, type Canon, type OtlpHarness } from './harness.js';

// ---- what the SDK produced, in the canonical form of harness.ts ------------------------------

function ns(t: HrTime): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

/** A JS attribute value as the OTLP spec maps it (integers → int, other numbers → double). */
function expectedValue(v: unknown): Canon {
  if (typeof v === 'string') return { string: v };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int: String(v) } : { double: v };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return { array: v.map(expectedValue) };
  if (v && typeof v === 'object') return { kvlist: expectedAttributes(v as Attributes) };
  return null;
}

function expectedAttributes(attrs: Attributes | Record<string, unknown> | undefined): Canon {
  return Object.entries(attrs ?? {}).map(([k, v]) => [k, expectedValue(v)]);
}

/** OTLP span flags: the W3C trace flags plus "has is_remote" (0x100) and "is_remote" (0x200). */
function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

function expectedSpan(s: ReadableSpan): { resource: Canon; scope: Canon; span: Canon } {
  const ctx = s.spanContext();
  return {
    resource: { attributes: expectedAttributes(s.resource.attributes), droppedAttributesCount: 0, schemaUrl: s.resource.schemaUrl ?? '' },
    scope: { name: s.instrumentationScope.name, version: s.instrumentationScope.version ?? '', attributes: [], droppedAttributesCount: 0, schemaUrl: s.instrumentationScope.schemaUrl ?? '' },
    span: {
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      parentSpanId: s.parentSpanContext?.spanId ?? '',
      traceState: ctx.traceState?.serialize() ?? '',
      flags: spanFlags(ctx.traceFlags, s.parentSpanContext?.isRemote),
      name: s.name,
      kind: s.kind + 1,
      start: ns(s.startTime),
      end: ns(s.endTime),
      attributes: expectedAttributes(s.attributes),
      droppedAttributesCount: s.droppedAttributesCount,
      events: s.events.map((e) => ({ time: ns(e.time), name: e.name, attributes: expectedAttributes(e.attributes), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
      droppedEventsCount: s.droppedEventsCount,
      links: s.links.map((l) => ({
        traceId: l.context.traceId,
        spanId: l.context.spanId,
        traceState: l.context.traceState?.serialize() ?? '',
        attributes: expectedAttributes(l.attributes),
        droppedAttributesCount: l.droppedAttributesCount ?? 0,
        flags: spanFlags(l.context.traceFlags, l.context.isRemote),
      })),
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message ?? '' },
    },
  };
}

function expectedLogRecord(r: ReadableLogRecord): { resource: Canon; scope: Canon; record: Canon } {
  const scope = r.instrumentationScope as typeof r.instrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number };
  return {
    resource: { attributes: expectedAttributes(r.resource.attributes), droppedAttributesCount: 0, schemaUrl: r.resource.schemaUrl ?? '' },
    scope: {
      name: scope.name,
      version: scope.version ?? '',
      attributes: expectedAttributes(scope.attributes),
      droppedAttributesCount: scope.droppedAttributesCount ?? 0,
      schemaUrl: scope.schemaUrl ?? '',
    },
    record: {
      time: ns(r.hrTime),
      observedTime: ns(r.hrTimeObserved),
      severityNumber: r.severityNumber ?? 0,
      severityText: r.severityText ?? '',
      body: expectedValue(r.body),
      attributes: expectedAttributes(r.attributes as Record<string, unknown>),
      droppedAttributesCount: r.droppedAttributesCount,
      flags: r.spanContext?.traceFlags ?? 0,
      traceId: r.spanContext?.traceId ?? '',
      spanId: r.spanContext?.spanId ?? '',
      eventName: r.eventName ?? '',
    },
  };
}

const bySpanId = (a: { span: Canon }, b: { span: Canon }) => ((a.span as { spanId: string }).spanId < (b.span as { spanId: string }).spanId ? -1 : 1);
const byTime = (a: { record: Canon }, b: { record: Canon }) => ((a.record as { time: string }).time < (b.record as { time: string }).time ? -1 : 1);

// ---- the SDK's spans and log records ------------------------------------------------------------

/** Times beyond 2^53 ns with nanosecond digits a double would lose. */
const T0: HrTime = [1_750_000_000, 123_456_789];
const at = (ms: number, extraNs = 0): HrTime => [T0[0] + Math.floor(ms / 1000), T0[1] + (ms % 1000) * 1_000_000 + extraNs];

function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(
      { 'service.name': 'checkout', 'service.version': '2.4.1', 'deployment.environment.name': 'test', 'host.cpu.count': 8, 'process.runtime.lag': 0.125, 'feature.flags': ['a', 'b'] },
      { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' },
    ),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('checkout-instrumentation', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' });

  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=abc123,other=xyz'),
  });
  const root = tracer.startSpan(
    'POST /api/orders',
    {
      kind: SpanKind.SERVER,
      startTime: T0,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 201,
        'app.max_safe': Number.MAX_SAFE_INTEGER,
        'app.negative': -42,
        'app.ratio': 2.5,
        'app.tiny': 1e-300,
        'app.cached': false,
        'app.empty': '',
        'app.unicode': 'grüße, 世界 🚀',
        'app.tags': ['x', 'y', 'z'],
        'app.flags': [true, false],
        'app.ids': [1, 2, 3],
        'app.weights': [0.5, 1.25],
      },
      links: [
        {
          context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, isRemote: true, traceState: new TraceState('k=v') },
          attributes: { 'link.reason': 'retry-of', 'link.attempt': 2 },
        },
      ],
    },
    remoteParent,
  );
  root.addEvent('order.validated', { 'order.items': 3, 'order.total': 99.95 }, at(1, 7));
  root.addEvent('no-attributes', at(2, 3));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });

  const kinds = [SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER];
  for (const [i, kind] of kinds.entries()) {
    const child = tracer.startSpan(`child-${i}`, { kind, startTime: at(10 + i, i + 1) }, trace.setSpan(ROOT_CONTEXT, root));
    child.setAttribute('child.index', i);
    if (i === 0) child.setStatus({ code: SpanStatusCode.OK });
    child.end(at(20 + i, 999_999 - i));
  }
  root.end(at(1000, 1));

  // A second tracer provider with limits: dropped attribute, event and link counts.
  const limited = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'limited' }),
    spanLimits: { attributeCountLimit: 2, eventCountLimit: 1, linkCountLimit: 1 },
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const lt = limited.getTracer('limited-scope');
  const other = { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: TraceFlags.SAMPLED };
  const span = lt.startSpan('limited', { startTime: T0, attributes: { a: 1, b: 2, c: 3, d: 4 }, links: [{ context: other }, { context: other }, { context: other }] });
  span.addEvent('e1', at(1));
  span.addEvent('e2', at(2));
  span.addEvent('e3', at(3));
  span.end(at(5));
  return memory.getFinishedSpans();
}

async function makeLogRecords(): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'i-1' }, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('checkout-logger', '0.9.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.21.0', attributes: { 'scope.kind': 'app', 'scope.level': 3 } });
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: TraceFlags.SAMPLED });
  logger.emit({
    timestamp: T0,
    observedTimestamp: at(3, 11),
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    eventName: 'order.failed',
    body: { message: 'payment declined', codes: [402, 'card_declined', [1.5, true]], raw: new Uint8Array([0, 1, 254, 255]) },
    attributes: {
      'app.bytes': new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      'app.map': { nested: { deep: [1, 'two', { three: 3.5 }] }, flag: true },
      'app.matrix': [
        [1, 2],
        ['a', 'b'],
      ],
      'app.count': 7,
      'app.ratio': 0.75,
      'app.name': 'grüße',
    },
    context: ctx,
  });
  logger.emit({ timestamp: at(5, 5), observedTimestamp: at(6, 6), severityNumber: SeverityNumber.INFO, severityText: 'info', body: 'plain text line', context: ROOT_CONTEXT });
  logger.emit({ timestamp: at(7, 7), observedTimestamp: at(8, 8), body: 42, context: ROOT_CONTEXT });
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}

// ---- exporting --------------------------------------------------------------------------------

interface Exporter<T> {
  export(items: T[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

async function exportAll<T>(exporter: Exporter<T>, items: T[]): Promise<void> {
  try {
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(items, resolve));
    if (result.code !== 0) throw new Error(`export failed: ${result.error?.message ?? 'unknown error'}`);
  } finally {
    await exporter.shutdown();
  }
}

describe('OTLP receivers with the OpenTelemetry JS SDK as client', () => {
  let h: OtlpHarness;
  let hUnixGrpc: OtlpHarness;
  let spans: ReadableSpan[];
  let expectedSpans: ReturnType<typeof expectedSpan>[];
  let records: ReadableLogRecord[];
  let expectedRecords: ReturnType<typeof expectedLogRecord>[];

  beforeAll(async () => {
    h = await startOtlp();
    hUnixGrpc = await startOtlp({ receivers: { otlp: { http: null, unix: null, grpc: { endpoint: `unix:${join(h.dir, 'grpc', 'otlp-grpc.sock')}` } } } });
    spans = makeSpans();
    expectedSpans = spans.map(expectedSpan).sort(bySpanId);
    records = await makeLogRecords();
    expectedRecords = records.map(expectedLogRecord).sort(byTime);
  });

  afterAll(async () => {
    await h?.stop();
    await hUnixGrpc?.stop();
  });

  it('made spans that exercise the fields under test', () => {
    expect(spans).toHaveLength(6);
    const limited = spans.find((s) => s.name === 'limited')!;
    expect([limited.droppedAttributesCount, limited.droppedEventsCount, limited.droppedLinksCount]).toEqual([2, 2, 2]);
    // nanosecond times beyond 2^53: a double could not carry them
    const start = BigInt(ns(spans.find((s) => s.name === 'POST /api/orders')!.startTime));
    expect(start > 2n ** 53n).toBe(true);
    expect(Number(start).toString()).not.toBe(start.toString());
  });

  const traceCases: { name: string; transport: 'http' | 'unix' | 'grpc'; exporter: (h: OtlpHarness, unixGrpc: OtlpHarness) => Exporter<ReadableSpan> }[] = [
    { name: 'http/protobuf over TCP', transport: 'http', exporter: (h) => new ProtoExporter({ url: `http://${h.http}/v1/traces` }) },
    { name: 'http/protobuf + gzip over TCP', transport: 'http', exporter: (h) => new ProtoExporter({ url: `http://${h.http}/v1/traces`, compression: 'gzip' as never }) },
    { name: 'http/json over TCP', transport: 'http', exporter: (h) => new HttpJsonExporter({ url: `http://${h.http}/v1/traces` }) },
    { name: 'http/json + gzip over TCP', transport: 'http', exporter: (h) => new HttpJsonExporter({ url: `http://${h.http}/v1/traces`, compression: 'gzip' as never }) },
    {
      name: 'http/protobuf over the Unix socket',
      transport: 'unix',
      exporter: (h) => new ProtoExporter({ url: 'http://localhost/v1/traces', httpAgentOptions: () => new UnixSocketAgent(h.unix) }),
    },
    {
      name: 'http/json + gzip over the Unix socket',
      transport: 'unix',
      exporter: (h) => new HttpJsonExporter({ url: 'http://localhost/v1/traces', compression: 'gzip' as never, httpAgentOptions: () => new UnixSocketAgent(h.unix) }),
    },
    { name: 'gRPC over TCP', transport: 'grpc', exporter: (h) => new GrpcExporter({ url: `http://${h.grpc}` }) },
    { name: 'gRPC + gzip over TCP', transport: 'grpc', exporter: (h) => new GrpcExporter({ url: `http://${h.grpc}`, compression: 'gzip' as never }) },
    { name: 'gRPC over a Unix socket', transport: 'grpc', exporter: (_h, u) => new GrpcExporter({ url: `unix://${u.grpc}`, credentials: grpc.credentials.createInsecure() }) },
  ];

  for (const c of traceCases) {
    it(`spans via ${c.name} arrive with every field as the SDK produced it`, async () => {
      const target = c.name.includes('gRPC over a Unix') ? hUnixGrpc : h;
      target.traces.batches.length = 0;
      await exportAll(c.exporter(h, hUnixGrpc), spans);
      expect(target.traces.batches.every((b) => b.transport === c.transport)).toBe(true);
      const arrived = capturedSpans(target.traces.batches).sort(bySpanId);
      expect(arrived).toHaveLength(expectedSpans.length);
      for (let i = 0; i < arrived.length; i++) expect(arrived[i]).toEqual(expectedSpans[i]);
      expect(await target.metricValue('tracetail_spans_received_total', { transport: c.transport })).toBeGreaterThanOrEqual(spans.length);
    });
  }

  const logCases: { name: string; transport: 'http' | 'unix'; exporter: (h: OtlpHarness) => Exporter<ReadableLogRecord> }[] = [
    { name: 'http/protobuf over TCP', transport: 'http', exporter: (h) => new LogsProtoExporter({ url: `http://${h.http}/v1/logs` }) },
    { name: 'http/json + gzip over TCP', transport: 'http', exporter: (h) => new LogsHttpJsonExporter({ url: `http://${h.http}/v1/logs`, compression: 'gzip' as never }) },
    {
      name: 'http/protobuf + gzip over the Unix socket',
      transport: 'unix',
      exporter: (h) => new LogsProtoExporter({ url: 'http://localhost/v1/logs', compression: 'gzip' as never, httpAgentOptions: () => new UnixSocketAgent(h.unix) }),
    },
    {
      name: 'http/json over the Unix socket',
      transport: 'unix',
      exporter: (h) => new LogsHttpJsonExporter({ url: 'http://localhost/v1/logs', httpAgentOptions: () => new UnixSocketAgent(h.unix) }),
    },
  ];

  for (const c of logCases) {
    it(`log records via ${c.name} arrive in the logs pipeline with every field`, async () => {
      h.logs.batches.length = 0;
      await exportAll(c.exporter(h), records);
      expect(h.logs.batches.every((b) => b.transport === c.transport && b.checkpoints === undefined)).toBe(true);
      const arrived = capturedLogRecords(h.logs.batches).sort(byTime);
      expect(arrived).toHaveLength(expectedRecords.length);
      for (let i = 0; i < arrived.length; i++) expect(arrived[i]).toEqual(expectedRecords[i]);
    });
  }
});
