/**
 * String and bytes fields of OTLP protobuf requests, read out of the request body.
 *
 * - Strings: OTLP batches repeat the same short strings (attribute keys, span names, methods,
 *   routes) hundreds of times. Short ASCII strings are looked up in a small cache keyed by a hash
 *   of their bytes and verified byte by byte, so a repeated key costs a compare, not a native
 *   call and an allocation. Strings that are not ASCII must be valid UTF-8 (as proto3 requires);
 *   invalid ones are refused instead of being silently replaced with U+FFFD.
 * - Bytes (trace and span ids, bytes values) are copied out of the request body, so an id kept by
 *   a later stage does not keep a whole request body alive.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../errors.js';

const CACHE_SLOTS = 4096; // a power of two
const CACHE_MAX_LENGTH = 64;
const cachedStrings: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS);
/** The bytes of each cached string, CACHE_MAX_LENGTH per slot: bytes compare faster than strings. */
const cachedBytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_LENGTH);
const cachedView = new DataView(cachedBytes.buffer);
const EMPTY = Buffer.alloc(0);

/** Node's Buffer has these (protobufjs uses them too); @types/node does not declare them. */
export type SliceableBuffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

/** A DataView over a whole Buffer (for readString, and for fixed-width fields). */
export function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The UTF-8 string in `buf[start, end)`; throws DecodeError when it is not valid UTF-8. `view` is
 * viewOf(buf): bytes are hashed, compared and checked four at a time.
 */
export function readString(buf: SliceableBuffer, view: DataView, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > CACHE_MAX_LENGTH) return readUtf8(buf, start, end);
  // The slot comes from a hash of every byte, four at a time; a hit is then compared in full
  // (which also proves the bytes are ASCII, as only ASCII strings are cached).
  let h = len;
  let i = start;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x9e3779b1);
  if (i < end) h = Math.imul(h ^ (len >= 4 ? view.getInt32(end - 4, true) : buf[start] | (buf[start + (len >> 1)] << 8) | (buf[end - 1] << 16)), 0x85ebca6b);
  const slot = (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
  const cached = cachedStrings[slot];
  if (cached !== undefined && cached.length === len) {
    const at = slot * CACHE_MAX_LENGTH;
    i = 0;
    while (i + 4 <= len && cachedView.getInt32(at + i, true) === view.getInt32(start + i, true)) i += 4;
    if (i + 4 > len) {
      while (i < len && cachedBytes[at + i] === buf[start + i]) i++;
      if (i === len) return cached;
    }
  }
  return cacheString(buf, view, start, end, slot);
}

/** A string missing from its cache slot: copy its bytes into the slot, checking they are ASCII on the way. */
function cacheString(buf: SliceableBuffer, view: DataView, start: number, end: number, slot: number): string {
  const len = end - start;
  const at = slot * CACHE_MAX_LENGTH;
  let or = 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const w = view.getInt32(start + i, true);
    or |= w;
    cachedView.setInt32(at + i, w, true);
  }
  for (; i < len; i++) {
    const b = buf[start + i];
    or |= b;
    cachedBytes[at + i] = b;
  }
  if ((or & 0x80808080) === 0) {
    const s = buf.latin1Slice(start, end);
    cachedStrings[slot] = s;
    return s;
  }
  cachedStrings[slot] = undefined;
  return readUtf8(buf, start, end);
}

function readUtf8(buf: SliceableBuffer, start: number, end: number): string {
  if (!isUtf8(buf.subarray(start, end))) throw new DecodeError(`invalid UTF-8 in a string field at byte ${start}`);
  return buf.utf8Slice(start, end);
}

/** A copy of `buf[start, end)` (one shared empty Buffer for empty fields). */
export function copyBytes(buf: Buffer, start: number, end: number): Buffer {
  const len = end - start;
  if (len === 0) return EMPTY;
  const out = Buffer.allocUnsafe(len);
  if (len <= 32) {
    for (let i = 0; i < len; i++) out[i] = buf[start + i];
  } else {
    buf.copy(out, 0, start, end);
  }
  return out;
}
