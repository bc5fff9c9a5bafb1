// The built CLI as a child process for benchmarks: started on a config of its own in a temp
// directory (listeners on port 0, found in its "listening" log lines), its CPU time and RSS read
// from /proc (Linux), its /metrics read as numbers, and OTLP/HTTP trace requests posted to it.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** The build to measure: BENCH_CLI (a path to another build's cli.js), else this checkout's. */
export const CLI = process.env.BENCH_CLI ? resolve(process.env.BENCH_CLI) : new URL('../../dist/cli.js', import.meta.url).pathname;
/** The V8 flags that build runs with (its node-flags.js; a build from before it had none). */
const NODE_FLAGS = await import(join(dirname(CLI), 'node-flags.js')).then(
  (m) => m.NODE_FLAGS,
  () => [],
);
const CLOCK_TICKS = 100; // USER_HZ, the unit of utime and stime in /proc/<pid>/stat on Linux

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the CLI in `dir` on `config` (merged over listeners on port 0 and state in `dir`), with
 * BENCH_CONFIG (JSON, merged per top-level key) and BENCH_NODE_ARGS from the environment, after
 * the V8 flags the build's executable runs with.
 * `stop()` sends SIGTERM and waits for the exit (SIGKILL after `ms`).
 */
export function startCli(dir, config) {
  const full = {
    receivers: { otlp: { http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: null }, unix: { path: null } } },
    metrics: { endpoint: '127.0.0.1:0' },
    debug: { endpoint: null },
    storage: { directory: join(dir, 'state') },
    ...config,
  };
  for (const [k, v] of Object.entries(JSON.parse(process.env.BENCH_CONFIG ?? '{}'))) full[k] = typeof v === 'object' && v ? { ...full[k], ...v } : v;
  writeFileSync(join(dir, 'tracetail.yaml'), stringify(full));
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const out = process.env.BENCH_STDOUT ? openSync(process.env.BENCH_STDOUT, 'w') : 'ignore';
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, CLI, 'run', '--config', join(dir, 'tracetail.yaml')], { stdio: ['ignore', out, 'pipe'] });
  const endpoints = {};
  const warnings = [];
  let partial = '';
  child.stderr.on('data', (d) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      try {
        const l = JSON.parse(line);
        if (l.msg === 'listening') endpoints[l.listener] = l.endpoint;
        else if (l.level === 'warn' || l.level === 'error') warnings.push(l.msg);
      } catch {
        // not JSON
      }
    }
  });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  running.add(child);
  exited.then(() => running.delete(child));
  const stop = async (ms = 30_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  return { child, endpoints, warnings, exited, stop };
}

// A CLI left running when the benchmark process ends (a failure, an exception) is killed with it.
const running = new Set();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The peak resident set size of the process so far (VmHWM), in bytes. */
export function peakRssBytes(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The /metrics text at `url` as a function: metric name (and label values to match) → sum. */
export async function metrics(url) {
  const text = await (await fetch(url)).text();
  return (name, match = {}) => {
    let n = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!m || m[1] !== name) continue;
      if (Object.entries(match).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) n += Number(m[3]);
    }
    return n;
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** POST an encoded ExportTraceServiceRequest to `endpoint` (host:port); resolves to the status (0: no answer). */
export function postTraces(endpoint, body) {
  return new Promise((resolve) => {
    const req = http.request(`http://${endpoint}/v1/traces`, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Let go of the keep-alive sockets (so the benchmark process can exit). */
export function closeAgent() {
  agent.destroy();
}
