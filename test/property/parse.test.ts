/**
 * Properties of the line parsers (logs.format json, logfmt, regex, text and auto): a random record
 * written as a JSON or logfmt line (or matched by a regex) parses back to the same body, time,
 * severity and attributes, with their JSON types; any text whatever never throws, and a line that
 * does not parse in its format is shipped as it is and counted.
 */
import fc from 'fast-check';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { Telemetry } from '../../src/metrics/telemetry.js';
import { METRICS } from '../../src/metrics/catalogue.js';
import type { LogBatch } from '../../src/pipeline/batches.js';
import type { LogRecord } from '../../src/otlp/types.js';
import { fromAnyValue } from '../../src/otlp/values.js';
import { createLineParser } from '../../src/processors/parse/parse.js';
import { toLogRecord } from '../../src/processors/parse/record.js';
import { RecordBuilder } from '../../src/processors/parse/record-builder.js';
import { TraceContextExtractor } from '../../src/processors/trace-context/extract.js';
import { check } from './settings.js';

const FILE = { path: '/var/log/app/app.log', name: 'app.log' };
const FILE_ATTRIBUTES: [string, unknown][] = [
  ['log.file.path', FILE.path],
  ['log.file.name', FILE.name],
];
const OBSERVED = 1_714_564_801_000_000_001n;
const REGEX = '^(?<time>\\S+) (?<level>[A-Za-z]+) (?<msg>.*)$';

const parsers = {
  auto: createLineParser({ format: 'auto', regex: null }),
  json: createLineParser({ format: 'json', regex: null }),
  logfmt: createLineParser({ format: 'logfmt', regex: null }),
  regex: createLineParser({ format: 'regex', regex: REGEX }),
  text: createLineParser({ format: 'text', regex: null }),
};
type Format = keyof typeof parsers;
const FORMATS = Object.keys(parsers) as Format[];

// ---- the parts of a record: body, time, level, other fields ---------------------------------------

/** The field names the parser takes the body, time and level from (parse.ts), and the ones the trace-context extractor reads. */
const WELL_KNOWN = new Set(
  ['msg', 'message', '@m', '@message', 'Message', 'MESSAGE', 'log', '@mt']
    .concat(['time', 'timestamp', 'ts', '@timestamp', '@t', 'Timestamp', 'datetime', 'asctime', 't', 'instant', 'timeMillis'])
    .concat(['level', 'severity', 'lvl', 'log.level', 'loglevel', 'levelname', 'LogLevel', '@l', 'Level', 'log_level']),
);
const contextKeys = new TraceContextExtractor();
/** Names that are special to JavaScript objects: a parser must keep them as plain fields. */
const TRICKY_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '0', ''];

/** A field name that is neither a well-known field nor a trace-context one. */
const otherKey = fc
  .oneof(fc.constantFrom(...TRICKY_KEYS), fc.string({ unit: 'binary', maxLength: 12 }))
  .filter((k) => !WELL_KNOWN.has(k) && !contextKeys.isContextKey(k));

/** A time as loggers write it, with the ns it stands for. */
interface TimeCase {
  key: string;
  value: string | number;
  ns: bigint;
}
const MS_MIN = 1e11; // 1973: epoch numbers from here up are ms
const MS_MAX = Date.UTC(2500, 0, 1);
const timeCase = (numbers: boolean): fc.Arbitrary<TimeCase> =>
  fc.record({
    key: fc.constantFrom('time', 'timestamp', 'ts', '@timestamp'),
    form: fc.oneof(
      fc.integer({ min: MS_MIN, max: MS_MAX }).map((ms) => ({ value: new Date(ms).toISOString(), ns: BigInt(ms) * 1_000_000n })),
      fc.integer({ min: MS_MIN, max: MS_MAX }).map((ms) => ({ value: numbers ? ms : String(ms), ns: BigInt(ms) * 1_000_000n })),
      // seconds with a ns fraction, as a string: exact to the ns
      fc.tuple(fc.integer({ min: 1, max: MS_MAX / 1000 }), fc.integer({ min: 0, max: 999_999_999 })).map(([s, n]) => ({
        value: `${s}.${String(n).padStart(9, '0')}`,
        ns: BigInt(s) * 1_000_000_000n + BigInt(n),
      })),
    ),
  }).map(({ key, form }) => ({ key, ...form }));

