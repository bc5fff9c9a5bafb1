/**
 * The process's one prom-client registry and the helpers components use to register their
 * metrics. Metrics are created once per name and reused: a component rebuilt on SIGHUP reload
 * keeps counting into the same series. Gauges are computed at scrape time by collectors.
 */
import client from 'prom-client';
import { VERSION } from '../version.js';
import { METRICS, type MetricSpec } from './catalogue.js';

export type Labels<T extends string> = Partial<Record<T, string | number>>;

export class Telemetry {
  // OpenMetrics mode lets prom-client metrics enable exemplars; the exposition renders either format per request.
  readonly registry = new client.Registry<client.OpenMetricsContentType>();
  private readonly collectors = new Set<() => void | Promise<void>>();

  constructor(options: { processMetrics?: boolean } = {}) {
    this.registry.setContentType(client.openMetricsContentType);
    if (options.processMetrics !== false) {
      client.collectDefaultMetrics({ register: this.registry });
      // These three are gauges with a `_total` suffix, which `promtool check metrics` rejects;
      // the per-type gauges (nodejs_active_handles{type} ...) carry the same information.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
    }
    this.gauge(METRICS.buildInfo)
      .labels({ version: VERSION, nodejs_version: process.version })
      .set(1);
  }

  counter<T extends string>(spec: MetricSpec<T>): client.Counter<T> {
    return (this.registry.getSingleMetric(spec.name) as client.Counter<T>) ?? new client.Counter({ ...configOf(spec), registers: [this.registry] });
  }

  gauge<T extends string>(spec: MetricSpec<T>): client.Gauge<T> {
    return (this.registry.getSingleMetric(spec.name) as client.Gauge<T>) ?? new client.Gauge({ ...configOf(spec), registers: [this.registry] });
  }

  histogram<T extends string>(spec: MetricSpec<T>): client.Histogram<T> {
    return (
      (this.registry.getSingleMetric(spec.name) as client.Histogram<T>) ??
      new client.Histogram({ ...configOf(spec), buckets: spec.buckets ? [...spec.buckets] : undefined, registers: [this.registry] })
    );
  }

  /** Run `fn` before every scrape (to set gauges); returns the function that removes it. */
  addCollector(fn: () => void | Promise<void>): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  async collect(): Promise<void> {
    for (const fn of this.collectors) await fn();
  }
}

function configOf<T extends string>(spec: MetricSpec<T>): { name: string; help: string; labelNames: T[] } {
  return { name: spec.name, help: spec.help, labelNames: [...spec.labelNames] };
}

/** Children of `metric` with `fixed` labels and `label` at each of `values`, each created at 0 (so that every known series exists from start-up). */
export function childrenAtZero<T extends string, V extends string>(
  metric: client.Counter<T>,
  fixed: Partial<Record<NoInfer<T>, string>>,
  label: NoInfer<T>,
  values: readonly V[],
): Record<V, client.Counter.Internal> {
  const out = {} as Record<V, client.Counter.Internal>;
  for (const v of values) {
    out[v] = metric.labels({ ...fixed, [label]: v } as Partial<Record<T, string>>);
    out[v].inc(0);
  }
  return out;
}
