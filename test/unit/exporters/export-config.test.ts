import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { batchOptions, retryOptions } from '../../../src/exporters/index.js';

describe('export configuration', () => {
  it('has Collector-like batching and retry defaults, the same for every signal', () => {
    const c = loadConfig({ text: '', env: {} });
    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      expect(batchOptions(c, signal)).toEqual({ maxItems: 8192, maxBytes: 4 * 1024 * 1024, timeoutMs: 200 });
    }
    expect(retryOptions(c)).toEqual({ initialMs: 1000, maxMs: 30_000, multiplier: 1.5, jitter: 0.5, failureThreshold: 5, probeIntervalMs: 15_000 });
    expect(c.export.concurrency).toBe(1);
    expect(c.export.readiness.max_queue_age).toBe(300_000);
  });

  it('lets one signal override part of the batching', () => {
    const c = loadConfig({ text: 'export:\n  batch:\n    max_items: 1000\n    logs: { max_bytes: 1MiB, timeout: 1s }\n', env: {} });
    expect(batchOptions(c, 'logs')).toEqual({ maxItems: 1000, maxBytes: 1048576, timeoutMs: 1000 });
    expect(batchOptions(c, 'traces')).toEqual({ maxItems: 1000, maxBytes: 4194304, timeoutMs: 200 });
  });

  it('refuses what cannot work, naming the key', () => {
    const problems = (text: string) => {
      try {
        loadConfig({ text, env: {} });
        return [];
      } catch (err) {
        return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(problems('export: { retry: { initial_interval: 1m, max_interval: 10s } }')).toEqual([
      'export.retry.initial_interval: must not be longer than export.retry.max_interval',
    ]);
    expect(problems('export: { batch: { logs: { max_itmes: 5 } } }')).toEqual(['export.batch.logs.max_itmes: unknown key; did you mean "max_items"?']);
    expect(problems('export: { concurrency: 0 }')).toHaveLength(1);
    expect(problems('export: { readiness: { max_queue_age: null } }')).toEqual([]);
  });
});
