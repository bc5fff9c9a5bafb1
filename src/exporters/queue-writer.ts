/**
 * The entry of the durable queue: encodes a batch as an OTLP protobuf request and writes it, with
 * the checkpoints it carries, in one transaction. When `consume()` resolves the batch is on disk.
 */
import type { Consumer } from '../component.js';
import type { Signal } from '../config/otel-env.js';
import { StoppedError } from '../errors.js';
import { countItems, encodeRequest } from '../otlp/codec.js';
import type { BatchOf, LogBatch, MetricBatch, TraceBatch } from '../pipeline/batches.js';
import type { Store } from '../storage/store.js';

export interface QueueWriterOptions {
  /** Called after every write so the sender can wake up. */
  onEnqueued?: () => void;
  /** Throws a backpressure error when the process must not take more (memory limit). */
  admit?: () => void;
}

export class QueueWriter<S extends Signal> implements Consumer<BatchOf[S]> {
  private stopped = false;

  constructor(
    readonly signal: S,
    private readonly store: Store,
    private readonly options: QueueWriterOptions = {},
  ) {}

  /** Refuse further batches (the graph is stopping). */
  close(): void {
    this.stopped = true;
  }

  async consume(batch: BatchOf[S]): Promise<void> {
    if (this.stopped) throw new StoppedError('tracetail is stopping');
    this.options.admit?.();
    const { payload, items } = this.encode(batch);
    const checkpoints = (batch as LogBatch).checkpoints ?? [];
    if (items === 0) {
      if (checkpoints.length > 0) this.store.saveCheckpoints(checkpoints);
      return;
    }
    this.store.enqueue([{ signal: this.signal, payload, items }], checkpoints);
    this.options.onEnqueued?.();
  }

  private encode(batch: BatchOf[S]): { payload: Uint8Array; items: number } {
    switch (this.signal) {
      case 'metrics': {
        const b = batch as MetricBatch;
        return { payload: b.payload, items: b.items };
      }
      case 'traces': {
        const req = { resourceSpans: (batch as TraceBatch).resourceSpans };
        return { payload: encodeRequest('traces', req), items: countItems('traces', req) };
      }
      default: {
        const req = { resourceLogs: (batch as LogBatch).resourceLogs };
        return { payload: encodeRequest('logs', req), items: countItems('logs', req) };
      }
    }
  }
}
