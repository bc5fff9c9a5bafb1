/**
 * The bounded in-memory index of recent traces: the spans the sidecar received and the log
 * records that carry their trace context. Bounded twice: a trace leaves `windowMs` after its last
 * span or log, and past `maxBytes` (estimated) the least recently active traces are evicted first.
 *
 * Correlation results are decided here (README "Correlation"):
 * - `no_context`: a log record without a trace id, counted when it is recorded;
 * - `matched`: a log record whose trace has spans in the index, counted when it is recorded, or
 *   when the first span of its trace arrives later (spans end after the logs written inside them);
 * - `unmatched`: a log record whose trace saw no span while it was in the index, counted when
 *   the trace leaves it (window, memory cap or shutdown).
 *
 * A trace id whose high 64 bits are zero (a Datadog decimal id, or a 64-bit id) also matches the
 * trace whose low 64 bits are the same, so that `dd.trace_id` logs join OTel spans.
 */
import { hasTraceContext, SEVERITIES, severityOf, type Severity } from '../../metrics/log-metrics.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import { idToHex } from '../../otlp/values.js';
import { StatusCode } from '../../otlp/types.js';
import { nanosToMs, ResourceTable, Summarizer, type LogSummary, type ResourceInfo, type SpanSummary } from './summaries.js';

export type CorrelationResult = 'matched' | 'unmatched' | 'no_context';
export type EvictionReason = 'expired' | 'memory' | 'shutdown';

/** Spans and log records kept per trace; more are counted in `droppedSpans` / `droppedLogs`. */
export const MAX_SPANS_PER_TRACE = 1000;
export const MAX_LOGS_PER_TRACE = 1000;

/** Index of each severity (as the log metrics bucket it) in `TraceEntry.logCounts`. */
const SEVERITY_INDEX = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

// Estimated bytes of a trace's own entry (object, id, boxed numbers, its slot in the map), of the
// log counts it gets with its first log, of an item's slot in its trace's list, and of the entry of
// a trace in the low-64-bit map (only kept once a zero-high id has been seen).
const ENTRY_BYTES = 320;
const LOG_COUNTS_BYTES = 112;
const SLOT_BYTES = 8;
const LOW64_BYTES = 96;
/** Lists of spans or logs up to this length are copied at their exact length when they grow. */
const EXACT_LIST_LENGTH = 16;

const NO_SPANS: readonly SpanSummary[] = Object.freeze([]);
const NO_LOGS: readonly LogSummary[] = Object.freeze([]);
const NO_LOG_COUNTS: readonly number[] = Object.freeze(SEVERITIES.map(() => 0));

export interface TraceEntry {
  readonly id: string;
  /** ms since epoch, by the index clock. */
  lastActivity: number;
  spans: readonly SpanSummary[];
  logs: readonly LogSummary[];
  droppedSpans: number;
  droppedLogs: number;
  /** Log records of this trace recorded before any of its spans: matched or unmatched later. */
  pendingLogs: number;
  errorSpans: number;
  /** Log record counts by severity, in the order of SEVERITIES (log-metrics.ts). */
  logCounts: readonly number[];
  startMs: number | undefined;
  endMs: number | undefined;
  bytes: number;
}

/**
 * `list` with `item` at its end. Short lists (most traces hold a few spans and logs) are copied at
 * their exact length rather than grown in place, which would leave room for 16 more items each.
 */
function append<T>(list: readonly T[], item: T): readonly T[] {
  const n = list.length;
  if (n >= EXACT_LIST_LENGTH) {
    (list as T[]).push(item);
    return list;
  }
  const out = new Array<T>(n + 1);
  for (let i = 0; i < n; i++) out[i] = list[i];
  out[n] = item;
  return out;
}

export interface TraceIndexOptions {
  windowMs: number;
  maxBytes: number;
  /** The clock (ms); tests move it instead of waiting. */
  now?: () => number;
  /** Called with results as they become known (per batch or per sweep, never per record). */
  onResults?: (results: Record<CorrelationResult, number>) => void;
  onEvicted?: (reason: EvictionReason, traces: number) => void;
}

export interface TraceQuery {
  service?: string;
  /** 'error': traces with an error span or an error log; 'ok': the others. */
  status?: 'error' | 'ok';
  minDurationMs?: number;
  limit: number;
}

const ZERO_HIGH = '0000000000000000';

