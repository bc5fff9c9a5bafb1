/**
 * Hand-written protobuf decoders for ExportTraceServiceRequest and ExportLogsServiceRequest, the
 * OTLP ingest hot path. They produce exactly what protobufjs's reflection decoder produces for the
 * same bytes (the internal model, types.ts): instances of the same protobufjs message classes
 * (defaults on their prototypes, repeated fields own arrays, a field own only when it was on the
 * wire), int64/fixed64 as `Long`s with the same `unsigned` flag, ids and bytes copied out of the
 * body, strings through the string cache (wire-strings.ts). Every field is decoded.
 *
 * Wire rules (proto3): unknown fields are skipped by their wire type (groups included), the last
 * value of a scalar or singular message field wins, repeated messages are appended. Refused with
 * a DecodeError saying why: truncation, a length past the end of its message, wire types 6 and 7
 * or a stray end-group, field number 0, a known field sent with a wire type other than its own,
 * a varint longer than 10 bytes, nesting deeper than protobufjs allows (100).
 */
import protobuf from 'protobufjs';
import type Long from 'long';
import { DecodeError } from '../errors.js';
import { otlpRoot } from './proto-root.js';
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
import { copyBytes, readString, viewOf, type SliceableBuffer } from './wire-strings.js';

/** An EntityRef as protobufjs's class makes it: its repeated fields are own arrays. */
type DecodedEntityRef = EntityRef & { idKeys: string[]; descriptionKeys: string[] };

/** The message class protobufjs decodes `name` into (its constructor sets the repeated fields to []). */
function ctor<T>(name: string): new () => T {
  return otlpRoot.lookupType(name).ctor as unknown as new () => T;
}

const TraceRequestMsg = ctor<ExportTraceServiceRequest>('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const LogsRequestMsg = ctor<ExportLogsServiceRequest>('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const ResourceSpansMsg = ctor<ResourceSpans>('opentelemetry.proto.trace.v1.ResourceSpans');
const ScopeSpansMsg = ctor<ScopeSpans>('opentelemetry.proto.trace.v1.ScopeSpans');
const SpanMsg = ctor<Span>('opentelemetry.proto.trace.v1.Span');
const EventMsg = ctor<Event>('opentelemetry.proto.trace.v1.Span.Event');
const LinkMsg = ctor<Link>('opentelemetry.proto.trace.v1.Span.Link');
const StatusMsg = ctor<Status>('opentelemetry.proto.trace.v1.Status');
const ResourceLogsMsg = ctor<ResourceLogs>('opentelemetry.proto.logs.v1.ResourceLogs');
const ScopeLogsMsg = ctor<ScopeLogs>('opentelemetry.proto.logs.v1.ScopeLogs');
const LogRecordMsg = ctor<LogRecord>('opentelemetry.proto.logs.v1.LogRecord');
const ResourceMsg = ctor<Resource>('opentelemetry.proto.resource.v1.Resource');
const ScopeMsg = ctor<InstrumentationScope>('opentelemetry.proto.common.v1.InstrumentationScope');
const EntityRefMsg = ctor<DecodedEntityRef>('opentelemetry.proto.common.v1.EntityRef');
const KeyValueMsg = ctor<KeyValue>('opentelemetry.proto.common.v1.KeyValue');
const AnyValueMsg = ctor<AnyValue>('opentelemetry.proto.common.v1.AnyValue');
const ArrayValueMsg = ctor<{ values: AnyValue[] }>('opentelemetry.proto.common.v1.ArrayValue');
const KeyValueListMsg = ctor<{ values: KeyValue[] }>('opentelemetry.proto.common.v1.KeyValueList');

/** The Long class protobufjs makes its int64 values with. */
const LongClass = protobuf.util.Long as unknown as typeof Long;

/** protobufjs's limit on message nesting (protoc's default recursion limit). */
const MAX_DEPTH = 100;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

// The request being decoded: decoding is synchronous, so one position serves every call.
const NO_BODY = Buffer.alloc(0) as SliceableBuffer;
const NO_VIEW = viewOf(NO_BODY);
let buf: SliceableBuffer = NO_BODY;
let view: DataView = NO_VIEW;
let pos = 0;

/** Where the item positions go (decodeTraceRequest, decodeLogsRequest), or null. */
let ranges: number[] | null = null;

/** Point the decoder at a body (and, with NO_BODY, let go of it). */
function use(body: Buffer): void {
  buf = body as SliceableBuffer;
  view = body === NO_BODY ? NO_VIEW : viewOf(body);
  pos = 0;
  ranges = null;
}

/** The end of the item message at `pos` (its length read), its range recorded when asked for. */
function item(end: number): number {
  const e = delimited(end);
  if (ranges !== null) ranges.push(pos, e);
  return e;
}

/** `itemRanges`, when given, gets the [start, end) of every Span message in `body`, in order. */
export function decodeTraceRequest(body: Buffer, itemRanges?: number[]): ExportTraceServiceRequest {
  use(body);
  ranges = itemRanges ?? null;
  try {
    return traceRequest(body.length);
  } finally {
    use(NO_BODY);
  }
}

/** `itemRanges`, when given, gets the [start, end) of every LogRecord message in `body`, in order. */
export function decodeLogsRequest(body: Buffer, itemRanges?: number[]): ExportLogsServiceRequest {
  use(body);
  ranges = itemRanges ?? null;
  try {
    return logsRequest(body.length);
  } finally {
    use(NO_BODY);
  }
}

/** One Span message (as the trace index keeps it). */
export function decodeSpan(body: Buffer): Span {
  use(body);
  try {
    return span(body.length);
  } finally {
    use(NO_BODY);
  }
}

/** The KeyValues of LogRecord.attributes fields (field 6), as attribute-writer.ts writes them. */
export function decodeAttributes(body: Buffer): KeyValue[] {
  use(body);
  try {
    const out: KeyValue[] = [];
    const end = body.length;
    while (pos < end) {
      const t = varint(end);
      if (t !== 50) throw invalid(`expected attributes (field 6), got tag ${t}`);
      out.push(keyValue(delimited(end), 4));
    }
    return out;
  } finally {
    use(NO_BODY);
  }
}

/** One LogRecord message (as the trace index keeps it). */
export function decodeLogRecord(body: Buffer): LogRecord {
  use(body);
  try {
    return logRecord(body.length);
  } finally {
    use(NO_BODY);
  }
}

// ---- errors -----------------------------------------------------------------------------------

function invalid(reason: string): DecodeError {
  return new DecodeError(`invalid protobuf: ${reason}`);
}

function truncated(what: string, end: number): DecodeError {
  return invalid(`${what} at byte ${pos} runs past the end of its message (byte ${end})`);
}

// ---- scalars ----------------------------------------------------------------------------------

/** A varint's low 32 bits, unsigned (what protobufjs's uint32 reads). */
function varint(end: number): number {
  const p = pos;
  if (p < end) {
    const b = buf[p];
    if (b < 128) {
      pos = p + 1;
      return b;
    }
  }
  return varintSlow(end);
}

function varintSlow(end: number): number {
  const start = pos;
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) {
      pos = start;
      throw truncated('a varint', end);
    }
    const b = buf[pos++];
    if (shift < 32) value |= (b & 127) << shift;
    if (b < 128) return value >>> 0;
  }
  pos = start;
  throw invalid(`varint longer than 10 bytes at byte ${start}`);
}

