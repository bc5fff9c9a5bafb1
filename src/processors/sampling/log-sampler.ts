/**
 * Trace-aware log sampling (`logs.sampling`): the stage between the logs pipeline and the durable
 * queue. Records read from files that carry trace context wait, per trace, for the trace's
 * decision, made when a local root span of the trace ends (a span without a parent, or with a
 * remote one) or, at the latest, `decision_wait` after the trace was first seen:
 *
 * - `kept_error`: a span of the trace has status ERROR;
 * - `kept_slow`: the local root span lasted at least `slow_threshold`;
 * - `kept_ratio`: the trace id passes the TraceIdRatioBased rule at `ratio` (trace-id-ratio.ts);
 * - `dropped`: none of these.
 *
 * Records at WARN or above are kept at once (`kept_level`), as are records without trace context
 * (`kept_no_context`) and records that would take the held bytes past `max_held_bytes`
 * (`kept_overflow`: the cap keeps, never drops). A trace decided before its records come (the
 * spans were faster than the log file) has its records decided as they come. OTLP log requests are
 * not held: their 200 answer promises they are in the queue.
 *
 * The delivery promise holds by the checkpoints: a batch with held records goes on without its
 * file checkpoints, and no checkpoint moves past a held record until it is decided and, if kept,
 * written. Checkpoints wait in arrival order and leave with the write that makes them true, or on
 * their own when only drops were waiting. After a kill -9 the held records are read again from
 * their files and decided again; what costs is duplicates of the records read since the oldest
 * held one, at most `decision_wait` of the files' output.
 *
 * Observers of the logs pipeline (log metrics, rules, correlation) still see every record read:
 * metrics from logs are not sampled.
 */
import type { Component, Consumer } from '../../component.js';
import { isBackpressure } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../logger.js';
import { METRICS } from '../../metrics/catalogue.js';
import type { Telemetry } from '../../metrics/telemetry.js';
import { spanSeconds } from '../../metrics/span-metrics.js';
import { idKey, isZeroId } from '../../otlp/id-key.js';
import type { LogRecord, Resource, ResourceLogs, ScopeLogs, Span } from '../../otlp/types.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import type { Observer } from '../../pipeline/pipeline.js';
import type { Checkpoint, Checkpoints } from '../../pipeline/checkpoints.js';
import { ratioSamples, ratioUpperBound } from './trace-id-ratio.js';

export const SAMPLING_DECISIONS = ['kept_error', 'kept_slow', 'kept_ratio', 'kept_level', 'kept_no_context', 'kept_overflow', 'dropped'] as const;
export type SamplingDecision = (typeof SAMPLING_DECISIONS)[number];
type TraceDecision = 'kept_error' | 'kept_slow' | 'kept_ratio' | 'dropped';

const WARN = 13;
/** Most trace decisions remembered for records that come after their trace's spans. */
const MAX_DECISIONS = 200_000;
const STATUS_ERROR = 2;
/** Span flags: the parent's is-remote bit is known, and set (OTLP SpanFlags). */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

export interface LogSamplerOptions {
  ratio: number;
  slowThresholdMs: number;
  decisionWaitMs: number;
  maxHeldBytes: number;
  telemetry: Telemetry;
  log: Logger;
}

/** The batch the checkpoints of which wait for its held records (and those of the batches before). */
interface Waiting {
  checkpoints: Checkpoint[];
  /** Records of this batch not yet decided, or kept and not yet written. */
  held: number;
}

/** Where a held record goes back to: its resource and scope, without the batch's other records. */
interface Origin {
  resource: Resource | null | undefined;
  resourceSchemaUrl: string | undefined;
  scope: ScopeLogs['scope'];
  scopeSchemaUrl: string | undefined;
}

interface HeldRecord {
  record: LogRecord;
  origin: Origin;
  waiting: Waiting;
  bytes: number;
}

interface PendingTrace {
  traceId: Uint8Array;
  records: HeldRecord[];
  error: boolean;
  /** Monotonic ms when the trace was first seen (a record or a span). */
  since: number;
}

export class LogSampler implements Consumer<LogBatch>, Checkpoints, Component {
  readonly name = 'log_sampling';
  /** Sees the trace batches (after they are durable): errors and local roots decide traces. */
  readonly traces: Observer<TraceBatch>;
  private readonly upperBound: number;
  /** Traces without a decision yet, oldest first. */
  private readonly pending = new Map<string, PendingTrace>();
  /** Decisions made, remembered for records that come after their trace's spans. */
  private readonly decided = new DecisionCache(MAX_DECISIONS);
  private readonly retainDecisionsMs: number;
  /** Checkpoints that wait, in arrival order. */
  private readonly waiting: Waiting[] = [];
  /** Kept records decided and not yet written. */
  private toWrite: HeldRecord[] = [];
  private heldBytes = 0;
  private heldRecords = 0;
  private writing: Promise<void> = Promise.resolve();
  private writeScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private removeCollector?: () => void;
  private readonly counts: Record<SamplingDecision, { inc(n?: number): void }>;
  private readonly warn: RateLimitedLog;