export class TraceIndex {
  /** Least recently active first (an entry is moved to the end when touched). */
  private readonly traces = new Map<string, TraceEntry>();
  /** The entry touched last, at the end of `traces`: touching it again need not move it. */
  private newest: TraceEntry | undefined;
  /** Whether a span was ever kept: until then no log can inherit a span resource. */
  private sawSpans = false;
  /**
   * Low 64 bits → full id, for traces with spans whose high 64 bits are not zero. Kept only once a
   * zero-high id has been seen (most sidecars never see one), built then from the traces held.
   */
  private readonly byLow64 = new Map<string, string>();
  private low64Kept = false;
  /** Latest span resource per service.name (a handful of services per sidecar). */
  private readonly serviceResources = new Map<string, ResourceInfo>();
  readonly resources = new ResourceTable();
  private readonly summarizer = new Summarizer();
  private bytesUsed = 0;
  private readonly now: () => number;

  constructor(private readonly options: TraceIndexOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.traces.size;
  }

  /**
   * True when a log may inherit something: a span was kept (traces held only for their logs give
   * nothing to inherit), or a service's span resource is known.
   */
  get hasSpanResources(): boolean {
    return this.sawSpans || this.serviceResources.size > 0;
  }

  /** Estimated bytes held by the traces (the interned resources and strings, both bounded, aside). */
  get bytes(): number {
    return this.bytesUsed;
  }

  /** The entry of a trace id (32 hex), resolving a 64-bit id to the full id it matches. */
  get(traceId: string): TraceEntry | undefined {
    return this.traces.get(this.resolve(traceId));
  }

  /** The full id a zero-high trace id stands for, when the index knows one; else the id itself. */
  resolve(traceId: string): string {
    if (traceId.startsWith(ZERO_HIGH)) {
      if (!this.low64Kept) this.keepLow64();
      const exact = this.traces.get(traceId);
      if (exact && exact.spans.length > 0) return traceId;
      const full = this.byLow64.get(traceId.slice(16));
      if (full !== undefined) return full;
    }
    return traceId;
  }

  // ---- input ---------------------------------------------------------------------------------

  /**
   * Records the spans of a durable batch; pending logs of their traces become matched. Returns
   * how many spans were not kept (their trace was at MAX_SPANS_PER_TRACE).
   */
  addSpans(batch: TraceBatch): number {
    const now = this.now();
    let matched = 0;
    let dropped = 0;
    for (const rs of batch.resourceSpans) {
      const resource = this.resources.intern(rs.resource);
      if (resource.serviceName) this.rememberService(resource);
      for (const ss of rs.scopeSpans ?? []) {
        const scopeName = ss.scope?.name ?? '';
        for (const span of ss.spans ?? []) {
          const id = idToHex(span.traceId);
          if (id.length !== 32) continue;
          const entry = this.touch(id, now);
          if (entry.spans.length === 0) {
            matched += entry.pendingLogs;
            entry.pendingLogs = 0;
            if (this.low64Kept && !id.startsWith(ZERO_HIGH)) matched += this.adoptLow64(entry, now);
          }
          if (entry.spans.length >= MAX_SPANS_PER_TRACE) {
            entry.droppedSpans++;
            dropped++;
            continue;
          }
          const s = this.summarizer.span(span, resource, scopeName);
          entry.spans = append(entry.spans, s);
          this.sawSpans = true;
          if (s.statusCode === StatusCode.ERROR) entry.errorSpans++;
          const start = s.startMs;
          const end = nanosToMs(span.endTimeUnixNano);
          if (start !== undefined && (entry.startMs === undefined || start < entry.startMs)) entry.startMs = start;
          if (end !== undefined && (entry.endMs === undefined || end > entry.endMs)) entry.endMs = end;
          this.grow(entry, s.bytes + SLOT_BYTES);
        }
      }
    }
    if (matched > 0) this.options.onResults?.({ matched, unmatched: 0, no_context: 0 });
    this.enforce(now);
    return dropped;
  }

