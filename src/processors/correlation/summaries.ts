/**
 * What the trace index keeps of a span and of a log record: the fields the debug API and page
 * show, the attributes (capped) in a compact form of their own (compact-attributes.ts), and an
 * estimate of the memory each holds. The estimates are meant as a bound, a little above what the
 * heap measures (bench/trace-index.bench.mjs compares them).
 */
import Long from 'long';
import type { KeyValue, LogRecord, Resource, Span } from '../../otlp/types.js';
import { anyValueToString, asLong, findAttribute, idToHex } from '../../otlp/values.js';
import { compactAttributes, stringBytes, StringTable, type CompactAttributes } from './compact-attributes.js';

/** Attributes kept per span, event or log record; more are counted as dropped in the view. */
export const MAX_ATTRIBUTES = 32;
/** Events kept per span. */
export const MAX_EVENTS = 16;
/** Characters of a log body kept. */
export const MAX_BODY_CHARS = 2048;

export type Nanos = Long | number | null | undefined;

/** A span resource or log resource, interned: many spans share one. */
export interface ResourceInfo {
  /** A small number naming it in the trace index's items. */
  id: number;
  /** Stable text of the attributes (the intern key). */
  key: string;
  serviceName: string;
  attributes: readonly KeyValue[];
}

export interface SpanEvent {
  timeUnixNano: Nanos;
  name: string;
  attributes: CompactAttributes;
}

export interface SpanSummary {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  readonly start: Nanos;
  readonly end: Nanos;
  /** `nanosToMs(start)`, without making the Long. */
  readonly startMs: number | undefined;
  statusCode: number;
  statusMessage: string;
  attributes: CompactAttributes;
  droppedAttributes: number;
  events: readonly SpanEvent[];
  resource: ResourceInfo;
  scopeName: string;
  bytes: number;
}

export interface LogSummary {
  readonly time: Nanos;
  severityNumber: number;
  severityText: string;
  body: string;
  spanId: string;
  attributes: CompactAttributes;
  resource: ResourceInfo;
  bytes: number;
}

// Rough V8 costs on a 64-bit heap (bench/trace-index.bench.mjs measures them): a summary object
// with its fields, a hex id string, a Long (an event's time), a small object. Counts stored in a
// summary are made small integers (`| 0`): V8 boxes a number field that ever held a double, in
// every object.
const SPAN_BYTES = 160;
const LOG_BYTES = 104;
const ID_BYTES = 40;
const LONG_BYTES = 48;
const OBJECT_BYTES = 64;
const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);

// A summary keeps a timestamp as the two 32-bit halves of its nanoseconds, two small integers in
// the summary itself instead of a Long of its own (48 bytes); an absent one as both halves -1 (so
// the one time with those halves, 2^64 - 1 ns, reads as absent).
const ABSENT = -1;

function highOf(n: Nanos): number {
  if (n === null || n === undefined) return ABSENT;
  return (typeof n === 'number' ? Long.fromNumber(n, true) : n).high | 0;
}

function lowOf(n: Nanos): number {
  if (n === null || n === undefined) return ABSENT;
  return (typeof n === 'number' ? Long.fromNumber(n, true) : n).low | 0;
}

function nanosOf(high: number, low: number): Long | undefined {
  return high === ABSENT && low === ABSENT ? undefined : Long.fromBits(low, high, true);
}

/** nanosToMs(nanosOf(high, low)), without making the Long. */
function msOf(high: number, low: number): number | undefined {
  if (high === ABSENT && low === ABSENT) return undefined;
  const v = (high >>> 0) * 4294967296 + (low >>> 0);
  return v === 0 ? undefined : v / 1e6;
}

class KeptSpan implements SpanSummary {
  constructor(
    readonly spanId: string,
    readonly parentSpanId: string,
    readonly name: string,
    readonly kind: number,
    private readonly startHigh: number,
    private readonly startLow: number,
    private readonly endHigh: number,
    private readonly endLow: number,
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly attributes: CompactAttributes,
    readonly droppedAttributes: number,
    readonly events: readonly SpanEvent[],
    readonly resource: ResourceInfo,
    readonly scopeName: string,
    readonly bytes: number,
  ) {}

  get start(): Nanos {
    return nanosOf(this.startHigh, this.startLow);
  }

  get end(): Nanos {
    return nanosOf(this.endHigh, this.endLow);
  }

  get startMs(): number | undefined {
    return msOf(this.startHigh, this.startLow);
  }
}

class KeptLog implements LogSummary {
  constructor(
    private readonly timeHigh: number,
    private readonly timeLow: number,
    readonly severityNumber: number,
    readonly severityText: string,
    readonly body: string,
    readonly spanId: string,
    readonly attributes: CompactAttributes,
    readonly resource: ResourceInfo,
    readonly bytes: number,
  ) {}

  get time(): Nanos {
    return nanosOf(this.timeHigh, this.timeLow);
  }
}

function capped(attributes: readonly KeyValue[] | null | undefined): readonly KeyValue[] {
  if (!attributes || attributes.length === 0) return [];
  return attributes.length > MAX_ATTRIBUTES ? attributes.slice(0, MAX_ATTRIBUTES) : attributes;
}