/** A varint as a signed 64-bit Long (int64). */
function int64(end: number): Long {
  const start = pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) {
      pos = start;
      throw truncated('a varint', end);
    }
    const b = buf[pos++];
    if (i < 4) {
      lo |= (b & 127) << (i * 7);
    } else if (i === 4) {
      lo |= (b & 127) << 28;
      hi |= (b & 127) >>> 4;
    } else {
      hi |= (b & 127) << (i * 7 - 32);
    }
    if (b < 128) return new LongClass(lo, hi, false);
  }
  pos = start;
  throw invalid(`varint longer than 10 bytes at byte ${start}`);
}

function fixed32(end: number): number {
  const p = pos;
  if (p + 4 > end) throw truncated('a fixed32 field', end);
  pos = p + 4;
  return view.getUint32(p, true);
}

/** fixed64, unsigned as protobufjs reads it. */
function fixed64(end: number): Long {
  const p = pos;
  if (p + 8 > end) throw truncated('a fixed64 field', end);
  pos = p + 8;
  return new LongClass(view.getInt32(p, true), view.getInt32(p + 4, true), true);
}

function double(end: number): number {
  const p = pos;
  if (p + 8 > end) throw truncated('a double field', end);
  pos = p + 8;
  return view.getFloat64(p, true);
}

/** The length prefix of a length-delimited field; returns where its content ends (it starts at `pos`). */
function delimited(end: number): number {
  const len = varint(end);
  const contentEnd = pos + len;
  if (contentEnd > end) throw pastEnd(len, end);
  return contentEnd;
}