  /**
   * Records the log records of a durable batch and counts their correlation results. Returns how
   * many records with trace context were not kept (their trace was at MAX_LOGS_PER_TRACE).
   */
  addLogs(batch: LogBatch): number {
    const now = this.now();
    const results = { matched: 0, unmatched: 0, no_context: 0 };
    let dropped = 0;
    for (const rl of batch.resourceLogs) {
      let resource: ResourceInfo | undefined;
      for (const sl of rl.scopeLogs ?? []) {
        for (const record of sl.logRecords ?? []) {
          if (!hasTraceContext(record)) {
            results.no_context++;
            continue;
          }
          const raw = idToHex(record.traceId);
          resource ??= this.resources.intern(rl.resource);
          const entry = this.touch(this.resolve(raw), now);
          if (entry.spans.length > 0) results.matched++;
          else entry.pendingLogs++;
          this.logCounts(entry)[SEVERITY_INDEX[severityOf(record)]]++;
          if (entry.logs.length >= MAX_LOGS_PER_TRACE) {
            entry.droppedLogs++;
            dropped++;
            continue;
          }
          const s = this.summarizer.log(record, resource);
          entry.logs = append(entry.logs, s);
          this.grow(entry, s.bytes + SLOT_BYTES);
        }
      }
    }
    this.options.onResults?.(results);
    this.enforce(now);
    return dropped;
  }

  /** The span resource a log of `traceId` (and `spanId`) inherits from, if the index knows one. */
  resourceForLog(traceId: string | undefined, spanId: string | undefined, logService: string): ResourceInfo | undefined {
    if (traceId !== undefined) {
      const entry = this.traces.get(this.resolve(traceId));
      if (entry && entry.spans.length > 0) {
        if (spanId) for (const s of entry.spans) if (s.spanId === spanId) return s.resource;
        return rootSpan(entry)?.resource ?? entry.spans[0].resource;
      }
    }
    return this.serviceResource(logService);
  }

  /** The latest span resource of a service; for an unnamed service, the only one seen, if only one. */
  serviceResource(serviceName: string): ResourceInfo | undefined {
    if (serviceName && !serviceName.startsWith('unknown_service')) return this.serviceResources.get(serviceName);
    if (this.serviceResources.size === 1) return this.serviceResources.values().next().value;
    return undefined;
  }

  // ---- bounds ------------------------------------------------------------------------------------

  /** Drops traces idle for longer than the window; called on every batch and by a timer. */
  sweep(now = this.now()): void {
    this.enforce(now);
  }

  /** Empties the index (shutdown): pending logs become unmatched. */
  clear(): void {
    let evicted = 0;
    let unmatched = 0;
    for (const entry of this.traces.values()) {
      unmatched += entry.pendingLogs;
      evicted++;
    }
    this.traces.clear();
    this.newest = undefined;
    this.byLow64.clear();
    this.bytesUsed = 0;
    if (evicted > 0) this.options.onEvicted?.('shutdown', evicted);
    if (unmatched > 0) this.options.onResults?.({ matched: 0, unmatched, no_context: 0 });
  }

  private enforce(now: number): void {
    const cutoff = now - this.options.windowMs;
    let expired = 0;
    let overflow = 0;
    let unmatched = 0;
    for (const entry of this.traces.values()) {
      if (entry.lastActivity <= cutoff) expired++;
      else if (this.bytesUsed > this.options.maxBytes) overflow++;
      else break;
      unmatched += this.remove(entry);
    }
    if (expired > 0) this.options.onEvicted?.('expired', expired);
    if (overflow > 0) this.options.onEvicted?.('memory', overflow);
    if (unmatched > 0) this.options.onResults?.({ matched: 0, unmatched, no_context: 0 });
  }

  /** Removes an entry; returns its pending logs (now unmatched). */
  private remove(entry: TraceEntry): number {
    this.traces.delete(entry.id);
    if (entry === this.newest) this.newest = undefined;
    if (this.low64Kept && entry.spans.length > 0 && !entry.id.startsWith(ZERO_HIGH)) {
      const low = entry.id.slice(16);
      if (this.byLow64.get(low) === entry.id) this.byLow64.delete(low);
    }
    this.bytesUsed -= entry.bytes;
    return entry.pendingLogs;
  }

  /** The entry of `id`, created if new, moved to the most recent end. */
  private touch(id: string, now: number): TraceEntry {
    const newest = this.newest;
    if (newest !== undefined && newest.id === id) {
      // Spans and records of one trace tend to come one after the other: already at the end.
      newest.lastActivity = now;
      return newest;
    }
    let entry = this.traces.get(id);
    if (entry) {
      this.traces.delete(id);
    } else {
      entry = {
        id,
        lastActivity: now,
        spans: NO_SPANS,
        logs: NO_LOGS,
        droppedSpans: 0,
        droppedLogs: 0,
        pendingLogs: 0,
        errorSpans: 0,
        logCounts: NO_LOG_COUNTS,
        startMs: undefined,
        endMs: undefined,
        bytes: ENTRY_BYTES,
      };
      this.bytesUsed += ENTRY_BYTES;
    }
    entry.lastActivity = now;
    this.traces.set(id, entry);
    this.newest = entry;
    return entry;
  }

