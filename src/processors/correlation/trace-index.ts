/**
 * The bounded in-memory index of recent traces: the spans the sidecar received and the log
 * records that carry their trace context. A trace leaves `windowMs` after its last span or log;
 * the memory is fixed by `maxBytes`: a quarter for a table of traces (their counts, times and the
 * position of their newest item), three quarters for the items themselves (ItemRing: the protobuf
 * bytes of the spans and log records, newest overwriting oldest). When the table is full the least
 * recently active trace leaves first.
 *
 * Both live outside the JavaScript heap's objects: a trace is a row of typed arrays found through
 * an open-addressing hash of its 16 id bytes, an item a copy of bytes in the ring. Recording a span
 * or a log record makes no object and no string, so the index costs the garbage collector nothing
 * however many traces pass through it. What the debug API shows of a trace (TraceEntry) is
 * decoded from the ring when it is asked for.
 *
 * Correlation results are decided here (README "Correlation"):
 * - `no_context`: a log record without a trace id, counted when it is recorded;
 * - `matched`: a log record whose trace has spans in the index, counted when it is recorded, or
 *   when the first span of its trace arrives later (spans end after the logs written inside them);
 * - `unmatched`: a log record whose trace saw no span while it was in the index, counted when
 *   the trace leaves it (window, memory or shutdown).
 *
 * A trace id whose high 64 bits are zero (a Datadog decimal id, or a 64-bit id) also matches the
 * trace whose low 64 bits are the same, so that `dd.trace_id` logs join OTel spans.
 */
import { hasTraceContext, SEVERITIES, severityOf, type Severity } from '../../otlp/severity.js';
import { decodeLogRecord, decodeSpan } from '../../otlp/request-decoder.js';
import { encodeLogRecord, encodeSpan } from '../../otlp/request-encoder.js';
import type { LogRecord, Span } from '../../otlp/types.js';
import { StatusCode } from '../../otlp/types.js';
import { idToHex } from '../../otlp/values.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import { ITEM_LOG, ITEM_SPAN, ItemRing, NO_ITEM } from './item-ring.js';
import { nanosToMs, ResourceTable, Summarizer, type LogSummary, type ResourceInfo, type SpanSummary } from './summaries.js';

export type CorrelationResult = 'matched' | 'unmatched' | 'no_context';
export type EvictionReason = 'expired' | 'memory' | 'shutdown';

/** Spans and log records kept per trace; more are counted in `droppedSpans` / `droppedLogs`. */
export const MAX_SPANS_PER_TRACE = 1000;
export const MAX_LOGS_PER_TRACE = 1000;

/** Index of each severity (as the log metrics bucket it) in `TraceEntry.logCounts`. */
const SEVERITY_INDEX = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

// A trace's row: int32 fields (stride I) and float64 fields (stride F).
const I = 24;
const ID = 0; // 4 words, big-endian, of the 16 id bytes
const LRU_PREV = 4;
const LRU_NEXT = 5; // also the free list
const SPANS = 6; // spans recorded (kept or not)
const LOGS = 7; // log records recorded (kept or not)
const DROPPED_SPANS = 8; // over MAX_SPANS_PER_TRACE
const DROPPED_LOGS = 9; // over MAX_LOGS_PER_TRACE
const PENDING = 10; // logs recorded before any span: matched or unmatched later
const ERROR_SPANS = 11;
const SEVERITY = 12; // 7 counters, in the order of SEVERITIES
const RESOURCE = 19; // resource id of the trace's first span, or -1
const MIXED = 20; // 1 when its spans came with more than one resource
const VERSION = 21; // changes with the row (cached views)
const F = 5;
const LAST_ACTIVITY = 0;
const START = 1; // ms of the earliest span start, NaN: none
const END = 2; // ms of the latest span end, NaN: none
const NEWEST_ITEM = 3; // ring position of its newest item, or NO_ITEM
const ADOPTED_ITEM = 4; // newest item of a zero-high trace it adopted (Datadog ids), or NO_ITEM

/** Bytes of one row: its typed array fields and up to four hash table slots (row and hash). */
const ROW_BYTES = I * 4 + F * 8 + 4 * 8;
const NONE = -1;
const FIRST_CAPACITY = 1024;
const ZERO_HIGH = '0000000000000000';

