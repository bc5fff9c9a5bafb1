/**
 * Drains one signal's durable queue into a transport, oldest first. This is where batching,
 * retry, the circuit breaker and concurrency live, around any `Transport`:
 *
 * - Batching happens on the read side: consecutive entries are combined (protobuf requests
 *   concatenate into one request) up to `maxItems`/`maxBytes`, or sent once the oldest has waited
 *   `timeoutMs`. An outage therefore ends with full batches, not one request per write.
 * - Up to `concurrency` requests are in flight, each holding a contiguous run of entries. A batch
 *   that failed is sent again, as it was, before anything newer; replay after a restart starts
 *   from the oldest entry. With concurrency 1 delivery order is queue order.
 * - Entries are deleted only after the backend answered: a success (partial successes count the
 *   rejected items), or a permanent refusal (counted as dropped). Retryable failures leave them in
 *   the queue and `RetryPolicy` says when to try again. A crash at any point loses nothing and
 *   repeats at most what was in flight.
 */
import { BaseComponent } from '../component.js';
import type { Signal } from '../otlp/signals.js';
import { RateLimitedLog, type Logger } from '../logger.js';
import { childrenAtZero, type Telemetry } from '../metrics/telemetry.js';
import type { QueueEntry, Store } from '../storage/store.js';
import { BREAKER_STATE_VALUE, RetryPolicy, type BreakerState, type RetryPolicyOptions } from './retry-policy.js';
import type { SendResult, Transport } from './transport.js';
import { METRICS } from '../metrics/catalogue.js';

export interface BatchOptions {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface QueueSenderOptions {
  signal: Signal;
  store: Store;
  transport: Transport;
  telemetry: Telemetry;
  log: Logger;
  batch: BatchOptions;
  /** The backoff interval and cap; the rest defaults as `export.retry` and `export.breaker` do. */
  retry: Pick<RetryPolicyOptions, 'initialMs' | 'maxMs'> & Partial<RetryPolicyOptions>;
  /** Requests in flight at once (while the breaker is closed); default 1. */
  concurrency?: number;
}

const RETRY_DEFAULTS = { multiplier: 1.5, jitter: 0.5, failureThreshold: 5, probeIntervalMs: 15_000 };

export const EXPORT_OUTCOMES = ['sent', 'retried', 'rejected', 'dropped'] as const;
const REQUEST_RESULTS = ['success', 'retryable', 'permanent'] as const;

interface Batch {
  /** The queue entries it holds, without their payloads (those live in `parts` only). */
  entries: Pick<QueueEntry, 'id' | 'items' | 'bytes' | 'requestBytes'>[];
  /** The entries' requests concatenated: one request, kept for a retry. */
  /** The entries' requests, in order: one request when joined, kept for a retry. */
  parts: Buffer[];
  items: number;
  /** Bytes in the queue (payloads as stored). */
  bytes: number;
  /** Bytes of the request they make (before compression). */
  requestBytes: number;
}

interface Flight {
  batch: Batch;
  abort: AbortController;
  done: Promise<void>;
}

type Child = { inc(n?: number): void };
type HistogramChild = { observe(v: number): void };

export class QueueSender extends BaseComponent {
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly inflight = new Set<Flight>();
  /** Batches whose attempt failed, lowest queue id first: they go again before anything newer. */
  private readonly retryLater: Batch[] = [];
  /** The highest queue id handed to a request; newer entries are read after it. */
  private cursor = 0;
  /** Entries held by in-flight and retry-later batches. */
  private claimed = { entries: 0, items: 0, bytes: 0 };
  /** Lowered when the backend refuses a request as too large (413). */
  private maxBytes: number;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private active = false;
  private flushWaiters: (() => void)[] = [];
  private readonly limitedLog: RateLimitedLog;
  private readonly items: Record<(typeof EXPORT_OUTCOMES)[number], Child>;
  private readonly duration: Record<(typeof REQUEST_RESULTS)[number], HistogramChild>;
  private readonly retries: Child;

