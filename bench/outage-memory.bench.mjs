// Memory during an outage, with the built CLI as a child process and a decoding collector (in its
// own process) that is down: log lines appended to a watched file and spans sent over OTLP/HTTP
// (protobuf, pre-encoded requests of 100 spans, from this process) at a steady rate. The CLI's RSS
// (VmRSS) is sampled every second; at the end of the outage the peak and final RSS, the queue
// bytes and what was accepted are printed. Then the collector comes back while the input goes on,
// and the drain rate is printed as a multiple of the ingest rate. Default config otherwise
// (limits.memory_mib 200, breaker probe every 15 s, batches of 8192).
//
//   npm run bench -- outage-memory     BENCH_SECONDS=60 (outage length)  BENCH_RATE=5000 (lines/s and spans/s)
//   BENCH_CONFIG='{"correlation":{"max_bytes":"8MiB"}}' merges config keys over the defaults (to see what memory is whose)
//   BENCH_NODE_ARGS='--max-semi-space-size=8' gives the CLI's node these options (to compare V8 settings)
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Long from 'long';
import { closeAgent, cpuSeconds, metrics, postTraces, rssBytes, sleep, startCli, waitUntil } from './lib/cli-process.mjs';
import { startCollector } from './lib/collector-process.mjs';
import { webSpan } from './lib/web-span.mjs';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url));
const { encodeRequest } = await dist('otlp/codec.js');
const { keyValue } = await dist('otlp/values.js');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SPANS_PER_REQUEST = 100;
const TICK_MS = 100;
const RSS_TARGET_MIB = 150;
const DRAIN_TIMEOUT_S = Number(process.env.BENCH_DRAIN_TIMEOUT_S ?? 300);

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mib = (b) => (b / 1048576).toFixed(1);

// ---- input: spans and lines shaped like a web service's -----------------------------------------
const resource = { attributes: [keyValue('service.name', 'checkout'), keyValue('service.version', '1.4.2'), keyValue('host.name', 'checkout-7d9f8-abcde')] };

function spanRequest(first) {
  const spans = [];
  for (let i = first; i < first + SPANS_PER_REQUEST; i++) {
    const start = Long.fromNumber(Date.now() * 1e6, true);
    spans.push(webSpan(i, start));
  }
  return encodeRequest('traces', { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans }] }] });
}

function lines(first, count) {
  const time = new Date().toISOString();
  let out = '';
  for (let i = first; i < first + count; i++) {
    const traceId = randomBytes(16).toString('hex');
    out += `{"time":"${time}","level":"info","msg":"order ${i} processed in 12ms","trace_id":"${traceId}","span_id":"${traceId.slice(0, 16)}","order_id":${i},"customer":"c-${i % 1000}","items":3,"total":42.1}\n`;
  }
  return out;
}

// ---- run ----------------------------------------------------------------------------------------
const collector = await startCollector();
await collector.down();
const dir = mkdtempSync(join(tmpdir(), 'tracetail-bench-outage-'));
mkdirSync(join(dir, 'logs'));
const logFile = join(dir, 'logs', 'app.log');
writeFileSync(logFile, '');

console.log(`outage: ${fmt(RATE)} lines/s + ${fmt(RATE)} spans/s (OTLP/HTTP protobuf, ${SPANS_PER_REQUEST} spans a request) into the built CLI for ${SECONDS}s with the collector down`);
// Pre-encoded before the clock starts: what the outage needs, reused round-robin while draining.
const pool = Array.from({ length: Math.ceil((RATE * SECONDS) / SPANS_PER_REQUEST) + 50 }, (_, i) => spanRequest(i * SPANS_PER_REQUEST));

const cli = startCli(dir, { logs: { include: [join(dir, 'logs/**/*.log')], format: 'json' }, export: { otlp: { endpoint: collector.url } } });
await waitUntil(() => cli.endpoints['metrics.endpoint'] && cli.endpoints['receivers.otlp.http.endpoint'], 30_000, 'the CLI to listen');
const metricsUrl = `http://${cli.endpoints['metrics.endpoint']}/metrics`;
const otlp = cli.endpoints['receivers.otlp.http.endpoint'];
const pid = cli.child.pid;
const startRss = rssBytes(pid);
const startCpu = cpuSeconds(pid);