  constructor(
    private readonly next: Consumer<LogBatch>,
    /** Where the source's checkpoints outside batches go (the queue writer's). */
    private readonly checkpoints: Checkpoints,
    private readonly o: LogSamplerOptions,
  ) {
    this.upperBound = ratioUpperBound(o.ratio);
    this.retainDecisionsMs = Math.max(60_000, 6 * o.decisionWaitMs);
    const records = o.telemetry.counter(METRICS.logSamplingRecords);
    this.counts = {} as typeof this.counts;
    for (const d of SAMPLING_DECISIONS) {
      const child = records.labels({ decision: d });
      child.inc(0);
      this.counts[d] = child;
    }
    this.warn = new RateLimitedLog(o.log);
    this.traces = { name: 'log_sampling', observe: (batch) => this.observeSpans(batch) };
  }

  all<T = unknown>(): { key: string; data: T }[] {
    return this.checkpoints.all<T>();
  }

  /** A position saved outside a batch waits behind the held records read before it, like a batch's. */
  save(checkpoints: readonly Checkpoint[]): void {
    if (this.waiting.length === 0) return this.checkpoints.save(checkpoints);
    this.waiting.push({ checkpoints: [...checkpoints], held: 0 });
  }

  delete(key: string): void {
    this.checkpoints.delete(key);
  }

  /** Bytes of the records waiting for their trace's decision (an estimate of their size in memory). */
  get held(): { bytes: number; records: number } {
    return { bytes: this.heldBytes, records: this.heldRecords };
  }

  async start(): Promise<void> {
    const bytes = this.o.telemetry.gauge(METRICS.logSamplingHeldBytes);
    const records = this.o.telemetry.gauge(METRICS.logSamplingHeldRecords);
    this.removeCollector = this.o.telemetry.addCollector(() => {
      bytes.set(this.heldBytes);
      records.set(this.heldRecords);
    });
    const tick = Math.max(50, Math.min(1000, this.o.decisionWaitMs / 4));
    this.timer = setInterval(() => this.tick(), tick);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    this.scheduleWrite();
    await this.writing;
  }

  /**
   * Decide every trace still waiting (on what is known: an error span, else the ratio) and write
   * what is kept. Records that cannot be written now are read again at the next start: their
   * checkpoints have not moved.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.removeCollector?.();
    for (const [key, t] of this.pending) this.decide(key, t, undefined);
    await this.writing;
    await this.write();
  }

  async consume(batch: LogBatch): Promise<void> {
    if (batch.transport !== 'file') return this.next.consume(batch);
    const now = performance.now();
    const counts = new Array<number>(SAMPLING_DECISIONS.length).fill(0);
    const holds: { key: string; traceId: Uint8Array; held: HeldRecord }[] = [];
    let removed = 0;
    let newBytes = 0;
    const out: ResourceLogs[] = [];
    const waiting: Waiting = { checkpoints: batch.checkpoints ?? [], held: 0 };
    for (const rl of batch.resourceLogs) {
      const scopes: ScopeLogs[] = [];
      for (const sl of rl.scopeLogs) {
        const kept: LogRecord[] = [];
        let origin: Origin | undefined;
        for (const r of sl.logRecords) {
          const d = this.decideRecord(r);
          if (d === 'hold') {
            const bytes = recordBytes(r);
            if (this.heldBytes + newBytes + bytes > this.o.maxHeldBytes) {
              counts[OVERFLOW]++;
              kept.push(r);
              continue;
            }
            newBytes += bytes;
            origin ??= { resource: rl.resource, resourceSchemaUrl: rl.schemaUrl, scope: sl.scope, scopeSchemaUrl: sl.schemaUrl };
            holds.push({ key: idKey(r.traceId!), traceId: r.traceId!, held: { record: r, origin, waiting, bytes } });
            removed++;
            continue;
          }
          counts[d]++;
          if (d === DROPPED) removed++;
          else kept.push(r);
        }
        if (kept.length > 0) scopes.push(kept.length === sl.logRecords.length ? sl : { ...sl, logRecords: kept });
      }
      if (scopes.length > 0) out.push({ ...rl, scopeLogs: scopes });
    }
    // Checkpoints go with this write only when nothing of it or before it waits.
    const mustWait = holds.length > 0 || this.waiting.length > 0;
    if (!mustWait && removed === 0) {
      await this.next.consume(batch);
    } else {
      const checkpoints = mustWait ? [] : waiting.checkpoints;
      // Nothing taken out: the batch goes on as it is (its encoding too), only its checkpoints wait.
      if (removed === 0) await this.next.consume({ ...batch, checkpoints });
      else if (out.length > 0 || !mustWait) await this.next.consume({ resourceLogs: out, checkpoints, transport: batch.transport });
      if (mustWait && (holds.length > 0 || waiting.checkpoints.length > 0)) {
        waiting.held = holds.length;
        this.waiting.push(waiting);
      }
    }
    // Only now, with the rest durable, are the records counted and held (a refused batch comes again).
    for (let i = 0; i < counts.length; i++) if (counts[i] > 0) this.counts[SAMPLING_DECISIONS[i]].inc(counts[i]);
    if (counts[OVERFLOW] > 0) this.warn.warn('overflow', { maxHeldBytes: this.o.maxHeldBytes, records: counts[OVERFLOW] }, 'logs.sampling.max_held_bytes reached: records are kept without waiting for their trace');
    for (const h of holds) {
      let t = this.pending.get(h.key);
      if (!t) this.pending.set(h.key, (t = { traceId: h.traceId, records: [], error: false, since: now }));
      t.records.push(h.held);
      this.heldBytes += h.held.bytes;
      this.heldRecords++;
      // The trace may have been decided while this batch was being written.
      const decided = this.decided.get(h.key);
      if (decided) this.decide(h.key, t, undefined, decided);
    }
    if (this.toWrite.length > 0) this.scheduleWrite();
  }

  /** What happens to one record now: a decision, or 'hold' until its trace's. */
  private decideRecord(r: LogRecord): number | 'hold' {
    if ((r.severityNumber ?? 0) >= WARN) return LEVEL;
    const id = r.traceId;
    if (!id || id.length !== 16 || isZeroId(id)) return NO_CONTEXT;
    const d = this.decided.get(idKey(id));
    if (d) return DECISION_INDEX[d];
    return 'hold';
  }

