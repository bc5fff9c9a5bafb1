/**
 * The entry of the durable queue: encodes a batch as an OTLP protobuf request (or takes the request
 * as it was received: metrics, and spans that came as protobuf) and writes it, with the
 * checkpoints it carries, in one transaction. A trace or logs batch larger than an export request
 * may be (`limits`) is written as several entries, in the same transaction. The sender
 * concatenates entries into one request, which protobuf reads as the entries merged, so received
 * and encoded entries mix freely. When `consume()` resolves the batch is on disk. When it rejects
 * (a backpressure error: queue full, memory limit, stopping) nothing of the batch was kept and the
 * caller must wait `retryAfterMs` and try again; every refusal is counted.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Consumer } from '../component.js';
import type { Signal } from '../otlp/signals.js';
import { isBackpressure, StoppedError, type BackpressureError } from '../errors.js';
import { childrenAtZero, type Telemetry } from '../metrics/telemetry.js';
import type { BatchOf, LogBatch, MetricBatch, TraceBatch } from '../pipeline/batches.js';
import type { Checkpoint, Checkpoints } from '../pipeline/checkpoints.js';
import type { NewQueueEntry, Store } from '../storage/store.js';
import { encodeWithin, type EncodedPart, type SplitLimits } from './split-request.js';
import { METRICS } from '../metrics/catalogue.js';

export interface QueueWriterOptions {
  /** Called after every write so the sender can wake up. */
  onEnqueued?: () => void;
  /** Throws a backpressure error when the process must not take more (memory limit). */
  admit?: () => void;
  /** Counts refusals in `tracetail_export_queue_refusals_total`. */
  telemetry?: Telemetry;
  /**
   * The export request limits (`export.batch`): a trace or logs batch past them is queued as
   * several entries, each within them, so that no export request has to be larger.
   */
  limits?: SplitLimits;
  /** Keep nothing but the checkpoints (`export.enabled: false`: a metrics-only sidecar). */
  discard?: boolean;
  /**
   * While the queue holds more than `aboveBytes` (the backend is slow or down), entries are written
   * gzip-compressed at `level` (`storage.compress_above`): an outage then fills it several times
   * more slowly. Below it they are written as they are, to be sent soon and compressed once,
   * together, on their way out (a compressed entry costs a decompression more when it leaves with
   * others): a burst that the export catches up with stays below it.
   */
  compress?: { level: number; aboveBytes: number };
}
const gzip = promisify(gzipCallback);

const NO_LIMITS: SplitLimits = { maxItems: Infinity, maxBytes: Infinity };

const REFUSAL_REASON: Record<BackpressureError['code'], string> = {
  TT_QUEUE_FULL: 'queue_full',
  TT_STORAGE_FULL: 'storage_full',
  TT_STORAGE_ERROR: 'storage_error',
  TT_MEMORY_LIMIT: 'memory_limit',
  TT_STOPPED: 'stopping',
};

export class QueueWriter<S extends Signal> implements Consumer<BatchOf[S]>, Checkpoints {
  private stopped = false;
  private readonly refusals?: Record<string, { inc(): void }>;

  constructor(
    readonly signal: S,
    private readonly store: Store,
    private readonly options: QueueWriterOptions = {},
  ) {
    if (options.telemetry) {
      this.refusals = childrenAtZero(options.telemetry.counter(METRICS.exportQueueRefusals), { signal }, 'reason', Object.values(REFUSAL_REASON));
    }
  }

  all<T = unknown>(): { key: string; data: T }[] {
    return this.store.allCheckpoints<T>();
  }

  save(checkpoints: readonly Checkpoint[]): void {
    this.store.saveCheckpoints(checkpoints);
  }

  delete(key: string): void {
    this.store.deleteCheckpoint(key);
  }

  /** Refuse further batches (the graph is stopping). */
  close(): void {
    this.stopped = true;
  }

  async consume(batch: BatchOf[S]): Promise<void> {
    try {
      if (this.stopped) throw new StoppedError('tracetail is stopping');
      this.options.admit?.();
      const checkpoints = (batch as LogBatch).checkpoints ?? [];
      if (this.options.discard) {
        if (checkpoints.length > 0) this.store.saveCheckpoints(checkpoints);
        return;
      }
      const parts = this.encode(batch);
      if (parts.every((p) => p.items === 0)) {
        if (checkpoints.length > 0) this.store.saveCheckpoints(checkpoints);
        return;
      }
      const compress = this.options.compress;
      const entries: NewQueueEntry[] = parts.map(({ payload, items }) => ({ signal: this.signal, payload, items }));
      if (compress && this.store.queuedBytes >= compress.aboveBytes) {
        for (const e of entries) {
          e.requestBytes = e.payload.byteLength;
          e.payload = await gzip(e.payload, { level: compress.level });
        }
      }
      this.store.enqueue(entries, checkpoints);
    } catch (err) {
      if (isBackpressure(err)) this.refusals?.[REFUSAL_REASON[err.code]].inc();
      throw err;
    }
    this.options.onEnqueued?.();
  }

  /** The batch as queue entries: one, or several when it is larger than an export request may be. */
  private encode(batch: BatchOf[S]): EncodedPart[] {
    const limits = this.options.limits ?? NO_LIMITS;
    switch (this.signal) {
      case 'metrics': {
        const b = batch as MetricBatch;
        return [{ payload: b.payload, items: b.items }];
      }
      case 'traces': {
        const b = batch as TraceBatch;
        // Spans received as protobuf are stored as received (see TraceBatch.encoded).
        return encodeWithin('traces', { resourceSpans: b.resourceSpans }, limits, b.encoded);
      }
      case 'logs': {
        const b = batch as LogBatch;
        return encodeWithin('logs', { resourceLogs: b.resourceLogs }, limits, b.encoded);
      }
    }
  }
}
