/**
 * The Grafana dashboards and provisioning files, linted as grafana/dashboard-linter and Grafana's
 * provisioning would see them. That every query runs and returns data is test/e2e/dashboards.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS, render } from '../../dashboards/generate.mjs';
import { dashboardFiles, metricsOf, panelsOf, targetsOf, type Dashboard } from '../helpers/dashboards.js';
import { ROOT } from '../helpers/cli.js';

const DIR = join(ROOT, 'dashboards');
const dashboards = dashboardFiles();

/** Metric names a dashboard may query: tracetail's (both span metric namings, the service graph), Node process metrics, and `up`. */
const KNOWN_METRICS =
  /^(traces_span_metrics_(calls_total|duration_seconds_bucket)|traces_spanmetrics_(calls_total|latency_bucket)|traces_service_graph_(request_total|request_failed_total|request_(server|client)_seconds_bucket)|tracetail_[a-z0-9_]+|process_(resident_memory_bytes|cpu_seconds_total|start_time_seconds|open_fds|max_fds)|nodejs_(eventloop_lag_p99_seconds|heap_size_used_bytes)|up)$/;

/** Every object under `value` that has a `datasource` key, with where it is. */
function datasourceRefs(value: unknown, path = ''): { path: string; ref: unknown }[] {
  if (!value || typeof value !== 'object') return [];
  const here = 'datasource' in value ? [{ path, ref: (value as { datasource: unknown }).datasource }] : [];
  return [...here, ...Object.entries(value).flatMap(([k, v]) => datasourceRefs(v, `${path}.${k}`))];
}

describe('Grafana dashboards', () => {
  it('are the Service RED (both span metric namings), logs and correlation, and sidecar health dashboards, with unique stable uids', () => {
    expect(Object.fromEntries(dashboards.map(({ file, d }) => [file, d.uid]))).toEqual({
      'tracetail-logs.json': 'tracetail-logs',
      'tracetail-red-tempo.json': 'tracetail-red-tempo',
      'tracetail-red.json': 'tracetail-red',
      'tracetail-sidecar.json': 'tracetail-sidecar',
    });
  });

  it('are the files dashboards/generate.mjs writes (run `npm run dashboards` after changing it)', () => {
    expect(Object.keys(DASHBOARDS).sort()).toEqual(dashboards.map((x) => x.file).sort());
    for (const [file, d] of Object.entries(DASHBOARDS)) expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(render(d));
  });

  describe.each(dashboards)('$file', ({ d }) => {
    const panels = panelsOf(d);
    const targets = targetsOf(d);

    it('is provisionable from a file: id null, uid of at most 40 characters, integer schemaVersion, no __inputs', () => {
      expect(d.id).toBeNull();
      expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(Number.isInteger(d.schemaVersion)).toBe(true);
      expect(d.__inputs).toBeUndefined();
      expect(JSON.stringify(d)).not.toContain('${DS_');
    });

    it('has datasource, job and instance variables, and names no data source but through the variable', () => {
      const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
      expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(vars.job?.type).toBe('query');
      expect(vars.instance?.type).toBe('query');
      for (const p of panels) expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of targets) expect(t.datasource.uid, t.expr).toBe('${datasource}');
      // Anywhere in the file: the variable, or Grafana's own annotations.
      for (const { path, ref } of datasourceRefs(d)) {
        const uid = typeof ref === 'string' ? ref : (ref as { uid?: string }).uid;
        expect(['${datasource}', '-- Grafana --'], path).toContain(uid);
      }
    });

    it('gives every panel a title, a description and a unit, on a 24-column grid without overlaps', () => {
      const cells = new Set<string>();
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
      expect(new Set(panels.map((p) => p.title)).size, 'titles are unique').toBe(panels.length);
      for (const p of panels) {
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.description?.length, p.title).toBeGreaterThan(20);
        expect(p.fieldConfig?.defaults?.unit, p.title).toBeTruthy();
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
      }
    });

    it('filters every query by job and instance, uses $__rate_interval in rates ($__range in instant tables), and queries known metrics', () => {
      let rates = 0;
      for (const t of targets) {
        expect(t.expr).toContain('job=~"$job"');
        expect(t.expr).toContain('instance=~"$instance"');
        for (const m of t.expr.matchAll(/\b(?:rate|increase|irate)\(([^()]|\([^()]*\))*?\[([^\]]+)\]/g)) {
          expect(m[2], t.expr).toBe(t.instant ? '$__range' : '$__rate_interval');
          rates++;
        }
        const metrics = metricsOf(t.expr);
        expect(metrics.length, t.expr).toBeGreaterThan(0);
        for (const name of metrics) expect(name, t.expr).toMatch(KNOWN_METRICS);
      }
      expect(rates).toBeGreaterThan(3);
    });
  });

  it('use the span metric names and service label of their naming: otel for tracetail-red, tempo for tracetail-red-tempo', () => {
    const metrics = (file: string) => new Set(targetsOf(dashboards.find((x) => x.file === file)!.d).flatMap((t) => metricsOf(t.expr)));
    const otel = metrics('tracetail-red.json');
    const tempo = metrics('tracetail-red-tempo.json');
    // The service graph has one set of names (Tempo's and the Collector's are the same).
    const serviceGraph = ['traces_service_graph_request_failed_total', 'traces_service_graph_request_server_seconds_bucket', 'traces_service_graph_request_total'];
    expect([...otel].filter((m) => m.startsWith('traces_')).sort()).toEqual([...serviceGraph, 'traces_span_metrics_calls_total', 'traces_span_metrics_duration_seconds_bucket']);
    expect([...tempo].filter((m) => m.startsWith('traces_')).sort()).toEqual([...serviceGraph, 'traces_spanmetrics_calls_total', 'traces_spanmetrics_latency_bucket']);
    const tempoText = JSON.stringify(dashboards.find((x) => x.file === 'tracetail-red-tempo.json')!.d);
    // Tempo's span metrics label the service `service`; tracetail's own log metrics keep service_name.
    for (const m of tempoText.matchAll(/traces_spanmetrics_\w+\{([^}]*)\}/g)) expect(m[1]).not.toContain('service_name');
  });

  it('show every tracetail_ metric of the README\'s sidecar metrics table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Sidecar metrics'), readme.indexOf('## Benchmarks'));
    const listed = new Set([...table.matchAll(/^\| `(tracetail_[a-z0-9_]+)`/gm)].map((m) => m[1]));
    expect(listed.size).toBeGreaterThan(30);
    const shown = new Set(dashboards.flatMap(({ d }) => targetsOf(d).flatMap((t) => metricsOf(t.expr))).map((m) => m.replace(/_bucket$/, '')));
    expect([...listed].filter((m) => !shown.has(m))).toEqual([]);
  });
});

