/**
 * Traffic of an instrumented web service as the sidecar sees it from outside: spans made by the
 * real OpenTelemetry JS SDK and exported over OTLP/HTTP to the sidecar's receiver, and log lines
 * appended to a file the sidecar tails. Spans have exact durations (start and end set
 * explicitly); everything made since the last `flush()` leaves in one OTLP request and one write.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TrafficSpan {
  name: string;
  durationMs: number;
  error?: boolean;
  kind?: SpanKind;
  attributes?: Attributes;
}

export class CheckoutTraffic {
  readonly sentTraceIds = new Set<string>();
  private readonly provider: BasicTracerProvider;
  private lines: string[] = [];
  spansSent = 0;
  linesWritten = 0;

  /** `tracesUrl`: the receiver's full /v1/traces URL; `logFile`: a file the sidecar tails. */
  constructor(
    tracesUrl: string,
    readonly logFile: string,
    service = 'checkout',
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      // Nothing leaves on a timer or a full buffer: only flush() sends, all at once.
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }), { scheduledDelayMillis: 3_600_000, maxQueueSize: 100_000, maxExportBatchSize: 100_000 })],
    });
  }

  /** A span that ends now and started `durationMs` earlier. */
  span(spec: TrafficSpan): Span {
    const end = Date.now();
    const span = this.provider.getTracer('checkout-traffic').startSpan(spec.name, { kind: spec.kind ?? SpanKind.SERVER, startTime: end - spec.durationMs, attributes: spec.attributes });
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end(end);
    this.sentTraceIds.add(span.spanContext().traceId);
    this.spansSent++;
    return span;
  }

  /** A JSON log line (time and level added), with the trace context of `span` when given. */
  json(level: string, msg: string, fields: Record<string, unknown> = {}, span?: Span): void {
    const context = span ? { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId } : {};
    this.lines.push(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...context }));
  }

  /** A raw line (logfmt, plain text). */
  raw(line: string): void {
    this.lines.push(line);
  }

  /** Append the pending lines in one write and export the pending spans in one request. */
  async flush(): Promise<void> {
    if (this.lines.length > 0) {
      appendFileSync(this.logFile, `${this.lines.join('\n')}\n`);
      this.linesWritten += this.lines.length;
      this.lines = [];
    }
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
