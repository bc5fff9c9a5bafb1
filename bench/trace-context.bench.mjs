// Trace-context extraction cost, per record and against the per-line work of tailing.
//
// For each set of line shapes (those of the extraction test) it measures:
//   - extraction alone, in ns/line (fields already parsed);
//   - a tailing pass without and with extraction: split a file's bytes into lines, parse each
//     line (JSON.parse, logfmt, regex; text lines are not parsed), build its OTLP LogRecord with
//     attributes, and encode every 1000 records as an OTLP request — what the file receiver does
//     per line, minus the read syscalls and the queue write. The throughput cut it prints is
//     therefore an upper bound of the cut in real tailing; the budget is 15%.
// Passes alternate and the fastest of several runs is kept, so other load on the machine
// disturbs the result less.
import Long from 'long';
import { encodeRequest } from '../dist/otlp/codec.js';
import { keyValue } from '../dist/otlp/values.js';
import { applyTraceContext, TraceContextExtractor } from '../dist/processors/trace-context/extract.js';
import { fieldsOf, LINE_SHAPES } from '../test/fixtures/trace-context/line-shapes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const LINES_PER_SET = 20_000;

function corpus(filter) {
  const shapes = LINE_SHAPES.filter(filter);
  const lines = [];
  for (let i = 0; i < LINES_PER_SET; i++) lines.push(shapes[i % shapes.length]);
  // One "file": the lines of every shape flattened (multiline records become one line).
  const text = lines.map((c) => c.line.replaceAll('\n', '\\n')).join('\n') + '\n';
  return { shapes: lines, bytes: Buffer.from(text), formats: lines.map((c) => c.format) };
}

const sets = {
  'all shapes (mixed)': corpus(() => true),
  'JSON with context': corpus((c) => c.format === 'json' && c.expect !== null),
  'JSON without context': corpus((c) => c.format === 'json' && c.expect === null && !c.invalid),
  'text with context': corpus((c) => c.format === 'text' && c.expect !== null),
  'text without context': corpus((c) => c.format === 'text' && c.expect === null && !c.invalid),
};

const resource = { attributes: [keyValue('service.name', 'bench')] };
const scope = { name: 'tracetail' };

/** One tailing pass over the bytes; `x` extracts when given. */
function tail({ bytes, formats }, x) {
  let start = 0;
  let i = 0;
  let records = [];
  let encoded = 0;
  const now = Long.fromNumber(Date.now() * 1e6);
  for (let nl = bytes.indexOf(10, start); nl >= 0; nl = bytes.indexOf(10, start), i++) {
    const line = bytes.toString('utf8', start, nl);
    start = nl + 1;
    const fields = fieldsOf(formats[i], line);
    const record = {
      timeUnixNano: now,
      observedTimeUnixNano: now,
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: fields?.msg ?? fields?.message ?? line },
      attributes: [keyValue('log.file.path', '/var/log/app/app.log'), keyValue('log.file.name', 'app.log')],
      // The record has its context fields either way (one object shape for the encoder).
      traceId: null,
      spanId: null,
      flags: 0,
    };
    if (fields) for (const k in fields) if (k !== 'msg' && k !== 'message') record.attributes.push(keyValue(k, fields[k]));
    if (x) {
      const ctx = x.extract(fields, line);
      if (ctx) applyTraceContext(record, ctx);
    }
    records.push(record);
    if (records.length === 1000) {
      encoded += encodeRequest('logs', { resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords: records }] }] }).byteLength;
      records = [];
    }
  }
  return encoded;
}

function timeNs(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

const rows = [];
for (const [name, set] of Object.entries(sets)) {
  const x = new TraceContextExtractor();
  const parsed = set.shapes.map((c) => ({ fields: fieldsOf(c.format, c.line), line: c.line }));
  const n = set.shapes.length;
  let withMs = Infinity;
  let withoutMs = Infinity;
  let extractNs = Infinity;
  tail(set);
  tail(set, x);
  for (let r = 0; r < ROUNDS; r++) {
    globalThis.gc?.();
    withoutMs = Math.min(withoutMs, timeNs(() => tail(set)) / 1e6);
    globalThis.gc?.();
    withMs = Math.min(withMs, timeNs(() => tail(set, x)) / 1e6);
    extractNs = Math.min(
      extractNs,
      timeNs(() => {
        for (const p of parsed) x.extract(p.fields, p.line);
      }) / n,
    );
  }
  rows.push({
    'line set': name,
    'extract ns/line': Math.round(extractNs),
    'tailing lines/s': Math.round((n / withoutMs) * 1000).toLocaleString('en-US'),
    'with extraction': Math.round((n / withMs) * 1000).toLocaleString('en-US'),
    'throughput cut': `${((1 - withoutMs / withMs) * 100).toFixed(1)}%`,
  });
}
console.table(rows);
const worst = rows.reduce((a, b) => (parseFloat(b['throughput cut']) > parseFloat(a['throughput cut']) ? b : a));
console.log(`mixed shapes: ${rows[0]['extract ns/line']} ns/line, throughput cut ${rows[0]['throughput cut']}; worst set: ${worst['line set']} ${worst['throughput cut']} (budget 15%)`);
