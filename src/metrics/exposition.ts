/**
 * Rendering the registry as Prometheus text 0.0.4 or OpenMetrics 1.0, chosen per request from the
 * scraper's Accept header. prom-client picks one format per registry and renames counters in place
 * when rendering OpenMetrics, so one registry cannot serve both; this renderer reads the metric
 * values and writes either format itself.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type ExpositionFormat = 'openmetrics' | 'text';

export const CONTENT_TYPE: Record<ExpositionFormat, string> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  text: 'text/plain; version=0.0.4; charset=utf-8',
};

/** OpenMetrics when the Accept header prefers it to text/plain, else text 0.0.4. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'text';
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string, format: ExpositionFormat): string {
  const s = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Record<string, string | number | undefined> | undefined): string {
  if (!labels) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (v === undefined) continue;
    parts.push(`${k}="${escapeLabel(typeof v === 'number' ? formatValue(v) : v)}"`);
  }
  return parts.length ? `{${parts.join(',')}}` : '';
}

type Sample = MetricValue<string> & {
  metricName?: string;
  exemplar?: { labelSet: Record<string, string | number>; value: number; timestamp?: number } | null;
};

export function renderMetric(metric: MetricObjectWithValues<MetricValue<string>>, format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const type = String(metric.type);
  const isCounter = type === 'counter';
  const family = om && isCounter ? metric.name.replace(/_total$/, '') : metric.name;
  const lines = [`# HELP ${family} ${escapeHelp(metric.help, format)}`, `# TYPE ${family} ${type}`];
  for (const raw of metric.values as Sample[]) {
    let name = raw.metricName ?? metric.name;
    if (om && isCounter && !name.endsWith('_total')) name = `${name}_total`;
    let line = `${name}${formatLabels(raw.labels)} ${formatValue(raw.value)}`;
    // OpenMetrics allows exemplars on counter samples and histogram buckets only.
    const exemplarAllowed = isCounter || (type === 'histogram' && name.endsWith('_bucket'));
    if (om && exemplarAllowed && raw.exemplar && raw.exemplar.labelSet && Object.keys(raw.exemplar.labelSet).length > 0) {
      const ts = raw.exemplar.timestamp;
      line += ` # ${formatLabels(raw.exemplar.labelSet)} ${formatValue(raw.exemplar.value)}${ts ? ` ${ts}` : ''}`;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

export async function renderRegistry(registry: { getMetricsAsArray(): unknown[] }, format: ExpositionFormat): Promise<string> {
  type Gettable = { get(): Promise<MetricObjectWithValues<MetricValue<string>>> };
  const metrics = await Promise.all((registry.getMetricsAsArray() as unknown as Gettable[]).map((m) => m.get()));
  const body = metrics.map((m) => renderMetric(m, format)).join('\n');
  return format === 'openmetrics' ? `${body}\n# EOF\n` : `${body}\n`;
}
