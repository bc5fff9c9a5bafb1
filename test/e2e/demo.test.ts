/**
 * `npm run demo` as a newcomer runs it: tracetail and the demo app start, the output says where
 * to look, and what it names is there (metrics of one service from the spans and the logs, the
 * debug page's traces with their log lines, the export files); a Ctrl-C (SIGINT to the process
 * group, as a terminal sends it) stops both and npm exits 0. The config is the default one with
 * free ports and a temporary directory, so the test runs beside anything on the default ports.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

const size = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** `npm run demo -- --config` the default config with ports free a moment ago and a temporary directory. */
async function startDemo(dir: string) {
  const [otlp, metrics, debug] = [await freePort(), await freePort(), await freePort()];
  const config = parse(readFileSync(join(ROOT, 'config/tracetail.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  Object.assign(config, {
    logs: { ...config.logs, include: [join(dir, 'var/log/**/*.log')] },
    receivers: { otlp: { http: { endpoint: `127.0.0.1:${otlp}` }, grpc: null, unix: null } },
    metrics: { endpoint: `127.0.0.1:${metrics}` },
    debug: { endpoint: `127.0.0.1:${debug}` },
    export: { otlp: { endpoint: null }, file: { directory: join(dir, 'var/lib/tracetail/export') } },
    storage: { directory: join(dir, 'var/lib/tracetail') },
  });
  const file = join(dir, 'tracetail.yaml');
  writeFileSync(file, stringify(config));
  // In a process group of its own, as a terminal's foreground job is.
  const child = spawn('npm', ['run', 'demo', '--', '--config', file], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_SERVICE_NAME: undefined } });
  type Exit = { code: number | null; signal: NodeJS.Signals | null };
  const demo = { child, metrics, debug, stdout: '', stderr: '', exit: undefined as Exit | undefined, exited: new Promise<Exit>((r) => child.once('exit', (code, signal) => r((demo.exit = { code, signal })))) };
  child.stdout.on('data', (d: Buffer) => (demo.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (demo.stderr += d.toString()));
  await waitFor(() => demo.stdout.includes('Ctrl-C stops') || demo.exit, { timeoutMs: 40_000, what: `the demo's directions (stdout: ${demo.stdout}, stderr: ${demo.stderr})` });
  return demo;
}

describe('npm run demo', () => {
  it('runs tracetail and the demo app, says where to look, and exits 0 on Ctrl-C', { timeout: 90_000 }, async () => {
    const dir = tempDir('tracetail-e2e-demo-');
    let demo = await startDemo(dir);
    // A port free a moment ago may have been taken by another test since: once more with others.
    if (demo.exit && demo.stderr.includes('address already in use')) demo = await startDemo(dir);
    const { metrics, debug, exited } = demo;
    try {
      expect(demo.exit, demo.stderr).toBeUndefined();
      const { stdout } = demo;
      const logFile = join(dir, 'var/log/checkout.log');
      const exportDir = join(dir, 'var/lib/tracetail/export');
      expect(stdout).toContain(`metrics     http://127.0.0.1:${metrics}/metrics`);
      expect(stdout).toContain(`debug page  http://127.0.0.1:${debug}/`);
      expect(stdout).toContain(`exports     ${exportDir}/`);
      expect(stdout).toContain(logFile);

      // Spans and log lines arrive, under one service, the one of the spans.
      const scrape = async () => (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      const body = await waitFor(
        async () => {
          const text = await scrape();
          return /^traces_span_metrics_calls_total\{service_name="checkout",span_name="GET \/products",span_kind="SPAN_KIND_SERVER"[^}]*\} [1-9]/m.test(text) &&
            /^tracetail_log_records_total\{service_name="checkout",severity="info",trace_context="present"\} [1-9]/m.test(text) &&
            text;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'spans and log records of checkout in /metrics' },
      );
      expect([...body.matchAll(/^tracetail_log_records_total\{service_name="([^"]*)"/gm)].map((m) => m[1]).filter((s) => s !== 'checkout')).toEqual([]);

      // The debug page's API has the traces, each with its log lines.
      const traces = await waitFor(
        async () => {
          const r = (await (await fetch(`http://127.0.0.1:${debug}/api/v1/traces?limit=20`)).json()) as { traces: { traceId: string; logCounts?: Record<string, number> }[] };
          return r.traces.length > 0 && r.traces;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'traces in the debug API' },
      );
      const withLogs = await waitFor(
        async () => {
          for (const t of traces) {
            const trace = (await (await fetch(`http://127.0.0.1:${debug}/api/v1/traces/${t.traceId}`)).json()) as { spans: unknown[]; logs: { body: unknown }[] };
            if (trace.spans.length > 1 && trace.logs.length > 0) return trace;
          }
          return undefined;
        },
        { timeoutMs: 15_000, intervalMs: 500, what: 'a trace with spans and log lines' },
      );
      expect(withLogs.logs.length).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${debug}/`)).status).toBe(200);

      // What would go to a collector is in the export files.
      await waitFor(() => size(join(exportDir, 'traces.jsonl')) > 0 && size(join(exportDir, 'logs.jsonl')) > 0, { timeoutMs: 15_000, what: 'the export files' });
      const exported = JSON.parse(readFileSync(join(exportDir, 'logs.jsonl'), 'utf8').split('\n')[0]) as { resourceLogs: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[] };
      expect(exported.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'checkout' } });
    } finally {
      process.kill(-demo.child.pid!, 'SIGINT');
    }
    expect(await exited).toEqual({ code: 0, signal: null });
    // Both stopped: the app said so in its log, and tracetail's port is closed.
    expect(readFileSync(join(dir, 'var/log/checkout.log'), 'utf8').trimEnd().split('\n').at(-1)).toContain('"msg":"checkout stopped"');
    await expect(fetch(`http://127.0.0.1:${metrics}/metrics`)).rejects.toThrow();
    expect(demo.stderr).toContain('"msg":"stopping"');
    // The app's log file is there when tracetail starts: its glob matches from the start.
    expect(demo.stderr).not.toContain('logs.include matches no file');
  });
});
