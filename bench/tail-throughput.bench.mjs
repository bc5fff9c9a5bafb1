// Tailing throughput: pre-written files of JSON lines (~300 B with trace ids, as a pino app with
// the OTel instrumentation writes them) and of plain text lines (lib/log-lines.mjs), read through
// FileReceiver and its parser in-process into a consumer that counts records and resolves at once
// (no queue, no export).
// Prints lines/s, MiB/s and CPU-seconds per million lines; the goal is >= 300,000 JSON lines/s.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReceiver, tempDir } from './lib/file-receiver-harness.mjs';
import { logLines } from './lib/log-lines.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const FILES = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function round(kind) {
  const dir = tempDir('tracetail-bench-');
  mkdirSync(join(dir, 'logs'));
  let bytes = 0;
  const per = Math.ceil(LINES / FILES);
  for (let f = 0; f < FILES; f++) {
    const parts = [];
    for (let i = f * per; i < Math.min(LINES, (f + 1) * per); i++) parts.push(logLines[kind](i));
    const p = join(dir, 'logs', `${kind}-${f}.log`);
    writeFileSync(p, parts.join(''));
    bytes += statSync(p).size;
  }
  let seen = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const rx = await startReceiver(dir, (records) => {
    seen += records.length;
    if (seen >= LINES) done();
  });
  await finished;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await rx.stop();
  return { secs, bytes, cpuSecs: (cpu.user + cpu.system) / 1e6 };
}

for (const kind of ['json', 'text']) {
  let best;
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(kind);
    if (!best || res.secs < best.secs) best = res;
  }
  const lps = LINES / best.secs;
  console.log(
    `${kind.padEnd(5)} ${LINES} lines, ${(best.bytes / LINES).toFixed(0)} B/line: ${Math.round(lps).toLocaleString('en')} lines/s, ` +
      `${(best.bytes / 1048576 / best.secs).toFixed(1)} MiB/s, ${((best.cpuSecs / LINES) * 1e6).toFixed(2)} CPU-s per million lines` +
      (kind === 'json' ? ` (goal >= 300,000 lines/s: ${lps >= 300_000 ? 'met' : 'NOT met'})` : ''),
  );
}
