// Tailing latency with inotify: lines appended at a steady rate (default 1,000/s for 20 s) to a
// watched file, each carrying the time it was written; the consumer notes when its record was
// handed over. Prints append -> handoff latency p50 / p99 / max; the goal is p99 < 250 ms.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startReceiver, tempDir } from './lib/file-receiver-harness.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const TOTAL = RATE * SECONDS;

const dir = tempDir('tracetail-latency-');
mkdirSync(join(dir, 'logs'));
const fd = openSync(join(dir, 'logs', 'app.log'), 'a');
const latencies = [];
let finish;
const finished = new Promise((r) => (finish = r));
const rx = await startReceiver(dir, (records) => {
  const now = performance.now();
  for (const r of records) {
    const m = /t=([\d.]+)/.exec(r.body.stringValue);
    if (m) latencies.push(now - Number(m[1]));
  }
  if (latencies.length >= TOTAL) finish();
});

// Write on a 10 ms tick whatever is due, one write() per line, as an app logging request by request.
const start = performance.now();
let written = 0;
const timer = setInterval(() => {
  const due = Math.min(TOTAL, Math.floor(((performance.now() - start) * RATE) / 1000));
  for (; written < due; written++) writeSync(fd, `{"level":30,"msg":"request handled seq=${written} t=${performance.now().toFixed(3)}","trace_id":"5eed0000000000000000000000000001"}\n`);
  if (written >= TOTAL) clearInterval(timer);
}, 10);
await finished;
closeSync(fd);
await rx.stop();
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(
  `append -> handoff, ${TOTAL} lines at ${RATE}/s (inotify): p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms (goal p99 < 250 ms: ${q(0.99) < 250 ? 'met' : 'NOT met'})`,
);
