/**
 * A real Prometheus (Debian's package) as a child process: a temporary TSDB, loopback only, a short
 * scrape interval, exemplar storage on. Queried through its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from './cli.js';
import { waitFor } from './wait.js';

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

export class Prometheus {
  private child?: ChildProcess;
  private readonly dir = tempDir('tracetail-prometheus-');
  stderr = '';
  url = '';

  /** Start scraping `targets` ("host:port") every `intervalSeconds`. */
  async start(targets: string[], intervalSeconds = 1): Promise<this> {
    const config = {
      global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
      scrape_configs: [{ job_name: 'tracetail', static_configs: [{ targets }] }],
    };
    const configFile = join(this.dir, 'prometheus.yml');
    writeFileSync(configFile, stringify(config));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=exemplar-storage',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const exited = new Promise<never>((_, reject) => this.child!.once('exit', (code) => reject(new Error(`prometheus exited with ${code}: ${this.stderr}`))));
    exited.catch(() => undefined);
    await Promise.race([
      waitFor(async () => (await fetch(`${this.url}/-/ready`)).ok, { timeoutMs: 30_000, intervalMs: 200, what: `prometheus to be ready (${this.stderr})` }),
      exited,
    ]);
    return this;
  }

  private async api<T>(path: string, params: Record<string, string | number>): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);
    const json = (await res.json()) as { status: string; data: T; error?: string };
    if (json.status !== 'success') throw new Error(`prometheus ${path} ${JSON.stringify(params)}: ${json.error}`);
    return json.data;
  }

  /** An instant query (optionally at `time`, seconds since the epoch). */
  async query(query: string, time?: number): Promise<PromSample[]> {
    const data = await this.api<{ result: PromSample[] }>('query', time === undefined ? { query } : { query, time });
    return data.result;
  }

  /** The single value of an instant query, or undefined when it has no result. */
  async value(query: string, time?: number): Promise<number | undefined> {
    const result = await this.query(query, time);
    if (result.length > 1) throw new Error(`${query} returned ${result.length} series`);
    return result[0]?.value ? Number(result[0].value[1]) : undefined;
  }

  /** A range query, as a dashboard panel sends it. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<PromSample[]> {
    const data = await this.api<{ result: PromSample[] }>('query_range', { query, start, end, step });
    return data.result;
  }

  /** The values of `label` on the series matching `match`, as Grafana's label_values(match, label) asks. */
  async labelValues(label: string, match: string): Promise<string[]> {
    return this.api(`label/${encodeURIComponent(label)}/values`, { 'match[]': match });
  }

  async exemplars(query: string, start: number, end: number): Promise<{ seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string; timestamp: number }[] }[]> {
    return this.api('query_exemplars', { query, start, end });
  }

  async targets(): Promise<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }> {
    return this.api('targets', {});
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
