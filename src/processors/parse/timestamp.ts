/**
 * Timestamps of log lines as ns since the epoch (an unsigned Long, as OTLP has them: full
 * precision, 1970 to 2514):
 * - RFC 3339 / ISO 8601 `2024-05-01T12:00:00.123456789Z`, any fraction up to ns, `Z` or an offset
 *   (`+02:00`, `+0200`, `+02`); a space instead of `T` and `,` before the fraction are accepted,
 *   so Python's `2024-05-01 12:00:00,123` and log4j's `2024-05-01 12:00:00.123` parse too. A time
 *   without a zone is taken as UTC: a sidecar cannot know the app's zone, and containers log in UTC.
 * - epoch numbers and digit strings in seconds, ms, µs or ns, the unit chosen by magnitude
 *   (< 1e11 s, < 1e14 ms, < 1e17 µs, else ns). Digit strings are exact to the ns; JSON numbers are
 *   doubles, so fractional seconds and ms are rounded to the µs, and ns numbers past 2^53 carry the
 *   rounding JSON.parse already did.
 * - log4j2's JsonLayout `instant` object `{epochSecond, nanoOfSecond}`.
 * Parsing is hand-written over char codes: no regex, no Date, and no BigInt but for digit strings
 * (a log line's time costs one Long).
 */
import Long from 'long';

const TWO_32 = 4294967296;
const TWO_20 = 1048576;
/** 2^34 s: past 2514; ns since the epoch stay well within 64 bits. */
const MAX_SECONDS = 17179869184;

/**
 * `seconds` * 1e9 + `nanos` as an unsigned Long, computed in doubles (each step exact): seconds is
 * split as hi * 2^20 + lo, so that hi * 1e9 < 2^44 and lo * 1e9 < 2^50. Undefined before 1970 or
 * past MAX_SECONDS.
 */
export function nanosLong(seconds: number, nanos: number): Long | undefined {
  if (!(seconds >= 0 && seconds < MAX_SECONDS)) return undefined;
  const hi = Math.floor(seconds / TWO_20);
  const lo = seconds - hi * TWO_20;
  const a = hi * 1e9; // a * 2^20 = aHi * 2^32 + aLo * 2^20
  const aHi = Math.floor(a / 4096);
  const aLo = a - aHi * 4096;
  let low = aLo * TWO_20 + lo * 1e9 + nanos;
  const carry = Math.floor(low / TWO_32);
  low -= carry * TWO_32;
  return Long.fromBits(low | 0, (aHi + carry) | 0, true);
}

/** Where the last `parseIsoAt` stopped (one past the timestamp); a module slot, not an allocation. */
export let isoEnd = 0;

/** ns since the epoch of a field value (string, number or `{epochSecond, nanoOfSecond}`), or undefined. */
export function parseTimestamp(value: unknown): Long | undefined {
  if (typeof value === 'string') return parseTimestampText(value);
  if (typeof value === 'number') return epochNumber(value);
  if (typeof value === 'object' && value !== null) {
    const o = value as { epochSecond?: unknown; nanoOfSecond?: unknown };
    if (typeof o.epochSecond === 'number' && Number.isSafeInteger(o.epochSecond) && o.epochSecond > 0) {
      const nanos = typeof o.nanoOfSecond === 'number' && Number.isInteger(o.nanoOfSecond) && o.nanoOfSecond >= 0 && o.nanoOfSecond < 1e9 ? o.nanoOfSecond : 0;
      return nanosLong(o.epochSecond, nanos);
    }
  }
  return undefined;
}

/** A whole string that is an ISO/RFC 3339 time or an epoch in digits. */
export function parseTimestampText(text: string): Long | undefined {
  const c0 = text.charCodeAt(0);
  if (c0 < 48 || c0 > 57) return undefined;
  if (text.length >= 19 && text.charCodeAt(4) === 45 /* - */) {
    const ns = parseIsoAt(text, 0);
    return ns !== undefined && isoEnd === text.length ? ns : undefined;
  }
  return epochDigits(text);
}

/**
 * An ISO time starting at `start` in `text` (it may go on after it: `isoEnd` says where the time
 * ended). Undefined when there is none there.
 */
