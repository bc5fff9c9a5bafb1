import { describe, expect, it } from 'vitest';
import { createLineParser } from '../../../../src/processors/parse/parse.js';
import type Long from 'long';
import { nanosLong, parseTimestamp, parseTimestampText } from '../../../../src/processors/parse/timestamp.js';
import { severityNumberOfLevel, severityNumberOfWord, severityOfValue, type Severity } from '../../../../src/processors/parse/severity.js';
import { parseLogfmt } from '../../../../src/processors/parse/logfmt.js';
import { severityOf } from '../../../../src/otlp/severity.js';
import { TraceContextEnricher } from '../../../../src/processors/trace-context/enricher.js';
import { DEFAULT_TRACE_CONTEXT_OPTIONS, TraceContextExtractor, type TraceContextOptions } from '../../../../src/processors/trace-context/extract.js';
import { toLogRecord } from '../../../../src/processors/parse/record.js';
import { idToHex } from '../../../../src/otlp/values.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
/** 2024-05-01T12:00:00Z in seconds. */
const BASE = 1714564800n;
const NS = 1_000_000_000n;
/** A Long of ns as a bigint, to compare with exact expectations. */
const ns = (v: Long | undefined): bigint | undefined => (v === undefined ? undefined : BigInt(v.toString()));

const json = createLineParser({ format: 'json', regex: null });
const logfmt = createLineParser({ format: 'logfmt', regex: null });
const text = createLineParser({ format: 'text', regex: null });
const auto = createLineParser({ format: 'auto', regex: null });

