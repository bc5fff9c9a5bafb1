// OTLP/HTTP ingest throughput: protobuf requests of 512 spans through the real receiver (body read,
// decode, id checks, hand-off to a no-op consumer, response) beside a bare node:http server that
// only reads the body and answers 200, both on one thread. The load comes from a worker thread
// (keep-alive, several requests in flight), so the server thread is what is measured; its event
// loop utilisation is printed to show whether it was saturated. Also prints decode alone (traces,
// and logs of the same shape). The machine may be shared: beside rates, the CPU time spent per span
// is printed (decode: the process; servers: the server thread, read from /proc on Linux), which
// moves less with other load than wall-clock rates do.
//
// Then the ingest into the durable queue, in-process without HTTP: decode, id checks, the trace
// pipeline and the queue writer into SQLite in a temp dir. Spans received as protobuf are queued
// as received; beside that, the same requests with the received bytes taken off the batch, so the
// queue writer encodes the spans again (what it always did before). The two alternate; CPU time
// of the process per span is printed for each run (queue entries are deleted between rounds of
// requests, outside the measurement).
//
//   npm run bench -- otlp-ingest          BENCH_SECONDS=5 (per run)  BENCH_CONCURRENCY=4
//   BENCH_ONLY=decode|servers|queue       BENCH_ROUNDS=3 (queue: runs of each kind)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Long from 'long';
import { loadConfig } from '../dist/config/load.js';
import { createLogger } from '../dist/logger.js';
import { Telemetry } from '../dist/metrics/telemetry.js';
import { decodeRequest, encodeRequest, requestType } from '../dist/otlp/codec.js';
import { buildOtlpReceivers } from '../dist/receivers/otlp/index.js';
import { OtlpIngest } from '../dist/receivers/otlp/ingest.js';
import { TransportMetrics } from '../dist/receivers/otlp/otlp-metrics.js';
import { QueueWriter } from '../dist/exporters/queue-writer.js';
import { Pipeline } from '../dist/pipeline/pipeline.js';
import { Store } from '../dist/storage/store.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY;
const SPANS = 512;

// ---- a realistic batch: HTTP server spans with the usual semantic-convention attributes -------

function batch() {
  const rnd = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
  const str = (key, v) => ({ key, value: { stringValue: v } });
  const int = (key, v) => ({ key, value: { intValue: Long.fromNumber(v) } });
  const spans = [];
  for (let i = 0; i < SPANS; i++) {
    const start = Long.fromString('1750000000000000000', true).add(i * 1_000_000);
    spans.push({
      traceId: rnd(16),
      spanId: rnd(8),
      parentSpanId: rnd(8),
      name: i % 3 === 0 ? 'GET /api/users/:id' : i % 3 === 1 ? 'POST /api/orders' : 'SELECT orders',
      kind: i % 3 === 2 ? 3 : 2,
      flags: 0x101,
      startTimeUnixNano: start,
      endTimeUnixNano: start.add(12_345_678),
      attributes: [
        str('http.request.method', i % 3 === 1 ? 'POST' : 'GET'),
        str('url.full', `https://shop.example.com/api/users/${i}?expand=orders`),
        int('http.response.status_code', i % 17 === 0 ? 500 : 200),
        str('server.address', 'shop.example.com'),
        int('server.port', 443),
        str('network.protocol.version', '1.1'),
        str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36'),
        str('http.route', '/api/users/:id'),
        { key: 'app.cache_hit', value: { boolValue: i % 2 === 0 } },
        { key: 'app.ratio', value: { doubleValue: i / 7 } },
      ],
      events: i % 4 === 0 ? [{ timeUnixNano: start.add(1000), name: 'cache.miss', attributes: [str('cache.key', `user:${i}`)] }] : [],
      status: { code: i % 17 === 0 ? 2 : 0 },
    });
  }
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'shop'), str('service.version', '1.4.2'), str('telemetry.sdk.language', 'nodejs'), str('host.name', 'shop-7c9d')] },
        scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' }, spans }],
      },
    ],
  };
  return Buffer.from(encodeRequest('traces', requestType.traces.fromObject(req)));
}

/** Log records of an HTTP service, as many as the spans, with the same kind of attributes. */
function logBatch() {
  const rnd = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
  const str = (key, v) => ({ key, value: { stringValue: v } });
  const logRecords = [];
  for (let i = 0; i < SPANS; i++) {
    const time = Long.fromString('1750000000000000000', true).add(i * 1_000_000);
    logRecords.push({
      timeUnixNano: time,
      observedTimeUnixNano: time.add(5000),
      severityNumber: i % 17 === 0 ? 17 : 9,
      severityText: i % 17 === 0 ? 'ERROR' : 'INFO',
      body: { stringValue: `request ${i} served: GET /api/users/${i} 200 in 12.3 ms` },
      attributes: [str('http.request.method', 'GET'), str('url.path', `/api/users/${i}`), { key: 'http.response.status_code', value: { intValue: Long.fromNumber(200) } }, str('log.logger', 'http')],
      flags: 1,
      traceId: rnd(16),
      spanId: rnd(8),
    });
  }
  const req = { resourceLogs: [{ resource: { attributes: [str('service.name', 'shop'), str('host.name', 'shop-7c9d')] }, scopeLogs: [{ scope: { name: 'pino' }, logRecords }] }] };
  return Buffer.from(encodeRequest('logs', requestType.logs.fromObject(req)));
}

