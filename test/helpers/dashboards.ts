/** The Grafana dashboards of dashboards/ as the tests read them, and their queries as Grafana sends them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface Target {
  refId: string;
  expr: string;
  datasource: { uid: string };
  instant?: boolean;
  exemplar?: boolean;
}
export interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  id: unknown;
  uid: string;
  title: string;
  schemaVersion: unknown;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
  __inputs?: unknown;
}

export function dashboardFiles(): { file: string; d: Dashboard }[] {
  const dir = join(ROOT, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, d: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard }));
}

/** The panels that query (rows and the panels collapsed into them included, rows themselves not). */
export const panelsOf = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

export const targetsOf = (d: Dashboard): Target[] => panelsOf(d).flatMap((p) => p.targets ?? []);

/** The metric names an expression selects (every query here names its metrics with a selector). */
export const metricsOf = (expr: string): string[] => [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]);

/** The query text of a variable of type query. */
export function variableQuery(v: { query: unknown }): string {
  return typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
}

/** The expression with `$var`, `${var}` and `[[var]]` replaced; throws on a variable it does not know. */
export function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (_m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (!(name in vars)) throw new Error(`unknown dashboard variable $${name} in ${expr}`);
    return vars[name];
  });
}
