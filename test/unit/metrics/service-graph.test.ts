import { createHash } from 'node:crypto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { ServiceGraph } from '../../../src/metrics/service-graph.js';
import { Telemetry } from '../../../src/metrics/telemetry.js';
import type { KeyValue, Span } from '../../../src/otlp/types.js';
import { keyValue } from '../../../src/otlp/values.js';
import type { TraceBatch } from '../../../src/pipeline/batches.js';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** An id as random-looking as the SDK's (span deduplication folds ids, so counters would collide), the same for the same `n`. */
function id(bytes: number, n: number): Uint8Array {
  return createHash('sha256').update(`${bytes}:${n}`).digest().subarray(0, bytes);
}

function span(trace: number, spanId: number, parent: number | null, kind: number, ms: number, over: { error?: boolean; attributes?: Record<string, unknown> } = {}): Span {
  const start = Long.fromNumber(1_700_000_000_000_000_000 / 1e6).multiply(1_000_000);
  const attributes: KeyValue[] = Object.entries(over.attributes ?? {}).map(([k, v]) => keyValue(k, v));
  return {
    traceId: id(16, trace),
    spanId: id(8, spanId),
    parentSpanId: parent === null ? new Uint8Array(0) : id(8, parent),
    name: 'op',
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start.add(ms * 1_000_000),
    attributes,
    status: over.error ? { code: 2 } : { code: 0 },
  };
}

function batch(service: string, spans: Span[]): TraceBatch {
  return { resourceSpans: [{ resource: { attributes: [keyValue('service.name', service)] }, scopeSpans: [{ spans }] }], transport: 'http' };
}

function graph(over: Partial<ConstructorParameters<typeof ServiceGraph>[0]> = {}): ServiceGraph {
  return new ServiceGraph({
    waitMs: 60_000,
    maxItems: 100,
    buckets: [0.01, 0.1, 1],
    peerAttributes: ['peer.service', 'db.name', 'db.system', 'server.address'],
    maxSeries: 100,
    idleTimeoutMs: null,
    defaultServiceName: 'unknown_service',
    dedupeWindowMs: 300_000,
    dedupeMaxSpans: 100_000,
    telemetry: new Telemetry({ processMetrics: false }),
    log: createLogger('silent'),
    ...over,
  });
}

const edge = (g: ServiceGraph, client: string, server: string) => g.edges().find((e) => e.client === client && e.server === server);

describe('service graph', () => {
  it('pairs a client span with the server span whose parent it is, in either order of arrival', () => {
    const g = graph();
    // trace 1: client first; trace 2: server first; trace 3: the server fails.
    g.observe(batch('frontend', [span(1, 10, 1, CLIENT, 50)]));
    g.observe(batch('checkout', [span(1, 11, 10, SERVER, 40)]));
    g.observe(batch('checkout', [span(2, 21, 20, SERVER, 400)]));
    g.observe(batch('frontend', [span(2, 20, 2, CLIENT, 500)]));
    g.observe(batch('checkout', [span(3, 31, 30, SERVER, 5, { error: true })]));
    g.observe(batch('frontend', [span(3, 30, 3, CLIENT, 6)]));
    const e = edge(g, 'frontend', 'checkout')!;
    expect(e).toMatchObject({ connection_type: '', requests: 3, failed: 1 });
    expect(e.server_seconds_sum).toBeCloseTo(0.445, 9);
    expect(e.client_seconds_sum).toBeCloseTo(0.556, 9);
    expect(g.waiting).toBe(0);
  });

  it('makes the user the client of a root server span, and a database the server of a db client span, at once', () => {
    const g = graph();
    g.observe(batch('frontend', [span(1, 1, null, SERVER, 20), span(2, 2, null, SERVER, 30, { error: true })]));
    g.observe(batch('checkout', [span(1, 5, 4, CLIENT, 3, { attributes: { 'db.system': 'postgresql', 'db.name': 'postgres' } }), span(1, 6, 4, CLIENT, 3, { attributes: { 'db.system': 'redis' } })]));
    expect(edge(g, 'user', 'frontend')).toMatchObject({ connection_type: 'virtual_node', requests: 2, failed: 1 });
    expect(edge(g, 'checkout', 'postgres')).toMatchObject({ connection_type: 'database', requests: 1, failed: 0 });
    expect(edge(g, 'checkout', 'redis')).toMatchObject({ connection_type: 'database', requests: 1 });
    expect(g.waiting).toBe(0);
  });

  it('gives up a pair after wait: a virtual node named by peer attributes, else unpaired', async () => {
    const g = graph({ waitMs: 60_000 });
    g.observe(batch('checkout', [span(1, 10, 1, CLIENT, 5, { attributes: { 'server.address': 'api.example.com' } }), span(1, 11, 1, CLIENT, 5, { attributes: { 'peer.service': 'fraud', 'server.address': 'x' } })]));
    g.observe(batch('checkout', [span(1, 12, 1, CLIENT, 5)]));
    g.observe(batch('payments', [span(2, 21, 20, SERVER, 5)]));
    expect(g.waiting).toBe(4);
    // A clock past the wait, however slow the machine.
    g.expire(performance.now() + 120_000);
    expect(g.waiting).toBe(0);
    expect(edge(g, 'checkout', 'api.example.com')).toMatchObject({ connection_type: 'virtual_node', requests: 1 });
    expect(edge(g, 'checkout', 'fraud')).toMatchObject({ connection_type: 'virtual_node', requests: 1 });
    const unpaired = [...g.unpaired.entries()].map(([, s]) => [s.labels, s.value]);
    expect(unpaired).toEqual(expect.arrayContaining([[{ client: 'checkout' }, 1], [{ server: 'payments' }, 1]]));
    expect(unpaired).toHaveLength(2);
  });

  it('counts producer/consumer pairs as messaging_system and drops spans past max_items', () => {
    const g = graph({ maxItems: 2 });
    g.observe(batch('orders', [span(1, 10, 1, PRODUCER, 1)]));
    g.observe(batch('billing', [span(1, 11, 10, CONSUMER, 2)]));
    expect(edge(g, 'orders', 'billing')).toMatchObject({ connection_type: 'messaging_system', requests: 1 });
    g.observe(batch('a', [span(5, 1, 9, CLIENT, 1), span(5, 2, 9, CLIENT, 1), span(5, 3, 9, CLIENT, 1)]));
    expect(g.waiting).toBe(2);
    expect([...g.dropped.entries()].map(([, s]) => [s.labels, s.value])).toEqual([[{ client: 'a' }, 1]]);
  });

  it('counts a span seen again (an SDK retrying an accepted request) once', () => {
    const g = graph();
    const client = batch('frontend', [span(1, 10, 1, CLIENT, 5)]);
    const server = batch('checkout', [span(1, 11, 10, SERVER, 4)]);
    const root = batch('frontend', [span(1, 1, null, SERVER, 9)]);
    for (const b of [client, server, root, client, server, root]) g.observe(b);
    expect(edge(g, 'frontend', 'checkout')).toMatchObject({ requests: 1 });
    expect(edge(g, 'user', 'frontend')).toMatchObject({ requests: 1 });
    expect(g.waiting).toBe(0);
  });

  it('keeps edges within the cardinality budget', () => {
    const g = graph({ maxSeries: 2 });
    for (let i = 0; i < 5; i++) g.observe(batch(`svc${i}`, [span(i + 1, 1, null, SERVER, 1)]));
    expect(g.requests.size).toBe(2);
    expect(g.edges().reduce((n, e) => n + e.requests, 0)).toBe(2);
  });
});
