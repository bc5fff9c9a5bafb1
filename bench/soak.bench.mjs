// Soak: W2's load for 15 minutes (SOAK_MINUTES), to show that memory does not creep and nothing
// is lost over time. The built CLI (its executable's V8 flags, default config but for listeners
// and state directory) tails a log file that a line writer appends 10,000 JSON lines/s to, and
// receives 10,000 spans/s over OTLP/HTTP (requests of 100 spans) from a span sender; it exports to
// a decoding collector in a process of its own that checks every line and span by its number.
// Every minute the log file is rotated as logrotate's `create` does (renamed to app.log.N, the
// writer reopens app.log, created anew); a rotated file is removed once the collector has every
// line written before its rotation. Every 10 s: the CLI's RSS (/proc VmRSS) and V8 heap
// (nodejs_heap_size_used_bytes / _total_bytes on its /metrics).
//
// Pass: the median RSS of the last minute of load within 10% of the median RSS of the minute
// after warm-up (the first 2 minutes, or a fifth of a shorter run), and nothing lost.
//
//   npm run bench -- soak               15 minutes (not part of `npm run bench` or `-- all`)
//   SOAK_MINUTES=2 npm run bench -- soak
//   SOAK_RATE (lines/s and spans/s, 10000)  SOAK_WARMUP_MINUTES  BENCH_RESULTS (another results file)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CLI, metrics, rssBytes, sleep, startCli, waitUntil } from './lib/cli-process.mjs';
import { startCollector } from './lib/collector-process.mjs';
import { slope } from './lib/stats.mjs';
import { startWorker } from './lib/worker-process.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const MINUTES = env('SOAK_MINUTES', 15);
const RATE = env('SOAK_RATE', 10_000);
const WARMUP_MINUTES = env('SOAK_WARMUP_MINUTES', Math.min(2, MINUTES / 5));
const SAMPLE_S = 10;
const ROTATE_S = 60;
const SPANS_PER_REQUEST = 100;
const MAX_RSS_GROWTH = 0.1;

const mib = (b) => b / 1048576;
const fix = (n, d = 1) => (n === null || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const git = (args) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};

const machine = { cores: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version, load_average_at_start: loadAverage() };
const checkout = { commit: git(['rev-parse', '--short=12', 'HEAD']), dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '' };
console.log(`soak: ${MINUTES} min of ${RATE} lines/s + ${RATE} spans/s, log rotated every ${ROTATE_S} s, sampled every ${SAMPLE_S} s; warm-up ${WARMUP_MINUTES} min; ${machine.cores} cores (${machine.cpu_model}), node ${machine.node}, load average ${machine.load_average_at_start}, commit ${checkout.commit}${checkout.dirty ? ' (dirty)' : ''}`);

