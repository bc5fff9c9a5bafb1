// A FileReceiver in-process for benchmarks: config from YAML text, a real Telemetry and Store in a
// temp dir, and a logs consumer that counts records (and notes when each arrived) and resolves at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/logger.js';
import { Telemetry } from '../../dist/metrics/telemetry.js';
import { FileReceiver } from '../../dist/receivers/files/file-receiver.js';
import { Store } from '../../dist/storage/store.js';

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Start a FileReceiver on `<dir>/logs/**\/*.log`; `onRecords(records)` sees every batch's records. */
export async function startReceiver(dir, onRecords, logs = {}) {
  const config = loadConfig({
    text: stringify({ logs: { include: [join(dir, 'logs/**/*.log')], ...logs }, storage: { directory: join(dir, 'state') }, receivers: { otlp: { http: null, grpc: null, unix: null } }, debug: { endpoint: null } }),
    env: {},
  });
  const store = Store.open(config.storage.directory, { maxQueueBytes: config.storage.max_queue_bytes });
  const ok = { consume: async () => {} };
  const ctx = {
    config,
    log: createLogger('warn'),
    telemetry: new Telemetry({ processMetrics: false }),
    store,
    consumers: {
      logs: {
        consume: async (batch) => {
          for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) onRecords(sl.logRecords);
        },
      },
      traces: ok,
      metrics: ok,
    },
  };
  const receiver = new FileReceiver(ctx);
  await receiver.start();
  return {
    receiver,
    async stop() {
      await receiver.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
