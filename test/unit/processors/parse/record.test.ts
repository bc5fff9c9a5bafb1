import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../../src/otlp/codec.js';
import type { LogRecord } from '../../../../src/otlp/types.js';
import { findAttribute, fromAnyValue, idToHex } from '../../../../src/otlp/values.js';
import { TraceContextEnricher } from '../../../../src/processors/trace-context/enricher.js';
import { TraceContextExtractor } from '../../../../src/processors/trace-context/extract.js';
import { createLineParser } from '../../../../src/processors/parse/parse.js';
import { longOfNanos, toLogRecord } from '../../../../src/processors/parse/record.js';
import type { RawRecord } from '../../../../src/pipeline/batches.js';
import { TRUNCATED_ATTRIBUTE } from '../../../../src/processors/parse/types.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const FILE = { path: '/var/log/app/app.log', name: 'app.log' };
const OBSERVED = 1714564801000000001n;

const parse = createLineParser({ format: 'auto', regex: null });
const enricher = new TraceContextEnricher(new TraceContextExtractor());

function record(text: string, raw: Partial<RawRecord> = {}, file = FILE): LogRecord {
  const line = parse(text);
  enricher.enrich(line);
  return toLogRecord(line, { text, end: text.length + 1, truncated: false, ...raw }, file, OBSERVED);
}

function attrs(r: LogRecord): Record<string, unknown> {
  return Object.fromEntries(r.attributes!.map((kv) => [kv.key, fromAnyValue(kv.value)]));
}

