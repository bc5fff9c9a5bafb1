/**
 * A log record's attributes written straight as their protobuf: the `attributes` field (6) of a
 * LogRecord message, one KeyValue each, made from parsed values (what JSON.parse, logfmt and the
 * regex parser give) without a KeyValue or AnyValue object in between. The record keeps the bytes
 * (`LogRecord.encodedAttributes`); the request encoder copies them; whoever wants the attributes
 * as objects decodes them (decodeAttributes).
 *
 * Values map as for every parsed field (the README's Log files): a string is a stringValue; a
 * number an intValue when it is a safe integer (JSON keeps no fraction of `12.0`), else a
 * doubleValue; a boolean a boolValue; null an empty AnyValue; an array an arrayValue; an object a
 * kvlistValue (keys in their order). A value nested deeper than protobuf decoders take is kept as
 * its JSON text.
 *
 * The bytes go into chunks that are never written again once left behind: a record's bytes are a
 * view that keeps its chunk alive as long as the record lives, whatever is written after it. The
 * writers take the buffer and position as arguments and return the new position (kept in
 * registers, where module variables would be loaded and stored for every byte).
 */

const CHUNK_BYTES = 64 << 10;
/** protobufjs's limit on message nesting, counted from the request (a record's KeyValue is at 4). */
const MAX_DEPTH = 100;
const KEY_VALUE_DEPTH = 4;

type WritableBuffer = Buffer & { utf8Write(s: string, offset: number, length: number): number; latin1Write(s: string, offset: number, length: number): number };

let chunk = Buffer.allocUnsafe(CHUNK_BYTES) as WritableBuffer;
let pos = 0;
/** Where the record being written began in `chunk`. */
let start = 0;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Starts the attributes of a record. */
export function beginAttributes(): void {
  start = pos;
}

/** The attributes written since beginAttributes(), as a view of their bytes (a plain Uint8Array: cheaper to make than a Buffer's). */
export function endAttributes(): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset + start, pos - start);
}

/** Appends bytes written before (a KeyValue shared by many records, such as the file's path). */
export function writeEncoded(bytes: Uint8Array): void {
  room(bytes.length);
  chunk.set(bytes, pos);
  pos += bytes.length;
}

/** Appends the KeyValue `key` = `value`. */
export function writeAttribute(key: string, value: unknown): void {
  const k = utf8Length(key);
  // Strings, numbers and booleans (nearly every field) are sized in one go; lists are walked.
  let any: number;
  let v = 0;
  switch (typeof value) {
    case 'string':
      v = utf8Length(value);
      any = 1 + varintSize(v) + v;
      break;
    case 'number':
      any = Number.isSafeInteger(value) ? 1 + int64Size(value) : 9;
      break;
    case 'boolean':
      any = 2;
      break;
    default:
      any = valueSize(value, KEY_VALUE_DEPTH + 1);
  }
  const kv = 1 + varintSize(k) + k + 1 + varintSize(any) + any;
  room(1 + varintSize(kv) + kv);
  const b = chunk;
  let p = pos;
  b[p++] = 0x32; // LogRecord.attributes (6), length-delimited
  p = putVarint(b, p, kv);
  b[p++] = 0x0a; // KeyValue.key
  p = putString(b, p, key, k);
  b[p++] = 0x12; // KeyValue.value
  p = putVarint(b, p, any);
  if (typeof value === 'string') {
    b[p++] = 0x0a; // stringValue
    p = putString(b, p, value, v);
  } else {
    p = putValue(b, p, value, KEY_VALUE_DEPTH + 1);
  }
  pos = p;
}

/**
 * One KeyValue as LogRecord.attributes bytes, a copy (for the attributes every record of a file
 * shares). Not while a record's attributes are being written: it begins its own.
 */
export function encodeAttribute(key: string, value: unknown): Uint8Array {
  beginAttributes();
  writeAttribute(key, value);
  return Buffer.from(endAttributes());
}

/** Room for `n` more bytes; the record begun so far moves to a new chunk when this one is full. */
function room(n: number): void {
  if (pos + n <= chunk.length) return;
  const begun = pos - start;
  const next = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, 2 * (begun + n))) as WritableBuffer;
  chunk.copy(next, 0, start, pos);
  chunk = next;
  start = 0;
  pos = begun;
}

