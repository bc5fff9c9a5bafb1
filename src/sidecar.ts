/**
 * The graph for one configuration: store → exporters (queue writers and senders) → pipelines →
 * receivers, each stateful part a component in one list. They start in its order (the store and
 * the exporters first) and stop in reverse (the receivers first), so every stage drains into a
 * running one; whatever is not yet sent when the deadline comes stays in the on-disk queue.
 */
import { DebugServer } from './admin/debug-server.js';
import { stopInReverse, stopping, type Component, type Consumer } from './component.js';
import type { Config } from './config/load.js';
import { SIGNALS, type Signal } from './otlp/signals.js';
import { formatDuration } from './config/units.js';
import { batchOptions, buildTransports, fileExportDirectory, retryOptions } from './exporters/index.js';
import { MemoryGuard } from './exporters/memory-guard.js';
import { QueueSender } from './exporters/queue-sender.js';
import { QueueWriter } from './exporters/queue-writer.js';
import type { Logger } from './logger.js';
import type { Telemetry } from './metrics/telemetry.js';
import type { LogBatch, TraceBatch } from './pipeline/batches.js';
import type { Checkpoints } from './pipeline/checkpoints.js';
import { encodeLogBatch, encodeTraceBatch } from './pipeline/encode.js';
import { Pipeline } from './pipeline/pipeline.js';
import { buildStages, type PipelineStages } from './processors/index.js';
import { RecordBuilder } from './processors/parse/record-builder.js';
import { LogSampler } from './processors/sampling/log-sampler.js';
import { buildReceivers } from './receivers/index.js';
import type { GraphContext, Receiver } from './receivers/receiver.js';
import { checkWritableDirectories } from './storage/preflight.js';
import { Store, type QueueStats } from './storage/store.js';
import { METRICS } from './metrics/catalogue.js';

export interface SidecarDeps {
  log: Logger;
  telemetry: Telemetry;
}

