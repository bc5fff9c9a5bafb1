import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, QueueFullError } from '../../../src/errors.js';
import { RECENT_BYTES, Store } from '../../../src/storage/store.js';
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

describe('Store: payload segments', () => {
  const segmentFiles = (dir: string) => readdirSync(join(dir, 'queue')).sort();

  it('keeps payloads in segment files, reads them back after a reopen, and deletes a segment once all of it is acknowledged', () => {
    const dir = tempDir();
    // A queue bound of 8 MiB makes 1 MiB segments.
    const store = Store.open(dir, { maxQueueBytes: 8 << 20 });
    for (let i = 0; i < 12; i++) store.enqueue([{ signal: 'logs', payload: bytes(200_000, i), items: 1 }]);
    store.enqueue([{ signal: 'traces', payload: bytes(100, 9), items: 1 }]);
    // Six entries fill the first segment past its 1 MiB; the seventh starts the next one.
    expect(segmentFiles(dir)).toEqual(['logs-00000001.seg', 'logs-00000002.seg', 'traces-00000001.seg']);
    store.close();

    const again = Store.open(dir, { maxQueueBytes: 8 << 20 });
    const entries = again.peek('logs', 0, 100, 1 << 30);
    expect(entries.map((e) => [e.payload.length, e.payload[0], e.payload[199_999]])).toEqual(Array.from({ length: 12 }, (_, i) => [200_000, i, i]));
    // The first segment (entries 0-5) goes when its entries are acknowledged; the others stay.
    again.ack('logs', entries.slice(0, 5));
    expect(segmentFiles(dir)).toContain('logs-00000001.seg');
    again.ack('logs', entries.slice(5, 6));
    expect(segmentFiles(dir)).not.toContain('logs-00000001.seg');
    again.ack('logs', entries.slice(6));
    // Written since the reopen: a new segment; the old ones are gone with their entries.
    again.enqueue([{ signal: 'logs', payload: bytes(10, 1), items: 1 }]);
    expect(segmentFiles(dir)).toEqual(['logs-00000003.seg', 'traces-00000001.seg']);
    expect(again.peek('traces', 0, 10, 1000)[0].payload).toEqual(Buffer.from(bytes(100, 9)));
    again.close();
  });

  it('takes the newest payloads from memory, and reads the others from their segment', () => {
    const dir = tempDir();
    const store = Store.open(dir, { maxQueueBytes: 64 << 20 });
    const size = Math.floor(RECENT_BYTES / 2.5);
    const payloads = Array.from({ length: 6 }, (_, i) => Buffer.alloc(size, i));
    for (const payload of payloads) store.enqueue([{ signal: 'logs', payload, items: 1 }]);
    const entries = store.peek('logs', 0, 100, 1 << 30);
    // The first two fit in what is held in memory: the same buffers; the rest come from the files.
    expect(entries.map((e) => e.payload.buffer === payloads[entries.indexOf(e)].buffer)).toEqual([true, true, false, false, false, false]);
    expect(entries.map((e) => e.payload.equals(payloads[entries.indexOf(e)]))).toEqual([true, true, true, true, true, true]);
    store.close();
  });

  it('says which entries lost their payload, and forgets segments no entry names', () => {
    const dir = tempDir();
    const store = Store.open(dir, { maxQueueBytes: 1 << 20 });
    store.enqueue([{ signal: 'logs', payload: bytes(100, 1), items: 2 }]);
    store.close();
    // Bytes no row names (written before a crash, without their commit): gone at the next start.
    writeFileSync(join(dir, 'queue', 'logs-00000007.seg'), 'orphan');
    // A segment cut short (a disk that lost it): its entry is damaged, not garbage.
    truncateSync(join(dir, 'queue', 'logs-00000001.seg'), 50);
    const again = Store.open(dir, { maxQueueBytes: 1 << 20 });
    expect(segmentFiles(dir)).toEqual(['logs-00000001.seg']);
    const [entry] = again.peek('logs', 0, 10, 1000);
    expect(entry).toMatchObject({ items: 2, damaged: true });
    again.close();
  });
});

describe('Store: a queue written by an earlier version', () => {
  it('takes over the entries of the shared queue table (payloads in the rows), in order, per signal', async () => {
    const { default: Database } = await import('better-sqlite3');
    const dir = tempDir();
    const db = new Database(join(dir, 'tracetail.db'));
    db.pragma('journal_mode = WAL');
    // The schema of the release before segment files.
    db.exec(`
      CREATE TABLE checkpoints (key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, signal TEXT NOT NULL, created_at INTEGER NOT NULL, items INTEGER NOT NULL, bytes INTEGER NOT NULL, payload BLOB NOT NULL);
      CREATE INDEX queue_by_signal ON queue(signal, id);
    `);
    const insert = db.prepare('INSERT INTO queue (signal, created_at, items, bytes, payload) VALUES (?, ?, ?, ?, ?)');
    for (let i = 1; i <= 6; i++) insert.run(i % 2 ? 'logs' : 'traces', 1000 + i, i, 10, Buffer.from(bytes(10, i)));
    db.prepare('INSERT INTO checkpoints (key, data, updated_at) VALUES (?, ?, ?)').run('file-a', JSON.stringify({ offset: 7 }), 1);
    db.close();

    const store = Store.open(dir, { maxQueueBytes: 1 << 20 });
    expect(store.getCheckpoint('file-a')).toEqual({ offset: 7 });
    expect(store.queueStats('logs')).toEqual({ entries: 3, items: 9, bytes: 30, oldestCreatedAt: 1001 });
    const logs = store.peek('logs', 0, 100, 1 << 20);
    expect(logs.map((e) => [e.items, e.payload[0]])).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
    ]);
    expect(store.peek('traces', 0, 100, 1 << 20).map((e) => e.payload[0])).toEqual([2, 4, 6]);
    // New entries go after them, and everything acknowledged is gone.
    store.enqueue([{ signal: 'logs', payload: bytes(10, 7), items: 7 }]);
    const all = store.peek('logs', 0, 100, 1 << 20);
    expect(all.map((e) => e.payload[0])).toEqual([1, 3, 5, 7]);
    store.ack('logs', all);
    expect(store.queueStats('logs').entries).toBe(0);
    store.close();
    const again = Store.open(dir, { maxQueueBytes: 1 << 20 });
    expect(again.queueStats('logs').entries).toBe(0);
    expect(again.queueStats('traces').entries).toBe(3);
    again.close();
  });
});
