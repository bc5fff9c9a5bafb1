/**
 * Trace context written as text inside a line: `key=value` pairs (`trace_id=…`, `traceId: …`,
 * `dd.trace_id=…`, Python's `otelTraceID`), a W3C `traceparent` value anywhere, Spring/Sleuth
 * brackets (`[app,traceId,spanId,export]`, `[traceId,spanId]`, Spring Boot 3.2's
 * `[traceId-spanId]`) and AWS X-Ray ids (`Root=1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`, or bare).
 * Every regex is compiled once; the hex forms are only tried on lines holding a 16-hex-digit run.
 */

import { hexId, hexSpanId, hexTraceId, isHexCode, xrayTraceId, type InvalidIdReason, type InvalidIdSink, type TraceContext } from './ids.js';
import { Role } from './roles.js';

const DASH = 0x2d;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/**
 * `key=value` and `key: value` (quoted or not): `trace_id`, `traceId`, `trace.id`, `span_id`,
 * `trace_flags`, `trace_sampled`, `transaction.id`, `dd.trace_id`, `dd.span_id`, `x-b3-traceid`,
 * `otelTraceID`, ... Found from the occurrences of their words; the rest of the key and the value
 * are read in place, and the prefix (`dd.`, `x-b3-`, `otel`) backwards.
 */
const KEY_WORD_RE = /trace|span|transaction/gi;

const PREFIX_NONE = 0;
const PREFIX_DATADOG = 1;
const PREFIX_B3 = 2;

function lowerAt(text: string, i: number): number {
  return text.charCodeAt(i) | 0x20;
}

/** `text` holds `word` (lower case) at `i`, in any case. */
function wordAt(text: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (lowerAt(text, i + k) !== word.charCodeAt(k)) return false;
  return true;
}

/** A key starts at `i`: no letter, digit, `_`, `.` or `-` before it (`parent_span_id` is not `span_id`). */
function keyStartsAt(text: string, i: number): boolean {
  if (i === 0) return true;
  const c = text.charCodeAt(i - 1);
  const l = c | 0x20;
  return !((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d);
}

function isAlnum(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

function isQuote(c: number): boolean {
  return c === 0x22 || c === 0x27;
}

/** word: 5 trace, 4 span, 11 transaction; suffix: 2 id, 5 flags, 7 sampled. */
function keyRole(prefix: number, word: number, suffix: number): number {
  if (prefix !== PREFIX_NONE) {
    if (suffix !== 2 || word === 11) return -1;
    if (prefix === PREFIX_DATADOG) return word === 5 ? Role.DdTrace : Role.DdSpan;
    return word === 5 ? Role.B3Trace : Role.B3Span;
  }
  if (suffix === 2) return word === 5 ? Role.Trace : word === 4 ? Role.Span : Role.Transaction;
  if (word !== 5) return -1;
  return suffix === 5 ? Role.Flags : Role.Sampled;
}

/** Calls `found(role, value)` for every `key=value` pair of `text`, in order. */
export function detectTextContext(text: string, found: (role: number, value: string) => void): void {
  KEY_WORD_RE.lastIndex = 0;
  while (KEY_WORD_RE.test(text)) {
    const wordEnd = KEY_WORD_RE.lastIndex;
    const word = lowerAt(text, wordEnd - 1) === 0x65 /* e */ ? 5 : lowerAt(text, wordEnd - 3) === 0x70 /* p */ ? 4 : 11;
    const at = wordEnd - word;
    // The rest of the key: [_.-]?(id|flags|sampled)
    let i = wordEnd;
    const sep = text.charCodeAt(i);
    if (sep === 0x5f || sep === 0x2e || sep === DASH) i++;
    let suffix: number;
    if (wordAt(text, i, 'id')) suffix = 2;
    else if (wordAt(text, i, 'flags')) suffix = 5;
    else if (wordAt(text, i, 'sampled')) suffix = 7;
    else continue;
    i += suffix;
    // ["']? [ \t]{0,3} [=:] [ \t]{0,3} ["']? value
    if (isQuote(text.charCodeAt(i))) i++;
    for (let k = 0; k < 3 && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09); k++) i++;
    const eq = text.charCodeAt(i);
    if (eq !== 0x3d && eq !== 0x3a) continue;
    i++;
    for (let k = 0; k < 3 && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09); k++) i++;
    if (isQuote(text.charCodeAt(i))) i++;
    const valueStart = i;
    while (isAlnum(text.charCodeAt(i))) i++;
    if (i === valueStart) continue;

    let prefix = PREFIX_NONE;
    let start = at;
    const before = at > 0 ? text.charCodeAt(at - 1) : 0;
    if (at >= 3 && (before === 0x2e || before === 0x5f) && lowerAt(text, at - 2) === 0x64 && lowerAt(text, at - 3) === 0x64) {
      prefix = PREFIX_DATADOG; // dd. dd_
      start = at - 3;
    } else if (at >= 5 && before === DASH && text.charCodeAt(at - 2) === 0x33 && lowerAt(text, at - 3) === 0x62 && text.charCodeAt(at - 4) === DASH && lowerAt(text, at - 5) === 0x78) {
      prefix = PREFIX_B3; // x-b3-
      start = at - 5;
    } else if (at >= 4 && wordAt(text, at - 4, 'otel')) {
      start = at - 4;
    }
    if (!keyStartsAt(text, start)) continue;
    KEY_WORD_RE.lastIndex = i;
    const role = keyRole(prefix, word, suffix);
    if (role >= 0) found(role, text.slice(valueStart, i));
  }
}

