/**
 * The protobuf reader OTLP requests are decoded with: protobufjs's BufferReader with two changes
 * that matter on the ingest hot path.
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
import protobuf from 'protobufjs';
import { DecodeError } from '../errors.js';

const CACHE_SLOTS = 4096; // a power of two
const CACHE_MAX_LENGTH = 64;
const cachedStrings: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS);
const cachedHashes = new Int32Array(CACHE_SLOTS);
const EMPTY = Buffer.alloc(0);

/** Node's Buffer has these (protobufjs uses them too); @types/node does not declare them. */
type SliceableBuffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

export class FastReader extends protobuf.BufferReader {
  declare buf: SliceableBuffer;

  constructor(buffer: Buffer) {
    super(buffer);
  }

  /** Skip over a length-delimited field; returns where its content starts (it ends at `pos`). */
  private take(): number {
    const len = this.uint32();
    const start = this.pos;
    if (start + len > this.len) throw new RangeError(`index out of range: ${start} + ${len} > ${this.len}`);
    this.pos = start + len;
    return start;
  }

  override string(): string {
    const start = this.take();
    const end = this.pos;
    const len = end - start;
    const buf = this.buf;
    if (len <= CACHE_MAX_LENGTH) {
      if (len === 0) return '';
      let h = len;
      let ascii = true;
      for (let i = start; i < end; i++) {
        const c = buf[i];
        if (c > 127) {
          ascii = false;
          break;
        }
        h = Math.imul(h ^ c, 16777619);
      }
      if (ascii) {
        const slot = (h ^ (h >>> 15)) & (CACHE_SLOTS - 1);
        const cached = cachedStrings[slot];
        if (cached !== undefined && cachedHashes[slot] === h && cached.length === len && sameAscii(cached, buf, start)) return cached;
        const s = buf.latin1Slice(start, end);
        cachedStrings[slot] = s;
        cachedHashes[slot] = h;
        return s;
      }
    }
    if (!isUtf8(buf.subarray(start, end))) throw new DecodeError(`invalid UTF-8 in a string field at byte ${start}`);
    return buf.utf8Slice(start, end);
  }

  override bytes(): Buffer {
    const start = this.take();
    const end = this.pos;
    const len = end - start;
    if (len === 0) return EMPTY;
    const out = Buffer.allocUnsafe(len);
    const buf = this.buf;
    if (len <= 32) {
      for (let i = 0; i < len; i++) out[i] = buf[start + i];
    } else {
      buf.copy(out, 0, start, end);
    }
    return out;
  }
}

function sameAscii(s: string, buf: Buffer, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
