/**
 * User-defined log → metric rules (`metrics.rules`), enough to replace a typical mtail or
 * grok_exporter program: a counter, gauge or histogram per rule, fed from a field of the record
 * (JSON and logfmt fields are record attributes; the message is the body) or a named capture of a
 * regex, selected by a filter, labelled from fields (within the cardinality budget), valued from a
 * numeric field with a unit conversion, with exemplars from the record's trace context.
 *
 * Everything is compiled once per configuration: regexes, field getters, filters. Per record a rule
 * costs its filter checks and, when it matches, one series lookup.
 */
import type { Logger } from '../logger.js';
import type { AnyValue, KeyValue, LogRecord, Long as LongValue } from '../otlp/types.js';
import { anyValueKind, anyValueToString, asLong, findAttribute, idToHex } from '../otlp/values.js';
import type { LogBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { GuardedObserver } from './component-metrics.js';
import { acquireFamily } from './families.js';
import { hasTraceContext, severityOf } from '../otlp/severity.js';
import { DEFAULT_RULE_BUCKETS, VALUE_UNITS, type MetricRule } from './rule-schema.js';
import { KEY_SEP, type SeriesFamily } from './series-family.js';
import type { Telemetry } from './telemetry.js';
import { METRICS } from './catalogue.js';

/** What a field resolves to: an attribute value, or text (a capture, the body, a severity). */
type FieldValue = AnyValue | string | undefined;
type Captures = Record<string, string | undefined> | undefined;
type Getter = (view: RecordView, captures: Captures) => FieldValue;

/** The record being evaluated, with the body text computed once for all rules. */
export class RecordView {
  record!: LogRecord;
  resource: KeyValue[] | undefined;
  private bodyText: string | undefined;

  reset(record: LogRecord, resource: KeyValue[] | undefined): void {
    this.record = record;
    this.resource = resource;
    this.bodyText = undefined;
  }

  body(): string | undefined {
    if (this.bodyText === undefined && this.record.body) this.bodyText = anyValueToString(this.record.body);
    return this.bodyText;
  }
}

export const RESULTS = ['recorded', 'value_missing', 'value_not_numeric', 'value_negative'] as const;
type ResultIndex = 0 | 1 | 2 | 3;
const RECORDED = 0;
const VALUE_MISSING = 1;
const VALUE_NOT_NUMERIC = 2;
const VALUE_NEGATIVE = 3;

/** An attribute by exact key, else by a dotted path into nested maps (`http.request.method`). */
function attributePath(attributes: KeyValue[] | undefined, name: string, path: string[]): AnyValue | undefined {
  const exact = findAttribute(attributes, name);
  if (exact || path.length < 2) return exact;
  let v = findAttribute(attributes, path[0]);
  for (let i = 1; v && i < path.length; i++) v = anyValueKind(v) === 'kvlistValue' ? findAttribute(v.kvlistValue!.values, path[i]) : undefined;
  return v;
}

/** A getter for `name`: a regex capture, a special name, a resource attribute, or a record attribute. */
export function compileField(name: string, captureNames: ReadonlySet<string>): Getter {
  if (captureNames.has(name)) return (_v, caps) => caps?.[name];
  switch (name) {
    case 'body':
      return (v) => v.body();
    case 'severity':
      return (v) => v.record.severityText || severityOf(v.record);
    case 'severity_number':
      return (v) => (v.record.severityNumber ? String(v.record.severityNumber) : undefined);
    case 'trace_id':
      return (v) => (hasTraceContext(v.record) ? idToHex(v.record.traceId) : undefined);
    case 'span_id':
      return (v) => (v.record.spanId?.byteLength ? idToHex(v.record.spanId) : undefined);
  }
  if (name.startsWith('resource.')) {
    const key = name.slice('resource.'.length);
    const path = key.split('.');
    return (v) => attributePath(v.resource, key, path);
  }
  const path = name.split('.');
  // The file tailer moves `msg`/`message` into the body and `level` into the severity.
  if (name === 'msg' || name === 'message') return (v) => attributePath(v.record.attributes, name, path) ?? v.body();
  if (name === 'level') return (v) => attributePath(v.record.attributes, name, path) ?? (v.record.severityText || undefined);
  return (v) => attributePath(v.record.attributes, name, path);
}

export function fieldText(v: FieldValue): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  switch (anyValueKind(v)) {
    case 'stringValue':
      return v.stringValue!;
    case 'intValue':
      return longText(v.intValue!);
    case 'doubleValue':
      return String(v.doubleValue);
    case undefined:
      return undefined;
    default:
      return anyValueToString(v);
  }
}

