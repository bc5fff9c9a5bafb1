import type { Consumer } from '../component.js';

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

/** processors → next (the durable queue) → observers. */
export class Pipeline<B> implements Consumer<B> {
  constructor(
    private readonly next: Consumer<B>,
    private readonly processors: readonly Processor<B>[] = [],
    private readonly observers: readonly Observer<B>[] = [],
  ) {}

  async consume(batch: B): Promise<void> {
    let b = batch;
    for (const p of this.processors) b = p.process(b);
    await this.next.consume(b);
    for (const o of this.observers) o.observe(b);
  }
}
