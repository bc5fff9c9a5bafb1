#!/usr/bin/env node
// `npm run demo`: tracetail on its default config (or --config FILE) and the demo app next to it,
// the app writing its logs where the config tails them and sending its spans to tracetail's
// OTLP/HTTP receiver. Prints where to look; Ctrl-C stops the app, then tracetail, and exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import picomatch from 'picomatch';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const APP = join(ROOT, 'config/demo/app.mjs');

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c', default: join(ROOT, 'config/tracetail.yaml') } } });

function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

// From the start, so that a Ctrl-C at any moment stops what was started.
let stopping = false;
let tracetail;
let app;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (app) await stop(app, 10_000);
  const tracetailCode = tracetail ? await stop(tracetail, 30_000) : 0;
  process.exit(code ?? tracetailCode);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

if (!existsSync(CLI)) fail(`${relative(process.cwd(), CLI)} is missing: run \`npm install\` (it builds tracetail) or \`npm run build\``);
/** The V8 flags tracetail's executable runs with. */
const { NODE_FLAGS } = await import(join(ROOT, 'dist/node-flags.js'));

// The effective configuration, as tracetail itself reads it (defaults and OTEL_* variables applied).
const checked = spawnSync(process.execPath, [CLI, 'check-config', '--config', values.config], { encoding: 'utf8' });
// Interrupted (a Ctrl-C reaches the whole process group): leave as it did.
if (checked.signal) process.exit(128 + constants.signals[checked.signal]);
if (checked.status !== 0) fail(checked.stderr.trim());
const config = parse(checked.stdout);

const otlp = config.receivers.otlp.http?.endpoint;
if (!otlp) fail('the demo app sends spans over OTLP/HTTP: receivers.otlp.http.endpoint must be set');
const metrics = config.metrics.endpoint;
const debug = config.debug.endpoint;
const exportTo = Object.values(config.effective.export_targets).flatMap((t) => (t ? [t.url] : []));
const exportDir = config.export.file.directory ?? join(config.storage.directory, 'export');

/** `host:port` as a URL a browser can open (a wildcard address is this machine). */
const url = (endpoint, path = '/') => `http://${endpoint.replace(/^(0\.0\.0\.0|\[::\]):/, 'localhost:')}${path}`;
const shown = (path) => {
  const rel = relative(process.cwd(), resolve(path));
  return rel.startsWith('..') ? resolve(path) : `./${rel}`;
};

// The app's log file: beside the first include glob's fixed part, where that glob matches it.
const include = config.logs.include[0];
if (!include) fail('logs.include is empty: the demo app writes a log file for tracetail to tail');
const logFile = process.env.DEMO_LOG_FILE ?? join(picomatch.scan(include).base || '.', 'checkout.log');
if (!picomatch(resolve(include))(resolve(logFile))) fail(`${logFile} does not match logs.include ${include}: set DEMO_LOG_FILE to a file it matches`);
// There from the start, so that tracetail finds it when it starts (the app appends to it).
mkdirSync(dirname(logFile), { recursive: true });
appendFileSync(logFile, '');

const children = new Set();
function start(args, env) {
  // Each child in its own process group: a Ctrl-C reaches this script only, which stops them in order.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env }, detached: true });
  children.add(child);
  child.exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? 128 + constants.signals[signal])));
  child.exited.then(() => children.delete(child));
  return child;
}

async function stop(child, graceMs) {
  if (!children.has(child)) return child.exited;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

tracetail = start([...NODE_FLAGS, CLI, 'run', '--config', values.config]);
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
tracetail.exited.then((code) => {
  if (!stopping) {
    process.stderr.write(`demo: tracetail exited with ${code}\n`);
    void shutdown(1);
  }
});

/** Waits for /readyz (every receiver bound); the answer that was not ready, or undefined when ready. */
async function notReady() {
  const deadline = Date.now() + 30_000;
  let answer = 'no answer';
  while (!stopping && Date.now() < deadline) {
    const r = await fetch(url(metrics, '/readyz')).catch(() => undefined);
    if (r?.ok) return undefined;
    if (r) answer = (await r.text()).trim();
    await sleep(200);
  }
  return answer;
}

async function main() {
  const waited = await notReady();
  if (stopping) return; // shutdown() ends the process
  if (waited !== undefined) {
    process.stderr.write(`demo: tracetail is not ready after 30 s: ${waited}\n`);
    return shutdown(1);
  }
  app = start([APP], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${otlp}`, OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'checkout', DEMO_LOG_FILE: logFile });
  app.exited.then((code) => {
    if (!stopping) {
      process.stderr.write(`demo: the demo app exited with ${code}\n`);
      void shutdown(1);
    }
  });
  process.stdout.write(`
tracetail demo: the "checkout" app sends its spans to tracetail (${url(otlp, '')}) and writes its
logs to ${shown(logFile)}, which tracetail tails; it joins them and exports both.

  metrics     ${url(metrics, '/metrics')}
  debug page  ${debug ? `${url(debug)}   (recent traces, each with its log lines)` : '(off: debug.endpoint is not set)'}
  exports     ${!config.export.enabled ? '(off: export.enabled is false)' : exportTo.length > 0 ? `over OTLP/HTTP to ${exportTo.join(', ')}` : `${shown(exportDir)}/   (traces.jsonl, logs.jsonl: OTLP JSON, what a collector would receive)`}

  curl -s ${url(metrics, '/metrics')} | grep -E '^(traces_span_metrics_calls_total|tracetail_log_records_total)'${
      debug ? `\n  curl -s '${url(debug, '/api/v1/traces?status=error&limit=3')}'` : ''
    }

Dashboards for Grafana are in dashboards/ (see the README). Ctrl-C stops the app and tracetail.

`);
}

await main();
