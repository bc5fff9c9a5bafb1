/**
 * The store on a real full filesystem (a tmpfs of a fixed size): a write cut short leaves no bytes
 * behind that would shift the next payload; a full disk is a StorageError (backpressure) that keeps
 * nothing of the batch and moves no checkpoint; the reserve lets the deletes that free room
 * succeed; once there is room the store takes writes again and holds its reserve anew.
 */
import { existsSync, fstatSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../../src/errors.js';
import { Segments } from '../../../src/storage/segments.js';
import { Store } from '../../../src/storage/store.js';
import { tempDir } from '../../helpers/cli.js';
import { fillFilesystem, mountTmpfs, removeFile, tmpfsSkipReason, unmount } from '../../helpers/fs-faults.js';

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) unmount(m);
});

const skip = tmpfsSkipReason(tempDir('tracetail-tmpfs-probe-'));
if (skip) console.warn(`full-disk: skipped: ${skip}`);

function tmpfs(bytes: number): string {
  const path = join(tempDir('tracetail-full-disk-'), 'fs');
  mountTmpfs(path, bytes);
  mounts.push(path);
  return path;
}

const payload = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe.skipIf(skip)('storage on a full filesystem', () => {
  it('a segment write cut short by ENOSPC is cut off: the next payload is where its place says', () => {
    const dir = tmpfs(1 << 20);
    const segments = new Segments(dir, 'traces', 16 << 20, new Map());
    const first = payload(100_000, 1);
    const a = segments.append(first);
    expect(() => segments.append(payload(2 << 20, 2))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    const file = join(dir, 'traces-00000001.seg');
    const fd = openSync(file, 'r');
    expect(fstatSync(fd).size).toBe(first.byteLength);
    closeSync(fd);
    const next = payload(50_000, 3);
    const b = segments.append(next);
    expect(b).toEqual({ segment: a.segment, offset: first.byteLength });
    expect(segments.read(b.segment, b.offset, next.byteLength)).toEqual(Buffer.from(next));
    expect(segments.read(a.segment, a.offset, first.byteLength)).toEqual(Buffer.from(first));
    segments.close();
  });

  it('a full disk refuses a batch with StorageError, keeping none of it; the reserve lets acks free room; then writes are taken again', () => {
    const dir = tmpfs(4 << 20);
    const faults: (string | undefined)[] = [];
    const store = Store.open(dir, { maxQueueBytes: 1 << 30, onFault: (f) => faults.push(f?.reason) });
    const reserve = join(dir, 'tracetail.reserve');
    expect(existsSync(reserve)).toBe(true);
    let refused: unknown;
    let n = 0;
    for (; n < 1000 && !refused; n++) {
      try {
        store.enqueue([{ signal: 'logs', payload: payload(64 << 10, n % 250), items: 1 }], [{ key: 'file', data: { offset: n } }]);
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe('TT_STORAGE_FULL');
    expect((refused as StorageError).retryAfterMs).toBeGreaterThan(0);
    expect(store.storageFault?.reason).toBe('storage_full');
    expect(faults).toEqual(['storage_full']);
    // The refused batch moved no checkpoint, and its entry is not in the queue.
    expect(store.getCheckpoint('file')).toEqual({ offset: n - 2 });
    const queued = store.queueStats('logs');
    expect(queued.entries).toBe(n - 1);
    expect(existsSync(reserve)).toBe(false);
    // Refused at once while there is no room (no write is even tried).
    expect(() => store.enqueue([{ signal: 'logs', payload: payload(10, 1), items: 1 }])).toThrow(StorageError);

    // The export sends everything: the acks succeed on the full disk and free it.
    const entries = store.peek('logs', 0, 1_000_000, 1 << 30, 10_000);
    expect(entries).toHaveLength(queued.entries);
    store.ack('logs', entries);
    expect(store.queueStats('logs').entries).toBe(0);

    // Room again: the next write first holds the reserve again, then is taken.
    let taken = false;
    const deadline = Date.now() + 5000;
    while (!taken && Date.now() < deadline) {
      try {
        store.enqueue([{ signal: 'logs', payload: payload(10, 1), items: 1 }], [{ key: 'file', data: { offset: 9999 } }]);
        taken = true;
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // the store retries at most every 250 ms
      }
    }
    expect(taken).toBe(true);
    expect(store.storageFault).toBeUndefined();
    expect(faults).toEqual(['storage_full', undefined]);
    expect(existsSync(reserve)).toBe(true);
    expect(store.getCheckpoint('file')).toEqual({ offset: 9999 });
    store.close();
  });

  it('a full filesystem at start with nothing queued is an EnvironmentError naming storage.directory', () => {
    const dir = tmpfs(4 << 20);
    const filler = fillFilesystem(dir);
    expect(() => Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 })).toThrow(/^storage\.directory: .* is full/);
    removeFile(filler);
    Store.open(join(dir, 'state'), { maxQueueBytes: 1 << 30 }).close();
  });
});