/** A level as loggers write it, with its SeverityText and SeverityNumber (the README's Log files). */
interface LevelCase {
  key: string;
  value: string | number;
  text: string;
  number: number;
}
const LEVEL_WORDS: [string, number][] = [
  ['trace', 1],
  ['debug', 5],
  ['info', 9],
  ['warn', 13],
  ['warning', 13],
  ['error', 17],
  ['fatal', 21],
];
/** pino's levels: 10 trace, 20 debug, ... 60 fatal, with the numbers of their words. */
const PINO_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((label, i): [number, string, number] => [10 * (i + 1), label, new Map(LEVEL_WORDS).get(label)!]);
const levelCase = (numbers: boolean): fc.Arbitrary<LevelCase> =>
  fc.record({
    key: fc.constantFrom('level', 'severity', 'lvl'),
    form: fc.oneof(
      fc.tuple(fc.constantFrom(...LEVEL_WORDS), fc.constantFrom((w: string) => w, (w: string) => w.toUpperCase(), (w: string) => w[0].toUpperCase() + w.slice(1))).map(([[word, number], spell]) => {
        const value = spell(word);
        return { value, text: value, number };
      }),
      // pino's numbers; in logfmt they are digits, kept as written
      fc.constantFrom(...PINO_LEVELS).map(([level, label, number]) => (numbers ? { value: level, text: label, number } : { value: String(level), text: String(level), number })),
    ),
  }).map(({ key, form }) => ({ key, ...form }));

/** What the body of a record becomes: its message, one trailing newline dropped. */
function bodyOf(message: unknown): string {
  const s = String(message);
  return s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** An attribute value as parsed JSON types map to OTLP (record.ts), read back as fromAnyValue gives it. */
function attributeOf(v: unknown): unknown {
  if (v === null) return undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(attributeOf);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, attributeOf(x)]));
  return v;
}

function attributesOf(record: LogRecord): [string, unknown][] {
  return (record.attributes ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]);
}

/** Attributes in key order: their order is the fields' for-in order (integer-like keys first), no contract. */
function sortedByKey(attributes: [string, unknown][]): [string, unknown][] {
  return [...attributes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function recordOf(format: Format, text: string): LogRecord {
  return toLogRecord(parsers[format](text), { text, end: text.length + 1, truncated: false }, FILE, OBSERVED);
}

function nanos(v: Long | { low: number; high: number; unsigned: boolean } | null | undefined): bigint {
  return v ? BigInt(Long.fromValue(v).toString()) : 0n;
}

interface RecordCase {
  message?: { key: string; value: unknown };
  time?: TimeCase;
  level?: LevelCase;
  others: [string, unknown][];
}

/** Checks what the parser of `format` made of `text`, written from `c`. */
function expectRecord(format: Format, text: string, c: RecordCase): void {
  const line = parsers[format](text);
  expect(line.parseError).toBe(false);
  const record = recordOf(format, text);
  expect(record.body).toEqual({ stringValue: c.message ? bodyOf(c.message.value) : text });
  expect(nanos(record.timeUnixNano)).toBe(c.time?.ns ?? 0n);
  expect(record.severityText).toBe(c.level?.text ?? '');
  expect(record.severityNumber).toBe(c.level?.number ?? 0);
  expect(sortedByKey(attributesOf(record))).toEqual(sortedByKey([...c.others, ...FILE_ATTRIBUTES]));
}

// ---- JSON ----------------------------------------------------------------------------------------

const jsonCase = fc.record(
  {
    message: fc.record({ key: fc.constantFrom('msg', 'message'), value: fc.oneof(fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()) }),
    time: timeCase(true),
    level: levelCase(true),
    others: fc.uniqueArray(fc.tuple(otherKey, fc.jsonValue({ maxDepth: 3 })), { selector: ([k]) => k, maxLength: 8 }),
  },
  { requiredKeys: ['others'] },
);

/** The record as a JSON object, its fields in a random order, and the fields as JSON.parse gives them back. */
function jsonLine(c: RecordCase, order: number[], indent: boolean): { text: string; others: [string, unknown][] } {
  const entries: [string, unknown][] = [...c.others];
  for (const [i, part] of [c.message, c.time, c.level].entries()) if (part) entries.splice(order[i] % (entries.length + 1), 0, [part.key, part.value]);
  const obj: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  const text = indent ? ` ${JSON.stringify(obj, null, 1).replace(/\n/g, ' ')}\t` : JSON.stringify(obj);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const taken = new Set([c.message?.key, c.time?.key, c.level?.key]);
  const others = Object.keys(parsed)
    .filter((k) => !taken.has(k))
    .map((k): [string, unknown] => [k, attributeOf(parsed[k])]);
  return { text, others };
}

describe('JSON lines', () => {
  it.each(['json', 'auto'] as const)('a random record written as a JSON line parses back to the same body, time, severity and attributes (%s)', (format) => {
    check(
      fc.property(jsonCase, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), fc.boolean(), (c, order, indent) => {
        const { text, others } = jsonLine(c, order, indent);
        expectRecord(format, text, { ...c, others });
      }),
    );
  });
});

// ---- logfmt --------------------------------------------------------------------------------------

/** A logfmt key: anything but blanks, `=` and `"` (and not a well-known or trace-context name). */
const logfmtKey = otherKey.filter((k) => k.length > 0 && !/[ \t="]/.test(k));
/** A value written bare (no blank, not starting with a quote) or quoted as a JSON string; `true` for a bare key. */
const logfmtValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }).filter((v) => !/[ \t]/.test(v) && !v.startsWith('"')).map((v) => ({ written: v, value: v as unknown })),
  fc.string({ unit: 'binary', maxLength: 24 }).map((v) => ({ written: JSON.stringify(v), value: v as unknown })),
);