/** Interns resources by content, so that the index holds one object per distinct resource. */
export class ResourceTable {
  private readonly byKey = new Map<string, ResourceInfo>();
  /** By id, as items name them: the newest `maxEntries * 4` (an item older than those shows no resource). */
  private readonly ids = new Map<number, ResourceInfo>();
  private nextId = 0;
  /** Resources of decoded batches seen before, by object identity (no key computed twice). */
  private readonly byObject = new WeakMap<object, ResourceInfo>();

  constructor(private readonly maxEntries = 256) {}

  intern(resource: Resource | null | undefined): ResourceInfo {
    if (resource && this.byObject.has(resource)) return this.byObject.get(resource)!;
    const attributes = capped(resource?.attributes);
    const key = attributes.map((kv) => `${kv.key}=${anyValueToString(kv.value)}`).join('\n');
    let info = this.byKey.get(key);
    if (!info) {
      const service = findAttribute(attributes, 'service.name');
      info = {
        id: this.nextId++,
        key,
        serviceName: service ? anyValueToString(service) : '',
        attributes,
      };
      // Oldest first out.
      if (this.byKey.size >= this.maxEntries) this.byKey.delete(this.byKey.keys().next().value!);
      this.byKey.set(key, info);
      if (this.ids.size >= this.maxEntries * 4) this.ids.delete(this.ids.keys().next().value!);
      this.ids.set(info.id, info);
    }
    if (resource) this.byObject.set(resource, info);
    return info;
  }

  byId(id: number): ResourceInfo | undefined {
    return this.ids.get(id);
  }
}

/**
 * Makes the summaries the index keeps, sharing the strings that repeat from one span or record to
 * the next (attribute keys; span, event and scope names; severity texts) through bounded tables.
 */
export class Summarizer {
  private readonly keys = new StringTable();
  private readonly names = new StringTable();

  /** A shared copy of a name when the table holds it, and the bytes it costs the summary. */
  private name(s: string): [string, number] {
    const shared = this.names.intern(s);
    return shared === undefined ? [s, stringBytes(s)] : [shared, 0];
  }

  span(span: Span, resource: ResourceInfo, scopeName: string): SpanSummary {
    const attributes = compactAttributes(span.attributes, MAX_ATTRIBUTES, this.keys);
    const [name, nameBytes] = this.name(span.name ?? '');
    const statusMessage = span.status?.message ?? '';
    let bytes = SPAN_BYTES + 2 * ID_BYTES + nameBytes + attributes.bytes + stringBytes(statusMessage);
    let events = NO_EVENTS;
    if (span.events && span.events.length > 0) {
      const n = Math.min(span.events.length, MAX_EVENTS);
      const kept = new Array<SpanEvent>(n);
      bytes += OBJECT_BYTES + n * 8;
      for (let i = 0; i < n; i++) {
        const e = span.events[i];
        const [eventName, eventNameBytes] = this.name(e.name ?? '');
        const a = compactAttributes(e.attributes, MAX_ATTRIBUTES, this.keys);
        kept[i] = { timeUnixNano: e.timeUnixNano, name: eventName, attributes: a.attributes };
        bytes += OBJECT_BYTES + LONG_BYTES + eventNameBytes + a.bytes;
      }
      events = kept;
    }
    const start = span.startTimeUnixNano;
    const end = span.endTimeUnixNano;
    return new KeptSpan(
      idToHex(span.spanId),
      idToHex(span.parentSpanId),
      name,
      span.kind ?? 0,
      highOf(start),
      lowOf(start),
      highOf(end),
      lowOf(end),
      span.status?.code ?? 0,
      statusMessage,
      attributes.attributes,
      (attributes.dropped + (span.droppedAttributesCount ?? 0)) | 0,
      events,
      resource,
      this.name(scopeName)[0],
      bytes | 0,
    );
  }

  log(record: LogRecord, resource: ResourceInfo): LogSummary {
    const attributes = compactAttributes(record.attributes, MAX_ATTRIBUTES, this.keys);
    let body = anyValueToString(record.body);
    if (body.length > MAX_BODY_CHARS) body = `${body.slice(0, MAX_BODY_CHARS)}…`;
    const [severityText, severityBytes] = this.name(record.severityText ?? '');
    const time = nonZero(record.timeUnixNano) ?? record.observedTimeUnixNano;
    return new KeptLog(
      highOf(time),
      lowOf(time),
      record.severityNumber ?? 0,
      severityText,
      body,
      idToHex(record.spanId),
      attributes.attributes,
      resource,
      (LOG_BYTES + stringBytes(body) + severityBytes + ID_BYTES + attributes.bytes) | 0,
    );
  }
}

function nonZero(n: Nanos): Nanos {
  if (n === null || n === undefined) return undefined;
  if (typeof n === 'number') return n === 0 ? undefined : n;
  return n.isZero() ? undefined : n;
}

/** Milliseconds since the epoch (fractional), or undefined. */
export function nanosToMs(n: Nanos): number | undefined {
  if (n === null || n === undefined) return undefined;
  const v = typeof n === 'number' ? n : asLong(n).toNumber();
  return v === 0 ? undefined : v / 1e6;
}

/** The exact decimal text of a nanosecond timestamp. */
export function nanosToString(n: Nanos): string | undefined {
  if (n === null || n === undefined) return undefined;
  return typeof n === 'number' ? String(n) : asLong(n).toString();
}