/** An int64 as decimal text; int32-sized values (status codes, counts) without a Long round trip. */
function longText(l: LongValue | number): string {
  if (typeof l === 'number') return String(l);
  if ((l.high === 0 && l.low >= 0) || (l.high === -1 && l.low < 0)) return String(l.low);
  return asLong(l).toString();
}

const NUMBER_RE = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** A number from an int, a double, or text that is a decimal number; NaN otherwise. */
export function fieldNumber(v: FieldValue): number {
  if (typeof v === 'string') return NUMBER_RE.test(v) ? Number(v) : NaN;
  switch (anyValueKind(v)) {
    case 'intValue':
      return asLong(v!.intValue!).toNumber();
    case 'doubleValue':
      return v!.doubleValue!;
    case 'stringValue':
      return NUMBER_RE.test(v!.stringValue!) ? Number(v!.stringValue) : NaN;
    default:
      return NaN;
  }
}

function compileCondition(c: MetricRule['filter'][number], captureNames: ReadonlySet<string>): (v: RecordView, caps: Captures) => boolean {
  const get = compileField(c.field, captureNames);
  if (c.exists !== undefined) {
    const want = c.exists;
    return (v, caps) => (get(v, caps) !== undefined) === want;
  }
  if (c.matches !== undefined) {
    const re = new RegExp(c.matches);
    return (v, caps) => {
      const t = fieldText(get(v, caps));
      return t !== undefined && re.test(t);
    };
  }
  const want = String(c.equals);
  return (v, caps) => fieldText(get(v, caps)) === want;
}

function captureGroupNames(regex: string): Set<string> {
  return new Set([...regex.matchAll(/\(\?<([a-zA-Z_$][\w$]*)>/g)].map((m) => m[1]));
}

export class CompiledRule {
  readonly family: SeriesFamily;
  private readonly regex: RegExp | undefined;
  private readonly source: Getter;
  private readonly filters: ((v: RecordView, caps: Captures) => boolean)[];
  private readonly labelNames: string[];
  private readonly labelGetters: Getter[];
  private readonly value: Getter | undefined;
  private readonly scale: number;
  /** Records per result (indexed like RESULTS) since the last batch was reported. */
  readonly counts = new Array<number>(RESULTS.length).fill(0);

  constructor(
    readonly rule: MetricRule,
    telemetry: Telemetry,
    budget: { maxSeries: number; idleTimeoutMs: number | null },
  ) {
    const captures = rule.regex ? captureGroupNames(rule.regex) : new Set<string>();
    this.regex = rule.regex ? new RegExp(rule.regex) : undefined;
    this.source = compileField(rule.source, new Set());
    this.filters = rule.filter.map((c) => compileCondition(c, captures));
    this.labelNames = Object.keys(rule.labels);
    this.labelGetters = this.labelNames.map((l) => compileField(rule.labels[l], captures));
    this.value = rule.value === undefined ? undefined : compileField(rule.value, captures);
    this.scale = rule.scale ?? (rule.unit ? VALUE_UNITS[rule.unit].scale : 1);
    this.family = acquireFamily(telemetry, {
      name: rule.name,
      help: rule.help ?? `From log records by the metrics rule ${rule.name}.`,
      type: rule.type,
      labelNames: this.labelNames,
      buckets: rule.type === 'histogram' ? (rule.buckets ?? DEFAULT_RULE_BUCKETS) : undefined,
      exemplars: rule.exemplars,
      maxSeries: budget.maxSeries,
      idleTimeoutMs: budget.idleTimeoutMs,
    });
  }

  /** Evaluate one record; undefined when the rule does not select it. */
  apply(view: RecordView, now: number, unix: number): ResultIndex | undefined {
    let caps: Captures;
    if (this.regex) {
      const text = fieldText(this.source(view, undefined));
      if (text === undefined) return undefined;
      const m = this.regex.exec(text);
      if (!m) return undefined;
      caps = m.groups;
    }
    for (const f of this.filters) if (!f(view, caps)) return undefined;
    let n = 1;
    if (this.value) {
      const raw = this.value(view, caps);
      if (raw === undefined) return VALUE_MISSING;
      n = fieldNumber(raw);
      if (!Number.isFinite(n)) return VALUE_NOT_NUMERIC;
      n *= this.scale;
      if (n < 0 && this.rule.type === 'counter') return VALUE_NEGATIVE;
    }
    const family = this.family;
    let key = '';
    const values = new Array<string>(this.labelGetters.length);
    for (let i = 0; i < values.length; i++) {
      values[i] = fieldText(this.labelGetters[i](view, caps)) ?? '';
      key += values[i] + KEY_SEP;
    }
    let s = family.find(key);
    if (!s) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < values.length; i++) labels[this.labelNames[i]] = values[i];
      s = family.create(key, labels, now);
    }
    const traced = family.exemplars && hasTraceContext(view.record);
    switch (this.rule.type) {
      case 'counter':
        family.add(s, n, now);
        if (traced) family.exemplar(s, 0, n, view.record.traceId!, view.record.spanId, now, unix);
        break;
      case 'gauge':
        family.set(s, n, now);
        break;
      case 'histogram': {
        const slot = family.observe(s, n, now);
        if (traced) family.exemplar(s, slot, n, view.record.traceId!, view.record.spanId, now, unix);
        break;
      }
    }
    return RECORDED;
  }
}

