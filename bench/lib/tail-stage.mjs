// The per-line work of tailing without the file system: N lines of a kind (lib/log-lines.mjs) as
// 256 KiB reads through the line splitter, the parser (`auto`, with the keys listed for the
// trace-context extractor, as the file receiver sets it up), the enricher and toLogRecord, records
// held in batches of 1024 as the receiver holds them. Usage: node tail-stage.mjs KIND LINES ROUNDS
import { TraceContextEnricher } from '../../dist/processors/trace-context/enricher.js';
import { TraceContextExtractor } from '../../dist/processors/trace-context/extract.js';
import { LineSplitter } from '../../dist/receivers/files/line-splitter.js';
import { createLineParser } from '../../dist/processors/parse/parse.js';
import { toLogRecord } from '../../dist/processors/parse/record.js';
import { logLines } from './log-lines.mjs';

const [kind, lines, rounds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const content = Buffer.from(Array.from({ length: lines }, (_, i) => logLines[kind](i)).join(''));
const enricher = new TraceContextEnricher(new TraceContextExtractor());
const parse = createLineParser({ format: 'auto', regex: null }, (key) => enricher.isContextKey(key));
const file = { path: '/var/log/app/app.log', name: 'app.log' };
const READ = 256 << 10;

function round() {
  const splitter = new LineSplitter(1 << 20, 0);
  let records = [];
  for (let at = 0; at < content.length; at += READ) {
    const raw = [];
    splitter.push(content.subarray(at, Math.min(content.length, at + READ)), raw);
    if (records.length >= 1024) records = [];
    const observed = BigInt(Date.now()) * 1_000_000n;
    for (const line of raw) {
      const parsed = parse(line.text);
      enricher.enrich(parsed);
      records.push(toLogRecord(parsed, line, file, observed));
    }
  }
}

// Each round from the same heap: a full collection of the previous rounds' garbage falling in one
// round or the next would otherwise move the count per line by a third.
for (let r = 0; r < rounds; r++) {
  globalThis.gc();
  round();
}
