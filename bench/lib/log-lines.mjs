// The log lines of the benchmarks: JSON (~300 B with trace ids, as a pino app with the OTel
// instrumentation writes them) and plain text, each ending in a newline; `i` makes every line unique.
const hex = (n, w) => n.toString(16).padStart(w, '0').slice(-w);

/** A pino line of about 265 B, with `extra` fields at its end. */
export const pinoLine = (i, extra = {}) =>
  `${JSON.stringify({ level: 30, time: 1714564800000 + i, pid: 4242, hostname: 'app-7f9c', msg: `request handled seq=${i}`, trace_id: `5eed${hex(i + 1, 12)}${hex(i * 7919, 16)}`, span_id: `${hex(i + 1, 8)}abcd0001`, trace_flags: '01', route: '/api/orders', status: 200, duration_ms: 12.5, user: 'u-1234', ...extra })}\n`;

const PAD = { pad: 'x'.repeat(40) };

export const logLines = {
  json: (i) => pinoLine(i, PAD),
  text: (i) => `2024-05-01T12:00:00.000Z INFO [http-nio-8080-exec-3] c.e.orders.OrderController - request handled seq=${i} path=/api/orders status=200\n`,
};

// ---- lines for the whole-CLI benchmarks ---------------------------------------------------------
// Built by concatenation (a load generator must stay cheap next to the sidecar it measures), byte
// for byte what pinoLine makes of the same fields: checkLineBuilders() compares them.
import { spanIdHex, traceIdHex } from './ids.mjs';

/** Which of five lines carries no trace context (4 in 5 do, as in a traced web service). */
export const UNTRACED_EVERY = 5;

function pinoLineOf(i, level, time, traceId, spanId) {
  const context = traceId === null ? '' : `,"trace_id":"${traceId}","span_id":"${spanId}","trace_flags":"01"`;
  return `{"level":${level},"time":${time},"pid":4242,"hostname":"app-7f9c","msg":"request handled seq=${i}"${context},"route":"/api/orders","status":200,"duration_ms":12.5,"user":"u-1234"}\n`;
}

/** pinoLine(i) with its own trace id on 4 lines in 5 (none on every fifth), written at `time` (ms; pinoLine's own time by default). */
export function tracedPinoLine(i, time = 1714564800000 + i) {
  return i % UNTRACED_EVERY === UNTRACED_EVERY - 1 ? pinoLineOf(i, 30, time, null, null) : pinoLineOf(i, 30, time, `5eed${hex(i + 1, 12)}${hex(i * 7919, 16)}`, `${hex(i + 1, 8)}abcd0001`);
}

/**
 * Line k of a web service whose traces are those of web-trace.mjs: lines 5t..5t+3 belong to trace
 * t (each to one of its spans), line 5t+4 carries no trace context; one line in 20 is a warning,
 * one in 100 an error. Written at `time` (ms).
 */
export function webLogLine(k, time) {
  const level = k % 100 === 42 ? 50 : k % 20 === 7 ? 40 : 30;
  if (k % UNTRACED_EVERY === UNTRACED_EVERY - 1) return pinoLineOf(k, level, time, null, null);
  const t = Math.floor(k / 5);
  return pinoLineOf(k, level, time, traceIdHex(t), spanIdHex(5 * t + (k % 5)));
}

/** Throws unless the builders above make exactly what pinoLine makes of the same fields. */
export function checkLineBuilders() {
  const none = { trace_id: undefined, span_id: undefined, trace_flags: undefined };
  for (const i of [0, 1, 3, 4, 9, 42, 107, 99_999, 1_234_567]) {
    const t = 1_700_000_000_000 + i;
    const traced = i % 5 !== 4;
    const want = traced ? pinoLine(i, { time: t }) : pinoLine(i, { time: t, ...none });
    if (tracedPinoLine(i, t) !== want) throw new Error(`tracedPinoLine(${i}) differs from pinoLine`);
    const level = i % 100 === 42 ? 50 : i % 20 === 7 ? 40 : 30;
    const web = traced ? { level, time: t, trace_id: traceIdHex(Math.floor(i / 5)), span_id: spanIdHex(i) } : { level, time: t, ...none };
    if (webLogLine(i, t) !== pinoLine(i, web)) throw new Error(`webLogLine(${i}) differs from pinoLine`);
  }
}