describe('timestamps', () => {
  it.each([
    ['2024-05-01T12:00:00Z', BASE * NS],
    ['2024-05-01T12:00:00.1Z', BASE * NS + 100_000_000n],
    ['2024-05-01T12:00:00.123Z', BASE * NS + 123_000_000n],
    ['2024-05-01T12:00:00.123456Z', BASE * NS + 123_456_000n],
    ['2024-05-01T12:00:00.123456789Z', BASE * NS + 123_456_789n],
    ['2024-05-01T12:00:00.1234567Z', BASE * NS + 123_456_700n], // .NET ticks
    ['2024-05-01T12:00:00.123456789123Z', BASE * NS + 123_456_789n], // past ns: dropped
    ['2024-05-01t12:00:00z', BASE * NS],
    ['2024-05-01T14:00:00+02:00', BASE * NS],
    ['2024-05-01T14:00:00.5+0200', BASE * NS + 500_000_000n],
    ['2024-05-01T07:30:00-04:30', BASE * NS],
    ['2024-05-01T14:00:00+02', BASE * NS],
    ['2024-05-01 12:00:00', BASE * NS], // no zone: UTC
    ['2024-05-01 12:00:00,123', BASE * NS + 123_000_000n], // Python logging
    ['2024-05-01 12:00:00.123', BASE * NS + 123_000_000n],
    ['2024-05-01 12:00:00,123+0000', BASE * NS + 123_000_000n], // Powertools
    ['2000-02-29T00:00:00Z', 951782400n * NS], // leap day
    ['1970-01-01T00:00:01Z', NS],
  ])('RFC 3339 / ISO %s', (input, expected) => {
    expect(ns(parseTimestamp(input))).toBe(expected);
  });

  it('matches Date for a spread of dates', () => {
    for (let ms = Date.UTC(1971, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86_400_000 * 37 + 3_600_123) {
      const iso = new Date(ms).toISOString();
      expect(ns(parseTimestamp(iso)), iso).toBe(BigInt(ms) * 1_000_000n);
    }
  });

  it.each([
    [1714564800, BASE * NS],
    [1714564800.123456, BASE * NS + 123_456_000n], // zap: float seconds, µs kept
    [1714564800123, BASE * NS + 123_000_000n], // pino: ms
    [1714564800123.5, BASE * NS + 123_500_000n],
    [1714564800123456, BASE * NS + 123_456_000n], // µs
    [1714564800123456800, BASE * NS + 123_456_768n], // ns: the double JSON.parse already rounded
  ])('epoch number %s', (input, expected) => {
    expect(ns(parseTimestamp(input))).toBe(expected);
  });

  it.each([
    ['1714564800', BASE * NS],
    ['1714564800.5', BASE * NS + 500_000_000n],
    ['1714564800.123456789', BASE * NS + 123_456_789n],
    ['1714564800123', BASE * NS + 123_000_000n],
    ['1714564800123.456', BASE * NS + 123_456_000n],
    ['1714564800123456', BASE * NS + 123_456_000n],
    ['1714564800123456789', BASE * NS + 123_456_789n], // past 2^53: exact
    ['1714564800999999999', BASE * NS + 999_999_999n],
  ])('epoch digits %s keep ns precision', (input, expected) => {
    expect(ns(parseTimestamp(input))).toBe(expected);
    expect(BigInt(input.split('.')[0])).toBeGreaterThan(0n);
  });

  it('keeps ns precision beyond 2^53 in RFC 3339 and digit strings', () => {
    const a = ns(parseTimestamp('2024-05-01T12:00:00.000000001Z'))!;
    const b = ns(parseTimestamp('2024-05-01T12:00:00.000000002Z'))!;
    expect(b - a).toBe(1n);
    expect(a > 2n ** 53n).toBe(true);
    expect(ns(parseTimestamp('1714564800000000001'))! - ns(parseTimestamp('1714564800000000000'))!).toBe(1n);
  });

  it('log4j2 instant objects', () => {
    expect(ns(parseTimestamp({ epochSecond: 1714564800, nanoOfSecond: 123456789 }))).toBe(BASE * NS + 123_456_789n);
  });

  it.each(['', 'yesterday', '2024-13-01T00:00:00Z', '2024-05-01T25:00:00Z', '2024-05-01T12:00Z', '2024-05-01T12:00:00Zjunk', '2024-05-01T12:00:00.Z', '12ab', '-5', '0', '1.2.3'])(
    'refuses %j',
    (input) => {
      expect(parseTimestampText(input)).toBeUndefined();
    },
  );

  it('ns Longs are exact from 1970 to 2514, and refused outside', () => {
    for (let i = 0; i < 20_000; i++) {
      const seconds = Math.floor(Math.random() * 2 ** 34);
      const nanos = Math.floor(Math.random() * 1e9);
      expect(ns(nanosLong(seconds, nanos)), `${seconds} s ${nanos} ns`).toBe(BigInt(seconds) * NS + BigInt(nanos));
    }
    expect(ns(nanosLong(2 ** 34 - 1, 999_999_999))).toBe(BigInt(2 ** 34) * NS - 1n);
    expect(nanosLong(-1, 0)).toBeUndefined();
    expect(nanosLong(2 ** 34, 0)).toBeUndefined();
    expect(parseTimestampText('1969-12-31T23:59:59Z')).toBeUndefined();
    expect(parseTimestampText('99999999999999999999')).toBeUndefined(); // past 2^64 ns
    expect(parseTimestamp(1e20)).toBeUndefined();
  });

  it('refuses non-times', () => {
    expect(ns(parseTimestamp(-1))).toBeUndefined();
    expect(ns(parseTimestamp(Number.NaN))).toBeUndefined();
    expect(ns(parseTimestamp(true))).toBeUndefined();
    expect(ns(parseTimestamp(null))).toBeUndefined();
    expect(ns(parseTimestamp({}))).toBeUndefined();
  });
});

describe('severity', () => {
  it.each([
    ['trace', 1],
    ['TRACE', 1],
    ['finest', 1],
    ['debug', 5],
    ['Debug', 5],
    ['finer', 5],
    ['verbose', 5],
    ['fine', 6],
    ['config', 7],
    ['info', 9],
    ['INFO', 9],
    ['Information', 9],
    ['informational', 9],
    ['notice', 10],
    ['warn', 13],
    ['WARNING', 13],
    ['error', 17],
    ['err', 17],
    ['severe', 17],
    ['SEVERE', 17],
    ['crit', 18],
    ['dpanic', 18],
    ['alert', 19],
    ['panic', 19],
    ['fatal', 21],
    ['FATAL', 21],
    ['critical', 21],
    ['CRITICAL', 21],
    ['emerg', 21],
    ['emergency', 21],
    ['wArNiNg', 13],
    ['INF', 9],
    ['WRN', 13],
    ['ERR', 17],
    ['loud', 0],
  ])('word %s is %i', (word, n) => {
    expect(severityNumberOfWord(word)).toBe(n);
  });

  it('syslog names map as the data model appendix says', () => {
    const syslog: Record<string, number> = { emerg: 21, alert: 19, crit: 18, err: 17, warning: 13, notice: 10, info: 9, debug: 5 };
    for (const [name, n] of Object.entries(syslog)) expect(severityNumberOfWord(name), name).toBe(n);
  });

  it('pino/bunyan numbers, with their labels as SeverityText', () => {
    const out: Severity = { text: '', number: 0 };
    const table: [number, string, number][] = [
      [10, 'trace', 1],
      [20, 'debug', 5],
      [30, 'info', 9],
      [40, 'warn', 13],
      [50, 'error', 17],
      [60, 'fatal', 21],
    ];
    for (const [level, label, n] of table) {
      expect(severityOfValue(level, out)).toBe(true);
      expect(out).toEqual({ text: label, number: n });
    }
    // Custom levels: scaled onto the in-between numbers, as the OTel pino instrumentation does.
    expect(severityNumberOfLevel(35)).toBe(11); // INFO3: (35 - 10) / 60 * 18 = 7.5 → the 8th in-between number
    expect(severityNumberOfLevel(55)).toBe(19);
    expect(severityNumberOfLevel(100)).toBe(24);
    expect(severityNumberOfLevel(1)).toBe(2);
    expect(severityOfValue(35, out)).toBe(true);
    expect(out.text).toBe('35');
  });

  it('digit strings of two or more digits are pino levels; unknown words keep their text with number 0', () => {
    const out: Severity = { text: '', number: 0 };
    expect(severityOfValue('50', out)).toBe(true);
    expect(out).toEqual({ text: '50', number: 17 });
    expect(severityOfValue('DEFAULT', out)).toBe(true);
    expect(out).toEqual({ text: 'DEFAULT', number: 0 });
    expect(severityOfValue('', out)).toBe(false);
    expect(severityOfValue({}, out)).toBe(false);
  });

  it('agrees with the log metrics on the range of every named level', () => {
    const range = (n: number) => ['trace', 'debug', 'info', 'warn', 'error', 'fatal'][Math.floor((n - 1) / 4)];
    for (const word of ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'err', 'fatal', 'critical', 'emerg', 'notice', 'verbose', 'fine', 'finest', 'severe']) {
      const n = severityNumberOfWord(word);
      expect(severityOf({ severityNumber: n, severityText: word }), word).toBe(range(n));
      expect(severityOf({ severityText: word }), word).toBe(range(n));
    }
  });
});