export interface TraceEntry {
  readonly id: string;
  /** ms since epoch, by the index clock. */
  lastActivity: number;
  spans: readonly SpanSummary[];
  logs: readonly LogSummary[];
  /** Spans recorded but not kept: over the per-trace limit, or overwritten in the ring. */
  droppedSpans: number;
  droppedLogs: number;
  /** Log records of this trace recorded before any of its spans: matched or unmatched later. */
  pendingLogs: number;
  errorSpans: number;
  /** Log record counts by severity, in the order of SEVERITIES (log-metrics.ts). */
  logCounts: readonly number[];
  startMs: number | undefined;
  endMs: number | undefined;
  /** Bytes its row and kept items hold. */
  bytes: number;
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

// The id being looked up, as four big-endian words (module state: lookups are synchronous).
let w0 = 0;
let w1 = 0;
let w2 = 0;
let w3 = 0;

function wordsOf(id: Uint8Array): void {
  w0 = (id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3];
  w1 = (id[4] << 24) | (id[5] << 16) | (id[6] << 8) | id[7];
  w2 = (id[8] << 24) | (id[9] << 16) | (id[10] << 8) | id[11];
  w3 = (id[12] << 24) | (id[13] << 16) | (id[14] << 8) | id[15];
}

function hashOf(): number {
  return Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1);
}

function validTraceId(id: Uint8Array | null | undefined): id is Uint8Array {
  return id != null && id.byteLength === 16;
}

export class TraceIndex {
  private capacity = 0;
  private readonly maxRows: number;
  private ints = new Int32Array(0);
  private floats = new Float64Array(0);
  /** Open addressing, linear probing: row + 1, 0 when empty; with the hash of each (rows are not read to probe). */
  private table = new Int32Array(0);
  private hashes = new Int32Array(0);
  private mask = 0;
  private rows = 0;
  private freeRow = NONE;
  /** Least recently active row first. */
  private lruHead = NONE;
  private lruTail = NONE;
  private readonly ring: ItemRing;
  /** Whether a span was ever kept: until then no log can inherit a span resource. */
  private sawSpans = false;
  /**
   * Low 64 bits (hex) → row, for traces with spans whose high 64 bits are not zero. Kept only once
   * a zero-high id has been seen (most sidecars never see one), built then from the rows held.
   */
  private readonly byLow64 = new Map<string, number>();
  private low64Kept = false;
  /** Latest span resource per service.name (a handful of services per sidecar). */
  private readonly serviceResources = new Map<string, ResourceInfo>();
  readonly resources = new ResourceTable();
  private readonly scopes = new ScopeNames();
  private readonly summarizer = new Summarizer();
  /** Views made by get(), by row, while the row has not changed. */
  private readonly views = new Map<number, { version: number; entry: TraceEntry }>();
  private readonly now: () => number;
  /** Evictions by memory and the logs they left unmatched, reported once per batch. */
  private evictedForMemory = 0;
  private unmatchedByMemory = 0;

  constructor(private readonly options: TraceIndexOptions) {
    this.now = options.now ?? Date.now;
    this.maxRows = Math.max(16, Math.floor(options.maxBytes / 4 / ROW_BYTES));
    this.ring = new ItemRing(options.maxBytes - this.maxRows * ROW_BYTES);
    this.grow(Math.min(FIRST_CAPACITY, this.maxRows));
  }

  get size(): number {
    return this.rows;
  }

  /**
   * True when a log may inherit something: a span was kept (traces held only for their logs give
   * nothing to inherit), or a service's span resource is known.
   */
  get hasSpanResources(): boolean {
    return this.sawSpans || this.serviceResources.size > 0;
  }

  /** Bytes held: the rows in use and the items in the ring (never more than maxBytes). */
  get bytes(): number {
    return this.rows * ROW_BYTES + this.ring.used;
  }

  /** The trace of a trace id (32 hex), resolving a 64-bit id to the full id it matches. */
  get(traceId: string): TraceEntry | undefined {
    const row = this.findHex(this.resolve(traceId));
    return row === NONE ? undefined : this.view(row);
  }

