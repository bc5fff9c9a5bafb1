/**
 * Room held back on the storage filesystem: a file of RESERVE_BYTES beside the database. When the
 * filesystem fills, the store removes it, so that what frees room (deleting acknowledged entries,
 * which SQLite's WAL needs room to write) still can; it is written again, before new entries, once
 * there is room for it and for more. Without it a disk filled by the queue could refuse the very
 * deletes that would empty it.
 */
import { closeSync, fsyncSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const RESERVE_BYTES = 1 << 20;

export class Reserve {
  private held = false;

  constructor(
    readonly path: string,
    readonly bytes = RESERVE_BYTES,
  ) {}

  /** Whether the reserve is on disk. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Writes the reserve (its old content first removed: a reserve left by an earlier run counts as
   * room). Throws as the write does: ENOSPC when the filesystem has not the room.
   */
  hold(): void {
    this.release();
    const fd = openSync(this.path, 'w');
    try {
      const chunk = Buffer.alloc(64 << 10);
      for (let done = 0; done < this.bytes; ) done += writeSync(fd, chunk, 0, Math.min(chunk.byteLength, this.bytes - done));
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(this.path);
      throw err;
    }
    closeSync(fd);
    this.held = true;
  }

  /** Frees the reserve's room (the filesystem is full). */
  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // not there
    }
    this.held = false;
  }

  /** Bytes the filesystem holding the reserve has free for this user. */
  available(): number {
    const s = statfsSync(dirname(this.path));
    return Number(s.bavail) * Number(s.bsize);
  }
}