describe('json', () => {
  it('pino: msg, ms time, numeric level taken; the rest are fields', () => {
    const line = json(`{"level":30,"time":1714564800123,"pid":4242,"hostname":"h","trace_id":"${T}","span_id":"${S}","msg":"request handled"}`);
    expect(line.parseError).toBe(false);
    expect(line.body).toBe('request handled');
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + 123_000_000n);
    expect(line.severityText).toBe('info');
    expect(line.severityNumber).toBe(9);
    expect(line.taken.sort()).toEqual(['level', 'msg', 'time']);
    expect(line.fields).toMatchObject({ pid: 4242, hostname: 'h', trace_id: T });
  });

  it.each([
    ['bunyan', '{"name":"a","level":50,"msg":"declined","time":"2024-05-01T12:00:00.123Z","v":0}', 'declined', 123_000_000n, 'error', 17, ['level', 'msg', 'time']],
    ['winston', '{"level":"warn","message":"slow","timestamp":"2024-05-01T12:00:00.000Z"}', 'slow', 0n, 'warn', 13, ['level', 'message', 'timestamp']],
    ['zap', '{"level":"info","ts":1714564800.123456,"caller":"h.go:42","msg":"served"}', 'served', 123_456_000n, 'info', 9, ['level', 'msg', 'ts']],
    ['slog', '{"time":"2024-05-01T12:00:00.123456789Z","level":"INFO","msg":"served"}', 'served', 123_456_789n, 'INFO', 9, ['level', 'msg', 'time']],
    ['logback logstash', '{"@timestamp":"2024-05-01T12:00:00.123+00:00","@version":"1","message":"Fetching","level":"INFO","level_value":20000}', 'Fetching', 123_000_000n, 'INFO', 9, ['@timestamp', 'level', 'message']],
    ['ECS dotted', '{"@timestamp":"2024-05-01T12:00:00.123Z","log.level":"ERROR","message":"Payment failed","ecs.version":"1.2.0"}', 'Payment failed', 123_000_000n, 'ERROR', 17, ['@timestamp', 'log.level', 'message']],
    ['python-json-logger', '{"asctime":"2024-05-01 12:00:00,123","levelname":"WARNING","name":"app","message":"hi"}', 'hi', 123_000_000n, 'WARNING', 13, ['asctime', 'levelname', 'message']],
    ['structlog', '{"event":"x","level":"critical","timestamp":"2024-05-01T12:00:00Z","message":"hi"}', 'hi', 0n, 'critical', 21, ['level', 'message', 'timestamp']],
    ['GCP', '{"severity":"NOTICE","message":"hi","time":"2024-05-01T12:00:00Z"}', 'hi', 0n, 'NOTICE', 10, ['message', 'severity', 'time']],
    ['Serilog compact', '{"@t":"2024-05-01T12:00:00.1234567Z","@mt":"Processed {OrderId}","@l":"Warning","OrderId":42}', 'Processed {OrderId}', 123_456_700n, 'Warning', 13, ['@l', '@mt', '@t']],
    ['.NET JSON console', '{"Timestamp":"2024-05-01T12:00:00Z","EventId":0,"LogLevel":"Information","Category":"Api","Message":"hi"}', 'hi', 0n, 'Information', 9, ['LogLevel', 'Message', 'Timestamp']],
    ['Docker json-file', '{"log":"hello\\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"}', 'hello', 123_456_789n, undefined, undefined, ['log', 'time']],
    ['log4j2 JsonLayout', '{"instant":{"epochSecond":1714564800,"nanoOfSecond":123000000},"level":"INFO","message":"hi"}', 'hi', 123_000_000n, 'INFO', 9, ['instant', 'level', 'message']],
    ['log15 / Grafana', '{"t":"2024-05-01T12:00:00Z","lvl":"dbug","msg":"hi"}', 'hi', 0n, 'dbug', 0, ['lvl', 'msg', 't']],
  ])('%s', (_name, input, body, frac, sevText, sevNumber, taken) => {
    const line = json(input);
    expect(line.parseError).toBe(false);
    expect(line.body).toBe(body);
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + frac);
    expect(line.severityText).toBe(sevText);
    expect(line.severityNumber).toBe(sevNumber);
    expect([...line.taken].sort()).toEqual(taken);
  });

  it('msg beats message, time beats timestamp; the losers stay fields', () => {
    const line = json('{"message":"b","msg":"a","timestamp":"2024-05-01T12:00:01Z","time":"2024-05-01T12:00:00Z"}');
    expect(line.body).toBe('a');
    expect(ns(line.timeUnixNano)).toBe(BASE * NS);
    expect(line.taken.sort()).toEqual(['msg', 'time']);
  });

  it('ECS nested log.level: severity from the object, which stays whole', () => {
    const line = json('{"log":{"level":"warn","logger":"app"},"message":"m"}');
    expect(line.severityNumber).toBe(13);
    expect(line.taken).toEqual(['message']);
    expect(line.fields!.log).toEqual({ level: 'warn', logger: 'app' });
  });

  it('a time that does not parse stays a field; a message that is an object stays a field', () => {
    const line = json('{"time":"yesterday","message":{"a":1}}');
    expect(line.timeUnixNano).toBeUndefined();
    expect(line.body).toBe(line.text);
    expect(line.taken).toEqual([]);
  });

  it('a line without a message: the body is the line', () => {
    const input = '{"level":"info","status":200}';
    expect(json(input).body).toBe(input);
  });

  it.each(['not json', '{"a":', '[1,2]', '"str"', '{"a":1} trailing', ''])('bad JSON %j is shipped as text with parseError', (input) => {
    const line = json(input);
    expect(line.parseError).toBe(true);
    expect(line.fields).toBeNull();
    expect(line.body).toBe(input);
    expect(line.taken).toEqual([]);
  });

  it('bad JSON still gets the text prefix recognised', () => {
    const line = json('2024-05-01 12:00:00,123 ERROR half a line');
    expect(line.parseError).toBe(true);
    expect(line.severityNumber).toBe(17);
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + 123_000_000n);
  });

  it('fields keep nested objects as objects, so the trace-context enricher finds nested ids and marks flat ones taken', () => {
    const enricher = new TraceContextEnricher(new TraceContextExtractor());
    const flat = json(`{"level":"info","msg":"hi","trace_id":"${T}","span_id":"${S}","trace_flags":"01"}`);
    enricher.enrich(flat);
    expect(idToHex(flat.traceId)).toBe(T);
    expect(idToHex(flat.spanId)).toBe(S);
    expect(flat.traceFlags).toBe(1);
    expect(flat.taken.sort()).toEqual(['level', 'msg', 'span_id', 'trace_flags', 'trace_id']);

    const nested = json(`{"message":"hi","trace":{"id":"${T}"},"span":{"id":"${S}"}}`);
    expect(nested.fields!.trace).toEqual({ id: T });
    enricher.enrich(nested);
    expect(idToHex(nested.traceId)).toBe(T);
    expect(idToHex(nested.spanId)).toBe(S);
  });

  // Keys past the 31st have no bit in takenPositions/contextPositions: they are looked up by name.
  const many = (fields: string) => `{${Array.from({ length: 35 }, (_, i) => `"f${i}":${i}`).join(',')},${fields}}`;
  const configured: Partial<TraceContextOptions> = { trace_id_fields: ['req.tid'], span_id_fields: ['sid'], trace_flags_fields: ['sampled'] };
  it.each<[string, string, Partial<TraceContextOptions>?]>([
    ['flat', `{"level":"info","msg":"hi","trace_id":"${T}","span_id":"${S}","trace_flags":"01","status":200}`],
    ['nested', `{"msg":"hi","trace":{"id":"${T}"},"span":{"id":"${S}"}}`],
    ['in a context map', `{"msg":"hi","mdc":{"traceId":"${T}","spanId":"${S}"},"thread":"main"}`],
    ['datadog', `{"msg":"hi","dd":{"trace_id":"1234567890123456789","span_id":"42"}}`],
    ['traceparent', `{"msg":"hi","traceparent":"00-${T}-${S}-01"}`],
    ['refused id, then the text', `{"msg":"hi ${T}","trace_id":"zz"}`],
    ['none', '{"msg":"hi","status":200}'],
    ['past the 31st key', many(`"level":"info","msg":"hi","trace_id":"${T}","span_id":"${S}","status":200`)],
    ['taken keys on both sides of the 31st', `{"msg":"hi","time":1714564800123,${many(`"level":"info","trace_id":"${T}","span_id":"${S}"`).slice(1)}`],
    ['configured fields', `{"msg":"hi","req.tid":"${T}","sid":"${S}","sampled":"01","user":"u-1"}`, configured],
    ['configured fields past the 31st key', many(`"msg":"hi","req.tid":"${T}","sid":"${S}","sampled":"01"`), configured],
  ])('the keys listed for the extractor give what a walk over every field gives (%s)', (_name, input, options) => {
    const extractor = new TraceContextExtractor({ ...DEFAULT_TRACE_CONTEXT_OPTIONS, ...options });
    const listing = createLineParser({ format: 'auto', regex: null }, (key) => extractor.isContextKey(key));
    const enricher = new TraceContextEnricher(extractor);
    const listed = listing(input);
    const walked = auto(input);
    expect(listed.contextKeys).not.toBeNull();
    expect(walked.contextKeys).toBeNull();
    expect(walked.contextPositions).toBe(-1);
    enricher.enrich(listed);
    enricher.enrich(walked);
    // The same record either way: the positions of the taken keys tell toLogRecord what the names do.
    const file = { path: '/var/log/app.log', name: 'app.log' };
    const raw = { text: input, end: input.length + 1, truncated: false };
    const attributes = toLogRecord(listed, raw, file, 1n).attributes!.map((kv) => kv.key);
    expect(attributes).toEqual(toLogRecord(walked, raw, file, 1n).attributes!.map((kv) => kv.key));
    const taken = new Set(listed.taken);
    expect(attributes).toEqual([...Object.keys(listed.fields!).filter((k) => !taken.has(k)), 'log.file.path', 'log.file.name']);
    for (const line of [listed, walked]) line.taken.sort();
    expect({ ...listed, contextKeys: null, contextPositions: -1 }).toEqual(walked);
  });

  it('one parser and enricher over lines whose context keys change from line to line (kinds remembered by position)', () => {
    const extractor = new TraceContextExtractor();
    const listing = createLineParser({ format: 'auto', regex: null }, (key) => extractor.isContextKey(key));
    const enricher = new TraceContextEnricher(extractor);
    const T2 = 'a'.repeat(32);
    const lines: [string, string | undefined, string | undefined][] = [
      [`{"msg":"a","trace_id":"${T}","span_id":"${S}"}`, T, S],
      [`{"msg":"b","traceparent":"00-${T2}-${S}-01"}`, T2, S],
      [`{"msg":"c","span_id":"${S}","trace_id":"${T2}"}`, T2, S],
      [`{"msg":"d","dd":{"trace_id":"42","span_id":"7"}}`, '0000000000000000000000000000002a', '0000000000000007'],
      [`{"msg":"e","trace":{"id":"${T}"}}`, T, undefined],
      [`{"msg":"f","trace_id":"${T}","span_id":"${S}"}`, T, S],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [input, trace, span] of lines) {
        const line = listing(input);
        enricher.enrich(line);
        expect(line.traceId && idToHex(line.traceId), input).toBe(trace);
        expect(line.spanId && idToHex(line.spanId), input).toBe(span);
      }
    }
  });

  it('one parser over lines whose keys change places gives, line by line, what a walk gives (key codes remembered by position)', () => {
    const extractor = new TraceContextExtractor();
    const listing = createLineParser({ format: 'auto', regex: null }, (key) => extractor.isContextKey(key));
    const inputs = [
      `{"msg":"a","level":"warn","trace_id":"${T}","status":200}`,
      `{"status":200,"msg":"b","trace_id":"${T}","level":"warn"}`,
      `{"level":"error","status":500,"message":"c","span_id":"${S}","trace_id":"${T}"}`,
      `{"time":"2024-05-01T12:00:00Z","msg":"d","level":30}`,
      `{"msg":"e","time":"2024-05-01T12:00:00Z","lvl":"info","user":"u"}`,
    ];
    for (let round = 0; round < 2; round++) {
      for (const input of inputs) {
        const listed = listing(input);
        const walked = auto(input);
        new TraceContextEnricher(extractor).enrich(listed);
        new TraceContextEnricher(new TraceContextExtractor()).enrich(walked);
        for (const line of [listed, walked]) line.taken.sort();
        expect({ ...listed, contextKeys: null, contextPositions: -1 }, input).toEqual(walked);
      }
    }
  });
});

