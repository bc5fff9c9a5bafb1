/**
 * Trace-context extraction (the README's Log files): from the parsed fields of one log record (JSON, logfmt or
 * regex named groups; flat, dotted or nested) and, only when the fields carry no context, from the
 * text of the line. The result is ready to set on an OTLP LogRecord: a 16-byte trace id, an
 * optional 8-byte span id and the W3C trace flags.
 *
 * The hot path is one pass over the record's keys with cached key lookups. The line (its first
 * line) is scanned only when the fields did not answer: one prepared regex finds the key words,
 * and the hex forms are checked in place around runs of 16+ hex digits. Refused ids (wrong
 * length, not hex, all zero, out of range) are reported to a sink by reason and never returned.
 */
import { KeysByPosition } from '../../keys-by-position.js';
import { Role, ROLE_COUNT } from './roles.js';
import { detectTextContext, parseTraceparent, parseXRay, scanHexForms } from './text-forms.js';
import {
  datadogSpanId,
  datadogTraceId,
  flagsValue,
  hexSpanId,
  isAbsent,
  spanIdValue,
  traceIdValue,
  type IdResult,
  type InvalidIdReason,
  type InvalidIdSink,
  type TraceContext,
} from './ids.js';

/** The parsed fields of one record: what JSON.parse, the logfmt parser or a regex's named groups give. */
export type Fields = { readonly [key: string]: unknown };

/** `logs.trace_context` in the configuration. */
export interface TraceContextOptions {
  /** Field paths ("a.b" is a flat dotted key or a nested path) holding the trace id, tried first. */
  trace_id_fields: readonly string[];
  span_id_fields: readonly string[];
  trace_flags_fields: readonly string[];
  /** Regexes tried on the line when the fields carry no context: named groups trace_id, span_id, trace_flags. */
  patterns: readonly string[];
  /** Scan the line for text forms (key=value, traceparent, X-Ray, [app,trace,span]) when the fields carry none. */
  scan_text: boolean;
}

export const DEFAULT_TRACE_CONTEXT_OPTIONS: TraceContextOptions = Object.freeze({
  trace_id_fields: [],
  span_id_fields: [],
  trace_flags_fields: [],
  patterns: [],
  scan_text: true,
});

// ---- the roles a field can play ------------------------------------------------------------------

/** Values found per role for one record. */
type Slots = unknown[];

/**
 * Field names, normalized (lowercase, without `_`, `-` and `.`), and the role they play. One table
 * covers `trace_id`, `traceId`, `traceID`, `trace.id` (flat ECS) and `{trace: {id}}` (nested ECS).
 */
const ROLE_OF = new Map<string, Role>([
  ['traceid', Role.Trace], // OTel, Spring/Micrometer, ECS, Go, zap, slog, .NET
  ['oteltraceid', Role.Trace], // Python logging instrumentation (otelTraceID)
  ['@tr', Role.Trace], // Serilog compact JSON
  ['spanid', Role.Span],
  ['otelspanid', Role.Span],
  ['@sp', Role.Span],
  ['traceflags', Role.Flags],
  ['oteltraceflags', Role.Flags],
  ['tracesampled', Role.Sampled],
  ['oteltracesampled', Role.Sampled],
  ['transactionid', Role.Transaction], // ECS / Elastic APM: the span id of the service's entry span
  ['traceparent', Role.Traceparent],
  ['ddtraceid', Role.DdTrace],
  ['ddspanid', Role.DdSpan],
  ['xb3traceid', Role.B3Trace],
  ['xb3spanid', Role.B3Span],
  ['xb3sampled', Role.B3Sampled],
  ['b3', Role.B3Single],
  ['xraytraceid', Role.XRay], // AWS Lambda Powertools
  ['awsxraytraceid', Role.XRay],
  ['xamzntraceid', Role.XRay], // the X-Amzn-Trace-Id header, _X_AMZN_TRACE_ID
  ['logginggoogleapiscom/trace', Role.GcpTrace], // Google Cloud structured logging
  ['logginggoogleapiscom/spanid', Role.GcpSpan],
  ['logginggoogleapiscom/tracesampled', Role.GcpSampled],
]);

