/**
 * Drains one signal's durable queue into a transport, oldest first. Batching happens here, on
 * the read side: entries are combined (protobuf requests concatenate into one request) up to
 * `maxItems`/`maxBytes`, or sent when the oldest has waited `timeoutMs`. Entries are deleted only
 * after the transport acknowledged them, so a crash at any point loses nothing.
 */
import { BaseComponent } from '../component.js';
import type { Signal } from '../config/otel-env.js';
import { RateLimitedLog, type Logger } from '../logger.js';
import type { Telemetry } from '../metrics/telemetry.js';
import type { QueueEntry, Store } from '../storage/store.js';
import type { SendResult, Transport } from './transport.js';

export interface BatchOptions {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
}

export interface QueueSenderOptions {
  signal: Signal;
  store: Store;
  transport: Transport;
  telemetry: Telemetry;
  log: Logger;
  batch: BatchOptions;
  retry: RetryOptions;
}

export const EXPORT_OUTCOMES = ['sent', 'retried', 'rejected', 'dropped'] as const;

export class QueueSender extends BaseComponent {
  private wakeUp?: () => void;
  private loopDone?: Promise<void>;
  private draining = false;
  private halted = false;
  private failures = 0;
  private readonly limitedLog: RateLimitedLog;
  private readonly items;

  constructor(private readonly o: QueueSenderOptions) {
    super(`exporter/${o.signal}`);
    this.limitedLog = new RateLimitedLog(o.log);
    const items = o.telemetry.counter({
      name: 'tracetail_export_items_total',
      help: 'Items (spans, log records, metric data points) by export outcome: sent, retried, rejected by the backend, dropped.',
      labelNames: ['signal', 'outcome'] as const,
    });
    this.items = Object.fromEntries(EXPORT_OUTCOMES.map((outcome) => [outcome, items.labels({ signal: o.signal, outcome })])) as Record<
      (typeof EXPORT_OUTCOMES)[number],
      ReturnType<typeof items.labels>
    >;
  }

  /** New entries were written; a waiting loop looks again. */
  wake(): void {
    this.wakeUp?.();
  }

  protected async doStart(): Promise<void> {
    this.loopDone = this.loop();
  }

  /** Send what is queued now, and return when the queue is empty or the backend refuses. */
  protected override async doFlush(): Promise<void> {
    this.draining = true;
    this.wake();
    while (this.o.store.queueStats(this.o.signal).entries > 0 && this.failures === 0 && !this.halted) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  protected async doStop(): Promise<void> {
    this.halted = true;
    this.wake();
    await this.loopDone;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async loop(): Promise<void> {
    const { store, signal, batch } = this.o;
    while (!this.halted) {
      const stats = store.queueStats(signal);
      if (stats.entries === 0) {
        await this.wait(60_000);
        continue;
      }
      const age = Date.now() - (stats.oldestCreatedAt ?? Date.now());
      if (!this.draining && stats.items < batch.maxItems && stats.bytes < batch.maxBytes && age < batch.timeoutMs) {
        await this.wait(batch.timeoutMs - age);
        continue;
      }
      const entries = store.peek(signal, 0, batch.maxItems, batch.maxBytes);
      const result = await this.send(entries);
      if (this.halted && result.kind === 'retryable') return;
      this.settle(entries, result);
      if (result.kind === 'retryable') {
        if (this.draining) return; // stopping: what is left stays on disk
        await this.wait(result.retryAfterMs ?? this.backoff());
      } else {
        this.failures = 0;
      }
    }
  }

  private async send(entries: QueueEntry[]): Promise<SendResult> {
    const payload = entries.length === 1 ? entries[0].payload : Buffer.concat(entries.map((e) => e.payload));
    const items = entries.reduce((n, e) => n + e.items, 0);
    try {
      return await this.o.transport.send(this.o.signal, payload, items);
    } catch (err) {
      return { kind: 'retryable', reason: (err as Error).message };
    }
  }

  private settle(entries: QueueEntry[], result: SendResult): void {
    const items = entries.reduce((n, e) => n + e.items, 0);
    const { signal, store } = this.o;
    switch (result.kind) {
      case 'success': {
        const rejected = Math.min(result.partial?.rejected ?? 0, items);
        store.ack(signal, entries);
        this.items.sent.inc(items - rejected);
        if (rejected > 0 || result.partial?.errorMessage) {
          this.items.rejected.inc(rejected);
          this.limitedLog.warn(`partial-${signal}`, { signal, rejected, message: result.partial?.errorMessage }, 'backend rejected part of an export');
        }
        return;
      }
      case 'permanent':
        store.ack(signal, entries);
        this.items.dropped.inc(items);
        this.limitedLog.error(`permanent-${signal}`, { signal, items, reason: result.reason }, 'export failed permanently; items dropped');
        return;
      case 'retryable':
        this.failures++;
        this.items.retried.inc(items);
        this.limitedLog.warn(`retry-${signal}`, { signal, items, reason: result.reason }, 'export failed; will retry');
        return;
    }
  }

  private backoff(): number {
    const { initialMs, maxMs } = this.o.retry;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20));
    return base / 2 + Math.random() * (base / 2);
  }
}
