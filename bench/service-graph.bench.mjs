// Service graph benchmark (run by `npm run bench -- service-graph`, on the built dist/): CPU per
// span of the service graph observer. Each trace is five spans as a web request makes them: the
// root server span (an edge from the user), a client span and the server span of the service it
// calls (a pair), a database client span (an edge to the database) and an internal span (no
// edge). Half the traces send the server side first. Batches of 100 traces, fresh ids for every
// trace (pairs are looked up and removed as they would be), 2,000,000 spans after a warm-up; a
// full GC before each round of 200 batches collects the benchmark's own garbage off the clock.
// Span deduplication runs as configured by default (BENCH_DEDUPE_SPANS=0 turns it off). Goal: under
// 1 µs per span.
import { id, ids, ns } from './lib/random-ids.mjs';
import { createLogger } from '../dist/logger.js';
import { ServiceGraph } from '../dist/metrics/service-graph.js';
import { Telemetry } from '../dist/metrics/telemetry.js';
import { keyValue } from '../dist/otlp/values.js';

const TRACES_PER_BATCH = 100;
const SPANS = Number(process.env.BENCH_SPANS ?? 2_000_000);


/** A batch of traces: frontend spans in one resource, checkout spans in another. */
function batch(now) {
  const frontend = [];
  const checkout = [];
  for (let i = 0; i < TRACES_PER_BATCH; i++) {
    const traceId = id(16);
    const root = id(8);
    const client = id(8);
    frontend.push(
      { traceId, spanId: root, name: 'GET /', kind: 2, startTimeUnixNano: ns(now - 50), endTimeUnixNano: ns(now), attributes: [keyValue('http.route', '/')] },
      { traceId, spanId: client, parentSpanId: root, name: 'POST /checkout', kind: 3, startTimeUnixNano: ns(now - 40), endTimeUnixNano: ns(now - 5), attributes: [keyValue('server.address', 'checkout')] },
      { traceId, spanId: id(8), parentSpanId: root, name: 'render', kind: 1, startTimeUnixNano: ns(now - 4), endTimeUnixNano: ns(now - 1) },
    );
    checkout.push(
      { traceId, spanId: id(8), parentSpanId: client, name: 'POST /checkout', kind: 2, startTimeUnixNano: ns(now - 38), endTimeUnixNano: ns(now - 6) },
      { traceId, spanId: id(8), parentSpanId: client, name: 'INSERT orders', kind: 3, startTimeUnixNano: ns(now - 30), endTimeUnixNano: ns(now - 20), attributes: [keyValue('db.system', 'postgresql'), keyValue('db.name', 'shop')] },
    );
  }
  const rs = (service, spans) => ({ resource: { attributes: [keyValue('service.name', service)] }, scopeSpans: [{ spans }] });
  // Half the batches carry the downstream service's spans first.
  const resourceSpans = ids.made % 2 ? [rs('frontend', frontend), rs('checkout', checkout)] : [rs('checkout', checkout), rs('frontend', frontend)];
  return { resourceSpans, transport: 'http' };
}

const graph = new ServiceGraph({
  waitMs: 10_000,
  maxItems: 10_000,
  buckets: [0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15],
  peerAttributes: ['peer.service', 'db.name', 'db.system', 'server.address'],
  maxSeries: 2000,
  idleTimeoutMs: null,
  defaultServiceName: 'unknown_service',
  // The defaults of metrics.span_metrics.dedupe_window and dedupe_max_spans.
  dedupeWindowMs: 300_000,
  dedupeMaxSpans: Number(process.env.BENCH_DEDUPE_SPANS ?? 100_000),
  telemetry: new Telemetry({ processMetrics: false }),
  log: createLogger('silent'),
});

const spansPerBatch = TRACES_PER_BATCH * 5;
const batches = Math.ceil(SPANS / spansPerBatch);
// The batches are made before the clock starts: decoding is the receiver's cost, not this one's.

for (let i = 0; i < 400; i++) graph.observe(batch(Date.now()));
let cpuNs = 0;
let wallNs = 0;
let made = 0;
while (made < batches) {
  const round = Array.from({ length: 200 }, () => batch(Date.now()));
  // The previous round's batches are garbage now: collected here, off the clock.
  globalThis.gc();
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (const b of round) graph.observe(b);
  wallNs += Number(process.hrtime.bigint() - w0);
  const d = process.cpuUsage(t0);
  cpuNs += (d.user + d.system) * 1000;
  made += round.length;
}
const spans = made * spansPerBatch;
const edges = graph.edges();
console.log(`service graph: ${(cpuNs / spans).toFixed(0)} ns CPU/span (wall ${(wallNs / spans).toFixed(0)} ns; ${spans} spans, ${edges.length} edges, ${graph.waiting} pairs waiting; goal under 1000 ns: ${cpuNs / spans < 1000 ? 'met' : 'NOT met'})`);
for (const e of edges) console.log(`  ${e.client} -> ${e.server} (${e.connection_type || 'service'}): ${e.requests} requests`);
