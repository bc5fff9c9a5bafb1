// The whole CLI's cost, as a user would measure it before choosing a sidecar: the built CLI as a
// child process on its default config (but for its listeners and state directory), exporting to a
// decoding collector in a process of its own, load from other processes (a line writer appending
// to log files, a span sender posting OTLP/HTTP protobuf), the CLI's CPU (user + system, all its
// threads) and RSS read from /proc every 250 ms, and every line and span checked at the collector
// (each arrives at least once: losses and duplicates are counted).
//
//   W1    max tail rate: lines written at once (1 file and 10 files of pino JSON lines, 4 in 5 with
//         trace ids; 1 file of text lines), measured until the collector has them all; and as
//         many spans (OTLP/HTTP protobuf, 100 a request, 4 in flight) for their CPU per span
//   W2    10,000 lines/s appended + 10,000 spans/s (requests of 100 spans: traces of 5 spans, whose
//         ids 4 of 5 lines carry) for 60 s, /metrics scraped every 5 s as Prometheus would
//   W4    latency from a line written / a span sent to its arrival at the collector, in W2's run
//         (W2 and W4 are measured after 10 s of the same load, to let the CLI warm up)
//   W3    ramp: +5,000 lines/s every 10 s, from a fraction of W1's rate (after 5 s of warm-up at
//         half that), until the collector falls behind what was written (over a step's second
//         half, by a backlog growing at more than 10% of the rate, or of more than a second of
//         lines that does not shrink): the last step that kept up
//   W5    W2's load with the collector down for 60 s (after 10 s up), then up while the load goes
//         on: RSS, losses, how fast the backlog drains
//   PEER  the W1 JSON file through Debian's mtail (counting lines by level and trace presence) and
//         through tracetail with only log metrics (export.enabled and correlation.enabled false)
//
// Prints a table and writes the numbers to bench/results/whole-cli.json (BENCH_RESULTS: elsewhere).
//
//   npm run bench                          the whole suite (W1 W2 W4 W3 W5 PEER)
//   BENCH_ONLY=W1,W4 npm run bench         some of it
//   BENCH_CLI=../other/dist/cli.js         another build of the CLI
//   BENCH_SCALE=0.25                       durations and line counts scaled (a quick run)
//   BENCH_W1_LINES  BENCH_RATE (W2/W4/W5 items/s)  BENCH_W2_SECONDS  BENCH_W3_START  BENCH_W3_STEP_SECONDS
//   BENCH_W3_MAX_STEPS  BENCH_W5_UP_SECONDS  BENCH_W5_OUTAGE_SECONDS   override single knobs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CLI, cpuSeconds, peakRssBytes, rssBytes, sleep, startCli } from './lib/cli-process.mjs';
import { startCollector } from './lib/collector-process.mjs';
import { fillLines, MAX_LINE_BYTES } from './lib/line-chunks.mjs';
import { logLines } from './lib/log-lines.mjs';
import { MTAIL as MTAIL_PATH, mtailVersion, startMtail } from './lib/mtail-process.mjs';
import { slope } from './lib/stats.mjs';
import { startWorker } from './lib/worker-process.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const suiteStart = performance.now();

// ---- knobs --------------------------------------------------------------------------------------
const num = (name, fallback) => (process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]));
const SCALE = num('BENCH_SCALE', 1);
const K = {
  w1Lines: Math.round(num('BENCH_W1_LINES', 200_000 * SCALE)),
  rate: num('BENCH_RATE', 10_000),
  spansPerRequest: 100,
  w2Seconds: num('BENCH_W2_SECONDS', 60 * SCALE),
  w2WarmupSeconds: num('BENCH_W2_WARMUP_SECONDS', Math.max(3, 10 * SCALE)),
  w3Start: num('BENCH_W3_START', null),
  w3StartFraction: 0.6,
  w3StepRate: 5000,
  w3StepSeconds: num('BENCH_W3_STEP_SECONDS', Math.max(3, 10 * SCALE)),
  w3WarmupSeconds: num('BENCH_W3_WARMUP_SECONDS', Math.max(3, 5 * SCALE)),
  w3MaxSteps: num('BENCH_W3_MAX_STEPS', 10),
  w3MaxBehindSeconds: 1,
  w3MaxGrowth: 0.1,
  w5UpSeconds: num('BENCH_W5_UP_SECONDS', Math.max(3, 10 * SCALE)),
  w5OutageSeconds: num('BENCH_W5_OUTAGE_SECONDS', 60 * SCALE),
  scrapeSeconds: 5,
  pollMs: 200,
};
const WORKLOADS = ['W1', 'W2', 'W4', 'W3', 'W5', 'PEER'];
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim().toUpperCase())
  .filter(Boolean);
for (const w of ONLY) if (!WORKLOADS.includes(w)) throw new Error(`BENCH_ONLY: unknown workload ${w} (known: ${WORKLOADS.join(', ')})`);
const want = (w) => ONLY.length === 0 || ONLY.includes(w);

// ---- small helpers ------------------------------------------------------------------------------
const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const fix = (n, d = 1) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
const mib = (b) => b / 1048576;
const round = (n, d = 2) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(d)));
const log = (s) => console.log(s);

