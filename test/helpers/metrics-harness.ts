/**
 * The metrics half of the sidecar in-process: the real admin server on port 0, the real durable
 * queue, and the logs/traces pipelines with the stages `buildStages` makes for a config. Batches go
 * through `Pipeline.consume` exactly as a receiver hands them on (queue first, observers after).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AdminServer } from '../../src/admin/admin-server.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { QueueWriter } from '../../src/exporters/queue-writer.js';
import { createLogger } from '../../src/logger.js';
import { Telemetry } from '../../src/metrics/telemetry.js';
import type { LogBatch, TraceBatch } from '../../src/pipeline/batches.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { buildStages } from '../../src/processors/index.js';
import { Store } from '../../src/storage/store.js';
import { deepMerge, ROOT, tempDir } from './cli.js';

export const RULES_FIXTURE = join(ROOT, 'test/fixtures/metrics-rules.yaml');

/** The fixture's rules merged into `config`. */
export function withFixtureRules(config: Record<string, unknown> = {}): Record<string, unknown> {
  return deepMerge(config, parse(readFileSync(RULES_FIXTURE, 'utf8')) as Record<string, unknown>);
}

export const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

export class MetricsHarness {
  readonly telemetry = new Telemetry();
  readonly log = createLogger('silent');
  readonly dir = tempDir('tracetail-metrics-');
  config!: Config;
  admin!: AdminServer;
  private store!: Store;
  traces!: Pipeline<TraceBatch>;
  logs!: Pipeline<LogBatch>;

  async start(config: Record<string, unknown> = {}): Promise<this> {
    this.store = Store.open(join(this.dir, 'state'), { maxQueueBytes: 256 * 1024 * 1024 });
    this.build(config);
    this.admin = new AdminServer({
      endpoint: { host: '127.0.0.1', port: 0 },
      maxConnections: 64,
      telemetry: this.telemetry,
      log: this.log,
      readiness: () => ({ ready: true, reasons: [] }),
    });
    await this.admin.start();
    return this;
  }

  /** Build the stages for a (new) config, as a SIGHUP reload does. */
  build(config: Record<string, unknown>): void {
    const base = { service: { name: 'checkout' }, storage: { directory: join(this.dir, 'state') } };
    this.config = loadConfig({ text: stringify(deepMerge(base, config)), env: {} });
    const stages = buildStages({ config: this.config, log: this.log, telemetry: this.telemetry });
    this.traces = new Pipeline(new QueueWriter('traces', this.store), stages.traces.processors, stages.traces.observers);
    this.logs = new Pipeline(new QueueWriter('logs', this.store), stages.logs.processors, stages.logs.observers);
  }

  get url(): string {
    const a = this.admin.address!;
    return `http://${a.host}:${a.port}/metrics`;
  }

  get address(): string {
    const a = this.admin.address!;
    return `${a.host}:${a.port}`;
  }

  async scrape(format: 'text' | 'openmetrics' = 'text'): Promise<{ contentType: string; body: string }> {
    const res = await fetch(this.url, { headers: format === 'openmetrics' ? { accept: OPENMETRICS_ACCEPT } : {} });
    if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
    return { contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  }

  queuedItems(signal: 'traces' | 'logs'): number {
    return this.store.queueStats(signal).items;
  }

  async stop(): Promise<void> {
    await this.admin?.stop();
    this.store?.close();
  }
}

/** Samples of the text exposition: `name{labels} value`, as [labels object, value]. */
export function samples(body: string, name: string): { labels: Record<string, string>; value: number; exemplar?: string }[] {
  const out: { labels: Record<string, string>; value: number; exemplar?: string }[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)(?: # (.*))?$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ labels, value: Number(m[2]), exemplar: m[3] });
  }
  return out;
}

/** The one sample of `name` whose labels include `match`. */
export function sampleValue(body: string, name: string, match: Record<string, string>): number | undefined {
  const hits = samples(body, name).filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(match)}`);
  return hits[0]?.value;
}

/** What `promtool check metrics` says about a text exposition: empty when the lint passes. */
export function promtoolProblems(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? '' : ` (exit ${r.status})`);
}