// ---- W3C traceparent -------------------------------------------------------------------------

/**
 * A traceparent value: `vv-<32 hex>-<16 hex>-<2 hex>`. Version `ff`, all-zero ids and a version
 * 00 value with extra parts are refused (W3C Trace Context §3.2).
 */
export function parseTraceparent(text: string, sink: InvalidIdSink): TraceContext | undefined {
  const t = text.trim();
  if (t.length < 55 || t.charCodeAt(2) !== 45 || t.charCodeAt(35) !== 45 || t.charCodeAt(52) !== 45) {
    sink('bad_traceparent');
    return undefined;
  }
  if (t.length > 55 && (t.startsWith('00') || t.charCodeAt(55) !== 45)) {
    sink('bad_traceparent');
    return undefined;
  }
  return traceparentAt(t, 0, sink);
}

/** The traceparent whose version starts at `i` (the dashes are already checked). */
function traceparentAt(t: string, i: number, sink: InvalidIdSink): TraceContext | undefined {
  const version = hexId(t, 1, i, i + 2);
  const flags = hexId(t, 1, i + 53, i + 55);
  const vNotHex = version === 'not_hex';
  const fNotHex = flags === 'not_hex';
  if (vNotHex || fNotHex || (version instanceof Uint8Array && version[0] === 0xff)) {
    sink('bad_traceparent');
    return undefined;
  }
  const trace = hexTraceId(t, i + 3, i + 35);
  if (typeof trace === 'string') return refuse(trace, sink);
  const span = hexSpanId(t, i + 36, i + 52);
  if (typeof span === 'string') return refuse(span, sink);
  return { traceId: trace, spanId: span, flags: flags instanceof Uint8Array ? flags[0] : 0 };
}

function refuse(reason: InvalidIdReason, sink: InvalidIdSink): undefined {
  sink(reason);
  return undefined;
}

// ---- AWS X-Ray ---------------------------------------------------------------------------------

/** `1-<8 hex epoch>-<24 hex>`, not inside a longer token. */
const XRAY_RE = /(?<![0-9a-z-])1-[0-9a-f]{8}-[0-9a-f]{24}(?![0-9a-z])/gi;

/** An X-Ray trace header value (`Root=1-…;Parent=…;Sampled=1`) or a bare `1-…-…` id. */
export function parseXRay(text: string, sink: InvalidIdSink): TraceContext | undefined {
  XRAY_RE.lastIndex = 0;
  for (let m = XRAY_RE.exec(text); m !== null; m = XRAY_RE.exec(text)) {
    const ctx = xrayAt(text, m.index + 11, sink);
    if (ctx) return ctx;
  }
  return undefined;
}

/** A `;Key=Value` part of an X-Ray header ends at these. */
function endsXRayValue(c: number): boolean {
  return c !== c || c === 0x3b || c === 0x20 || c === 0x09 || c === 0x22 || c === 0x27 || c === COMMA || c === 0x7d || c === CLOSE;
}

/**
 * The X-Ray id whose 24-digit part starts at `s` (the `1-<8 hex>-` before it already checked),
 * with `;Parent=<span>` and `;Sampled=1|0` when they follow. A load balancer's `Self=1-…` names
 * its own segment, not the trace: skipped.
 */
function xrayAt(text: string, s: number, sink: InvalidIdSink): TraceContext | undefined {
  if (s >= 16 && text.startsWith('Self=', s - 16)) return undefined;
  const trace = xrayTraceId(text, s - 9, s);
  if (typeof trace === 'string') return refuse(trace, sink);
  let spanId: Uint8Array | undefined;
  let flags: number | undefined;
  let i = s + 24;
  while (text.charCodeAt(i) === 0x3b /* ; */) {
    i++;
    if (text.charCodeAt(i) === 0x20) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0 || eq - i > 16) break;
    let end = eq + 1;
    while (!endsXRayValue(text.charCodeAt(end))) end++;
    const key = text.slice(i, eq);
    if (key === 'Parent') {
      const span = hexSpanId(text, eq + 1, end);
      if (typeof span === 'string') sink(span);
      else spanId = span;
    } else if (key === 'Sampled' && end === eq + 2) {
      const c = text.charCodeAt(eq + 1);
      flags = c === 0x31 ? 1 : c === 0x30 ? 0 : undefined;
    }
    i = end;
  }
  return { traceId: trace, spanId, flags };
}

// ---- the hex forms, found from their hex runs -----------------------------------------------------

function isHex(text: string, i: number): boolean {
  return isHexCode(text.charCodeAt(i));
}

