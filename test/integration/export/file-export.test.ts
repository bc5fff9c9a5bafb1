import Long from 'long';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FileTransport } from '../../../src/exporters/file-transport.js';
import { QueueSender } from '../../../src/exporters/queue-sender.js';
import { QueueWriter } from '../../../src/exporters/queue-writer.js';
import { StoppedError } from '../../../src/errors.js';
import { Telemetry } from '../../../src/metrics/telemetry.js';
import type { LogBatch } from '../../../src/pipeline/batches.js';
import { keyValue } from '../../../src/otlp/values.js';
import { Store } from '../../../src/storage/store.js';
import { tempDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';

function logBatch(first: number, count: number): LogBatch {
  return {
    transport: 'file',
    resourceLogs: [
      {
        resource: { attributes: [keyValue('service.name', 'svc')] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: count }, (_, i) => ({
              timeUnixNano: Long.fromString('1700000000123456789', true),
              body: { stringValue: `line ${first + i}` },
              attributes: [keyValue('seq', first + i)],
            })),
          },
        ],
      },
    ],
    checkpoints: [{ key: 'app.log', data: { offset: first + count } }],
  };
}

function exportedBodies(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('logs')).sort()) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
      const req = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string }; timeUnixNano: string }[] }[] }[] };
      for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
        expect(r.timeUnixNano).toBe('1700000000123456789');
        out.push(r.body.stringValue);
      }
    }
  }
  return out;
}

describe('queue → file exporter', () => {
  it('writes every record once as OTLP JSON lines, rotates by size, and empties the queue', async () => {
    const dir = tempDir();
    const store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 26 });
    const transport = new FileTransport(join(dir, 'export'), 4096);
    const sender = new QueueSender({
      signal: 'logs',
      store,
      transport,
      telemetry: new Telemetry({ processMetrics: false }),
      log: pino({ level: 'silent' }),
      batch: { maxItems: 50, maxBytes: 1 << 20, timeoutMs: 20 },
      retry: { initialMs: 10, maxMs: 100 },
    });
    const writer = new QueueWriter('logs', store, { onEnqueued: () => sender.wake() });
    await sender.start();
    for (let i = 0; i < 1000; i += 10) await writer.consume(logBatch(i, 10));
    expect(store.getCheckpoint('app.log')).toEqual({ offset: 1000 });

    await waitFor(() => store.queueStats('logs').entries === 0, { what: 'the queue to drain' });
    writer.close();
    await expect(writer.consume(logBatch(0, 1))).rejects.toBeInstanceOf(StoppedError);
    await sender.stop();
    await transport.close();

    const bodies = exportedBodies(join(dir, 'export'));
    expect(bodies).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    expect(readdirSync(join(dir, 'export')).length).toBeGreaterThan(1);
    store.close();
  });

  it('sends what was queued before a restart, in order', async () => {
    const dir = tempDir();
    let store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 26 });
    const writer = new QueueWriter('logs', store);
    for (let i = 0; i < 30; i += 10) await writer.consume(logBatch(i, 10));
    store.close();

    store = Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 26 });
    const transport = new FileTransport(join(dir, 'export'), 1 << 20);
    const sender = new QueueSender({
      signal: 'logs',
      store,
      transport,
      telemetry: new Telemetry({ processMetrics: false }),
      log: pino({ level: 'silent' }),
      batch: { maxItems: 15, maxBytes: 1 << 20, timeoutMs: 10 },
      retry: { initialMs: 10, maxMs: 100 },
    });
    await sender.start();
    await waitFor(() => store.queueStats('logs').entries === 0, { what: 'the replayed queue to drain' });
    await sender.stop();
    await transport.close();
    expect(exportedBodies(join(dir, 'export'))).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
    store.close();
  });
});
