/**
 * What the SDK cannot produce, sent as hand-built OTLP protobuf and hand-written OTLP JSON: every
 * AnyValue type (int64 beyond 2^53 and at its limits, whole doubles, NaN/Infinity, bytes, nested
 * arrays and kvlists, an empty value), every span and log record field, scope attributes, dropped
 * counts, uint64 times at their maximum. Sent over TCP, the Unix socket and gRPC; what arrives must
 * equal what was sent, and metrics must be forwarded byte for byte.
 */
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, grpcMethodPath, requestType } from '../../../src/otlp/codec.js';
import { canonLogRecord, canonResource, canonScope, canonSpan, capturedLogRecords, capturedSpans, request, startOtlp, type OtlpHarness } from './harness.js';

const u64 = (s: string) => Long.fromString(s, true);
const i64 = (s: string) => Long.fromString(s, false);
const bytes = (h: string) => Buffer.from(h, 'hex');

// ---- one of each AnyValue, as a protobuf object and as OTLP JSON ---------------------------------

const VALUES_PB = [
  { key: 'str', value: { stringValue: 'grüße 🚀' } },
  { key: 'empty-str', value: { stringValue: '' } },
  { key: 'bool', value: { boolValue: true } },
  { key: 'false', value: { boolValue: false } },
  { key: 'int-2^53+1', value: { intValue: i64('9007199254740993') } },
  { key: 'int-max', value: { intValue: i64('9223372036854775807') } },
  { key: 'int-min', value: { intValue: i64('-9223372036854775808') } },
  { key: 'int-zero', value: { intValue: i64('0') } },
  { key: 'double-whole', value: { doubleValue: 2.0 } },
  { key: 'double-zero', value: { doubleValue: 0 } },
  { key: 'double-frac', value: { doubleValue: -1.5e-7 } },
  { key: 'double-nan', value: { doubleValue: NaN } },
  { key: 'double-inf', value: { doubleValue: -Infinity } },
  { key: 'bytes', value: { bytesValue: bytes('00ff10deadbeef') } },
  { key: 'bytes-empty', value: { bytesValue: Buffer.alloc(0) } },
  {
    key: 'array-nested',
    value: {
      arrayValue: {
        values: [
          { intValue: i64('1') },
          { doubleValue: 1.0 },
          { arrayValue: { values: [{ stringValue: 'in' }, { arrayValue: { values: [] } }] } },
          { kvlistValue: { values: [{ key: 'k', value: { bytesValue: bytes('01') } }] } },
          {},
        ],
      },
    },
  },
  {
    key: 'kvlist',
    value: {
      kvlistValue: {
        values: [
          { key: 'inner', value: { kvlistValue: { values: [{ key: 'deep', value: { intValue: i64('-9007199254740993') } }] } } },
          { key: 'list', value: { arrayValue: { values: [{ boolValue: false }, { doubleValue: 3.0 }] } } },
          { key: '', value: { stringValue: 'empty key' } },
        ],
      },
    },
  },
  { key: 'kvlist-empty', value: { kvlistValue: { values: [] } } },
  { key: 'no-value', value: {} },
];

const VALUES_JSON = [
  { key: 'str', value: { stringValue: 'grüße 🚀' } },
  { key: 'empty-str', value: { stringValue: '' } },
  { key: 'bool', value: { boolValue: true } },
  { key: 'false', value: { boolValue: false } },
  { key: 'int-2^53+1', value: { intValue: '9007199254740993' } },
  { key: 'int-max', value: { intValue: '9223372036854775807' } },
  { key: 'int-min', value: { intValue: '-9223372036854775808' } },
  { key: 'int-zero', value: { intValue: 0 } },
  { key: 'double-whole', value: { doubleValue: 2.0 } },
  { key: 'double-zero', value: { doubleValue: 0 } },
  { key: 'double-frac', value: { doubleValue: -1.5e-7 } },
  { key: 'double-nan', value: { doubleValue: 'NaN' } },
  { key: 'double-inf', value: { doubleValue: '-Infinity' } },
  { key: 'bytes', value: { bytesValue: bytes('00ff10deadbeef').toString('base64') } },
  { key: 'bytes-empty', value: { bytesValue: '' } },
  {
    key: 'array-nested',
    value: {
      arrayValue: {
        values: [
          { intValue: '1' },
          { doubleValue: 1.0 },
          { arrayValue: { values: [{ stringValue: 'in' }, { arrayValue: {} }] } },
          { kvlistValue: { values: [{ key: 'k', value: { bytesValue: 'AQ==' } }] } },
          {},
        ],
      },
    },
  },
  {
    key: 'kvlist',
    value: {
      kvlistValue: {
        values: [
          { key: 'inner', value: { kvlistValue: { values: [{ key: 'deep', value: { intValue: '-9007199254740993' } }] } } },
          { key: 'list', value: { arrayValue: { values: [{ boolValue: false }, { doubleValue: 3.0 }] } } },
          { key: '', value: { stringValue: 'empty key' } },
        ],
      },
    },
  },
  { key: 'kvlist-empty', value: { kvlistValue: {} } },
  { key: 'no-value', value: {} },
];