const body = batch();
const logsBody = logBatch();

/** CPU time of this process's main thread in µs (Linux, /proc; clock ticks of 10 ms), or undefined. */
const THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
function mainThreadCpuUs() {
  if (!existsSync(THREAD_STAT)) return undefined;
  const stat = readFileSync(THREAD_STAT, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

// ---- servers ------------------------------------------------------------------------------

async function startReceiver() {
  const config = loadConfig({ text: 'receivers: { otlp: { http: { endpoint: "127.0.0.1:0" }, grpc: null, unix: null } }\n', env: {} });
  const noop = { consume: async () => {} };
  const [receiver] = buildOtlpReceivers({ config, log: createLogger('silent'), telemetry: new Telemetry({ processMetrics: false }), consumers: { traces: noop, logs: noop, metrics: noop } });
  await receiver.start();
  return { port: Number(receiver.endpoint.split(':')[1]), stop: () => receiver.stop() };
}

async function startBare() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, stop: () => new Promise((r) => server.close(r)) };
}

// ---- load from a worker thread -------------------------------------------------------------------

const LOADER = `
const http = require('node:http');
const { workerData, parentPort } = require('node:worker_threads');
const { port, body, seconds, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const buf = Buffer.from(body);
let done = 0, failed = 0, measuring = false, stop = false;
function one() {
  if (stop) return;
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', agent,
    headers: { 'content-type': 'application/x-protobuf', 'content-length': buf.length } }, (res) => {
    res.resume();
    res.on('end', () => { if (measuring) { if (res.statusCode === 200) done++; else failed++; } one(); });
  });
  req.on('error', () => { failed++; one(); });
  req.end(buf);
}
for (let i = 0; i < concurrency; i++) one();
setTimeout(() => { measuring = true; parentPort.postMessage({ type: 'start' }); }, 1000);
setTimeout(() => { stop = true; parentPort.postMessage({ type: 'end', done, failed }); agent.destroy(); }, 1000 + seconds * 1000);
`;

async function measure(start) {
  const server = await start();
  const worker = new Worker(LOADER, { eval: true, workerData: { port: server.port, body, seconds: SECONDS, concurrency: CONCURRENCY } });
  let elu0, t0, cpu0;
  const result = await new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m) => {
      if (m.type === 'start') {
        elu0 = performance.eventLoopUtilization();
        t0 = performance.now();
        cpu0 = mainThreadCpuUs();
      } else {
        const seconds = (performance.now() - t0) / 1000;
        const cpu1 = mainThreadCpuUs();
        resolve({ requests: m.done, failed: m.failed, seconds, elu: performance.eventLoopUtilization(elu0).utilization, cpuUs: cpu1 === undefined ? undefined : cpu1 - cpu0 });
      }
    });
  });
  await worker.terminate();
  await server.stop();
  const rps = result.requests / result.seconds;
  const cpuUsPerSpan = result.cpuUs === undefined || result.requests === 0 ? undefined : result.cpuUs / (result.requests * SPANS);
  return { ...result, spansPerSec: rps * SPANS, bytesPerSec: rps * body.length, cpuUsPerSpan };
}

function decodeOnly(signal, payload) {
  for (let i = 0; i < 50; i++) decodeRequest(signal, payload, 'protobuf');
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    decodeRequest(signal, payload, 'protobuf');
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuUs = c.user + c.system;
  return { itemsPerSec: (n * SPANS) / s, bytesPerSec: (n * payload.length) / s, cpuUsPerItem: cpuUs / (n * SPANS), bytesPerCpuSec: (n * payload.length) / (cpuUs / 1e6) };
}

/**
 * Ingest → trace pipeline → queue writer → SQLite, for `seconds`: `received` as tracetail does
 * it (the batch carries the received bytes), `encoded` with them taken off (the writer encodes).
 */
