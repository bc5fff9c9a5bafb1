/**
 * The OTLP receivers' own metrics, with the label children of one transport bound once. Counting
 * happens per request (a batch), never per item. The label combinations a dashboard or an alert
 * asks for exist at 0 from start-up.
 */
import type { Counter, Histogram } from 'prom-client';
import { SIGNALS, type Signal } from '../../otlp/signals.js';
import type { Telemetry } from '../../metrics/telemetry.js';

export type OtlpTransport = 'http' | 'unix' | 'grpc';

/** The codes pre-created at 0: HTTP status codes, or gRPC status names on the gRPC transport. */
const KNOWN_CODES: Record<OtlpTransport, readonly string[]> = {
  http: ['200', '400', '413', '415', '429', '503'],
  unix: ['200', '400', '413', '415', '429', '503'],
  grpc: ['OK', 'INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'],
};

export const REJECT_REASONS = ['invalid_id'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Decompressed request sizes, 256 B to 64 MiB (the default limit) by powers of four. */
const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

export class TransportMetrics {
  private readonly requestChildren = new Map<string, CounterChild>();
  private readonly requests: Counter<'transport' | 'signal' | 'code'>;
  readonly spansReceived: CounterChild;
  readonly requestSize: Record<Signal, HistogramChild>;
  readonly rejected: Record<'traces' | 'logs', Record<RejectReason, CounterChild>>;
  readonly connectionsRefused: CounterChild;

  constructor(
    telemetry: Telemetry,
    readonly transport: OtlpTransport,
  ) {
    this.requests = telemetry.counter({
      name: 'tracetail_otlp_requests_total',
      help: 'OTLP export requests received, by transport (http, unix, grpc), signal and response code (HTTP status, or gRPC status name).',
      labelNames: ['transport', 'signal', 'code'] as const,
    });
    const spans = telemetry.counter({
      name: 'tracetail_spans_received_total',
      help: 'Spans accepted by the OTLP receivers (durable in the export queue), by transport.',
      labelNames: ['transport'] as const,
    });
    const size = telemetry.histogram({
      name: 'tracetail_otlp_request_size_bytes',
      help: 'Size of OTLP request bodies after decompression.',
      labelNames: ['transport', 'signal'] as const,
      buckets: SIZE_BUCKETS,
    });
    const rejected = telemetry.counter({
      name: 'tracetail_otlp_items_rejected_total',
      help: 'Spans and log records refused in a partial success (not kept), by transport, signal and reason.',
      labelNames: ['transport', 'signal', 'reason'] as const,
    });
    const refused = telemetry.counter({
      name: 'tracetail_otlp_connections_refused_total',
      help: 'Connections closed on accept because the listener had limits.max_connections open.',
      labelNames: ['transport'] as const,
    });

    this.spansReceived = spans.labels({ transport });
    this.spansReceived.inc(0);
    this.connectionsRefused = refused.labels({ transport });
    this.connectionsRefused.inc(0);
    this.requestSize = {} as Record<Signal, HistogramChild>;
    for (const signal of SIGNALS) {
      size.zero({ transport, signal });
      this.requestSize[signal] = size.labels({ transport, signal });
      for (const code of KNOWN_CODES[transport]) this.request(signal, code).inc(0);
    }
    const rejectedOf = (signal: 'traces' | 'logs') =>
      Object.fromEntries(
        REJECT_REASONS.map((reason) => {
          const child = rejected.labels({ transport, signal, reason });
          child.inc(0);
          return [reason, child];
        }),
      ) as Record<RejectReason, CounterChild>;
    this.rejected = { traces: rejectedOf('traces'), logs: rejectedOf('logs') };
  }

  /** The request counter child for a signal ("unknown" when the route is not an OTLP one) and a code. */
  request(signal: Signal | 'unknown', code: string | number): CounterChild {
    const key = `${signal} ${code}`;
    let child = this.requestChildren.get(key);
    if (!child) {
      child = this.requests.labels({ transport: this.transport, signal, code: String(code) });
      this.requestChildren.set(key, child);
    }
    return child;
  }
}
