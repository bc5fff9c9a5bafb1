/**
 * What the trace index keeps of a span and of a log record: the fields the debug API and page
 * show, references to the decoded attributes (capped), and an estimate of the memory each holds.
 * The estimates are deliberately generous (bench/trace-index.bench.mjs compares them with the heap).
 */
import Long from 'long';
import type { AnyValue, KeyValue, LogRecord, Resource, Span } from '../../otlp/types.js';
import { anyValueKind, anyValueToString, findAttribute, idToHex } from '../../otlp/values.js';

/** Attributes kept per span, event or log record; more are counted as dropped in the view. */
export const MAX_ATTRIBUTES = 32;
/** Events kept per span. */
export const MAX_EVENTS = 16;
/** Characters of a log body kept. */
export const MAX_BODY_CHARS = 2048;

export type Nanos = Long | number | null | undefined;

/** A span resource or log resource, interned: many spans share one. */
export interface ResourceInfo {
  /** Stable text of the attributes (the intern key). */
  key: string;
  serviceName: string;
  attributes: readonly KeyValue[];
  bytes: number;
}

export interface SpanSummary {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: Nanos;
  end: Nanos;
  statusCode: number;
  statusMessage: string;
  attributes: readonly KeyValue[];
  droppedAttributes: number;
  events: readonly { timeUnixNano: Nanos; name: string; attributes: readonly KeyValue[] }[];
  resource: ResourceInfo;
  scopeName: string;
  bytes: number;
}

export interface LogSummary {
  time: Nanos;
  severityNumber: number;
  severityText: string;
  body: string;
  spanId: string;
  attributes: readonly KeyValue[];
  resource: ResourceInfo;
  bytes: number;
}

// Rough V8 costs: an object header with a few fields, a Map entry, a string header.
const OBJECT_BYTES = 64;
const STRING_BYTES = 24;
const KEYVALUE_BYTES = 96;

function stringBytes(s: string | null | undefined): number {
  return s ? STRING_BYTES + s.length * 2 : 0;
}

/** Estimated bytes of an attribute value (nested values walked to a small depth). */
function valueBytes(v: AnyValue | null | undefined, depth = 0): number {
  const kind = anyValueKind(v);
  if (!kind || !v) return 16;
  switch (kind) {
    case 'stringValue':
      return stringBytes(v.stringValue);
    case 'bytesValue':
      return 64 + v.bytesValue!.byteLength;
    case 'arrayValue':
      return depth > 2 ? 256 : 32 + v.arrayValue!.values.reduce((n, x) => n + valueBytes(x, depth + 1), 0);
    case 'kvlistValue':
      return depth > 2 ? 256 : 32 + v.kvlistValue!.values.reduce((n, kv) => n + KEYVALUE_BYTES + stringBytes(kv.key) + valueBytes(kv.value, depth + 1), 0);
    default:
      return 48;
  }
}

export function attributesBytes(attributes: readonly KeyValue[]): number {
  let n = 32;
  for (const kv of attributes) n += KEYVALUE_BYTES + stringBytes(kv.key) + valueBytes(kv.value);
  return n;
}

function capped(attributes: readonly KeyValue[] | null | undefined): readonly KeyValue[] {
  if (!attributes || attributes.length === 0) return [];
  return attributes.length > MAX_ATTRIBUTES ? attributes.slice(0, MAX_ATTRIBUTES) : attributes;
}

/** Interns resources by content, so that the index holds one object per distinct resource. */
export class ResourceTable {
  private readonly byKey = new Map<string, ResourceInfo>();
  /** Resources of decoded batches seen before, by object identity (no key computed twice). */
  private readonly byObject = new WeakMap<object, ResourceInfo>();

  constructor(private readonly maxEntries = 256) {}

  get bytes(): number {
    let n = 0;
    for (const r of this.byKey.values()) n += r.bytes;
    return n;
  }

  intern(resource: Resource | null | undefined): ResourceInfo {
    if (resource && this.byObject.has(resource)) return this.byObject.get(resource)!;
    const attributes = capped(resource?.attributes);
    const key = attributes.map((kv) => `${kv.key}=${anyValueToString(kv.value)}`).join('\n');
    let info = this.byKey.get(key);
    if (!info) {
      const service = findAttribute(attributes, 'service.name');
      info = {
        key,
        serviceName: service ? anyValueToString(service) : '',
        attributes,
        bytes: OBJECT_BYTES + stringBytes(key) + attributesBytes(attributes),
      };
      // Oldest first out: a resource still referenced by a trace stays alive through it.
      if (this.byKey.size >= this.maxEntries) this.byKey.delete(this.byKey.keys().next().value!);
      this.byKey.set(key, info);
    }
    if (resource) this.byObject.set(resource, info);
    return info;
  }
}

export function summarizeSpan(span: Span, resource: ResourceInfo, scopeName: string): SpanSummary {
  const attributes = capped(span.attributes);
  const events = (span.events ?? []).slice(0, MAX_EVENTS).map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name ?? '', attributes: capped(e.attributes) }));
  let bytes = OBJECT_BYTES * 2 + 2 * stringBytes('0123456789abcdef') + stringBytes(span.name) + attributesBytes(attributes) + stringBytes(span.status?.message);
  for (const e of events) bytes += OBJECT_BYTES + stringBytes(e.name) + attributesBytes(e.attributes);
  return {
    spanId: idToHex(span.spanId),
    parentSpanId: idToHex(span.parentSpanId),
    name: span.name ?? '',
    kind: span.kind ?? 0,
    start: span.startTimeUnixNano,
    end: span.endTimeUnixNano,
    statusCode: span.status?.code ?? 0,
    statusMessage: span.status?.message ?? '',
    attributes,
    droppedAttributes: (span.attributes?.length ?? 0) - attributes.length + (span.droppedAttributesCount ?? 0),
    events,
    resource,
    scopeName,
    bytes,
  };
}

export function summarizeLog(record: LogRecord, resource: ResourceInfo): LogSummary {
  const attributes = capped(record.attributes);
  let body = anyValueToString(record.body);
  if (body.length > MAX_BODY_CHARS) body = `${body.slice(0, MAX_BODY_CHARS)}…`;
  return {
    time: nonZero(record.timeUnixNano) ?? record.observedTimeUnixNano,
    severityNumber: record.severityNumber ?? 0,
    severityText: record.severityText ?? '',
    body,
    spanId: idToHex(record.spanId),
    attributes,
    resource,
    bytes: OBJECT_BYTES * 2 + stringBytes(body) + stringBytes(record.severityText) + stringBytes('0123456789abcdef') + attributesBytes(attributes),
  };
}

function nonZero(n: Nanos): Nanos {
  if (n === null || n === undefined) return undefined;
  if (typeof n === 'number') return n === 0 ? undefined : n;
  return n.isZero() ? undefined : n;
}

/** Milliseconds since the epoch (fractional), or undefined. */
export function nanosToMs(n: Nanos): number | undefined {
  if (n === null || n === undefined) return undefined;
  const v = typeof n === 'number' ? n : Long.fromValue(n).toNumber();
  return v === 0 ? undefined : v / 1e6;
}

/** The exact decimal text of a nanosecond timestamp. */
export function nanosToString(n: Nanos): string | undefined {
  if (n === null || n === undefined) return undefined;
  return typeof n === 'number' ? String(n) : Long.fromValue(n).toString();
}
