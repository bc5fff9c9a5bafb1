/**
 * The hand-written trace and logs request encoders against protobufjs's encoder, the reference:
 * for random requests (plain objects as the pipeline builds them, protobufjs message instances,
 * the hand-written decoder's output, records as the file receiver makes them), what protobufjs
 * decodes from our bytes must equal what it decodes from its own bytes, with every default filled
 * in. Our bytes are never longer (only proto3 defaults outside the AnyValue oneof may be left out).
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, requestType } from '../../../src/otlp/codec.js';
import { encodeLogsRequest, encodeTraceRequest } from '../../../src/otlp/request-encoder.js';
import type { LogRecord } from '../../../src/otlp/types.js';
import { TraceContextEnricher } from '../../../src/processors/trace-context/enricher.js';
import { TraceContextExtractor } from '../../../src/processors/trace-context/extract.js';
import { createLineParser } from '../../../src/processors/parse/parse.js';
import { toLogRecord } from '../../../src/processors/parse/record.js';
import { Rnd, randomMessage, randomRequest, type Signal } from '../../helpers/otlp-random.js';

const encoders: Record<Signal, (req: never) => Buffer> = { traces: encodeTraceRequest, logs: encodeLogsRequest };

function fastEncode(signal: Signal, req: unknown): Buffer {
  return encoders[signal](req as never);
}

function protobufjsEncode(signal: Signal, req: unknown): Uint8Array {
  return requestType[signal].encode(req as never).finish();
}

/** What protobufjs decodes from `bytes`, as a plain object with every default (bytes base64, int64 decimal). */
function decoded(signal: Signal, bytes: Uint8Array): unknown {
  const t = requestType[signal];
  return t.toObject(t.decode(bytes), { defaults: true, longs: String, enums: Number, bytes: String });
}

function expectSameData(signal: Signal, req: unknown): void {
  const ours = fastEncode(signal, req);
  const theirs = protobufjsEncode(signal, req);
  expect(decoded(signal, ours)).toEqual(decoded(signal, theirs));
  expect(ours.length).toBeLessThanOrEqual(theirs.length);
}

/**
 * The same object with every Uint8Array replaced by a view into one shared slab, at a non-zero
 * offset with other bytes on both sides (as the trace-context extractor hands out ids), as a
 * Buffer or a bare Uint8Array.
 */
function withSlabViews<T>(obj: T, r: Rnd): T {
  const slab = new Uint8Array(1 << 16).fill(0xee);
  let at = 3;
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) {
      if (at + v.byteLength + 8 > slab.length) return v;
      slab.set(v, at);
      const view = r.chance(0.5) ? Buffer.from(slab.buffer, at, v.byteLength) : new Uint8Array(slab.buffer, at, v.byteLength);
      at += v.byteLength + 1 + r.int(7);
      return view;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object' && !Long.isLong(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(obj) as T;
}

describe.each(['traces', 'logs'] as const)('%s request encoder', (signal) => {
  it('random plain-object requests, ids as slab views: the same data as protobufjs', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = new Rnd(seed);
      expectSameData(signal, withSlabViews(randomRequest(r, signal), r));
    }
  });

  it('every field of the schema (random messages made from the schema, oneof members set together)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = new Rnd(seed);
      expectSameData(signal, withSlabViews(randomMessage(r, requestType[signal]), r));
    }
  });

  it('protobufjs message instances (defaults on the prototype), from fromObject and from decoding', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = new Rnd(seed);
      const message = requestType[signal].fromObject(randomRequest(r, signal));
      expectSameData(signal, message);
      // The hand-written decoder's instances, from protobufjs's bytes and from ours.
      expectSameData(signal, decodeRequest(signal, protobufjsEncode(signal, message), 'protobuf'));
      expectSameData(signal, decodeRequest(signal, fastEncode(signal, message), 'protobuf'));
      // And from the OTLP JSON path.
      const fromSchema = requestType[signal].fromObject(randomMessage(r, requestType[signal]));
      expectSameData(signal, fromSchema);
    }
  });

  it('encodeRequest uses it', () => {
    const r = new Rnd(7);
    const req = randomRequest(r, signal);
    expect(Buffer.from(encodeRequest(signal, req as never)).equals(fastEncode(signal, req))).toBe(true);
  });
});