describe('logfmt', () => {
  it('slog text handler', () => {
    const line = logfmt(`time=2024-05-01T12:00:00.123Z level=INFO msg="request served" status=200 trace_id=${T} span_id=${S}`);
    expect(line.parseError).toBe(false);
    expect(line.body).toBe('request served');
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + 123_000_000n);
    expect(line.severityNumber).toBe(9);
    expect(line.fields).toEqual({ time: '2024-05-01T12:00:00.123Z', level: 'INFO', msg: 'request served', status: '200', trace_id: T, span_id: S });
    expect(line.taken.sort()).toEqual(['level', 'msg', 'time']);
  });

  it('go-kit with ts, escapes, empty values and bare keys', () => {
    const line = logfmt('level=warn ts=1714564800.5 msg="say \\"hi\\"\\n" err= cached');
    expect(line.body).toBe('say "hi"');
    expect(line.fields).toMatchObject({ err: '', cached: true });
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + 500_000_000n);
    expect(line.severityNumber).toBe(13);
  });

  it('keeps = in values and decimal ids as exact strings', () => {
    expect(parseLogfmt('url=http://x/?a=b dd.trace_id=12345678901234567890', true)).toEqual({ url: 'http://x/?a=b', 'dd.trace_id': '12345678901234567890' });
  });

  it.each(['=x', 'a="unterminated', 'a="x"y', '   ', '"quoted" a=1'])('bad logfmt %j is shipped as text with parseError', (input) => {
    const line = logfmt(input);
    expect(line.parseError).toBe(true);
    expect(line.fields).toBeNull();
    expect(line.body).toBe(input);
  });
});

