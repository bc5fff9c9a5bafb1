// Export benchmark: the durable queue, the sender and the OTLP/HTTP transport, in-process, to a
// collector in a child process that only decodes.
//
//   1. drain after an outage (first, so its RSS is that of a fresh process): ingest at a steady
//      rate while the collector is down, bring it back, and measure the export rate while the
//      backlog drains, as a multiple of the ingest rate (goal: >= 3x);
//   2. throughput: spans/s and log records/s draining a pre-filled queue (default config: batches
//      of up to 8192 items / 4 MiB, gzip, protobuf), and how concurrency changes it;
//   3. the transport choice: OtlpHttpTransport against the OpenTelemetry exporter's HTTP delegate
//      (createOtlpHttpExportDelegate with an identity serializer) on the same pre-encoded payloads:
//      throughput, and how many requests one export makes against a backend answering 503.
//
// Environment: BENCH_SPANS, BENCH_LOGS (items for 2), BENCH_RATE (items/s per signal for 1),
// BENCH_OUTAGE_S (outage length for 1), BENCH_ONLY=throughput|drain|transport.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Long from 'long';
import { pino } from 'pino';
import { startCollector } from './lib/collector-process.mjs';
import { webSpan } from './lib/web-span.mjs';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url));
const { Store } = await dist('storage/store.js');
const { QueueWriter } = await dist('exporters/queue-writer.js');
const { QueueSender } = await dist('exporters/queue-sender.js');
const { OtlpHttpTransport } = await dist('exporters/otlp-http-transport.js');
const { Telemetry } = await dist('metrics/telemetry.js');
const { keyValue } = await dist('otlp/values.js');
const { encodeRequest } = await dist('otlp/codec.js');
const { loadConfig } = await dist('config/load.js');
const { batchOptions, retryOptions } = await dist('exporters/index.js');

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const ONLY = process.env.BENCH_ONLY;
const log = pino({ level: 'silent' });
const defaults = loadConfig({ text: '', env: {} });
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---- data: spans and log records shaped like a web service's -----------------------------------
const resource = { attributes: [keyValue('service.name', 'checkout'), keyValue('service.version', '1.4.2'), keyValue('host.name', 'checkout-7d9f8-abcde')] };

function spans(first, count) {
  const out = [];
  for (let i = first; i < first + count; i++) {
    const span = webSpan(i, Long.fromString('1700000000000000000', true).add(i * 1000));
    span.attributes.push(keyValue('enduser.id', `user-${i % 1000}`));
    out.push(span);
  }
  return { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans: out }] }], transport: 'bench' };
}

function logs(first, count) {
  const out = [];
  for (let i = first; i < first + count; i++) {
    const traceId = randomBytes(16);
    const t = Long.fromString('1700000000000000000', true).add(i * 1000);
    out.push({
      timeUnixNano: t,
      observedTimeUnixNano: t.add(500),
      severityNumber: 9,
      severityText: 'info',
      body: { stringValue: `order ${i} processed in 12ms for customer ${i % 1000} (items=3, total=42.10 EUR)` },
      attributes: [
        keyValue('log.file.path', '/var/log/app/checkout.log'),
        keyValue('log.file.name', 'checkout.log'),
        keyValue('order_id', i),
        keyValue('customer', `c-${i % 1000}`),
      ],
      traceId,
      spanId: randomBytes(8),
      flags: 1,
    });
  }
  return { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'tracetail' }, logRecords: out }] }], transport: 'bench' };
}

const make = { traces: spans, logs };
const unit = { traces: 'spans', logs: 'log records' };

function target(url, signal, extra = {}) {
  return {
    url: `${url}/v1/${signal}`,
    protocol: 'http/protobuf',
    headers: {},
    compression: 'gzip',
    timeoutMs: 10_000,
    tls: { caFile: null, certFile: null, keyFile: null, insecureSkipVerify: false },
    ...extra,
  };
}

function sender(store, signal, url, { concurrency = defaults.export.concurrency, compression = 'gzip', protocol = 'http/protobuf' } = {}) {
  return new QueueSender({
    signal,
    store,
    transport: new OtlpHttpTransport({ target: target(url, signal, { compression, protocol }), maxSockets: concurrency }),
    telemetry: new Telemetry({ processMetrics: false }),
    log,
    batch: batchOptions(defaults, signal),
    retry: retryOptions(defaults),
    concurrency,
  });
}

function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), 'tracetail-bench-'));
  return { dir, store: Store.open(dir, { maxQueueBytes: 8 * 1024 ** 3 }) };
}

const waitUntil = async (check, intervalMs = 20) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, intervalMs));
};

