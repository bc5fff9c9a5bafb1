/**
 * Per-component self metrics in the shape Vector's instrumentation spec uses: items received,
 * items discarded by reason (with `intentional` saying whether the drop was by design or a
 * failure), and errors by stage. Every label combination a component can produce is created at 0
 * when the component is built, so dashboards and alerts see it before the first event; children
 * are bound once, and the hot path adds per batch.
 */
import type { Counter } from 'prom-client';
import { RateLimitedLog, type Logger } from '../logger.js';
import type { Telemetry } from './telemetry.js';
import { METRICS } from './catalogue.js';

type Child = ReturnType<Counter<string>['labels']>;

export interface ComponentMetricsSpec<R extends string, S extends string> {
  /** Discard reasons, each intentional (by design, e.g. a duplicate) or not (a failure). */
  discarded: Record<R, { intentional: boolean }>;
  /** Stages where errors are counted. */
  errorStages: readonly S[];
}

export class ComponentMetrics<R extends string = string, S extends string = string> {
  readonly received: Child;
  private readonly discardedBy: Record<string, Child> = {};
  private readonly errorsBy: Record<string, Child> = {};

  constructor(telemetry: Telemetry, component: string, spec: ComponentMetricsSpec<R, S>) {
    const received = telemetry.counter(METRICS.componentReceived);
    const discarded = telemetry.counter(METRICS.componentDiscarded);
    const errors = telemetry.counter(METRICS.componentErrors);
    this.received = received.labels({ component });
    this.received.inc(0);
    for (const [reason, { intentional }] of Object.entries(spec.discarded) as [R, { intentional: boolean }][]) {
      const child = discarded.labels({ component, reason, intentional: String(intentional) });
      child.inc(0);
      this.discardedBy[reason] = child;
    }
    for (const stage of spec.errorStages) {
      const child = errors.labels({ component, stage });
      child.inc(0);
      this.errorsBy[stage] = child;
    }
  }

  discarded(reason: R): Child {
    return this.discardedBy[reason];
  }

  errors(stage: S): Child {
    return this.errorsBy[stage];
  }
}

/**
 * An observer that never throws into the pipeline: the batch is already durable when observers
 * run, so a failure here must not turn into an error answer (and a retry) for the sender. It is
 * counted in `tracetail_component_errors_total{stage="processing"}` and logged once per interval.
 */
export abstract class GuardedObserver<B, R extends string = never> {
  protected readonly self: ComponentMetrics<R, 'processing'>;
  private readonly limitedLog: RateLimitedLog;

  constructor(
    readonly name: string,
    telemetry: Telemetry,
    log: Logger,
    discarded: Record<R, { intentional: boolean }>,
  ) {
    this.self = new ComponentMetrics(telemetry, name, { discarded, errorStages: ['processing'] });
    this.limitedLog = new RateLimitedLog(log);
  }

  observe(batch: B): void {
    try {
      this.process(batch);
    } catch (err) {
      this.self.errors('processing').inc();
      this.limitedLog.error(this.name, { err, component: this.name }, 'a metrics stage could not process a batch');
    }
  }

  protected abstract process(batch: B): void;
}
