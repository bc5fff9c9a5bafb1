/**
 * The built CLI and its on-disk queue across stops and crashes. Receivers are disabled: the queue
 * is filled beforehand, as a previous run during an outage would have left it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/otlp/codec.js';
import { Store } from '../../src/storage/store.js';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { logBatch, seqOf, tally, traceBatch } from '../helpers/export-harness.js';
import { waitFor } from '../helpers/wait.js';

let collector: TestCollector | undefined;
const procs: CliProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop();
  await collector?.close();
  collector = undefined;
});

const LOGS = 5000;
const SPANS = 2000;

function prefill(dir: string): void {
  const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
  for (let i = 0; i < LOGS; i += 250) store.enqueue([{ signal: 'logs', payload: encodeRequest('logs', logBatch(i, 250)), items: 250 }]);
  for (let i = 0; i < SPANS; i += 250) store.enqueue([{ signal: 'traces', payload: encodeRequest('traces', traceBatch(i, 250)), items: 250 }]);
  store.close();
}

function queued(dir: string): { logs: number; traces: number } {
  const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
  try {
    return { logs: store.queueStats('logs').items, traces: store.queueStats('traces').items };
  } finally {
    store.close();
  }
}

function config(dir: string, extra: Record<string, unknown> = {}) {
  return testConfig(dir, {
    export: { batch: { max_items: 500 }, retry: { initial_interval: '50ms', max_interval: '500ms' }, breaker: { probe_interval: '200ms' }, ...extra },
    shutdown_timeout: '3s',
  });
}

async function start(dir: string, cfg: Record<string, unknown>, env: Record<string, string> = {}): Promise<CliProcess> {
  const p = await startCli({ dir, config: cfg, env });
  procs.push(p);
  return p;
}

describe('the queue across stops and crashes (built CLI)', () => {
  it('SIGTERM while the backend hangs: exits 0 by the deadline, keeps everything queued, sends it after a restart', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'hang' });
    const dir = tempDir();
    prefill(dir);
    const cfg = config(dir, { otlp: { timeout: '1m' } });
    const first = await start(dir, cfg, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    await waitFor(() => collector!.requests.length >= 2, { what: 'requests hanging at the collector' });
    expect(await first.stop()).toBe(0);
    expect(queued(dir)).toEqual({ logs: LOGS, traces: SPANS });

    collector.heal();
    await start(dir, cfg, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    await collector.waitForItems('logs', LOGS);
    await collector.waitForItems('traces', SPANS);
    expect(tally(collector.logRecords().map(seqOf), LOGS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(tally(collector.spans().map(seqOf), SPANS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  });

  it('SIGKILL in the middle of an export: after the restart every record arrives, duplicates bounded by what was in flight', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'slow', perSecond: 4 });
    const dir = tempDir();
    prefill(dir);
    const cfg = config(dir, { otlp: { endpoint: collector.url } });
    const first = await start(dir, cfg);
    await waitFor(() => collector!.accepted('logs').length >= 2, { what: 'some log requests delivered' });
    first.kill('SIGKILL');
    await first.exited;
    const left = queued(dir);
    expect(left.logs).toBeGreaterThan(0);
    expect(left.logs).toBeLessThan(LOGS);

    collector.heal();
    await start(dir, cfg);
    await waitFor(() => tally(collector!.logRecords().map(seqOf), LOGS).missing.length === 0, { what: 'every log record', timeoutMs: 30_000 });
    await waitFor(() => tally(collector!.spans().map(seqOf), SPANS).missing.length === 0, { what: 'every span', timeoutMs: 30_000 });
    const logs = tally(collector.logRecords().map(seqOf), LOGS);
    const spans = tally(collector.spans().map(seqOf), SPANS);
    console.log(`after SIGKILL: ${logs.duplicates} duplicate log records, ${spans.duplicates} duplicate spans (in flight at most one batch of 500 per signal)`);
    expect(logs.duplicates).toBeLessThanOrEqual(500);
    expect(spans.duplicates).toBeLessThanOrEqual(500);
    expect(logs.unexpected).toEqual([]);
  });
});
