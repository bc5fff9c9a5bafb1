/**
 * The TraceIdRatioBased rule exactly as the OpenTelemetry JS SDK's TraceIdRatioBasedSampler
 * (@opentelemetry/sdk-trace-base 2.x) applies it, so that the logs kept at a ratio are those of
 * the traces a ratio-based trace sampler at the same ratio keeps: the four 32-bit words of the
 * trace id (big-endian, as its hex reads) are XORed together, and the trace is sampled when the
 * result is below floor(ratio * 0xffffffff) (2^32 at ratio 1). An all-zero id is never sampled.
 * Here it reads the id's bytes, not its hex.
 */
import { isZeroId } from '../../otlp/id-key.js';

/** The bound the XOR of the trace id's words must stay below, for `ratio` (clamped to 0..1). */
export function ratioUpperBound(ratio: number): number {
  const r = typeof ratio !== 'number' || Number.isNaN(ratio) ? 0 : ratio >= 1 ? 1 : ratio <= 0 ? 0 : ratio;
  return r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
}

/** The XOR of the four big-endian 32-bit words of a 16-byte trace id, unsigned. */
export function traceIdAccumulation(id: Uint8Array): number {
  let acc = 0;
  for (let i = 0; i < 16; i += 4) acc = (acc ^ ((id[i] << 24) | (id[i + 1] << 16) | (id[i + 2] << 8) | id[i + 3])) >>> 0;
  return acc;
}

export function ratioSamples(id: Uint8Array, upperBound: number): boolean {
  return id.length === 16 && !isZeroId(id) && traceIdAccumulation(id) < upperBound;
}