  /** Never throws into the traces pipeline: the spans are durable already (a failure is logged, once per interval). */
  private observeSpans(batch: TraceBatch): void {
    try {
      this.decideTraces(batch);
    } catch (err) {
      this.warn.warn('spans', { err }, 'log sampling could not read a trace batch');
    }
  }

  private decideTraces(batch: TraceBatch): void {
    const now = performance.now();
    let roots: { key: string; span: Span }[] | undefined;
    for (const rs of batch.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const error = span.status?.code === STATUS_ERROR;
          const root = isZeroId(span.parentSpanId) || ((span.flags ?? 0) & (HAS_IS_REMOTE | IS_REMOTE)) === (HAS_IS_REMOTE | IS_REMOTE);
          if (!error && !root) continue;
          const key = idKey(span.traceId);
          if (this.decided.has(key)) continue;
          if (error) {
            let t = this.pending.get(key);
            if (!t) this.pending.set(key, (t = { traceId: span.traceId, records: [], error: false, since: now }));
            t.error = true;
          }
          if (root) (roots ??= []).push({ key, span });
        }
      }
    }
    if (!roots) return;
    for (const { key, span } of roots) {
      if (this.decided.has(key)) continue;
      const t = this.pending.get(key) ?? { traceId: span.traceId, records: [], error: false, since: now };
      this.decide(key, t, spanSeconds(span) * 1000);
    }
    this.scheduleWrite();
  }

  /** Decide a trace: its held records are counted, dropped or queued for writing. */
  private decide(key: string, t: PendingTrace, rootMs: number | undefined, given?: TraceDecision): void {
    const decision: TraceDecision =
      given ?? (t.error ? 'kept_error' : rootMs !== undefined && rootMs >= this.o.slowThresholdMs ? 'kept_slow' : ratioSamples(t.traceId, this.upperBound) ? 'kept_ratio' : 'dropped');
    this.pending.delete(key);
    if (!this.decided.has(key)) this.decided.add(key, decision, performance.now());
    if (t.records.length === 0) return;
    this.counts[decision].inc(t.records.length);
    for (const h of t.records) {
      this.heldBytes -= h.bytes;
      this.heldRecords--;
      if (decision === 'dropped') h.waiting.held--;
      else this.toWrite.push(h);
    }
    t.records = [];
  }

  private tick(): void {
    const now = performance.now();
    const deadline = now - this.o.decisionWaitMs;
    for (const [key, t] of this.pending) {
      if (t.since > deadline) break;
      this.decide(key, t, undefined);
    }
    this.decided.forgetBefore(now - this.retainDecisionsMs);
    this.scheduleWrite();
  }

  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    if (this.toWrite.length === 0 && !(this.waiting.length > 0 && this.waiting[0].held === 0)) return;
    this.writeScheduled = true;
    this.writing = this.writing.then(() => {
      this.writeScheduled = false;
      return this.write();
    });
  }

  /**
   * Write the kept records decided so far, with the checkpoints that become true once they are
   * durable (every waiting batch up to the first that still holds an undecided record). On
   * backpressure or failure nothing moves: the next tick tries again.
   */
  private async write(): Promise<void> {
    const records = this.toWrite;
    if (records.length === 0 && !(this.waiting.length > 0 && this.waiting[0].held === 0)) return;
    this.toWrite = [];
    for (const h of records) h.waiting.held--;
    let ready = 0;
    while (ready < this.waiting.length && this.waiting[ready].held === 0) ready++;
    const checkpoints = mergeCheckpoints(this.waiting.slice(0, ready));
    try {
      await this.next.consume({ resourceLogs: group(records), checkpoints, transport: 'file' });
    } catch (err) {
      for (const h of records) h.waiting.held++;
      this.toWrite = records.concat(this.toWrite);
      if (!isBackpressure(err)) this.warn.warn('write', { err }, 'cannot queue sampled log records; will retry');
      return;
    }
    this.waiting.splice(0, ready);
  }
}