function allHexAt(text: string, start: number, length: number): boolean {
  if (start < 0 || start + length > text.length) return false;
  for (let i = start; i < start + length; i++) if (!isHex(text, i)) return false;
  return true;
}

/** A letter, digit or dash: what continues a token. */
function isTokenChar(c: number): boolean {
  const l = c | 0x20; // ASCII lower case
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
}

/** True when `text[at]` does not continue a token. */
function startsToken(text: string, at: number): boolean {
  return at === 0 || !isTokenChar(text.charCodeAt(at - 1));
}

/** True when the token ends before `at`. */
function endsToken(text: string, at: number): boolean {
  return at >= text.length || !isTokenChar(text.charCodeAt(at));
}

/**
 * Every hex form holds a run of at least 16 hex digits. Such a run covers one of every 16
 * consecutive positions, so probing every 16th character finds it while reading only a fraction
 * of a line that has none. Returns the start of the next run at or after `from` (its end in
 * `run.end`), or -1.
 */
export function nextHexRun(text: string, from: number, run: { end: number }): number {
  const n = text.length;
  let i = from + 15;
  while (i < n) {
    if (!isHex(text, i)) {
      i += 16;
      continue;
    }
    let start = i;
    while (start > from && isHex(text, start - 1)) start--;
    let end = i + 1;
    while (end < n && isHex(text, end)) end++;
    if (end - start >= 16) {
      run.end = end;
      return start;
    }
    i = end + 16;
  }
  return -1;
}


/** `vv-<trace>-<span>-ff` around the 32-digit run at `s`. */
function isTraceparentAt(text: string, s: number): boolean {
  return (
    s >= 3 &&
    text.charCodeAt(s - 1) === DASH &&
    allHexAt(text, s - 3, 2) &&
    startsToken(text, s - 3) &&
    text.charCodeAt(s + 32) === DASH &&
    allHexAt(text, s + 33, 16) &&
    text.charCodeAt(s + 49) === DASH &&
    allHexAt(text, s + 50, 2) &&
    endsToken(text, s + 52)
  );
}

/**
 * `[app,<trace>,<span>,true]`, `[app,<trace>,<span>]`, `[<trace>,<span>]` or `[<trace>-<span>]`
 * around the trace-id run at `s` (16 or 32 digits, ending at `end`). The context, or undefined.
 */
function bracketAt(text: string, s: number, end: number, sink: InvalidIdSink): TraceContext | undefined {
  const before = text.charCodeAt(s - 1);
  if (before === COMMA) {
    // An app name back to the '[': no ']', '[', ',' or newline in it, at most 128 characters.
    let i = s - 2;
    const stop = Math.max(0, s - 130);
    while (i >= stop) {
      const c = text.charCodeAt(i);
      if (c === OPEN) break;
      if (c === CLOSE || c === COMMA || c === 0x0a) return undefined;
      i--;
    }
    if (i < stop) return undefined;
  } else if (before !== OPEN) return undefined;
  const sep = text.charCodeAt(end);
  if ((sep !== COMMA && sep !== DASH) || !allHexAt(text, end + 1, 16)) return undefined;
  let i = end + 17;
  let flags: number | undefined;
  if (text.charCodeAt(i) === COMMA) {
    i++;
    while (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09) i++;
    const word = text.slice(i, i + 5).toLowerCase();
    if (word.startsWith('true')) {
      flags = 1;
      i += 4;
    } else if (word === 'false') {
      flags = 0;
      i += 5;
    } else return undefined;
  }
  if (text.charCodeAt(i) !== CLOSE) return undefined;
  const trace = hexTraceId(text, s, end);
  if (typeof trace === 'string') return refuse(trace, sink);
  const span = hexSpanId(text, end + 1, end + 17);
  if (typeof span === 'string') sink(span);
  return { traceId: trace, spanId: typeof span === 'string' ? undefined : span, flags };
}

/** `1-<8 hex>-<24 hex>` around the 24-digit run at `s`. */
function isXRayAt(text: string, s: number): boolean {
  return s >= 11 && text.charCodeAt(s - 1) === DASH && allHexAt(text, s - 9, 8) && text.charCodeAt(s - 10) === DASH && text.charCodeAt(s - 11) === 0x31 && startsToken(text, s - 11) && endsToken(text, s + 24);
}

const run = { end: 0 };

/** The first traceparent, Spring/Sleuth bracket or X-Ray id in `text`, found from its hex runs. */
export function scanHexForms(text: string, sink: InvalidIdSink): TraceContext | undefined {
  for (let s = nextHexRun(text, 0, run); s >= 0; s = nextHexRun(text, run.end, run)) {
    const end = run.end;
    const len = end - s;
    if (len === 32 && isTraceparentAt(text, s)) {
      const ctx = traceparentAt(text, s - 3, sink);
      if (ctx) return ctx;
      continue;
    }
    if ((len === 32 || len === 16) && s >= 1) {
      const ctx = bracketAt(text, s, end, sink);
      if (ctx) return ctx;
    }
    if (len === 24 && isXRayAt(text, s)) {
      const ctx = xrayAt(text, s, sink);
      if (ctx) return ctx;
    }
  }
  return undefined;
}