const tempDirs = new Set();
function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `tracetail-bench-${name}-`));
  tempDirs.add(dir);
  return dir;
}
function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Waits for `check` (polled every `everyMs`), failing with `what` after `ms`, or at once when `alive()` says a process died. */
async function until(check, ms, what, { everyMs = 50, alive } = {}) {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return;
    const dead = alive?.();
    if (dead) throw new Error(`${dead} while waiting for ${what}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

function withDeadline(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

/** The machine's CPU times from /proc/stat (in clock ticks, all cores): total, idle (with iowait), steal. */
function machineTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4], steal: f[7] };
}

/** Nanoseconds the process's main thread has run, and has waited on a run queue for a core (/proc/<pid>/schedstat). */
function schedstat(pid) {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run, wait };
}

/**
 * The samples of a process's CPU time and RSS, every `everyMs`, and what they say about an
 * interval; with them, how busy the whole machine was and how long the process's main thread
 * waited for a core (other load on the machine shows there: it slows the rates and latencies, the
 * CPU per item much less).
 */
function sampleProcess(pid, everyMs = 250) {
  const samples = [];
  const take = () => {
    try {
      samples.push({ t: performance.now(), cpu: cpuSeconds(pid), rss: rssBytes(pid), machine: machineTimes(), sched: schedstat(pid) });
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      take();
      clearInterval(timer);
    },
    /** CPU (seconds, % of one core: mean and max over `windowS` windows), RSS (mean, max) and contention between t0 and t1. */
    between(t0, t1, windowS = 5) {
      const inside = samples.filter((s) => s.t >= t0 - 1 && s.t <= t1 + 1);
      if (inside.length < 2) return null;
      const first = inside[0];
      const last = inside[inside.length - 1];
      const seconds = (last.t - first.t) / 1000;
      const cpu = last.cpu - first.cpu;
      let maxPct = 0;
      let a = first;
      for (const s of inside) {
        if ((s.t - a.t) / 1000 >= windowS - 0.01) {
          maxPct = Math.max(maxPct, ((s.cpu - a.cpu) / ((s.t - a.t) / 1000)) * 100);
          a = s;
        }
      }
      if (maxPct === 0) maxPct = (cpu / seconds) * 100;
      const rss = inside.map((s) => s.rss);
      const total = last.machine.total - first.machine.total;
      return {
        seconds,
        cpuSeconds: cpu,
        meanPct: (cpu / seconds) * 100,
        maxWindowPct: maxPct,
        rssMean: rss.reduce((x, y) => x + y, 0) / rss.length,
        rssMax: Math.max(...rss),
        contention: {
          machine_busy_pct_of_all_cores: round((100 * (total - (last.machine.idle - first.machine.idle))) / total, 0),
          steal_pct: round((100 * (last.machine.steal - first.machine.steal)) / total, 1),
          cli_main_thread_waiting_for_a_core_pct: round((100 * (last.sched.wait - first.sched.wait)) / (seconds * 1e9), 1),
        },
      };
    },
  };
}

const contentionText = (c) => (c ? `machine ${c.machine_busy_pct_of_all_cores}% busy${c.steal_pct ? ` (${c.steal_pct}% steal)` : ''}, CLI main thread waited for a core ${c.cli_main_thread_waiting_for_a_core_pct}% of the time` : '');

/** A /metrics text as a function: metric name (and label values to match) -> sum. OpenMetrics exemplars are ignored. */
function parseMetrics(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#') continue;
    const body = line.split(' # ')[0];
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(body);
    if (m) rows.push([m[1], m[2] ?? '', Number(m[3])]);
  }
  return (name, match = {}) => {
    let n = 0;
    for (const [k, labels, v] of rows) if (k === name && Object.entries(match).every(([l, x]) => labels.includes(`${l}="${x}"`))) n += v;
    return n;
  };
}

// What Prometheus asks for when it scrapes.
const SCRAPE_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

async function scrape(url) {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { accept: SCRAPE_ACCEPT } });
  const text = await res.text();
  return { m: parseMetrics(text), ms: performance.now() - t0, bytes: text.length };
}

/** Scrapes every `everyS` seconds, as Prometheus would; keeps how long each took, and the values of `track` (metric names) at each. */
function scrapeEvery(url, everyS, track = []) {
  const times = [];
  const series = [];
  let last = null;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const s = await scrape(url);
      times.push(s.ms);
      last = s.m;
      if (track.length) series.push({ t: performance.now(), ...Object.fromEntries(track.map((n) => [n, s.m(n)])) });
    } catch {
      // the CLI is stopping
    } finally {
      busy = false;
    }
  }, everyS * 1000);
  return {
    times,
    series,
    last: () => last,
    stop: () => clearInterval(timer),
  };
}

/** The processes of one workload: a collector, the CLI on `config(dir, collector)`; `body` runs with them, everything is stopped and removed after. */
async function session(name, config, body, { collector: wantCollector = true } = {}) {
  const dir = tempDir(name);
  mkdirSync(join(dir, 'logs'));
  const collector = wantCollector ? await startCollector() : null;
  let cli = null;
  const workers = [];
  try {
    cli = startCli(dir, config(dir, collector));
    const alive = () => (cli.child.exitCode !== null || cli.child.signalCode !== null ? `the CLI exited (${cli.child.exitCode ?? cli.child.signalCode}; warnings: ${cli.warnings.slice(-3).join(' | ') || 'none'})` : null);
    await until(() => cli.endpoints['metrics.endpoint'] && cli.endpoints['receivers.otlp.http.endpoint'], 30_000, 'the CLI to listen', { alive });
    const ctx = {
      dir,
      cli,
      collector,
      alive,
      /** Lets the load run for `ms`, failing at once if the CLI exits meanwhile. */
      async hold(ms) {
        const end = performance.now() + ms;
        while (performance.now() < end) {
          const dead = alive();
          if (dead) throw new Error(dead);
          await sleep(Math.min(500, end - performance.now()));
        }
      },
      pid: cli.child.pid,
      metricsUrl: `http://${cli.endpoints['metrics.endpoint']}/metrics`,
      otlp: cli.endpoints['receivers.otlp.http.endpoint'],
      async worker(file) {
        const w = await startWorker(new URL(`./lib/${file}`, import.meta.url));
        workers.push(w);
        return w;
      },
    };
    return await body(ctx);
  } finally {
    for (const w of workers) await w.close();
    if (cli) await cli.stop();
    if (collector) await collector.close();
    removeDir(dir);
  }
}

const defaultConfig = (format) => (dir, collector) => ({ logs: { include: [join(dir, 'logs/*.log')], ...(format ? { format } : {}) }, export: { otlp: { endpoint: collector.url } } });

const warningsOf = (cli) => [...new Set(cli.warnings)].slice(0, 5);

function procCpu(pid) {
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}

// ---- the build measured and the machine ---------------------------------------------------------
function git(args, cwd) {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
const cliDir = dirname(CLI);
const cliRoot = git(['rev-parse', '--show-toplevel'], cliDir);
const build = {
  cli: cliRoot === ROOT ? relative(ROOT, CLI) : CLI,
  version: spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).stdout.trim(),
  commit: cliRoot ? git(['rev-parse', '--short=12', 'HEAD'], cliDir) : null,
  this_checkout: cliRoot === ROOT,
};
const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
const machine = { cores: cpus().length, cpu_model: cpuModel, node: process.version, load_average_at_start: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) };
const checkout = { commit: git(['rev-parse', '--short=12', 'HEAD'], ROOT), dirty: (git(['status', '--porcelain', '--untracked-files=no'], ROOT) ?? '') !== '' };

