import { describe, expect, it } from 'vitest';
import { cut, encodeWithin } from '../../../src/exporters/split-request.js';
import { countItems, decodeRequest, encodeRequest, requestType } from '../../../src/otlp/codec.js';
import type { ExportLogsServiceRequest, ExportTraceServiceRequest } from '../../../src/otlp/types.js';
import { keyValue } from '../../../src/otlp/values.js';
import { logBatch, seqOf, traceBatch } from '../../helpers/export-harness.js';
import { randomRequest, Rnd } from '../../helpers/otlp-random.js';

/** Three resources, scopes of 3, 0, 5 and 2 spans: spans numbered 0..9 in order. */
function layered(): ExportTraceServiceRequest {
  const spans = traceBatch(0, 10).resourceSpans[0].scopeSpans[0].spans;
  const resource = (name: string) => ({ attributes: [keyValue('service.name', name)] });
  return {
    resourceSpans: [
      { resource: resource('a'), scopeSpans: [{ scope: { name: 'a1' }, spans: spans.slice(0, 3) }, { scope: { name: 'a2' }, spans: [] }] },
      { resource: resource('b'), scopeSpans: [{ scope: { name: 'b1' }, spans: spans.slice(3, 8) }] },
      { resource: resource('c'), scopeSpans: [{ scope: { name: 'c1' }, spans: spans.slice(8, 10) }] },
    ],
  };
}

/** Each span as `resource/scope/seq`: what a backend sees of where it came from. */
function placed(req: ExportTraceServiceRequest): string[] {
  return req.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => `${rs.resource?.attributes[0].value?.stringValue}/${ss.scope?.name}/${seqOf(s)}`)),
  );
}

const concatDecoded = <S extends 'traces' | 'logs'>(signal: S, payloads: Uint8Array[]) => decodeRequest(signal, Buffer.concat(payloads), 'protobuf');

describe('cut', () => {
  it('makes parts of at most max items, in order, each span under its own resource and scope', () => {
    const req = layered();
    const parts = cut('traces', req, 4);
    expect(parts.map((p) => countItems('traces', p))).toEqual([4, 4, 2]);
    expect(parts.flatMap(placed)).toEqual(placed(req));
    // The second part starts inside resource b's scope and ends inside it: b is repeated, not lost.
    expect(placed(parts[1])).toEqual(['b/b1/4', 'b/b1/5', 'b/b1/6', 'b/b1/7']);
    // The request itself is not changed.
    expect(countItems('traces', req)).toBe(10);
    expect(req.resourceSpans[1].scopeSpans[0].spans).toHaveLength(5);
  });

  it('gives one part when the request is within the limit, and keeps resource and scope fields', () => {
    const req = layered();
    req.resourceSpans[1].schemaUrl = 'https://opentelemetry.io/schemas/1.26.0';
    const [only, ...rest] = cut('traces', req, 10);
    expect(rest).toEqual([]);
    expect(placed(only)).toEqual(placed(req));
    const [, second] = cut('traces', req, 5);
    expect(second.resourceSpans[0].schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
  });

  it('makes no part of scopes without items that come after a full part', () => {
    const req = layered();
    req.resourceSpans[2].scopeSpans.push({ scope: { name: 'c2' }, spans: [] });
    const parts = cut('traces', req, 5);
    expect(parts.map((p) => countItems('traces', p))).toEqual([5, 5]);
    expect(parts.flatMap(placed)).toEqual(placed(req));
  });

  it('cuts log records the same way', () => {
    const req: ExportLogsServiceRequest = { resourceLogs: logBatch(0, 7).resourceLogs };
    const parts = cut('logs', req, 3);
    expect(parts.map((p) => countItems('logs', p))).toEqual([3, 3, 1]);
    expect(parts.flatMap((p) => p.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map(seqOf))))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('encodeWithin', () => {
  it('keeps a request within the limits as one part, the received bytes as they are', () => {
    const req = layered();
    const received = Buffer.concat([encodeRequest('traces', req), Buffer.from([0xfa, 0x01, 1, 0x78])]);
    const parts = encodeWithin('traces', req, { maxItems: 10, maxBytes: received.length }, received);
    expect(parts).toHaveLength(1);
    expect(parts[0].payload).toBe(received);
    expect(parts[0].items).toBe(10);
  });

  it('cuts by items: every part within max_items, the parts together decode to every span in order', () => {
    const req = layered();
    const parts = encodeWithin('traces', req, { maxItems: 3, maxBytes: 1 << 20 }, encodeRequest('traces', req));
    expect(parts.map((p) => p.items)).toEqual([3, 3, 3, 1]);
    for (const p of parts) expect(countItems('traces', decodeRequest('traces', p.payload, 'protobuf'))).toBe(p.items);
    expect(placed(concatDecoded('traces', parts.map((p) => p.payload)))).toEqual(placed(req));
  });

  it('cuts by bytes: every part of more than one span within max_bytes, one span too large alone', () => {
    const req = layered();
    // Span 6 is far larger than the limit; the others are small.
    req.resourceSpans[1].scopeSpans[0].spans[3].attributes!.push(keyValue('payload', 'x'.repeat(5000)));
    const maxBytes = 700;
    const parts = encodeWithin('traces', req, { maxItems: 100, maxBytes });
    for (const p of parts) if (p.items > 1) expect(p.payload.byteLength).toBeLessThanOrEqual(maxBytes);
    const big = parts.filter((p) => p.payload.byteLength > maxBytes);
    expect(big).toHaveLength(1);
    expect(big[0].items).toBe(1);
    expect(placed(decodeRequest('traces', big[0].payload, 'protobuf'))).toEqual(['b/b1/6']);
    expect(placed(concatDecoded('traces', parts.map((p) => p.payload)))).toEqual(placed(req));
  });

  it('keeps every field of random requests, cut to 1, 2 and 3 items per part', () => {
    for (let seed = 1; seed <= 40; seed++) {
      for (const signal of ['traces', 'logs'] as const) {
        const req = requestType[signal].fromObject(randomRequest(new Rnd(seed), signal)) as unknown as ExportTraceServiceRequest & ExportLogsServiceRequest;
        const items = countItems(signal, req);
        const whole = decodeRequest(signal, encodeRequest(signal, req), 'protobuf');
        const flat = (r: typeof whole) =>
          JSON.stringify(signal === 'traces' ? (r as ExportTraceServiceRequest).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => [rs.resource, rs.schemaUrl, ss.scope, ss.schemaUrl, s]))) : (r as ExportLogsServiceRequest).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => [rl.resource, rl.schemaUrl, sl.scope, sl.schemaUrl, l]))));
        for (const maxItems of [1, 2, 3]) {
          const parts = encodeWithin(signal, req, { maxItems, maxBytes: 1 << 20 });
          expect(parts.reduce((n, p) => n + p.items, 0)).toBe(items);
          for (const p of parts) expect(p.items).toBeLessThanOrEqual(maxItems);
          expect(flat(concatDecoded(signal, parts.map((p) => p.payload)))).toBe(flat(whole));
        }
      }
    }
  });
});