// ---- a trace request using every field -------------------------------------------------------------

const TRACE_PB = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'handmade' } }, ...VALUES_PB], droppedAttributesCount: 4 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [
        {
          scope: { name: 'scope-x', version: 'v9', attributes: VALUES_PB.slice(0, 5), droppedAttributesCount: 1 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          spans: [
            {
              traceId: bytes('5b8efff798038103d269b633813fc60c'),
              spanId: bytes('eee19b7ec3c1b174'),
              parentSpanId: bytes('eee19b7ec3c1b173'),
              traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
              flags: 0x301,
              name: 'every field',
              kind: 5,
              startTimeUnixNano: u64('1750000000123456789'),
              endTimeUnixNano: u64('18446744073709551615'),
              attributes: VALUES_PB,
              droppedAttributesCount: 7,
              events: [
                { timeUnixNano: u64('1750000000123456790'), name: 'ev', attributes: VALUES_PB.slice(4, 9), droppedAttributesCount: 2 },
                { timeUnixNano: u64('9007199254740993'), name: '' },
              ],
              droppedEventsCount: 3,
              links: [
                { traceId: bytes('0af7651916cd43dd8448eb211c80319c'), spanId: bytes('b7ad6b7169203331'), traceState: 'a=b', attributes: VALUES_PB.slice(9), droppedAttributesCount: 5, flags: 0x101 },
              ],
              droppedLinksCount: 6,
              status: { code: 2, message: 'broken' },
            },
            {
              traceId: bytes('5b8efff798038103d269b633813fc60c'),
              spanId: bytes('0000000000000001'),
              name: 'minimal',
              startTimeUnixNano: u64('1'),
              endTimeUnixNano: u64('2'),
            },
          ],
        },
      ],
    },
  ],
};

const TRACE_JSON = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'handmade' } }, ...VALUES_JSON], droppedAttributesCount: 4 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [
        {
          scope: { name: 'scope-x', version: 'v9', attributes: VALUES_JSON.slice(0, 5), droppedAttributesCount: 1 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              parentSpanId: 'EEE19B7EC3C1B173',
              traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
              flags: 769,
              name: 'every field',
              kind: 5,
              startTimeUnixNano: '1750000000123456789',
              endTimeUnixNano: '18446744073709551615',
              attributes: VALUES_JSON,
              droppedAttributesCount: 7,
              events: [
                { timeUnixNano: '1750000000123456790', name: 'ev', attributes: VALUES_JSON.slice(4, 9), droppedAttributesCount: 2 },
                { timeUnixNano: '9007199254740993', name: '' },
              ],
              droppedEventsCount: 3,
              links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceState: 'a=b', attributes: VALUES_JSON.slice(9), droppedAttributesCount: 5, flags: 257 }],
              droppedLinksCount: 6,
              status: { code: 2, message: 'broken' },
              someFutureField: { ignored: true },
            },
            { traceId: '5b8efff798038103d269b633813fc60c', spanId: '0000000000000001', parentSpanId: '', name: 'minimal', startTimeUnixNano: 1, endTimeUnixNano: '2' },
          ],
        },
      ],
    },
  ],
};

