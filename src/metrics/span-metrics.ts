/**
 * RED metrics from spans (the README's Metrics): a calls counter and a duration histogram in seconds per
 * service, span name, kind and status code (plus configured dimensions), with `trace_id`/`span_id`
 * exemplars on both. Names follow the Collector's spanmetrics connector (`naming: otel`) or
 * Grafana Tempo's metrics-generator (`naming: tempo`).
 *
 * It observes trace batches after they are durable, so a request that was refused is never
 * counted; a request that was accepted and retried anyway is recognised by its span ids.
 */
import type { Logger } from '../logger.js';
import type { KeyValue, Long, Span } from '../otlp/types.js';
import { anyValueToString, findAttribute } from '../otlp/values.js';
import type { TraceBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { GuardedObserver } from './component-metrics.js';
import { acquireFamily } from './families.js';
import { sanitizeLabelName } from './rule-schema.js';
import { KEY_SEP, type Series, type SeriesFamily } from './series-family.js';
import { SpanDedupe } from './span-dedupe.js';
import { childrenAtZero, type Telemetry } from './telemetry.js';
import { METRICS } from './catalogue.js';

export type SpanMetricsNaming = 'otel' | 'tempo';

export const SPAN_METRIC_NAMES: Record<SpanMetricsNaming, { calls: string; duration: string; service: string }> = {
  otel: { calls: 'traces_span_metrics_calls_total', duration: 'traces_span_metrics_duration_seconds', service: 'service_name' },
  tempo: { calls: 'traces_spanmetrics_calls_total', duration: 'traces_spanmetrics_latency', service: 'service' },
};

export const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
export const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

export interface SpanMetricsOptions {
  naming: SpanMetricsNaming;
  buckets: readonly number[];
  /** Span or resource attribute names turned into labels. */
  dimensions: readonly string[];
  maxSeries: number;
  idleTimeoutMs: number | null;
  dedupeWindowMs: number;
  /** 0 disables deduplication. */
  dedupeMaxSpans: number;
  /** `service.name` for spans whose resource carries none. */
  defaultServiceName: string;
  telemetry: Telemetry;
  log: Logger;
}

interface SeriesPair {
  c: Series;
  h: Series;
}

export class SpanMetrics extends GuardedObserver<TraceBatch, 'duplicate'> implements Observer<TraceBatch> {
  readonly calls: SeriesFamily;
  readonly duration: SeriesFamily;
  private readonly serviceLabel: string;
  private readonly dimensionLabels: string[];
  private readonly dedupe: SpanDedupe | undefined;
  private readonly evictions;
  private readonly cache = new Map<string, Map<string, (SeriesPair | undefined)[]>>();
  private readonly cacheGeneration = [-1, -1];
  private reportedExpired = 0;
  private reportedEvicted = 0;

  constructor(private readonly o: SpanMetricsOptions) {
    super('span_metrics', o.telemetry, o.log, { duplicate: { intentional: true } });
    const names = SPAN_METRIC_NAMES[o.naming];
    this.serviceLabel = names.service;
    this.dimensionLabels = o.dimensions.map(sanitizeLabelName);
    const labelNames = [names.service, 'span_name', 'span_kind', 'status_code', ...this.dimensionLabels];
    const common = { labelNames, exemplars: true, maxSeries: o.maxSeries, idleTimeoutMs: o.idleTimeoutMs };
    this.calls = acquireFamily(o.telemetry, { ...common, name: names.calls, type: 'counter', help: 'Spans counted by service, span name, kind and status code.' });
    this.duration = acquireFamily(o.telemetry, {
      ...common,
      name: names.duration,
      type: 'histogram',
      buckets: o.buckets,
      help: 'Span durations in seconds by service, span name, kind and status code.',
    });
    this.dedupe = o.dedupeMaxSpans > 0 ? new SpanDedupe(o.dedupeWindowMs, o.dedupeMaxSpans) : undefined;
    this.evictions = childrenAtZero(o.telemetry.counter(METRICS.spanDedupeEvictions), {}, 'reason', ['expired', 'capacity'] as const);
  }

  /** The names of the families this observer owns (kept across a reload). */
  get familyNames(): string[] {
    return [this.calls.name, this.duration.name];
  }

  protected process(batch: TraceBatch): void {
    const now = performance.now();
    const unix = Date.now() / 1000;
    const { calls, duration, dedupe } = this;
    dedupe?.expire(now);
    let received = 0;
    let duplicates = 0;
    for (const rs of batch.resourceSpans) {
      const resource = rs.resource?.attributes;
      const service = anyValueToString(findAttribute(resource, 'service.name')) || this.o.defaultServiceName;
      const resourceDims = this.o.dimensions.map((d) => anyValueToString(findAttribute(resource, d)));
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          received++;
          if (dedupe && span.spanId?.byteLength && span.traceId?.byteLength && !dedupe.firstSighting(span.traceId, span.spanId, now)) {
            duplicates++;
            continue;
          }
          const kind = span.kind ?? 0;
          const code = span.status?.code ?? 0;
          const seconds = spanSeconds(span);
          const pair = this.series(service, span, kind, code, resourceDims, now);
          const c = pair.c;
          const h = pair.h;
          calls.add(c, 1, now);
          const slot = duration.observe(h, seconds, now);
          if (span.traceId?.byteLength === 16) {
            calls.exemplar(c, 0, 1, span.traceId, span.spanId, now, unix);
            duration.exemplar(h, slot, seconds, span.traceId, span.spanId, now, unix);
          }
        }
      }
    }
    this.self.received.inc(received);
    if (duplicates > 0) this.self.discarded('duplicate').inc(duplicates);
    if (dedupe) {
      this.evictions.expired.inc(dedupe.expired - this.reportedExpired);
      this.evictions.capacity.inc(dedupe.evicted - this.reportedEvicted);
      this.reportedExpired = dedupe.expired;
      this.reportedEvicted = dedupe.evicted;
    }
  }

  /**
   * The calls and duration series of a span. Without dimensions the pair is cached by service, name,
   * kind and status (no key string to build and hash per span); the cache holds live, non-overflow
   * series only and is dropped whenever a family removes series, so it never outgrows the budget.
   */
  private series(service: string, span: Span, kind: number, code: number, resourceDims: string[], now: number): SeriesPair {
    const { calls, duration } = this;
    const slot = kind < 6 && code < 3 && this.dimensionLabels.length === 0 ? kind * 3 + code : -1;
    let byName: Map<string, (SeriesPair | undefined)[]> | undefined;
    if (slot >= 0) {
      if (calls.generation !== this.cacheGeneration[0] || duration.generation !== this.cacheGeneration[1]) this.dropCache();
      byName = this.cache.get(service);
      const hit = byName?.get(span.name)?.[slot];
      if (hit) return hit;
    }
    let key = service + KEY_SEP + span.name + KEY_SEP + kind + KEY_SEP + code;
    let dims: string[] | undefined;
    if (this.dimensionLabels.length > 0) {
      dims = this.dimensionValues(span.attributes, resourceDims);
      for (const d of dims) key += KEY_SEP + d;
    }
    let c = calls.find(key);
    let h = duration.find(key);
    if (!c || !h) {
      const labels = this.labels(service, span, kind, code, dims);
      c ??= calls.create(key, labels, now);
      h ??= duration.create(key, labels, now);
    }
    const pair = { c, h };
    if (slot >= 0 && !calls.isOverflow(c) && !duration.isOverflow(h)) {
      if (calls.generation !== this.cacheGeneration[0] || duration.generation !== this.cacheGeneration[1]) this.dropCache();
      if (!byName) this.cache.set(service, (byName = new Map()));
      let slots = byName.get(span.name);
      if (!slots) byName.set(span.name, (slots = new Array<SeriesPair | undefined>(18)));
      slots[slot] = pair;
    }
    return pair;
  }

  private dropCache(): void {
    this.cache.clear();
    this.cacheGeneration[0] = this.calls.generation;
    this.cacheGeneration[1] = this.duration.generation;
  }

  private dimensionValues(attributes: KeyValue[] | undefined, resourceDims: string[]): string[] {
    const out = new Array<string>(resourceDims.length);
    for (let i = 0; i < resourceDims.length; i++) {
      const v = findAttribute(attributes, this.o.dimensions[i]);
      out[i] = v ? anyValueToString(v) : resourceDims[i];
    }
    return out;
  }

  private labels(service: string, span: Span, kind: number, code: number, dims: string[] | undefined): Record<string, string> {
    const labels: Record<string, string> = {
      [this.serviceLabel]: service,
      span_name: span.name,
      span_kind: SPAN_KINDS[kind] ?? `SPAN_KIND_${kind}`,
      status_code: STATUS_CODES[code] ?? `STATUS_CODE_${code}`,
    };
    if (dims) for (let i = 0; i < dims.length; i++) labels[this.dimensionLabels[i]] = dims[i];
    return labels;
  }
}

/** The span's duration in seconds; 0 when the end is before the start (clock trouble in the app). */
export function spanSeconds(span: Pick<Span, 'startTimeUnixNano' | 'endTimeUnixNano'>): number {
  const ns = nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano);
  return ns > 0 ? ns / 1e9 : 0;
}

/** end - start in nanoseconds as a number (exact for spans shorter than 104 days). */
function nanosBetween(start: Long | number | string | null | undefined, end: Long | number | string | null | undefined): number {
  if (start === null || start === undefined || end === null || end === undefined) return 0;
  if (typeof start === 'object' && typeof end === 'object') {
    return (end.high - start.high) * 4294967296 + ((end.low >>> 0) - (start.low >>> 0));
  }
  return Number(BigInt(String(end)) - BigInt(String(start)));
}
