/**
 * Spans made by the real OpenTelemetry JS SDK, turned into the TraceBatch the OTLP receiver hands
 * on (serialized as OTLP protobuf, decoded by tracetail's codec), and LogBatches shaped like the
 * ones the file receiver builds.
 */
import { context, trace, type Context, type Span, type SpanOptions } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Long from 'long';
import { decodeRequest } from '../../src/otlp/codec.js';
import type { LogRecord } from '../../src/otlp/types.js';
import { keyValue } from '../../src/otlp/values.js';
import type { LogBatch, TraceBatch } from '../../src/pipeline/batches.js';

export class SpanRecorder {
  private readonly exporter = new InMemorySpanExporter();
  readonly provider: BasicTracerProvider;
  readonly tracer;

  constructor(resource: Record<string, string> = { 'service.name': 'checkout' }) {
    this.provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
    this.tracer = this.provider.getTracer('tracetail-test', '1.0.0');
  }

  /** Starts a span, as a child of `parent` when given. */
  start(name: string, parent?: Span, options: SpanOptions = {}): Span {
    const ctx: Context = parent ? trace.setSpan(context.active(), parent) : context.active();
    return this.tracer.startSpan(name, options, ctx);
  }

  /** The spans finished since the last call, as the OTLP receiver would hand them on. */
  takeBatch(transport = 'http'): TraceBatch {
    const spans = this.exporter.getFinishedSpans();
    this.exporter.reset();
    const bytes = ProtobufTraceSerializer.serializeRequest(spans);
    if (!bytes) throw new Error('the SDK serializer returned nothing');
    return { resourceSpans: decodeRequest('traces', bytes, 'protobuf').resourceSpans, transport };
  }
}

export interface TestLog {
  body: string;
  span?: Span;
  traceId?: string;
  spanId?: string;
  severityNumber?: number;
  severityText?: string;
  /** ms since epoch; now by default. */
  timeMs?: number;
}

/** A LogBatch as the file receiver builds it: one resource, one scope, ids as bytes. */
export function logBatch(logs: TestLog[], resource: Record<string, string> = { 'service.name': 'checkout' }, transport = 'file'): LogBatch {
  const logRecords: LogRecord[] = logs.map((l) => {
    const traceId = l.traceId ?? l.span?.spanContext().traceId;
    const spanId = l.spanId ?? l.span?.spanContext().spanId;
    const ns = Long.fromNumber(Math.round((l.timeMs ?? Date.now()) * 1e6), true);
    return {
      timeUnixNano: ns,
      observedTimeUnixNano: ns,
      severityNumber: l.severityNumber ?? 9,
      severityText: l.severityText ?? 'INFO',
      body: { stringValue: l.body },
      attributes: [keyValue('log.file.name', 'app.log')],
      traceId: traceId ? Buffer.from(traceId, 'hex') : undefined,
      spanId: spanId ? Buffer.from(spanId, 'hex') : undefined,
    };
  });
  return {
    resourceLogs: [{ resource: { attributes: Object.entries(resource).map(([k, v]) => keyValue(k, v)) }, scopeLogs: [{ scope: { name: 'tracetail' }, logRecords }] }],
    transport,
  };
}