const LOGS_PB = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'handmade' } }] },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [
        {
          scope: { name: 'logs-scope', version: '1', attributes: VALUES_PB.slice(2, 6), droppedAttributesCount: 2 },
          schemaUrl: 'https://s/logs',
          logRecords: [
            {
              timeUnixNano: u64('1750000000123456789'),
              observedTimeUnixNano: u64('1750000000999999999'),
              severityNumber: 21,
              severityText: 'FATAL',
              body: { kvlistValue: { values: VALUES_PB } },
              attributes: VALUES_PB,
              droppedAttributesCount: 9,
              flags: 1,
              traceId: bytes('5b8efff798038103d269b633813fc60c'),
              spanId: bytes('eee19b7ec3c1b174'),
              eventName: 'app.crash',
            },
            { observedTimeUnixNano: u64('1750000001000000000'), body: { bytesValue: bytes('ff00') } },
          ],
        },
      ],
    },
  ],
};

const LOGS_JSON = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'handmade' } }] },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [
        {
          scope: { name: 'logs-scope', version: '1', attributes: VALUES_JSON.slice(2, 6), droppedAttributesCount: 2 },
          schemaUrl: 'https://s/logs',
          logRecords: [
            {
              timeUnixNano: '1750000000123456789',
              observedTimeUnixNano: '1750000000999999999',
              severityNumber: 21,
              severityText: 'FATAL',
              body: { kvlistValue: { values: VALUES_JSON } },
              attributes: VALUES_JSON,
              droppedAttributesCount: 9,
              flags: 1,
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              eventName: 'app.crash',
            },
            { observedTimeUnixNano: '1750000001000000000', body: { bytesValue: '/wA=' } },
          ],
        },
      ],
    },
  ],
};

const METRICS_JSON = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'handmade' } }] },
      scopeMetrics: [
        {
          scope: { name: 'm' },
          metrics: [
            { name: 'g', gauge: { dataPoints: [{ asInt: '9007199254740993', timeUnixNano: '1750000000123456789' }, { asDouble: 2.0 }] } },
            { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asDouble: 1.5, exemplars: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', asInt: '3' }] }] } },
            { name: 'h', histogram: { aggregationTemporality: 1, dataPoints: [{ count: '3', sum: 6, bucketCounts: ['1', '2'], explicitBounds: [1] }] } },
            { name: 'e', exponentialHistogram: { dataPoints: [{ count: '1', scale: -2, positive: { offset: -1, bucketCounts: ['1'] } }] } },
            { name: 'q', summary: { dataPoints: [{ count: '2', sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }] }] } },
          ],
        },
      ],
    },
  ],
};

// Canonical expectations come from the protobuf objects above; the JSON must decode to the same.
const expectedSpans = TRACE_PB.resourceSpans.flatMap((rs) =>
  rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ resource: canonResource(rs as never), scope: canonScope(ss as never), span: canonSpan(s as never) }))),
);
const expectedLogs = LOGS_PB.resourceLogs.flatMap((rl) =>
  rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => ({ resource: canonResource(rl as never), scope: canonScope(sl as never), record: canonLogRecord(r as never) }))),
);

function grpcExport(target: string, signal: 'traces' | 'logs' | 'metrics', body: Uint8Array): Promise<Buffer> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      grpcMethodPath(signal),
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      (err, value) => {
        client.close();
        if (err) reject(err);
        else resolve(value!);
      },
    );
  });
}