/** A length prefix `len` (just read) that runs past the end of its message. */
function pastEnd(len: number, end: number): DecodeError {
  let at = pos - 1;
  while (at > 0 && buf[at - 1] >= 128) at--;
  return invalid(`length ${len} at byte ${at} runs past the end of its message (byte ${end})`);
}

function string(end: number): string {
  const e = delimited(end);
  const s = pos;
  pos = e;
  return readString(buf, view, s, e);
}

function bytes(end: number): Buffer {
  const e = delimited(end);
  const s = pos;
  pos = e;
  return copyBytes(buf, s, e);
}

// ---- unknown fields ---------------------------------------------------------------------------

/**
 * A field the message's switch did not take (tag `t`, read just before `pos`): refused when it is
 * a known field with the wrong wire type (`known` has bit N set for field N) or not a field at
 * all, otherwise skipped.
 */
function unknownField(t: number, end: number, known: number, message: string, depth: number): void {
  const field = t >>> 3;
  const wire = t & 7;
  if (field === 0) throw invalid(`field number 0 in ${message} at byte ${pos}`);
  if (field < 32 && (known >>> field) & 1) throw invalid(`field ${field} of ${message} has wire type ${wire}, not its own, at byte ${pos}`);
  skipValue(wire, end, depth);
}

function skipValue(wire: number, end: number, depth: number): void {
  switch (wire) {
    case WIRE_VARINT: {
      const start = pos;
      for (;;) {
        if (pos >= end) {
          pos = start;
          throw truncated('a varint', end);
        }
        if (pos - start >= 10) throw invalid(`varint longer than 10 bytes at byte ${start}`);
        if (buf[pos++] < 128) return;
      }
    }
    case WIRE_I64:
      if (pos + 8 > end) throw truncated('a 64-bit field', end);
      pos += 8;
      return;
    case WIRE_LEN:
      pos = delimited(end);
      return;
    case WIRE_I32:
      if (pos + 4 > end) throw truncated('a 32-bit field', end);
      pos += 4;
      return;
    case WIRE_SGROUP:
      for (;;) {
        const t = varint(end);
        if ((t & 7) === WIRE_EGROUP) return;
        if (t >>> 3 === 0) throw invalid(`field number 0 in a group at byte ${pos}`);
        if (depth + 1 > MAX_DEPTH) throw invalid(`groups nested deeper than ${MAX_DEPTH} messages at byte ${pos}`);
        skipValue(t & 7, end, depth + 1);
      }
    default:
      throw invalid(`${wire === WIRE_EGROUP ? 'end-group without a start' : `invalid wire type ${wire}`} at byte ${pos}`);
  }
}

function tooDeep(): DecodeError {
  return invalid(`values nested deeper than ${MAX_DEPTH} messages at byte ${pos}`);
}

// Tags are (field number << 3) | wire type; `known` masks have bit N set for field N.
const fields = (...n: number[]) => n.reduce((m, f) => m | (1 << f), 0);

// ---- common -----------------------------------------------------------------------------------

const KEY_VALUE_FIELDS = fields(1, 2);

function keyValue(end: number, depth: number): KeyValue {
  if (depth > MAX_DEPTH) throw tooDeep();
  const m = new KeyValueMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.key = string(end);
        break;
      case 18:
        m.value = anyValue(delimited(end), depth + 1);
        break;
      default:
        unknownField(t, end, KEY_VALUE_FIELDS, 'KeyValue', depth);
    }
  }
  return m;
}

const ANY_VALUE_FIELDS = fields(1, 2, 3, 4, 5, 6, 7);

function anyValue(end: number, depth: number): AnyValue {
  if (depth > MAX_DEPTH) throw tooDeep();
  const m = new AnyValueMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.stringValue = string(end);
        break;
      case 16:
        m.boolValue = varint(end) !== 0;
        break;
      case 24:
        m.intValue = int64(end);
        break;
      case 33:
        m.doubleValue = double(end);
        break;
      case 42:
        m.arrayValue = arrayValue(delimited(end), depth + 1);
        break;
      case 50:
        m.kvlistValue = keyValueList(delimited(end), depth + 1);
        break;
      case 58:
        m.bytesValue = bytes(end);
        break;
      default:
        unknownField(t, end, ANY_VALUE_FIELDS, 'AnyValue', depth);
    }
  }
  return m;
}

const VALUES_FIELDS = fields(1);

function arrayValue(end: number, depth: number): { values: AnyValue[] } {
  if (depth > MAX_DEPTH) throw tooDeep();
  const m = new ArrayValueMsg();
  while (pos < end) {
    const t = varint(end);
    if (t === 10) m.values.push(anyValue(delimited(end), depth + 1));
    else unknownField(t, end, VALUES_FIELDS, 'ArrayValue', depth);
  }
  return m;
}

