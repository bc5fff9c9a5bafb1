/**
 * The process's one prom-client registry and the helpers components use to register their
 * metrics. Metrics are created once per name and reused: a component rebuilt on SIGHUP reload
 * keeps counting into the same series. Gauges are computed at scrape time by collectors.
 */
import client from 'prom-client';
import { VERSION } from '../version.js';

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
    this.gauge({ name: 'tracetail_build_info', help: 'Build information; the value is always 1.', labelNames: ['version', 'nodejs_version'] })
      .labels({ version: VERSION, nodejs_version: process.version })
      .set(1);
  }

  counter<T extends string>(config: client.CounterConfiguration<T>): client.Counter<T> {
    return (this.registry.getSingleMetric(config.name) as client.Counter<T>) ?? new client.Counter({ ...config, registers: [this.registry] });
  }

  gauge<T extends string>(config: client.GaugeConfiguration<T>): client.Gauge<T> {
    return (this.registry.getSingleMetric(config.name) as client.Gauge<T>) ?? new client.Gauge({ ...config, registers: [this.registry] });
  }

  histogram<T extends string>(config: client.HistogramConfiguration<T>): client.Histogram<T> {
    return (this.registry.getSingleMetric(config.name) as client.Histogram<T>) ?? new client.Histogram({ ...config, registers: [this.registry] });
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