describe('regex', () => {
  const parse = createLineParser({ format: 'regex', regex: '^(?<time>\\S+) (?<level>\\w+) \\[(?<thread>[^\\]]*)\\](?: user=(?<user>\\w+))? (?<msg>.*)$' });

  it('time, level and msg groups are special; the others are fields', () => {
    const line = parse('2024-05-01T12:00:00.5Z WARN [main] disk almost full');
    expect(line.parseError).toBe(false);
    expect(line.body).toBe('disk almost full');
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + 500_000_000n);
    expect(line.severityText).toBe('WARN');
    expect(line.severityNumber).toBe(13);
    expect(line.fields).toEqual({ time: '2024-05-01T12:00:00.5Z', level: 'WARN', thread: 'main', msg: 'disk almost full' });
    expect(line.taken.sort()).toEqual(['level', 'msg', 'time']);
  });

  it('optional groups that did not match are not fields', () => {
    expect(parse('2024-05-01T12:00:00Z INFO [main] user=bob hi').fields).toMatchObject({ user: 'bob', msg: 'hi' });
    expect(parse('2024-05-01T12:00:00Z INFO [main] hi').fields).not.toHaveProperty('user');
  });

  it('a line that does not match is shipped as text with parseError', () => {
    const line = parse('no match here');
    expect(line.parseError).toBe(true);
    expect(line.body).toBe('no match here');
    expect(line.fields).toBeNull();
  });

  it('needs logs.regex', () => {
    expect(() => createLineParser({ format: 'regex', regex: null })).toThrow(/logs.regex/);
  });
});

