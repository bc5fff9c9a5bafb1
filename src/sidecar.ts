/**
 * The graph for one configuration: store → exporters (queue writers and senders) → pipelines →
 * receivers. Starts exporters first and stops receivers first, so every stage drains into a
 * running one; whatever is not yet sent when the deadline comes stays in the on-disk queue.
 */
import { DebugServer } from './admin/debug-server.js';
import type { Component, Consumer } from './component.js';
import type { Config } from './config/load.js';
import { SIGNALS, type Signal } from './otlp/signals.js';
import { formatDuration } from './config/units.js';
import { batchOptions, buildTransports, retryOptions } from './exporters/index.js';
import { MemoryGuard } from './exporters/memory-guard.js';
import { QueueSender } from './exporters/queue-sender.js';
import { QueueWriter } from './exporters/queue-writer.js';
import type { Transport } from './exporters/transport.js';
import type { Logger } from './logger.js';
import type { Telemetry } from './metrics/telemetry.js';
import type { LogBatch, TraceBatch } from './pipeline/batches.js';
import { encodeLogBatch, encodeTraceBatch } from './pipeline/encode.js';
import { Pipeline } from './pipeline/pipeline.js';
import { buildStages, type PipelineStages } from './processors/index.js';
import { LogSampler } from './processors/sampling/log-sampler.js';
import { buildReceivers } from './receivers/index.js';
import type { GraphContext, Receiver } from './receivers/receiver.js';
import { Store, type QueueStats } from './storage/store.js';

export interface SidecarDeps {
  log: Logger;
  telemetry: Telemetry;
}

export class Sidecar {
  private store?: Store;
  private transports?: Record<Signal, Transport>;
  private writers: QueueWriter<Signal>[] = [];
  private senders: QueueSender[] = [];
  private receivers: Receiver[] = [];
  private memory?: MemoryGuard;
  private graphConsumers?: GraphContext['consumers'];
  /** Components of the stages (the correlation index, the debug server): started before the receivers. */
  private components: Component[] = [];
  private removeCollector?: () => void;
  private stopping?: Promise<void>;

  constructor(
    readonly config: Config,
    private readonly deps: SidecarDeps,
  ) {}

  /** Reasons the sidecar is not ready; empty when every receiver is bound and the export keeps up. */
  notReadyReasons(): string[] {
    if (this.stopping) return ['stopping'];
    const store = this.store;
    if (!store) return ['starting'];
    const reasons = this.receivers.filter((r) => !r.ready).map((r) => `${r.name} not bound`);
    const maxAge = this.config.export.readiness.max_queue_age;
    if (maxAge !== null) {
      const now = Date.now();
      for (const signal of SIGNALS) {
        const oldest = store.queueStats(signal).oldestCreatedAt;
        if (oldest !== null && now - oldest > maxAge) {
          reasons.push(`export of ${signal} is behind: oldest queued item is ${((now - oldest) / 1000).toFixed(1)}s old (export.readiness.max_queue_age ${formatDuration(maxAge)})`);
        }
      }
    }
    return reasons;
  }

  /** What waits in the export queue for `signal`. */
  queueStats(signal: Signal): QueueStats {
    return this.store?.queueStats(signal) ?? { entries: 0, items: 0, bytes: 0, oldestCreatedAt: null };
  }

  /** The entries of the pipelines (what receivers feed), once started. */
  get consumers(): GraphContext['consumers'] | undefined {
    return this.graphConsumers;
  }

