// The trace index under 10,000 new traces per second for 60 s (BENCH_SECONDS to change), in real
// time: every 100 ms, 1000 new traces of 3 spans each arrive as a decoded OTLP request (encoded
// and decoded with tracetail's codec, as the receiver does) and 4 log records per trace as a file
// log batch. The index runs with the default correlation.window (5m) and max_bytes (16 MiB;
// BENCH_MAX_BYTES to change).
//
// Printed every 5 s: traces held, the index's own estimate of its bytes, the heap growth measured
// after a full GC, evictions, and whether the feed kept up with the rate. The claim checked at
// the end: the estimate never exceeded the cap, and the measured heap growth stayed under it.
import Long from 'long';
import { encodeRequest, decodeRequest } from '../dist/otlp/codec.js';
import { keyValue } from '../dist/otlp/values.js';
import { TraceIndex } from '../dist/processors/correlation/trace-index.js';
import { encodeLogBatch } from '../dist/pipeline/encode.js';

if (!globalThis.gc) {
  console.error('run with node --expose-gc (npm run bench does): the heap is measured after a full GC');
  process.exit(2);
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const TRACES_PER_SECOND = 10_000;
const TICK_MS = 100;
const PER_TICK = (TRACES_PER_SECOND * TICK_MS) / 1000;
const MAX_BYTES = Number(process.env.BENCH_MAX_BYTES ?? 16 * 1024 * 1024);
const WINDOW_MS = 5 * 60_000;

let counter = 0n;
function id(bytes) {
  counter++;
  const b = Buffer.alloc(bytes);
  b.writeBigUInt64BE(counter, bytes - 8);
  b[0] = 0x5a; // high half not zero
  return b;
}

const resource = {
  attributes: [
    keyValue('service.name', 'checkout'),
    keyValue('service.version', '2.3.1'),
    keyValue('deployment.environment.name', 'prod'),
    keyValue('telemetry.sdk.language', 'nodejs'),
    keyValue('telemetry.sdk.name', 'opentelemetry'),
    keyValue('host.name', 'checkout-6d5f-abcde'),
  ],
};

function tick(nowMs) {
  const spans = [];
  const logRecords = [];
  const ns = (ms) => Long.fromNumber(Math.round(ms * 1e6), true);
  for (let i = 0; i < PER_TICK; i++) {
    const traceId = id(16);
    const root = id(8);
    const db = id(8);
    const http = id(8);
    spans.push(
      { traceId, spanId: db, parentSpanId: root, name: 'SELECT orders', kind: 3, startTimeUnixNano: ns(nowMs - 40), endTimeUnixNano: ns(nowMs - 30), attributes: [keyValue('db.system', 'postgresql'), keyValue('db.statement', 'SELECT * FROM orders WHERE id = $1')] },
      { traceId, spanId: http, parentSpanId: root, name: 'GET inventory', kind: 3, startTimeUnixNano: ns(nowMs - 28), endTimeUnixNano: ns(nowMs - 5), attributes: [keyValue('http.request.method', 'GET'), keyValue('url.full', 'http://inventory:8080/items/42'), keyValue('http.response.status_code', 200)] },
      { traceId, spanId: root, name: 'POST /orders', kind: 2, startTimeUnixNano: ns(nowMs - 50), endTimeUnixNano: ns(nowMs), attributes: [keyValue('http.request.method', 'POST'), keyValue('http.route', '/orders'), keyValue('http.response.status_code', 201)], status: { code: 1 } },
    );
    for (const [body, spanId, sev] of [
      ['order received', root, 9],
      ['querying orders table', db, 5],
      ['inventory answered 200 in 23 ms', http, 9],
      ['order 42 created', root, 9],
    ]) {
      logRecords.push({
        timeUnixNano: ns(nowMs - 10),
        observedTimeUnixNano: ns(nowMs),
        severityNumber: sev,
        severityText: sev === 9 ? 'INFO' : 'DEBUG',
        body: { stringValue: body },
        attributes: [keyValue('log.file.path', '/var/log/app/app.log'), keyValue('log.file.name', 'app.log'), keyValue('pid', 4242)],
        traceId,
        spanId,
      });
    }
  }
  // As the pipeline hands them on: spans with the request they came in and where each lies in it,
  // logs encoded once for the queue and the index.
  const encoded = encodeRequest('traces', { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'app' }, spans }] }] });
  const encodedItems = [];
  const request = decodeRequest('traces', encoded, 'protobuf', encodedItems);
  return {
    traces: { resourceSpans: request.resourceSpans, encoded, encodedItems, transport: 'http' },
    logs: encodeLogBatch({ resourceLogs: [{ resource: { attributes: [keyValue('service.name', 'checkout')] }, scopeLogs: [{ scope: { name: 'tracetail' }, logRecords }] }], transport: 'file' }),
  };
}

