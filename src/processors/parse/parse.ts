/**
 * A record's text as a ParsedLine, per `logs.format` (the README's Log files): JSON objects, logfmt, a regex's
 * named groups, or plain text; `auto` picks JSON for a line that looks like an object, logfmt for
 * one made of at least two `key=value` pairs, text otherwise.
 *
 * The message, time and level are taken from the fields loggers write them in, looked up in one
 * pass over the keys (the first name of each list wins, so `msg` beats `message`):
 * - body: `msg`, `message`, `@m` (Serilog), `@message`, `Message` (.NET), `MESSAGE` (journald),
 *   `log` (Docker json-file, its trailing newline dropped), `@mt` (a Serilog template, last);
 * - time: `time` (pino, bunyan, slog, logrus), `timestamp` (winston, structlog, GCP), `ts` (zap,
 *   go-kit), `@timestamp` (logstash/logback, ECS), `@t` (Serilog), `Timestamp` (.NET),
 *   `datetime`, `asctime` (python-json-logger), `t` (log15), `instant` (log4j2 JsonLayout),
 *   `timeMillis` (log4j2, older);
 * - level: `level`, `severity` (GCP), `lvl`, `log.level` (ECS dotted, or `log: {level}` nested),
 *   `loglevel`, `levelname` (Python), `LogLevel` (.NET), `@l` (Serilog), `Level`, `log_level`.
 * Fields that gave them are `taken` (not repeated as attributes); a nested object (ECS `log`)
 * stays whole. A time that does not parse stays an attribute. Trace ids are the trace-context
 * enricher's: it runs after this on the same ParsedLine, and reads the fields as parsed (nested
 * objects kept as objects).
 *
 * For plain text, a leading timestamp and level word are recognised
 * (`2024-05-01 12:00:00,123 ERROR [main] ...`, `ERROR ...`, `[WARN] ...`, and after a time of day
 * `12:00:00.123 [main] INFO ...`); the body is the line.
 */
import type { Config } from '../../config/load.js';
import { KeysByPosition } from '../../keys-by-position.js';
import { parseLogfmt, startsLikeLogfmt } from './logfmt.js';
import { severityNumberOfWord, severityOfValue, type Severity } from './severity.js';
import { isoEnd, parseIsoAt, parseTimestamp } from './timestamp.js';
import { positionBit, setField, type ParsedLine } from './types.js';

export type LineParser = (text: string) => ParsedLine;

/** Whether the trace-context extractor reads a top-level field of this name (extract.ts `isContextKey`). */
export type ContextKeyTest = (key: string) => boolean;

const BODY = 1;
const TIME = 2;
const LEVEL = 3;
/** `log`: a Docker message (string) or ECS's `{level, logger}` object. */
const LOG = 4;

/** Name → role * 16 + rank (lower rank wins). */
const ROLES: Record<string, number> = Object.create(null) as Record<string, number>;
const role = (r: number, names: string[]) => names.forEach((name, rank) => (ROLES[name] = r * 16 + rank));
role(BODY, ['msg', 'message', '@m', '@message', 'Message', 'MESSAGE', 'log', '@mt']);
role(TIME, ['time', 'timestamp', 'ts', '@timestamp', '@t', 'Timestamp', 'datetime', 'asctime', 't', 'instant', 'timeMillis']);
role(LEVEL, ['level', 'severity', 'lvl', 'log.level', 'loglevel', 'levelname', 'LogLevel', '@l', 'Level', 'log_level']);
ROLES.log = LOG * 16 + ROLES.log % 16;
const LOG_BODY_RANK = ROLES.log % 16;
const NONE = 1 << 30;
/** Set in a key's code when the trace-context extractor reads it. */
const CONTEXT = 1 << 8;
const MAX_CACHED_KEYS = 4096;
/** `contextPositions` when the context keys were not looked for: any key may be taken. */
const ANY_POSITION = -1;
/** Key positions whose last key is remembered (KeyCodes.at). */
const MAX_POSITIONS = 64;
const NO_KEYS: string[] = Object.freeze([]) as unknown as string[];

/**
 * Key → role * 16 + rank (0: no role), plus CONTEXT: one lookup per key of every structured line
 * serves the well-known fields and tells the trace-context extractor which keys to look at, so
 * that it does not walk every field again. Keys are a logger's vocabulary; the cache is emptied
 * when records with ever-new keys fill it.
 */
class KeyCodes {
  private codes: Record<string, number> = Object.create(null) as Record<string, number>;
  private size = 0;
  private readonly byPosition = new KeysByPosition(MAX_POSITIONS, (key) => this.of(key));

  constructor(private readonly isContextKey: ContextKeyTest) {}

  /** The code of `key`, the `i`-th key of its record. */
  at(i: number, key: string): number {
    return this.byPosition.get(i, key);
  }