async function ingestToQueue(mode, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'tracetail-bench-queue-'));
  const store = Store.open(dir, { maxQueueBytes: 1 << 30 });
  const pipeline = new Pipeline(new QueueWriter('traces', store));
  const traces = mode === 'received' ? pipeline : { consume: (b) => pipeline.consume({ ...b, encoded: undefined }) };
  const noop = { consume: async () => {} };
  const ingest = new OtlpIngest('http', { traces, logs: noop, metrics: noop }, new TransportMetrics(new Telemetry({ processMetrics: false }), 'http'), createLogger('silent'));
  const drain = () => {
    const entries = store.peek('traces', 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 100_000);
    if (entries.length > 0) store.ack('traces', entries);
  };
  const PER_ROUND = 16;
  for (let i = 0; i < 40; i++) await ingest.ingest('traces', body, 'protobuf');
  drain();
  let cpuUs = 0;
  let requests = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) await ingest.ingest('traces', body, 'protobuf');
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    requests += PER_ROUND;
    drain();
  }
  const bytes = store.queuedBytes;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  if (bytes !== 0) throw new Error(`queue not drained: ${bytes} bytes left`);
  return { cpuUsPerSpan: cpuUs / (requests * SPANS), requests };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (n) => `${(n / 1e6).toFixed(1)} MB/s`;

const cpu = (us) => (us === undefined ? '' : `  ${us.toFixed(2)} µs CPU/span`);

console.log(`request: ${SPANS} spans, ${body.length} bytes protobuf; ${SECONDS} s per run after 1 s warm-up; ${CONCURRENCY} requests in flight`);
if (!ONLY || ONLY === 'decode') {
  for (const [signal, payload, what] of [['traces', body, 'spans'], ['logs', logsBody, 'log records']]) {
    const d = decodeOnly(signal, payload);
    const label = `decode only, ${signal} (${payload.length} bytes):`.padEnd(37);
    console.log(`${label}${fmt(d.itemsPerSec)} ${what}/s  ${mb(d.bytesPerSec)}  ${d.cpuUsPerItem.toFixed(2)} µs CPU/item  ${mb(d.bytesPerCpuSec).replace('/s', ' per CPU-s')}`);
  }
}
if (!ONLY || ONLY === 'servers') {
  const runs = { bare: [], receiver: [] };
  for (let round = 0; round < 2; round++) {
    for (const [name, start] of [['bare', startBare], ['receiver', startReceiver]]) {
      const r = await measure(start);
      runs[name].push(r);
      const label = name === 'bare' ? 'bare node:http (read + 200): ' : 'tracetail OTLP/HTTP receiver: ';
      console.log(`${label}  ${fmt(r.spansPerSec)} spans/s  ${mb(r.bytesPerSec)}  server event loop ${(r.elu * 100).toFixed(0)}% busy${cpu(r.cpuUsPerSpan)}${r.failed ? `  (${r.failed} failed)` : ''}`);
    }
  }
  const best = (xs) => xs.reduce((a, b) => (b.bytesPerSec > a.bytesPerSec ? b : a));
  const bare = best(runs.bare);
  const receiver = best(runs.receiver);
  console.log(`\nbest of ${runs.bare.length}: receiver ${fmt(receiver.spansPerSec)} spans/s (goal >= 150,000); ratio to the bare server ${(receiver.bytesPerSec / bare.bytesPerSec).toFixed(2)} (goal >= 0.5)`);
  const least = (xs) => Math.min(...xs.map((r) => r.cpuUsPerSpan ?? Infinity));
  if (Number.isFinite(least(runs.bare)) && Number.isFinite(least(runs.receiver))) {
    console.log(`server thread CPU per span, least of ${runs.bare.length}: receiver ${least(runs.receiver).toFixed(2)} µs, bare ${least(runs.bare).toFixed(2)} µs; ratio by CPU ${(least(runs.bare) / least(runs.receiver)).toFixed(2)}`);
  }
}
if (!ONLY || ONLY === 'queue') {
  const runs = { received: [], encoded: [] };
  const label = { received: 'queued as received', encoded: 'encoded again' };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so a change in the machine's load falls on both.
    for (const mode of round % 2 === 0 ? ['received', 'encoded'] : ['encoded', 'received']) {
      const r = await ingestToQueue(mode, SECONDS);
      runs[mode].push(r.cpuUsPerSpan);
      console.log(`ingest → queue (SQLite), ${label[mode]}:`.padEnd(46) + `${r.cpuUsPerSpan.toFixed(2)} µs CPU/span  (${r.requests} requests)`);
    }
  }
  const range = (xs) => `${Math.min(...xs).toFixed(2)} to ${Math.max(...xs).toFixed(2)}`;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `\ningest → queue, CPU per span over ${ROUNDS} runs each: queued as received ${range(runs.received)} µs, encoded again ${range(runs.encoded)} µs; ` +
      `medians ${median(runs.received).toFixed(2)} and ${median(runs.encoded).toFixed(2)} µs (${(median(runs.encoded) / median(runs.received)).toFixed(2)}x)`,
  );
}