function logfmtPair(key: string, written: string | undefined): string {
  return written === undefined ? key : `${key}=${written}`;
}

describe('logfmt lines', () => {
  it('a random record written as logfmt parses back to the same body, time, severity and attributes', () => {
    const pairs = fc.uniqueArray(fc.tuple(logfmtKey, fc.option(logfmtValue, { nil: undefined })), { selector: ([k]) => k, maxLength: 8 });
    check(
      fc.property(
        fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
        fc.option(timeCase(false), { nil: undefined }),
        fc.option(levelCase(false), { nil: undefined }),
        pairs,
        fc.constantFrom(' ', '  ', '\t'),
        (message, time, level, others, blank) => {
          const written = others.map(([k, v]) => logfmtPair(k, v?.written));
          if (level) written.push(logfmtPair(level.key, String(level.value)));
          if (message !== undefined) written.unshift(logfmtPair('msg', JSON.stringify(message)));
          if (time) written.splice(written.length >> 1, 0, logfmtPair(time.key, String(time.value)));
          const text = blank + written.join(blank);
          if (message === undefined && !time && !level && others.every(([, v]) => v === undefined)) {
            // bare words alone are text, not logfmt
            expect(parsers.logfmt(text)).toMatchObject({ parseError: true, body: text, fields: null });
            return;
          }
          expectRecord('logfmt', text, {
            message: message === undefined ? undefined : { key: 'msg', value: message },
            time,
            level,
            others: others.map(([k, v]) => [k, v === undefined ? true : v.value]),
          });
        },
      ),
    );
  });

  it('auto-detects logfmt from two key=value pairs and parses it the same way', () => {
    check(
      fc.property(fc.string({ unit: 'binary' }), fc.uniqueArray(fc.tuple(logfmtKey, logfmtValue), { selector: ([k]) => k, minLength: 1, maxLength: 6 }), (message, others) => {
        const text = [logfmtPair('msg', JSON.stringify(message)), ...others.map(([k, v]) => logfmtPair(k, v.written))].join(' ');
        expectRecord('auto', text, { message: { key: 'msg', value: message }, others: others.map(([k, v]) => [k, v.value]) });
      }),
    );
  });

  it('refuses an unterminated quote: shipped as text', () => {
    check(
      fc.property(logfmtKey, fc.string({ unit: 'binary', maxLength: 20 }), (key, value) => {
        const text = `${key}="${value.replace(/["\\]/g, '')}`;
        const line = parsers.logfmt(text);
        expect(line.parseError).toBe(true);
        expect(line.body).toBe(text);
      }),
    );
  });
});

// ---- regex ---------------------------------------------------------------------------------------

describe('regex lines', () => {
  it('the named groups of a matching line give its time, level and body', () => {
    const message = fc.string({ unit: 'binary' }).filter((m) => !/[\n\r\u2028\u2029]/.test(m));
    const word = fc.constantFrom(...LEVEL_WORDS);
    check(
      fc.property(fc.integer({ min: MS_MIN, max: MS_MAX }), word, message, (ms, [level, number], msg) => {
        const text = `${new Date(ms).toISOString()} ${level} ${msg}`;
        expectRecord('regex', text, { message: { key: 'msg', value: msg }, time: { key: 'time', value: '', ns: BigInt(ms) * 1_000_000n }, level: { key: 'level', value: level, text: level, number }, others: [] });
      }),
    );
  });

  it('other named groups become attributes, whatever their names', () => {
    const groups = fc.uniqueArray(fc.tuple(fc.constantFrom('user', 'req_id', '__proto__', 'constructor', 'toString', 'valueOf', '$x', 'ÿ'), fc.stringMatching(/^\w{1,12}$/)), { selector: ([k]) => k, minLength: 1, maxLength: 4 });
    check(
      fc.property(groups, (pairs) => {
        const parse = createLineParser({ format: 'regex', regex: `^${pairs.map(([name]) => `(?<${name}>\\w+)`).join(' ')}$` });
        const text = pairs.map(([, value]) => value).join(' ');
        const line = parse(text);
        expect(line.parseError).toBe(false);
        const record = toLogRecord(line, { text, end: text.length + 1, truncated: false }, FILE, OBSERVED);
        expect(sortedByKey(attributesOf(record))).toEqual(sortedByKey([...pairs, ...FILE_ATTRIBUTES]));
      }),
      { scale: 0.3 },
    );
  });
});