  private of(key: string): number {
    const code = this.codes[key];
    if (code !== undefined) return code;
    if (++this.size > MAX_CACHED_KEYS) {
      this.codes = Object.create(null) as Record<string, number>;
      this.size = 1;
    }
    return (this.codes[key] = (ROLES[key] ?? 0) | (this.isContextKey(key) ? CONTEXT : 0));
  }
}

/** Scratch for the severity of the current line (one object, reused). */
const sev: Severity = { text: '', number: 0 };

function newLine(text: string): ParsedLine {
  // Every property set up front, always in this order: one hidden class for all lines.
  return {
    text,
    fields: null,
    taken: [],
    takenPositions: 0,
    contextPositions: 0,
    contextKeys: null,
    body: text,
    timeUnixNano: undefined,
    severityText: undefined,
    severityNumber: undefined,
    parseError: false,
    traceId: undefined,
    spanId: undefined,
    traceFlags: undefined,
  };
}

/**
 * Sets body, time and severity of `line` from its `fields` and marks the keys used as taken. With
 * `keys`, also lists in `line.contextKeys` the keys the trace-context extractor reads.
 */
function applyWellKnownFields(line: ParsedLine, fields: Record<string, unknown>, keys?: KeyCodes): void {
  let bodyRank = NONE;
  let bodyKey = '';
  let bodyBit = 0;
  let timeRank = NONE;
  let timeKey = '';
  let timeBit = 0;
  let levelRank = NONE;
  let levelKey = '';
  let levelBit = 0;
  let nestedLevel: unknown = undefined;
  let contextKeys: string[] | null = null;
  let contextPositions = 0;
  let position = 0;
  for (const key in fields) {
    const p = position++;
    let r: number | undefined;
    if (keys) {
      r = keys.at(p, key);
      if (r === 0) continue;
      if (r & CONTEXT) {
        (contextKeys ??= []).push(key);
        contextPositions |= positionBit(p);
        r &= CONTEXT - 1;
        if (r === 0) continue;
      }
    } else {
      r = ROLES[key];
      if (r === undefined) continue;
    }
    const kind = r >> 4;
    const rank = r & 15;
    if (kind === BODY) {
      if (rank < bodyRank && isBodyValue(fields[key])) {
        bodyRank = rank;
        bodyKey = key;
        bodyBit = positionBit(p);
      }
    } else if (kind === TIME) {
      if (rank < timeRank) {
        timeRank = rank;
        timeKey = key;
        timeBit = positionBit(p);
      }
    } else if (kind === LEVEL) {
      if (rank < levelRank) {
        levelRank = rank;
        levelKey = key;
        levelBit = positionBit(p);
      }
    } else {
      const v = fields[key];
      if (typeof v === 'string') {
        if (LOG_BODY_RANK < bodyRank) {
          bodyRank = LOG_BODY_RANK;
          bodyKey = key;
          bodyBit = positionBit(p);
        }
      } else if (typeof v === 'object' && v !== null) nestedLevel = (v as Record<string, unknown>).level;
    }
  }
  line.contextKeys = contextKeys ?? (keys ? NO_KEYS : null);
  line.contextPositions = keys ? contextPositions : ANY_POSITION;
  const taken = line.taken;
  let takenPositions = 0;
  if (bodyRank !== NONE) {
    const v = fields[bodyKey];
    let body = typeof v === 'string' ? v : String(v);
    if (body.charCodeAt(body.length - 1) === 10) body = body.slice(0, body.charCodeAt(body.length - 2) === 13 ? -2 : -1);
    line.body = body;
    taken.push(bodyKey);
    takenPositions |= bodyBit;
  }
  if (timeRank !== NONE) {
    const ns = parseTimestamp(fields[timeKey]);
    if (ns !== undefined) {
      line.timeUnixNano = ns;
      taken.push(timeKey);
      takenPositions |= timeBit;
    }
  }
  if (levelRank !== NONE) {
    if (severityOfValue(fields[levelKey], sev)) {
      line.severityText = sev.text;
      line.severityNumber = sev.number;
      taken.push(levelKey);
      takenPositions |= levelBit;
    }
  } else if (nestedLevel !== undefined && severityOfValue(nestedLevel, sev)) {
    line.severityText = sev.text;
    line.severityNumber = sev.number;
  }
  line.takenPositions = takenPositions;
}