/** Heap used after a full collection, with the memory of array buffers (the index's ring and tables). */
function heapUsed() {
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const baseHeap = heapUsed();
const evicted = { expired: 0, memory: 0, shutdown: 0 };
const results = { matched: 0, unmatched: 0, no_context: 0 };
const index = new TraceIndex({
  windowMs: WINDOW_MS,
  maxBytes: MAX_BYTES,
  onEvicted: (reason, n) => (evicted[reason] += n),
  onResults: (r) => {
    for (const k in r) results[k] += r[k];
  },
});

const mib = (b) => (b / 1024 / 1024).toFixed(1);


/**
 * Makes one tick's batches and feeds them; returns the ms the index took. The batches are made
 * here so that nothing outside holds them once it returns (the heap is measured right after).
 */
function feedTick() {
  const batch = tick(Date.now());
  const before = performance.now();
  // Logs first: in real life they are written before the spans end and are exported.
  index.addLogs(batch.logs);
  index.addSpans(batch.traces);
  return performance.now() - before;
}
const start = Date.now();
let maxEstimate = 0;
let maxHeapGrowth = 0;
let behindMs = 0;
let indexMs = 0;
const rows = [];
for (let t = 1; t <= (SECONDS * 1000) / TICK_MS; t++) {
  indexMs += feedTick();
  maxEstimate = Math.max(maxEstimate, index.bytes);
  if (t % ((5 * 1000) / TICK_MS) === 0) {
    const growth = heapUsed() - baseHeap;
    maxHeapGrowth = Math.max(maxHeapGrowth, growth);
    rows.push({
      's': (t * TICK_MS) / 1000,
      'traces fed': t * PER_TICK,
      'traces held': index.size,
      'estimate MiB': mib(index.bytes),
      'heap growth MiB': mib(growth),
      'evicted (memory)': evicted.memory,
      'behind ms': Math.round(behindMs),
    });
  }
  const wait = start + t * TICK_MS - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  else behindMs = -wait;
}
console.table(rows);
const fed = ((SECONDS * 1000) / TICK_MS) * PER_TICK;
console.log(`fed ${fed.toLocaleString('en-US')} traces (${TRACES_PER_SECOND.toLocaleString('en-US')}/s for ${SECONDS} s, 3 spans + 4 logs each); index work ${(indexMs / fed * 1000).toFixed(2)} µs per trace`);
console.log(`cap ${mib(MAX_BYTES)} MiB: estimate peaked at ${mib(maxEstimate)} MiB, measured heap growth peaked at ${mib(maxHeapGrowth)} MiB (after a full GC, all live data included)`);
console.log(`results: ${JSON.stringify(results)}; evictions: ${JSON.stringify(evicted)}`);
const ok = maxEstimate <= MAX_BYTES && maxHeapGrowth <= MAX_BYTES;
console.log(ok ? 'memory stayed within the cap' : 'MEMORY EXCEEDED THE CAP');
process.exitCode = ok ? 0 : 1;
