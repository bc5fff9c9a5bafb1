// Lines of log-lines.mjs (tracedPinoLine, webLogLine) written straight into a Buffer: a load
// generator has to stay cheap next to the sidecar it measures, and building strings and encoding
// them to UTF-8 costs several times more than copying template bytes and writing the numbers.
// checkChunks() compares the bytes with the string builders (which pinoLine checks in turn).
import { mix32 } from './ids.mjs';
import { checkLineBuilders, tracedPinoLine, UNTRACED_EVERY, webLogLine } from './log-lines.mjs';

const bytes = (s) => Buffer.from(s, 'latin1');
const LEVEL = bytes('{"level":');
const TIME = bytes(',"time":');
const MSG = bytes(',"pid":4242,"hostname":"app-7f9c","msg":"request handled seq=');
const TRACE = bytes('","trace_id":"');
const SPAN = bytes('","span_id":"');
const FLAGS = bytes('","trace_flags":"01"');
const QUOTE = bytes('"');
const TAIL = bytes(',"route":"/api/orders","status":200,"duration_ms":12.5,"user":"u-1234"}\n');
const PINO_TRACE_HEAD = bytes('5eed');
const PINO_SPAN_TAIL = bytes('abcd0001');
const HEX = bytes('0123456789abcdef');

/** The longest line either shape makes, in bytes (a chunk of n lines needs at most n times this). */
export const MAX_LINE_BYTES = 320;

function put(buf, pos, b) {
  buf.set(b, pos);
  return pos + b.length;
}

/** A non-negative integer (< 2^53) in decimal. */
function putDecimal(buf, pos, n) {
  if (n === 0) {
    buf[pos] = 48;
    return pos + 1;
  }
  let len = 0;
  for (let m = n; m >= 1; m = Math.floor(m / 10)) len++;
  for (let i = pos + len - 1, m = n; i >= pos; i--, m = Math.floor(m / 10)) buf[i] = 48 + (m % 10);
  return pos + len;
}

/** The last `width` hex digits of a non-negative integer (< 2^53), zero-padded. */
function putHex(buf, pos, n, width) {
  for (let i = pos + width - 1, m = n; i >= pos; i--, m = Math.floor(m / 16)) buf[i] = HEX[m % 16];
  return pos + width;
}

function putWord(buf, pos, w) {
  for (let i = pos + 7; i >= pos; i--, w >>>= 4) buf[i] = HEX[w & 15];
  return pos + 8;
}

// The words of ids.mjs's traceIdHex and spanIdHex, written as hex without making strings.
const OFFSET = 0x9e3779b9;
const SPAN_SALT = 0xa5a5a5a5;
const TRACE_SALTS = [0x5eed0001, 0x5eed0002, 0x5eed0003];

function putTraceId(buf, pos, t) {
  const w = mix32((t + OFFSET) >>> 0);
  pos = putWord(buf, pos, mix32((w + TRACE_SALTS[0]) >>> 0));
  pos = putWord(buf, pos, mix32((w + TRACE_SALTS[1]) >>> 0));
  pos = putWord(buf, pos, mix32((w + TRACE_SALTS[2]) >>> 0));
  return putWord(buf, pos, w);
}

function putSpanId(buf, pos, j) {
  const hi = mix32((j + OFFSET) >>> 0);
  pos = putWord(buf, pos, hi);
  return putWord(buf, pos, mix32((hi + SPAN_SALT) >>> 0));
}

function head(buf, pos, level, time, seq) {
  pos = put(buf, pos, LEVEL);
  pos = putDecimal(buf, pos, level);
  pos = put(buf, pos, TIME);
  pos = putDecimal(buf, pos, time);
  pos = put(buf, pos, MSG);
  return putDecimal(buf, pos, seq);
}

/** Lines `first`..`first+count-1` of a shape ('pino': tracedPinoLine, 'web': webLogLine) at `time` into `buf`; returns the bytes written. */
export function fillLines(buf, shape, first, count, time) {
  let pos = 0;
  for (let i = first; i < first + count; i++) {
    const traced = i % UNTRACED_EVERY !== UNTRACED_EVERY - 1;
    if (shape === 'web') {
      pos = head(buf, pos, i % 100 === 42 ? 50 : i % 20 === 7 ? 40 : 30, time, i);
      if (traced) {
        const t = Math.floor(i / 5);
        pos = put(buf, pos, TRACE);
        pos = putTraceId(buf, pos, t);
        pos = put(buf, pos, SPAN);
        pos = putSpanId(buf, pos, 5 * t + (i % 5));
      }
    } else {
      pos = head(buf, pos, 30, time ?? 1714564800000 + i, i);
      if (traced) {
        pos = put(buf, pos, TRACE);
        pos = put(buf, pos, PINO_TRACE_HEAD);
        pos = putHex(buf, pos, i + 1, 12);
        pos = putHex(buf, pos, i * 7919, 16);
        pos = put(buf, pos, SPAN);
        pos = putHex(buf, pos, i + 1, 8);
        pos = put(buf, pos, PINO_SPAN_TAIL);
      }
    }
    pos = put(buf, pos, traced ? FLAGS : QUOTE);
    pos = put(buf, pos, TAIL);
  }
  return pos;
}

/** Throws unless fillLines makes byte for byte what the string builders (and so pinoLine) make. */
export function checkChunks() {
  checkLineBuilders();
  const buf = Buffer.alloc(MAX_LINE_BYTES * 200);
  for (const first of [0, 95, 1_234_500]) {
    const time = 1_700_000_000_000 + first;
    for (const [shape, line] of [
      ['web', (i) => webLogLine(i, time)],
      ['pino', (i) => tracedPinoLine(i, time)],
    ]) {
      const n = fillLines(buf, shape, first, 200, time);
      let want = '';
      for (let i = first; i < first + 200; i++) want += line(i);
      if (buf.toString('latin1', 0, n) !== want) throw new Error(`line-chunks: the ${shape} lines differ from log-lines.mjs`);
    }
  }
  const n = fillLines(buf, 'pino', 7, 3);
  if (buf.toString('latin1', 0, n) !== tracedPinoLine(7) + tracedPinoLine(8) + tracedPinoLine(9)) throw new Error('line-chunks: the pino lines with their own times differ');
}
