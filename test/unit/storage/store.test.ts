import { describe, expect, it } from 'vitest';
import { EnvironmentError, QueueFullError } from '../../../src/errors.js';
import { Store } from '../../../src/storage/store.js';
import { tempDir } from '../../helpers/cli.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('Store', () => {
  it('commits queue entries and checkpoints together and keeps them across a reopen', () => {
    const dir = tempDir();
    const store = Store.open(dir, { maxQueueBytes: 1000 });
    store.enqueue([{ signal: 'logs', payload: bytes(10), items: 3 }], [{ key: 'file-a', data: { offset: 42 } }]);
    store.enqueue([{ signal: 'traces', payload: bytes(20), items: 5 }]);
    expect(store.queueStats('logs')).toMatchObject({ entries: 1, items: 3, bytes: 10 });
    expect(store.queuedBytes).toBe(30);
    store.close();

    const again = Store.open(dir, { maxQueueBytes: 1000 });
    expect(again.getCheckpoint('file-a')).toEqual({ offset: 42 });
    expect(again.queueStats('traces')).toMatchObject({ entries: 1, items: 5, bytes: 20 });
    expect(again.queuedBytes).toBe(30);
    again.close();
  });

  it('refuses what does not fit, keeping nothing of it (checkpoints included)', () => {
    const store = Store.open(tempDir(), { maxQueueBytes: 100, retryAfterMs: 1234 });
    store.enqueue([{ signal: 'logs', payload: bytes(80), items: 1 }]);
    let error: unknown;
    try {
      store.enqueue([{ signal: 'logs', payload: bytes(30), items: 1 }], [{ key: 'f', data: { offset: 1 } }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterMs).toBe(1234);
    expect(store.getCheckpoint('f')).toBeUndefined();
    expect(store.queueStats('logs').entries).toBe(1);
    store.close();
  });

  it('peeks in order within item and byte limits, and acks delete', () => {
    const store = Store.open(tempDir(), { maxQueueBytes: 10_000 });
    for (let i = 1; i <= 5; i++) store.enqueue([{ signal: 'logs', payload: bytes(10, i), items: i }]);
    const first = store.peek('logs', 0, 6, 1000);
    expect(first.map((e) => e.items)).toEqual([1, 2, 3]);
    expect(first.map((e) => e.payload[0])).toEqual([1, 2, 3]);
    expect(store.peek('logs', 0, 100, 25).map((e) => e.items)).toEqual([1, 2]);
    // Always at least one entry, even when it alone is over the limit.
    expect(store.peek('logs', 0, 0, 0)).toHaveLength(1);
    store.ack('logs', first);
    expect(store.queueStats('logs')).toMatchObject({ entries: 2, items: 9, bytes: 20 });
    expect(store.peek('logs', 0, 100, 1000).map((e) => e.items)).toEqual([4, 5]);
    store.close();
  });

  it('refuses a second process on the same directory', () => {
    const dir = tempDir();
    const store = Store.open(dir, { maxQueueBytes: 1000 });
    store.enqueue([{ signal: 'logs', payload: bytes(1), items: 1 }]);
    expect(() => {
      const other = Store.open(dir, { maxQueueBytes: 1000 });
      other.peek('logs', 0, 10, 10);
      other.close();
    }).toThrow(EnvironmentError);
    store.close();
  });
});
