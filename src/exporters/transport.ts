import type { Signal } from '../config/otel-env.js';
import type { PartialSuccess } from '../otlp/types.js';

/** The outcome of one export attempt: results, not exceptions, on the export path. */
export type SendResult =
  | { kind: 'success'; partial?: PartialSuccess }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'permanent'; reason: string };

/** Where batches leave the sidecar. Retry, queueing and batching wrap a transport; it has none of its own. */
export interface Transport {
  readonly name: string;
  /** `payload` is an encoded OTLP protobuf Export<Signal>ServiceRequest holding `items` items. */
  send(signal: Signal, payload: Uint8Array, items: number): Promise<SendResult>;
  close(): Promise<void>;
}
