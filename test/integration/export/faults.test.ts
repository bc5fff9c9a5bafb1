/**
 * The export path against a misbehaving backend: records go in through the sidecar's pipelines
 * (as receivers would hand them over), out through the durable queue, the sender and the OTLP/HTTP
 * transport, to a test collector that decodes them. Every case accounts for every record: it
 * arrived exactly once, or it was counted as rejected or dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCollector, type RecordedRequest } from '../../helpers/collector.js';
import { tempDir } from '../../helpers/cli.js';
import {
  batchesOf,
  exportConfig,
  feed,
  histogramCount,
  logBatch,
  metric,
  seqOf,
  startSidecar,
  tally,
  traceBatch,
  type RunningSidecar,
} from '../../helpers/export-harness.js';
import { waitFor } from '../../helpers/wait.js';

const LOGS = 3000;
const SPANS = 2000;

let collector: TestCollector | undefined;
let running: RunningSidecar | undefined;

afterEach(async () => {
  await running?.sidecar.stop(Date.now() + 2000);
  await collector?.close();
  running = undefined;
  collector = undefined;
});

async function sendAll(r: RunningSidecar): Promise<void> {
  await Promise.all([feed(r.consumers.logs, batchesOf(logBatch, LOGS, 100)), feed(r.consumers.traces, batchesOf(traceBatch, SPANS, 100))]);
}

async function outcomes(r: RunningSidecar, signal: string) {
  const out: Record<string, number> = {};
  for (const outcome of ['sent', 'retried', 'rejected', 'dropped']) out[outcome] = await metric(r.telemetry, 'tracetail_export_items_total', { signal, outcome });
  return out;
}

/** Every record arrived exactly once; the counters say so too. */
async function expectExactDelivery(r: RunningSidecar, c: TestCollector): Promise<void> {
  await c.waitForItems('logs', LOGS);
  await c.waitForItems('traces', SPANS);
  await waitFor(async () => (await outcomes(r, 'logs')).sent === LOGS && (await outcomes(r, 'traces')).sent === SPANS, { what: 'sent counters' });
  expect(tally(c.logRecords().map(seqOf), LOGS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  expect(tally(c.spans().map(seqOf), SPANS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  expect(await outcomes(r, 'logs')).toMatchObject({ sent: LOGS, rejected: 0, dropped: 0 });
  expect(await outcomes(r, 'traces')).toMatchObject({ sent: SPANS, rejected: 0, dropped: 0 });
  await waitFor(() => r.sidecar.queueStats('logs').entries === 0 && r.sidecar.queueStats('traces').entries === 0, { what: 'empty queue' });
}

describe('export against a healthy collector', () => {
  it('delivers every log record and span exactly once, protobuf + gzip', async () => {
    collector = await TestCollector.start();
    running = await startSidecar(exportConfig(tempDir(), collector.url));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    const req = collector.accepted('logs')[0];
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(req.headers['user-agent']).toMatch(/^tracetail\/\d+\.\d+\.\d+/);
    expect(await histogramCount(running.telemetry, 'tracetail_export_request_duration_seconds', { signal: 'logs', result: 'success' })).toBeGreaterThan(0);
  });
});

for (const concurrency of [1, 3]) describe(`export through faults, ${concurrency} request(s) in flight`, () => {
  const lanes = { export: { concurrency } };
  it('collector down for the whole run, then up: everything queued arrives; the breaker opens, probes, closes', async () => {
    collector = await TestCollector.start({ down: true });
    running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
    await sendAll(running);
    await waitFor(async () => (await metric(running!.telemetry, 'tracetail_export_breaker_state', { signal: 'logs' })) === 1, { what: 'breaker open' });
    expect(running.sidecar.queueStats('logs').items).toBe(LOGS);
    expect(running.sidecar.queueStats('traces').items).toBe(SPANS);
    expect((await outcomes(running, 'logs')).retried).toBeGreaterThan(0);
    expect(await metric(running.telemetry, 'tracetail_export_retries_total', { signal: 'logs' })).toBeGreaterThanOrEqual(5);

    await collector.up();
    await expectExactDelivery(running, collector);
    await waitFor(async () => (await metric(running!.telemetry, 'tracetail_export_breaker_state', { signal: 'logs' })) === 0, { what: 'breaker closed' });
    const opened = running.logs.lines.filter((l) => l.signal === 'logs' && String(l.msg).includes('circuit breaker open'));
    const closed = running.logs.lines.filter((l) => l.signal === 'logs' && String(l.msg).includes('circuit breaker closed'));
    expect(opened).toHaveLength(1);
    expect(closed).toHaveLength(1);
  });

  it.runIf(concurrency === 1)('503 with Retry-After: waits as told, then delivers everything exactly once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'status', status: 503, retryAfter: '1' }, { times: 2, signal: 'logs' });
    running = await startSidecar(exportConfig(tempDir(), collector.url, { export: { concurrency: 1 } }));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    const logs = collector.requests.filter((r) => r.signal === 'logs');
    const refused = logs.filter((r) => r.outcome === 503);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      const next = logs[logs.indexOf(r) + 1];
      // Retry-After is a lower bound: the next attempt may come later, never sooner.
      expect(next.receivedAt - r.receivedAt).toBeGreaterThanOrEqual(950);
    }
    expect((await outcomes(running, 'logs')).retried).toBeGreaterThan(0);
  });

  it('429 without Retry-After: backs off and delivers everything exactly once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'status', status: 429 }, { times: 4 });
    running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    expect(collector.requests.filter((r) => r.outcome === 429)).toHaveLength(4);
    const retried = (await outcomes(running, 'logs')).retried + (await outcomes(running, 'traces')).retried;
    expect(retried).toBeGreaterThan(0);
  });

  for (const status of [500, 400]) {
    it(`${status} is permanent: those items are dropped and counted, never retried; everything else arrives once`, async () => {
      collector = await TestCollector.start();
      collector.fail({ kind: 'status', status, message: `backend says no (${status})` }, { times: 2, signal: 'logs' });
      running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
      await sendAll(running);
      const refusedRequests = () => collector!.requests.filter((r) => r.signal === 'logs' && r.outcome === status);
      await waitFor(async () => (await outcomes(running!, 'logs')).sent + (await outcomes(running!, 'logs')).dropped === LOGS, { what: 'every log record accounted for' });
      await collector.waitForItems('traces', SPANS);

      const refused = refusedRequests();
      expect(refused).toHaveLength(2);
      const droppedSeqs = refused.flatMap(seqsOfLogs);
      const arrived = collector.logRecords().map(seqOf);
      // Each record either arrived once or was in a refused request, never both, never twice.
      expect(tally([...arrived, ...droppedSeqs], LOGS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
      expect(await outcomes(running, 'logs')).toMatchObject({ sent: arrived.length, dropped: droppedSeqs.length, retried: 0, rejected: 0 });
      expect(tally(collector.spans().map(seqOf), SPANS).missing).toEqual([]);

      // Logged once per interval, with the backend's own message.
      const errors = running.logs.lines.filter((l) => l.msg === 'export refused permanently; items dropped' && l.signal === 'logs');
      expect(errors).toHaveLength(1);
      expect(errors[0].reason).toBe(`HTTP ${status}: backend says no (${status})`);
      await waitFor(() => running!.sidecar.queueStats('logs').entries === 0, { what: 'empty queue' });
    });
  }

  it('413: a batch refused as too large is split and sent again; later batches are smaller; nothing is lost', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'status', status: 413, message: 'request too large' }, { times: 2, signal: 'logs' });
    running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    const refused = collector.requests.filter((r) => r.outcome === 413);
    expect(refused).toHaveLength(2);
    const after = collector.accepted('logs').filter((r) => r.receivedAt > refused[0].receivedAt);
    // The halves of the refused batch went; with one request in flight, nothing bigger came after.
    expect(after.some((r) => r.items < refused[0].items)).toBe(true);
    if (concurrency === 1) expect(Math.max(...after.map((r) => r.items))).toBeLessThan(refused[0].items);
    expect(running.logs.lines.some((l) => l.msg === 'backend refused an export as too large; sending it in smaller batches')).toBe(true);
  });

  it('partial success: rejected items are counted, not retried; the rest is sent once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'partial', rejected: 7, message: 'seven spans were bad' }, { times: 3, signal: 'traces' });
    running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
    await sendAll(running);
    await collector.waitForItems('traces', SPANS);
    await collector.waitForItems('logs', LOGS);
    await waitFor(async () => (await outcomes(running!, 'traces')).sent === SPANS - 21, { what: 'sent spans' });
    expect(tally(collector.spans().map(seqOf), SPANS)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(collector.rejected('traces')).toBe(21);
    expect(await outcomes(running, 'traces')).toEqual({ sent: SPANS - 21, rejected: 21, retried: 0, dropped: 0 });
    const warning = running.logs.lines.find((l) => l.msg === 'backend rejected part of an export');
    expect(warning?.message).toBe('seven spans were bad');
  });

  it('a backend that hangs past the timeout: the attempt is abandoned and retried; everything arrives once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'hang' }, { times: 3 });
    running = await startSidecar(exportConfig(tempDir(), collector.url, { export: { concurrency, otlp: { timeout: '300ms' } } }));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    expect(collector.requests.filter((r) => r.outcome === 'hang')).toHaveLength(3);
    const retryLog = running.logs.lines.find((l) => l.msg === 'export failed; will retry');
    expect(retryLog?.reason).toBe('no response within 300 ms');
  });

  it('connections reset by the backend: retried; everything arrives once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'reset' }, { times: 5 });
    running = await startSidecar(exportConfig(tempDir(), collector.url, lanes));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    expect(collector.requests.filter((r) => r.outcome === 'reset')).toHaveLength(5);
  });

  it('a slow backend (1 request/s): batches grow, everything arrives once', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'slow', perSecond: 1 });
    running = await startSidecar(exportConfig(tempDir(), collector.url, { export: { concurrency, otlp: { timeout: '30s' } } }));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    // Far fewer requests than the 50 batches written: the queue batches on the read side.
    expect(collector.accepted('logs').length).toBeLessThan(30);
  });

  it('http/json without compression: the same records, re-encoded as OTLP JSON', async () => {
    collector = await TestCollector.start();
    running = await startSidecar(exportConfig(tempDir(), collector.url, { export: { concurrency, otlp: { protocol: 'http/json', compression: 'none' } } }));
    await sendAll(running);
    await expectExactDelivery(running, collector);
    const req = collector.accepted('traces')[0];
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(req.format).toBe('json');
  });
});

function seqsOfLogs(r: RecordedRequest): number[] {
  return ((r.body as { resourceLogs: { scopeLogs: { logRecords: { attributes?: { key: string }[] }[] }[] }[] }).resourceLogs ?? []).flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) => sl.logRecords.map(seqOf)),
  );
}
