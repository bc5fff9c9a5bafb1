/**
 * The dashboards and rules against real data: the demo app (config/demo/app.mjs: the OTel JS SDK
 * and pino, rotating its log file) runs against two built CLIs, one per span metric naming, and a
 * real Prometheus scrapes both. Every query of every panel, with the dashboard's variables as
 * Grafana substitutes them, runs through Prometheus's HTTP API and returns data; the exemplar
 * queries find trace ids; every metric a dashboard names is in /metrics, and every tracetail_
 * metric in /metrics is on a dashboard; every rule expression of dashboards/prometheus is valid.
 * The logs and spans of the app are one service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { dashboardFiles, metricsOf, panelsOf, substitute, variableQuery } from '../helpers/dashboards.js';
import { withFixtureRules } from '../helpers/metrics-harness.js';
import { Prometheus } from '../helpers/prometheus.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const hasPrometheus = requireTool('prometheus');

interface Sidecar {
  naming: 'otel' | 'tempo';
  cli: CliProcess;
  app: ChildProcess;
  instance: string;
  logFile: string;
}

/** The demo app against one CLI: fast traffic and a small rotation size, so every panel has something to show within seconds. */
async function sidecar(naming: Sidecar['naming']): Promise<Sidecar> {
  const dir = tempDir(`tracetail-e2e-dashboards-${naming}-`);
  // No service name: the logs take the one of the spans. Log sampling is on: its panels have data.
  const config = testConfig(dir, withFixtureRules({ receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } }, metrics: { span_metrics: { naming } }, logs: { sampling: { enabled: true, decision_wait: '2s' } } }));
  const cli = await startCli({ dir, config });
  const otlp = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
  const logFile = join(dir, 'logs/checkout.log');
  const app = spawn(process.execPath, [join(ROOT, 'config/demo/app.mjs')], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${otlp}`, OTEL_SERVICE_NAME: 'checkout', DEMO_LOG_FILE: logFile, DEMO_RATE: '30', DEMO_ROTATE_BYTES: '65536' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { naming, cli, app, instance: cli.endpoint('metrics.endpoint')!, logFile };
}

/** Grafana's values for the variables: one job, this instance, "All" for the others (their allValue), a 1 s scrape interval. */
function variablesFor(instance: string): Record<string, string> {
  return {
    datasource: 'prometheus',
    job: 'tracetail',
    instance,
    service: '.*',
    span_kind: '.*',
    // max($__interval + scrape interval, 4 * scrape interval), with room for a late scrape.
    __rate_interval: '10s',
    __interval: '2s',
    __range: '1m',
  };
}

describe.skipIf(!hasPrometheus)('dashboards and rules against the demo app, the built CLI and Prometheus', () => {
  const sidecars: Sidecar[] = [];
  let prom: Prometheus;
  let at = 0;
  const dashboards = dashboardFiles();
  const sidecarFor = (file: string) => sidecars.find((s) => s.naming === (file === 'tracetail-red-tempo.json' ? 'tempo' : 'otel'))!;

  beforeAll(async () => {
    sidecars.push(await sidecar('otel'), await sidecar('tempo'));
    prom = await new Prometheus().start(sidecars.map((s) => s.instance));
    const otel = sidecars[0].instance;
    // What the panels need: failed calls, error log lines, a rotation, rule results, in both sidecars.
    const ready = [
      `sum(traces_span_metrics_calls_total{instance="${otel}",status_code="STATUS_CODE_ERROR"})`,
      `sum(traces_spanmetrics_calls_total{instance="${sidecars[1].instance}",status_code="STATUS_CODE_ERROR"})`,
      'min(tracetail_log_rotations_total{kind="rename"})',
      'min(sum by (instance) (tracetail_log_records_total{severity="error"}))',
      `sum(tracetail_metric_rule_records_total{instance="${otel}",result="recorded"})`,
    ];
    await waitFor(async () => (await Promise.all(ready.map((q) => prom.value(q)))).every((v) => v !== undefined && v > 0), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `the demo traffic in Prometheus (${ready.join('; ')})`,
    });
    // A few more scrapes, so that every rate has its samples in the 10 s window.
    const seen = await prom.value(`max(timestamp(up{instance="${otel}"}))`);
    await waitFor(async () => ((await prom.value(`max(timestamp(up{instance="${otel}"}))`)) ?? 0) >= seen! + 3, { timeoutMs: 20_000, intervalMs: 250, what: 'three more scrapes' });
    at = (await prom.value(`max(timestamp(up{instance="${otel}"}))`))!;
  }, 150_000);

  afterAll(async () => {
    for (const s of sidecars) {
      s.app.kill('SIGTERM');
      await new Promise((r) => (s.app.exitCode === null ? s.app.once('exit', r) : r(undefined)));
    }
    await prom?.stop();
    await Promise.all(sidecars.map((s) => s.cli.stop()));
  });

  describe.each(dashboards)('$file', ({ file, d }) => {
    it('returns data for every panel query, as Grafana sends it (a range query, or an instant one for a table)', async () => {
      const vars = variablesFor(sidecarFor(file).instance);
      const empty: string[] = [];
      let queries = 0;
      for (const p of panelsOf(d)) {
        for (const t of p.targets ?? []) {
          const q = substitute(t.expr, vars);
          const result = t.instant ? await prom.query(q, at) : await prom.queryRange(q, at - 60, at, 2);
          queries++;
          if (result.length === 0) empty.push(`${p.title}: ${q}`);
        }
      }
      expect(queries).toBeGreaterThan(5);
      expect(empty).toEqual([]);
    });

    it('finds trace ids for the panels that show exemplars', async () => {
      const vars = variablesFor(sidecarFor(file).instance);
      const targets = panelsOf(d).flatMap((p) => (p.targets ?? []).filter((t) => t.exemplar).map((t) => ({ panel: p.title, expr: substitute(t.expr, vars) })));
      for (const { panel, expr } of targets) {
        const found = await prom.exemplars(expr, at - 120, at + 5);
        const ids = found.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
        expect(ids.length, `${panel}: ${expr}`).toBeGreaterThan(0);
        for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
      }
    });

    it('fills its variables from the data', async () => {
      const vars = variablesFor(sidecarFor(file).instance);
      const expected: Record<string, string> = { job: 'tracetail', instance: vars.instance, service: 'checkout', span_kind: 'SPAN_KIND_SERVER' };
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const m = /^label_values\((.*),\s*(\w+)\)$/.exec(variableQuery(v));
        expect(m, variableQuery(v)).not.toBeNull();
        expect(await prom.labelValues(m![2], substitute(m![1], vars)), variableQuery(v)).toContain(expected[v.name]);
      }
    });

    it('names only metrics that are in /metrics', async () => {
      const body = await (await fetch(`http://${sidecarFor(file).instance}/metrics`)).text();
      const exposed = new Set(body.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
      const named = new Set(panelsOf(d).flatMap((p) => (p.targets ?? []).flatMap((t) => metricsOf(t.expr))));
      expect([...named].filter((m) => m !== 'up' && !exposed.has(m))).toEqual([]);
    });
  });

  it('puts every tracetail_ metric of /metrics on a dashboard', async () => {
    const body = await (await fetch(`http://${sidecars[0].instance}/metrics`)).text();
    const families = [...body.matchAll(/^# TYPE (tracetail_\w+) /gm)].map((m) => m[1]);
    expect(families.length).toBeGreaterThan(30);
    const shown = new Set(dashboards.flatMap(({ d }) => panelsOf(d).flatMap((p) => (p.targets ?? []).flatMap((t) => metricsOf(t.expr)))).map((m) => m.replace(/_bucket$/, '')));
    expect(families.filter((f) => !shown.has(f))).toEqual([]);
  });

  it('counts the logs and the spans of the app as one service, the one its spans name', async () => {
    for (const s of sidecars) {
      expect(await prom.labelValues('service_name', `tracetail_log_records_total{instance="${s.instance}"}`)).toEqual(['checkout']);
    }
    expect(await prom.labelValues('service_name', 'traces_span_metrics_calls_total')).toEqual(['checkout']);
    expect(await prom.labelValues('service', 'traces_spanmetrics_calls_total')).toEqual(['checkout']);
    // And the records from the rotating file are counted by file.
    const files = await prom.labelValues('path', `tracetail_log_file_records_total{instance="${sidecars[0].instance}"}`);
    expect(files).toContain(sidecars[0].logFile);
  });

  it('evaluates every expression of the alerting and recording rules', async () => {
    const dir = join(ROOT, 'dashboards/prometheus');
    const rules = readdirSync(dir).flatMap((f) => (parse(readFileSync(join(dir, f), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules));
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) await expect(prom.query(r.expr, at), r.alert ?? r.record).resolves.toBeInstanceOf(Array);
    // The RED recording rules find the demo's operations.
    const red = rules.find((r) => r.record === 'job_service_name_span_name_span_kind:traces_span_metrics_calls:rate5m')!;
    expect((await prom.query(red.expr, at)).map((s) => s.metric.span_name)).toContain('POST /checkout');
  });
});
