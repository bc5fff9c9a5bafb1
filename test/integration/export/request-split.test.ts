/**
 * An app's OTLP request larger than an export request may be (`export.batch.max_items` /
 * `max_bytes`) is queued in parts and goes out as export requests within the limits, through the
 * real sidecar: OTLP/HTTP on a Unix socket, the queue, the sender, a collector that decodes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../src/otlp/codec.js';
import { keyValue } from '../../../src/otlp/values.js';
import { tempDir } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import { exportConfig, logBatch, seqOf, startSidecar, stoppedAfterEach, tally, traceBatch } from '../../helpers/export-harness.js';
import { request } from '../otlp/harness.js';

const started = stoppedAfterEach();

const LOGS_MAX_BYTES = 4096;

describe('an OTLP request larger than an export request', () => {
  it('is exported in requests within max_items (spans) and max_bytes (log records), every item once', async () => {
    const collector = (started.collector = await TestCollector.start());
    const dir = tempDir();
    const socket = join(dir, 'run', 'otlp.sock');
    const config = exportConfig(dir, collector.url, {
      receivers: { otlp: { unix: { path: socket } } },
      export: { batch: { traces: { max_items: 4 }, logs: { max_bytes: LOGS_MAX_BYTES } } },
    });
    const running = await startSidecar(config);
    started.sidecars.push(running);

    const spans = encodeRequest('traces', { resourceSpans: traceBatch(0, 10).resourceSpans });
    const r1 = await request(socket, { path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, body: spans });
    expect(r1.status).toBe(200);

    // 30 records of about 500 bytes: some 15 KB in one request.
    const logs = logBatch(0, 30);
    for (const r of logs.resourceLogs[0].scopeLogs[0].logRecords) r.attributes!.push(keyValue('detail', 'd'.repeat(480)));
    const r2 = await request(socket, { path: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, body: encodeRequest('logs', { resourceLogs: logs.resourceLogs }) });
    expect(r2.status).toBe(200);

    await collector.waitForItems('traces', 10);
    await collector.waitForItems('logs', 30);
    expect(tally(collector.spans().map(seqOf), 10)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(tally(collector.logRecords().map(seqOf), 30)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    const traceRequests = collector.accepted('traces');
    expect(traceRequests.length).toBeGreaterThanOrEqual(3);
    for (const r of traceRequests) expect(r.items).toBeLessThanOrEqual(4);
    const logRequests = collector.accepted('logs');
    expect(logRequests.length).toBeGreaterThanOrEqual(4);
    for (const r of logRequests) expect(encodeRequest('logs', r.body as never).byteLength).toBeLessThanOrEqual(LOGS_MAX_BYTES);
  });
});