// ---- plain text ----------------------------------------------------------------------------------

describe('text lines', () => {
  it('a leading timestamp and level word are found, and the body is the whole line', () => {
    check(
      fc.property(fc.integer({ min: MS_MIN, max: MS_MAX }), fc.constantFrom(...LEVEL_WORDS), fc.boolean(), fc.string({ unit: 'binary' }), (ms, [level, number], bracketed, rest) => {
        const word = level.toUpperCase();
        const text = `${new Date(ms).toISOString().replace('T', ' ')} ${bracketed ? `[${word}]` : word} ${rest}`;
        for (const format of ['text', 'auto'] as const) {
          const record = recordOf(format, text);
          expect(record.body).toEqual({ stringValue: text });
          expect(nanos(record.timeUnixNano)).toBe(BigInt(ms) * 1_000_000n);
          expect(record.severityText).toBe(word);
          expect(record.severityNumber).toBe(number);
        }
      }),
    );
  });
});

// ---- any input -----------------------------------------------------------------------------------

/** Text near the formats' syntax (braces, quotes, `=`, escapes, blanks), or anything at all. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', "'", '\\', '=', ':', ',', ' ', '\t', '\r', '\n', 'a', 'k', '1', '-', '.', 'u', 'msg', 'level', 'time', '30', 'null'), maxLength: 40 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.tuple(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 3 })).map(([v, at, s]) => {
    const json = JSON.stringify(v);
    const i = at % (json.length + 1);
    return json.slice(0, i) + s + json.slice(i + 1);
  }),
);

/** Whether a `format: json` line parses: an object, starting with `{` after blanks (parse.ts). */
function isJsonObjectLine(text: string): boolean {
  if (!/^[ \t]*\{/.test(text)) return false;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

describe('any text', () => {
  it('never throws out of a parser; a line that does not parse is kept as it is', () => {
    check(
      fc.property(anyText, (text) => {
        for (const format of FORMATS) {
          const line = parsers[format](text);
          expect(line.text).toBe(text);
          if (line.fields === null) expect(line.body).toBe(text);
          if (line.parseError) expect(line.fields).toBeNull();
          if (format === 'text' || format === 'auto') expect(line.parseError).toBe(false);
          if (format === 'json') expect(line.parseError).toBe(!isJsonObjectLine(text));
          const record = recordOf(format, text);
          expect(record.body?.stringValue).toBe(line.body);
          if (line.parseError) expect(attributesOf(record)).toEqual(FILE_ATTRIBUTES);
        }
      }),
    );
  });

  it.each(['json', 'logfmt', 'regex'] as const)('a bad line is counted and shipped as it is (format %s)', async (format) => {
    const telemetry = new Telemetry({ processMetrics: false });
    const config = loadConfig({ text: `logs:\n  format: ${format}\n  regex: ${JSON.stringify(REGEX)}\n`, env: {} });
    const batches: LogBatch[] = [];
    const builder = new RecordBuilder({ config, telemetry, log: createLogger('silent') }, { consume: async (b: LogBatch) => void batches.push(b) });
    const counted = async () => (await telemetry.registry.getSingleMetric(METRICS.logParseErrors.name)!.get()).values[0]?.value ?? 0;
    const parse = parsers[format];
    await check(
      fc.asyncProperty(fc.array(anyText, { minLength: 1, maxLength: 8 }), async (texts) => {
        const before = await counted();
        batches.length = 0;
        await builder.consume({ files: [{ file: FILE, records: texts.map((text, i) => ({ text, end: i + 1, truncated: false })) }], checkpoints: [] });
        const records = batches.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
        expect(records).toHaveLength(texts.length);
        const bad = texts.filter((text) => parse(text).parseError);
        for (const [i, text] of texts.entries()) if (parse(text).parseError) expect(records[i].body).toEqual({ stringValue: text });
        expect((await counted()) - before).toBe(bad.length);
      }),
      { scale: 0.5 },
    );
  });
});