function isBodyValue(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/** Leading timestamp and level word of a plain text line. */
function applyTextPrefix(line: ParsedLine, text: string): void {
  const n = text.length;
  let i = 0;
  if (text.charCodeAt(0) === 91 /* [ */) i = 1;
  const c = text.charCodeAt(i);
  let sawTime = false;
  if (c >= 48 && c <= 57) {
    const ns = parseIsoAt(text, i);
    if (ns !== undefined) {
      line.timeUnixNano = ns;
      i = isoEnd;
    } else {
      // A time of day without a date (logback's default `12:00:00.123 [main] INFO ...`): not a
      // timestamp, but the level after it is still found.
      i = timeOfDayEnd(text, i);
      if (i < 0) return;
    }
    sawTime = true;
    if (text.charCodeAt(i) === 93 /* ] */) i++;
  } else i = 0;
  // Up to three tokens after a time (`[main] INFO`), only the first without one; the later ones
  // only in capitals, so that a word in the message is not taken for a level.
  for (let token = 0; token < (sawTime ? 3 : 1) && i < n; token++) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    let start = i;
    let bracketed = false;
    if (text.charCodeAt(i) === 91) {
      bracketed = true;
      start = ++i;
    }
    while (i < n && isLetter(text.charCodeAt(i))) i++;
    const end = i;
    if (bracketed) {
      if (text.charCodeAt(i) !== 93) {
        while (i < n && text.charCodeAt(i) !== 32) i++;
        continue;
      }
      i++;
    }
    const stop = text.charCodeAt(i);
    if (end - start >= 3 && end - start <= 13 && (i >= n || stop === 32 || stop === 58 /* : */)) {
      const word = text.slice(start, end);
      const number = token === 0 || isUpper(word) ? severityNumberOfWord(word) : 0;
      if (number !== 0) {
        line.severityText = word;
        line.severityNumber = number;
        return;
      }
    }
    if (token === 0 && !sawTime) return;
    while (i < n && text.charCodeAt(i) !== 32) i++;
  }
}

const TIME_OF_DAY_DIGITS = [0, 1, 3, 4, 6, 7];

/** Where `HH:MM:SS[.fff]` starting at `i` ends, or -1. */
function timeOfDayEnd(text: string, i: number): number {
  if (text.charCodeAt(i + 2) !== 58 || text.charCodeAt(i + 5) !== 58) return -1;
  for (const k of TIME_OF_DAY_DIGITS) {
    const c = text.charCodeAt(i + k);
    if (c < 48 || c > 57) return -1;
  }
  i += 8;
  const c = text.charCodeAt(i);
  if (c === 46 || c === 44) for (i++; text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57; i++);
  return i;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUpper(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** The object of a JSON line, or undefined when it is not one. */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the first non-blank char. */
function firstNonBlank(text: string): number {
  let i = 0;
  for (let c = text.charCodeAt(0); c === 32 || c === 9; c = text.charCodeAt(++i));
  return i;
}

function looksLikeJsonObject(text: string): boolean {
  if (text.charCodeAt(firstNonBlank(text)) !== 123 /* { */) return false;
  let e = text.length - 1;
  for (let c = text.charCodeAt(e); c === 32 || c === 9 || c === 13; c = text.charCodeAt(--e));
  return text.charCodeAt(e) === 125; /* } */
}

function parseText(text: string): ParsedLine {
  const line = newLine(text);
  applyTextPrefix(line, text);
  return line;
}

function failed(text: string): ParsedLine {
  const line = parseText(text);
  line.parseError = true;
  return line;
}

/** Named groups of a match as fields: unmatched optional groups are left out. */
function groupFields(groups: Record<string, string | undefined>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const k in groups) {
    const v = groups[k];
    if (v !== undefined) setField(fields, k, v);
  }
  return fields;
}

/**
 * The parser for `logs.format` (and `logs.regex`), prepared once. With `isContextKey`, structured
 * lines list the keys the trace-context extractor reads (`contextKeys`), found in the same pass
 * as the well-known fields.
 */
export function createLineParser(logs: Pick<Config['logs'], 'format' | 'regex'>, isContextKey?: ContextKeyTest): LineParser {
  const keys = isContextKey ? new KeyCodes(isContextKey) : undefined;
  const structured = (text: string, fields: Record<string, unknown>): ParsedLine => {
    const line = newLine(text);
    line.fields = fields;
    applyWellKnownFields(line, fields, keys);
    return line;
  };
  switch (logs.format) {
    case 'json':
      return (text) => {
        const fields = text.charCodeAt(firstNonBlank(text)) === 123 ? parseJsonObject(text) : undefined;
        return fields ? structured(text, fields) : failed(text);
      };
    case 'logfmt':
      return (text) => {
        const fields = parseLogfmt(text, false);
        return fields ? structured(text, fields) : failed(text);
      };
    case 'regex': {
      if (!logs.regex) throw new Error('logs.format "regex" needs logs.regex');
      const re = new RegExp(logs.regex);
      return (text) => {
        const groups = re.exec(text)?.groups;
        return groups ? structured(text, groupFields(groups)) : failed(text);
      };
    }
    case 'text':
      return parseText;
    case 'auto':
      return (text) => {
        if (looksLikeJsonObject(text)) {
          const fields = parseJsonObject(text);
          if (fields) return structured(text, fields);
        } else if (startsLikeLogfmt(text)) {
          const fields = parseLogfmt(text, true);
          if (fields) return structured(text, fields);
        }
        return parseText(text);
      };
  }
}
