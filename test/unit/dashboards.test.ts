import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

interface Target {
  expr: string;
  datasource: { uid: string };
  exemplar?: boolean;
}
interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
}
interface Dashboard {
  id: unknown;
  uid: string;
  title: string;
  schemaVersion: unknown;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
  __inputs?: unknown;
}

const DIR = join(ROOT, 'dashboards');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const dashboards = files.map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard] as const);

/** Metric families a dashboard may query: tracetail's own (SPEC.md §5) and Node process metrics. */
const KNOWN_METRICS = /^(traces_span_metrics_(calls_total|duration_seconds_bucket)|tracetail_[a-z_]+|process_(resident_memory_bytes|cpu_seconds_total)|nodejs_eventloop_lag_p99_seconds)$/;

describe('Grafana dashboards', () => {
  it('ship at least the RED and sidecar dashboards', () => {
    expect(files.sort()).toEqual(expect.arrayContaining(['tracetail-red.json', 'tracetail-sidecar.json']));
  });

  describe.each(dashboards)('%s', (_file, d) => {
    const panels = d.panels.filter((p) => p.type !== 'row');
    const targets = panels.flatMap((p) => p.targets ?? []);

    it('is provisionable from a file: id null, stable uid, integer schemaVersion, no __inputs', () => {
      expect(d.id).toBeNull();
      expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(Number.isInteger(d.schemaVersion)).toBe(true);
      expect(d.__inputs).toBeUndefined();
      expect(JSON.stringify(d)).not.toContain('${DS_');
    });

    it('has datasource, job and instance variables, and every panel and query uses the datasource variable', () => {
      const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
      expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(vars.job?.type).toBe('query');
      expect(vars.instance?.type).toBe('query');
      for (const p of panels) expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of targets) expect(t.datasource.uid, t.expr).toBe('${datasource}');
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
      for (const p of panels) {
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.description?.length, p.title).toBeGreaterThan(10);
        expect(p.fieldConfig?.defaults?.unit, p.title).toBeTruthy();
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
      }
    });

    it('filters every query by job and instance, uses $__rate_interval in rates, and queries known metrics', () => {
      let rates = 0;
      for (const { expr } of targets) {
        expect(expr).toContain('job=~"$job"');
        expect(expr).toContain('instance=~"$instance"');
        for (const m of expr.matchAll(/\b(?:rate|increase|irate)\(([^()]|\([^()]*\))*?\[([^\]]+)\]/g)) {
          expect(m[2], expr).toBe('$__rate_interval');
          rates++;
        }
        const metrics = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]);
        expect(metrics.length, expr).toBeGreaterThan(0);
        for (const name of metrics) expect(name, expr).toMatch(KNOWN_METRICS);
      }
      expect(rates).toBeGreaterThan(3);
    });
  });

  it('has provisioning files Grafana can load', () => {
    const provider = parse(readFileSync(join(DIR, 'provisioning/dashboards/tracetail.yaml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file' });
    expect(provider.providers[0].options.path).toBeTruthy();
    const ds = parse(readFileSync(join(DIR, 'provisioning/datasources/tracetail.yaml'), 'utf8')) as {
      datasources: { uid: string; type: string; jsonData?: Record<string, unknown> }[];
    };
    const prom = ds.datasources.find((d) => d.type === 'prometheus');
    expect(prom?.jsonData?.exemplarTraceIdDestinations).toEqual([{ name: 'trace_id', datasourceUid: 'tempo' }]);
    expect(ds.datasources.map((d) => d.uid)).toEqual(expect.arrayContaining(['prometheus', 'tempo', 'loki']));
  });
});