describe('toLogRecord', () => {
  it('body, times, severity and trace context of a pino line', () => {
    const r = record(`{"level":50,"time":1714564800123,"msg":"payment declined","trace_id":"${T}","span_id":"${S}","trace_flags":"01"}`);
    expect(r.body).toEqual({ stringValue: 'payment declined' });
    expect(Long.fromValue(r.timeUnixNano!).toString()).toBe('1714564800123000000');
    expect(Long.fromValue(r.observedTimeUnixNano!).toString()).toBe('1714564801000000001');
    expect(r.severityNumber).toBe(17);
    expect(r.severityText).toBe('error');
    expect(idToHex(r.traceId)).toBe(T);
    expect(idToHex(r.spanId)).toBe(S);
    expect(r.flags).toBe(1);
    // Taken fields (body, time, level, trace context) are not repeated.
    expect(Object.keys(attrs(r))).toEqual(['log.file.path', 'log.file.name']);
  });

  it('attributes keep their types: ints, doubles, bools, null, nested objects as kvlists, arrays', () => {
    const r = record('{"msg":"m","status":200,"ratio":0.25,"big":9007199254740993,"neg":-7,"ok":true,"none":null,"req":{"method":"GET","headers":{"n":2}},"tags":["a",1,1.5,{"k":"v"}]}');
    const byKey = Object.fromEntries(r.attributes!.map((kv) => [kv.key, kv.value]));
    expect(byKey.status!.intValue!.toString()).toBe('200');
    expect(byKey.neg!.intValue!.toString()).toBe('-7');
    expect(byKey.ratio).toEqual({ doubleValue: 0.25 });
    expect(byKey.big!.doubleValue).toBe(9007199254740992); // past 2^53: JSON.parse gave a double
    expect(byKey.ok).toEqual({ boolValue: true });
    expect(byKey.none).toEqual({});
    expect(byKey.req!.kvlistValue!.values.map((kv) => kv.key)).toEqual(['method', 'headers']);
    expect(attrs(r).req).toEqual({ method: 'GET', headers: { n: 2n } });
    expect(byKey.tags!.arrayValue!.values[1].intValue!.toString()).toBe('1');
    expect(attrs(r).tags).toEqual(['a', 1n, 1.5, { k: 'v' }]);
  });

  it('file attributes come after the fields, the truncated flag last', () => {
    const r = record('{"msg":"m","a":"b"}', { truncated: true });
    expect(r.attributes!.map((kv) => kv.key)).toEqual(['a', 'log.file.path', 'log.file.name', TRUNCATED_ATTRIBUTE]);
    expect(findAttribute(r.attributes, TRUNCATED_ATTRIBUTE)).toEqual({ boolValue: true });
    expect(findAttribute(r.attributes, 'log.file.path')).toEqual({ stringValue: FILE.path });
    expect(findAttribute(r.attributes, 'log.file.name')).toEqual({ stringValue: FILE.name });
    expect(findAttribute(record('{"msg":"m"}').attributes, TRUNCATED_ATTRIBUTE)).toBeUndefined();
  });

  it('the file attributes follow the file, even when the caller reuses one object', () => {
    const file = { path: '/var/log/a.log', name: 'a.log' };
    expect(findAttribute(record('x', {}, file).attributes, 'log.file.name')).toEqual({ stringValue: 'a.log' });
    file.path = '/var/log/b.log';
    file.name = 'b.log';
    expect(findAttribute(record('x', {}, file).attributes, 'log.file.name')).toEqual({ stringValue: 'b.log' });
    expect(findAttribute(record('x', {}, FILE).attributes, 'log.file.name')).toEqual({ stringValue: 'app.log' });
  });

  it('a text line: the line as body, no fields, no time (0), trace context from the text', () => {
    const text = `2024-05-01T12:00:00.123456789Z WARN trace_id=${T} span_id=${S} slow`;
    const r = record(text);
    expect(r.body).toEqual({ stringValue: text });
    expect(Long.fromValue(r.timeUnixNano!).toString()).toBe('1714564800123456789');
    expect(r.severityNumber).toBe(13);
    expect(idToHex(r.traceId)).toBe(T);
    expect(Object.keys(attrs(r))).toEqual(['log.file.path', 'log.file.name']);
    const plain = record('just words');
    expect(Long.fromValue(plain.timeUnixNano!).isZero()).toBe(true);
    expect(plain.severityNumber).toBe(0);
    expect(plain.traceId).toBeNull();
    expect(plain.spanId).toBeNull();
    expect(plain.flags).toBe(0);
  });

  it('logfmt values stay strings; ids that did not validate stay attributes', () => {
    const r = record('level=info msg=hi status=200 trace_id=nothex');
    expect(attrs(r)).toMatchObject({ status: '200', trace_id: 'nothex' });
    expect(r.traceId).toBeNull();
  });

  it('nanosecond times beyond 2^53 survive an OTLP protobuf round trip', () => {
    const r = record('{"msg":"m","time":"2024-05-01T12:00:00.123456789Z"}');
    const bytes = encodeRequest('logs', { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 't' }, logRecords: [r] }] }] });
    const back = decodeRequest('logs', bytes, 'protobuf').resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(Long.fromValue(back.timeUnixNano!).toString()).toBe('1714564800123456789');
    expect(Long.fromValue(back.observedTimeUnixNano!).toString()).toBe('1714564801000000001');
    expect(back.body!.stringValue).toBe('m');
  });

  it('longOfNanos is exact over the whole uint64 range', () => {
    for (const ns of [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 1714564800123456789n, 2n ** 64n - 1n]) {
      expect(longOfNanos(ns).toString(), ns.toString()).toBe(ns.toString());
    }
  });
});


describe('toLogRecord without attributes', () => {
  it('leaves the attributes out (nothing reads them) and keeps what the log metrics read', () => {
    const line = createLineParser({ format: 'json', regex: null })('{"level":"error","msg":"m","user":"u-1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}');
    const file = { path: '/var/log/app/app.log', name: 'app.log' };
    const raw = { text: '', end: 1, truncated: true };
    const lean = toLogRecord(line, raw, file, 1n, false);
    expect(lean.attributes).toEqual([]);
    expect(lean.logFile).toBe(file);
    expect(lean.severityNumber).toBe(17);
    const full = toLogRecord(line, raw, file, 1n);
    expect(full.attributes!.map((kv) => kv.key)).toEqual(['user', 'trace_id', 'log.file.path', 'log.file.name', TRUNCATED_ATTRIBUTE]);
    expect(full.logFile).toBe(file);
  });
});
