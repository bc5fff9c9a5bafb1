/**
 * Hand-written protobuf encoders for ExportTraceServiceRequest and ExportLogsServiceRequest, the
 * export hot path (every trace and log batch is encoded once on its way into the durable queue).
 * The bytes decode to the same data as protobufjs's encoding of the same request.
 *
 * Two passes over the request: the first computes the size of every nested message and the UTF-8
 * length of every string, in visiting order, into one reused Int32Array; the second writes the
 * request into a single Buffer of exactly the total size, taking the lengths back in the same
 * order. Nothing is allocated per field.
 *
 * Input: the internal model (types.ts): plain objects or protobufjs message instances (defaults on
 * their prototypes; properties are read normally, null and undefined are absent). int64 and
 * fixed64 values are Longs (numbers, decimal strings and `{ low, high }` objects are taken too, as
 * protobufjs takes them), ids and bytes are Uint8Arrays (views are honoured: only their own
 * `byteOffset`/`byteLength` is written) or arrays of byte values (protobufjs's default for bytes
 * on its prototypes is an empty array). Scalars at their proto3 default (0, '', false, a zero
 * Long, empty bytes) are not written, except the members of the AnyValue oneof: every member that
 * is set (its own property, not null, as protobufjs decides) is written, even empty or zero, so an
 * attribute whose value is "" or 0 keeps its type. Message fields are written whenever they are
 * set, even when empty. Fields are written in field-number order. Enums are written as int32 (a
 * negative one as a 10-byte varint).
 */
import Long from 'long';
import type {
  AnyValue,
  EntityRef,
  ExportLogsServiceRequest,
  ExportTraceServiceRequest,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
  ResourceLogs,
  ResourceSpans,
  ScopeLogs,
  ScopeSpans,
  Span,
  SpanEvent as Event,
  SpanLink as Link,
  SpanStatus as Status,
} from './types.js';

/** Node's Buffer has these (protobufjs uses them too); @types/node does not declare them. */
type WritableBuffer = Buffer & { utf8Write(s: string, offset: number, length: number): number; latin1Write(s: string, offset: number, length: number): number };

/** `itemRanges`, when given, gets the [start, end) of every Span message written, in order. */
export function encodeTraceRequest(req: ExportTraceServiceRequest, itemRanges?: number[]): Buffer {
  start();
  const size = sizeTraceRequest(req);
  const out = alloc(size);
  ranges = itemRanges ?? null;
  writeTraceRequest(req);
  return finish(out, size);
}

/** `itemRanges`, when given, gets the [start, end) of every LogRecord message written, in order. */
export function encodeLogsRequest(req: ExportLogsServiceRequest, itemRanges?: number[]): Buffer {
  start();
  const size = sizeLogsRequest(req);
  const out = alloc(size);
  ranges = itemRanges ?? null;
  writeLogsRequest(req);
  return finish(out, size);
}

/** One Span message (the trace index keeps spans that came without their encoding this way). */
export function encodeSpan(span: Span): Buffer {
  start();
  const size = sizeSpan(span);
  const out = alloc(size);
  writeSpan(span);
  return finish(out, size);
}

/** One LogRecord message. */
export function encodeLogRecord(record: LogRecord): Buffer {
  start();
  const size = sizeLogRecord(record);
  const out = alloc(size);
  writeLogRecord(record);
  return finish(out, size);
}

// ---- state ------------------------------------------------------------------------------------

// Encoding is synchronous: one set of module state serves every call.

/** Sizes of nested messages and UTF-8 lengths of strings, in the order both passes visit them. */
let lens = new Int32Array(4096);
/** Next free slot (first pass) or next slot to read (second pass). */
let li = 0;
const EMPTY = Buffer.alloc(0) as WritableBuffer;
let buf: WritableBuffer = EMPTY;
let pos = 0;
/** Where writeItems records the spans' or log records' positions, or null. */
let ranges: number[] | null = null;

function start(): void {
  li = 0;
}

