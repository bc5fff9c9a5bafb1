// A collector for benchmarks, run as a child process so it does not share the sidecar's event
// loop: it decodes every OTLP/HTTP request with the project's codec (so a broken payload shows),
// counts items per signal, and does nothing else. Controlled over IPC:
//   { id, cmd: 'stats' | 'down' | 'up' | 'mode' | 'reset', mode?: 'ok' | '503' }  ->  { id, counts, requests, wireBytes, tracked }
//   { id, cmd: 'check', signal, expected }          ->  { id, missing, firstMissing, duplicates, beyond, foreign }
//   { id, cmd: 'latency', signal, from, to }         ->  { id, n, p50, p90, p99, max } (ms, items from..to-1 that arrived)
//
// It also tracks items one by one, for the whole-CLI benchmarks: a log record by the `seq=N` in
// its body (log-lines.mjs), a span by the number in its id (ids.mjs). For each item number it
// keeps how often it arrived and, at its first arrival, how long after it was written or sent:
// a log record was written at its Timestamp (the line's `time`), a span was sent when its trace's
// server span ended (web-trace.mjs). Items without such a number are counted as foreign.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { spanNumber } from './ids.mjs';
import { ROLES, SPANS_PER_TRACE } from './web-trace.mjs';

const { decodeRequest, countItems } = await import(new URL('../../dist/otlp/codec.js', import.meta.url));

class Tracker {
  constructor() {
    this.times = new Uint8Array(1 << 16);
    this.latency = new Float64Array(1 << 16);
    this.unique = 0;
    this.duplicates = 0;
    this.foreign = 0;
  }

  add(n, latencyMs) {
    if (n < 0) {
      this.foreign++;
      return;
    }
    if (n >= this.times.length) {
      let size = this.times.length;
      while (size <= n) size *= 2;
      const times = new Uint8Array(size);
      times.set(this.times);
      const latency = new Float64Array(size);
      latency.set(this.latency);
      this.times = times;
      this.latency = latency;
    }
    const seen = this.times[n];
    if (seen === 0) {
      this.unique++;
      this.latency[n] = latencyMs;
    } else this.duplicates++;
    if (seen < 255) this.times[n] = seen + 1;
  }

  check(expected) {
    const firstMissing = [];
    let missing = 0;
    for (let i = 0; i < expected; i++) {
      if (i >= this.times.length || this.times[i] === 0) {
        missing++;
        if (firstMissing.length < 10) firstMissing.push(i);
      }
    }
    let beyond = 0;
    for (let i = expected; i < this.times.length; i++) if (this.times[i] > 0) beyond++;
    return { missing, firstMissing, duplicates: this.duplicates, beyond, foreign: this.foreign };
  }

  percentiles(from, to) {
    const xs = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.times.length); i++) if (this.times[i] > 0) xs.push(this.latency[i]);
    xs.sort((a, b) => a - b);
    const at = (q) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] : null);
    return { n: xs.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: xs.length ? xs[xs.length - 1] : null };
  }
}

const SEQ = /seq=(\d+)/;
const NS_PER_MS = 1e6;
const endsBeforeMs = ROLES.map((r) => r.endsBeforeNs / NS_PER_MS);

function track(signal, req, arrivedMs) {
  const tracker = tracked[signal];
  if (signal === 'logs') {
    for (const rl of req.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const lr of sl.logRecords ?? []) {
          const m = SEQ.exec(lr.body?.stringValue ?? '');
          tracker.add(m ? Number(m[1]) : -1, arrivedMs - Number(lr.timeUnixNano ?? 0) / NS_PER_MS);
        }
  } else if (signal === 'traces') {
    for (const rs of req.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const span of ss.spans ?? []) {
          const j = spanNumber(span.spanId);
          tracker.add(j, j < 0 ? 0 : arrivedMs - Number(span.endTimeUnixNano ?? 0) / NS_PER_MS - endsBeforeMs[j % SPANS_PER_TRACE]);
        }
  }
}

let counts;
let tracked;
let requests;
let wireBytes;
function reset() {
  counts = { traces: 0, logs: 0, metrics: 0 };
  tracked = { traces: new Tracker(), logs: new Tracker() };
  requests = 0;
  wireBytes = 0;
}
reset();
let mode = 'ok';
const sockets = new Set();

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const arrivedMs = Date.now();
  requests++;
  const wire = Buffer.concat(chunks);
  wireBytes += wire.length;
  if (mode === '503') {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
    return;
  }
  const signal = (req.url ?? '').replace(/^\/v1\//, '');
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
  const format = /json/.test(req.headers['content-type'] ?? '') ? 'json' : 'protobuf';
  try {
    const decoded = decodeRequest(signal, body, format);
    counts[signal] += countItems(signal, decoded);
    track(signal, decoded, arrivedMs);
    res.writeHead(200, { 'content-type': req.headers['content-type'] }).end();
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.message));
  }
});
server.keepAliveTimeout = 60_000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

let port = 0;
function listen() {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

const summary = () => ({ counts, requests, wireBytes, tracked: Object.fromEntries(Object.entries(tracked).map(([s, t]) => [s, { unique: t.unique, duplicates: t.duplicates, foreign: t.foreign }])) });

port = await listen();
process.send({ ready: port });
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  if (m.cmd === 'down') {
    await new Promise((resolve) => {
      server.close(resolve);
      for (const s of sockets) s.destroy();
    });
  } else if (m.cmd === 'up') {
    if (!server.listening) await listen();
  } else if (m.cmd === 'mode') {
    mode = m.mode;
  } else if (m.cmd === 'reset') {
    reset();
  } else if (m.cmd === 'check') {
    process.send({ id: m.id, ...tracked[m.signal].check(m.expected) });
    return;
  } else if (m.cmd === 'latency') {
    process.send({ id: m.id, ...tracked[m.signal].percentiles(m.from, m.to) });
    return;
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
  process.send({ id: m.id, ...summary() });
});
