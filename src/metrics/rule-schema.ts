/**
 * The schema of `metrics.rules`: user-defined log → metric rules, validated whole at boot. Every
 * problem names the rule and the key (`metrics.rules.2.value: ...`), like the rest of the config.
 */
import { z } from 'zod';

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Labels tracetail adds itself; a rule or a span dimension may not use them. */
export const RESERVED_LABELS = new Set(['le', 'otel_metric_overflow', 'job', 'instance']);

/** Name prefixes of tracetail's own metrics and the Node process metrics. */
export const RESERVED_PREFIXES = ['tracetail_', 'traces_span_metrics_', 'traces_spanmetrics_', 'process_', 'nodejs_'];

/** Units a rule's value can be converted from, to Prometheus base units (seconds, bytes, ratios). */
export const VALUE_UNITS: Record<string, { scale: number; base: 'seconds' | 'bytes' | 'ratio' }> = {
  ns: { scale: 1e-9, base: 'seconds' },
  us: { scale: 1e-6, base: 'seconds' },
  µs: { scale: 1e-6, base: 'seconds' },
  ms: { scale: 1e-3, base: 'seconds' },
  s: { scale: 1, base: 'seconds' },
  m: { scale: 60, base: 'seconds' },
  h: { scale: 3600, base: 'seconds' },
  B: { scale: 1, base: 'bytes' },
  KB: { scale: 1e3, base: 'bytes' },
  MB: { scale: 1e6, base: 'bytes' },
  GB: { scale: 1e9, base: 'bytes' },
  KiB: { scale: 1024, base: 'bytes' },
  MiB: { scale: 1024 ** 2, base: 'bytes' },
  GiB: { scale: 1024 ** 3, base: 'bytes' },
  percent: { scale: 0.01, base: 'ratio' },
};

export const DEFAULT_RULE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const regex = z.string().superRefine((text, ctx) => {
  try {
    new RegExp(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const fieldName = z.string().min(1);

const condition = z
  .object({
    field: fieldName,
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    matches: regex.optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const n = [c.equals, c.matches, c.exists].filter((v) => v !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: 'a condition needs exactly one of equals, matches or exists' });
  });

export const metricRuleSchema = z
  .object({
    name: z.string().regex(METRIC_NAME_RE, 'expected a Prometheus metric name (letters, digits, _ and :, not starting with a digit)'),
    type: z.enum(['counter', 'gauge', 'histogram']),
    help: z.string().min(1).optional(),
    /** Named capture groups become fields; a record the regex does not match is skipped. */
    regex: regex.optional(),
    /** The field the regex reads; the record body by default. */
    source: fieldName.default('body'),
    /** Every condition must hold. */
    filter: z.array(condition).default([]),
    /** Label name → field name. */
    labels: z.record(z.string(), fieldName).default({}),
    /** The field holding the number: observed (histogram), set (gauge), added (counter; 1 when absent). */
    value: fieldName.optional(),
    unit: z.string().optional(),
    scale: z.number().positive().optional(),
    buckets: z.array(z.number()).min(1).optional(),
    exemplars: z.boolean().default(true),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const name = rule.name;
    const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
    if (prefix) issue(['name'], `names starting with "${prefix}" are reserved for tracetail's own metrics`);
    if (rule.type === 'counter' && !name.endsWith('_total')) issue(['name'], `a counter's name must end in _total (e.g. "${name}_total")`);
    if (rule.type !== 'counter' && name.endsWith('_total')) issue(['name'], `only counters end in _total; this rule is a ${rule.type}`);
    if (rule.type === 'histogram' && /_(bucket|sum|count)$/.test(name)) issue(['name'], 'a histogram name must not end in _bucket, _sum or _count');
    if (rule.type !== 'counter' && rule.value === undefined) issue(['value'], `a ${rule.type} needs a value: the field that holds the number`);
    if (rule.regex !== undefined && !/\(\?<[a-zA-Z_$][\w$]*>/.test(rule.regex)) {
      issue(['regex'], 'the regex has no named capture group such as (?<status>\\d+); use filter with matches to only select records');
    }
    for (const label of Object.keys(rule.labels)) {
      if (!LABEL_NAME_RE.test(label) || label.startsWith('__')) issue(['labels', label], 'expected a Prometheus label name (letters, digits and _, not starting with a digit or __)');
      else if (RESERVED_LABELS.has(label)) issue(['labels', label], `"${label}" is reserved`);
    }
    if (rule.unit !== undefined) {
      const unit = VALUE_UNITS[rule.unit];
      if (!unit) {
        issue(['unit'], `unknown unit ${JSON.stringify(rule.unit)}; expected one of ${Object.keys(VALUE_UNITS).join(', ')}`);
      } else {
        if (rule.value === undefined) issue(['unit'], 'a unit converts the value field; set value too');
        const base = name.replace(/_total$/, '');
        if (unit.base !== 'ratio' && !base.endsWith(`_${unit.base}`)) {
          issue(['name'], `the value is converted to ${unit.base}, so the name should end in _${unit.base}${rule.type === 'counter' ? '_total' : ''} (Prometheus base units)`);
        }
        if (unit.base === 'ratio' && !base.endsWith('_ratio')) issue(['name'], `a percentage is converted to a ratio, so the name should end in _ratio`);
      }
      if (rule.scale !== undefined) issue(['scale'], 'set either unit or scale, not both');
    }
    if (rule.scale !== undefined && rule.value === undefined) issue(['scale'], 'scale multiplies the value field; set value too');
    if (rule.buckets !== undefined) {
      if (rule.type !== 'histogram') issue(['buckets'], 'only a histogram has buckets');
      for (let i = 1; i < rule.buckets.length; i++) {
        if (!(rule.buckets[i] > rule.buckets[i - 1])) {
          issue(['buckets', i], 'bucket bounds must be strictly increasing');
          break;
        }
      }
    }
  });

export type MetricRule = z.output<typeof metricRuleSchema>;

/** The list of rules: names unique. */
export const metricRulesSchema = z.array(metricRuleSchema).superRefine((rules, ctx) => {
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    const first = seen.get(rule.name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `the name "${rule.name}" is already used by metrics.rules.${first}` });
    else seen.set(rule.name, i);
  });
});

/** A span or resource attribute name as a Prometheus label name (`http.method` → `http_method`). */
export function sanitizeLabelName(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = `key_${s}`;
  if (s.startsWith('__')) s = `key${s}`;
  return s;
}