/** Objects whose keys continue the name of the key (`{trace: {id}}`, `{dd: {trace_id}}`). */
const PREFIXES = new Set(['trace', 'span', 'transaction', 'dd', 'xb3']);
/** Objects that hold a logger's context map; their keys are names of their own (`{mdc: {trace_id}}`). */
const CONTAINERS = new Set([
  'mdc',
  'contextmap', // log4j2 JSON layout
  'context',
  'ctx',
  'properties', // Serilog
  'attributes',
  'attrs',
  'fields',
  'extra',
  'labels',
  'meta',
  'metadata',
  'otel',
  'tracing',
]);
const MAX_DEPTH = 3;
/** Positions of listed keys whose last key is remembered. */
const MAX_LISTED = 16;

const bits = (...roles: number[]) => roles.reduce((m, r) => m | (1 << r), 0);
/**
 * The roles each family reads. Their top-level fields are "taken" (not repeated as attributes);
 * `transaction.id` stays, it names the APM transaction too.
 */
const FAMILY = {
  traceparent: bits(Role.Traceparent),
  otel: bits(Role.Trace, Role.Span, Role.Flags, Role.Sampled),
  datadog: bits(Role.DdTrace, Role.DdSpan),
  b3: bits(Role.B3Trace, Role.B3Span, Role.B3Sampled),
  b3Single: bits(Role.B3Single),
  xray: bits(Role.XRay),
  gcp: bits(Role.GcpTrace, Role.GcpSpan, Role.GcpSampled),
};

const KIND_NONE = -1;
const KIND_PREFIX = -2;
const KIND_CONTAINER = -3;

const NORMALIZE_RE = /[-_.]/g;
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(NORMALIZE_RE, '');
}

interface NestedKey {
  kind: number;
  /** The normalized name so far, the prefix of this object's keys when it is one. */
  name: string;
}

function kindOf(name: string): number {
  return ROLE_OF.get(name) ?? (PREFIXES.has(name) ? KIND_PREFIX : CONTAINERS.has(name) ? KIND_CONTAINER : KIND_NONE);
}

/**
 * Raw key → its kind, at the top level and under each prefix, so that a logger's repeated keys
 * are normalized once. Dictionary objects: their lookups are cheaper than a Map's on this path.
 */
class KeyCache {
  private topLevel: Record<string, NestedKey> = Object.create(null) as Record<string, NestedKey>;
  private nested: Record<string, Record<string, NestedKey>> = Object.create(null) as Record<string, Record<string, NestedKey>>;
  private size = 0;

  /** The kind of `key` in an object whose keys continue `prefix` ('' at the top level and in containers). */
  lookup(prefix: string, key: string, topLevel: boolean): NestedKey {
    let table: Record<string, NestedKey>;
    if (topLevel) table = this.topLevel;
    else {
      table = this.nested[prefix];
      if (table === undefined) this.nested[prefix] = table = Object.create(null) as Record<string, NestedKey>;
    }
    let k = table[key];
    if (k === undefined) {
      const name = prefix + normalizeKey(key);
      k = { kind: kindOf(name), name };
      // Keys are a logger's vocabulary; records with ever-new keys must not grow the cache forever.
      if (++this.size > 4096) {
        this.topLevel = Object.create(null) as Record<string, NestedKey>;
        this.nested = Object.create(null) as Record<string, Record<string, NestedKey>>;
        this.size = 1;
        table = topLevel ? this.topLevel : (this.nested[prefix] = Object.create(null) as Record<string, NestedKey>);
      }
      table[key] = k;
    }
    return k;
  }
}

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- the extractor ---------------------------------------------------------------------------------

interface UserPattern {
  re: RegExp;
}

export class TraceContextExtractor {
  private readonly keys = new KeyCache();
  /** The kinds of the listed top-level keys, by their position in the list (`visitListed`). */
  private readonly listed = new KeysByPosition(MAX_LISTED, (key) => this.keys.lookup('', key, true));
  /** Values found per role for the current record, and which roles are set. */
  private readonly slots: Slots = new Array<unknown>(ROLE_COUNT).fill(undefined);
  private mask = 0;
  /** The top-level key each slot came from (undefined when nested or from the text). */
  private readonly slotKeys: (string | undefined)[] = new Array<string | undefined>(ROLE_COUNT).fill(undefined);
  /** The roles of the family that answered. */
  private used = 0;
  private readonly setter = (role: number, value: unknown) => this.set(role, value);
  private readonly traceFields: readonly (readonly string[])[];
  private readonly spanFields: readonly (readonly string[])[];
  private readonly flagsFields: readonly (readonly string[])[];
  /** The configured field paths, as top-level keys (what `fromUserFields` can take). */
  private readonly userKeys: ReadonlySet<string>;
  private readonly patterns: readonly UserPattern[];
  private readonly scanText: boolean;