// ---- 2. throughput ------------------------------------------------------------------------------
async function throughput(collector, signal, items, options = {}) {
  const { dir, store } = tempStore();
  const writer = new QueueWriter(signal, store);
  for (let i = 0; i < items; i += 512) await writer.consume(make[signal](i, Math.min(512, items - i)));
  const queuedBytes = store.queueStats(signal).bytes;
  const before = await collector.stats();
  const s = sender(store, signal, collector.url, options);
  const t0 = performance.now();
  await s.start();
  await s.flush();
  const seconds = (performance.now() - t0) / 1000;
  await s.stop();
  const after = await collector.stats();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const arrived = after.counts[signal] - before.counts[signal];
  if (arrived !== items) throw new Error(`${signal}: ${arrived} of ${items} arrived`);
  return {
    perSecond: items / seconds,
    requests: after.requests - before.requests,
    mbPerSecond: queuedBytes / 1048576 / seconds,
    wireRatio: (after.wireBytes - before.wireBytes) / queuedBytes,
  };
}

// ---- 1. drain after an outage -------------------------------------------------------------------
async function drainAfterOutage(collector, rate, outageSeconds) {
  const { dir, store } = tempStore();
  const signals = ['traces', 'logs'];
  const senders = Object.fromEntries(signals.map((s) => [s, sender(store, s, collector.url)]));
  const writers = Object.fromEntries(signals.map((s) => [s, new QueueWriter(s, store, { onEnqueued: () => senders[s].wake() })]));
  await collector.down();
  for (const s of signals) await senders[s].start();

  const tickMs = 100;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ingested = { traces: 0, logs: 0 };
  let peakRss = 0;
  const t0 = performance.now();
  let ticks = 0;
  let ingesting = true;
  // Ingest on a fixed schedule (catching up if a tick ran late) so the rate holds under load.
  const ingest = (async () => {
    while (ingesting) {
      ticks++;
      for (const s of signals) {
        await writers[s].consume(make[s](ingested[s], perTick));
        ingested[s] += perTick;
      }
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const next = t0 + ticks * tickMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();

  await new Promise((r) => setTimeout(r, outageSeconds * 1000));
  const outagePeakRss = peakRss;
  peakRss = 0;
  const backlog = Object.fromEntries(signals.map((s) => [s, store.queueStats(s).items]));
  const base = await collector.stats();
  await collector.up();
  const tUp = performance.now();
  const results = {};
  await Promise.all(
    signals.map(async (s) => {
      await waitUntil(async () => (await collector.stats()).counts[s] > base.counts[s], 20);
      const tFirst = performance.now();
      const atFirst = (await collector.stats()).counts[s];
      const backlogAtFirst = store.queueStats(s).items;
      // Drained: what is left is younger than one second (the queue only holds fresh items).
      await waitUntil(() => {
        const q = store.queueStats(s);
        return q.entries === 0 || Date.now() - q.oldestCreatedAt < 1000;
      }, 20);
      const tDrained = performance.now();
      const exported = (await collector.stats()).counts[s] - atFirst;
      const seconds = (tDrained - tFirst) / 1000;
      results[s] = { backlog: backlog[s], backlogAtFirst, firstExportAfterUp: (tFirst - tUp) / 1000, drainSeconds: seconds, exportRate: exported / seconds };
    }),
  );
  ingesting = false;
  await ingest;
  const ingestRate = (ingested.traces / ((performance.now() - t0) / 1000));
  for (const s of signals) await senders[s].stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { results, ingestRate, outagePeakRss, drainPeakRss: peakRss };
}

// ---- 3. the transport choice --------------------------------------------------------------------
async function transportChoice(collector) {
  const { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } = await import('@opentelemetry/otlp-exporter-base/node-http');
  const payload = encodeRequest('traces', { resourceSpans: spans(0, 1000).resourceSpans });
  const requests = 300;
  const workers = 2;
  const ours = new OtlpHttpTransport({ target: target(collector.url, 'traces'), maxSockets: workers });
  const delegate = createOtlpHttpExportDelegate(
    {
      url: `${collector.url}/v1/traces`,
      headers: async () => ({ 'Content-Type': 'application/x-protobuf' }),
      compression: 'gzip',
      timeoutMillis: 10_000,
      concurrencyLimit: 30,
      agentFactory: httpAgentFactoryFromOptions({ keepAlive: true, maxSockets: workers }),
    },
    { serializeRequest: (r) => r, deserializeResponse: (d) => d },
    'bench',
    { name: 'span', countItems: () => 1000 },
    undefined,
  );
  const viaOurs = () => ours.send('traces', payload, 1000).then((r) => r.kind === 'success');
  const viaDelegate = () => new Promise((resolve) => delegate.export(payload, (r) => resolve(r.code === 0)));

  async function rate(send) {
    let left = requests;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (left-- > 0) if (!(await send())) failed++;
      }),
    );
    if (failed) throw new Error(`${failed} failed exports`);
    return (requests * 1000) / ((performance.now() - t0) / 1000);
  }
  // Alternate rounds and keep the medians: a shared machine's noise hits both alike.
  await rate(viaOurs); // warm-up
  await rate(viaDelegate);
  const ourRounds = [];
  const delegateRounds = [];
  for (let i = 0; i < 5; i++) {
    ourRounds.push(await rate(viaOurs));
    delegateRounds.push(await rate(viaDelegate));
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const oursRate = median(ourRounds);
  const delegateRate = median(delegateRounds);

  await collector.mode('503');
  async function amplification(send) {
    const before = (await collector.stats()).requests;
    const t0 = performance.now();
    await send();
    return { requests: (await collector.stats()).requests - before, seconds: (performance.now() - t0) / 1000 };
  }
  const oursOn503 = await amplification(viaOurs);
  const delegateOn503 = await amplification(viaDelegate);
  await collector.mode('ok');
  await ours.close();
  await delegate.shutdown();
  return { oursRate, delegateRate, oursOn503, delegateOn503 };
}

// ---- run ----------------------------------------------------------------------------------------
const collector = await startCollector();
const summary = {};
try {
  if (!ONLY || ONLY === 'drain') {
    const rate = env('BENCH_RATE', 5000);
    const outage = env('BENCH_OUTAGE_S', 20);
    console.log(`drain after an outage: ${fmt(rate)} spans/s + ${fmt(rate)} log records/s ingested throughout, collector down for ${outage}s (default retry and breaker settings)`);
    const d = await drainAfterOutage(collector, rate, outage);
    for (const [signal, r] of Object.entries(d.results)) {
      const multiple = r.exportRate / d.ingestRate;
      console.log(
        `  ${signal.padEnd(6)} backlog ${fmt(r.backlog)} when the collector returned, first export ${r.firstExportAfterUp.toFixed(1)}s later (next breaker probe) with ${fmt(r.backlogAtFirst)} queued, drained in ${r.drainSeconds.toFixed(1)}s at ${fmt(r.exportRate)} ${unit[signal]}/s = ${multiple.toFixed(1)}x the ingest rate ${multiple >= 3 ? '(goal >= 3x: met)' : '(goal >= 3x: NOT met)'}`,
      );
      summary[`${signal}_drain_multiple`] = Number(multiple.toFixed(2));
    }
    const mib = (b) => (b / 1048576).toFixed(0);
    console.log(`  measured ingest rate ${fmt(d.ingestRate)}/s per signal; peak RSS ${mib(d.outagePeakRss)} MiB during the outage, ${mib(d.drainPeakRss)} MiB while draining`);
  }

  if (!ONLY || ONLY === 'throughput') {
    console.log(`export throughput (queue -> OtlpHttpTransport -> decoding collector; batches ${defaults.export.batch.max_items} items / ${defaults.export.batch.max_bytes} bytes)`);
    for (const [signal, items] of [
      ['traces', env('BENCH_SPANS', 200_000)],
      ['logs', env('BENCH_LOGS', 200_000)],
    ]) {
      for (const concurrency of [1, 2, 4]) {
        const r = await throughput(collector, signal, items, { concurrency });
        const mark = concurrency === defaults.export.concurrency ? ' (default)' : '';
        console.log(
          `  ${signal.padEnd(6)} gzip  concurrency ${concurrency}${mark.padEnd(10)} ${fmt(r.perSecond).padStart(9)} ${unit[signal]}/s  ${r.mbPerSecond.toFixed(1)} MiB/s  ${r.requests} requests  wire/raw ${r.wireRatio.toFixed(2)}`,
        );
        if (concurrency === defaults.export.concurrency) summary[`${signal}_per_second`] = Math.round(r.perSecond);
      }
      const plain = await throughput(collector, signal, items, { compression: 'none' });
      console.log(`  ${signal.padEnd(6)} none  concurrency ${defaults.export.concurrency}           ${fmt(plain.perSecond).padStart(9)} ${unit[signal]}/s  ${plain.mbPerSecond.toFixed(1)} MiB/s`);
      const json = await throughput(collector, signal, Math.min(items, 50_000), { protocol: 'http/json' });
      console.log(`  ${signal.padEnd(6)} json+gzip concurrency ${defaults.export.concurrency}       ${fmt(json.perSecond).padStart(9)} ${unit[signal]}/s`);
    }
  }

  if (!ONLY || ONLY === 'transport') {
    const t = await transportChoice(collector);
    console.log('transport choice (same pre-encoded 1000-span requests, gzip, 2 in flight; medians of 5 alternating rounds):');
    console.log(`  OtlpHttpTransport (node:http)            ${fmt(t.oursRate)} spans/s; against 503: ${t.oursOn503.requests} request, returns in ${t.oursOn503.seconds.toFixed(2)}s (the sender schedules the retry)`);
    console.log(`  OTel createOtlpHttpExportDelegate        ${fmt(t.delegateRate)} spans/s; against 503: ${t.delegateOn503.requests} requests, returns FAILED after ${t.delegateOn503.seconds.toFixed(1)}s (its own retries, then ours on top)`);
    summary.transport_spans_per_second = Math.round(t.oursRate);
    summary.delegate_spans_per_second = Math.round(t.delegateRate);
    summary.delegate_requests_per_export_on_503 = t.delegateOn503.requests;
  }
  console.log(`summary ${JSON.stringify(summary)}`);
} finally {
  await collector.close();
}