export class Sidecar implements Component {
  readonly name = 'sidecar';
  private store?: Store;
  private receivers: Receiver[] = [];
  private graphConsumers?: GraphContext['consumers'];
  /** Every stateful part, in the order it starts (the store first, the receivers last); stopped in reverse. */
  private parts: Component[] = [];
  /** Until when a stop may drain the export queue. */
  private drainUntil = 0;
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
    const fault = store.storageFault;
    if (fault) reasons.push(`storage.directory: ${fault.message}`);
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
    try {
      this.build();
      for (const part of this.parts) await part.start();
    } catch (err) {
      await this.stop(Date.now() + 5000);
      throw err;
    }
  }

  async flush(): Promise<void> {
    for (const part of this.parts) await part.flush();
  }

  /** Stop receiving, drain what can be sent before `deadline` (ms since epoch), close the store. */
  stop(deadline = Date.now() + this.config.shutdown_timeout): Promise<void> {
    this.drainUntil = deadline;
    this.stopping ??= stopInReverse(this.parts, (err, part) => this.deps.log.error({ err, component: part.name }, 'component failed to stop'));
    return this.stopping;
  }

  /** The graph for the config, in `parts`: storage, exporters, stages, receivers. */
  private build(): void {
    const { config, parts } = this;
    const { log, telemetry } = this.deps;
    const exporting = config.export.enabled;
    checkWritableDirectories(fileExportDirectories(config));
    const transports = exporting ? buildTransports(config) : undefined;
    if (!exporting) log.info('export.enabled is false: nothing is queued or exported, only metrics are made');
    const storageLog = log.child({ component: 'storage' });
    const store = (this.store = Store.open(config.storage.directory, {
      maxQueueBytes: config.storage.max_queue_bytes,
      onFault: (fault) =>
        fault
          ? storageLog.error({ directory: config.storage.directory, code: fault.code }, `${fault.message}; OTLP clients are answered 503 with Retry-After, log files wait at their last durable position`)
          : storageLog.info({ directory: config.storage.directory }, 'the storage directory takes writes again'),
    }));
    parts.push(stopping('storage', () => store.close()));
    const memory = new MemoryGuard({ limitBytes: config.limits.memory_mib * 1024 * 1024, log: log.child({ component: 'memory' }) });
    parts.push(stopping('memory', () => memory.close()));
    parts.push(stopping('queue gauges', this.registerQueueGauges(store)));
    if (transports) {
      parts.push(
        stopping('transports', async () => {
          for (const t of new Set(Object.values(transports))) await t.close().catch(() => undefined);
        }),
      );
    }
    const writers = {} as { [S in Signal]: QueueWriter<S> };
    const senders: QueueSender[] = [];
    for (const signal of SIGNALS) {
      // export.enabled false: no sender; the writers keep only the checkpoints.
      const sender = transports
        ? new QueueSender({
            signal,
            store,
            transport: transports[signal],
            telemetry,
            log: log.child({ component: `exporter/${signal}` }),
            batch: batchOptions(config, signal),
            retry: retryOptions(config),
            concurrency: config.export.concurrency,
          })
        : undefined;
      if (sender) senders.push(sender);
      (writers as Record<Signal, QueueWriter<Signal>>)[signal] = new QueueWriter(signal, store, {
        discard: !exporting,
        compress: { level: config.export.otlp.compression_level, aboveBytes: config.storage.compress_above },
        onEnqueued: () => sender?.wake(),
        admit: () => memory.admit(),
        telemetry,
        limits: batchOptions(config, signal),
      });
    }
    parts.push(this.exporters(senders));
    parts.push(
      stopping('queue writers', () => {
        for (const w of Object.values(writers)) w.close();
      }),
    );

    const stages = buildStages({ config, log, telemetry });
    const sampler = this.buildSampler(writers.logs, stages);
    // The sampler after the stages: it stops after the receivers, and writes what it holds before the writers close.
    parts.push(...stages.components);
    if (sampler) parts.push(sampler);
    const logsNext: Consumer<LogBatch> & Checkpoints = sampler ?? writers.logs;
    const { debug, limits } = config;
    // After the index it reads: it stops first.
    if (debug.endpoint && stages.index) {
      parts.push(new DebugServer({ endpoint: debug.endpoint, token: debug.token, maxConnections: limits.max_connections, index: stages.index, serviceGraph: stages.serviceGraph, log: log.child({ component: 'debug' }) }));
    }
    // Encoded once, for the queue and the trace index alike; neither needs it when both are off.
    const encode = exporting || config.correlation.enabled;
    const logs = new Pipeline<LogBatch>(logsNext, stages.logs.processors, stages.logs.observers, encode ? encodeLogBatch : undefined);
    const consumers = {
      files: new RecordBuilder({ config, log, telemetry }, logs),
      logs,
      traces: new Pipeline<TraceBatch>(writers.traces, stages.traces.processors, stages.traces.observers, encode ? encodeTraceBatch : undefined),
      metrics: writers.metrics,
    };
    this.graphConsumers = consumers;
    this.receivers = buildReceivers({ config, log, telemetry, checkpoints: logsNext, consumers, reserve: (bytes) => memory.reserve(bytes) });
    parts.push(...this.receivers);
  }

  /**
   * The log sampler between the logs pipeline and its queue writer, when `logs.sampling.enabled`.
   * It sees the trace batches too (local roots and errors decide), and the file receiver's
   * checkpoints saved outside batches go through it, so that none passes a held record.
   */
  private buildSampler(writer: QueueWriter<'logs'>, stages: PipelineStages): LogSampler | undefined {
    const s = this.config.logs.sampling;
    if (!s.enabled) return undefined;
    const sampler = new LogSampler(writer, writer, {
      ratio: s.ratio,
      slowThresholdMs: s.slow_threshold,
      decisionWaitMs: s.decision_wait,
      maxHeldBytes: s.max_held_bytes,
      telemetry: this.deps.telemetry,
      log: this.deps.log.child({ component: 'log_sampling' }),
    });
    stages.traces.observers.push(sampler.traces);
    return sampler;
  }

  /** The senders as one part: started together; at stop they send what is queued until the deadline, then stop. */
  private exporters(senders: QueueSender[]): Component {
    return {
      name: 'exporters',
      start: async () => {
        for (const s of senders) await s.start();
      },
      flush: async () => {
        for (const s of senders) await s.flush();
      },
      stop: async () => {
        const remaining = Math.max(0, this.drainUntil - Date.now() - 500);
        await Promise.race([Promise.all(senders.map((s) => s.flush())), sleep(remaining)]);
        await stopInReverse(senders, (err, s) => this.deps.log.error({ err, component: s.name }, 'component failed to stop'));
      },
    };
  }

  /** The queue's bytes and oldest age per signal as gauges; returns what removes them. */
  private registerQueueGauges(store: Store): () => void {
    const { telemetry } = this.deps;
    const bytes = telemetry.gauge(METRICS.exportQueueBytes);
    const age = telemetry.gauge(METRICS.exportQueueOldestAge);
    return telemetry.addCollector(() => {
      const now = Date.now();
      for (const signal of SIGNALS) {
        const s = store.queueStats(signal);
        bytes.labels({ signal }).set(s.bytes);
        age.labels({ signal }).set(s.oldestCreatedAt === null ? 0 : Math.max(0, (now - s.oldestCreatedAt) / 1000));
      }
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** The file exporter's directory, by the config key that sets it, when a signal goes to files (the store checks its own). */
function fileExportDirectories(config: Config): { key: string; path: string }[] {
  if (!config.export.enabled || SIGNALS.every((signal) => config.exportTargets[signal])) return [];
  return [{ key: config.export.file.directory ? 'export.file.directory' : 'storage.directory', path: fileExportDirectory(config) }];
}
