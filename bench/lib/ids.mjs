// Trace and span ids for the whole-CLI benchmarks: random-looking (as real ids are; they do not
// compress) but derived from a sequence number, so that the processes of a benchmark agree on
// them without talking (the line writer puts trace t's id in its lines, the span sender in its
// spans) and the collector can tell which span arrived from its id alone (duplicates, losses).
//
// mix32 is a bijection on 32-bit integers (xor-shift, multiply by an odd constant, twice);
// unmix32 is its inverse.

const M = 0x45d9f3b;
const M_INVERSE = 0x119de1f3; // M * M_INVERSE = 1 (mod 2^32)

export function mix32(x) {
  x = Math.imul((x ^ (x >>> 16)) >>> 0, M) >>> 0;
  x = Math.imul((x ^ (x >>> 16)) >>> 0, M) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export function unmix32(x) {
  x = Math.imul((x ^ (x >>> 16)) >>> 0, M_INVERSE) >>> 0;
  x = Math.imul((x ^ (x >>> 16)) >>> 0, M_INVERSE) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

// Numbers are offset before mixing so that trace 0 and span 0 do not get a zero word (mix32(0) is 0).
const OFFSET = 0x9e3779b9;
const SPAN_SALT = 0xa5a5a5a5;
const TRACE_SALTS = [0x5eed0001, 0x5eed0002, 0x5eed0003];

/** Writes the 8-byte id of span number `j` at `offset`. */
export function writeSpanId(buf, offset, j) {
  const hi = mix32((j + OFFSET) >>> 0);
  buf.writeUInt32BE(hi, offset);
  buf.writeUInt32BE(mix32((hi + SPAN_SALT) >>> 0), offset + 4);
}

/** Writes the 16-byte id of trace number `t` at `offset`. */
export function writeTraceId(buf, offset, t) {
  const w = mix32((t + OFFSET) >>> 0);
  buf.writeUInt32BE(mix32((w + TRACE_SALTS[0]) >>> 0), offset);
  buf.writeUInt32BE(mix32((w + TRACE_SALTS[1]) >>> 0), offset + 4);
  buf.writeUInt32BE(mix32((w + TRACE_SALTS[2]) >>> 0), offset + 8);
  buf.writeUInt32BE(w, offset + 12);
}

const hex8 = (n) => n.toString(16).padStart(8, '0');

export function spanIdHex(j) {
  const hi = mix32((j + OFFSET) >>> 0);
  return hex8(hi) + hex8(mix32((hi + SPAN_SALT) >>> 0));
}

export function traceIdHex(t) {
  const w = mix32((t + OFFSET) >>> 0);
  return hex8(mix32((w + TRACE_SALTS[0]) >>> 0)) + hex8(mix32((w + TRACE_SALTS[1]) >>> 0)) + hex8(mix32((w + TRACE_SALTS[2]) >>> 0)) + hex8(w);
}

/** The span number whose id `spanId` (8 bytes) is, or -1 for an id these functions did not make. */
export function spanNumber(spanId) {
  if (!spanId || spanId.length !== 8) return -1;
  const b = spanId;
  const hi = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const lo = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  return mix32((hi + SPAN_SALT) >>> 0) === lo ? (unmix32(hi) - OFFSET) >>> 0 : -1;
}
