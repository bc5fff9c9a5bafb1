/**
 * Batches made by the real OpenTelemetry JS SDK: spans and log records are created through the
 * SDK's API, serialized by the SDK's own OTLP serializer and decoded by tracetail's codec, so the
 * batches look exactly like what the OTLP receiver hands the pipeline.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeRequest } from '../../src/otlp/codec.js';
import type { LogBatch, TraceBatch } from '../../src/pipeline/batches.js';

export { SpanKind, SpanStatusCode };

export interface SpanSpec {
  name: string;
  kind?: SpanKind;
  error?: boolean;
  /** Duration in milliseconds (exact: start and end times are set explicitly). */
  durationMs: number;
  attributes?: Attributes;
}

export interface LogSpec {
  body: string;
  severityText?: string;
  severityNumber?: SeverityNumber;
  attributes?: Attributes;
  /** Emit the record inside this span's context (the record then carries its trace and span id). */
  span?: Span;
}

/** A tracer and a logger of one service; `takeTraceBatch()` / `takeLogBatch()` return what they recorded. */
export class SdkSource {
  private readonly spans = new InMemorySpanExporter();
  private readonly logs = new InMemoryLogRecordExporter();
  readonly tracerProvider: BasicTracerProvider;
  readonly loggerProvider: LoggerProvider;
  readonly sentTraceIds = new Set<string>();

  constructor(
    serviceName: string,
    resource: Attributes = {},
    private readonly options: { trackTraceIds?: boolean } = {},
  ) {
    const res = resourceFromAttributes({ 'service.name': serviceName, ...resource });
    this.tracerProvider = new BasicTracerProvider({ resource: res, spanProcessors: [new SimpleSpanProcessor(this.spans)] });
    this.loggerProvider = new LoggerProvider({ resource: res, processors: [new SimpleLogRecordProcessor({ exporter: this.logs })] });
  }

  /** Record spans that end now and started `durationMs` earlier. */
  span(spec: SpanSpec): Span {
    const end = Date.now();
    const span = this.tracerProvider.getTracer('test').startSpan(spec.name, {
      kind: spec.kind ?? SpanKind.SERVER,
      startTime: end - spec.durationMs,
      attributes: spec.attributes,
    });
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end(end);
    if (this.options.trackTraceIds !== false) this.sentTraceIds.add(span.spanContext().traceId);
    return span;
  }

  log(spec: LogSpec): void {
    const ctx = spec.span ? trace.setSpan(context.active(), spec.span) : context.active();
    this.loggerProvider.getLogger('test').emit({
      body: spec.body,
      severityText: spec.severityText,
      severityNumber: spec.severityNumber,
      attributes: spec.attributes,
      context: ctx,
    });
  }

  /** The spans recorded since the last call, as the OTLP receiver would hand them on. */
  takeTraceBatch(): TraceBatch {
    const finished = this.spans.getFinishedSpans();
    this.spans.reset();
    const bytes = ProtobufTraceSerializer.serializeRequest(finished)!;
    return { resourceSpans: decodeRequest('traces', bytes, 'protobuf').resourceSpans, transport: 'http' };
  }

  takeLogBatch(): LogBatch {
    const finished = this.logs.getFinishedLogRecords();
    this.logs.reset();
    const bytes = ProtobufLogsSerializer.serializeRequest(finished)!;
    return { resourceLogs: decodeRequest('logs', bytes, 'protobuf').resourceLogs, transport: 'file' };
  }
}