  constructor(
    options: TraceContextOptions = DEFAULT_TRACE_CONTEXT_OPTIONS,
    private readonly sink: InvalidIdSink = () => undefined,
  ) {
    const split = (paths: readonly string[]) => paths.map((p) => [p, ...p.split('.')]);
    this.traceFields = split(options.trace_id_fields);
    this.spanFields = split(options.span_id_fields);
    this.flagsFields = split(options.trace_flags_fields);
    this.userKeys = new Set([...options.trace_id_fields, ...options.span_id_fields, ...options.trace_flags_fields]);
    this.patterns = options.patterns.map((p) => ({ re: new RegExp(p) }));
    this.scanText = options.scan_text;
  }

  /**
   * The trace context of one record, or undefined. `fields` is the parsed record (undefined for a
   * plain text line); `line` is its raw text (the whole group for a multiline record). When
   * `taken` is given, the top-level keys of `fields` whose values gave the context are pushed to
   * it (nested objects such as `dd` or `mdc`, which hold more than the ids, are never taken).
   * `keys`, when given, are the top-level keys of `fields` for which `isContextKey` is true (found
   * by the caller's own pass over the fields): only those are looked at.
   */
  extract(fields: Fields | undefined, line: string, taken?: string[], keys?: readonly string[] | null): TraceContext | undefined {
    if (fields !== undefined) {
      if (this.traceFields.length > 0) {
        const user = this.fromUserFields(fields, taken);
        if (user) return user;
      }
      if (keys) for (let i = 0; i < keys.length; i++) this.visitListed(fields, keys[i], i);
      else this.walk(fields, '', 0);
      if (this.mask !== 0) {
        // The fields named a context (valid or not): the line would only repeat them.
        return this.fromSlots(taken);
      }
    }
    for (const p of this.patterns) {
      const ctx = this.fromPattern(p.re, line);
      if (ctx) return ctx;
    }
    if (!this.scanText) return undefined;
    return this.fromText(line);
  }

  private invalid(result: IdResult): result is InvalidIdReason {
    if (typeof result === 'string') {
      this.sink(result);
      return true;
    }
    return false;
  }

  /** Records a value for a role (the first one wins); true when it did. */
  private set(role: number, value: unknown): boolean {
    const bit = 1 << role;
    if ((this.mask & bit) === 0 && value !== undefined && value !== null) {
      this.slots[role] = value;
      this.mask |= bit;
      return true;
    }
    return false;
  }

  /**
   * Whether a top-level field of this name can hold trace context (an id, or an object that may
   * hold one), or is a configured field path: the keys `extract` may take.
   */
  isContextKey(key: string): boolean {
    return this.userKeys.has(key) || this.keys.lookup('', key, true).kind !== KIND_NONE;
  }

  /** Fills the slots from the keys of `obj`. */
  private walk(obj: Fields, prefix: string, depth: number): void {
    for (const key in obj) this.visit(obj, key, prefix, depth);
  }

  private visit(obj: Fields, key: string, prefix: string, depth: number): void {
    this.visitAs(obj, key, this.keys.lookup(prefix, key, depth === 0), depth);
  }

  /** `visit` of the `i`-th listed top-level key (a logger lists the same keys line after line). */
  private visitListed(obj: Fields, key: string, i: number): void {
    this.visitAs(obj, key, this.listed.get(i, key), 0);
  }

  private visitAs(obj: Fields, key: string, k: NestedKey, depth: number): void {
    const kind = k.kind;
    if (kind === KIND_NONE) return;
    const value = obj[key];
    if (kind >= 0) {
      if (this.set(kind, value) && depth === 0) this.slotKeys[kind] = key;
    } else if (depth < MAX_DEPTH && isObject(value)) {
      this.walk(value, kind === KIND_PREFIX ? k.name : '', depth + 1);
    }
  }

