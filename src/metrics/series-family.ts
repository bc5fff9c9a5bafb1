/**
 * A metric family whose label sets come from data (span names, log fields), kept safe by a
 * cardinality budget: at most `maxSeries` label sets; past it updates go to one overflow series
 * labelled `otel_metric_overflow="true"` (the OpenTelemetry SDK's convention), and series not
 * updated for `idleTimeoutMs` are removed so the budget frees up again.
 *
 * prom-client has no series limit, no idle tracking and re-hashes the label object on every call;
 * this family keeps its series in a Map keyed by a string the caller builds once per item, updates
 * plain numbers on the hot path, and exposes prom-client's `get()` shape so it registers in the
 * same registry and renders through the same exposition code as every other metric.
 *
 * Exemplars (OpenMetrics, counters and histogram buckets only) hold a trace id and span id. They are
 * refreshed at most once per `EXEMPLAR_REFRESH_MS` per slot: hex-encoding ids per item would cost
 * more than everything else on the hot path, and a scraper reads one exemplar per slot anyway.
 */
import { idToHex } from '../otlp/values.js';
import { escapeLabel, formatValue, renderHeader, type ExpositionFormat, type SelfRenderingMetric } from './exposition.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram';

export interface FamilyOptions {
  name: string;
  help: string;
  type: FamilyType;
  /** The label names this family may use (documentation and shape comparison on reload). */
  labelNames: readonly string[];
  /** Histogram bucket upper bounds, strictly increasing (+Inf is implied). */
  buckets?: readonly number[];
  exemplars?: boolean;
  maxSeries: number;
  /** Series not updated for this long are removed; null keeps them. */
  idleTimeoutMs: number | null;
}

export const OVERFLOW_LABELS: Readonly<Record<string, string>> = Object.freeze({ otel_metric_overflow: 'true' });
export const EXEMPLAR_REFRESH_MS = 1000;

/** Separator of label values in series keys (a control character that names do not contain). */
export const KEY_SEP = '\u0000';

export class Series {
  value = 0;
  sum = 0;
  count = 0;
  /** Histogram: count per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets: Float64Array | undefined;
  /** Monotonic ms of the last update. */
  updatedAt: number;
  /** Pre-created series (known label combinations) are never removed for idleness. */
  pinned = false;
  exTrace: string[] | undefined;
  exSpan: string[] | undefined;
  exValue: Float64Array | undefined;
  /** Exemplar time, seconds since the epoch. */
  exTime: Float64Array | undefined;
  /** Monotonic ms of the last exemplar refresh per slot. */
  exAt: Float64Array | undefined;
  /** The labels as exposition text (`a="x",b="y"`), built at the first scrape. */
  labelText: string | undefined;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    bucketCount: number,
    exemplars: boolean,
    now: number,
  ) {
    this.updatedAt = now;
    this.buckets = bucketCount > 0 ? new Float64Array(bucketCount + 1) : undefined;
    if (exemplars) {
      const slots = bucketCount > 0 ? bucketCount + 1 : 1;
      this.exTrace = new Array<string>(slots).fill('');
      this.exSpan = new Array<string>(slots).fill('');
      this.exValue = new Float64Array(slots);
      this.exTime = new Float64Array(slots);
      this.exAt = new Float64Array(slots).fill(-Infinity);
    }
  }
}

interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

interface Sample {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: Exemplar;
}

export class SeriesFamily implements SelfRenderingMetric {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labelNames: readonly string[];
  readonly bounds: readonly number[];
  readonly exemplars: boolean;
  /** prom-client's registry reads this when it aggregates across workers. */
  readonly aggregator = 'sum';
  maxSeries: number;
  idleTimeoutMs: number | null;
  /** Updates routed to the overflow series since the last `takeCounts()`. */
  private overflowed = 0;
  /** Series removed for idleness since the last `takeCounts()`. */
  private removed = 0;
  /** Bumped whenever series are removed: callers that cache Series objects drop their cache then. */
  generation = 0;
  private readonly series = new Map<string, Series>();
  private overflowSeries: Series | undefined;
  private lastSweep = -Infinity;
  private readonly boundLabels: string[];