export function parseIsoAt(text: string, start: number): Long | undefined {
  const n = text.length;
  let i = start;
  if (n - i < 19) return undefined;
  const year = digits(text, i, 4);
  if (year < 0 || text.charCodeAt(i + 4) !== 45) return undefined;
  const month = digits(text, i + 5, 2);
  if (month < 1 || month > 12 || text.charCodeAt(i + 7) !== 45) return undefined;
  const day = digits(text, i + 8, 2);
  if (day < 1 || day > 31) return undefined;
  const sep = text.charCodeAt(i + 10);
  if (sep !== 84 /* T */ && sep !== 32 /* space */ && sep !== 116 /* t */) return undefined;
  const hour = digits(text, i + 11, 2);
  if (hour < 0 || hour > 23 || text.charCodeAt(i + 13) !== 58 /* : */) return undefined;
  const minute = digits(text, i + 14, 2);
  if (minute < 0 || minute > 59 || text.charCodeAt(i + 16) !== 58) return undefined;
  const second = digits(text, i + 17, 2);
  if (second < 0 || second > 60) return undefined; // 60: a leap second, counted into the next minute
  i += 19;
  let nanos = 0;
  let c = text.charCodeAt(i);
  if (c === 46 /* . */ || c === 44 /* , */) {
    i++;
    let scale = 100_000_000;
    const from = i;
    for (c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
      nanos += (c - 48) * scale; // digits past the 9th (a 7th-digit .NET tick is the 7th) are dropped
      scale = scale / 10;
      if (scale < 1) scale = 0;
    }
    if (i === from) return undefined;
  }
  let offsetMin = 0;
  if (c === 90 /* Z */ || c === 122 /* z */) i++;
  else if (c === 43 /* + */ || c === 45 /* - */) {
    const sign = c === 43 ? 1 : -1;
    const oh = digits(text, i + 1, 2);
    if (oh < 0 || oh > 23) return undefined;
    let om = 0;
    let len = 3;
    if (text.charCodeAt(i + 3) === 58) {
      om = digits(text, i + 4, 2);
      len = 6;
    } else if (isDigit(text.charCodeAt(i + 3))) {
      om = digits(text, i + 3, 2);
      len = 5;
    }
    if (om < 0 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
    i += len;
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMin * 60;
  const ns = nanosLong(seconds, nanos);
  if (ns !== undefined) isoEnd = i;
  return ns;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The value of `count` decimal digits at `at`, or -1. */
function digits(text: string, at: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) {
    const c = text.charCodeAt(at + k);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** An epoch number: the unit by magnitude, fractions rounded to the µs (a double holds no more). */
function epochNumber(v: number): Long | undefined {
  if (!(v > 0) || !Number.isFinite(v)) return undefined;
  if (v >= 1e17) return v < 2 ** 64 ? Long.fromNumber(Math.round(v), true) : undefined;
  const micros = Math.round(v < 1e11 ? v * 1e6 : v < 1e14 ? v * 1e3 : v);
  const seconds = Math.floor(micros / 1e6);
  return nanosLong(seconds, (micros - seconds * 1e6) * 1000);
}

/** Exponent of the unit for an integer part of `intDigits` digits: 9 for s, 6 for ms, 3 for µs, 0 for ns. */
function unitExponent(intDigits: number): number {
  return intDigits <= 11 ? 9 : intDigits <= 14 ? 6 : intDigits <= 17 ? 3 : 0;
}

/** `1714564800`, `1714564800123`, `1714564800.123456789`, ...: exact. */
function epochDigits(text: string): Long | undefined {
  const n = text.length;
  let dot = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && dot < 0) dot = i;
    else if (c < 48 || c > 57) return undefined;
  }
  const intDigits = dot < 0 ? n : dot;
  if (intDigits === 0 || intDigits > 20 || dot === n - 1) return undefined;
  const exp = unitExponent(intDigits);
  const whole = BigInt(dot < 0 ? text : text.slice(0, dot));
  if (whole === 0n) return undefined;
  let ns = exp === 0 ? whole : whole * 10n ** BigInt(exp);
  if (dot >= 0 && exp > 0) {
    let frac = text.slice(dot + 1, dot + 1 + exp);
    if (frac.length < exp) frac = frac.padEnd(exp, '0');
    ns += BigInt(frac);
  }
  return ns < 1n << 64n ? Long.fromString(ns.toString(), true) : undefined;
}
