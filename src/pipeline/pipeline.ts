import type { Consumer } from '../component.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { Telemetry } from '../metrics/telemetry.js';

/** What a processor or observer is built from. */
export interface ProcessorContext {
  config: Config;
  log: Logger;
  telemetry: Telemetry;
}

/** A synchronous transform on the hot path (enrichment, extraction). Returns the batch to pass on. */
export interface Processor<B> {
  readonly name: string;
  process(batch: B): B;
}

/** Sees a batch after it is durable (span metrics, the correlation index): a retried request was already seen. */
export interface Observer<B> {
  readonly name: string;
  observe(batch: B): void;
}

/** The processors and observers of one signal's pipeline. */
export interface Stages<B> {
  processors: Processor<B>[];
  observers: Observer<B>[];
}

/** Gives a batch its encoding (`encoded` and `encodedItems`) when it came without one. */
export type Encoder<B> = (batch: B) => B;

/**
 * processors → encode → next (the durable queue) → observers.
 *
 * A batch may carry its items already encoded, as received (`TraceBatch.encoded`), for the queue
 * to store as they are. When the pipeline has processors it drops those bytes before the first
 * one runs: a processor may change the items, and the queue must then encode what it returns.
 * The encoding is made once, after the processors, for the queue and the observers alike (the
 * trace index keeps items as their encoded bytes).
 */
export class Pipeline<B> implements Consumer<B> {
  constructor(
    private readonly next: Consumer<B>,
    private readonly processors: readonly Processor<B>[] = [],
    private readonly observers: readonly Observer<B>[] = [],
    private readonly encode?: Encoder<B>,
  ) {}

  async consume(batch: B): Promise<void> {
    let b = batch;
    if (this.processors.length > 0) {
      b = withoutEncoded(b);
      for (const p of this.processors) b = p.process(b);
    }
    if (this.encode) b = this.encode(b);
    await this.next.consume(b);
    for (const o of this.observers) o.observe(b);
  }
}

/** The batch without its received bytes (a shallow copy; the caller's batch is not changed). */
function withoutEncoded<B>(batch: B): B {
  if ((batch as { encoded?: unknown }).encoded === undefined) return batch;
  const copy = { ...batch } as B & { encoded?: unknown; encodedItems?: unknown };
  delete copy.encoded;
  delete copy.encodedItems;
  return copy;
}
