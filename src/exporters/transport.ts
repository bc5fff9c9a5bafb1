import type { Signal } from '../config/otel-env.js';
import type { PartialSuccess } from '../otlp/types.js';

/** The outcome of one export attempt: results, not exceptions, on the export path. */
export type SendResult =
  | { kind: 'success'; partial?: PartialSuccess }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  /** `tooLarge`: refused for its size (HTTP 413); smaller requests may pass. */
  | { kind: 'permanent'; reason: string; tooLarge?: boolean };

export interface SendOptions {
  /** Aborting gives up the attempt (the sidecar is stopping); the result is then `retryable`. */
  abort?: AbortSignal;
}

/**
 * Where batches leave the sidecar: one attempt per call. Batching, retry, the circuit breaker and
 * the durable queue wrap a transport (`QueueSender`); a transport has no retry loop of its own.
 */
export interface Transport {
  readonly name: string;
  /** `payload` is an encoded OTLP protobuf Export<Signal>ServiceRequest holding `items` items. */
  send(signal: Signal, payload: Uint8Array, items: number, options?: SendOptions): Promise<SendResult>;
  close(): Promise<void>;
}
