/**
 * The budgeted families of one Telemetry registry (span metrics, log metrics, rule metrics) and
 * their self metrics. A family survives a SIGHUP reload when its shape is unchanged (counters keep
 * counting); one whose shape changed is replaced, and one no longer configured is unregistered.
 */
import type { Metric } from 'prom-client';
import type { Telemetry } from './telemetry.js';
import { SeriesFamily, type FamilyOptions } from './series-family.js';

interface Owned {
  families: Map<string, SeriesFamily>;
  overflow: ReturnType<typeof overflowCounter>;
}

const owned = new WeakMap<Telemetry, Owned>();

function overflowCounter(telemetry: Telemetry) {
  return telemetry.counter({
    name: 'tracetail_series_overflow_total',
    help: 'Updates that went to the overflow series (otel_metric_overflow="true") because the metric had max_series_per_metric series.',
    labelNames: ['metric'] as const,
  });
}

function state(telemetry: Telemetry): Owned {
  let s = owned.get(telemetry);
  if (s) return s;
  const overflow = overflowCounter(telemetry);
  const series = telemetry.gauge({
    name: 'tracetail_metric_series',
    help: 'Series (label sets) a budgeted metric has now, the overflow series not included.',
    labelNames: ['metric'] as const,
  });
  const removed = telemetry.counter({
    name: 'tracetail_metric_series_removed_total',
    help: 'Series removed because they were not updated for metrics.series_idle_timeout.',
    labelNames: ['metric'] as const,
  });
  s = { families: new Map(), overflow };
  const families = s.families;
  telemetry.addCollector(() => {
    const now = performance.now();
    for (const f of families.values()) {
      f.sweep(now);
      const counts = f.takeCounts();
      const metric = { metric: f.name };
      overflow.inc(metric, counts.overflowed);
      removed.inc(metric, counts.removed);
      series.set(metric, f.size);
    }
  });
  owned.set(telemetry, s);
  return s;
}

/** The family named `options.name`: the existing one when its shape is the same, else a new one. */
export function acquireFamily(telemetry: Telemetry, options: FamilyOptions): SeriesFamily {
  const { families, overflow } = state(telemetry);
  const existing = families.get(options.name);
  if (existing?.sameShape(options)) {
    existing.maxSeries = options.maxSeries;
    existing.idleTimeoutMs = options.idleTimeoutMs;
    return existing;
  }
  if (existing) {
    releaseFamily(telemetry, existing);
  } else if (telemetry.registry.getSingleMetric(options.name)) {
    throw new Error(`a metric named ${options.name} is already registered`);
  }
  const family = new SeriesFamily(options);
  telemetry.registry.registerMetric(family as unknown as Metric);
  families.set(family.name, family);
  overflow.inc({ metric: family.name }, 0);
  return family;
}

function releaseFamily(telemetry: Telemetry, family: SeriesFamily): void {
  const s = state(telemetry);
  s.families.delete(family.name);
  if (telemetry.registry.getSingleMetric(family.name) === (family as unknown as Metric)) telemetry.registry.removeSingleMetric(family.name);
  s.overflow.remove({ metric: family.name });
  for (const name of ['tracetail_metric_series', 'tracetail_metric_series_removed_total']) {
    (telemetry.registry.getSingleMetric(name) as { remove(labels: object): void } | undefined)?.remove({ metric: family.name });
  }
}

/** Unregister every budgeted family not named in `keep` (a rule removed from the config). */
export function retainFamilies(telemetry: Telemetry, keep: ReadonlySet<string>): void {
  for (const family of [...state(telemetry).families.values()]) {
    if (!keep.has(family.name)) releaseFamily(telemetry, family);
  }
}