const dir = mkdtempSync(join(tmpdir(), 'tracetail-bench-soak-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
mkdirSync(join(dir, 'logs'));
const logFile = join(dir, 'logs', 'app.log');

const collector = await startCollector();
const cli = startCli(dir, { logs: { include: [join(dir, 'logs/*.log')] }, export: { otlp: { endpoint: collector.url } } });
const alive = () => cli.child.exitCode === null && cli.child.signalCode === null;
await waitUntil(() => cli.endpoints['metrics.endpoint'] && cli.endpoints['receivers.otlp.http.endpoint'], 30_000, 'the CLI to listen');
const pid = cli.child.pid;
const metricsUrl = `http://${cli.endpoints['metrics.endpoint']}/metrics`;
const writer = await startWorker(new URL('./lib/line-writer.mjs', import.meta.url));
const sender = await startWorker(new URL('./lib/span-sender.mjs', import.meta.url));

const samples = [];
const rotations = [];
let failure = null;
try {
  const t0 = performance.now();
  await writer.rpc('start', { file: logFile, rate: RATE, shape: 'web' });
  await sender.rpc('start', { endpoint: cli.endpoints['receivers.otlp.http.endpoint'], rate: RATE, spansPerRequest: SPANS_PER_REQUEST });
  const end = t0 + MINUTES * 60_000;
  let nextSample = t0;
  let nextRotation = t0 + ROTATE_S * 1000;
  while (performance.now() < end) {
    if (!alive()) throw new Error(`the CLI exited (${cli.child.exitCode ?? cli.child.signalCode}; warnings: ${cli.warnings.slice(-3).join(' | ') || 'none'})`);
    const now = performance.now();
    if (now >= nextRotation) {
      // logrotate `create`: rename, then the app opens its file again.
      const n = rotations.length + 1;
      renameSync(logFile, `${logFile}.${n}`);
      const { written } = await writer.rpc('reopen');
      rotations.push({ n, s: Math.round((now - t0) / 1000), written_before: written, removed: false });
      nextRotation += ROTATE_S * 1000;
    }
    if (now >= nextSample) {
      const m = await metrics(metricsUrl);
      const [w, s, c] = [await writer.rpc('progress'), await sender.rpc('progress'), (await collector.stats()).tracked];
      const x = {
        s: Math.round((now - t0) / 1000),
        rss_mib: mib(rssBytes(pid)),
        heap_used_mib: mib(m('nodejs_heap_size_used_bytes')),
        heap_total_mib: mib(m('nodejs_heap_size_total_bytes')),
        external_mib: mib(m('nodejs_external_memory_bytes')),
        lines_written: w.written,
        lines_delivered: c.logs.unique,
        spans_accepted: s.accepted,
        spans_delivered: c.traces.unique,
        queue_mib: mib(m('tracetail_export_queue_bytes')),
        file_lag_mib: mib(m('tracetail_log_file_lag_bytes')),
      };
      samples.push(x);
      console.log(
        `  ${String(x.s).padStart(4)} s  RSS ${fix(x.rss_mib)} MiB  heap ${fix(x.heap_used_mib)}/${fix(x.heap_total_mib)} MiB  external ${fix(x.external_mib)} MiB  lines ${x.lines_written} written, ${x.lines_delivered} delivered  spans ${x.spans_accepted} accepted, ${x.spans_delivered} delivered  queue ${fix(x.queue_mib)} MiB  file lag ${fix(x.file_lag_mib, 2)} MiB`,
      );
      // Rotated generations the collector has every line of are removed, as logrotate would.
      for (const r of rotations) {
        if (!r.removed && c.logs.unique >= r.written_before && existsSync(`${logFile}.${r.n}`)) {
          rmSync(`${logFile}.${r.n}`);
          r.removed = true;
        }
      }
      nextSample += SAMPLE_S * 1000;
    }
    await sleep(Math.max(10, Math.min(nextSample, nextRotation, end) - performance.now()));
  }
  const wrote = await writer.rpc('stop');
  const sent = await sender.rpc('stop');
  const tStop = performance.now();
  await waitUntil(async () => {
    const c = (await collector.stats()).tracked;
    return c.logs.unique >= wrote.written && c.traces.unique >= sent.issued;
  }, 180_000, `${wrote.written} lines and ${sent.issued} spans at the collector`).catch((err) => (failure = err.message));
  const drainSeconds = (performance.now() - tStop) / 1000;
  const logs = await collector.check('logs', wrote.written);
  const traces = await collector.check('traces', sent.issued);
  const m = await metrics(metricsUrl);

  const loadEnd = MINUTES * 60;
  const warm = samples.filter((x) => x.s >= WARMUP_MINUTES * 60 && x.s < WARMUP_MINUTES * 60 + 60);
  const last = samples.filter((x) => x.s >= loadEnd - 60);
  const rssWarm = median(warm.map((x) => x.rss_mib));
  const rssEnd = median(last.map((x) => x.rss_mib));
  const ratio = rssEnd / rssWarm;
  const after = samples.filter((x) => x.s >= WARMUP_MINUTES * 60);
  const heapTrend = slope(after.map((x) => [x.s / 60, x.heap_used_mib]));
  const rssTrend = slope(after.map((x) => [x.s / 60, x.rss_mib]));
  const lost = logs.missing + traces.missing;
  const pass = { rss_within_10pct: Math.abs(ratio - 1) <= MAX_RSS_GROWTH, nothing_lost: lost === 0 && !failure };
  const result = {
    date: new Date().toISOString(),
    machine: { ...machine, load_average_at_end: loadAverage() },
    checkout,
    cli: relative(ROOT, CLI) || CLI,
    knobs: { minutes: MINUTES, rate: RATE, warmup_minutes: WARMUP_MINUTES, sample_s: SAMPLE_S, rotate_s: ROTATE_S, spans_per_request: SPANS_PER_REQUEST },
    rss_after_warmup_mib: Number(fix(rssWarm)),
    rss_at_end_mib: Number(fix(rssEnd)),
    rss_ratio: Number(fix(ratio, 3)),
    rss_max_mib: Number(fix(Math.max(...samples.map((x) => x.rss_mib)))),
    rss_trend_mib_per_min_after_warmup: Number(fix(rssTrend, 2)),
    heap_used_after_warmup_mib: Number(fix(median(warm.map((x) => x.heap_used_mib)))),
    heap_used_at_end_mib: Number(fix(median(last.map((x) => x.heap_used_mib)))),
    heap_trend_mib_per_min_after_warmup: Number(fix(heapTrend, 3)),
    rotations: rotations.length,
    rotations_seen: m('tracetail_log_rotations_total'),
    lines: { written: wrote.written, delivered: wrote.written - logs.missing, lost: logs.missing, duplicates: logs.duplicates, foreign: logs.foreign },
    spans: { sent: sent.issued, delivered: sent.issued - traces.missing, lost: traces.missing, duplicates: traces.duplicates, foreign: traces.foreign, requests_refused: sent.refusedRequests, requests_failed: sent.failedRequests },
    drain_seconds_after_load: Number(fix(drainSeconds)),
    failure,
    pass,
    warnings: [...new Set(cli.warnings)].slice(0, 5),
    samples: samples.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k.endsWith('_mib') ? Number(fix(v, 2)) : v]))),
  };
  const file = process.env.BENCH_RESULTS ? resolve(process.env.BENCH_RESULTS) : join(ROOT, 'bench/results/soak.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  const rows = [
    ['RSS after warm-up (median of minute ' + `${WARMUP_MINUTES}-${WARMUP_MINUTES + 1})`, `${fix(rssWarm)} MiB`],
    ['RSS at end (median of the last minute)', `${fix(rssEnd)} MiB`],
    ['ratio end / warm-up', `${fix(ratio, 3)} (pass: within ${MAX_RSS_GROWTH * 100}%)`],
    ['RSS max', `${fix(result.rss_max_mib)} MiB`],
    ['RSS trend after warm-up', `${fix(rssTrend, 2)} MiB/min`],
    ['heap used, warm-up -> end', `${fix(result.heap_used_after_warmup_mib)} -> ${fix(result.heap_used_at_end_mib)} MiB (trend ${fix(heapTrend, 3)} MiB/min)`],
    ['log rotations (done / seen by the CLI)', `${rotations.length} / ${result.rotations_seen}`],
    ['lines written / delivered (unique)', `${wrote.written} / ${result.lines.delivered}: ${logs.missing} lost, ${logs.duplicates} duplicates`],
    ['spans sent / delivered (unique)', `${sent.issued} / ${result.spans.delivered}: ${traces.missing} lost, ${traces.duplicates} duplicates`],
    ['load average start / end', `${machine.load_average_at_start} / ${result.machine.load_average_at_end}`],
  ];
  console.log(`\nsoak, ${MINUTES} min:`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(48)} ${v}`);
  console.log(`  PASS criteria: RSS at end within ${MAX_RSS_GROWTH * 100}% of RSS after warm-up: ${pass.rss_within_10pct ? 'met' : 'NOT met'}; nothing lost: ${pass.nothing_lost ? 'met' : `NOT met${failure ? ` (${failure})` : ''}`}`);
  console.log(`results: ${relative(process.cwd(), file) || file}`);
  if (!pass.rss_within_10pct || !pass.nothing_lost) process.exitCode = 1;
} catch (err) {
  console.error(`soak FAILED: ${err.stack}`);
  process.exitCode = 1;
} finally {
  await writer.close();
  await sender.close();
  await cli.stop();
  await collector.close();
}