describe('hand-built OTLP: every field and value type arrives unchanged', () => {
  let h: OtlpHarness;
  const tracePb = encodeRequest('traces', requestType.traces.fromObject(TRACE_PB) as never);
  const logsPb = encodeRequest('logs', requestType.logs.fromObject(LOGS_PB) as never);

  beforeAll(async () => {
    h = await startOtlp();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('the expectations cover what the SDK cannot send', () => {
    const values = JSON.stringify(expectedSpans[0].span);
    for (const needle of ['{"int":"9007199254740993"}', '{"int":"-9223372036854775808"}', '{"double":2}', '{"bytes":"00ff10deadbeef"}', '"kvlist"', '"end":"18446744073709551615"']) {
      expect(values).toContain(needle);
    }
  });

  const sends: { name: string; send: (h: OtlpHarness) => Promise<void> }[] = [
    {
      name: 'protobuf over TCP',
      send: async (h) => void expect((await request(h.http, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, body: tracePb })).status).toBe(200),
    },
    {
      name: 'JSON over TCP',
      send: async (h) => void expect((await request(h.http, { path: '/v1/traces', headers: { 'content-type': 'application/json' }, body: JSON.stringify(TRACE_JSON) })).status).toBe(200),
    },
    {
      name: 'gzip JSON over the Unix socket',
      send: async (h) =>
        void expect(
          (await request(h.unix, { path: '/v1/traces', headers: { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(TRACE_JSON)) }))
            .status,
        ).toBe(200),
    },
    {
      name: 'deflate protobuf over the Unix socket',
      send: async (h) => {
        expect((await request(h.unix, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' }, body: deflateSync(tracePb) })).status).toBe(200);
      },
    },
    { name: 'gRPC', send: async (h) => void (await grpcExport(h.grpc, 'traces', tracePb)) },
  ];

  for (const s of sends) {
    it(`spans via ${s.name}`, async () => {
      h.traces.batches.length = 0;
      await s.send(h);
      const arrived = capturedSpans(h.traces.batches);
      expect(arrived).toEqual(expectedSpans);
      if (!s.name.includes('JSON')) {
        // protobuf in: the batch re-encodes to exactly the bytes that were sent
        expect(Buffer.from(encodeRequest('traces', { resourceSpans: h.traces.batches[0].resourceSpans }))).toEqual(Buffer.from(tracePb));
      }
    });
  }

  it('log records via protobuf, JSON and gRPC', async () => {
    for (const send of [
      () => request(h.http, { path: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, body: logsPb }),
      () => request(h.unix, { path: '/v1/logs', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LOGS_JSON) }),
      () => grpcExport(h.grpc, 'logs', logsPb),
    ]) {
      h.logs.batches.length = 0;
      await send();
      expect(capturedLogRecords(h.logs.batches)).toEqual(expectedLogs);
    }
  });

  it('forwards protobuf metrics byte for byte, and JSON metrics as the equivalent protobuf', async () => {
    const fromJson = requestType.metrics.fromObject(decodeRequest('metrics', Buffer.from(JSON.stringify(METRICS_JSON)), 'json') as object);
    const pb = encodeRequest('metrics', fromJson as never);
    h.metrics.batches.length = 0;
    expect((await request(h.http, { path: '/v1/metrics', headers: { 'content-type': 'application/x-protobuf' }, body: pb })).status).toBe(200);
    expect((await request(h.unix, { path: '/v1/metrics', headers: { 'content-type': 'application/json' }, body: JSON.stringify(METRICS_JSON) })).status).toBe(200);
    await grpcExport(h.grpc, 'metrics', pb);
    expect(h.metrics.batches.map((b) => [b.transport, b.items])).toEqual([
      ['http', 6],
      ['unix', 6],
      ['grpc', 6],
    ]);
    for (const b of h.metrics.batches) expect(Buffer.from(b.payload)).toEqual(Buffer.from(pb));
    // the big int64 survived the JSON conversion
    const decoded = decodeRequest('metrics', h.metrics.batches[1].payload, 'protobuf') as unknown as { resourceMetrics: { scopeMetrics: { metrics: { gauge: { dataPoints: { asInt: Long }[] } }[] }[] }[] };
    expect(decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt.toString()).toBe('9007199254740993');
  });
});

describe('large compressed requests', () => {
  let h: OtlpHarness;
  beforeAll(async () => {
    h = await startOtlp({ receivers: { otlp: { unix: null, grpc: null } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('takes a gzip body that inflates to more than the in-memory share (inflated twice), unchanged', async () => {
    const spans = Array.from({ length: 2000 }, (_, i) => ({
      traceId: Buffer.alloc(16, 7),
      spanId: Buffer.from(String(i + 1).padStart(16, '0'), 'hex'),
      name: `big-${i}`,
      startTimeUnixNano: u64('1750000000123456789'),
      endTimeUnixNano: u64('1750000000123456790'),
      attributes: [{ key: 'payload', value: { stringValue: `${i}:`.padEnd(6000, String.fromCharCode(97 + (i % 26))) } }],
    }));
    const pb = encodeRequest('traces', requestType.traces.fromObject({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) as never);
    expect(pb.length).toBeGreaterThan(10 * 1024 * 1024);
    const res = await request(h.http, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: gzipSync(pb) });
    expect(res.status).toBe(200);
    const arrived = h.traces.batches[0].resourceSpans[0].scopeSpans[0].spans;
    expect(arrived).toHaveLength(2000);
    // (compared with Buffer.equals: a deep equality over 12 MB would take minutes)
    expect(Buffer.from(encodeRequest('traces', { resourceSpans: h.traces.batches[0].resourceSpans })).equals(Buffer.from(pb))).toBe(true);
  });
});
