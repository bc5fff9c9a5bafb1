import { describe, expect, it } from 'vitest';
import { MemoryLimitError } from '../../../src/errors.js';
import { MemoryGuard } from '../../../src/exporters/memory-guard.js';
import { captureLogger } from '../../helpers/export-harness.js';
import { waitFor } from '../../helpers/wait.js';

describe('MemoryGuard', () => {
  it('refuses while the sampled RSS is above the limit, and admits again once it is below', async () => {
    let rss = 100 * 1048576;
    const { log, lines } = captureLogger();
    const guard = new MemoryGuard({ limitBytes: 200 * 1048576, sampleIntervalMs: 5, retryAfterMs: 1500, rss: () => rss, log });
    expect(() => guard.admit()).not.toThrow();
    rss = 300 * 1048576;
    await waitFor(() => guard.overLimit, { what: 'a sample over the limit' });
    try {
      const err = refusal(() => guard.admit());
      expect(err).toBeInstanceOf(MemoryLimitError);
      expect((err as MemoryLimitError).retryAfterMs).toBe(1500);
      expect((err as Error).message).toBe('memory limit reached (resident 300 MiB > limits.memory_mib 200 MiB)');
      rss = 150 * 1048576;
      await waitFor(() => !guard.overLimit, { what: 'a new sample' });
      expect(() => guard.admit()).not.toThrow();
      // One line per crossing, not per refusal.
      expect(lines.map((l) => [l.level, l.rss_mib])).toEqual([
        ['warn', 300],
        ['info', 150],
      ]);
    } finally {
      guard.close();
    }
  });

  it('reads the cached sample, not the process, on admission', () => {
    let reads = 0;
    const guard = new MemoryGuard({ limitBytes: 1 << 30, sampleIntervalMs: 60_000, rss: () => ++reads });
    for (let i = 0; i < 1000; i++) guard.admit();
    guard.close();
    expect(reads).toBe(1);
  });
});

function refusal(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
