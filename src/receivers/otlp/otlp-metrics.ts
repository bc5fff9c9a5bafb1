/**
 * The OTLP receivers' own metrics, with the label children of one transport bound once. Counting
 * happens per request (a batch), never per item. The label combinations a dashboard or an alert
 * asks for exist at 0 from start-up.
 */
import type { Counter, Histogram } from 'prom-client';
import { SIGNALS, type Signal } from '../../otlp/signals.js';
import type { Telemetry } from '../../metrics/telemetry.js';
import { METRICS } from '../../metrics/catalogue.js';

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
    this.requests = telemetry.counter(METRICS.otlpRequests);
    const spans = telemetry.counter(METRICS.spansReceived);
    const size = telemetry.histogram(METRICS.otlpRequestSize);
    const rejected = telemetry.counter(METRICS.otlpItemsRejected);
    const refused = telemetry.counter(METRICS.otlpConnectionsRefused);

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
