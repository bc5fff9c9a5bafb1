/**
 * Trace and span ids as loggers spell them: hex (any case), 64-bit trace ids (left-padded to 128
 * bits as the B3 and Jaeger propagators do), unsigned 64-bit decimals (Datadog) and numbers. Each
 * parser returns the id bytes or the reason it was refused, so that a refused id is counted and
 * never exported.
 */

export const INVALID_ID_REASONS = [
  'wrong_length',
  'not_hex',
  'all_zero',
  'out_of_range',
  'imprecise_number',
  'bad_traceparent',
  'bad_flags',
] as const;
export type InvalidIdReason = (typeof INVALID_ID_REASONS)[number];

/** A parsed id, or why it was refused. */
export type IdResult = Uint8Array | InvalidIdReason;

/** Char code → nibble value; 256 for anything that is not a hex digit (one lookup per char, no branches). */
const NIBBLE = new Uint16Array(65536).fill(256);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  NIBBLE[97 + c] = 10 + c;
  NIBBLE[65 + c] = 10 + c;
}

/**
 * Ids are views into shared slabs: a view is less than half the heap of its own Uint8Array, and
 * the ids of a batch of records live and die together. Bytes are written at `slabUsed` and kept
 * (`commitId`) only when the id is valid; a refused id leaves its bytes zeroed for the next one
 * (ids shorter than their field are left-padded with the slab's zeros).
 */
const SLAB_BYTES = 4096;
let slabBuffer = new ArrayBuffer(SLAB_BYTES);
let slab = new Uint8Array(slabBuffer);
let slabUsed = 0;

/** The slab with room for `bytes` zero bytes at `slabUsed`. */
function slabFor(bytes: number): Uint8Array {
  if (slabUsed + bytes > SLAB_BYTES) {
    slabBuffer = new ArrayBuffer(SLAB_BYTES);
    slab = new Uint8Array(slabBuffer);
    slabUsed = 0;
  }
  return slab;
}

/** The `bytes` written at `slabUsed` as an id. */
function commitId(bytes: number): Uint8Array {
  const id = new Uint8Array(slabBuffer, slabUsed, bytes);
  slabUsed += bytes;
  return id;
}

/** Zero what was written at `slabUsed` for an id that was refused. */
function discardId(bytes: number): void {
  slab.fill(0, slabUsed, slabUsed + bytes);
}

/**
 * `bytes` bytes from the hex digits `text[start, end)`, written so that they end at the id's
 * last byte (a 64-bit trace id is left-padded with zero bytes).
 */
function decodeHex(text: string, start: number, end: number, bytes: number): IdResult {
  const out = slabFor(bytes);
  const at = slabUsed;
  let bad = 0;
  let nonZero = 0;
  for (let i = start, o = at + bytes - (end - start) / 2; i < end; i += 2, o++) {
    const hi = NIBBLE[text.charCodeAt(i)];
    const lo = NIBBLE[text.charCodeAt(i + 1)];
    bad |= hi | lo;
    const b = (hi << 4) | lo;
    out[o] = b;
    nonZero |= b;
  }
  if ((bad & 256) !== 0 || (nonZero & 255) === 0) {
    discardId(bytes);
    return (bad & 256) !== 0 ? 'not_hex' : 'all_zero';
  }
  return commitId(bytes);
}

export function isHexCode(charCode: number): boolean {
  return NIBBLE[charCode] !== 256;
}

/** True when `text[start, end)` is all hex digits. */
function allHex(text: string, start: number, end: number): boolean {
  let bad = 0;
  for (let i = start; i < end; i++) bad |= NIBBLE[text.charCodeAt(i)];
  return (bad & 256) === 0;
}

/** Exactly `bytes * 2` hex digits at `text[start, end)`. */
export function hexId(text: string, bytes: number, start = 0, end = text.length): IdResult {
  if (end - start !== bytes * 2) return allHex(text, start, end) ? 'wrong_length' : 'not_hex';
  return decodeHex(text, start, end, bytes);
}

/** A trace id: 32 hex digits, or 16 (a 64-bit id, left-padded to 128 bits). */
export function hexTraceId(text: string, start = 0, end = text.length): IdResult {
  const n = end - start;
  if (n !== 32 && n !== 16) return allHex(text, start, end) ? 'wrong_length' : 'not_hex';
  return decodeHex(text, start, end, 16);
}

/**
 * An AWS X-Ray trace id as an OTel trace id: the 8 hex digits of its epoch part at
 * `text[epochStart]`, then the 24 of its random part at `text[randomStart]` (both checked as hex).
 */
export function xrayTraceId(text: string, epochStart: number, randomStart: number): IdResult {
  const out = slabFor(16);
  const o = slabUsed;
  let nonZero = 0;
  for (let i = 0; i < 32; i += 2) {
    const at = i < 8 ? epochStart + i : randomStart + i - 8;
    const b = (NIBBLE[text.charCodeAt(at)] << 4) | NIBBLE[text.charCodeAt(at + 1)];
    out[o + (i >> 1)] = b;
    nonZero |= b;
  }
  if ((nonZero & 255) === 0) {
    discardId(16);
    return 'all_zero';
  }
  return commitId(16);
}

