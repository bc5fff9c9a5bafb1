// Encoding export requests to protobuf: protobufjs's reflection encoder against the hand-written
// one (request-encoder.ts, what encodeRequest uses for traces and logs), on realistic batches:
//
//   - log records as the file receiver makes them from tailed pino lines (about 10 attributes,
//     trace context, nested req/res objects), through the real parser, enricher and toLogRecord;
//   - the web server spans of bench/lib/web-span.mjs, as plain objects;
//   - the same spans as the OTLP receiver hands them on (decoded by the hand-written decoder).
//
// CPU time (process.cpuUsage) per record or span, in alternating rounds, medians printed: the
// machine may be shared, and its noise then hits both encoders alike. Also the JS heap allocated
// per item (heapUsed around one encode after a full GC; needs --expose-gc, which bench/run.mjs
// passes), and a check that both encodings decode to the same data.
//
//   npm run bench -- encode          BENCH_ITEMS=512 (per batch)  BENCH_ROUNDS=15  BENCH_MS=300 (per round)
import Long from 'long';
import { webSpan } from './lib/web-span.mjs';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url));
const { decodeRequest, requestType } = await dist('otlp/codec.js');
const { encodeLogsRequest, encodeTraceRequest } = await dist('otlp/request-encoder.js');
const { createLineParser } = await dist('processors/parse/parse.js');
const { toLogRecord } = await dist('processors/parse/record.js');
const { TraceContextEnricher } = await dist('processors/trace-context/enricher.js');
const { TraceContextExtractor } = await dist('processors/trace-context/extract.js');

const ITEMS = Number(process.env.BENCH_ITEMS ?? 512);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.BENCH_MS ?? 300);

// ---- batches ----------------------------------------------------------------------------------

const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

function pinoLine(i) {
  const status = i % 23 === 0 ? 500 : 200;
  return JSON.stringify({
    level: status === 500 ? 50 : 30,
    time: 1750000000000 + i,
    pid: 4242,
    hostname: 'checkout-7c9d5b8f4-x2k9q',
    reqId: `req-${i.toString(36)}`,
    trace_id: hex(32),
    span_id: hex(16),
    trace_flags: '01',
    req: { method: i % 3 ? 'GET' : 'POST', url: `/api/orders/${i}`, remoteAddress: '10.1.2.3', remotePort: 50000 + (i % 1000) },
    res: { statusCode: status },
    responseTime: 3 + (i % 50) / 7,
    userId: `user:${i % 977}`,
    cache: i % 2 === 0,
    route: '/api/orders/:id',
    msg: status === 500 ? 'request failed' : 'request completed',
  });
}

function logsRequest() {
  const parse = createLineParser({ format: 'auto', regex: null });
  const enricher = new TraceContextEnricher(new TraceContextExtractor());
  const file = { path: '/var/log/checkout/app.log', name: 'app.log' };
  const logRecords = [];
  for (let i = 0; i < ITEMS; i++) {
    const text = pinoLine(i);
    const line = parse(text);
    enricher.enrich(line);
    logRecords.push(toLogRecord(line, { text, end: text.length + 1, truncated: false }, file, 1750000000500000000n));
  }
  const str = (key, v) => ({ key, value: { stringValue: v } });
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'checkout'), str('host.name', 'node-3'), str('telemetry.sdk.name', 'tracetail')] },
        scopeLogs: [{ scope: { name: 'tracetail.filelog' }, logRecords }],
      },
    ],
  };
}

function tracesRequest() {
  const spans = [];
  const t0 = Long.fromString('1750000000000000000', true);
  for (let i = 0; i < ITEMS; i++) spans.push(webSpan(i, t0.add(i * 1_000_000)));
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'service.version', value: { stringValue: '1.4.2' } }] },
        scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' }, spans }],
      },
    ],
  };
}

// ---- measuring --------------------------------------------------------------------------------

/** CPU µs per item of `encode(req)`, repeated for about ROUND_MS of CPU. */
function round(encode, req) {
  globalThis.gc?.();
  let n = 0;
  const start = process.cpuUsage();
  let used = 0;
  do {
    for (let k = 0; k < 10; k++) encode(req);
    n += 10;
    const u = process.cpuUsage(start);
    used = u.user + u.system;
  } while (used < ROUND_MS * 1000);
  return used / (n * ITEMS);
}

/** JS heap bytes one `encode(req)` allocates, per item (the output Buffer's memory is outside the heap). */
function allocated(encode, req) {
  const xs = [];
  for (let i = 0; i < 15; i++) {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    encode(req);
    xs.push((process.memoryUsage().heapUsed - before) / ITEMS);
  }
  return median(xs);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function compare(label, signal, req, fast) {
  const type = requestType[signal];
  const slow = (r) => type.encode(r).finish();
  const same = (a, b) => JSON.stringify(type.toObject(type.decode(a), { defaults: true, longs: String, bytes: String })) === JSON.stringify(type.toObject(type.decode(b), { defaults: true, longs: String, bytes: String }));
  const ours = fast(req);
  const theirs = slow(req);
  if (!same(ours, theirs)) throw new Error(`${label}: the encodings decode to different data`);
  // Warm both up before measuring.
  for (let k = 0; k < 50; k++) {
    slow(req);
    fast(req);
  }
  const a = [];
  const b = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(round(slow, req));
    b.push(round(fast, req));
  }
  const ma = median(a);
  const mb = median(b);
  const heap = globalThis.gc ? `   heap allocated ${Math.round(allocated(slow, req))} → ${Math.round(allocated(fast, req))} bytes/item` : '';
  console.log(
    `${label.padEnd(34)} protobufjs ${ma.toFixed(2).padStart(6)} µs/item   hand-written ${mb.toFixed(2).padStart(6)} µs/item   ${(ma / mb).toFixed(1)}x   ` +
      `encoded ${Math.round(theirs.length / ITEMS)} → ${Math.round(ours.length / ITEMS)} bytes/item${heap}`,
  );
}

console.log(`CPU time per item encoding batches of ${ITEMS}, medians of ${ROUNDS} alternating rounds of ~${ROUND_MS} ms:`);
compare('log records from pino lines', 'logs', logsRequest(), encodeLogsRequest);
const traces = tracesRequest();
compare('web spans (plain objects)', 'traces', traces, encodeTraceRequest);
const decoded = decodeRequest('traces', requestType.traces.encode(traces).finish(), 'protobuf');
compare('web spans (decoded, OTLP receiver)', 'traces', decoded, encodeTraceRequest);
