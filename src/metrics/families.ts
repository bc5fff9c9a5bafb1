/**
 * The budgeted families of one Telemetry registry (span metrics, log metrics, rule metrics) and
 * their self metrics. A family survives a SIGHUP reload when its shape is unchanged (counters keep
 * counting); one whose shape changed is replaced, and one no longer configured is unregistered.
 */
import type { Metric } from 'prom-client';
import type { Telemetry } from './telemetry.js';
import { SeriesFamily, type FamilyOptions } from './series-family.js';
import { METRICS, type MetricSpec } from './catalogue.js';

interface Owned {
  families: Map<string, SeriesFamily>;
  overflow: ReturnType<typeof overflowCounter>;
}

const owned = new WeakMap<Telemetry, Owned>();

function overflowCounter(telemetry: Telemetry) {
  return telemetry.counter(METRICS.seriesOverflow);
}

function state(telemetry: Telemetry): Owned {
  let s = owned.get(telemetry);
  if (s) return s;
  const overflow = overflowCounter(telemetry);
  const series = telemetry.gauge(METRICS.metricSeries);
  const removed = telemetry.counter(METRICS.metricSeriesRemoved);
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
  for (const name of [METRICS.metricSeries.name, METRICS.metricSeriesRemoved.name]) {
    (telemetry.registry.getSingleMetric(name) as { remove(labels: object): void } | undefined)?.remove({ metric: family.name });
  }
}

/** Unregister every budgeted family not named in `keep` (a rule removed from the config). */
export function retainFamilies(telemetry: Telemetry, keep: ReadonlySet<string>): void {
  for (const family of [...state(telemetry).families.values()]) {
    if (!keep.has(family.name)) releaseFamily(telemetry, family);
  }
}

/** The name, help, type and labels of a budgeted family declared in the catalogue. */
export function familyOf(spec: MetricSpec): Pick<FamilyOptions, 'name' | 'help' | 'type' | 'labelNames'> {
  return { name: spec.name, help: spec.help, type: spec.type as FamilyOptions['type'], labelNames: [...spec.labelNames] };
}