/** A span id: 16 hex digits. */
export function hexSpanId(text: string, start = 0, end = text.length): IdResult {
  return hexId(text, 8, start, end);
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const TWO_32 = 4294967296;

/**
 * An unsigned 64-bit decimal (or a JS number) in the last 8 bytes of a `bytes`-long id. Exact
 * without BigInt: the value is kept as two 32-bit halves, each step of `v * 10 + digit` staying
 * far below 2^53.
 */
function decimalId(value: string | number, bytes: number): IdResult {
  let hi = 0;
  let lo = 0;
  if (typeof value === 'number') {
    // JSON.parse has already rounded anything past 2^53: such an id cannot be trusted.
    if (!Number.isInteger(value) || value < 0) return 'out_of_range';
    if (!Number.isSafeInteger(value)) return 'imprecise_number';
    hi = Math.floor(value / TWO_32);
    lo = value % TWO_32;
  } else {
    if (value.length > 20) return 'out_of_range';
    for (let i = 0; i < value.length; i++) {
      lo = lo * 10 + (value.charCodeAt(i) - 48);
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) return 'out_of_range';
    }
  }
  if (hi === 0 && lo === 0) return 'all_zero';
  const out = slabFor(bytes);
  const o = slabUsed + bytes - 8;
  out[o] = hi >>> 24;
  out[o + 1] = hi >>> 16;
  out[o + 2] = hi >>> 8;
  out[o + 3] = hi;
  out[o + 4] = lo >>> 24;
  out[o + 5] = lo >>> 16;
  out[o + 6] = lo >>> 8;
  out[o + 7] = lo;
  return commitId(bytes);
}

/**
 * A Datadog trace id: an unsigned 64-bit decimal (older tracers log the low 64 bits of the
 * 128-bit id; the high half is left zero) or 32 hex digits (128-bit logging in newer tracers).
 */
export function datadogTraceId(value: unknown): IdResult | undefined {
  if (typeof value === 'number') return decimalId(value, 16);
  if (typeof value !== 'string' || isAbsent(value)) return undefined;
  if (isDigits(value) && value.length <= 20) return decimalId(value, 16);
  return hexTraceId(value);
}

/** A Datadog span id: an unsigned 64-bit decimal, or 16 hex digits. */
export function datadogSpanId(value: unknown): IdResult | undefined {
  if (typeof value === 'number') return decimalId(value, 8);
  if (typeof value !== 'string' || isAbsent(value)) return undefined;
  if (isDigits(value)) return decimalId(value, 8);
  return hexSpanId(value);
}

/**
 * Values loggers write when there is no span: empty, "0" (Python's OTel formatter), "-" and
 * friends. They mean "no context", not "a broken id", so they are neither used nor counted.
 */
export function isAbsent(text: string): boolean {
  switch (text.length) {
    case 0:
      return true;
    case 1:
      return text === '0' || text === '-';
    case 4:
      return text === 'null' || text === 'None' || text === 'none';
    case 9:
      return text === 'undefined';
    default:
      return false;
  }
}

/**
 * The last id accepted from a field value, per kind: the lines of one request follow each other
 * and carry the same trace id (and, within one span, the same span id), so a repeated id costs a
 * string compare and its records share one (never modified) array.
 */
interface LastId {
  /** null until an id was accepted: never equal to a field value. */
  text: string | null;
  id: Uint8Array;
}
const lastTrace: LastId = { text: null, id: new Uint8Array(16) };
const lastSpan: LastId = { text: null, id: new Uint8Array(8) };

function remembered(last: LastId, text: string, r: IdResult): IdResult {
  if (typeof r !== 'string') {
    last.text = text;
    last.id = r;
  }
  return r;
}

/** A hex trace id from a field value; undefined when the field says "no context". */
export function traceIdValue(value: unknown): IdResult | undefined {
  if (typeof value === 'string') {
    if (value === lastTrace.text) return lastTrace.id;
    return isAbsent(value) ? undefined : remembered(lastTrace, value, hexTraceId(value));
  }
  if (typeof value === 'number') return value === 0 ? undefined : 'not_hex';
  return undefined;
}

/** A hex span id from a field value; undefined when the field says "no context". */
export function spanIdValue(value: unknown): IdResult | undefined {
  if (typeof value === 'string') {
    if (value === lastSpan.text) return lastSpan.id;
    return isAbsent(value) ? undefined : remembered(lastSpan, value, hexSpanId(value));
  }
  if (typeof value === 'number') return value === 0 ? undefined : 'not_hex';
  return undefined;
}

/**
 * Trace flags: a number 0-255 or one or two hex digits ("01"); booleans and "true"/"false" (a
 * sampled flag, as Python's OTel formatter and Sleuth write it) set or clear bit 0.
 */
export function flagsValue(value: unknown): number | InvalidIdReason | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= 0 && value <= 255 ? value : 'bad_flags';
    case 'boolean':
      return value ? 1 : 0;
    case 'string': {
      if (value.length === 0) return undefined;
      if (value.length <= 2 && allHex(value, 0, value.length)) {
        return value.length === 1 ? NIBBLE[value.charCodeAt(0)] : (NIBBLE[value.charCodeAt(0)] << 4) | NIBBLE[value.charCodeAt(1)];
      }
      const lower = value.toLowerCase();
      if (lower === 'true') return 1;
      if (lower === 'false') return 0;
      return 'bad_flags';
    }
    default:
      return undefined;
  }
}

export interface TraceContext {
  /** 16 bytes. */
  traceId: Uint8Array;
  /** 8 bytes, when the record names its span. */
  spanId: Uint8Array | undefined;
  /** W3C trace flags (bit 0: sampled), when the record carries them. */
  flags: number | undefined;
}

/** Where refused ids are counted. Called rarely (only for a refused id), never per record. */
export type InvalidIdSink = (reason: InvalidIdReason) => void;