function keyValueList(end: number, depth: number): { values: KeyValue[] } {
  if (depth > MAX_DEPTH) throw tooDeep();
  const m = new KeyValueListMsg();
  while (pos < end) {
    const t = varint(end);
    if (t === 10) m.values.push(keyValue(delimited(end), depth + 1));
    else unknownField(t, end, VALUES_FIELDS, 'KeyValueList', depth);
  }
  return m;
}

const RESOURCE_FIELDS = fields(1, 2, 3);

function resource(end: number, depth: number): Resource {
  const m = new ResourceMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.attributes.push(keyValue(delimited(end), depth + 1));
        break;
      case 16:
        m.droppedAttributesCount = varint(end);
        break;
      case 26:
        m.entityRefs!.push(entityRef(delimited(end), depth + 1));
        break;
      default:
        unknownField(t, end, RESOURCE_FIELDS, 'Resource', depth);
    }
  }
  return m;
}

const ENTITY_REF_FIELDS = fields(1, 2, 3, 4);

function entityRef(end: number, depth: number): EntityRef {
  const m = new EntityRefMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.schemaUrl = string(end);
        break;
      case 18:
        m.type = string(end);
        break;
      case 26:
        m.idKeys.push(string(end));
        break;
      case 34:
        m.descriptionKeys.push(string(end));
        break;
      default:
        unknownField(t, end, ENTITY_REF_FIELDS, 'EntityRef', depth);
    }
  }
  return m;
}

const SCOPE_FIELDS = fields(1, 2, 3, 4);

function scope(end: number, depth: number): InstrumentationScope {
  const m = new ScopeMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.name = string(end);
        break;
      case 18:
        m.version = string(end);
        break;
      case 26:
        m.attributes!.push(keyValue(delimited(end), depth + 1));
        break;
      case 32:
        m.droppedAttributesCount = varint(end);
        break;
      default:
        unknownField(t, end, SCOPE_FIELDS, 'InstrumentationScope', depth);
    }
  }
  return m;
}

// ---- traces -----------------------------------------------------------------------------------

const REQUEST_FIELDS = fields(1);

function traceRequest(end: number): ExportTraceServiceRequest {
  const m = new TraceRequestMsg();
  while (pos < end) {
    const t = varint(end);
    if (t === 10) m.resourceSpans.push(resourceSpans(delimited(end)));
    else unknownField(t, end, REQUEST_FIELDS, 'ExportTraceServiceRequest', 0);
  }
  return m;
}

const RESOURCE_GROUP_FIELDS = fields(1, 2, 3);

function resourceSpans(end: number): ResourceSpans {
  const m = new ResourceSpansMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.resource = resource(delimited(end), 2);
        break;
      case 18:
        m.scopeSpans.push(scopeSpans(delimited(end)));
        break;
      case 26:
        m.schemaUrl = string(end);
        break;
      default:
        unknownField(t, end, RESOURCE_GROUP_FIELDS, 'ResourceSpans', 1);
    }
  }
  return m;
}

const SCOPE_GROUP_FIELDS = fields(1, 2, 3);

function scopeSpans(end: number): ScopeSpans {
  const m = new ScopeSpansMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.scope = scope(delimited(end), 3);
        break;
      case 18:
        m.spans.push(span(item(end)));
        break;
      case 26:
        m.schemaUrl = string(end);
        break;
      default:
        unknownField(t, end, SCOPE_GROUP_FIELDS, 'ScopeSpans', 2);
    }
  }
  return m;
}

const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const SPAN_DEPTH = 3;

function span(end: number): Span {
  const m = new SpanMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.traceId = bytes(end);
        break;
      case 18:
        m.spanId = bytes(end);
        break;
      case 26:
        m.traceState = string(end);
        break;
      case 34:
        m.parentSpanId = bytes(end);
        break;
      case 133: // 16, fixed32
        m.flags = fixed32(end);
        break;
      case 42:
        m.name = string(end);
        break;
      case 48:
        m.kind = varint(end) | 0;
        break;
      case 57:
        m.startTimeUnixNano = fixed64(end);
        break;
      case 65:
        m.endTimeUnixNano = fixed64(end);
        break;
      case 74:
        m.attributes!.push(keyValue(delimited(end), SPAN_DEPTH + 1));
        break;
      case 80:
        m.droppedAttributesCount = varint(end);
        break;
      case 90:
        m.events!.push(event(delimited(end)));
        break;
      case 96:
        m.droppedEventsCount = varint(end);
        break;
      case 106:
        m.links!.push(link(delimited(end)));
        break;
      case 112:
        m.droppedLinksCount = varint(end);
        break;
      case 122:
        m.status = status(delimited(end));
        break;
      default:
        unknownField(t, end, SPAN_FIELDS, 'Span', SPAN_DEPTH);
    }
  }
  return m;
}

