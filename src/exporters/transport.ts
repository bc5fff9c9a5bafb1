import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { Signal } from '../otlp/signals.js';
import type { PartialSuccess } from '../otlp/types.js';

/** The outcome of one export attempt: results, not exceptions, on the export path. */
export type SendResult =
  | { kind: 'success'; partial?: PartialSuccess }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  /** `tooLarge`: refused for its size (HTTP 413); smaller requests may pass. */
  | { kind: 'permanent'; reason: string; tooLarge?: boolean };

/**
 * An encoded OTLP protobuf Export<Signal>ServiceRequest: one buffer, or several that are one
 * request when joined (protobuf reads concatenated requests as one with their lists merged). A
 * part may be gzip-compressed (the queue keeps entries so while it backs up): an encoded request
 * never starts with gzip's magic bytes (its first byte is a field tag, 0x0a).
 */
export type Payload = Uint8Array | readonly Uint8Array[];

const gunzip = promisify(gunzipCallback);

export function partsOf(payload: Payload): readonly Uint8Array[] {
  return payload instanceof Uint8Array ? [payload] : payload;
}

export function isGzip(part: Uint8Array): boolean {
  return part.byteLength >= 2 && part[0] === 0x1f && part[1] === 0x8b;
}

/** A part as it is, or decompressed (one at a time: a backlog's batch holds many). */
export function uncompressedPart(part: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return isGzip(part) ? gunzip(part) : part;
}

/** The parts, a compressed one decompressed. */
export async function uncompressed(payload: Payload): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const part of partsOf(payload)) out.push(await uncompressedPart(part));
  return out;
}

/** The payload as one uncompressed buffer. */
export async function joined(payload: Payload): Promise<Uint8Array> {
  const parts = await uncompressed(payload);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
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