  async start(): Promise<void> {
    const { config } = this;
    const { log, telemetry } = this.deps;
    const exporting = config.export.enabled;
    if (exporting) this.transports = buildTransports(config);
    else log.info('export.enabled is false: nothing is queued or exported, only metrics are made');
    const store = (this.store = Store.open(config.storage.directory, { maxQueueBytes: config.storage.max_queue_bytes }));
    const memory = (this.memory = new MemoryGuard({ limitBytes: config.limits.memory_mib * 1024 * 1024, log: log.child({ component: 'memory' }) }));
    const writers = {} as { [S in Signal]: QueueWriter<S> };
    for (const signal of SIGNALS) {
      // export.enabled false: no sender; the writers keep only the checkpoints.
      const sender = this.transports
        ? new QueueSender({
            signal,
            store,
            transport: this.transports[signal],
            telemetry,
            log: log.child({ component: `exporter/${signal}` }),
            batch: batchOptions(config, signal),
            retry: retryOptions(config),
            concurrency: config.export.concurrency,
          })
        : undefined;
      if (sender) this.senders.push(sender);
      (writers as Record<Signal, QueueWriter<Signal>>)[signal] = new QueueWriter(signal, store, {
        discard: !exporting,
        compress: { level: config.export.otlp.compression_level, aboveBytes: config.storage.compress_above },
        onEnqueued: () => sender?.wake(),
        admit: () => memory.admit(),
        telemetry,
        limits: batchOptions(config, signal),
      });
    }
    this.writers = Object.values(writers);
    this.registerQueueGauges(store);

    const stages = buildStages({ config, log, telemetry });
    const logsNext = this.buildSampler(writers.logs, stages);
    // Encoded once, for the queue and the trace index alike; neither needs it when both are off.
    const encode = exporting || config.correlation.enabled;
    const consumers = {
      logs: new Pipeline<LogBatch>(logsNext, stages.logs.processors, stages.logs.observers, encode ? encodeLogBatch : undefined),
      traces: new Pipeline<TraceBatch>(writers.traces, stages.traces.processors, stages.traces.observers, encode ? encodeTraceBatch : undefined),
      metrics: writers.metrics,
    };
    this.graphConsumers = consumers;
    this.receivers = buildReceivers({ config, log, telemetry, store, consumers, admit: () => memory.admit() });
    this.components = stages.components;
    const { debug, limits } = config;
    // Before the index in the list: it stops before the index it reads is cleared.
    if (debug.endpoint && stages.index) {
      this.components.unshift(
        new DebugServer({ endpoint: debug.endpoint, token: debug.token, maxConnections: limits.max_connections, index: stages.index, serviceGraph: stages.serviceGraph, log: log.child({ component: 'debug' }) }),
      );
    }

    // Exporters first, receivers last.
    for (const s of this.senders) await s.start();
    try {
      for (const c of this.components) await c.start();
      for (const r of this.receivers) await r.start();
    } catch (err) {
      await this.stop(Date.now() + 5000);
      throw err;
    }
  }

  /**
   * The log sampler between the logs pipeline and its queue writer, when `logs.sampling.enabled`:
   * it sees the trace batches too (local roots and errors decide) and runs as a component, so that
   * it decides and writes what it holds after the receivers stopped and before the writers close.
   */
  private buildSampler(writer: Consumer<LogBatch>, stages: PipelineStages): Consumer<LogBatch> {
    const s = this.config.logs.sampling;
    if (!s.enabled) return writer;
    const sampler = new LogSampler(writer, {
      ratio: s.ratio,
      slowThresholdMs: s.slow_threshold,
      decisionWaitMs: s.decision_wait,
      maxHeldBytes: s.max_held_bytes,
      telemetry: this.deps.telemetry,
      log: this.deps.log.child({ component: 'log_sampling' }),
    });
    stages.traces.observers.push(sampler.traces);
    stages.components.push(sampler);
    return sampler;
  }

  /** Stop receiving, drain what can be sent before `deadline` (ms since epoch), close the store. */
  stop(deadline: number): Promise<void> {
    this.stopping ??= this.doStop(deadline);
    return this.stopping;
  }

  private async doStop(deadline: number): Promise<void> {
    const { log } = this.deps;
    await stopAll(this.receivers, log);
    await stopAll(this.components, log);
    for (const w of this.writers) w.close();
    const remaining = Math.max(0, deadline - Date.now() - 500);
    await Promise.race([Promise.all(this.senders.map((s) => s.flush())), sleep(remaining)]);
    await stopAll(this.senders, log);
    for (const t of new Set(Object.values(this.transports ?? {}))) await t.close().catch(() => undefined);
    this.removeCollector?.();
    this.memory?.close();
    this.store?.close();
  }

  private registerQueueGauges(store: Store): void {
    const { telemetry } = this.deps;
    const bytes = telemetry.gauge({ name: 'tracetail_export_queue_bytes', help: 'Bytes waiting in the on-disk export queue.', labelNames: ['signal'] as const });
    const age = telemetry.gauge({
      name: 'tracetail_export_queue_oldest_age_seconds',
      help: 'Age of the oldest item waiting in the export queue; 0 when empty.',
      labelNames: ['signal'] as const,
    });
    this.removeCollector = telemetry.addCollector(() => {
      const now = Date.now();
      for (const signal of SIGNALS) {
        const s = store.queueStats(signal);
        bytes.labels({ signal }).set(s.bytes);
        age.labels({ signal }).set(s.oldestCreatedAt === null ? 0 : Math.max(0, (now - s.oldestCreatedAt) / 1000));
      }
    });
  }
}

async function stopAll(components: readonly Component[], log: Logger): Promise<void> {
  for (const c of components) {
    try {
      await c.stop();
    } catch (err) {
      log.error({ err, component: c.name }, 'component failed to stop');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