  /** The full id a zero-high trace id stands for, when the index knows one; else the id itself. */
  resolve(traceId: string): string {
    if (!traceId.startsWith(ZERO_HIGH)) return traceId;
    const row = this.resolveRow(this.findHex(traceId), traceId.slice(16));
    return row === NONE ? traceId : this.hexOf(row);
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
    let item = 0;
    const encoded = batch.encoded && batch.encodedItems ? batch.encoded : undefined;
    const ranges = batch.encodedItems;
    for (const rs of batch.resourceSpans) {
      const resource = this.resources.intern(rs.resource);
      if (resource.serviceName) this.rememberService(resource);
      for (const ss of rs.scopeSpans ?? []) {
        const scope = this.scopes.id(ss.scope?.name ?? '');
        for (const span of ss.spans ?? []) {
          const k = item++;
          if (!validTraceId(span.traceId)) continue;
          wordsOf(span.traceId);
          const row = this.touch(now);
          const i = row * I;
          const f = row * F;
          if (this.ints[i + SPANS] === 0) {
            matched += this.ints[i + PENDING];
            this.ints[i + PENDING] = 0;
            if (this.low64Kept && (this.ints[i] !== 0 || this.ints[i + 1] !== 0)) matched += this.adoptLow64(row, now);
          }
          const rowInts = this.ints;
          rowInts[i + SPANS]++;
          rowInts[i + VERSION]++;
          if (span.status?.code === StatusCode.ERROR) rowInts[i + ERROR_SPANS]++;
          const start = nanosToMs(span.startTimeUnixNano);
          const end = nanosToMs(span.endTimeUnixNano);
          const floats = this.floats;
          if (start !== undefined && !(start >= floats[f + START])) floats[f + START] = start;
          if (end !== undefined && !(end <= floats[f + END])) floats[f + END] = end;
          if (rowInts[i + SPANS] - rowInts[i + DROPPED_SPANS] > MAX_SPANS_PER_TRACE) {
            rowInts[i + DROPPED_SPANS]++;
            dropped++;
            continue;
          }
          if (rowInts[i + RESOURCE] === NONE) rowInts[i + RESOURCE] = resource.id;
          else if (rowInts[i + RESOURCE] !== resource.id) rowInts[i + MIXED] = 1;
          this.sawSpans = true;
          const bytes = encoded ?? encodeSpan(span);
          const from = encoded ? ranges![2 * k] : 0;
          const to = encoded ? ranges![2 * k + 1] : bytes.byteLength;
          floats[f + NEWEST_ITEM] = this.ring.append(ITEM_SPAN, floats[f + NEWEST_ITEM], resource.id, scope, span.spanId, span.parentSpanId, bytes, from, to);
        }
      }
    }
    if (matched > 0) this.options.onResults?.({ matched, unmatched: 0, no_context: 0 });
    this.sweep(now);
    return dropped;
  }

  /** Reports the evictions for memory since the last report. */
  private reportEvictions(): void {
    if (this.evictedForMemory > 0) this.options.onEvicted?.('memory', this.evictedForMemory);
    if (this.unmatchedByMemory > 0) this.options.onResults?.({ matched: 0, unmatched: this.unmatchedByMemory, no_context: 0 });
    this.evictedForMemory = 0;
    this.unmatchedByMemory = 0;
  }

  /**
   * Records the log records of a durable batch and counts their correlation results. Returns how
   * many records with trace context were not kept (their trace was at MAX_LOGS_PER_TRACE).
   */
  addLogs(batch: LogBatch): number {
    const now = this.now();
    let matched = 0;
    let noContext = 0;
    let dropped = 0;
    let item = 0;
    const encoded = batch.encoded && batch.encodedItems ? batch.encoded : undefined;
    const ranges = batch.encodedItems;
    for (const rl of batch.resourceLogs) {
      let resource: ResourceInfo | undefined;
      for (const sl of rl.scopeLogs ?? []) {
        for (const record of sl.logRecords ?? []) {
          const k = item++;
          if (!hasTraceContext(record)) {
            noContext++;
            continue;
          }
          resource ??= this.resources.intern(rl.resource);
          wordsOf(record.traceId!);
          let row = this.find();
          if (w0 === 0 && w1 === 0) row = this.resolveRow(row, idToHex(record.traceId).slice(16));
          row = row === NONE ? this.insert(now) : this.moveToTail(row, now);
          const i = row * I;
          const ints = this.ints;
          if (ints[i + SPANS] > 0) matched++;
          else ints[i + PENDING]++;
          ints[i + LOGS]++;
          ints[i + VERSION]++;
          ints[i + SEVERITY + SEVERITY_INDEX[severityOf(record)]]++;
          if (ints[i + LOGS] - ints[i + DROPPED_LOGS] > MAX_LOGS_PER_TRACE) {
            ints[i + DROPPED_LOGS]++;
            dropped++;
            continue;
          }
          const f = row * F;
          const bytes = encoded ?? encodeLogRecord(record);
          const from = encoded ? ranges![2 * k] : 0;
          const to = encoded ? ranges![2 * k + 1] : bytes.byteLength;
          this.floats[f + NEWEST_ITEM] = this.ring.append(ITEM_LOG, this.floats[f + NEWEST_ITEM], resource.id, 0, record.spanId, null, bytes, from, to);
        }
      }
    }
    this.options.onResults?.({ matched, unmatched: 0, no_context: noContext });
    this.sweep(now);
    return dropped;
  }