  constructor(private readonly o: QueueSenderOptions) {
    super(`exporter/${o.signal}`);
    const { signal, telemetry } = o;
    this.maxBytes = o.batch.maxBytes;
    this.concurrency = o.concurrency ?? 1;
    this.limitedLog = new RateLimitedLog(o.log);
    const items = telemetry.counter(METRICS.exportItems);
    this.items = childrenAtZero(items, { signal }, 'outcome', EXPORT_OUTCOMES);
    const duration = telemetry.histogram(METRICS.exportRequestDuration);
    this.duration = Object.fromEntries(
      REQUEST_RESULTS.map((result) => {
        const child = duration.labels({ signal, result });
        duration.zero({ signal, result });
        return [result, child];
      }),
    ) as unknown as QueueSender['duration'];
    this.retries = telemetry.counter(METRICS.exportRetries).labels({ signal });
    this.retries.inc(0);
    const breakerGauge = telemetry.gauge(METRICS.exportBreakerState).labels({ signal });
    breakerGauge.set(0);
    this.policy = new RetryPolicy({ ...RETRY_DEFAULTS, ...o.retry }, (state, previous) => {
      breakerGauge.set(BREAKER_STATE_VALUE[state]);
      this.onBreaker(state, previous);
    });
  }

  /** New entries were written; look again. */
  wake(): void {
    this.pump();
  }

  protected async doStart(): Promise<void> {
    this.active = true;
    this.pump();
  }

  /**
   * Send what is queued now without waiting for batches to fill. Resolves when the queue is empty,
   * or as soon as the backend refuses (a retryable failure): what is left stays on disk.
   */
  protected override doFlush(): Promise<void> {
    if (!this.active || this.policy.consecutiveFailures > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.pump();
      this.settleFlushes(false);
    });
  }

  /** Stop sending; in-flight requests are abandoned and their entries stay in the queue. */
  protected async doStop(): Promise<void> {
    this.active = false;
    this.clearTimer();
    const flights = [...this.inflight];
    for (const f of flights) f.abort.abort();
    await Promise.all(flights.map((f) => f.done));
    this.settleFlushes(true);
  }

  private pump(): void {
    if (!this.active) return;
    const now = Date.now();
    while (this.inflight.size < this.policy.lanes(this.concurrency)) {
      if (now < this.policy.nextAttemptAt) {
        this.schedule(this.policy.nextAttemptAt);
        return;
      }
      const batch = this.retryLater.shift() ?? this.claim(now);
      if (!batch) return;
      this.launch(batch);
    }
  }

  /** The next batch of unclaimed entries, or undefined (with a timer set) when none is due yet. */
  private claim(now: number): Batch | undefined {
    const { store, signal, batch: limits } = this.o;
    const stats = store.queueStats(signal);
    if (stats.entries - this.claimed.entries <= 0) return undefined;
    const full = stats.items - this.claimed.items >= limits.maxItems || stats.bytes - this.claimed.bytes >= this.maxBytes;
    if (!full && this.flushWaiters.length === 0) {
      // A pending timer already covers the oldest unclaimed entry (newer writes only come later).
      if (this.timer) return undefined;
      const due = (store.oldestAfter(signal, this.cursor) ?? now) + limits.timeoutMs;
      if (now < due) {
        this.schedule(due);
        return undefined;
      }
    }
    let rows = store.peek(signal, this.cursor, limits.maxItems, this.maxBytes);
    if (rows.some((r) => r.damaged)) {
      this.dropDamaged(rows.filter((r) => r.damaged));
      rows = rows.filter((r) => !r.damaged);
      if (rows.length === 0) return this.claim(now);
    }
    if (rows.length === 0) return undefined;
    const batch: Batch = {
      entries: rows.map(({ id, items, bytes, requestBytes }) => ({ id, items, bytes, requestBytes })),
      parts: rows.map((r) => r.payload),
      items: 0,
      bytes: 0,
      requestBytes: 0,
    };
    addUp(batch);
    this.cursor = rows[rows.length - 1].id;
    this.claimed.entries += rows.length;
    this.claimed.items += batch.items;
    this.claimed.bytes += batch.bytes;
    return batch;
  }

  /** Entries whose payload the store could not read back (a segment file lost): dropped, counted. */
  private dropDamaged(rows: QueueEntry[]): void {
    const { store, signal, log } = this.o;
    const items = rows.reduce((n, r) => n + r.items, 0);
    store.ack(signal, rows);
    this.items.dropped.inc(items);
    log.error({ signal, entries: rows.length, items }, 'queue entries could not be read back from their segment file; dropped');
  }

  private release(batch: Batch): void {
    this.claimed.entries -= batch.entries.length;
    this.claimed.items -= batch.items;
    this.claimed.bytes -= batch.bytes;
  }

  private launch(batch: Batch): void {
    this.policy.attempt();
    const abort = new AbortController();
    const started = performance.now();
    const flight = { batch, abort } as Flight;
    this.inflight.add(flight);
    flight.done = this.attempt(batch, abort.signal).then((result) => {
      this.inflight.delete(flight);
      if (abort.signal.aborted && result.kind === 'retryable') {
        this.release(batch); // abandoned at stop: the entries stay in the queue for the next start
        return;
      }
      this.duration[result.kind].observe((performance.now() - started) / 1000);
      this.settle(batch, result);
      this.pump();
      this.settleFlushes(result.kind === 'retryable');
    });
  }

