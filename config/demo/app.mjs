#!/usr/bin/env node
// The demo app: "checkout", a small web shop's backend as tracetail sees it from outside. It
// serves simulated requests (no port is opened): each one is a server span with client spans
// under it (PostgreSQL, Redis, a payment provider), made by the OpenTelemetry JS SDK with real
// waits for their latency, and sent over OTLP/HTTP. pino writes JSON lines to a log file, the
// lines written inside a span carrying trace_id, span_id and trace_flags (what
// @opentelemetry/instrumentation-pino adds), and the file is rotated the way logrotate's `create`
// does it: renamed to .1 (older ones shifted up to .3, the oldest removed) and opened again.
//
// Some checkouts fail at the payment provider, some product pages are slow; a few requests come
// from an upstream that did not sample them: their lines carry a trace id whose spans never
// arrive. A background job and a periodic cache report log without trace context.
//
// Environment (all optional):
//   OTEL_EXPORTER_OTLP_ENDPOINT  where spans go (http://127.0.0.1:4318); the other OTEL_* variables work too
//   OTEL_SERVICE_NAME            the service name (checkout)
//   DEMO_LOG_FILE                the log file (./var/log/checkout.log)
//   DEMO_RATE                    requests per second (10)
//   DEMO_ROTATE_BYTES            rotate the log file past this size (262144)
//
// SIGINT or SIGTERM: stop taking requests, finish the ones under way, send the last spans, exit 0.
import { renameSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { traceContextFields } from './trace-context.mjs';

const SERVICE = process.env.OTEL_SERVICE_NAME || 'checkout';
const LOG_FILE = process.env.DEMO_LOG_FILE || './var/log/checkout.log';
const RATE = Number(process.env.DEMO_RATE || 10);
const ROTATE_BYTES = Number(process.env.DEMO_ROTATE_BYTES || 262144);
const KEEP_ROTATED = 3;

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': SERVICE, 'service.version': '1.4.2', 'deployment.environment.name': 'demo' }),
  // A short delay so that what happens shows up within a second or two.
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
});
provider.register();
const tracer = trace.getTracer('checkout', '1.4.2');

const destination = pino.destination({ dest: LOG_FILE, sync: false, mkdir: true });
const log = pino(
  {
    mixin: traceContextFields,
  },
  destination,
);