describe('values at their defaults and at the edges', () => {
  const kv = (key: string, value: unknown) => ({ key, value });
  const attributes = [
    kv('empty string', { stringValue: '' }),
    kv('zero int', { intValue: Long.ZERO }),
    kv('false', { boolValue: false }),
    kv('zero double', { doubleValue: 0 }),
    kv('negative zero', { doubleValue: -0 }),
    kv('NaN', { doubleValue: Number.NaN }),
    kv('empty bytes', { bytesValue: new Uint8Array(0) }),
    kv('empty array', { arrayValue: { values: [] } }),
    kv('empty kvlist', { kvlistValue: { values: [] } }),
    kv('array of empties', { arrayValue: { values: [{}, { stringValue: '' }, { intValue: Long.ZERO }] } }),
    kv('no value', {}),
    kv('null value', null),
    { key: 'absent value' },
    kv('', { stringValue: 'empty key' }),
    kv('negative int', { intValue: Long.fromNumber(-1) }),
    kv('min int', { intValue: Long.MIN_VALUE }),
    kv('int as number', { intValue: -123456789012 }),
    kv('int as string', { intValue: '9223372036854775807' }),
    kv('unicode', { stringValue: 'héllo wörld 世界 🚀 \u0000\uffff' }),
    kv('long ascii', { stringValue: 'x'.repeat(300) }),
    kv('long unicode', { stringValue: 'é'.repeat(300) }),
    kv('null members', { stringValue: null, boolValue: null, intValue: 5, arrayValue: null }),
  ];
  const maxTime = new Long(-1, -1, true);
  const past53 = new Long(1, 0x200000, true);

  it('logs: an attribute whose value is "" or 0 keeps its type; negative enums, max times, null fields', () => {
    const req = {
      resourceLogs: [
        {
          resource: { attributes, droppedAttributesCount: 0, entityRefs: [{ type: '', idKeys: ['', 'a'], descriptionKeys: [] }, {}] },
          scopeLogs: [
            {
              scope: { name: '', version: 'v', attributes: [], droppedAttributesCount: 3 },
              logRecords: [
                { timeUnixNano: maxTime, observedTimeUnixNano: past53, severityNumber: -1, body: { stringValue: '' }, attributes, flags: 0xffffffff, traceId: null, spanId: null },
                { timeUnixNano: Long.UZERO, severityNumber: 0, severityText: '', body: {}, attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), eventName: '' },
                { timeUnixNano: 1750000000123456789, observedTimeUnixNano: '1750000000123456789', severityNumber: 2 ** 31 - 1, body: null, eventName: 'e' },
                {},
              ],
              schemaUrl: '',
            },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        },
        { resource: null, scopeLogs: [{ scope: null, logRecords: [] }] },
        { scopeLogs: [] },
      ],
    };
    expectSameData('logs', req);
    expectSameData('logs', withSlabViews(req, new Rnd(3)));
    const values = (decoded('logs', fastEncode('logs', req)) as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: unknown }[] }[] }[] }[] }).resourceLogs[0].scopeLogs[0].logRecords[0].attributes;
    const byKey = Object.fromEntries(values.map((a) => [a.key, a.value]));
    expect(byKey['empty string']).toMatchObject({ stringValue: '' });
    expect(byKey['zero int']).toMatchObject({ intValue: '0' });
    expect(byKey['false']).toMatchObject({ boolValue: false });
    expect(byKey['empty bytes']).toMatchObject({ bytesValue: '' });
    expect(byKey['no value']).toEqual({});
    expect(byKey['null value']).toBeNull();
    // protobufjs's toObject leaves unset oneof members out.
    expect(Object.keys(byKey['empty string'] as object)).toEqual(['stringValue']);
    expect(Object.keys(byKey['zero double'] as object)).toEqual(['doubleValue']);
  });

  it('traces: events, links, status, flags (a two-byte tag), dropped counts, trace state', () => {
    const span = {
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      traceState: 'rojo=00f067aa0ba902b7',
      parentSpanId: Buffer.alloc(0),
      flags: 0x301,
      name: 'GET /',
      kind: -5,
      startTimeUnixNano: past53,
      endTimeUnixNano: maxTime,
      attributes,
      droppedAttributesCount: 2 ** 32 - 1,
      events: [{ timeUnixNano: maxTime, name: '', attributes, droppedAttributesCount: 1 }, {}],
      droppedEventsCount: 128,
      links: [{ traceId: Buffer.alloc(16, 3), spanId: Buffer.alloc(8, 4), traceState: '', attributes: [], droppedAttributesCount: 0, flags: 1 }, {}],
      droppedLinksCount: 16384,
      status: { code: 0, message: '' },
    };
    const req = {
      resourceSpans: [
        { resource: { attributes: [] }, scopeSpans: [{ scope: {}, spans: [span, { ...span, status: { code: 2, message: 'boom' }, flags: 0, kind: 0 }, {}], schemaUrl: 's' }] },
        { resource: null, scopeSpans: [] },
      ],
    };
    expectSameData('traces', req);
    expectSameData('traces', withSlabViews(req, new Rnd(4)));
  });

  it('empty requests', () => {
    expect(encodeTraceRequest({ resourceSpans: [] }).length).toBe(0);
    expect(encodeLogsRequest({ resourceLogs: [] }).length).toBe(0);
    expectSameData('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{}] }] }] });
    expectSameData('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{}] }] }] });
  });

  it('values nested deep: encoded as deep as protobufjs encodes them, refused where it refuses', () => {
    const nested = (levels: number, leaf: Record<string, unknown>) => {
      let value = leaf;
      for (let i = 0; i < levels; i++) value = i % 2 ? { arrayValue: { values: [value, {}] } } : { kvlistValue: { values: [{ key: `k${i}`, value }] } };
      return value;
    };
    const outcome = (encode: () => unknown) => {
      try {
        encode();
        return 'encoded';
      } catch (err) {
        return (err as Error).message;
      }
    };
    let refused = 0;
    for (let levels = 40; levels <= 52; levels++) {
      for (const leaf of [{ stringValue: 'leaf' }, { arrayValue: { values: [] } }, {}]) {
        const value = nested(levels, leaf);
        const requests: [Signal, unknown][] = [
          ['logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: value }] }] }] }],
          ['logs', { resourceLogs: [{ resource: { attributes: [{ key: 'r', value }] }, scopeLogs: [] }] }],
          ['traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ events: [{ attributes: [{ key: 'e', value }] }] }] }] }] }],
          ['traces', { resourceSpans: [{ scopeSpans: [{ scope: { attributes: [{ key: 's', value }] }, spans: [] }] }] }],
        ];
        for (const [signal, req] of requests) {
          const theirs = outcome(() => protobufjsEncode(signal, req));
          expect(outcome(() => fastEncode(signal, req))).toBe(theirs);
          if (theirs === 'encoded') expectSameData(signal, req);
          else refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('a string table larger than the first length buffer (it grows)', () => {
    const logRecords = Array.from({ length: 2000 }, (_, i) => ({
      body: { stringValue: `line ${i} ${'é'.repeat(i % 5)}` },
      attributes: [{ key: 'i', value: { intValue: Long.fromNumber(i) } }, { key: 's', value: { stringValue: String(i) } }],
    }));
    expectSameData('logs', { resourceLogs: [{ scopeLogs: [{ logRecords }] }] });
  });
});

describe('records as the file receiver builds them', () => {
  const parse = createLineParser({ format: 'auto', regex: null });
  const enricher = new TraceContextEnricher(new TraceContextExtractor());
  const FILE = { path: '/var/log/app/app.log', name: 'app.log' };

  function record(text: string, truncated = false): LogRecord {
    const line = parse(text);
    enricher.enrich(line);
    return toLogRecord(line, { text, end: text.length + 1, truncated }, FILE, 1714564801000000001n);
  }

  it('pino, logfmt and plain lines with trace context, nested fields, empty and zero values', () => {
    const r = new Rnd(11);
    const logRecords: LogRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const trace = Array.from({ length: 32 }, () => '0123456789abcdef'[r.int(16)]).join('');
      const span = Array.from({ length: 16 }, () => '0123456789abcdef'[r.int(16)]).join('');
      const lines = [
        `{"level":${r.pick([10, 20, 30, 40, 50, 60])},"time":${1714564800000 + i},"pid":${r.int(70000)},"hostname":"web-1","msg":"request ${i} é","trace_id":"${trace}","span_id":"${span}","trace_flags":"01","req":{"method":"GET","url":"/api/orders/${i}","headers":{"n":2}},"res":{"statusCode":200},"responseTime":${r.next() * 100},"empty":"","zero":0,"no":false,"none":null,"tags":["a",1,1.5,{"k":""}]}`,
        `level=info ts=2024-05-01T12:00:00Z msg="hello ${i}" traceID=${trace} spanID=${span} n=0 s=""`,
        `plain text line ${i} 🚀`,
        `{"msg":"","level":"warn"}`,
      ];
      logRecords.push(record(r.pick(lines), r.chance(0.1)));
    }
    const req = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'app' } }] }, scopeLogs: [{ scope: { name: 'tracetail.files' }, logRecords }] }] };
    expectSameData('logs', req);
  });
});