const sent = { lines: 0, spanRequests: 0, spansAccepted: 0, refusals: 0 };
const retryLater = [];
let ingesting = true;
let ticks = 0;
const t0 = performance.now();
const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
const requestsPerTick = perTick / SPANS_PER_REQUEST;
let requestCredit = 0;
// Ingest on a fixed schedule (catching up when a tick ran late) so the rate holds under load.
const ingest = (async () => {
  while (ingesting) {
    ticks++;
    appendFileSync(logFile, lines(sent.lines, perTick));
    sent.lines += perTick;
    requestCredit += requestsPerTick;
    const batch = [];
    while (requestCredit >= 1) {
      requestCredit--;
      batch.push(retryLater.shift() ?? pool[sent.spanRequests++ % pool.length]);
    }
    const statuses = await Promise.all(batch.map((body) => postTraces(otlp, body)));
    statuses.forEach((status, i) => {
      if (status === 200) sent.spansAccepted += SPANS_PER_REQUEST;
      else {
        sent.refusals++;
        retryLater.push(batch[i]);
      }
    });
    const next = t0 + ticks * TICK_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
})();

const samples = [];
const acceptedBySecond = [];
let peakRss = 0;
const sampler = setInterval(() => {
  const rss = rssBytes(pid);
  samples.push(rss);
  acceptedBySecond.push(sent.spansAccepted);
  peakRss = Math.max(peakRss, rss);
}, 1000);

await sleep(SECONDS * 1000);
const outageSeconds = (performance.now() - t0) / 1000;
if (process.env.BENCH_HEAPSNAPSHOT) cli.child.kill('SIGUSR2'); // with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2
const finalRss = rssBytes(pid);
const outageCpu = cpuSeconds(pid) - startCpu;
const outagePeak = Math.max(peakRss, finalRss);
const m = await metrics(metricsUrl);
const queueBytes = m('tracetail_export_queue_bytes');
const linesAccepted = m('tracetail_log_records_total');
const lag = m('tracetail_log_file_lag_bytes');
const otlpRefused = { 429: m('tracetail_otlp_requests_total', { code: '429' }), 503: m('tracetail_otlp_requests_total', { code: '503' }) };
const refusedBatches = { queue_full: m('tracetail_export_queue_refusals_total', { reason: 'queue_full' }), memory_limit: m('tracetail_export_queue_refusals_total', { reason: 'memory_limit' }) };
console.log(`  RSS: ${mib(startRss)} MiB at start, peak ${mib(outagePeak)} MiB, final ${mib(finalRss)} MiB (target < ${RSS_TARGET_MIB} MiB: ${outagePeak < RSS_TARGET_MIB * 1048576 ? 'met' : 'NOT met'})`);
console.log(`  CPU of the CLI during the outage: ${outageCpu.toFixed(1)} s (${((outageCpu / outageSeconds) * 100).toFixed(0)}% of one core)`);
console.log(`  at the end of the outage: heap used ${mib(m('nodejs_heap_size_used_bytes'))} MiB of ${mib(m('nodejs_heap_size_total_bytes'))} MiB, external ${mib(m('nodejs_external_memory_bytes'))} MiB; trace index ${fmt(m('tracetail_correlation_index_traces'))} traces, estimated ${mib(m('tracetail_correlation_index_bytes'))} MiB`);
const every5 = (xs) => xs.filter((_, i) => i % 5 === 4);
console.log(`  every 5 s: RSS (MiB) ${every5(samples).map(mib).join(' ')}; spans answered 200 in the last 5 s ${every5(acceptedBySecond).map((n, i, a) => fmt(n - (a[i - 1] ?? 0))).join(' ')}`);
console.log(
  `  accepted in ${outageSeconds.toFixed(1)}s: ${fmt(linesAccepted)} of ${fmt(sent.lines)} lines written (file lag ${fmt(lag)} bytes), ${fmt(sent.spansAccepted)} spans answered 200 (${sent.refusals} requests refused and sent again); queue ${mib(queueBytes)} MiB; OTLP requests refused ${JSON.stringify(otlpRefused)}, batches refused at the queue ${JSON.stringify(refusedBatches)}`,
);

// ---- the collector comes back while the input goes on ------------------------------------------
const base = (await collector.stats()).counts;
const backlog = { traces: sent.spansAccepted, logs: linesAccepted };
await collector.up();
const tUp = performance.now();
const drain = {};
try {
  await Promise.all(
    ['traces', 'logs'].map(async (signal) => {
      if (backlog[signal] === 0) return;
      await waitUntil(async () => (await collector.stats()).counts[signal] > base[signal], DRAIN_TIMEOUT_S * 1000, `the first ${signal} export`);
      const tFirst = performance.now();
      const atFirst = (await collector.stats()).counts[signal];
      // Drained when what was accepted during the outage has arrived (one request in flight: queue order).
      await waitUntil(async () => (await collector.stats()).counts[signal] >= backlog[signal], DRAIN_TIMEOUT_S * 1000, `the ${signal} backlog to drain`);
      const tDrained = performance.now();
      const exported = (await collector.stats()).counts[signal] - atFirst;
      drain[signal] = { firstAfterUp: (tFirst - tUp) / 1000, seconds: (tDrained - tFirst) / 1000, rate: exported / ((tDrained - tFirst) / 1000) };
    }),
  );
} finally {
  ingesting = false;
  await ingest;
  clearInterval(sampler);
}
const summary = { peak_rss_mib: Number(mib(outagePeak)), final_rss_mib: Number(mib(finalRss)), outage_cpu_s: Number(outageCpu.toFixed(1)), queue_mib: Number(mib(queueBytes)) };
const drainPeak = Math.max(0, ...samples.slice(Math.floor(outageSeconds)));
for (const [signal, d] of Object.entries(drain)) {
  const multiple = d.rate / RATE;
  console.log(
    `  ${signal.padEnd(6)} backlog ${fmt(backlog[signal])}, first export ${d.firstAfterUp.toFixed(1)}s after the collector came up (next breaker probe), drained in ${d.seconds.toFixed(1)}s at ${fmt(d.rate)}/s = ${multiple.toFixed(1)}x the ingest rate`,
  );
  summary[`${signal}_drain_multiple`] = Number(multiple.toFixed(2));
}
console.log(`  peak RSS while draining ${mib(drainPeak)} MiB; CLI warnings: ${[...new Set(cli.warnings)].join(' | ') || 'none'}`);
console.log(`summary ${JSON.stringify(summary)}`);

cli.child.kill('SIGTERM');
await cli.exited;
closeAgent();
await collector.close();
rmSync(dir, { recursive: true, force: true });