  /**
   * The first family, in precedence order, whose trace id is valid; refused ids are counted.
   * Empties the slots.
   */
  private fromSlots(taken?: string[]): TraceContext | undefined {
    this.used = 0;
    const ctx = this.families(this.slots, this.mask);
    const used = ctx ? this.used : 0;
    for (let m = this.mask, i = 0; m !== 0; m >>>= 1, i++) {
      if ((m & 1) === 0) continue;
      const key = this.slotKeys[i];
      if (key !== undefined) {
        if (taken && used & (1 << i)) taken.push(key);
        this.slotKeys[i] = undefined;
      }
      this.slots[i] = undefined;
    }
    this.mask = 0;
    return ctx;
  }

  private families(s: Slots, mask: number): TraceContext | undefined {
    if (mask & (1 << Role.Traceparent) && typeof s[Role.Traceparent] === 'string') {
      const r = parseTraceparent(s[Role.Traceparent] as string, this.sink);
      this.used = FAMILY.traceparent;
      if (r) return r;
    }
    if (mask & (1 << Role.Trace)) {
      const trace = traceIdValue(s[Role.Trace]);
      if (trace !== undefined && !this.invalid(trace)) {
        this.used = FAMILY.otel;
        return {
          traceId: trace,
          spanId: mask & (1 << Role.Span) ? this.span(spanIdValue(s[Role.Span])) : mask & (1 << Role.Transaction) ? this.span(spanIdValue(s[Role.Transaction])) : undefined,
          flags: mask & (1 << Role.Flags) ? this.flags(s[Role.Flags]) : mask & (1 << Role.Sampled) ? this.flags(s[Role.Sampled]) : undefined,
        };
      }
    }
    if (mask & (1 << Role.DdTrace)) {
      const trace = datadogTraceId(s[Role.DdTrace]);
      if (trace !== undefined && !this.invalid(trace)) {
        this.used = FAMILY.datadog;
        return { traceId: trace, spanId: mask & (1 << Role.DdSpan) ? this.span(datadogSpanId(s[Role.DdSpan])) : undefined, flags: undefined };
      }
    }
    if (mask & (1 << Role.B3Trace)) {
      const trace = traceIdValue(s[Role.B3Trace]);
      if (trace !== undefined && !this.invalid(trace)) {
        this.used = FAMILY.b3;
        return { traceId: trace, spanId: this.span(spanIdValue(s[Role.B3Span])), flags: this.flags(s[Role.B3Sampled]) };
      }
    }
    if (mask & (1 << Role.B3Single) && typeof s[Role.B3Single] === 'string') {
      const r = parseB3Single(s[Role.B3Single] as string, this.sink);
      this.used = FAMILY.b3Single;
      if (r) return r;
    }
    if (mask & (1 << Role.XRay) && typeof s[Role.XRay] === 'string') {
      const r = parseXRay(s[Role.XRay] as string, this.sink);
      this.used = FAMILY.xray;
      if (r) return r;
    }
    if (mask & (1 << Role.GcpTrace) && typeof s[Role.GcpTrace] === 'string') {
      const text = s[Role.GcpTrace] as string;
      // "projects/<project>/traces/<32 hex>"
      const trace = traceIdValue(text.slice(text.lastIndexOf('/') + 1));
      if (trace !== undefined && !this.invalid(trace)) {
        this.used = FAMILY.gcp;
        return { traceId: trace, spanId: this.span(spanIdValue(s[Role.GcpSpan])), flags: this.flags(s[Role.GcpSampled]) };
      }
    }
    return undefined;
  }

  private span(r: IdResult | undefined): Uint8Array | undefined {
    if (r === undefined || this.invalid(r)) return undefined;
    return r;
  }

  private flags(value: unknown): number | undefined {
    const f = flagsValue(value);
    if (typeof f === 'string') {
      this.sink(f);
      return undefined;
    }
    return f;
  }

  private fromUserFields(fields: Fields, taken: string[] | undefined): TraceContext | undefined {
    const traceValue = lookup(fields, this.traceFields);
    if (traceValue === undefined) return undefined;
    const trace = anyTraceId(traceValue, this.sink);
    if (trace === undefined) return undefined;
    const spanValue = lookup(fields, this.spanFields);
    const flagsValue_ = lookup(fields, this.flagsFields);
    if (taken) {
      for (const paths of [this.traceFields, this.spanFields, this.flagsFields]) {
        for (const p of paths) if (fields[p[0]] !== undefined) taken.push(p[0]);
      }
    }
    return {
      traceId: trace.traceId,
      spanId: spanValue !== undefined ? this.span(anySpanId(spanValue)) : trace.spanId,
      flags: flagsValue_ !== undefined ? this.flags(flagsValue_) : trace.flags,
    };
  }