const LEVEL = SAMPLING_DECISIONS.indexOf('kept_level');
const NO_CONTEXT = SAMPLING_DECISIONS.indexOf('kept_no_context');
const OVERFLOW = SAMPLING_DECISIONS.indexOf('kept_overflow');
const DROPPED = SAMPLING_DECISIONS.indexOf('dropped');
const DECISION_INDEX: Record<TraceDecision, number> = {
  kept_error: SAMPLING_DECISIONS.indexOf('kept_error'),
  kept_slow: SAMPLING_DECISIONS.indexOf('kept_slow'),
  kept_ratio: SAMPLING_DECISIONS.indexOf('kept_ratio'),
  dropped: DROPPED,
};

/**
 * Trace decisions by trace key, at most `capacity`, forgotten oldest first: a ring of the keys in
 * the order they were decided beside the Map, so that neither the bound nor the expiry walks the
 * Map (a Map walked from its start after many deletions skips every deleted slot).
 */
class DecisionCache {
  private readonly byKey = new Map<string, TraceDecision>();
  private readonly keys: string[];
  private readonly at: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.keys = new Array<string>(capacity);
    this.at = new Float64Array(capacity);
  }

  get(key: string): TraceDecision | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  add(key: string, decision: TraceDecision, now: number): void {
    if (this.count === this.capacity) this.dropOldest();
    const slot = (this.head + this.count) % this.capacity;
    this.keys[slot] = key;
    this.at[slot] = now;
    this.count++;
    this.byKey.set(key, decision);
  }

  forgetBefore(cutoff: number): void {
    while (this.count > 0 && this.at[this.head] < cutoff) this.dropOldest();
  }

  private dropOldest(): void {
    this.byKey.delete(this.keys[this.head]);
    this.keys[this.head] = '';
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}

/** Roughly what a record holds in memory: its text, encoded attributes and fixed fields. */
function recordBytes(r: LogRecord): number {
  const body = r.body?.stringValue;
  return 96 + (typeof body === 'string' ? body.length * 2 : 64) + (r.encodedAttributes?.byteLength ?? 64 * (r.attributes?.length ?? 0));
}

/** The checkpoints of several batches as one list: per key the latest. */
function mergeCheckpoints(batches: readonly Waiting[]): Checkpoint[] {
  const byKey = new Map<string, Checkpoint>();
  for (const b of batches) for (const c of b.checkpoints) byKey.set(c.key, c);
  return [...byKey.values()];
}

/** Held records back under their resources and scopes. */
function group(records: readonly HeldRecord[]): ResourceLogs[] {
  const byOrigin = new Map<Origin, ScopeLogs>();
  const byResource = new Map<Resource | null | undefined, ResourceLogs>();
  const out: ResourceLogs[] = [];
  for (const h of records) {
    let sl = byOrigin.get(h.origin);
    if (!sl) {
      const o = h.origin;
      let rl = byResource.get(o.resource);
      if (!rl) {
        rl = { resource: o.resource, scopeLogs: [], ...(o.resourceSchemaUrl !== undefined ? { schemaUrl: o.resourceSchemaUrl } : {}) };
        byResource.set(o.resource, rl);
        out.push(rl);
      }
      sl = { scope: o.scope, logRecords: [], ...(o.scopeSchemaUrl !== undefined ? { schemaUrl: o.scopeSchemaUrl } : {}) };
      rl.scopeLogs.push(sl);
      byOrigin.set(o, sl);
    }
    sl.logRecords.push(h.record);
  }
  return out;
}