  constructor(options: FamilyOptions) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.labelNames = [...options.labelNames];
    this.bounds = options.type === 'histogram' ? [...(options.buckets ?? [])] : [];
    this.exemplars = options.type !== 'gauge' && options.exemplars === true;
    this.maxSeries = options.maxSeries;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.boundLabels = this.bounds.map(String);
  }

  /** Same name, type, labels, buckets and exemplars: a reload can keep this family and its values. */
  sameShape(o: FamilyOptions): boolean {
    const bounds = o.type === 'histogram' ? (o.buckets ?? []) : [];
    return (
      o.name === this.name &&
      o.help === this.help &&
      o.type === this.type &&
      (o.type !== 'gauge' && o.exemplars === true) === this.exemplars &&
      o.labelNames.length === this.labelNames.length &&
      o.labelNames.every((l, i) => l === this.labelNames[i]) &&
      bounds.length === this.bounds.length &&
      bounds.every((b, i) => b === this.bounds[i])
    );
  }

  get size(): number {
    return this.series.size;
  }

  isOverflow(s: Series): boolean {
    return s === this.overflowSeries;
  }

  /** The series by key, the overflow series not included. */
  entries(): IterableIterator<[string, Series]> {
    return this.series.entries();
  }

  /** The series for `key`, if it exists. */
  find(key: string): Series | undefined {
    return this.series.get(key);
  }

  /**
   * A new series for `key`, or the overflow series when the budget is spent (every update that lands
   * there is counted). `now` is monotonic ms (performance.now()).
   */
  create(key: string, labels: Record<string, string>, now: number): Series {
    if (this.series.size >= this.maxSeries) {
      if (now - this.lastSweep >= 1000) this.sweep(now);
      if (this.series.size >= this.maxSeries) {
        this.overflowed++;
        this.overflowSeries ??= new Series(OVERFLOW_LABELS, this.bounds.length, this.exemplars, now);
        return this.overflowSeries;
      }
    }
    const s = new Series(withoutEmpty(labels), this.bounds.length, this.exemplars, now);
    this.series.set(key, s);
    return s;
  }

  /** A series that exists from start-up at 0 and is never removed for idleness. */
  pin(key: string, labels: Record<string, string>, now: number): Series {
    let s = this.series.get(key);
    if (!s) {
      s = new Series(withoutEmpty(labels), this.bounds.length, this.exemplars, now);
      this.series.set(key, s);
    }
    s.pinned = true;
    return s;
  }

  /** Index of the bucket `v` falls in (the last index is +Inf). */
  bucketIndex(v: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    return i;
  }

  add(s: Series, v: number, now: number): void {
    s.value += v;
    s.updatedAt = now;
  }

  set(s: Series, v: number, now: number): void {
    s.value = v;
    s.updatedAt = now;
  }

  /** Count `v` into its bucket; returns the bucket index (the exemplar slot). */
  observe(s: Series, v: number, now: number): number {
    const i = this.bucketIndex(v);
    s.buckets![i]++;
    s.sum += v;
    s.count++;
    s.updatedAt = now;
    return i;
  }

  /**
   * Record an exemplar in `slot` (0 for counters, the bucket index for histograms) unless that
   * slot was refreshed less than EXEMPLAR_REFRESH_MS ago. `unixSeconds` stamps it.
   */
  exemplar(s: Series, slot: number, value: number, traceId: Uint8Array, spanId: Uint8Array | null | undefined, now: number, unixSeconds: number): void {
    const at = s.exAt;
    if (!at || now - at[slot] < EXEMPLAR_REFRESH_MS) return;
    at[slot] = now;
    s.exTrace![slot] = idToHex(traceId);
    s.exSpan![slot] = spanId && spanId.byteLength > 0 ? idToHex(spanId) : '';
    s.exValue![slot] = value;
    s.exTime![slot] = unixSeconds;
  }

  /** Remove series idle for longer than the timeout. `now` is monotonic ms. */
  sweep(now: number): void {
    this.lastSweep = now;
    const idle = this.idleTimeoutMs;
    if (idle === null) return;
    const cutoff = now - idle;
    const before = this.removed;
    for (const [key, s] of this.series) {
      if (s.updatedAt < cutoff && !s.pinned) {
        this.series.delete(key);
        this.removed++;
      }
    }
    if (this.overflowSeries && this.overflowSeries.updatedAt < cutoff) {
      this.overflowSeries = undefined;
      this.removed++;
    }
    if (this.removed !== before) this.generation++;
  }

  /** Counts since the last call, for the self metrics. */
  takeCounts(): { overflowed: number; removed: number } {
    const out = { overflowed: this.overflowed, removed: this.removed };
    this.overflowed = 0;
    this.removed = 0;
    return out;
  }

  reset(): void {
    this.generation++;
    for (const [key, s] of this.series) if (!s.pinned) this.series.delete(key);
    for (const s of this.series.values()) {
      s.value = s.sum = s.count = 0;
      s.buckets?.fill(0);
      s.exAt?.fill(-Infinity);
      s.exTrace?.fill('');
    }
    this.overflowSeries = undefined;
  }

  /** prom-client's metric protocol: what the registry and the exposition renderer read. */
  async get(): Promise<{ name: string; help: string; type: FamilyType; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.series.values()) this.samples(s, values);
    if (this.overflowSeries) this.samples(this.overflowSeries, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The exposition text, written straight from the series (no sample objects per scrape). */
  renderExposition(format: ExpositionFormat): string {
    const lines = renderHeader(this.name, this.help, this.type, format);
    const om = format === 'openmetrics';
    for (const s of this.series.values()) this.renderSeries(s, om, lines);
    if (this.overflowSeries) this.renderSeries(this.overflowSeries, om, lines);
    return lines.join('\n');
  }

  private renderSeries(s: Series, om: boolean, out: string[]): void {
    s.labelText ??= Object.entries(s.labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    const labels = s.labelText;
    if (this.type !== 'histogram') {
      out.push(`${this.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}${om ? this.exemplarText(s, 0) : ''}`);
      return;
    }
    const prefix = `${this.name}_bucket{${labels ? `${labels},` : ''}le="`;
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += s.buckets![i];
      out.push(`${prefix}${i < this.bounds.length ? this.boundLabels[i] : '+Inf'}"} ${cumulative}${om ? this.exemplarText(s, i) : ''}`);
    }
    const braces = labels ? `{${labels}}` : '';
    out.push(`${this.name}_sum${braces} ${formatValue(s.sum)}`, `${this.name}_count${braces} ${s.count}`);
  }

  private exemplarText(s: Series, slot: number): string {
    if (!s.exTrace || !s.exTrace[slot]) return '';
    const span = s.exSpan![slot] ? `,span_id="${s.exSpan![slot]}"` : '';
    return ` # {trace_id="${s.exTrace[slot]}"${span}} ${formatValue(s.exValue![slot])} ${s.exTime![slot]}`;
  }

  private samples(s: Series, out: Sample[]): void {
    if (this.type !== 'histogram') {
      const sample: Sample = { labels: s.labels, value: s.value };
      const ex = this.exemplarAt(s, 0);
      if (ex) sample.exemplar = ex;
      out.push(sample);
      return;
    }
    const bucketName = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += s.buckets![i];
      const sample: Sample = { metricName: bucketName, labels: { ...s.labels, le: i < this.bounds.length ? this.boundLabels[i] : '+Inf' }, value: cumulative };
      const ex = this.exemplarAt(s, i);
      if (ex) sample.exemplar = ex;
      out.push(sample);
    }
    out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
    out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
  }

  private exemplarAt(s: Series, slot: number): Exemplar | undefined {
    if (!s.exTrace || !s.exTrace[slot]) return undefined;
    const labelSet: Record<string, string> = { trace_id: s.exTrace[slot] };
    if (s.exSpan![slot]) labelSet.span_id = s.exSpan![slot];
    return { labelSet, value: s.exValue![slot], timestamp: s.exTime![slot] };
  }
}

function withoutEmpty(labels: Record<string, string>): Record<string, string> {
  for (const k in labels) {
    if (labels[k] === '') {
      const out: Record<string, string> = {};
      for (const j in labels) if (labels[j] !== '') out[j] = labels[j];
      return out;
    }
  }
  return labels;
}
