import { describe, expect, it } from 'vitest';
import { MemoryLimitError, PayloadTooLargeError } from '../../../src/errors.js';
import { MemoryGuard, REQUEST_COST_FACTOR } from '../../../src/exporters/memory-guard.js';
import { captureLogger } from '../../helpers/export-harness.js';
import { waitFor } from '../../helpers/wait.js';

const MiB = 1048576;

/** A process whose RSS and live memory the test sets; collect() does what the test says. */
function fakeProcess(rssMib: number, liveMib: number) {
  const p = { rss: rssMib * MiB, live: liveMib * MiB, collections: 0, onCollect: () => {} };
  return {
    p,
    options: {
      rss: () => p.rss,
      live: () => p.live,
      collect: () => {
        p.collections++;
        p.onCollect();
      },
    },
  };
}

describe('MemoryGuard', () => {
  it('takes a request only while its cost fits beside the ones in flight, and its own growth does not count it twice', async () => {
    // RSS 100 MiB, limit 128 (alone 140.8, hard 153.6): 28 MiB of room under the limit.
    const { options } = fakeProcess(100, 20);
    let samples = 0;
    const rss = options.rss;
    const guard = new MemoryGuard({ limitBytes: 128 * MiB, sampleIntervalMs: 5, ...options, rss: () => (samples++, rss()) });
    try {
      const bytes = (16 * MiB) / REQUEST_COST_FACTOR; // costs 16 MiB
      const first = guard.reserve(bytes);
      // 100 + 16 + 16 > 128 with another in flight: refused.
      expect(refusal(() => guard.reserve(bytes))).toBeInstanceOf(MemoryLimitError);
      // Its own growth past the limit is taken while it is alone (under the limit + 10%).
      expect(() => first.grow((24 * MiB) / REQUEST_COST_FACTOR)).not.toThrow();
      first.release();
      // Released, its 40 MiB still count until the next sample (its garbage is not in it yet):
      // 100 + 40 + 16 is past the limit + 10%.
      expect(refusal(() => guard.reserve(bytes))).toBeInstanceOf(MemoryLimitError);
      const before = samples;
      await waitFor(() => samples > before + 1, { what: 'a new sample' });
      const again = guard.reserve(bytes);
      again.release();
      // A body of unknown length reserves nothing before it is read, then all of it, alone.
      const after = samples;
      await waitFor(() => samples > after + 1, { what: 'a new sample' });
      const unknown = guard.reserve(0);
      expect(() => unknown.grow((40 * MiB) / REQUEST_COST_FACTOR)).not.toThrow();
      unknown.release();
    } finally {
      guard.close();
    }
  });

  it('refuses as too large a request that could not be decoded within the limit + 10% even alone', () => {
    // Footprint 80 MiB; 140.8 - 80 leaves 60.8 MiB.
    const { options } = fakeProcess(100, 20);
    const guard = new MemoryGuard({ limitBytes: 128 * MiB, sampleIntervalMs: 5, ...options });
    try {
      expect(refusal(() => guard.reserve((80 * MiB) / REQUEST_COST_FACTOR))).toBeInstanceOf(PayloadTooLargeError);
    } finally {
      guard.close();
    }
  });

  it('refuses while RSS is above the limit + 20%, whatever the live memory, and admits again once it is back', async () => {
    // Footprint (RSS - live at start): 80 MiB.
    const { p, options } = fakeProcess(100, 20);
    const { log, lines } = captureLogger();
    const guard = new MemoryGuard({ limitBytes: 200 * MiB, sampleIntervalMs: 5, retryAfterMs: 1500, log, ...options });
    expect(() => guard.admit()).not.toThrow();
    p.rss = 300 * MiB;
    await waitFor(() => guard.overLimit, { what: 'a sample over the limit' });
    try {
      const err = refusal(() => guard.admit());
      expect(err).toBeInstanceOf(MemoryLimitError);
      expect((err as MemoryLimitError).retryAfterMs).toBe(1500);
      expect((err as Error).message).toBe('memory limit reached (resident 300 MiB > limits.memory_mib 200 MiB + 20%)');
      expect(p.collections).toBe(1); // collected before refusing
      p.rss = 150 * MiB;
      await waitFor(() => !guard.overLimit, { what: 'a new sample' });
      expect(() => guard.admit()).not.toThrow();
      // One line per change of decision, not per refusal.
      expect(lines.map((l) => [l.level, l.rss_mib])).toEqual([
        ['warn', 300],
        ['info', 150],
      ]);
    } finally {
      guard.close();
    }
  });

  it('admits while RSS stays above the limit with little in use: freed pages not given back do not stop input', async () => {
    // A measurement with limits.memory_mib 128: RSS stuck at 136 MiB after collections, 35 MiB live.
    const { p, options } = fakeProcess(80, 20);
    const guard = new MemoryGuard({ limitBytes: 128 * MiB, sampleIntervalMs: 5, ...options });
    try {
      p.rss = 136 * MiB;
      p.live = 35 * MiB; // in use: 60 footprint + 35 live = 95 MiB
      await waitFor(() => guard.rssBytes === 136 * MiB, { what: 'a sample' });
      await waitFor(() => guard.inUseBytes === 95 * MiB, { what: 'a sample' });
      expect(guard.overLimit).toBe(false);
      expect(() => guard.admit()).not.toThrow();
    } finally {
      guard.close();
    }
  });

  it('refuses while what is in use is above the limit, until a collection frees it', async () => {
    const { p, options } = fakeProcess(80, 20); // footprint 60 MiB
    const guard = new MemoryGuard({ limitBytes: 128 * MiB, sampleIntervalMs: 5, ...options });
    try {
      p.rss = 140 * MiB;
      p.live = 75 * MiB; // in use 135 MiB
      await waitFor(() => guard.overLimit, { what: 'a refusal' });
      expect((refusal(() => guard.admit()) as Error).message).toBe('memory limit reached (in use 135 MiB (resident 140 MiB) > limits.memory_mib 128 MiB)');
      expect(p.collections).toBeGreaterThanOrEqual(1);
      // Still refused while nothing comes free; the guard keeps collecting (at most once a second).
      const before = p.collections;
      await waitFor(() => p.collections > before, { what: 'another collection while refusing' });
      expect(guard.overLimit).toBe(true);
      // The next collection frees most of the heap, though RSS stays above the limit.
      p.onCollect = () => {
        p.live = 30 * MiB;
        p.rss = 132 * MiB;
      };
      await waitFor(() => !guard.overLimit, { what: 'input to resume' });
      expect(() => guard.admit()).not.toThrow();
    } finally {
      guard.close();
    }
  });

  it('does not collect while RSS is under the limit', async () => {
    const { p, options } = fakeProcess(80, 20);
    const guard = new MemoryGuard({ limitBytes: 128 * MiB, sampleIntervalMs: 5, ...options });
    try {
      p.rss = 120 * MiB;
      p.live = 100 * MiB; // in use far above the limit, but RSS is not: nothing to do
      await waitFor(() => guard.inUseBytes === 160 * MiB, { what: 'a sample' });
      expect(guard.overLimit).toBe(false);
      expect(p.collections).toBe(0);
    } finally {
      guard.close();
    }
  });

  it('reads the cached decision, not the process, on admission', () => {
    let reads = 0;
    const guard = new MemoryGuard({ limitBytes: 1 << 30, sampleIntervalMs: 60_000, rss: () => ++reads, live: () => 0, collect: () => {} });
    for (let i = 0; i < 1000; i++) guard.admit();
    guard.close();
    expect(reads).toBe(1);
  });

  it('runs a real full collection when over the limit', async () => {
    // Large objects are only freed by a full collection, which the guard runs without --expose-gc.
    let big: number[] | undefined = new Array(4 * MiB).fill(1);
    const ref = new WeakRef(big);
    big = undefined;
    const guard = new MemoryGuard({ limitBytes: 1, sampleIntervalMs: 5 });
    try {
      await waitFor(() => ref.deref() === undefined, { what: 'the array to be collected' });
      expect(guard.overLimit).toBe(true);
    } finally {
      guard.close();
    }
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