  /**
   * The span resource a log of trace `traceId` (and span `spanId`) inherits from, if the index
   * knows one: the span's own, else the trace's root span's, else its first span's; for a trace
   * without spans, the latest span resource of the log's service.
   */
  resourceForLog(traceId: Uint8Array | null | undefined, spanId: Uint8Array | null | undefined, logService: string): ResourceInfo | undefined {
    if (validTraceId(traceId)) {
      wordsOf(traceId);
      let row = this.find();
      if (w0 === 0 && w1 === 0) row = this.resolveRow(row, idToHex(traceId).slice(16));
      if (row !== NONE && this.ints[row * I + SPANS] > 0) {
        const i = row * I;
        const first = this.ints[i + RESOURCE];
        if (this.ints[i + MIXED] === 0 && first !== NONE) return this.resources.byId(first) ?? this.serviceResource(logService);
        const r = this.spanResource(row, spanId);
        if (r) return r;
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
    this.reportEvictions();
    const cutoff = now - this.options.windowMs;
    let expired = 0;
    let unmatched = 0;
    while (this.lruHead !== NONE && this.floats[this.lruHead * F + LAST_ACTIVITY] <= cutoff) {
      unmatched += this.remove(this.lruHead);
      expired++;
    }
    if (expired > 0) this.options.onEvicted?.('expired', expired);
    if (unmatched > 0) this.options.onResults?.({ matched: 0, unmatched, no_context: 0 });
  }

  /** Empties the index (shutdown): pending logs become unmatched. */
  clear(): void {
    this.reportEvictions();
    let evicted = 0;
    let unmatched = 0;
    while (this.lruHead !== NONE) {
      unmatched += this.remove(this.lruHead);
      evicted++;
    }
    this.byLow64.clear();
    if (evicted > 0) this.options.onEvicted?.('shutdown', evicted);
    if (unmatched > 0) this.options.onResults?.({ matched: 0, unmatched, no_context: 0 });
  }

  // ---- queries -------------------------------------------------------------------------------------

  /** Recent traces, most recently active first. */
  query(q: TraceQuery): TraceEntry[] {
    const out: TraceEntry[] = [];
    for (let row = this.lruTail; row !== NONE && out.length < q.limit; row = this.ints[row * I + LRU_PREV]) {
      const i = row * I;
      if (q.status !== undefined && (this.ints[i + ERROR_SPANS] > 0 || this.errorLogCount(i) > 0) !== (q.status === 'error')) continue;
      if (q.minDurationMs !== undefined && this.durationOf(row) < q.minDurationMs) continue;
      if (q.service !== undefined && !this.hasService(row, q.service)) continue;
      out.push(this.view(row));
    }
    return out;
  }

  // ---- rows ----------------------------------------------------------------------------------------

  /** The row of the id in w0..w3, or NONE. */
  private find(): number {
    const table = this.table;
    const hashes = this.hashes;
    const ints = this.ints;
    const h = hashOf();
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const r = table[s] - 1;
      if (r === NONE) return NONE;
      if (hashes[s] !== h) continue;
      const i = r * I;
      if (ints[i] === w0 && ints[i + 1] === w1 && ints[i + 2] === w2 && ints[i + 3] === w3) return r;
    }
  }

  private findHex(traceId: string): number {
    if (traceId.length !== 32) return NONE;
    wordsOf(Buffer.from(traceId, 'hex'));
    return this.find();
  }

  /** A free slot for the id in w0..w3 (the table is never full: it has twice the rows). */
  private place(row: number): void {
    const h = hashOf();
    let s = h & this.mask;
    while (this.table[s] !== 0) s = (s + 1) & this.mask;
    this.table[s] = row + 1;
    this.hashes[s] = h;
  }

  /** The row of the id in w0..w3, made if new, as the most recently active. */
  private touch(now: number): number {
    const row = this.find();
    return row === NONE ? this.insert(now) : this.moveToTail(row, now);
  }

  /** A new row for the id in w0..w3 (the least recently active trace leaves when the table is full). */
  private insert(now: number): number {
    if (this.freeRow === NONE) {
      if (this.capacity < this.maxRows) this.grow(Math.min(this.capacity * 2, this.maxRows));
      else {
        const a = w0;
        const b = w1;
        const c = w2;
        const d = w3;
        this.unmatchedByMemory += this.remove(this.lruHead);
        this.evictedForMemory++;
        w0 = a;
        w1 = b;
        w2 = c;
        w3 = d;
      }
    }
    const row = this.freeRow;
    const i = row * I;
    const ints = this.ints;
    this.freeRow = ints[i + LRU_NEXT];
    ints.fill(0, i, i + I);
    ints[i] = w0;
    ints[i + 1] = w1;
    ints[i + 2] = w2;
    ints[i + 3] = w3;
    ints[i + RESOURCE] = NONE;
    const f = row * F;
    const floats = this.floats;
    floats[f + LAST_ACTIVITY] = now;
    floats[f + START] = NaN;
    floats[f + END] = NaN;
    floats[f + NEWEST_ITEM] = NO_ITEM;
    floats[f + ADOPTED_ITEM] = NO_ITEM;
    this.place(row);
    this.rows++;
    this.link(row);
    return row;
  }

  private moveToTail(row: number, now: number): number {
    this.floats[row * F + LAST_ACTIVITY] = now;
    this.ints[row * I + VERSION]++;
    if (row !== this.lruTail) {
      this.unlink(row);
      this.link(row);
    }
    return row;
  }

  private link(row: number): void {
    const i = row * I;
    this.ints[i + LRU_PREV] = this.lruTail;
    this.ints[i + LRU_NEXT] = NONE;
    if (this.lruTail === NONE) this.lruHead = row;
    else this.ints[this.lruTail * I + LRU_NEXT] = row;
    this.lruTail = row;
  }

  private unlink(row: number): void {
    const i = row * I;
    const prev = this.ints[i + LRU_PREV];
    const next = this.ints[i + LRU_NEXT];
    if (prev === NONE) this.lruHead = next;
    else this.ints[prev * I + LRU_NEXT] = next;
    if (next === NONE) this.lruTail = prev;
    else this.ints[next * I + LRU_PREV] = prev;
  }

  /** Removes a row; returns its pending logs (now unmatched). */
  private remove(row: number): number {
    const i = row * I;
    const ints = this.ints;
    if (this.low64Kept && ints[i + SPANS] > 0 && (ints[i] !== 0 || ints[i + 1] !== 0)) {
      const low = this.hexOf(row).slice(16);
      if (this.byLow64.get(low) === row) this.byLow64.delete(low);
    }
    const pending = ints[i + PENDING];
    this.unlink(row);
    w0 = ints[i];
    w1 = ints[i + 1];
    w2 = ints[i + 2];
    w3 = ints[i + 3];
    this.deleteSlot(row);
    ints[i + LRU_NEXT] = this.freeRow;
    this.freeRow = row;
    this.rows--;
    this.views.delete(row);
    return pending;
  }

  /** Takes `row` (whose id is in w0..w3) out of the hash table, closing the gap (backward shift). */
  private deleteSlot(row: number): void {
    const table = this.table;
    const hashes = this.hashes;
    const mask = this.mask;
    let s = hashOf() & mask;
    while (table[s] !== row + 1) s = (s + 1) & mask;
    let gap = s;
    for (let j = (gap + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j] & mask;
      // Move it into the gap when its home is not in (gap, j].
      if ((j > gap && (home <= gap || home > j)) || (j < gap && home <= gap && home > j)) {
        table[gap] = table[j];
        hashes[gap] = hashes[j];
        gap = j;
      }
    }
    table[gap] = 0;
  }

  /** Room for `capacity` rows (the table rebuilt). */
  private grow(capacity: number): void {
    const ints = new Int32Array(capacity * I);
    ints.set(this.ints);
    const floats = new Float64Array(capacity * F);
    floats.set(this.floats);
    for (let r = capacity - 1; r >= this.capacity; r--) {
      ints[r * I + LRU_NEXT] = this.freeRow;
      this.freeRow = r;
    }
    this.ints = ints;
    this.floats = floats;
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.table = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    const a = w0;
    const b = w1;
    const c = w2;
    const d = w3;
    for (let r = this.lruHead; r !== NONE; r = ints[r * I + LRU_NEXT]) {
      const i = r * I;
      w0 = ints[i];
      w1 = ints[i + 1];
      w2 = ints[i + 2];
      w3 = ints[i + 3];
      this.place(r);
    }
    w0 = a;
    w1 = b;
    w2 = c;
    w3 = d;
    this.capacity = capacity;
  }

  private hexOf(row: number): string {
    const i = row * I;
    const b = Buffer.allocUnsafe(16);
    for (let k = 0; k < 4; k++) b.writeInt32BE(this.ints[i + k], 4 * k);
    return b.toString('hex');
  }

  // ---- 64-bit ids ----------------------------------------------------------------------------------

  /**
   * For a zero-high id (`row` its own row or NONE, `low` its low 64 bits in hex): the row of the
   * full trace it stands for when that has spans and its own row has none; else its own row.
   */
  private resolveRow(row: number, low: string): number {
    if (!this.low64Kept) this.keepLow64();
    if (row !== NONE && this.ints[row * I + SPANS] > 0) return row;
    const full = this.byLow64.get(low);
    if (full === undefined) return row;
    // The caller goes on with the id it looks up in w0..w3: that of the full trace now.
    const i = full * I;
    w0 = this.ints[i];
    w1 = this.ints[i + 1];
    w2 = this.ints[i + 2];
    w3 = this.ints[i + 3];
    return full;
  }

  /** From the first zero-high id on, full ids are kept by their low 64 bits (the rows held so far too). */
  private keepLow64(): void {
    this.low64Kept = true;
    for (let r = this.lruHead; r !== NONE; r = this.ints[r * I + LRU_NEXT]) {
      const i = r * I;
      if (this.ints[i + SPANS] === 0 || (this.ints[i] === 0 && this.ints[i + 1] === 0)) continue;
      this.byLow64.set(this.hexOf(r).slice(16), r);
    }
  }

  /**
   * A trace with a full 128-bit id just got its first span: logs recorded under its low 64 bits
   * alone (Datadog decimal ids) join it. Returns how many pending logs that matched.
   */
  private adoptLow64(row: number, now: number): number {
    const [a, b, c, d] = [w0, w1, w2, w3];
    const low = this.hexOf(row).slice(16);
    this.byLow64.set(low, row);
    w0 = 0;
    w1 = 0;
    w2 = c;
    w3 = d;
    const partial = this.find();
    let pending = 0;
    if (partial !== NONE && this.ints[partial * I + SPANS] === 0) {
      const i = row * I;
      const p = partial * I;
      this.ints[i + LOGS] += this.ints[p + LOGS];
      this.ints[i + DROPPED_LOGS] += this.ints[p + DROPPED_LOGS];
      for (let s = 0; s < SEVERITIES.length; s++) this.ints[i + SEVERITY + s] += this.ints[p + SEVERITY + s];
      this.floats[row * F + ADOPTED_ITEM] = this.floats[partial * F + NEWEST_ITEM];
      this.ints[i + VERSION]++;
      pending = this.remove(partial);
    }
    [w0, w1, w2, w3] = [a, b, c, d];
    this.floats[row * F + LAST_ACTIVITY] = now;
    return pending;
  }

  // ---- what a row holds ----------------------------------------------------------------------------

  private errorLogCount(i: number): number {
    return this.ints[i + SEVERITY + SEVERITY_INDEX.error] + this.ints[i + SEVERITY + SEVERITY_INDEX.fatal];
  }

  private durationOf(row: number): number {
    const f = row * F;
    const d = this.floats[f + END] - this.floats[f + START];
    return Number.isNaN(d) ? 0 : d;
  }

  /** Positions of the items a row holds, oldest first. */
  private items(row: number): number[] {
    const out: number[] = [];
    const f = row * F;
    for (const newest of [this.floats[f + NEWEST_ITEM], this.floats[f + ADOPTED_ITEM]]) {
      for (let p = this.ring.holds(newest) ? newest : NO_ITEM; p !== NO_ITEM; p = this.ring.prev(p)) out.push(p);
    }
    return out.sort((a, b) => a - b);
  }

  private hasService(row: number, service: string): boolean {
    for (const p of this.items(row)) if (this.resources.byId(this.ring.resource(p))?.serviceName === service) return true;
    return false;
  }

  /** The resource of span `spanId` of the trace, else of its root span, else of its first span. */
  private spanResource(row: number, spanId: Uint8Array | null | undefined): ResourceInfo | undefined {
    const spans = this.items(row).filter((p) => this.ring.kind(p) === ITEM_SPAN);
    if (spans.length === 0) return undefined;
    let chosen = spanId && spanId.byteLength === 8 ? spans.find((p) => this.ring.spanIdIs(p, spanId)) : undefined;
    if (chosen === undefined) {
      const ids = new Set(spans.map((p) => this.ring.spanId(p).toString('hex')));
      chosen = spans.find((p) => !ids.has(this.ring.parentSpanId(p).toString('hex'))) ?? spans[0];
    }
    return this.resources.byId(this.ring.resource(chosen));
  }

  /** What the debug API shows of a row, decoded from the ring (made again only when the row changed). */
  private view(row: number): TraceEntry {
    const i = row * I;
    const f = row * F;
    const ints = this.ints;
    const cached = this.views.get(row);
    if (cached && cached.version === ints[i + VERSION]) return cached.entry;
    const spans: SpanSummary[] = [];
    const logs: LogSummary[] = [];
    let bytes = ROW_BYTES;
    for (const p of this.items(row)) {
      const { kind, resource, scope } = this.ring.header(p);
      const message = this.ring.message(p);
      bytes += ItemRing.cost(message.byteLength);
      const info = this.resources.byId(resource) ?? UNKNOWN_RESOURCE;
      if (kind === ITEM_SPAN) spans.push(this.summarizer.span(decodeSpan(message) as Span, info, this.scopes.name(scope)));
      else logs.push(this.summarizer.log(decodeLogRecord(message) as LogRecord, info));
    }
    const start = this.floats[f + START];
    const end = this.floats[f + END];
    const entry: TraceEntry = {
      id: this.hexOf(row),
      lastActivity: this.floats[f + LAST_ACTIVITY],
      spans,
      logs,
      droppedSpans: ints[i + SPANS] - spans.length,
      droppedLogs: ints[i + LOGS] - logs.length,
      pendingLogs: ints[i + PENDING],
      errorSpans: ints[i + ERROR_SPANS],
      logCounts: SEVERITIES.map((_, s) => ints[i + SEVERITY + s]),
      startMs: Number.isNaN(start) ? undefined : start,
      endMs: Number.isNaN(end) ? undefined : end,
      bytes,
    };
    if (this.views.size >= 64) this.views.delete(this.views.keys().next().value!);
    this.views.set(row, { version: ints[i + VERSION], entry });
    return entry;
  }

  private rememberService(resource: ResourceInfo): void {
    const name = resource.serviceName;
    if (this.serviceResources.get(name) === resource) return;
    this.serviceResources.delete(name);
    if (this.serviceResources.size >= 64) this.serviceResources.delete(this.serviceResources.keys().next().value!);
    this.serviceResources.set(name, resource);
  }
}

const UNKNOWN_RESOURCE: ResourceInfo = { id: NONE, key: '', serviceName: '', attributes: [] };

/** Scope names by a small id (items keep the id), up to a number of distinct names. */
class ScopeNames {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  constructor(private readonly max = 4096) {}

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length >= this.max) return NONE;
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string {
    return this.names[id] ?? '';
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