  private grow(entry: TraceEntry, bytes: number): void {
    entry.bytes = (entry.bytes + bytes) | 0;
    this.bytesUsed += bytes;
  }

  /**
   * A trace with a full 128-bit id just got its first span: logs recorded under its low 64 bits
   * alone (Datadog decimal ids) join it. Returns how many pending logs that matched.
   */
  private adoptLow64(entry: TraceEntry, now: number): number {
    const low = entry.id.slice(16);
    this.byLow64.set(low, entry.id);
    this.grow(entry, LOW64_BYTES);
    const partial = this.traces.get(ZERO_HIGH + low);
    if (!partial || partial.spans.length > 0) return 0;
    this.remove(partial);
    for (const log of partial.logs) {
      if (entry.logs.length >= MAX_LOGS_PER_TRACE) entry.droppedLogs++;
      else {
        entry.logs = append(entry.logs, log);
        this.grow(entry, log.bytes + SLOT_BYTES);
      }
    }
    entry.droppedLogs += partial.droppedLogs;
    if (partial.logCounts !== NO_LOG_COUNTS) {
      const counts = this.logCounts(entry);
      for (let i = 0; i < counts.length; i++) counts[i] += partial.logCounts[i];
    }
    entry.lastActivity = now;
    return partial.pendingLogs;
  }

  /** The log counts of `entry`, made (and counted) with its first log. */
  private logCounts(entry: TraceEntry): number[] {
    if (entry.logCounts === NO_LOG_COUNTS) {
      entry.logCounts = SEVERITIES.map(() => 0);
      this.grow(entry, LOG_COUNTS_BYTES);
    }
    return entry.logCounts as number[];
  }

  /** From the first zero-high id on, full ids are kept by their low 64 bits (the traces held so far too). */
  private keepLow64(): void {
    this.low64Kept = true;
    for (const entry of this.traces.values()) {
      if (entry.spans.length === 0 || entry.id.startsWith(ZERO_HIGH)) continue;
      this.byLow64.set(entry.id.slice(16), entry.id);
      this.grow(entry, LOW64_BYTES);
    }
  }

  private rememberService(resource: ResourceInfo): void {
    const name = resource.serviceName;
    if (this.serviceResources.get(name) === resource) return;
    this.serviceResources.delete(name);
    if (this.serviceResources.size >= 64) this.serviceResources.delete(this.serviceResources.keys().next().value!);
    this.serviceResources.set(name, resource);
  }

  // ---- queries -------------------------------------------------------------------------------------

  /** Recent traces, most recently active first. */
  query(q: TraceQuery): TraceEntry[] {
    const out: TraceEntry[] = [];
    const all = [...this.traces.values()];
    for (let i = all.length - 1; i >= 0 && out.length < q.limit; i--) {
      const e = all[i];
      if (q.status !== undefined && isError(e) !== (q.status === 'error')) continue;
      if (q.minDurationMs !== undefined && durationMs(e) < q.minDurationMs) continue;
      if (q.service !== undefined && !services(e).includes(q.service)) continue;
      out.push(e);
    }
    return out;
  }
}

export function isError(e: TraceEntry): boolean {
  return e.errorSpans > 0 || errorLogs(e) > 0;
}

/** Log records of severity ERROR or FATAL. */
export function errorLogs(e: TraceEntry): number {
  return e.logCounts[SEVERITY_INDEX.error] + e.logCounts[SEVERITY_INDEX.fatal];
}

export function durationMs(e: TraceEntry): number {
  return e.startMs !== undefined && e.endMs !== undefined ? e.endMs - e.startMs : 0;
}

export function services(e: TraceEntry): string[] {
  const set = new Set<string>();
  for (const s of e.spans) if (s.resource.serviceName) set.add(s.resource.serviceName);
  for (const l of e.logs) if (l.resource.serviceName) set.add(l.resource.serviceName);
  return [...set];
}

/** The span without a parent in the trace (the earliest such, when several). */
export function rootSpan(e: TraceEntry): SpanSummary | undefined {
  const ids = new Set(e.spans.map((s) => s.spanId));
  let root: SpanSummary | undefined;
  for (const s of e.spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) continue;
    if (!root || (s.startMs ?? Infinity) < (root.startMs ?? Infinity)) root = s;
  }
  return root;
}
