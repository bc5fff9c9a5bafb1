/**
 * Level words and numbers as OTel SeverityNumbers (logs data model; its appendix B maps syslog,
 * log4j, zap, java.util.logging and .NET levels):
 *
 * | number | words |
 * | --- | --- |
 * | TRACE 1 | trace, finest, silly, trc |
 * | DEBUG 5 | debug, finer, verbose, dbg, vrb (syslog Debug, WinEvt Verbose) |
 * | DEBUG2 6 / DEBUG3 7 | fine / config (java.util.logging) |
 * | INFO 9 | info, information, informational, inf |
 * | INFO2 10 | notice (syslog) |
 * | WARN 13 | warn, warning, wrn |
 * | ERROR 17 | error, err, severe, eror |
 * | ERROR2 18 | crit (syslog Critical), dpanic (zap) |
 * | ERROR3 19 | alert (syslog), panic (zap) |
 * | FATAL 21 | fatal, emerg, emergency, critical (.NET LogLevel.Critical, Python CRITICAL), ftl |
 *
 * Numbers are pino and bunyan levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal;
 * as `@opentelemetry/instrumentation-pino` does, other numbers are scaled from 10..70 onto the
 * in-between numbers (TRACE2 … FATAL4), and the SeverityText of a number is pino's label
 * (`30` → `info`), or the number itself for a custom level.
 */

export interface Severity {
  text: string;
  number: number;
}

const WORDS: [string, number][] = [
  ['trace', 1],
  ['finest', 1],
  ['silly', 1],
  ['trc', 1],
  ['debug', 5],
  ['finer', 5],
  ['verbose', 5],
  ['dbg', 5],
  ['vrb', 5],
  ['fine', 6],
  ['config', 7],
  ['info', 9],
  ['information', 9],
  ['informational', 9],
  ['inf', 9],
  ['notice', 10],
  ['warn', 13],
  ['warning', 13],
  ['wrn', 13],
  ['error', 17],
  ['err', 17],
  ['eror', 17],
  ['severe', 17],
  ['crit', 18],
  ['dpanic', 18],
  ['alert', 19],
  ['panic', 19],
  ['fatal', 21],
  ['critical', 21],
  ['emerg', 21],
  ['emergency', 21],
  ['ftl', 21],
];

/** Word → number; the lower, UPPER and Capitalized forms are keys too, so most lookups skip toLowerCase. */
const BY_WORD: Record<string, number> = Object.create(null) as Record<string, number>;
for (const [word, n] of WORDS) {
  BY_WORD[word] = n;
  BY_WORD[word.toUpperCase()] = n;
  BY_WORD[word[0].toUpperCase() + word.slice(1)] = n;
}

/** The SeverityNumber of a level word, 0 when it is not one. */
export function severityNumberOfWord(word: string): number {
  return BY_WORD[word] ?? (word.length <= 13 ? (BY_WORD[word.toLowerCase()] ?? 0) : 0);
}

const PINO_NUMBER: Record<number, number> = { 10: 1, 20: 5, 30: 9, 40: 13, 50: 17, 60: 21 };
const PINO_LABEL: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** TRACE2 … FATAL4: the numbers between the named ones, for custom pino levels. */
const EXTRA_NUMBERS = [2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19, 20, 22, 23, 24];

/** The SeverityNumber of a pino/bunyan numeric level. */
export function severityNumberOfLevel(level: number): number {
  const n = PINO_NUMBER[level];
  if (n !== undefined) return n;
  const i = Math.floor(((level - 10) / 60) * EXTRA_NUMBERS.length);
  return EXTRA_NUMBERS[Math.min(EXTRA_NUMBERS.length - 1, Math.max(0, i))];
}

/** SeverityText of a numeric level: pino's label, or the number for a custom level. */
export function severityTextOfLevel(level: number): string {
  return PINO_LABEL[level] ?? String(level);
}

/**
 * The severity of a level field's value: a word (kept as written as the text, number 0 when the
 * word is unknown), or a pino number, written to `out`. False when the value is no level at all.
 */
export function severityOfValue(value: unknown, out: Severity): boolean {
  if (typeof value === 'string') {
    if (value.length === 0) return false;
    out.text = value;
    const n = severityNumberOfWord(value);
    if (n === 0 && value.length >= 2 && isDigits(value)) {
      // "30" as a logfmt or regex capture of a pino level (one digit is more likely a syslog code: left alone)
      const level = Number(value);
      out.number = severityNumberOfLevel(level);
      return true;
    }
    out.number = n;
    return true;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    out.text = severityTextOfLevel(value);
    out.number = severityNumberOfLevel(value);
    return true;
  }
  return false;
}

function isDigits(s: string): boolean {
  if (s.length > 3) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