// ---- sizes ------------------------------------------------------------------------------------

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of the varint of a safe integer (a negative one takes 10, as int64 two's complement). */
function int64Size(v: number): number {
  if (v < 0) return 10;
  if (v < 0x10000000) return varintSize(v);
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Bytes of the AnyValue message of `v`, at `depth` (counted from the request, as the decoders count). */
function valueSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string': {
      const n = utf8Length(v);
      return 1 + varintSize(n) + n;
    }
    case 'number':
      return Number.isSafeInteger(v) ? 1 + int64Size(v) : 9;
    case 'boolean':
      return 2;
    case 'object': {
      if (v === null) return 0;
      if (tooDeep(depth)) return valueSize(JSON.stringify(v), depth);
      const m = listSize(v, depth);
      return 1 + varintSize(m) + m;
    }
    default:
      // What JSON and the text parsers never give (undefined is left out by the caller).
      return valueSize(String(v), depth);
  }
}

/** Bytes of the ArrayValue or KeyValueList message of the AnyValue at `depth`. */
function listSize(v: object, depth: number): number {
  let m = 0;
  if (Array.isArray(v)) {
    for (const item of v) {
      const c = valueSize(item, depth + 2);
      m += 1 + varintSize(c) + c;
    }
  } else {
    const o = v as Record<string, unknown>;
    for (const key in o) {
      const c = keyValueSize(key, o[key], depth + 2);
      m += 1 + varintSize(c) + c;
    }
  }
  return m;
}

/** Bytes of a KeyValue message at `depth`. */
function keyValueSize(key: string, value: unknown, depth: number): number {
  const k = utf8Length(key);
  const c = valueSize(value, depth + 1);
  return 1 + varintSize(k) + k + 1 + varintSize(c) + c;
}

/**
 * Whether an array or object at this AnyValue depth would nest past protobufjs's limit (which
 * decoders refuse): it is kept as its JSON text instead, so that the record can still be sent.
 */
function tooDeep(depth: number): boolean {
  return depth + 3 > MAX_DEPTH;
}

// ---- writing ------------------------------------------------------------------------------------

function putVarint(b: WritableBuffer, p: number, v: number): number {
  while (v > 127) {
    b[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

function putInt64(b: WritableBuffer, p: number, v: number): number {
  if (v < 0) {
    // Two's complement over 64 bits, as protobuf writes a negative int64.
    let lo = (v % 4294967296) >>> 0;
    let hi = Math.floor(v / 4294967296) >>> 0;
    for (let i = 0; i < 9; i++) {
      b[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo & 1;
    return p;
  }
  if (v < 0x10000000) return putVarint(b, p, v);
  while (v >= 128) {
    b[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

/** A string's length and bytes (`n` of them in UTF-8). */
function putString(b: WritableBuffer, p: number, s: string, n: number): number {
  p = putVarint(b, p, n);
  if (n !== s.length) return p + b.utf8Write(s, p, n);
  if (n >= 24) return p + b.latin1Write(s, p, n);
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  return p + n;
}

/** The content of a KeyValue message at `depth` (its length already written). */
function putKeyValue(b: WritableBuffer, p: number, key: string, value: unknown, depth: number): number {
  b[p++] = 0x0a; // key
  p = putString(b, p, key, utf8Length(key));
  b[p++] = 0x12; // value
  p = putVarint(b, p, valueSize(value, depth + 1));
  return putValue(b, p, value, depth + 1);
}

/** The content of the AnyValue message of `v` at `depth` (its length already written). */
function putValue(b: WritableBuffer, p: number, v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      b[p++] = 0x0a; // stringValue
      return putString(b, p, v, utf8Length(v));
    case 'number':
      if (Number.isSafeInteger(v)) {
        b[p++] = 0x18; // intValue
        return putInt64(b, p, v);
      }
      b[p++] = 0x21; // doubleValue
      f64[0] = v;
      for (let i = 0; i < 8; i++) b[p++] = f64Bytes[i];
      return p;
    case 'boolean':
      b[p++] = 0x10; // boolValue
      b[p++] = v ? 1 : 0;
      return p;
    case 'object': {
      if (v === null) return p;
      if (tooDeep(depth)) return putValue(b, p, JSON.stringify(v), depth);
      if (Array.isArray(v)) {
        b[p++] = 0x2a; // arrayValue
        p = putVarint(b, p, listSize(v, depth));
        for (const item of v) {
          b[p++] = 0x0a; // ArrayValue.values
          p = putVarint(b, p, valueSize(item, depth + 2));
          p = putValue(b, p, item, depth + 2);
        }
        return p;
      }
      b[p++] = 0x32; // kvlistValue
      p = putVarint(b, p, listSize(v, depth));
      const o = v as Record<string, unknown>;
      for (const key in o) {
        b[p++] = 0x0a; // KeyValueList.values
        p = putVarint(b, p, keyValueSize(key, o[key], depth + 2));
        p = putKeyValue(b, p, key, o[key], depth + 2);
      }
      return p;
    }
    default:
      return putValue(b, p, String(v), depth);
  }
}
