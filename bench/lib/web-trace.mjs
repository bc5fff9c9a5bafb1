// Requests of whole traces as a web service's OTel SDK exports them, for the whole-CLI benchmarks:
// each trace is a server span (GET /api/orders/{id}) with four children (an internal span, a
// PostgreSQL query, a call to another service, a Redis lookup). The request is encoded once with
// marker values in the id and time fields; each request sent is a copy with the markers replaced
// by span number j's ids (ids.mjs) and by its send time, so nothing is encoded while the load runs
// and every span can be told apart at the collector.
//
// Every span of a request ends at the send time minus its role's `endsBeforeNs` (the server span
// ends last, at the send time), so the collector can recover the send time of any span.
import { randomBytes } from 'node:crypto';
import Long from 'long';
import { writeSpanId, writeTraceId } from './ids.mjs';

const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url));
const { encodeRequest } = await dist('otlp/codec.js');
const { keyValue } = await dist('otlp/values.js');

export const SPANS_PER_TRACE = 5;

const MS = 1_000_000;
/** The spans of one trace by position: name, kind, when it starts after the trace and ends before the send time (ns), attributes. */
export const ROLES = [
  {
    name: 'GET /api/orders/{id}',
    kind: 2,
    startsAfterNs: 0,
    endsBeforeNs: 0,
    attributes: (j) => [
      keyValue('http.request.method', 'GET'),
      keyValue('http.route', '/api/orders/{id}'),
      keyValue('http.response.status_code', 200),
      keyValue('url.path', `/api/orders/${j}`),
      keyValue('server.address', 'checkout.internal'),
      keyValue('client.address', '10.1.2.3'),
      keyValue('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'),
    ],
  },
  { name: 'orders.load', kind: 1, startsAfterNs: 0.2 * MS, endsBeforeNs: 0.6 * MS, attributes: () => [keyValue('code.function', 'loadOrder'), keyValue('code.namespace', 'orders.service')] },
  {
    name: 'SELECT orders',
    kind: 3,
    startsAfterNs: 0.9 * MS,
    endsBeforeNs: 8.1 * MS,
    attributes: () => [
      keyValue('db.system', 'postgresql'),
      keyValue('db.name', 'orders'),
      keyValue('db.operation', 'SELECT'),
      keyValue('db.statement', 'SELECT id, status, total FROM orders WHERE id = $1'),
      keyValue('server.address', 'orders-db.internal'),
      keyValue('server.port', 5432),
    ],
  },
  {
    name: 'POST',
    kind: 3,
    startsAfterNs: 4.5 * MS,
    endsBeforeNs: 1.8 * MS,
    attributes: () => [
      keyValue('http.request.method', 'POST'),
      keyValue('url.full', 'http://payments.internal:8080/api/authorize'),
      keyValue('http.response.status_code', 200),
      keyValue('server.address', 'payments.internal'),
      keyValue('server.port', 8080),
      keyValue('peer.service', 'payments'),
    ],
  },
  { name: 'GET', kind: 3, startsAfterNs: 0.3 * MS, endsBeforeNs: 11.5 * MS, attributes: () => [keyValue('db.system', 'redis'), keyValue('db.operation', 'GET'), keyValue('server.address', 'cache.internal'), keyValue('server.port', 6379)] },
];
/** The server span lasts 12.3 ms. */
const TRACE_NS = 12.3 * MS;

const resource = { attributes: [keyValue('service.name', 'checkout'), keyValue('service.version', '1.4.2'), keyValue('host.name', 'checkout-7d9f8-abcde'), keyValue('telemetry.sdk.language', 'nodejs')] };

/** The offset of `marker` in `buf`, which must hold it exactly once. */
function onlyOffset(buf, marker) {
  const at = buf.indexOf(marker);
  if (at < 0 || buf.indexOf(marker, at + 1) >= 0) throw new Error('web-trace: a marker is missing or not unique in the encoded request');
  return at;
}

const fixed64 = (long) => Buffer.from(long.toBytesLE());

/** A request of `spansPerRequest` spans (a multiple of 5: whole traces), ready to be copied and stamped. */
export function traceRequestTemplate(spansPerRequest = 100) {
  if (spansPerRequest % SPANS_PER_TRACE !== 0) throw new Error(`spans per request must be a multiple of ${SPANS_PER_TRACE}`);
  const markers = [];
  const spans = [];
  for (let p = 0; p < spansPerRequest; p++) {
    const role = ROLES[p % SPANS_PER_TRACE];
    const m = {
      trace: randomBytes(16),
      span: randomBytes(8),
      parent: p % SPANS_PER_TRACE === 0 ? null : randomBytes(8),
      start: Long.fromBytesLE([...randomBytes(8)], true),
      end: Long.fromBytesLE([...randomBytes(8)], true),
    };
    markers.push(m);
    spans.push({
      traceId: m.trace,
      spanId: m.span,
      ...(m.parent ? { parentSpanId: m.parent } : {}),
      name: role.name,
      kind: role.kind,
      startTimeUnixNano: m.start,
      endTimeUnixNano: m.end,
      attributes: role.attributes(p),
      status: { code: 0 },
    });
  }
  const bytes = Buffer.from(encodeRequest('traces', { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans }] }] }));
  const at = markers.map((m) => ({
    trace: onlyOffset(bytes, m.trace),
    span: onlyOffset(bytes, m.span),
    parent: m.parent ? onlyOffset(bytes, m.parent) : -1,
    start: onlyOffset(bytes, fixed64(m.start)),
    end: onlyOffset(bytes, fixed64(m.end)),
  }));
  return {
    bytes,
    spansPerRequest,
    /** A copy of the request holding spans first..first+n-1 (first a multiple of 5), sent at `sentMs`. */
    stamp(first, sentMs) {
      const out = Buffer.from(bytes);
      const sentNs = BigInt(sentMs) * 1_000_000n;
      const traceStartNs = sentNs - BigInt(TRACE_NS);
      for (let p = 0; p < at.length; p++) {
        const j = first + p;
        const q = p % SPANS_PER_TRACE;
        const role = ROLES[q];
        const o = at[p];
        writeTraceId(out, o.trace, Math.floor(j / SPANS_PER_TRACE));
        writeSpanId(out, o.span, j);
        if (o.parent >= 0) writeSpanId(out, o.parent, j - q);
        out.writeBigUInt64LE(traceStartNs + BigInt(role.startsAfterNs), o.start);
        out.writeBigUInt64LE(sentNs - BigInt(role.endsBeforeNs), o.end);
      }
      return out;
    },
  };
}