function alloc(size: number): WritableBuffer {
  buf = Buffer.allocUnsafe(size) as WritableBuffer;
  pos = 0;
  li = 0;
  return buf;
}

function finish(out: WritableBuffer, size: number): Buffer {
  buf = EMPTY;
  ranges = null;
  // A mismatch between the passes is a bug here, never a property of the input.
  if (pos !== size) throw new Error(`request encoder wrote ${pos} bytes, sized ${size}`);
  return out;
}

/** A slot for a length that is known only once its message has been sized. */
function reserve(): number {
  if (li === lens.length) {
    const bigger = new Int32Array(lens.length * 2);
    bigger.set(lens);
    lens = bigger;
  }
  return li++;
}

// ---- sizes of scalars -------------------------------------------------------------------------

/** Bytes of a varint holding the uint32 `v`. */
function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

// The two 32-bit halves of the last 64-bit value split() looked at, as int32s: module variables
// holding values that are not small integers would be boxed, one allocation per store.
let lo = 0;
let hi = 0;

/** Splits a Long (or a number, decimal string or `{ low, high }`) into `lo` and `hi`. */
function split(v: unknown): void {
  if (typeof v === 'object') {
    const l = v as Long;
    lo = l.low | 0;
    hi = l.high | 0;
  } else if (typeof v === 'number') {
    splitNumber(v);
  } else {
    const l = Long.fromString(String(v));
    lo = l.low;
    hi = l.high;
  }
}

/** protobufjs's LongBits.fromNumber. */
function splitNumber(value: number): void {
  if (value === 0 || Number.isNaN(value)) {
    lo = hi = 0;
    return;
  }
  const sign = value < 0;
  if (sign) value = -value;
  let l = value >>> 0;
  let h = ((value - l) / 4294967296) >>> 0;
  if (sign) {
    h = ~h >>> 0;
    l = ~l >>> 0;
    if (++l > 4294967295) {
      l = 0;
      if (++h > 4294967295) h = 0;
    }
  }
  lo = l | 0;
  hi = h | 0;
}

/** Bytes of the varint of `lo`/`hi` (protobufjs's LongBits.length). */
function varint64Size(): number {
  const part0 = lo >>> 0;
  const part1 = ((lo >>> 28) | (hi << 4)) >>> 0;
  const part2 = hi >>> 24;
  return part2 === 0
    ? part1 === 0
      ? part0 < 16384
        ? part0 < 128
          ? 1
          : 2
        : part0 < 2097152
          ? 3
          : 4
      : part1 < 16384
        ? part1 < 128
          ? 5
          : 6
        : part1 < 2097152
          ? 7
          : 8
    : part2 < 128
      ? 9
      : 10;
}

/** UTF-8 length of a string: counted in JS for short ASCII strings, else by Buffer. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Size of a string field (one-byte tag) with its length recorded; 0 for an absent or empty one. */
function sizeString(s: string | null | undefined): number {
  if (s == null || s.length === 0) return 0;
  return sizeStringAlways(s);
}

/** Size of a string field (one-byte tag), even when empty: repeated strings and the oneof. */
function sizeStringAlways(s: string): number {
  const n = utf8Length(s);
  const slot = reserve(); // before `lens` is read: reserve() may replace it
  lens[slot] = n;
  return 1 + varintSize(n) + n;
}