const EVENT_FIELDS = fields(1, 2, 3, 4);

function event(end: number): Event {
  const m = new EventMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 9:
        m.timeUnixNano = fixed64(end);
        break;
      case 18:
        m.name = string(end);
        break;
      case 26:
        m.attributes!.push(keyValue(delimited(end), SPAN_DEPTH + 2));
        break;
      case 32:
        m.droppedAttributesCount = varint(end);
        break;
      default:
        unknownField(t, end, EVENT_FIELDS, 'Span.Event', SPAN_DEPTH + 1);
    }
  }
  return m;
}

const LINK_FIELDS = fields(1, 2, 3, 4, 5, 6);

function link(end: number): Link {
  const m = new LinkMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.traceId = bytes(end);
        break;
      case 18:
        m.spanId = bytes(end);
        break;
      case 26:
        m.traceState = string(end);
        break;
      case 34:
        m.attributes!.push(keyValue(delimited(end), SPAN_DEPTH + 2));
        break;
      case 40:
        m.droppedAttributesCount = varint(end);
        break;
      case 53:
        m.flags = fixed32(end);
        break;
      default:
        unknownField(t, end, LINK_FIELDS, 'Span.Link', SPAN_DEPTH + 1);
    }
  }
  return m;
}

const STATUS_FIELDS = fields(2, 3);

function status(end: number): Status {
  const m = new StatusMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 18:
        m.message = string(end);
        break;
      case 24:
        m.code = varint(end) | 0;
        break;
      default:
        unknownField(t, end, STATUS_FIELDS, 'Status', SPAN_DEPTH + 1);
    }
  }
  return m;
}

// ---- logs -------------------------------------------------------------------------------------

function logsRequest(end: number): ExportLogsServiceRequest {
  const m = new LogsRequestMsg();
  while (pos < end) {
    const t = varint(end);
    if (t === 10) m.resourceLogs.push(resourceLogs(delimited(end)));
    else unknownField(t, end, REQUEST_FIELDS, 'ExportLogsServiceRequest', 0);
  }
  return m;
}

function resourceLogs(end: number): ResourceLogs {
  const m = new ResourceLogsMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.resource = resource(delimited(end), 2);
        break;
      case 18:
        m.scopeLogs.push(scopeLogs(delimited(end)));
        break;
      case 26:
        m.schemaUrl = string(end);
        break;
      default:
        unknownField(t, end, RESOURCE_GROUP_FIELDS, 'ResourceLogs', 1);
    }
  }
  return m;
}

function scopeLogs(end: number): ScopeLogs {
  const m = new ScopeLogsMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 10:
        m.scope = scope(delimited(end), 3);
        break;
      case 18:
        m.logRecords.push(logRecord(item(end)));
        break;
      case 26:
        m.schemaUrl = string(end);
        break;
      default:
        unknownField(t, end, SCOPE_GROUP_FIELDS, 'ScopeLogs', 2);
    }
  }
  return m;
}

const LOG_RECORD_FIELDS = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);
const LOG_RECORD_DEPTH = 3;

function logRecord(end: number): LogRecord {
  const m = new LogRecordMsg();
  while (pos < end) {
    const t = varint(end);
    switch (t) {
      case 9:
        m.timeUnixNano = fixed64(end);
        break;
      case 89: // 11, fixed64
        m.observedTimeUnixNano = fixed64(end);
        break;
      case 16:
        m.severityNumber = varint(end) | 0;
        break;
      case 26:
        m.severityText = string(end);
        break;
      case 42:
        m.body = anyValue(delimited(end), LOG_RECORD_DEPTH + 1);
        break;
      case 50:
        m.attributes!.push(keyValue(delimited(end), LOG_RECORD_DEPTH + 1));
        break;
      case 56:
        m.droppedAttributesCount = varint(end);
        break;
      case 69:
        m.flags = fixed32(end);
        break;
      case 74:
        m.traceId = bytes(end);
        break;
      case 82:
        m.spanId = bytes(end);
        break;
      case 98:
        m.eventName = string(end);
        break;
      default:
        unknownField(t, end, LOG_RECORD_FIELDS, 'LogRecord', LOG_RECORD_DEPTH);
    }
  }
  return m;
}