  private async attempt(batch: Batch, abort: AbortSignal): Promise<SendResult> {
    try {
      return await this.o.transport.send(this.o.signal, batch.parts, batch.items, { abort });
    } catch (err) {
      return { kind: 'retryable', reason: (err as Error).message };
    }
  }

  private settle(batch: Batch, result: SendResult): void {
    const { signal } = this.o;
    const { items } = batch;
    if (result.kind === 'retryable') {
      const wait = this.policy.onFailure(Date.now(), result.retryAfterMs);
      this.sendAgain(batch);
      this.items.retried.inc(items);
      this.retries.inc();
      this.limitedLog.warn(`retry-${signal}`, { signal, items, reason: result.reason, retry_in_ms: Math.round(wait) }, 'export failed; will retry');
      return;
    }
    // Success or a permanent refusal: either way the backend answered.
    this.policy.onSuccess();
    if (result.kind === 'permanent' && result.tooLarge && batch.entries.length > 1) {
      this.split(batch, result.reason);
      return;
    }
    this.release(batch);
    try {
      this.o.store.ack(signal, batch.entries);
    } catch (err) {
      this.o.log.error({ err, signal }, 'cannot delete exported entries from the queue; they will be sent again after a restart');
    }
    if (result.kind === 'permanent') {
      this.items.dropped.inc(items);
      this.limitedLog.error(`permanent-${signal}`, { signal, items, reason: result.reason }, 'export refused permanently; items dropped');
      return;
    }
    const rejected = Math.min(result.partial?.rejected ?? 0, items);
    this.items.sent.inc(items - rejected);
    if (rejected > 0 || result.partial?.errorMessage) {
      this.items.rejected.inc(rejected);
      this.limitedLog.warn(`partial-${signal}`, { signal, rejected, message: result.partial?.errorMessage }, 'backend rejected part of an export');
    }
  }

  /** Queue a claimed batch to go again before anything newer (retryLater stays in queue order). */
  private sendAgain(batch: Batch): void {
    const i = this.retryLater.findIndex((b) => b.entries[0].id > batch.entries[0].id);
    this.retryLater.splice(i < 0 ? this.retryLater.length : i, 0, batch);
  }

  /**
   * The backend refused a batch for its size: send it again in two halves (first half first), and
   * keep later batches under half its size. A single entry that is too large is dropped, counted.
   */
  private split(batch: Batch, reason: string): void {
    const mid = Math.ceil(batch.entries.length / 2);
    const halves: Batch[] = [
      { entries: batch.entries.slice(0, mid), parts: batch.parts.slice(0, mid), items: 0, bytes: 0, requestBytes: 0 },
      { entries: batch.entries.slice(mid), parts: batch.parts.slice(mid), items: 0, bytes: 0, requestBytes: 0 },
    ];
    for (const half of halves) this.sendAgain(addUp(half));
    this.maxBytes = Math.max(1, Math.min(this.maxBytes, Math.floor(batch.requestBytes / 2)));
    this.limitedLog.warn(
      `too-large-${this.o.signal}`,
      { signal: this.o.signal, bytes: batch.requestBytes, max_bytes: this.maxBytes, reason },
      'backend refused an export as too large; sending it in smaller batches',
    );
  }

  private settleFlushes(refused: boolean): void {
    if (this.flushWaiters.length === 0) return;
    const done = refused || !this.active || (this.inflight.size === 0 && this.o.store.queueStats(this.o.signal).entries === 0);
    if (!done) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private onBreaker(state: BreakerState, previous: BreakerState): void {
    const { signal, log, retry } = this.o;
    if (state === 'open' && previous === 'closed') {
      log.warn(
        { signal, failures: this.policy.consecutiveFailures, probe_interval_ms: retry.probeIntervalMs ?? RETRY_DEFAULTS.probeIntervalMs },
        'export backend unavailable: circuit breaker open, probing on a schedule; items wait in the queue',
      );
    } else if (state === 'closed') {
      log.info({ signal }, 'export backend reachable again: circuit breaker closed');
    }
  }

  private schedule(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}

/** A batch's counts, from its entries. */
function addUp(batch: Batch): Batch {
  for (const e of batch.entries) {
    batch.items += e.items;
    batch.bytes += e.bytes;
    batch.requestBytes += e.requestBytes;
  }
  return batch;
}
