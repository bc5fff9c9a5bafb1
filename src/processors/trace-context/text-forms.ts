/**
 * Trace context written as text inside a line: `key=value` pairs (`trace_id=…`, `traceId: …`,
 * `dd.trace_id=…`, Python's `otelTraceID`), a W3C `traceparent` value anywhere, Spring/Sleuth
 * brackets (`[app,traceId,spanId,export]`, `[traceId,spanId]`, Spring Boot 3.2's
 * `[traceId-spanId]`) and AWS X-Ray ids (`Root=1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`, or bare).
 * Every regex is compiled once; the hex forms are only tried on lines holding a 16-hex-digit run.
 */
import type { InvalidIdSink, TraceContext } from './extract.js';
import { Role } from './roles.js';
import { hexId, hexSpanId, hexTraceId, isHexCode, type InvalidIdReason } from './ids.js';

/**
 * `key=value` and `key: value` (quoted or not): `trace_id`, `traceId`, `trace.id`, `span_id`,
 * `trace_flags`, `trace_sampled`, `transaction.id`, `dd.trace_id`, `dd.span_id`, `x-b3-traceid`,
 * `otelTraceID`, ... Found from the occurrences of their words: the rest of the key and the
 * value are matched in place, and the prefix (`dd.`, `x-b3-`, `otel`) is read backwards.
 */
