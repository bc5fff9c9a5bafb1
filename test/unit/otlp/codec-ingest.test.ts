/** The codec pieces the receivers rely on: the fast reader, data point counting, error statuses. */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { RpcCode, countItems, countMetricDataPoints, decodeRequest, decodeStatus, encodeRequest, encodeStatus, requestType } from '../../../src/otlp/codec.js';

function traceWithNames(names: string[]): Uint8Array {
  const spans = names.map((name, i) => ({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, i + 1), name, startTimeUnixNano: 1, endTimeUnixNano: 2 }));
  return encodeRequest('traces', requestType.traces.fromObject({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) as never);
}

describe('protobuf decoding', () => {
  it('returns every string exactly, whatever the string cache holds', () => {
    // many distinct short strings (cache collisions), repeats, non-ASCII and long ones
    const names: string[] = [];
    for (let i = 0; i < 6000; i++) names.push(`n${i}`, `k${i % 7}`);
    names.push('', 'é', 'grüße', '世界', '🚀', 'x'.repeat(64), 'y'.repeat(65), `${'z'.repeat(100)}ü`);
    const decoded = decodeRequest('traces', traceWithNames(names), 'protobuf');
    expect(decoded.resourceSpans[0].scopeSpans[0].spans.map((s) => s.name)).toEqual(names);
  });

  it('copies ids out of the request body', () => {
    const body = Buffer.from(traceWithNames(['a']));
    const span = decodeRequest('traces', body, 'protobuf').resourceSpans[0].scopeSpans[0].spans[0];
    body.fill(0);
    expect(Buffer.from(span.traceId).toString('hex')).toBe('01'.repeat(16));
    expect(Buffer.isBuffer(span.spanId)).toBe(true);
  });

  it('refuses strings that are not UTF-8, and truncated messages', () => {
    const body = Buffer.from(traceWithNames(['ab']));
    const at = body.indexOf('ab');
    body[at] = 0xff;
    expect(() => decodeRequest('traces', body, 'protobuf')).toThrow(DecodeError);
    expect(() => decodeRequest('traces', body, 'protobuf')).toThrow(/UTF-8/);
    expect(() => decodeRequest('traces', traceWithNames(['abc']).subarray(0, 20), 'protobuf')).toThrow(/invalid protobuf/);
  });
});

describe('countMetricDataPoints', () => {
  const req = {
    resourceMetrics: [
      {
        scopeMetrics: [
          { metrics: [{ name: 'g', gauge: { dataPoints: [{ asInt: 1 }, { asDouble: 2 }] } }, { name: 's', sum: { dataPoints: [{ asInt: 1 }] } }] },
          { metrics: [{ name: 'h', histogram: { dataPoints: [{}, {}] } }, { name: 'e', exponentialHistogram: { dataPoints: [{}] } }, { name: 'q', summary: { dataPoints: [{}] } }, { name: 'empty' }] },
        ],
      },
      { scopeMetrics: [] },
    ],
  };
  const body = encodeRequest('metrics', requestType.metrics.fromObject(req) as never);

  it('counts the data points of every metric type without decoding', () => {
    expect(countMetricDataPoints(body)).toBe(7);
    expect(countMetricDataPoints(body)).toBe(countItems('metrics', decodeRequest('metrics', body, 'protobuf')));
    expect(countMetricDataPoints(new Uint8Array(0))).toBe(0);
  });

  it('refuses a body whose framing is broken', () => {
    expect(() => countMetricDataPoints(body.subarray(0, body.length - 3))).toThrow(DecodeError);
    expect(() => countMetricDataPoints(Buffer.from([0x0a, 0x05, 0x12, 0x10, 0, 0, 0]))).toThrow(/runs past the end/);
    expect(() => countMetricDataPoints(Buffer.from('{"resourceMetrics":[]}'))).toThrow(DecodeError);
  });
});

describe('google.rpc.Status', () => {
  it('round-trips in protobuf with a RetryInfo detail', () => {
    const s = { code: RpcCode.UNAVAILABLE, message: 'queue full', retryAfterMs: 2500 };
    expect(decodeStatus(encodeStatus(s, 'protobuf'))).toEqual(s);
    expect(decodeStatus(encodeStatus({ code: 3, message: 'bad' }, 'protobuf'))).toEqual({ code: 3, message: 'bad' });
  });

  it('is proto3 JSON in JSON', () => {
    expect(JSON.parse(Buffer.from(encodeStatus({ code: 8, message: 'busy', retryAfterMs: 1500 }, 'json')).toString())).toEqual({
      code: 8,
      message: 'busy',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
    });
  });
});
