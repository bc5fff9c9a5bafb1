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

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string, format: ExpositionFormat): string {
  const s = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function formatLabels(labels: Record<string, string | number | undefined> | undefined): string {
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

/** The `# HELP` and `# TYPE` lines; an OpenMetrics counter family is named without `_total`. */
export function renderHeader(name: string, help: string, type: string, format: ExpositionFormat): string[] {
  const family = format === 'openmetrics' && type === 'counter' ? name.replace(/_total$/, '') : name;
  return [`# HELP ${family} ${escapeHelp(help, format)}`, `# TYPE ${family} ${type}`];
}

/** A metric that writes its own exposition (many series: no sample objects per scrape). */
export interface SelfRenderingMetric {
  renderExposition(format: ExpositionFormat): string;
}

export function renderMetric(metric: MetricObjectWithValues<MetricValue<string>>, format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const type = String(metric.type);
  const isCounter = type === 'counter';
  const lines = renderHeader(metric.name, metric.help, type, format);
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
  type Gettable = { get(): Promise<MetricObjectWithValues<MetricValue<string>>> } & Partial<SelfRenderingMetric>;
  const parts = await Promise.all(
    (registry.getMetricsAsArray() as Gettable[]).map(async (m) => (m.renderExposition ? m.renderExposition(format) : renderMetric(await m.get(), format))),
  );
  const body = parts.join('\n');
  return format === 'openmetrics' ? `${body}\n# EOF\n` : `${body}\n`;
}
