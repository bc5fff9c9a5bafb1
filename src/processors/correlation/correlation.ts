/**
 * Correlation as a component of the graph: the trace index, the stages that feed it (observers
 * after the batch is durable, so that a retried batch is not counted twice) and the processor
 * that gives file logs their span resource, with the index's metrics.
 */
import { BaseComponent } from '../../component.js';
import type { Config } from '../../config/load.js';
import type { Logger } from '../../logger.js';
import { childrenAtZero, type Telemetry } from '../../metrics/telemetry.js';
import type { Gauge } from 'prom-client';
import { GuardedObserver } from '../../metrics/component-metrics.js';
import { countItems } from '../../otlp/codec.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import type { Observer, Processor } from '../../pipeline/pipeline.js';
import { ResourceInheritance } from './resource-inheritance.js';
import { TraceIndex, type CorrelationResult, type EvictionReason } from './trace-index.js';
import { METRICS } from '../../metrics/catalogue.js';

const RESULTS: readonly CorrelationResult[] = ['matched', 'unmatched', 'no_context'];
const EVICTIONS: readonly EvictionReason[] = ['expired', 'memory', 'shutdown'];
const SWEEP_INTERVAL_MS = 1000;

export interface CorrelationOptions {
  config: Config;
  log: Logger;
  telemetry: Telemetry;
  /** The index clock (tests). */
  now?: () => number;
}

/**
 * Feeds the index after a batch is durable; never throws into the pipeline (GuardedObserver).
 * Items over the per-trace limits are counted as discarded (by design: the trace keeps the rest).
 */
class IndexObserver<B> extends GuardedObserver<B, 'over_trace_limit'> {
  constructor(
    name: string,
    telemetry: Telemetry,
    log: Logger,
    private readonly add: (batch: B) => number,
    private readonly count: (batch: B) => number,
  ) {
    super(name, telemetry, log, { over_trace_limit: { intentional: true } });
  }

  protected process(batch: B): void {
    this.self.received.inc(this.count(batch));
    const dropped = this.add(batch);
    if (dropped > 0) this.self.discarded('over_trace_limit').inc(dropped);
  }
}

export class Correlation extends BaseComponent {
  readonly index: TraceIndex;
  readonly logProcessors: Processor<LogBatch>[];
  readonly logObserver: Observer<LogBatch>;
  readonly traceObserver: Observer<TraceBatch>;
  private timer?: NodeJS.Timeout;
  private removeCollector?: () => void;
  private readonly gauges: { traces: Gauge; bytes: Gauge };
  private readonly telemetry: Telemetry;

  constructor(options: CorrelationOptions) {
    super('correlation');
    const { config, telemetry } = options;
    const resultChildren = childrenAtZero(telemetry.counter(METRICS.correlationLogRecords), {}, 'result', RESULTS);
    const evictionChildren = childrenAtZero(telemetry.counter(METRICS.correlationTracesEvicted), {}, 'reason', EVICTIONS);
    const enriched = telemetry.counter(METRICS.correlationResourceInherited);
    enriched.inc(0);

    this.index = new TraceIndex({
      windowMs: config.correlation.window,
      maxBytes: config.correlation.max_bytes,
      now: options.now,
      onResults: (r) => {
        for (const k of RESULTS) if (r[k] > 0) resultChildren[k].inc(r[k]);
      },
      onEvicted: (reason, n) => evictionChildren[reason].inc(n),
    });

    this.gauges = {
      traces: telemetry.gauge(METRICS.correlationIndexTraces),
      bytes: telemetry.gauge(METRICS.correlationIndexBytes),
    };
    this.telemetry = telemetry;

    const index = this.index;
    this.logProcessors = config.correlation.inherit_resource
      ? [new ResourceInheritance(index, { telemetry, log: options.log, onEnriched: (n) => enriched.inc(n) })]
      : [];
    this.logObserver = new IndexObserver<LogBatch>('correlation_logs', telemetry, options.log, (b) => index.addLogs(b), (b) => countItems('logs', b));
    this.traceObserver = new IndexObserver<TraceBatch>('correlation_spans', telemetry, options.log, (b) => index.addSpans(b), (b) => countItems('traces', b));
  }

  protected async doStart(): Promise<void> {
    this.removeCollector = this.telemetry.addCollector(() => {
      this.gauges.traces.set(this.index.size);
      this.gauges.bytes.set(this.index.bytes);
    });
    this.timer = setInterval(() => this.index.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  protected async doStop(): Promise<void> {
    clearInterval(this.timer);
    this.index.clear();
    this.removeCollector?.();
  }
}
