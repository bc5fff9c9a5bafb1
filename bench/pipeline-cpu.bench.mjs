// The whole pipeline's CPU per item, with the built CLI as a child process and a decoding collector
// (in its own process) that is up, default config otherwise (correlation, span and log metrics,
// gzip export, the SQLite queue):
//
//   1. log lines: pino-style JSON lines (~300 B, each with its own trace id) written to a watched
//      file at once; measured until the collector has every record;
//   2. spans: OTLP/HTTP protobuf requests of 512 web-server spans (random ids), 4 in flight;
//      measured until the collector has every span.
//
// Prints items/s and the CLI's CPU time (user + system, all its threads: gzip and SQLite
// included) per item, and its peak RSS. The CPU figures move less with other load on the machine
// than the rates do.
//
//   npm run bench -- pipeline-cpu      BENCH_LINES=200000  BENCH_SPAN_REQUESTS=400
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Long from 'long';
import { closeAgent, cpuSeconds, postTraces, rssBytes, startCli, waitUntil } from './lib/cli-process.mjs';
import { startCollector } from './lib/collector-process.mjs';
import { pinoLine } from './lib/log-lines.mjs';
import { webSpan } from './lib/web-span.mjs';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url));
const { encodeRequest } = await dist('otlp/codec.js');
const { keyValue } = await dist('otlp/values.js');

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const SPAN_REQUESTS = Number(process.env.BENCH_SPAN_REQUESTS ?? 400);
const SPANS_PER_REQUEST = 512;
const IN_FLIGHT = 4;
const TIMEOUT_MS = 300_000;

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mib = (b) => (b / 1048576).toFixed(1);


const resource = { attributes: [keyValue('service.name', 'checkout'), keyValue('service.version', '1.4.2'), keyValue('host.name', 'checkout-7d9f8-abcde')] };
function spanRequest(first) {
  const start = Long.fromNumber(Date.now() * 1e6, true);
  const spans = Array.from({ length: SPANS_PER_REQUEST }, (_, i) => webSpan(first + i, start));
  return encodeRequest('traces', { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans }] }] });
}

const collector = await startCollector();
const dir = mkdtempSync(join(tmpdir(), 'tracetail-bench-pipeline-'));
mkdirSync(join(dir, 'logs'));
const lines = Array.from({ length: LINES }, (_, i) => pinoLine(i)).join('');
const requests = Array.from({ length: SPAN_REQUESTS }, (_, i) => spanRequest(i * SPANS_PER_REQUEST));

const cli = startCli(dir, { logs: { include: [join(dir, 'logs/**/*.log')], format: 'json' }, export: { otlp: { endpoint: collector.url } } });
await waitUntil(() => cli.endpoints['metrics.endpoint'] && cli.endpoints['receivers.otlp.http.endpoint'], 30_000, 'the CLI to listen');
const pid = cli.child.pid;
let peakRss = rssBytes(pid);
const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 250);

async function measure(signal, count, feed) {
  const base = (await collector.stats()).counts[signal];
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await feed();
  await waitUntil(async () => (await collector.stats()).counts[signal] >= base + count, TIMEOUT_MS, `${fmt(count)} ${signal} at the collector`);
  const seconds = (performance.now() - t0) / 1000;
  return { rate: count / seconds, cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / count, seconds };
}

console.log(`whole pipeline, built CLI, collector up: ${fmt(LINES)} JSON lines (${Math.round(lines.length / LINES)} B, trace ids), then ${fmt(SPAN_REQUESTS * SPANS_PER_REQUEST)} spans in requests of ${SPANS_PER_REQUEST}`);
const logs = await measure('logs', LINES, async () => writeFileSync(join(dir, 'logs', 'app.log'), lines));
console.log(`  log lines: ${fmt(logs.rate)} lines/s, ${logs.cpuUs.toFixed(1)} µs of CLI CPU per line (read, parse, trace context, correlation, log metrics, queue, gzip export)`);
const spans = await measure('traces', SPAN_REQUESTS * SPANS_PER_REQUEST, async () => {
  let next = 0;
  const refused = [];
  const worker = async () => {
    while (next < requests.length) {
      const body = requests[next++];
      const status = await postTraces(cli.endpoints['receivers.otlp.http.endpoint'], body);
      if (status !== 200) refused.push(status);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (refused.length > 0) throw new Error(`requests refused: ${refused.join(', ')}`);
});
console.log(`  spans:     ${fmt(spans.rate)} spans/s, ${spans.cpuUs.toFixed(1)} µs of CLI CPU per span (receive, decode, span metrics, correlation, queue, gzip export)`);
clearInterval(sampler);
console.log(`  peak RSS ${mib(peakRss)} MiB; CLI warnings: ${[...new Set(cli.warnings)].join(' | ') || 'none'}`);
console.log(`summary ${JSON.stringify({ lines_per_s: Math.round(logs.rate), cpu_us_per_line: +logs.cpuUs.toFixed(2), spans_per_s: Math.round(spans.rate), cpu_us_per_span: +spans.cpuUs.toFixed(2), peak_rss_mib: +mib(peakRss) })}`);

cli.child.kill('SIGTERM');
await cli.exited;
closeAgent();
await collector.close();
rmSync(dir, { recursive: true, force: true });
