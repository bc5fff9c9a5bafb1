/**
 * Driving the export path in-process: numbered log records and spans (so a test can tell exactly
 * which arrived, and how often), a Sidecar built from a config that exports to a test collector,
 * a logger whose lines the test can read, and metric values read from the registry.
 */
import Long from 'long';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import type { Consumer } from '../../src/component.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { isBackpressure } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { Telemetry } from '../../src/metrics/telemetry.js';
import type { LogRecord, Span } from '../../src/otlp/types.js';
import { findAttribute, keyValue } from '../../src/otlp/values.js';
import type { LogBatch, TraceBatch } from '../../src/pipeline/batches.js';
import { Sidecar } from '../../src/sidecar.js';
import { deepMerge, testConfig } from './cli.js';
import type { TestCollector } from './collector.js';

const RESOURCE = { attributes: [keyValue('service.name', 'export-test')] };

/** Log records `first` .. `first + count - 1`; each carries its number in the `seq` attribute. */
export function logBatch(first: number, count: number): LogBatch {
  const logRecords: LogRecord[] = [];
  for (let i = first; i < first + count; i++) {
    logRecords.push({
      timeUnixNano: Long.fromNumber(1_700_000_000_000_000_000 + i, true),
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: `log line ${i}` },
      attributes: [keyValue('seq', i)],
    });
  }
  return { resourceLogs: [{ resource: RESOURCE, scopeLogs: [{ scope: { name: 'test' }, logRecords }] }], transport: 'test' };
}

/** Spans `first` .. `first + count - 1`; each carries its number in the `seq` attribute. */
export function traceBatch(first: number, count: number): TraceBatch {
  const spans: Span[] = [];
  for (let i = first; i < first + count; i++) {
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(i + 1, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    spans.push({
      traceId,
      spanId,
      name: `span ${i}`,
      kind: 2,
      startTimeUnixNano: Long.fromNumber(1_700_000_000_000_000_000, true),
      endTimeUnixNano: Long.fromNumber(1_700_000_000_001_000_000, true),
      attributes: [keyValue('seq', i)],
    });
  }
  return { resourceSpans: [{ resource: RESOURCE, scopeSpans: [{ scope: { name: 'test' }, spans }] }], transport: 'test' };
}

export function seqOf(item: { attributes?: { key: string }[] | null }): number {
  const v = findAttribute(item.attributes as never, 'seq');
  return Number(v?.intValue?.toString() ?? NaN);
}

/** How often each number in 0..total-1 occurs in `seqs`: missing ones, duplicated ones. */
export function tally(seqs: number[], total: number): { missing: number[]; duplicates: number; unexpected: number[] } {
  const seen = new Uint32Array(total);
  const unexpected: number[] = [];
  for (const s of seqs) {
    if (Number.isInteger(s) && s >= 0 && s < total) seen[s]++;
    else unexpected.push(s);
  }
  const missing: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < total; i++) {
    if (seen[i] === 0) missing.push(i);
    else duplicates += seen[i] - 1;
  }
  return { missing, duplicates, unexpected };
}

export interface CapturedLog {
  log: Logger;
  lines: Record<string, unknown>[];
}

export function captureLogger(level = 'info'): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level, formatters: { level: (label) => ({ level: label }) } }, stream), lines };
}

/** The current value of a counter or gauge series (0 when the series does not exist); gauges are collected first. */
export async function metric(telemetry: Telemetry, name: string, labels: Record<string, string> = {}): Promise<number> {
  await telemetry.collect();
  const m = telemetry.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return hit?.value ?? 0;
}

/** `_count` of a histogram series. */
export async function histogramCount(telemetry: Telemetry, name: string, labels: Record<string, string>): Promise<number> {
  const m = telemetry.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  const hit = values.find(
    (v) => (v as { metricName?: string }).metricName === `${name}_count` && Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
  );
  return hit?.value ?? 0;
}

/** A Config for an in-process sidecar in `dir` that exports to `endpoint` (or to files when null). */
export function exportConfig(dir: string, endpoint: string | null, extra: Record<string, unknown> = {}): Config {
  const fast = {
    export: {
      otlp: { endpoint, timeout: '2s' },
      batch: { timeout: '20ms', max_items: 500 },
      retry: { initial_interval: '20ms', max_interval: '200ms' },
      breaker: { failure_threshold: 5, probe_interval: '100ms' },
    },
    limits: { memory_mib: 4096 },
  };
  return loadConfig({ text: stringify(deepMerge(testConfig(dir, fast), extra)), env: {} });
}

export interface RunningSidecar {
  sidecar: Sidecar;
  telemetry: Telemetry;
  logs: CapturedLog;
  config: Config;
  consumers: NonNullable<Sidecar['consumers']>;
}

/**
 * What the tests of a file start, stopped after each test: push sidecars to `sidecars`, set the
 * collector in `collector`.
 */
export function stoppedAfterEach(): { sidecars: RunningSidecar[]; collector: TestCollector | undefined } {
  const started = { sidecars: [] as RunningSidecar[], collector: undefined as TestCollector | undefined };
  afterEach(async () => {
    for (const r of started.sidecars.splice(0)) await r.sidecar.stop(Date.now() + 2000);
    await started.collector?.close();
    started.collector = undefined;
  });
  return started;
}

export async function startSidecar(config: Config, telemetry = new Telemetry({ processMetrics: false })): Promise<RunningSidecar> {
  const logs = captureLogger();
  const sidecar = new Sidecar(config, { log: logs.log, telemetry });
  await sidecar.start();
  return { sidecar, telemetry, logs, config, consumers: sidecar.consumers! };
}

/** Hand batches to a consumer as a receiver would: on backpressure wait `retryAfterMs` (capped) and try again. */
export async function feed<B>(consumer: Consumer<B>, batches: Iterable<B>, maxWaitMs = 50): Promise<{ refusals: number }> {
  let refusals = 0;
  for (const batch of batches) {
    for (;;) {
      try {
        await consumer.consume(batch);
        break;
      } catch (err) {
        if (!isBackpressure(err)) throw err;
        refusals++;
        await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs, maxWaitMs)));
      }
    }
  }
  return { refusals };
}

/** `count` items in batches of `size`, numbered from 0. */
export function* batchesOf<B>(make: (first: number, count: number) => B, count: number, size: number): Generator<B> {
  for (let i = 0; i < count; i += size) yield make(i, Math.min(size, count - i));
}

export { deepMerge };