describe('text', () => {
  it.each([
    ['2024-05-01 12:00:00,123 ERROR [main] c.e.App - boom', 123_000_000n, 'ERROR', 17],
    ['2024-05-01T12:00:00.123Z  INFO 12345 --- [main] o.s.b.StartupInfoLogger : Starting', 123_000_000n, 'INFO', 9],
    ['[2024-05-01T12:00:00Z] [warn] something', 0n, 'warn', 13],
    ['2024-05-01 12:00:00.123 [http-nio-8080-exec-1] DEBUG c.e.Cache - miss', 123_000_000n, 'DEBUG', 5],
    ['2024-05-01T12:00:00Z plain message with error inside', 0n, undefined, undefined],
  ])('%s', (input, frac, sevText, sevNumber) => {
    const line = text(input);
    expect(line.parseError).toBe(false);
    expect(line.fields).toBeNull();
    expect(line.body).toBe(input);
    expect(ns(line.timeUnixNano)).toBe(BASE * NS + frac);
    expect(line.severityText).toBe(sevText);
    expect(line.severityNumber).toBe(sevNumber);
  });

  it.each([
    ['ERROR something broke', 'ERROR', 17],
    ['[WARN] careful', 'WARN', 13],
    ['warning: deprecated flag', 'warning', 13],
    ['12:00:00.123 [main] INFO c.e.A - started', 'INFO', 9],
    ['Starting the server on :8080', undefined, undefined],
    ['[main] thread started', undefined, undefined],
  ])('level without a date: %s', (input, sevText, sevNumber) => {
    const line = text(input);
    expect(line.timeUnixNano).toBeUndefined();
    expect(line.severityText).toBe(sevText);
    expect(line.severityNumber).toBe(sevNumber);
  });

  it('never a parse error, even for JSON-looking lines', () => {
    const line = text('{"msg":"hi"}');
    expect(line.parseError).toBe(false);
    expect(line.fields).toBeNull();
    expect(line.body).toBe('{"msg":"hi"}');
  });
});

describe('auto', () => {
  it('JSON objects as JSON', () => {
    const line = auto('  {"level":"info","msg":"hi"}  ');
    expect(line.fields).toEqual({ level: 'info', msg: 'hi' });
    expect(line.body).toBe('hi');
  });

  it('logfmt with at least two pairs as logfmt', () => {
    const line = auto('level=info msg="hi there" status=200');
    expect(line.fields).toEqual({ level: 'info', msg: 'hi there', status: '200' });
    expect(line.body).toBe('hi there');
  });

  it.each([
    'key=value', // one pair
    'user=bob logged in', // bare words
    '2024-05-01 12:00:00 INFO user=bob action=login', // pairs after text
    '{"broken": ', // JSON-looking but no object
    '[1,2,3]',
    'plain text',
  ])('%j as text, without a parse error', (input) => {
    const line = auto(input);
    expect(line.fields).toBeNull();
    expect(line.parseError).toBe(false);
    expect(line.body).toBe(input);
  });

  it('text lines keep their prefix recognition', () => {
    const line = auto('2024-05-01 12:00:00 INFO user=bob action=login');
    expect(line.severityNumber).toBe(9);
    expect(ns(line.timeUnixNano)).toBe(BASE * NS);
  });
});