/** The rules whose self metrics exist in a registry. */
const ruleNamesOf = new WeakMap<Telemetry, ReadonlySet<string>>();

export interface RuleMetricsOptions {
  rules: readonly MetricRule[];
  maxSeries: number;
  idleTimeoutMs: number | null;
  telemetry: Telemetry;
  log: Logger;
}

export class RuleMetrics extends GuardedObserver<LogBatch> implements Observer<LogBatch> {
  readonly rules: CompiledRule[];
  private readonly view = new RecordView();
  private readonly results: ReturnType<ReturnType<Telemetry['counter']>['labels']>[][];

  constructor(o: RuleMetricsOptions) {
    super('metric_rules', o.telemetry, o.log, {});
    this.rules = o.rules.map((rule) => new CompiledRule(rule, o.telemetry, o));
    const records = o.telemetry.counter(METRICS.metricRuleRecords);
    // Rules removed by a reload take their self-metric series with them.
    const names = new Set(this.rules.map((r) => r.rule.name));
    for (const name of ruleNamesOf.get(o.telemetry) ?? []) {
      if (!names.has(name)) for (const result of RESULTS) records.remove({ rule: name, result });
    }
    ruleNamesOf.set(o.telemetry, names);
    this.results = this.rules.map((r) => {
      const children = RESULTS.map((result) => records.labels({ rule: r.rule.name, result }));
      for (const c of children) c.inc(0);
      return children;
    });
  }

  override observe(batch: LogBatch): void {
    if (this.rules.length > 0) super.observe(batch);
  }

  protected process(batch: LogBatch): void {
    const now = performance.now();
    const unix = Date.now() / 1000;
    const { view, rules } = this;
    let received = 0;
    for (const rl of batch.resourceLogs) {
      const resource = rl.resource?.attributes;
      for (const sl of rl.scopeLogs) {
        for (const record of sl.logRecords) {
          received++;
          view.reset(record, resource);
          for (const rule of rules) {
            const result = rule.apply(view, now, unix);
            if (result !== undefined) rule.counts[result]++;
          }
        }
      }
    }
    this.self.received.inc(received);
    rules.forEach((rule, i) => {
      for (let r = 0; r < RESULTS.length; r++) {
        if (rule.counts[r] > 0) {
          this.results[i][r].inc(rule.counts[r]);
          rule.counts[r] = 0;
        }
      }
    });
  }
}