/** A latency in ms drawn around `median` with a long tail (log-normal). */
function latency(median, spread = 0.5) {
  const u = 1 - Math.random();
  const v = Math.random();
  return median * Math.exp(spread * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}
const chance = (p) => Math.random() < p;
const pick = (items) => items[Math.floor(Math.random() * items.length)];

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** A client span around a wait of `ms`; `fail` (an Error) makes it fail after the wait. */
function client(name, attributes, ms, fail) {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      await sleep(ms);
      if (fail) throw fail;
    } catch (err) {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

const db = (operation, table, ms = latency(4), fail = undefined) =>
  client(`${operation} shop.${table}`, { 'db.system': 'postgresql', 'db.namespace': 'shop', 'db.operation.name': operation, 'db.collection.name': table, 'server.address': 'postgres' }, ms, fail);
const cache = (operation, ms = latency(0.8, 0.3)) => client(operation, { 'db.system': 'redis', 'db.operation.name': operation, 'server.address': 'redis' }, ms);

const ROUTES = [
  {
    weight: 40,
    method: 'GET',
    route: '/products',
    async run() {
      await cache('MGET');
      await db('SELECT', 'products', latency(8));
    },
  },
  {
    weight: 25,
    method: 'GET',
    route: '/products/{id}',
    async run() {
      const id = 1000 + Math.floor(Math.random() * 500);
      const slow = chance(0.04);
      if (slow) log.warn({ product_id: id, plan: 'seq scan' }, 'slow query: missing index on product_variants');
      const failed = chance(0.02) ? new Error('canceling statement due to statement timeout') : undefined;
      await db('SELECT', 'product_variants', slow ? latency(700, 0.4) : latency(5), failed);
    },
  },
  {
    weight: 20,
    method: 'GET',
    route: '/cart',
    async run() {
      await cache('HGETALL');
      if (chance(0.3)) await db('SELECT', 'prices', latency(3));
    },
  },
  {
    weight: 10,
    method: 'POST',
    route: '/cart/items',
    async run() {
      await db('SELECT', 'products', latency(3));
      await cache('HSET');
      log.debug('cart updated');
    },
  },
  {
    weight: 5,
    method: 'POST',
    route: '/checkout',
    async run() {
      const order = `ord_${Math.random().toString(36).slice(2, 10)}`;
      log.info({ order_id: order }, 'checkout started');
      await db('INSERT', 'orders', latency(6));
      const provider = { 'http.request.method': 'POST', 'server.address': 'api.payments.example', 'peer.service': 'payments', 'url.full': 'https://api.payments.example/v1/charges' };
      if (chance(0.12)) {
        const err = new Error('payment provider unavailable: 503 Service Unavailable');
        await client('POST', { ...provider, 'http.response.status_code': 503 }, latency(900, 0.3), err).catch(() => undefined);
        log.error({ order_id: order, provider: 'payments', err }, 'payment failed');
        throw new HttpError(502, 'payment provider unavailable');
      }
      await client('POST', { ...provider, 'http.response.status_code': 200 }, latency(180, 0.4));
      await db('UPDATE', 'orders', latency(4));
      log.info({ order_id: order }, 'order placed');
    },
  },
];
const TOTAL_WEIGHT = ROUTES.reduce((n, r) => n + r.weight, 0);

function route() {
  let w = Math.random() * TOTAL_WEIGHT;
  for (const r of ROUTES) if ((w -= r.weight) < 0) return r;
  return ROUTES[0];
}

/** The parent context of an incoming request: 3% come from an upstream that did not sample them. */
function incoming() {
  if (!chance(0.03)) return ROOT_CONTEXT;
  const hex = (n) => Array.from({ length: n }, () => pick('0123456789abcdef')).join('');
  return propagation.extract(ROOT_CONTEXT, { traceparent: `00-${hex(32)}-${hex(16)}-00` });
}

async function serve(r) {
  const name = `${r.method} ${r.route}`;
  const attributes = { 'http.request.method': r.method, 'http.route': r.route, 'url.scheme': 'https', 'user_agent.original': 'Mozilla/5.0' };
  await context.with(incoming(), () =>
    tracer.startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, async (span) => {
      const started = performance.now();
      let status = 200;
      try {
        await r.run();
      } catch (err) {
        status = err instanceof HttpError ? err.status : 500;
        if (!(err instanceof HttpError)) log.error({ err, route: r.route }, 'request failed');
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      } finally {
        span.setAttribute('http.response.status_code', status);
        const duration = performance.now() - started;
        log[status >= 500 ? 'error' : 'info']({ method: r.method, route: r.route, status, duration_ms: Math.round(duration * 10) / 10 }, 'request completed');
        span.end();
      }
    }),
  );
}

/** Rename-and-create, as logrotate's `create` does: checkout.log -> .1 -> .2 -> .3, then reopen. */
function rotateIfDue() {
  let size;
  try {
    size = statSync(LOG_FILE).size;
  } catch {
    return;
  }
  if (size < ROTATE_BYTES) return;
  rmSync(`${LOG_FILE}.${KEEP_ROTATED}`, { force: true });
  for (let i = KEEP_ROTATED - 1; i >= 1; i--) {
    try {
      renameSync(`${LOG_FILE}.${i}`, `${LOG_FILE}.${i + 1}`);
    } catch {
      // not there yet
    }
  }
  renameSync(LOG_FILE, `${LOG_FILE}.1`);
  destination.reopen();
}

let stopping = false;
const inFlight = new Set();

async function main() {
  // Start-up: the database is checked and that span sent before the first log line. tracetail is
  // not told the service name (it takes it from the spans): a line read before the first span
  // arrives would be counted as unknown_service.
  await tracer.startActiveSpan('startup', { kind: SpanKind.INTERNAL }, async (span) => {
    await db('SELECT', 'schema_migrations', latency(3));
    span.end();
  });
  await Promise.race([provider.forceFlush(), sleep(5000)]);
  log.info({ rate: RATE }, `${SERVICE} ready`);
  process.stderr.write(`demo app "${SERVICE}": ${RATE} requests/s, logs in ${LOG_FILE}, spans to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318'}\n`);

  const timers = [
    setInterval(rotateIfDue, 1000),
    setInterval(() => log.info({ hits: Math.floor(Math.random() * 900), misses: Math.floor(Math.random() * 90) }, 'cache report'), 5000),
    setInterval(
      () =>
        tracer.startActiveSpan('refresh exchange rates', { kind: SpanKind.INTERNAL }, async (span) => {
          await client('GET', { 'http.request.method': 'GET', 'server.address': 'rates.example', 'peer.service': 'rates' }, latency(60));
          log.info({ currencies: 31 }, 'exchange rates refreshed');
          span.end();
        }),
      15000,
    ),
  ];
  while (!stopping) {
    const request = serve(route()).finally(() => inFlight.delete(request));
    inFlight.add(request);
    // Poisson arrivals at RATE per second.
    await sleep(-Math.log(1 - Math.random()) * (1000 / RATE));
  }
  for (const t of timers) clearInterval(t);
}

async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.race([Promise.allSettled([...inFlight]), sleep(5000)]);
  log.info(`${SERVICE} stopped`);
  await provider.shutdown().catch((err) => process.stderr.write(`demo app: spans not sent: ${err.message}\n`));
  destination.flushSync();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

main().catch((err) => {
  process.stderr.write(`demo app failed: ${err.stack}\n`);
  process.exit(1);
});