describe('Grafana provisioning', () => {
  const files = ['dashboards/tracetail.yaml', 'datasources/tracetail.yaml'].map((f) => join(DIR, 'provisioning', f));

  it('uses only the $VAR and ${VAR} forms Grafana expands, never ${VAR:-default}', () => {
    expect(readdirSync(join(DIR, 'provisioning'), { recursive: true }).filter((f) => String(f).endsWith('.yaml')).length).toBe(files.length);
    for (const f of files) {
      const text = readFileSync(f, 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
      expect(text, f).not.toMatch(/\$\{[^}]*:-/);
      expect(text, f).not.toMatch(/\$\{[^}]*:\?/);
    }
  });

  it('loads the dashboards from a file provider', () => {
    const provider = parse(readFileSync(files[0], 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards/tracetail' }) })]);
  });

  it('wires the data sources: Prometheus exemplars to Tempo, Tempo traces to Loki logs, Loki trace_id to Tempo', () => {
    const { apiVersion, datasources } = parse(readFileSync(files[1], 'utf8')) as { apiVersion: number; datasources: { uid: string; type: string; url: string; jsonData?: Record<string, unknown> }[] };
    expect(apiVersion).toBe(1);
    const byType = Object.fromEntries(datasources.map((d) => [d.type, d]));
    expect(Object.keys(byType).sort()).toEqual(['loki', 'prometheus', 'tempo']);
    for (const d of datasources) expect(d.url, d.uid).toMatch(/^https?:\/\/[a-z]+:\d+$/);
    expect(byType.prometheus.jsonData?.exemplarTraceIdDestinations).toEqual([{ name: 'trace_id', datasourceUid: byType.tempo.uid }]);
    expect(byType.tempo.jsonData?.tracesToLogsV2).toMatchObject({ datasourceUid: byType.loki.uid, customQuery: true, query: '{$${__tags}} | trace_id="$${__trace.traceId}"' });
    expect(byType.loki.jsonData?.derivedFields).toEqual([expect.objectContaining({ name: 'trace_id', datasourceUid: byType.tempo.uid, matcherRegex: 'trace_id', url: '$${__value.raw}' })]);
  });
});