log(`whole-CLI benchmark: ${build.version} at ${build.cli}${build.commit ? ` (commit ${build.commit})` : ''}; ${machine.cores} cores (${machine.cpu_model}), node ${machine.node}, load average ${machine.load_average_at_start}`);
log(`  workloads ${ONLY.length ? ONLY.join(',') : 'all'}; scale ${SCALE}; the CLI's CPU is user+system of all its threads from /proc, its RSS is VmRSS (sampled every 250 ms) and VmHWM (peak)`);

const rows = [];
const results = {};
const failures = [];
const row = (r) => {
  rows.push(r);
  log(`  ${r.workload} ${r.variant}: ${[r.rate, r.cpu, r.cpuPerM, r.rss, r.latency, r.delivery].filter((x) => x && x !== '-').join('; ')}${r.notes ? ` (${r.notes})` : ''}`);
};

async function run(name, fn) {
  const t0 = performance.now();
  log(`\n== ${name}`);
  try {
    await fn();
  } catch (err) {
    failures.push(`${name}: ${err.message}`);
    rows.push({ workload: name.split(' ')[0], variant: 'FAILED', notes: err.message });
    log(`  FAILED: ${err.stack}`);
  }
  log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

const deliveryText = (c) => (c.missing === 0 && c.duplicates === 0 && c.foreign === 0 && c.beyond === 0 ? 'all, no dups' : `${fmt(c.missing)} lost, ${fmt(c.duplicates)} dup${c.foreign ? `, ${fmt(c.foreign)} foreign` : ''}${c.beyond ? `, ${fmt(c.beyond)} never written` : ''}`);
const deliveryJson = (c) => ({ missing: c.missing, duplicates: c.duplicates, foreign: c.foreign, never_written: c.beyond, first_missing: c.firstMissing });

// ---- W1: max tail rate --------------------------------------------------------------------------
function jsonLines(first, count) {
  const buf = Buffer.alloc(count * MAX_LINE_BYTES);
  return buf.subarray(0, fillLines(buf, 'pino', first, count));
}
function textLines(first, count) {
  let s = '';
  for (let i = first; i < first + count; i++) s += logLines.text(i);
  return Buffer.from(s);
}

async function w1(variant, files, shape) {
  const N = K.w1Lines;
  const per = Math.ceil(N / files);
  const contents = Array.from({ length: files }, (_, f) => (shape === 'json' ? jsonLines : textLines)(f * per, Math.min(per, N - f * per)));
  const bytes = contents.reduce((n, c) => n + c.length, 0);
  return session(`w1-${variant}`, defaultConfig(), async ({ dir, cli, collector, alive, pid, metricsUrl }) => {
    const sampler = sampleProcess(pid);
    const cpu0 = cpuSeconds(pid);
    const collector0 = procCpu(collector.pid);
    const t0 = performance.now();
    contents.forEach((c, f) => writeFileSync(join(dir, 'logs', `app-${f}.log`), c));
    await until(async () => (await collector.stats()).tracked.logs.unique >= N, 300_000, `${fmt(N)} lines at the collector`, { alive });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    sampler.stop();
    const contention = sampler.between(t0, performance.now())?.contention ?? null;
    const peak = peakRssBytes(pid);
    const check = await collector.check('logs', N);
    const m = (await scrape(metricsUrl)).m;
    const r = {
      lines: N,
      files,
      shape,
      line_bytes: Math.round(bytes / N),
      seconds: round(seconds),
      lines_per_s: Math.round(N / seconds),
      cpu_s_per_million_lines: round((cpu / N) * 1e6),
      cpu_us_per_line: round((cpu / N) * 1e6),
      cpu_pct_of_a_core: round((cpu / seconds) * 100, 0),
      peak_rss_mib: round(mib(peak), 1),
      delivery: deliveryJson(check),
      parse_errors: m('tracetail_log_parse_errors_total'),
      collector_cpu_pct: collector0 === null ? null : round(((procCpu(collector.pid) - collector0) / seconds) * 100, 0),
      contention,
      warnings: warningsOf(cli),
    };
    results.W1 ??= {};
    results.W1[variant] = r;
    row({
      workload: 'W1',
      variant,
      load: `${fmt(N)} lines (${r.line_bytes} B) written at once${files > 1 ? ` to ${files} files` : ''}`,
      rate: `${fmt(r.lines_per_s)} lines/s`,
      cpu: `${r.cpu_pct_of_a_core}%`,
      cpuPerM: `${fix(r.cpu_s_per_million_lines)} per M lines`,
      rss: `peak ${fix(r.peak_rss_mib)}`,
      latency: '-',
      delivery: deliveryText(check),
      notes: `${contentionText(contention)}${r.warnings.length ? `; CLI warnings: ${r.warnings.join(' | ')}` : ''}`,
    });
    return r;
  });
}

/** W1 for spans: `total` spans in requests of 100, 4 in flight, as fast as the CLI accepts them. */
async function w1Spans(variant) {
  const N = Math.ceil(K.w1Lines / K.spansPerRequest) * K.spansPerRequest;
  return session(`w1-${variant}`, defaultConfig(), async ({ cli, collector, alive, pid, otlp, worker }) => {
    const sender = await worker('span-sender.mjs');
    const sampler = sampleProcess(pid);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sender.rpc('start', { endpoint: otlp, total: N, spansPerRequest: K.spansPerRequest, inFlight: 4 });
    await until(async () => (await collector.stats()).tracked.traces.unique >= N, 300_000, `${fmt(N)} spans at the collector`, { alive });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    sampler.stop();
    const contention = sampler.between(t0, performance.now())?.contention ?? null;
    const sent = await sender.rpc('stop');
    const check = await collector.check('traces', N);
    const r = {
      spans: N,
      spans_per_request: K.spansPerRequest,
      in_flight: 4,
      seconds: round(seconds),
      spans_per_s: Math.round(N / seconds),
      cpu_us_per_span: round((cpu / N) * 1e6),
      cpu_pct_of_a_core: round((cpu / seconds) * 100, 0),
      peak_rss_mib: round(mib(peakRssBytes(pid)), 1),
      span_requests_refused: sent.refusedRequests,
      delivery: deliveryJson(check),
      contention,
      warnings: warningsOf(cli),
    };
    results.W1 ??= {};
    results.W1[variant] = r;
    row({
      workload: 'W1',
      variant,
      load: `${fmt(N)} spans, OTLP/HTTP protobuf, ${K.spansPerRequest} a request, 4 in flight`,
      rate: `${fmt(r.spans_per_s)} spans/s`,
      cpu: `${r.cpu_pct_of_a_core}%`,
      cpuPerM: `${fix(r.cpu_us_per_span)} per M spans`,
      rss: `peak ${fix(r.peak_rss_mib)}`,
      latency: '-',
      delivery: deliveryText(check),
      notes: `${contentionText(contention)}${r.span_requests_refused ? `; ${r.span_requests_refused} requests refused (sent again)` : ''}${r.warnings.length ? `; CLI warnings: ${r.warnings.join(' | ')}` : ''}`,
    });
  });
}

// ---- W2 + W4: steady load, latency --------------------------------------------------------------
async function steady() {
  const rate = K.rate;
  const seconds = K.w2Seconds;
  return session('w2', defaultConfig(), async ({ dir, cli, collector, alive, hold, pid, metricsUrl, otlp, worker }) => {
    const writer = await worker('line-writer.mjs');
    const sender = await worker('span-sender.mjs');
    const sampler = sampleProcess(pid);
    const scraper = scrapeEvery(metricsUrl, K.scrapeSeconds);
    await writer.rpc('start', { file: join(dir, 'logs', 'app.log'), rate, shape: 'web' });
    await sender.rpc('start', { endpoint: otlp, rate, spansPerRequest: K.spansPerRequest });
    const tWarm = performance.now();
    await hold(K.w2WarmupSeconds * 1000);
    // The measured run starts here, the same load going on.
    const t0 = performance.now();
    const wrote0 = await writer.rpc('progress');
    const sent0 = await sender.rpc('progress');
    const collector0 = procCpu(collector.pid);
    await hold(seconds * 1000);
    const t1 = performance.now();
    const wrote = await writer.rpc('stop');
    const sent = await withDeadline(sender.rpc('stop'), 60_000, 'the span sender to have every request accepted');
    const loadSeconds = (t1 - t0) / 1000;
    const lines = wrote.written - wrote0.written;
    const spans = sent.issued - sent0.issued;
    await until(async () => {
      const s = (await collector.stats()).tracked;
      return s.logs.unique >= wrote.written && s.traces.unique >= sent.issued;
    }, 120_000, `${fmt(wrote.written)} lines and ${fmt(sent.issued)} spans at the collector`, { alive });
    const tDelivered = performance.now();
    scraper.stop();
    sampler.stop();
    const usage = sampler.between(t0, t1);
    const warmUsage = sampler.between(tWarm, t0);
    const logs = await collector.check('logs', wrote.written);
    const traces = await collector.check('traces', sent.issued);
    const latLogs = await collector.latency('logs', wrote0.written, wrote.written);
    const latSpans = await collector.latency('traces', sent0.issued, sent.issued);
    const warmLogs = await collector.latency('logs', 0, wrote0.written);
    const warmSpans = await collector.latency('traces', 0, sent0.issued);
    const m = (await scrape(metricsUrl)).m;
    const correlation = Object.fromEntries(['matched', 'unmatched', 'no_context'].map((r) => [r, m('tracetail_correlation_log_records_total', { result: r })]));
    const scrapes = scraper.times.slice().sort((a, b) => a - b);
    const gen = {
      line_writer_cpu_pct: round(((wrote.cpuSeconds - wrote0.cpuSeconds) / loadSeconds) * 100, 1),
      span_sender_cpu_pct: round(((sent.cpuSeconds - sent0.cpuSeconds) / loadSeconds) * 100, 1),
      collector_cpu_pct: collector0 === null ? null : round(((procCpu(collector.pid) - collector0) / ((tDelivered - t0) / 1000)) * 100, 1),
    };
    const r = {
      warmup_seconds: K.w2WarmupSeconds,
      seconds: round(loadSeconds, 1),
      lines_written: lines,
      lines_per_s: Math.round(lines / loadSeconds),
      spans_sent: spans,
      spans_per_s: Math.round(spans / loadSeconds),
      span_requests_refused: sent.refusedRequests,
      span_requests_failed: sent.failedRequests,
      cpu_pct_mean: round(usage.meanPct, 1),
      cpu_pct_max_5s: round(usage.maxWindowPct, 1),
      cpu_us_per_item: round((usage.cpuSeconds / (lines + spans)) * 1e6),
      warmup: { cpu_pct_mean: round(warmUsage?.meanPct ?? null, 1), rss_max_mib: round(mib(warmUsage?.rssMax ?? 0), 1), latency: { logs: mapLatency(warmLogs), spans: mapLatency(warmSpans) } },
      rss_mean_mib: round(mib(usage.rssMean), 1),
      rss_max_mib: round(mib(usage.rssMax), 1),
      peak_rss_mib: round(mib(peakRssBytes(pid)), 1),
      delivery: { logs: deliveryJson(logs), traces: deliveryJson(traces), lines_written_in_all: wrote.written, spans_sent_in_all: sent.issued },
      seconds_to_deliver_after_load: round((tDelivered - t1) / 1000),
      correlation_log_records: correlation,
      scrapes: { count: scrapes.length, p50_ms: round(scrapes[Math.floor(scrapes.length / 2)] ?? null, 1), max_ms: round(scrapes[scrapes.length - 1] ?? null, 1) },
      load_generators: gen,
      contention: usage.contention,
      warnings: warningsOf(cli),
    };
    results.W2 = r;
    const lat = { in_run_of: 'W2', logs: mapLatency(latLogs), spans: mapLatency(latSpans) };
    results.W4 = lat;
    row({
      workload: 'W2',
      variant: 'steady',
      load: `${fmt(r.lines_per_s)} lines/s + ${fmt(r.spans_per_s)} spans/s, ${fix(r.seconds, 0)} s (after ${K.w2WarmupSeconds} s of warm-up), scraped every ${K.scrapeSeconds} s`,
      rate: '-',
      cpu: `${fix(r.cpu_pct_mean)}% mean, ${fix(r.cpu_pct_max_5s)}% max`,
      cpuPerM: `${fix(r.cpu_us_per_item)} per M items`,
      rss: `${fix(r.rss_mean_mib)} mean, ${fix(r.rss_max_mib)} max`,
      latency: '-',
      delivery: `lines ${deliveryText(logs)}; spans ${deliveryText(traces)}`,
      notes: `correlation ${fmt(correlation.matched)} matched / ${fmt(correlation.unmatched)} unmatched / ${fmt(correlation.no_context)} no context; scrape p50 ${fix(r.scrapes.p50_ms, 0)} ms; load generators ${gen.line_writer_cpu_pct}% + ${gen.span_sender_cpu_pct}%, collector ${gen.collector_cpu_pct}% of a core; ${contentionText(usage.contention)}${r.span_requests_refused || r.span_requests_failed ? `; ${r.span_requests_refused} span requests refused, ${r.span_requests_failed} failed (sent again)` : ''}${r.warnings.length ? `; CLI warnings: ${r.warnings.join(' | ')}` : ''}`,
    });
    for (const [variant, l] of [
      ['lines', lat.logs],
      ['spans', lat.spans],
    ]) {
      row({
        workload: 'W4',
        variant,
        load: `in W2's run: ${fmt(l.n)} ${variant} (warm-up left out)`,
        rate: '-',
        cpu: '-',
        cpuPerM: '-',
        rss: '-',
        latency: `p50 ${fix(l.p50_ms, 0)} / p99 ${fix(l.p99_ms, 0)} / max ${fix(l.max_ms, 0)} ms`,
        delivery: '-',
        notes: `${variant === 'lines' ? 'written (its time field)' : 'sent (its end time)'} -> arrival at the collector; in the warm-up: p99 ${fix(r.warmup.latency[variant === 'lines' ? 'logs' : 'spans'].p99_ms, 0)} ms, max ${fix(r.warmup.latency[variant === 'lines' ? 'logs' : 'spans'].max_ms, 0)} ms`,
      });
    }
  });
}

const mapLatency = (l) => ({ n: l.n, p50_ms: round(l.p50, 1), p90_ms: round(l.p90, 1), p99_ms: round(l.p99, 1), max_ms: round(l.max, 1) });

// ---- W3: ramp -----------------------------------------------------------------------------------
async function ramp() {
  const w1rate = results.W1?.['json-1-file']?.lines_per_s;
  const start = K.w3Start ?? (w1rate ? Math.max(K.w3StepRate, Math.floor((w1rate * K.w3StartFraction) / K.w3StepRate) * K.w3StepRate) : 20_000);
  const startWhy = K.w3Start ? 'BENCH_W3_START' : w1rate ? `${K.w3StartFraction} of W1's ${fmt(w1rate)} lines/s, rounded down to ${fmt(K.w3StepRate)}` : 'W1 did not run: a fixed start';
  log(`  ramp starts at ${fmt(start)} lines/s (${startWhy}) after ${K.w3WarmupSeconds} s of warm-up at half that, +${fmt(K.w3StepRate)} every ${K.w3StepSeconds} s, at most ${K.w3MaxSteps} steps; a step keeps up when, over its second half, the collector's backlog (lines written, not yet delivered) grows by less than ${K.w3MaxGrowth * 100}% of the rate and is a median of less than ${K.w3MaxBehindSeconds} s of lines or shrinking`);
  return session('w3', defaultConfig(), async ({ dir, cli, collector, alive, hold, pid, metricsUrl, worker }) => {
    const writer = await worker('line-writer.mjs');
    const sampler = sampleProcess(pid);
    const steps = [];
    let sustained = null;
    let rate = start;
    // A warm-up at half the start rate, not judged: the first step would otherwise pay for the JIT.
    const t0 = performance.now();
    await writer.rpc('start', { file: join(dir, 'logs', 'app.log'), rate: Math.max(K.w3StepRate, rate / 2), shape: 'pino' });
    await hold(K.w3WarmupSeconds * 1000);
    await writer.rpc('rate', { rate });
    let stepStart = performance.now();
    let before = { written: (await writer.rpc('progress')).written, delivered: (await collector.stats()).tracked.logs.unique };
    for (let k = 0; k < K.w3MaxSteps; k++) {
      if (k > 0) {
        rate += K.w3StepRate;
        await writer.rpc('rate', { rate });
      }
      // How far the collector is behind the writer, every 250 ms of the step.
      const stepEnd = stepStart + K.w3StepSeconds * 1000;
      const backlog = [];
      let p;
      let delivered;
      for (;;) {
        await hold(Math.min(250, stepEnd - performance.now()));
        p = await writer.rpc('progress');
        delivered = (await collector.stats()).tracked.logs.unique;
        backlog.push({ t: performance.now(), behind: p.written - delivered });
        if (performance.now() >= stepEnd) break;
      }
      const m = (await scrape(metricsUrl)).m;
      const now = performance.now();
      const usage = sampler.between(stepStart, now, K.w3StepSeconds);
      const behind = p.written - delivered;
      const writerBehind = p.target - p.written;
      // Export batches make the backlog a saw-tooth: judged by its median and its trend (least
      // squares) over the second half of the step.
      const half = backlog.filter((b) => b.t >= stepStart + (stepEnd - stepStart) / 2);
      const sorted = half.map((b) => b.behind).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? behind;
      const growth = slope(half.map((b) => [b.t / 1000, b.behind]));
      const step = {
        rate,
        written_per_s: Math.round((p.written - before.written) / ((now - stepStart) / 1000)),
        delivered_per_s: Math.round((delivered - before.delivered) / ((now - stepStart) / 1000)),
        behind_lines: behind,
        behind_median_lines: median,
        behind_growth_lines_per_s: Math.round(growth),
        file_lag_bytes: m('tracetail_log_file_lag_bytes'),
        cpu_pct: round(usage?.meanPct ?? null, 0),
        cpu_us_per_line_delivered: usage && delivered > before.delivered ? round((usage.cpuSeconds / (delivered - before.delivered)) * 1e6, 1) : null,
        rss_max_mib: round(mib(usage?.rssMax ?? 0), 1),
        // A backlog carried over from the step before may still be over a second, as long as it shrinks.
        kept_up: (median <= rate * K.w3MaxBehindSeconds || growth < 0) && growth <= rate * K.w3MaxGrowth && writerBehind <= rate * 0.1,
        contention: usage?.contention ?? null,
        writer_kept_its_rate: writerBehind <= rate * 0.1,
      };
      steps.push(step);
      log(`    ${fmt(rate)} lines/s: written ${fmt(step.written_per_s)}/s, delivered ${fmt(step.delivered_per_s)}/s, ${fmt(median)} lines behind (median of the second half, growing ${fmt(growth)}/s), file lag ${fmt(step.file_lag_bytes)} B, CLI ${step.cpu_pct}% of a core, ${contentionText(step.contention)}${step.kept_up ? '' : step.writer_kept_its_rate ? ': fell behind' : ': the writer could not hold its rate'}`);
      before = { written: p.written, delivered };
      stepStart = now;
      if (!step.kept_up) break;
      sustained = rate;
    }
    const wrote = await writer.rpc('stop');
    await until(async () => (await collector.stats()).tracked.logs.unique >= wrote.written, 180_000, `the ${fmt(wrote.written)} lines of the ramp at the collector`, { alive });
    sampler.stop();
    const check = await collector.check('logs', wrote.written);
    const last = steps[steps.length - 1];
    const capped = last.kept_up;
    const r = {
      start,
      start_why: startWhy,
      step_rate: K.w3StepRate,
      step_seconds: K.w3StepSeconds,
      sustained_lines_per_s: sustained,
      cap_reached: capped,
      delivered_per_s_in_last_step: last.delivered_per_s,
      steps,
      peak_rss_mib: round(mib(peakRssBytes(pid)), 1),
      delivery: deliveryJson(check),
      line_writer_cpu_pct: round((wrote.cpuSeconds / ((performance.now() - t0) / 1000)) * 100, 1),
      warnings: warningsOf(cli),
    };
    results.W3 = r;
    row({
      workload: 'W3',
      variant: 'ramp',
      load: `JSON lines from ${fmt(start)}/s, +${fmt(K.w3StepRate)} every ${K.w3StepSeconds} s`,
      rate: sustained === null ? `< ${fmt(start)} lines/s sustained` : `${capped ? '>= ' : ''}${fmt(sustained)} lines/s sustained`,
      cpu: `${last.cpu_pct}% in the last step`,
      cpuPerM: '-',
      rss: `peak ${fix(r.peak_rss_mib)}`,
      latency: '-',
      delivery: deliveryText(check),
      notes: capped ? `kept up at every step (cap of ${K.w3MaxSteps} steps)` : `at ${fmt(last.rate)}/s: ${fmt(last.delivered_per_s)} lines/s delivered, backlog ${fmt(last.behind_median_lines)} lines growing ${fmt(last.behind_growth_lines_per_s)}/s${last.writer_kept_its_rate ? '' : ' (the writer could not hold its rate)'}`,
    });
  });
}

// ---- W5: outage ---------------------------------------------------------------------------------
async function outage() {
  const rate = K.rate;
  return session('w5', defaultConfig(), async ({ dir, cli, collector, alive, hold, pid, metricsUrl, otlp, worker }) => {
    const writer = await worker('line-writer.mjs');
    const sender = await worker('span-sender.mjs');
    const sampler = sampleProcess(pid);
    const scraper = scrapeEvery(metricsUrl, K.scrapeSeconds, ['tracetail_export_queue_bytes', 'tracetail_log_file_lag_bytes']);
    const t0 = performance.now();
    await writer.rpc('start', { file: join(dir, 'logs', 'app.log'), rate, shape: 'web' });
    await sender.rpc('start', { endpoint: otlp, rate, spansPerRequest: K.spansPerRequest });
    await hold(K.w5UpSeconds * 1000);
    await collector.down();
    const tDown = performance.now();
    const downAt = Date.now();
    await hold(K.w5OutageSeconds * 1000);
    const atEnd = (await scrape(metricsUrl)).m;
    const w = await writer.rpc('progress');
    const s = await sender.rpc('progress');
    const base = (await collector.stats()).tracked;
    await collector.up();
    const tUp = performance.now();
    const collectorAtUp = procCpu(collector.pid);
    const backlog = { logs: w.written, traces: s.accepted };
    const outageState = {
      queue_mib: round(mib(atEnd('tracetail_export_queue_bytes')), 1),
      file_lag_mib: round(mib(atEnd('tracetail_log_file_lag_bytes')), 1),
      lines_written: w.written,
      lines_read: atEnd('tracetail_log_records_total'),
      spans_sent: s.issued,
      spans_accepted: s.accepted,
      span_requests_refused: s.refusedRequests,
      span_requests_failed: s.failedRequests,
      spans_refused_from_s_into_the_outage: s.firstRefusedAt ? round((s.firstRefusedAt - downAt) / 1000, 1) : null,
      otlp_refused: { 429: atEnd('tracetail_otlp_requests_total', { code: '429' }), 503: atEnd('tracetail_otlp_requests_total', { code: '503' }) },
      queue_refusals: { queue_full: atEnd('tracetail_export_queue_refusals_total', { reason: 'queue_full' }), memory_limit: atEnd('tracetail_export_queue_refusals_total', { reason: 'memory_limit' }) },
    };
    const drain = {};
    await Promise.all(
      ['logs', 'traces'].map(async (signal) => {
        const target = backlog[signal];
        await until(async () => (await collector.stats()).tracked[signal].unique > base[signal].unique, 120_000, `the first ${signal} after the collector came back`, { alive, everyMs: 20 });
        const tFirst = performance.now();
        const atFirst = (await collector.stats()).tracked[signal].unique;
        await until(async () => (await collector.stats()).tracked[signal].unique >= target, 240_000, `the ${signal} backlog of the outage at the collector`, { alive, everyMs: 20 });
        const tDone = performance.now();
        const done = (await collector.stats()).tracked[signal].unique;
        const rateOut = (done - atFirst) / ((tDone - tFirst) / 1000);
        drain[signal] = { backlog: target - base[signal].unique, first_after_up_s: round((tFirst - tUp) / 1000), seconds: round((tDone - tFirst) / 1000), items_per_s: Math.round(rateOut), multiple_of_ingest: round(rateOut / rate, 1), tDone };
      }),
    );
    const tDrained = Math.max(drain.logs.tDone, drain.traces.tDone);
    const collectorDraining = collectorAtUp === null ? null : round(((procCpu(collector.pid) - collectorAtUp) / ((tDrained - tUp) / 1000)) * 100, 0);
    const wrote = await writer.rpc('stop');
    const sent = await withDeadline(sender.rpc('stop'), 60_000, 'the span sender to have every request accepted');
    const tStop = performance.now();
    await until(async () => {
      const st = (await collector.stats()).tracked;
      return st.logs.unique >= wrote.written && st.traces.unique >= sent.issued;
    }, 120_000, `${fmt(wrote.written)} lines and ${fmt(sent.issued)} spans at the collector`, { alive });
    scraper.stop();
    sampler.stop();
    const logs = await collector.check('logs', wrote.written);
    const traces = await collector.check('traces', sent.issued);
    const up = sampler.between(t0, tDown);
    const down = sampler.between(tDown, tUp);
    const draining = sampler.between(tUp, tDrained);
    for (const d of Object.values(drain)) delete d.tDone;
    const r = {
      rate,
      up_seconds: K.w5UpSeconds,
      outage_seconds: round((tUp - tDown) / 1000, 1),
      rss_max_mib: round(mib(Math.max(up.rssMax, down.rssMax, draining?.rssMax ?? 0)), 1),
      rss_max_up_mib: round(mib(up.rssMax), 1),
      rss_max_outage_mib: round(mib(down.rssMax), 1),
      rss_max_draining_mib: round(mib(draining?.rssMax ?? 0), 1),
      peak_rss_mib: round(mib(peakRssBytes(pid)), 1),
      cpu_pct_outage: round(down.meanPct, 1),
      cpu_pct_draining: round(draining?.meanPct ?? null, 1),
      collector_cpu_pct_draining: collectorDraining,
      contention: { outage: down.contention, draining: draining?.contention ?? null },
      every_5s: scraper.series.map((x) => ({ s: round((x.t - tDown) / 1000, 0), queue_mib: round(mib(x.tracetail_export_queue_bytes), 1), file_lag_mib: round(mib(x.tracetail_log_file_lag_bytes), 1) })),
      at_end_of_outage: outageState,
      drain,
      lines_written: wrote.written,
      spans_sent: sent.issued,
      delivery: { logs: deliveryJson(logs), traces: deliveryJson(traces) },
      lost: logs.missing + traces.missing,
      seconds_after_load: round((performance.now() - tStop) / 1000),
      warnings: warningsOf(cli),
    };
    results.W5 = r;
    row({
      workload: 'W5',
      variant: 'outage',
      load: `W2's load; collector up ${K.w5UpSeconds} s, down ${fix(r.outage_seconds, 0)} s, then up`,
      rate: `drain ${fix(drain.logs.multiple_of_ingest)}x (lines), ${fix(drain.traces.multiple_of_ingest)}x (spans)`,
      cpu: `${fix(r.cpu_pct_outage, 0)}% down, ${fix(r.cpu_pct_draining, 0)}% draining`,
      cpuPerM: '-',
      rss: `max ${fix(r.rss_max_mib)} (${fix(r.rss_max_outage_mib)} down, ${fix(r.rss_max_draining_mib)} draining)`,
      latency: '-',
      delivery: `lines ${deliveryText(logs)}; spans ${deliveryText(traces)}`,
      notes: `at the end of the outage: ${fix(outageState.queue_mib)} MiB queued, file lag ${fix(outageState.file_lag_mib)} MiB, ${fmt(outageState.span_requests_refused)} span requests refused (sent again)${outageState.spans_refused_from_s_into_the_outage === null ? '' : `, from ${fix(outageState.spans_refused_from_s_into_the_outage, 0)} s into the outage`}; first export ${fix(drain.logs.first_after_up_s)} s (lines), ${fix(drain.traces.first_after_up_s)} s (spans) after the collector came back; during the outage ${contentionText(down.contention)}${r.warnings.length ? `; CLI warnings: ${r.warnings.join(' | ')}` : ''}`,
    });
  });
}

// ---- PEER: mtail and a metrics-only tracetail ---------------------------------------------------
function supportsMetricsOnly() {
  const dir = tempDir('check');
  try {
    writeFileSync(join(dir, 'c.yaml'), 'export: { enabled: false }\ncorrelation: { enabled: false }\n');
    return spawnSync(process.execPath, [CLI, 'check-config', '--config', join(dir, 'c.yaml')], { stdio: 'ignore' }).status === 0;
  } finally {
    removeDir(dir);
  }
}

async function peer() {
  const N = K.w1Lines;
  const content = jsonLines(0, N);
  const out = { lines: N, line_bytes: Math.round(content.length / N), poll_ms: K.pollMs };
  results.PEER = out;
  const version = mtailVersion();
  if (!version) {
    out.mtail = null;
    row({ workload: 'PEER', variant: 'mtail', load: 'skipped', notes: `skipped: mtail is not installed at ${MTAIL_PATH} (apt-get install mtail)` });
  } else {
    const dir = tempDir('mtail');
    try {
      const file = join(dir, 'app.log');
      writeFileSync(file, '');
      const mtail = await startMtail(dir, file);
      try {
        const pid = mtail.child.pid;
        const sampler = sampleProcess(pid);
        const cpu0 = cpuSeconds(pid);
        const t0 = performance.now();
        writeFileSync(file, content, { flag: 'a' });
        let polls = 0;
        await until(async () => (polls++, (await mtail.counted()) >= N), 300_000, `mtail to count ${fmt(N)} lines`, { everyMs: K.pollMs, alive: () => (mtail.child.exitCode !== null ? 'mtail exited' : null) });
        const seconds = (performance.now() - t0) / 1000;
        const cpu = cpuSeconds(pid) - cpu0;
        sampler.stop();
        const contention = sampler.between(t0, performance.now())?.contention ?? null;
        if (contention) contention.mtail_main_thread_waiting_for_a_core_pct = contention.cli_main_thread_waiting_for_a_core_pct;
        if (contention) delete contention.cli_main_thread_waiting_for_a_core_pct;
        out.mtail = { version, seconds: round(seconds), lines_per_s: Math.round(N / seconds), cpu_s_per_million_lines: round((cpu / N) * 1e6), peak_rss_mib: round(mib(peakRssBytes(pid)), 1), counted: await mtail.counted(), polls, contention };
      } finally {
        await mtail.stop();
      }
    } finally {
      removeDir(dir);
    }
    const x = out.mtail;
    row({ workload: 'PEER', variant: 'mtail', load: `the W1 JSON file (${fmt(N)} lines) appended at once`, rate: `${fmt(x.lines_per_s)} lines/s`, cpu: '-', cpuPerM: `${fix(x.cpu_s_per_million_lines)} per M lines`, rss: `peak ${fix(x.peak_rss_mib)}`, latency: '-', delivery: x.counted === N ? 'all counted' : `${fmt(x.counted)} counted`, notes: `${version.replace(/ git revision.*/, '')}, counts by level and trace_id presence, its /metrics polled every ${K.pollMs} ms${x.contention ? `; machine ${x.contention.machine_busy_pct_of_all_cores}% busy` : ''}` });
  }
  if (!supportsMetricsOnly()) {
    out.tracetail_metrics_only = null;
    out.note = 'this build has no export.enabled / correlation.enabled: the metrics-only row is n/a';
    row({ workload: 'PEER', variant: 'tracetail metrics-only', load: 'n/a for this build', cpuPerM: 'n/a', notes: 'n/a: this build does not know export.enabled / correlation.enabled (see W1 json-1-file for its full pipeline)' });
  } else {
    const config = (dir) => ({ logs: { include: [join(dir, 'logs/*.log')] }, export: { enabled: false }, correlation: { enabled: false } });
    await session('metrics-only', config, async ({ dir, alive, pid, metricsUrl }) => {
      const sampler = sampleProcess(pid);
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      writeFileSync(join(dir, 'logs', 'app.log'), content);
      let polls = 0;
      let counted = 0;
      await until(async () => (polls++, (counted = (await scrape(metricsUrl)).m('tracetail_log_records_total')) >= N), 300_000, `tracetail to count ${fmt(N)} lines`, { everyMs: K.pollMs, alive });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(pid) - cpu0;
      sampler.stop();
      const contention = sampler.between(t0, performance.now())?.contention ?? null;
      out.tracetail_metrics_only = { seconds: round(seconds), lines_per_s: Math.round(N / seconds), cpu_s_per_million_lines: round((cpu / N) * 1e6), peak_rss_mib: round(mib(peakRssBytes(pid)), 1), counted, polls, contention };
    }, { collector: false });
    const x = out.tracetail_metrics_only;
    row({ workload: 'PEER', variant: 'tracetail metrics-only', load: 'the same file, export and correlation off', rate: `${fmt(x.lines_per_s)} lines/s`, cpu: '-', cpuPerM: `${fix(x.cpu_s_per_million_lines)} per M lines`, rss: `peak ${fix(x.peak_rss_mib)}`, latency: '-', delivery: x.counted === N ? 'all counted' : `${fmt(x.counted)} counted`, notes: `tracetail_log_records_total polled every ${K.pollMs} ms; ${contentionText(x.contention)}` });
  }
  const full = results.W1?.['json-1-file']?.cpu_s_per_million_lines;
  if (out.mtail) {
    out.ratio_metrics_only_to_mtail = out.tracetail_metrics_only ? round(out.tracetail_metrics_only.cpu_s_per_million_lines / out.mtail.cpu_s_per_million_lines) : null;
    out.ratio_full_pipeline_to_mtail = full ? round(full / out.mtail.cpu_s_per_million_lines) : null;
    row({
      workload: 'PEER',
      variant: 'ratio',
      load: 'CPU-s per million lines, tracetail / mtail',
      rate: '-',
      cpu: '-',
      cpuPerM: `${out.ratio_metrics_only_to_mtail === null ? 'n/a' : `${fix(out.ratio_metrics_only_to_mtail, 2)}x`} metrics-only`,
      rss: '-',
      latency: '-',
      delivery: '-',
      notes: full ? `whole pipeline (W1 json-1-file): ${fix(out.ratio_full_pipeline_to_mtail, 2)}x` : '',
    });
  }
}

// ---- run ----------------------------------------------------------------------------------------
if (want('W1')) {
  await run('W1 json-1-file', () => w1('json-1-file', 1, 'json'));
  await run('W1 json-10-files', () => w1('json-10-files', 10, 'json'));
  await run('W1 text-1-file', () => w1('text-1-file', 1, 'text'));
  await run('W1 otlp-spans', () => w1Spans('otlp-spans'));
}
if (want('W2') || want('W4')) await run('W2+W4 steady load and latency', steady);
if (want('W3')) await run('W3 ramp', ramp);
if (want('W5')) await run('W5 outage', outage);
if (want('PEER')) await run('PEER mtail and metrics-only', peer);

// ---- table and results file ---------------------------------------------------------------------
const wallSeconds = (performance.now() - suiteStart) / 1000;
const COLUMNS = [
  ['workload', 'workload'],
  ['variant', 'variant'],
  ['load', 'load'],
  ['rate', 'rate'],
  ['cpu', 'CLI CPU (% of a core)'],
  ['cpuPerM', 'CLI CPU-s per M items'],
  ['rss', 'RSS MiB'],
  ['latency', 'latency'],
  ['delivery', 'delivered'],
];
const cells = rows.map((r) => COLUMNS.map(([k]) => r[k] ?? '-'));
const widths = COLUMNS.map(([, h], i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
const line = (xs) => `| ${xs.map((x, i) => String(x).padEnd(widths[i])).join(' | ')} |`;
log(`\nwhole CLI: ${build.version} (${build.cli}${build.commit ? `, commit ${build.commit}` : ''}), ${machine.cores} cores ${machine.cpu_model}, node ${machine.node}, ${new Date().toISOString()}, ${wallSeconds.toFixed(0)} s`);
log(line(COLUMNS.map(([, h]) => h)));
log(line(widths.map((w) => '-'.repeat(w))));
for (const c of cells) log(line(c));
const notes = rows.filter((r) => r.notes).map((r) => `  ${r.workload} ${r.variant}: ${r.notes}`);
if (notes.length) log(`notes:\n${notes.join('\n')}`);

const file = process.env.BENCH_RESULTS ? resolve(process.env.BENCH_RESULTS) : join(ROOT, 'bench/results/whole-cli.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), machine: { ...machine, load_average_at_end: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) }, checkout, build, workloads: ONLY.length ? ONLY : WORKLOADS, scale: SCALE, knobs: K, wall_seconds: Math.round(wallSeconds), results, failures }, null, 2)}\n`,
);
log(`results: ${relative(process.cwd(), file) || file}`);
if (failures.length) {
  log(`FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