function sizeBytes(b: Uint8Array | null | undefined): number {
  if (b == null) return 0;
  const n = b.length;
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

function sizeUint32(v: number | null | undefined): number {
  if (v == null) return 0;
  const u = v >>> 0;
  return u === 0 ? 0 : 1 + varintSize(u);
}

function sizeEnum(v: number | null | undefined): number {
  if (v == null) return 0;
  const i = v | 0;
  return i === 0 ? 0 : 1 + (i < 0 ? 10 : varintSize(i));
}

/** A fixed64 field (one-byte tag), absent when zero. */
function sizeFixed64(v: unknown): number {
  if (v == null) return 0;
  split(v);
  return lo === 0 && hi === 0 ? 0 : 9;
}

/** A fixed32 field with a tag of `tagBytes`, absent when zero. */
function sizeFixed32(v: number | null | undefined, tagBytes: number): number {
  return v == null || v >>> 0 === 0 ? 0 : tagBytes + 4;
}

/** A message field (one-byte tag) whose content is `n` bytes, already recorded at its slot. */
function messageField(n: number): number {
  return 1 + varintSize(n) + n;
}

// ---- writing scalars --------------------------------------------------------------------------

function writeVarint(v: number): void {
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
}

/** The varint of `lo`/`hi`. */
function writeVarint64(): void {
  let l = lo >>> 0;
  let h = hi >>> 0;
  while (h) {
    buf[pos++] = (l & 127) | 128;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  while (l > 127) {
    buf[pos++] = (l & 127) | 128;
    l >>>= 7;
  }
  buf[pos++] = l;
}

function writeFixed32Value(v: number): void {
  buf[pos] = v & 255;
  buf[pos + 1] = (v >>> 8) & 255;
  buf[pos + 2] = (v >>> 16) & 255;
  buf[pos + 3] = v >>> 24;
  pos += 4;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function writeDoubleValue(v: number): void {
  f64[0] = v;
  buf[pos] = f64Bytes[0];
  buf[pos + 1] = f64Bytes[1];
  buf[pos + 2] = f64Bytes[2];
  buf[pos + 3] = f64Bytes[3];
  buf[pos + 4] = f64Bytes[4];
  buf[pos + 5] = f64Bytes[5];
  buf[pos + 6] = f64Bytes[6];
  buf[pos + 7] = f64Bytes[7];
  pos += 8;
}

/**
 * The string itself, `n` UTF-8 bytes (recorded by the first pass). ASCII (n === length): short
 * strings byte by byte in JS (cheaper than a native call), longer ones with latin1Write (the same
 * bytes for ASCII, and no UTF-8 encoding work); others with utf8Write.
 */
function writeUtf8(s: string, n: number): void {
  if (n === s.length) {
    if (n < 24) {
      const b = buf;
      const p = pos;
      for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
      pos = p + n;
    } else {
      pos += buf.latin1Write(s, pos, n);
    }
  } else {
    pos += buf.utf8Write(s, pos, n);
  }
}

function writeString(tag: number, s: string | null | undefined): void {
  if (s == null || s.length === 0) return;
  writeStringAlways(tag, s);
}

function writeStringAlways(tag: number, s: string): void {
  const n = lens[li++];
  buf[pos++] = tag;
  writeVarint(n);
  writeUtf8(s, n);
}

function writeBytesValue(b: Uint8Array): void {
  const n = b.length;
  writeVarint(n);
  if (n <= 32) {
    const out = buf;
    const p = pos;
    for (let i = 0; i < n; i++) out[p + i] = b[i];
  } else {
    buf.set(b, pos);
  }
  pos += n;
}

function writeBytes(tag: number, b: Uint8Array | null | undefined): void {
  if (b == null || b.length === 0) return;
  buf[pos++] = tag;
  writeBytesValue(b);
}

function writeUint32(tag: number, v: number | null | undefined): void {
  if (v == null) return;
  const u = v >>> 0;
  if (u === 0) return;
  buf[pos++] = tag;
  writeVarint(u);
}

function writeEnum(tag: number, v: number | null | undefined): void {
  if (v == null) return;
  const i = v | 0;
  if (i === 0) return;
  buf[pos++] = tag;
  if (i > 0) {
    writeVarint(i);
  } else {
    lo = i;
    hi = -1;
    writeVarint64();
  }
}

function writeFixed64(tag: number, v: unknown): void {
  if (v == null) return;
  split(v);
  if (lo === 0 && hi === 0) return;
  buf[pos++] = tag;
  writeFixed32Value(lo);
  writeFixed32Value(hi);
}

/** A fixed32 field; `tag` holds the tag's bytes, low byte first (field 16's tag takes two). */
function writeFixed32(tag: number, v: number | null | undefined): void {
  if (v == null) return;
  const u = v >>> 0;
  if (u === 0) return;
  writeVarint(tag);
  writeFixed32Value(u);
}

/** A message field's tag and length (its slot); the caller writes its content next. */
function writeMessageHeader(tag: number): void {
  buf[pos++] = tag;
  writeVarint(lens[li++]);
}

/** Size of a message field (one-byte tag) holding `m`, its content's size recorded at its slot. */
function sizeMessage<T>(m: T, size: (m: T) => number): number {
  const slot = reserve();
  const c = size(m);
  lens[slot] = c;
  return messageField(c);
}

/** Size of a repeated message field (one-byte tag): sizeMessage for each. */
function sizeMessages<T>(list: readonly T[] | null | undefined, size: (m: T) => number): number {
  if (list == null) return 0;
  let n = 0;
  for (let k = 0; k < list.length; k++) n += sizeMessage(list[k], size);
  return n;
}

function writeMessages<T>(tag: number, list: readonly T[] | null | undefined, write: (m: T) => void): void {
  if (list == null) return;
  for (let k = 0; k < list.length; k++) {
    writeMessageHeader(tag);
    write(list[k]);
  }
}

/** writeMessages for spans and log records: their positions go to `ranges` when it is set. */
function writeItems<T>(tag: number, list: readonly T[] | null | undefined, write: (m: T) => void): void {
  if (list == null) return;
  const out = ranges;
  for (let k = 0; k < list.length; k++) {
    writeMessageHeader(tag);
    const at = pos;
    write(list[k]);
    if (out !== null) out.push(at, pos);
  }
}

// ---- common -----------------------------------------------------------------------------------

/**
 * protobufjs's limit on message nesting: it refuses to encode deeper values, and decoders (ours
 * included) refuse to decode them. Depths count from the request (0); a log record is at 3.
 */
const MAX_DEPTH = 100;

const hasOwn = Object.prototype.hasOwnProperty;

function has(o: object, key: string): boolean {
  return hasOwn.call(o, key);
}

function tooDeep(): Error {
  return new Error('max depth exceeded');
}

/**
 * The AnyValue oneof: every member that is set is written (protobufjs writes them all, in field
 * order), even "" or 0. A member is set when it is not null and is the object's own property:
 * protobufjs message instances carry non-null defaults for every member on their prototype. A
 * plain object has nothing on its prototype, so its members are read without the own check.
 */
function sizeAnyValue(v: AnyValue, depth: number): number {
  if (depth > MAX_DEPTH) throw tooDeep();
  let n = 0;
  const plain = v.constructor === Object;
  const s = v.stringValue;
  if (s != null && (plain || has(v, 'stringValue'))) n += sizeStringAlways(s);
  if (v.boolValue != null && (plain || has(v, 'boolValue'))) n += 2;
  const i = v.intValue;
  if (i != null && (plain || has(v, 'intValue'))) {
    split(i);
    n += 1 + varint64Size();
  }
  if (v.doubleValue != null && (plain || has(v, 'doubleValue'))) n += 9;
  const a = v.arrayValue;
  if (a != null && (plain || has(v, 'arrayValue'))) {
    if (depth + 1 > MAX_DEPTH) throw tooDeep();
    const slot = reserve();
    let m = 0;
    const values = a.values;
    if (values != null) {
      for (let k = 0; k < values.length; k++) {
        const slot2 = reserve();
        const c = sizeAnyValue(values[k], depth + 2);
        lens[slot2] = c;
        m += messageField(c);
      }
    }
    lens[slot] = m;
    n += messageField(m);
  }
  const kv = v.kvlistValue;
  if (kv != null && (plain || has(v, 'kvlistValue'))) {
    if (depth + 1 > MAX_DEPTH) throw tooDeep();
    const slot = reserve();
    const m = sizeKeyValues(kv.values, depth + 2);
    lens[slot] = m;
    n += messageField(m);
  }
  const b = v.bytesValue;
  if (b != null && (plain || has(v, 'bytesValue'))) n += 1 + varintSize(b.length) + b.length;
  return n;
}

function writeAnyValue(v: AnyValue): void {
  const plain = v.constructor === Object;
  const s = v.stringValue;
  if (s != null && (plain || has(v, 'stringValue'))) writeStringAlways(10, s);
  const bo = v.boolValue;
  if (bo != null && (plain || has(v, 'boolValue'))) {
    buf[pos++] = 16;
    buf[pos++] = bo ? 1 : 0;
  }
  const i = v.intValue;
  if (i != null && (plain || has(v, 'intValue'))) {
    split(i);
    buf[pos++] = 24;
    writeVarint64();
  }
  const d = v.doubleValue;
  if (d != null && (plain || has(v, 'doubleValue'))) {
    buf[pos++] = 33;
    writeDoubleValue(d);
  }
  const a = v.arrayValue;
  if (a != null && (plain || has(v, 'arrayValue'))) {
    writeMessageHeader(42);
    const values = a.values;
    if (values != null) {
      for (let k = 0; k < values.length; k++) {
        writeMessageHeader(10);
        writeAnyValue(values[k]);
      }
    }
  }
  const kv = v.kvlistValue;
  if (kv != null && (plain || has(v, 'kvlistValue'))) {
    writeMessageHeader(50);
    writeKeyValues(10, kv.values);
  }
  const b = v.bytesValue;
  if (b != null && (plain || has(v, 'bytesValue'))) {
    buf[pos++] = 58;
    writeBytesValue(b);
  }
}

/** Size of a repeated KeyValue field (one-byte tag). */
function sizeKeyValues(list: KeyValue[] | null | undefined, depth: number): number {
  if (list == null) return 0;
  if (depth > MAX_DEPTH && list.length > 0) throw tooDeep();
  let n = 0;
  for (let k = 0; k < list.length; k++) {
    const kv = list[k];
    const slot = reserve();
    let m = sizeString(kv.key);
    const value = kv.value;
    if (value != null) {
      const slot2 = reserve();
      const c = sizeAnyValue(value, depth + 1);
      lens[slot2] = c;
      m += messageField(c);
    }
    lens[slot] = m;
    n += messageField(m);
  }
  return n;
}

function writeKeyValues(tag: number, list: KeyValue[] | null | undefined): void {
  if (list == null) return;
  for (let k = 0; k < list.length; k++) {
    const kv = list[k];
    writeMessageHeader(tag);
    writeString(10, kv.key);
    const value = kv.value;
    if (value != null) {
      writeMessageHeader(18);
      writeAnyValue(value);
    }
  }
}

function sizeResource(r: Resource): number {
  let n = sizeKeyValues(r.attributes, 3) + sizeUint32(r.droppedAttributesCount);
  const refs = r.entityRefs;
  if (refs != null) {
    for (let k = 0; k < refs.length; k++) {
      const e = refs[k];
      const slot = reserve();
      let m = sizeString(e.schemaUrl) + sizeString(e.type);
      const ids = e.idKeys;
      if (ids != null) for (let j = 0; j < ids.length; j++) m += sizeStringAlways(ids[j]);
      const desc = e.descriptionKeys;
      if (desc != null) for (let j = 0; j < desc.length; j++) m += sizeStringAlways(desc[j]);
      lens[slot] = m;
      n += messageField(m);
    }
  }
  return n;
}

function writeResource(r: Resource): void {
  writeKeyValues(10, r.attributes);
  writeUint32(16, r.droppedAttributesCount);
  const refs = r.entityRefs;
  if (refs != null) {
    for (let k = 0; k < refs.length; k++) {
      const e = refs[k];
      writeMessageHeader(26);
      writeString(10, e.schemaUrl);
      writeString(18, e.type);
      const ids = e.idKeys;
      if (ids != null) for (let j = 0; j < ids.length; j++) writeStringAlways(26, ids[j]);
      const desc = e.descriptionKeys;
      if (desc != null) for (let j = 0; j < desc.length; j++) writeStringAlways(34, desc[j]);
    }
  }
}

function sizeScope(s: InstrumentationScope): number {
  return sizeString(s.name) + sizeString(s.version) + sizeKeyValues(s.attributes, 4) + sizeUint32(s.droppedAttributesCount);
}

function writeScope(s: InstrumentationScope): void {
  writeString(10, s.name);
  writeString(18, s.version);
  writeKeyValues(26, s.attributes);
  writeUint32(32, s.droppedAttributesCount);
}

/** Size of the resource field (1) of a ResourceSpans/ResourceLogs, with its slot. */
function sizeResourceField(r: Resource | null | undefined): number {
  return r == null ? 0 : sizeMessage(r, sizeResource);
}

function writeResourceField(r: Resource | null | undefined): void {
  if (r == null) return;
  writeMessageHeader(10);
  writeResource(r);
}

function sizeScopeField(s: InstrumentationScope | null | undefined): number {
  return s == null ? 0 : sizeMessage(s, sizeScope);
}

function writeScopeField(s: InstrumentationScope | null | undefined): void {
  if (s == null) return;
  writeMessageHeader(10);
  writeScope(s);
}

// ---- traces -----------------------------------------------------------------------------------

function sizeTraceRequest(req: ExportTraceServiceRequest): number {
  return sizeMessages(req.resourceSpans, sizeResourceSpans);
}

function writeTraceRequest(req: ExportTraceServiceRequest): void {
  writeMessages(10, req.resourceSpans, writeResourceSpans);
}

function sizeResourceSpans(rs: ResourceSpans): number {
  return sizeResourceField(rs.resource) + sizeMessages(rs.scopeSpans, sizeScopeSpans) + sizeString(rs.schemaUrl);
}

function writeResourceSpans(rs: ResourceSpans): void {
  writeResourceField(rs.resource);
  writeMessages(18, rs.scopeSpans, writeScopeSpans);
  writeString(26, rs.schemaUrl);
}

function sizeScopeSpans(ss: ScopeSpans): number {
  return sizeScopeField(ss.scope) + sizeMessages(ss.spans, sizeSpan) + sizeString(ss.schemaUrl);
}

function writeScopeSpans(ss: ScopeSpans): void {
  writeScopeField(ss.scope);
  writeItems(18, ss.spans, writeSpan);
  writeString(26, ss.schemaUrl);
}

function sizeSpan(s: Span): number {
  let n =
    sizeBytes(s.traceId) +
    sizeBytes(s.spanId) +
    sizeString(s.traceState) +
    sizeBytes(s.parentSpanId) +
    sizeString(s.name) +
    sizeEnum(s.kind) +
    sizeFixed64(s.startTimeUnixNano) +
    sizeFixed64(s.endTimeUnixNano) +
    sizeKeyValues(s.attributes, 4) +
    sizeUint32(s.droppedAttributesCount) +
    sizeMessages(s.events, sizeEvent) +
    sizeUint32(s.droppedEventsCount) +
    sizeMessages(s.links, sizeLink) +
    sizeUint32(s.droppedLinksCount);
  const status = s.status;
  if (status != null) n += sizeMessage(status, sizeStatus);
  return n + sizeFixed32(s.flags, 2);
}

function writeSpan(s: Span): void {
  writeBytes(10, s.traceId);
  writeBytes(18, s.spanId);
  writeString(26, s.traceState);
  writeBytes(34, s.parentSpanId);
  writeString(42, s.name);
  writeEnum(48, s.kind);
  writeFixed64(57, s.startTimeUnixNano);
  writeFixed64(65, s.endTimeUnixNano);
  writeKeyValues(74, s.attributes);
  writeUint32(80, s.droppedAttributesCount);
  writeMessages(90, s.events, writeEvent);
  writeUint32(96, s.droppedEventsCount);
  writeMessages(106, s.links, writeLink);
  writeUint32(112, s.droppedLinksCount);
  const status = s.status;
  if (status != null) {
    writeMessageHeader(122);
    writeStatus(status);
  }
  writeFixed32(133, s.flags); // field 16, wire type 5: a two-byte tag
}

function sizeEvent(e: Event): number {
  return sizeFixed64(e.timeUnixNano) + sizeString(e.name) + sizeKeyValues(e.attributes, 5) + sizeUint32(e.droppedAttributesCount);
}

function writeEvent(e: Event): void {
  writeFixed64(9, e.timeUnixNano);
  writeString(18, e.name);
  writeKeyValues(26, e.attributes);
  writeUint32(32, e.droppedAttributesCount);
}

function sizeLink(l: Link): number {
  return (
    sizeBytes(l.traceId) +
    sizeBytes(l.spanId) +
    sizeString(l.traceState) +
    sizeKeyValues(l.attributes, 5) +
    sizeUint32(l.droppedAttributesCount) +
    sizeFixed32(l.flags, 1)
  );
}

function writeLink(l: Link): void {
  writeBytes(10, l.traceId);
  writeBytes(18, l.spanId);
  writeString(26, l.traceState);
  writeKeyValues(34, l.attributes);
  writeUint32(40, l.droppedAttributesCount);
  writeFixed32(53, l.flags);
}

function sizeStatus(s: Status): number {
  return sizeString(s.message) + sizeEnum(s.code);
}

function writeStatus(s: Status): void {
  writeString(18, s.message);
  writeEnum(24, s.code);
}

// ---- logs -------------------------------------------------------------------------------------

function sizeLogsRequest(req: ExportLogsServiceRequest): number {
  return sizeMessages(req.resourceLogs, sizeResourceLogs);
}

function writeLogsRequest(req: ExportLogsServiceRequest): void {
  writeMessages(10, req.resourceLogs, writeResourceLogs);
}

function sizeResourceLogs(rl: ResourceLogs): number {
  return sizeResourceField(rl.resource) + sizeMessages(rl.scopeLogs, sizeScopeLogs) + sizeString(rl.schemaUrl);
}

function writeResourceLogs(rl: ResourceLogs): void {
  writeResourceField(rl.resource);
  writeMessages(18, rl.scopeLogs, writeScopeLogs);
  writeString(26, rl.schemaUrl);
}

function sizeScopeLogs(sl: ScopeLogs): number {
  return sizeScopeField(sl.scope) + sizeMessages(sl.logRecords, sizeLogRecord) + sizeString(sl.schemaUrl);
}

function writeScopeLogs(sl: ScopeLogs): void {
  writeScopeField(sl.scope);
  writeItems(18, sl.logRecords, writeLogRecord);
  writeString(26, sl.schemaUrl);
}

function sizeLogRecord(r: LogRecord): number {
  let n = sizeFixed64(r.timeUnixNano) + sizeEnum(r.severityNumber) + sizeString(r.severityText);
  const body = r.body;
  if (body != null) {
    const slot = reserve();
    const m = sizeAnyValue(body, 4);
    lens[slot] = m;
    n += messageField(m);
  }
  const encoded = r.encodedAttributes;
  return (
    n +
    (encoded != null ? encoded.byteLength : sizeKeyValues(r.attributes, 4)) +
    sizeUint32(r.droppedAttributesCount) +
    sizeFixed32(r.flags, 1) +
    sizeBytes(r.traceId) +
    sizeBytes(r.spanId) +
    sizeFixed64(r.observedTimeUnixNano) +
    sizeString(r.eventName)
  );
}

function writeLogRecord(r: LogRecord): void {
  writeFixed64(9, r.timeUnixNano);
  writeEnum(16, r.severityNumber);
  writeString(26, r.severityText);
  const body = r.body;
  if (body != null) {
    writeMessageHeader(42);
    writeAnyValue(body);
  }
  const encoded = r.encodedAttributes;
  if (encoded != null) {
    buf.set(encoded, pos);
    pos += encoded.byteLength;
  } else {
    writeKeyValues(50, r.attributes);
  }
  writeUint32(56, r.droppedAttributesCount);
  writeFixed32(69, r.flags);
  writeBytes(74, r.traceId);
  writeBytes(82, r.spanId);
  writeFixed64(89, r.observedTimeUnixNano);
  writeString(98, r.eventName);
}
