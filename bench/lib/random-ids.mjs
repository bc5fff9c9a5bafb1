import { randomFillSync } from 'node:crypto';
import Long from 'long';

/**
 * Random trace and span ids, as the SDK makes them, cut from one buffer as decoded ids are views
 * into their request; `ids.made` counts them.
 */
export const ids = { made: 0 };
let buffer = Buffer.alloc(0);
let at = 0;
export function id(bytes) {
  ids.made++;
  if (at + bytes > buffer.length) {
    buffer = randomFillSync(Buffer.allocUnsafe(64 * 1024));
    at = 0;
  }
  at += bytes;
  return buffer.subarray(at - bytes, at);
}

/** ms as OTLP's fixed64 ns. */
export const ns = (ms) => Long.fromNumber(Math.round(ms * 1e6), true);
