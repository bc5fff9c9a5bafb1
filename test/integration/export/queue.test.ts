/**
 * The durable queue around the export: backpressure when it is full or memory is short, a
 * graceful stop that loses nothing, replay in order after a restart, and readiness that reports
 * an export falling behind.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { MemoryLimitError, QueueFullError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { encodeRequest } from '../../../src/otlp/codec.js';
import { Runtime } from '../../../src/runtime.js';
import { Store } from '../../../src/storage/store.js';
import { tempDir, testConfig, deepMerge } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import {
  batchesOf,
  exportConfig,
  feed,
  logBatch,
  metric,
  seqOf,
  startSidecar,
  stoppedAfterEach,
  tally,
  traceBatch,
  type RunningSidecar,
} from '../../helpers/export-harness.js';
import { waitFor } from '../../helpers/wait.js';
import { stringify } from 'yaml';
import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

const started = stoppedAfterEach();

async function start(...args: Parameters<typeof exportConfig>): Promise<RunningSidecar> {
  const r = await startSidecar(exportConfig(...args));
  started.sidecars.push(r);
  return r;
}

describe('backpressure', () => {
  it('a full queue refuses whole batches with Retry-After, keeps nothing of them, and takes more once it drains', async () => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const r = await start(tempDir(), collector.url, { storage: { max_queue_bytes: 40_000 } });
    const logs = r.consumers.logs;
    let accepted = 0;
    let refusal: unknown;
    for (const batch of batchesOf(logBatch, 10_000, 100)) {
      try {
        await logs.consume({ ...batch, checkpoints: [{ key: `file-${accepted}`, data: { offset: accepted } }] });
        accepted += 100;
      } catch (err) {
        refusal = err;
        break;
      }
    }
    expect(refusal).toBeInstanceOf(QueueFullError);
    expect((refusal as QueueFullError).retryAfterMs).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    // Nothing of the refused batch was kept: neither its records nor its checkpoint.
    expect(r.sidecar.queueStats('logs').items).toBe(accepted);
    expect(await metric(r.telemetry, 'tracetail_export_queue_refusals_total', { signal: 'logs', reason: 'queue_full' })).toBe(1);
    expect(await metric(r.telemetry, 'tracetail_export_queue_bytes', { signal: 'logs' })).toBe(r.sidecar.queueStats('logs').bytes);

    // The caller keeps retrying (as the tailer and the receivers do); the backend comes back.
    const rest = feed(logs, batchesOf((first, count) => logBatch(accepted + first, count), 3000 - accepted, 100));
    await waitFor(async () => (await metric(r.telemetry, 'tracetail_export_queue_refusals_total', { signal: 'logs', reason: 'queue_full' })) > 3, {
      what: 'more refusals while the backend is down',
    });
    await collector.up();
    await rest;
    await collector.waitForItems('logs', 3000);
    expect(tally(collector.logRecords().map(seqOf), 3000)).toEqual({ missing: [], duplicates: 0, unexpected: [] });

    await r.sidecar.stop(Date.now() + 1000);
    const store = Store.open(join(r.config.storage.directory), { maxQueueBytes: 1 << 30 });
    expect(store.getCheckpoint(`file-${accepted - 100}`)).toEqual({ offset: accepted - 100 });
    expect(store.getCheckpoint(`file-${accepted}`)).toBeUndefined();
    store.close();
  });

  it('above limits.memory_mib the writers refuse with MemoryLimitError, counted', async () => {
    const r = await start(tempDir(), null, { limits: { memory_mib: 1 } });
    const err = await r.consumers.logs.consume(logBatch(0, 10)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemoryLimitError);
    expect((err as MemoryLimitError).retryAfterMs).toBeGreaterThan(0);
    expect(r.sidecar.queueStats('logs').entries).toBe(0);
    expect(await metric(r.telemetry, 'tracetail_export_queue_refusals_total', { signal: 'logs', reason: 'memory_limit' })).toBe(1);
    expect(await metric(r.telemetry, 'tracetail_export_queue_refusals_total', { signal: 'traces', reason: 'memory_limit' })).toBe(0);
  });
});

describe('compression while the queue backs up', () => {
  it.each(['http/protobuf', 'http/json'])('past storage.compress_above queued, entries are kept gzip-compressed, and all arrive once the backend is back (%s)', async (protocol) => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const r = await start(tempDir(), collector.url, { export: { otlp: { protocol } }, storage: { compress_above: '2MiB' } });
    let sent = 0;
    while (r.sidecar.queueStats('logs').bytes < 2 << 20) {
      await r.consumers.logs.consume(logBatch(sent, 2000));
      sent += 2000;
    }
    const asTheyAre = r.sidecar.queueStats('logs').bytes / sent;
    const before = r.sidecar.queueStats('logs').bytes;
    await feed(r.consumers.logs, batchesOf((first, count) => logBatch(sent + first, count), 40_000, 2000));
    sent += 40_000;
    const compressed = (r.sidecar.queueStats('logs').bytes - before) / 40_000;
    expect(compressed).toBeLessThan(asTheyAre / 3);
    await collector.up();
    await collector.waitForItems('logs', sent, 60_000);
    expect(tally(collector.logRecords().map(seqOf), sent)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    await waitFor(() => r.sidecar.queueStats('logs').entries === 0, { what: 'an empty queue' });
  });
});

describe('graceful stop', () => {
  it('sends what is queued before stopping, without waiting for batches to fill', async () => {
    const collector = (started.collector = await TestCollector.start());
    const r = await start(tempDir(), collector.url, { export: { batch: { timeout: '1h', max_items: 100_000 } } });
    await feed(r.consumers.logs, batchesOf(logBatch, 2000, 100));
    expect(collector.items('logs')).toBe(0); // the batch is still filling
    await r.sidecar.stop(Date.now() + 10_000);
    expect(tally(collector.logRecords().map(seqOf), 2000)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  });

  it('keeps in the queue what cannot be sent by the deadline, and sends it after the restart', async () => {
    const collector = (started.collector = await TestCollector.start());
    collector.fail({ kind: 'hang' });
    const dir = tempDir();
    const r = await start(dir, collector.url, { export: { otlp: { timeout: '1m' } } });
    await feed(r.consumers.logs, batchesOf(logBatch, 2000, 100));
    await waitFor(() => collector.requests.length > 0, { what: 'a hanging request' });
    await r.sidecar.stop(Date.now() + 1000); // returns although a request is still hanging
    const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
    expect(store.queueStats('logs').items).toBe(2000);
    store.close();

    collector.heal();
    const again = await start(dir, collector.url);
    await collector.waitForItems('logs', 2000);
    expect(tally(collector.logRecords().map(seqOf), 2000)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    await waitFor(() => again.sidecar.queueStats('logs').entries === 0, { what: 'empty queue' });
  });
});

describe('restart', () => {
  it('replays the queue in order after a restart', async () => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const dir = tempDir();
    const first = await start(dir, collector.url, { export: { concurrency: 1 } });
    await feed(first.consumers.logs, batchesOf(logBatch, 3000, 50));
    await first.sidecar.stop(Date.now() + 1000);
    await collector.up();
    await start(dir, collector.url, { export: { concurrency: 1 } });
    await collector.waitForItems('logs', 3000);
    const seqs = collector.logRecords().map(seqOf);
    expect(seqs).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('drops, counts and logs entries whose payload was lost from disk, and sends the rest', async () => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const dir = tempDir();
    const first = await start(dir, collector.url);
    await feed(first.consumers.logs, batchesOf(logBatch, 300, 100));
    await first.sidecar.stop(Date.now() + 1000);
    // The segment file of the queue's payloads is cut in the middle of the second entry.
    const segment = readdirSync(join(dir, 'state', 'queue')).find((f) => f.startsWith('logs-'))!;
    const path = join(dir, 'state', 'queue', segment);
    const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
    const [a, b] = store.peek('logs', 0, 1000, 1 << 30);
    store.close();
    truncateSync(path, a.bytes + Math.floor(b.bytes / 2));
    await collector.up();
    const again = await start(dir, collector.url);
    await waitFor(() => again.sidecar.queueStats('logs').entries === 0, { what: 'an empty queue' });
    expect(tally(collector.logRecords().map(seqOf), 100)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(await metric(again.telemetry, 'tracetail_export_items_total', { signal: 'logs', outcome: 'dropped' })).toBe(200);
    expect(await metric(again.telemetry, 'tracetail_export_items_total', { signal: 'logs', outcome: 'sent' })).toBe(100);
  });
});

describe('readiness', () => {
  it('/readyz answers 503 while the oldest queued item is older than export.readiness.max_queue_age', async () => {
    const collector = (started.collector = await TestCollector.start({ down: true }));
    const dir = tempDir();
    const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 });
    store.enqueue([{ signal: 'traces', payload: encodeRequest('traces', traceBatch(0, 5)), items: 5 }]);
    store.close();
    const text = stringify(
      deepMerge(testConfig(dir), {
        export: { otlp: { endpoint: collector.url }, readiness: { max_queue_age: '200ms' }, retry: { initial_interval: '20ms', max_interval: '100ms' } },
      }),
    );
    const runtime = new Runtime(loadConfig({ text, env: {} }), createLogger('silent'));
    await runtime.start();
    try {
      const url = `http://127.0.0.1:${runtime.adminAddress!.port}/readyz`;
      const notReady = await waitFor(
        async () => {
          const res = await fetch(url);
          return res.status === 503 ? res.text() : undefined;
        },
        { what: '/readyz 503' },
      );
      expect(notReady).toMatch(/export of traces is behind: oldest queued item is [\d.]+s old \(export.readiness.max_queue_age 200ms\)/);
      await collector.up();
      await waitFor(async () => (await fetch(url)).status === 200, { what: '/readyz 200 once drained' });
    } finally {
      await runtime.stop();
    }
  });
});
