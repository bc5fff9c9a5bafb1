// Log sampling benchmark (run by `npm run bench -- log-sampling`, on the built dist/): CPU per log
// record of the trace-aware sampler at ratio 0.1, everything a record costs in it: the decision
// at arrival, holding, the trace's decision when its root span comes, and regrouping the kept
// records for the queue. Each batch is 200 traces of 5 INFO records with trace context plus one
// WARN and one record without context per 10 traces, as the file receiver hands them on (one
// resource, one scope, a checkpoint); then the batch of their root spans (one error trace in 10,
// one slow one in 10). The next stage takes the batches and does nothing (the queue's cost is
// the queue benchmark's). 2,000,000 records after a warm-up; a full GC before each round of 20
// batches collects the benchmark's own garbage off the clock. Goal: under 1 µs per record.
import { id, ids, ns } from './lib/random-ids.mjs';
import { createLogger } from '../dist/logger.js';
import { Telemetry } from '../dist/metrics/telemetry.js';
import { keyValue } from '../dist/otlp/values.js';
import { LogSampler } from '../dist/processors/sampling/log-sampler.js';

const TRACES_PER_BATCH = 200;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 2_000_000);

const resource = { attributes: [keyValue('service.name', 'checkout'), keyValue('service.version', '2.3.1')] };
const file = { path: '/var/log/app/checkout.log', name: 'checkout.log' };
let offset = 0;

function traffic(now) {
  const records = [];
  const spans = [];
  for (let i = 0; i < TRACES_PER_BATCH; i++) {
    const traceId = id(16);
    const spanId = id(8);
    for (let j = 0; j < 5; j++) records.push({ timeUnixNano: ns(now), severityNumber: 9, severityText: 'info', body: { stringValue: `request step ${j} of order ${ids.made}` }, traceId, spanId, flags: 1, logFile: file });
    if (i % 10 === 0) {
      records.push({ timeUnixNano: ns(now), severityNumber: 13, severityText: 'warn', body: { stringValue: 'retrying payment' }, traceId, spanId, flags: 1, logFile: file });
      records.push({ timeUnixNano: ns(now), severityNumber: 9, severityText: 'info', body: { stringValue: 'cache refreshed' }, logFile: file });
    }
    const slow = i % 10 === 5;
    spans.push({ traceId, spanId, name: 'POST /orders', kind: 2, startTimeUnixNano: ns(now - (slow ? 2000 : 20)), endTimeUnixNano: ns(now), status: { code: i % 10 === 1 ? 2 : 0 } });
  }
  offset += records.length * 120;
  return {
    logs: { resourceLogs: [{ resource, scopeLogs: [{ logRecords: records }] }], checkpoints: [{ key: '1:2', data: { offset } }], transport: 'file' },
    traces: { resourceSpans: [{ resource, scopeSpans: [{ spans }] }], transport: 'http' },
    records: records.length,
  };
}

let written = 0;
const next = {
  async consume(batch) {
    for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) written += sl.logRecords.length;
  },
};
const checkpoints = { all: () => [], save: () => {}, delete: () => {} };
const sampler = new LogSampler(next, checkpoints, { ratio: 0.1, slowThresholdMs: 1000, decisionWaitMs: 10_000, maxHeldBytes: 64 * 1024 * 1024, telemetry: new Telemetry({ processMetrics: false }), log: createLogger('silent') });
await sampler.start();

async function run(rounds) {
  let records = 0;
  let cpuNs = 0;
  for (let r = 0; r < rounds; r++) {
    // Made before the clock starts: reading and parsing lines is the tailer's cost.
    const round = Array.from({ length: 20 }, () => traffic(Date.now()));
    // The previous round's batches are garbage now: collected here, off the clock.
    globalThis.gc();
    const t0 = process.cpuUsage();
    for (const t of round) {
      await sampler.consume(t.logs);
      sampler.traces.observe(t.traces);
      await sampler.flush();
      records += t.records;
    }
    const d = process.cpuUsage(t0);
    cpuNs += (d.user + d.system) * 1000;
  }
  return { records, cpuNs };
}

await run(20);
written = 0;
const perRound = 20 * (TRACES_PER_BATCH * 5 + TRACES_PER_BATCH / 5);
const { records, cpuNs } = await run(Math.ceil(RECORDS / perRound));
const held = sampler.held;
await sampler.stop();
console.log(
  `log sampling: ${(cpuNs / records).toFixed(0)} ns CPU/record (${records} records, ${((written / records) * 100).toFixed(1)}% kept, ${held.records} held at the end; goal under 1000 ns: ${cpuNs / records < 1000 ? 'met' : 'NOT met'})`,
);