const KEY_WORD_RE = /trace|span|transaction/gi;
const KEY_REST_RE = /(?:trace|span|transaction)[_.-]?(id|flags|sampled)["']?[ \t]{0,3}[=:][ \t]{0,3}["']?([0-9a-z]+)/iy;

const PREFIX_NONE = 0;
const PREFIX_DATADOG = 1;
const PREFIX_B3 = 2;

function lowerAt(text: string, i: number): number {
  return text.charCodeAt(i) | 0x20;
}

/** A key starts at `i`: no letter, digit, `_`, `.` or `-` before it (`parent_span_id` is not `span_id`). */
function keyStartsAt(text: string, i: number): boolean {
  if (i === 0) return true;
  const c = text.charCodeAt(i - 1);
  const l = c | 0x20;
  return !((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d);
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
  for (let m = KEY_WORD_RE.exec(text); m !== null; m = KEY_WORD_RE.exec(text)) {
    const at = m.index;
    KEY_REST_RE.lastIndex = at;
    const rest = KEY_REST_RE.exec(text);
    if (rest === null) continue;
    let prefix = PREFIX_NONE;
    let start = at;
    const before = at > 0 ? text.charCodeAt(at - 1) : 0;
    if (at >= 3 && (before === 0x2e || before === 0x5f) && lowerAt(text, at - 2) === 0x64 && lowerAt(text, at - 3) === 0x64) {
      prefix = PREFIX_DATADOG; // dd. dd_
      start = at - 3;
    } else if (at >= 5 && before === 0x2d && text.charCodeAt(at - 2) === 0x33 && lowerAt(text, at - 3) === 0x62 && text.charCodeAt(at - 4) === 0x2d && lowerAt(text, at - 5) === 0x78) {
      prefix = PREFIX_B3; // x-b3-
      start = at - 5;
    } else if (at >= 4 && lowerAt(text, at - 4) === 0x6f && lowerAt(text, at - 3) === 0x74 && lowerAt(text, at - 2) === 0x65 && (before | 0x20) === 0x6c) {
      start = at - 4; // otel
    }
    if (!keyStartsAt(text, start)) continue;
    KEY_WORD_RE.lastIndex = KEY_REST_RE.lastIndex;
    const role = keyRole(prefix, m[0].length, rest[1].length);
    if (role >= 0) found(role, rest[2]);
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
const XRAY_RE = /(?<![0-9a-z-])1-([0-9a-f]{8})-([0-9a-f]{24})(?![0-9a-z])/gi;
/** What follows the root in a header value: `;Parent=…;Sampled=1;…`. */
const XRAY_TAIL_RE = /(?:;[ \t]?[A-Za-z]+=[^;\s"',}\]]*)*/y;
const XRAY_PART_RE = /;[ \t]?([A-Za-z]+)=([^;\s"',}\]]*)/g;

/** An X-Ray trace header value (`Root=1-…;Parent=…;Sampled=1`) or a bare `1-…-…` id. */
export function parseXRay(text: string, sink: InvalidIdSink): TraceContext | undefined {
  XRAY_RE.lastIndex = 0;
  return xrayScan(text, sink);
}

function xrayScan(text: string, sink: InvalidIdSink): TraceContext | undefined {
  for (let m = XRAY_RE.exec(text); m !== null; m = XRAY_RE.exec(text)) {
    // A load balancer's `Self=1-…` names its own segment, not the trace.
    if (m.index >= 5 && text.startsWith('Self=', m.index - 5)) continue;
    const trace = hexTraceId(m[1] + m[2]);
    if (typeof trace === 'string') {
      sink(trace);
      continue;
    }
    let spanId: Uint8Array | undefined;
    let flags: number | undefined;
    XRAY_TAIL_RE.lastIndex = XRAY_RE.lastIndex;
    const tail = XRAY_TAIL_RE.exec(text)?.[0] ?? '';
    for (const part of tail.matchAll(XRAY_PART_RE)) {
      if (part[1] === 'Parent') {
        const span = hexSpanId(part[2]);
        if (typeof span === 'string') sink(span);
        else spanId = span;
      } else if (part[1] === 'Sampled') {
        flags = part[2] === '1' ? 1 : part[2] === '0' ? 0 : undefined;
      }
    }
    return { traceId: trace, spanId, flags };
  }
  return undefined;
}

// ---- the hex forms, found from their hex runs -----------------------------------------------------

const TRACEPARENT_Y = /[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?![0-9a-z])/iy;
const XRAY_Y = /1-([0-9a-f]{8})-([0-9a-f]{24})(?![0-9a-z])/iy;
/** `[app,trace,span,export]`, `[app,trace,span]`, `[trace,span]`, `[trace-span]`. */
const BRACKETS_Y = /\[(?:[^\][,\n]{0,128},)?([0-9a-f]{32}|[0-9a-f]{16})[,-]([0-9a-f]{16})(?:,[ \t]*(true|false))?\]/iy;

function isHex(text: string, i: number): boolean {
  return isHexCode(text.charCodeAt(i));
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

/** True when `text[at]` does not continue a token (a letter, digit or dash before it). */
function startsToken(text: string, at: number): boolean {
  if (at === 0) return true;
  const c = text.charCodeAt(at - 1) | 0x20; // ASCII lower case
  return !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d);
}

/** The first traceparent, Spring/Sleuth bracket or X-Ray id in `text`, found from its hex runs. */
const run = { end: 0 };

export function scanHexForms(text: string, sink: InvalidIdSink): TraceContext | undefined {
  for (let s = nextHexRun(text, 0, run); s >= 0; s = nextHexRun(text, run.end, run)) {
    const len = run.end - s;
    // 00-<32 hex>-<16 hex>-01: this run is the trace id.
    if (len === 32 && s >= 3 && text.charCodeAt(s - 1) === 45 && startsToken(text, s - 3)) {
      TRACEPARENT_Y.lastIndex = s - 3;
      if (TRACEPARENT_Y.test(text)) {
        const ctx = traceparentAt(text, s - 3, sink);
        if (ctx) return ctx;
        continue;
      }
    }
    // [app,<trace>,<span>,true] and friends: this run is the trace id.
    if ((len === 32 || len === 16) && s >= 1) {
      const open = text.charCodeAt(s - 1) === 91 /* [ */ ? s - 1 : text.lastIndexOf('[', s - 2);
      if (open >= 0 && s - open <= 130) {
        BRACKETS_Y.lastIndex = open;
        const m = BRACKETS_Y.exec(text);
        if (m && m.index + m[0].indexOf(m[1]) === s) {
          const trace = hexTraceId(m[1]);
          if (typeof trace === 'string') {
            sink(trace);
            continue;
          }
          const span = hexSpanId(m[2]);
          if (typeof span === 'string') sink(span);
          return {
            traceId: trace,
            spanId: typeof span === 'string' ? undefined : span,
            flags: m[3] === undefined ? undefined : m[3].toLowerCase() === 'true' ? 1 : 0,
          };
        }
      }
    }
    // 1-<8 hex>-<24 hex>: this run is the second part.
    if (len === 24 && s >= 11 && startsToken(text, s - 11)) {
      XRAY_Y.lastIndex = s - 11;
      if (XRAY_Y.test(text)) {
        // A load balancer's `Self=1-…` names its own segment, not the trace.
        if (s >= 16 && text.startsWith('Self=', s - 16)) continue;
        XRAY_RE.lastIndex = s - 11;
        const ctx = xrayScan(text, sink);
        if (ctx) return ctx;
      }
    }
  }
  return undefined;
}
