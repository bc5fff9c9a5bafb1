import type { Signal } from '../config/otel-env.js';
import type { PartialSuccess } from '../otlp/types.js';

/** The outcome of one export attempt: results, not exceptions, on the export path. */
export type SendResult =
  | { kind: 'success'; partial?: PartialSuccess }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  /** `tooLarge`: refused for its size (HTTP 413); smaller requests may pass. */
  | { kind: 'permanent'; reason: string; tooLarge?: boolean };

/**
 * An encoded OTLP protobuf Export<Signal>ServiceRequest: one buffer, or several that are one
 * request when joined (protobuf reads concatenated requests as one with their lists merged).
 */
export type Payload = Uint8Array | readonly Uint8Array[];

/** The payload as one buffer. */
export function joined(payload: Payload): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  return payload.length === 1 ? payload[0] : Buffer.concat(payload);
}

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
  /** `payload` holds `items` items. */
  send(signal: Signal, payload: Payload, items: number, options?: SendOptions): Promise<SendResult>;
  close(): Promise<void>;
}