  private fromPattern(re: RegExp, line: string): TraceContext | undefined {
    const m = re.exec(line);
    const g = m?.groups;
    if (!g || g.trace_id === undefined) return undefined;
    const trace = anyTraceId(g.trace_id, this.sink);
    if (!trace) return undefined;
    return {
      traceId: trace.traceId,
      spanId: g.span_id !== undefined ? this.span(anySpanId(g.span_id)) : trace.spanId,
      flags: g.trace_flags !== undefined ? this.flags(g.trace_flags) : trace.flags,
    };
  }

  private fromText(line: string): TraceContext | undefined {
    const text = firstLine(line);
    detectTextContext(text, this.setter);
    if (this.mask !== 0) {
      const ctx = this.fromSlots();
      if (ctx) return ctx;
    }
    return scanHexForms(text, this.sink);
  }
}

/** The part of a record scanned for text forms: its first line, at most 16 KiB. */
export const MAX_SCAN_CHARS = 16 * 1024;
function firstLine(line: string): string {
  const nl = line.indexOf('\n');
  const end = nl < 0 ? line.length : nl;
  return end > MAX_SCAN_CHARS ? line.slice(0, MAX_SCAN_CHARS) : end === line.length ? line : line.slice(0, end);
}

/** The value at the first path that has one: a flat dotted key first, then the nested path. */
function lookup(fields: Fields, paths: readonly (readonly string[])[]): unknown {
  for (const path of paths) {
    let v: unknown = fields[path[0]];
    if (v === undefined && path.length > 2) {
      v = fields;
      for (let i = 1; i < path.length && v !== undefined; i++) v = isObject(v) ? v[path[i]] : undefined;
    }
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/**
 * A trace id in a user-named field or pattern group, in whatever form: a traceparent, an X-Ray
 * id, 32 or 16 hex digits, or an unsigned 64-bit decimal.
 */
function anyTraceId(value: unknown, sink: InvalidIdSink): TraceContext | undefined {
  if (typeof value === 'string') {
    if (value.length >= 55 && value.charCodeAt(2) === 45 /* - */) return parseTraceparent(value, sink);
    if (value.startsWith('Root=') || value.startsWith('1-')) return parseXRay(value, sink);
    if (value.length !== 16 && value.length !== 32 && /^\d+$/.test(value)) return resultOf(datadogTraceId(value), sink);
  }
  return resultOf(typeof value === 'number' ? datadogTraceId(value) : traceIdValue(value), sink);
}

function anySpanId(value: unknown): IdResult | undefined {
  if (typeof value === 'string' && value.length !== 16 && /^\d+$/.test(value) && !isAbsent(value)) return datadogSpanId(value);
  return typeof value === 'number' ? datadogSpanId(value) : spanIdValue(value);
}

function resultOf(r: IdResult | undefined, sink: InvalidIdSink): TraceContext | undefined {
  if (r === undefined) return undefined;
  if (typeof r === 'string') {
    sink(r);
    return undefined;
  }
  return { traceId: r, spanId: undefined, flags: undefined };
}

/** B3 single header: `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`, or just `0`/`1`/`d` (no ids). */
function parseB3Single(text: string, sink: InvalidIdSink): TraceContext | undefined {
  const parts = text.split('-');
  if (parts.length < 2) return undefined;
  const trace = traceIdValue(parts[0]);
  if (trace === undefined) return undefined;
  if (typeof trace === 'string') {
    sink(trace);
    return undefined;
  }
  const span = hexSpanId(parts[1]);
  if (typeof span === 'string') sink(span);
  const sampled = parts[2];
  return {
    traceId: trace,
    spanId: typeof span === 'string' ? undefined : span,
    flags: sampled === '1' || sampled === 'd' ? 1 : sampled === '0' ? 0 : undefined,
  };
}

/** Sets the context on an OTLP LogRecord: ids, and the trace flags in the low 8 bits of `flags`. */
export function applyTraceContext(record: { traceId?: Uint8Array | null; spanId?: Uint8Array | null; flags?: number }, ctx: TraceContext): void {
  record.traceId = ctx.traceId;
  if (ctx.spanId) record.spanId = ctx.spanId;
  if (ctx.flags !== undefined) record.flags = ((record.flags ?? 0) & ~0xff) | (ctx.flags & 0xff);
}
