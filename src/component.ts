/**
 * The shared lifecycle. Every component can be started, flushed and stopped; `stop()` is
 * idempotent and safe before `start()`. The graph starts in reverse flow order (exporters first)
 * and stops in flow order (receivers first), so a stopping stage drains into a running one.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Push everything held in memory to the next stage. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A stage that takes batches. The promise resolves once the batch is durable (in the on-disk
 * queue) or handed on; it rejects with a backpressure error (`isBackpressure`) when the caller must
 * wait and try again, in which case nothing of the batch was kept.
 */
export interface Consumer<B> {
  consume(batch: B): Promise<void>;
}

/** Lifecycle bookkeeping so that every component gets idempotent start/stop for free. */
export abstract class BaseComponent implements Component {
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping?: Promise<void>;

  constructor(readonly name: string) {}

  get running(): boolean {
    return this.state === 'running';
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    await this.doStart();
    if (this.state === 'starting') this.state = 'running';
  }

  async flush(): Promise<void> {
    if (this.state === 'running' || this.state === 'stopping') await this.doFlush();
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      const wasStarted = this.state !== 'new';
      this.state = 'stopping';
      this.stopping = (wasStarted ? this.doStop() : Promise.resolve()).finally(() => {
        this.state = 'stopped';
      });
    }
    return this.stopping;
  }

  protected abstract doStart(): Promise<void>;
  protected async doFlush(): Promise<void> {}
  protected abstract doStop(): Promise<void>;
}

/** A part with nothing to start but something to end (a store to close, a collector to remove) as a component. */
export function stopping(name: string, stop: () => void | Promise<void>): Component {
  let stopped: Promise<void> | undefined;
  return {
    name,
    start: async () => undefined,
    flush: async () => undefined,
    stop: () => (stopped ??= Promise.resolve().then(stop)),
  };
}

/** Stop `components` in the reverse of their start order; one that fails to stop is reported and the others still stop. */
export async function stopInReverse(components: readonly Component[], onError: (err: unknown, component: Component) => void): Promise<void> {
  for (let i = components.length - 1; i >= 0; i--) {
    try {
      await components[i].stop();
    } catch (err) {
      onError(err, components[i]);
    }
  }
}

/** The memory held for one request while it is read and decoded (exporters/memory-guard.ts). */
export interface MemoryReservation {
  /** Adds the cost of `bytes` more; throws as the reservation did when it does not fit. */
  grow(bytes: number): void;
  release(): void;
}
