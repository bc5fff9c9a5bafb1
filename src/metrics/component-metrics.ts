/**
 * Per-component self metrics in the shape Vector's instrumentation spec uses: items received,
 * items discarded by reason (with `intentional` saying whether the drop was by design or a
 * failure), and errors by stage. Every label combination a component can produce is created at 0
 * when the component is built, so dashboards and alerts see it before the first event; children
 * are bound once, and the hot path adds per batch.
 */
import type { Counter } from 'prom-client';
import type { Telemetry } from './telemetry.js';

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
    const received = telemetry.counter({
      name: 'tracetail_component_received_items_total',
      help: 'Items (spans, log records) a component took in.',
      labelNames: ['component'] as const,
    });
    const discarded = telemetry.counter({
      name: 'tracetail_component_discarded_items_total',
      help: 'Items a component did not pass on, by reason; intentional="true" when that is by design.',
      labelNames: ['component', 'reason', 'intentional'] as const,
    });
    const errors = telemetry.counter({
      name: 'tracetail_component_errors_total',
      help: 'Errors inside a component, by stage.',
      labelNames: ['component', 'stage'] as const,
    });
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
