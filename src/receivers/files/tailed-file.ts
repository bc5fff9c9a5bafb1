/**
 * One open log file: its handle, identity, read position and the lines it holds back. The file is
 * read through its handle, never reopened by path, so a renamed or deleted file is read to its end.
 * Offsets: `readOffset` is the next byte to read; `emitted` is the end of the last record handed
 * on (what a checkpoint may claim once that record is durable); `committed` is the last checkpoint
 * the store holds.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findGzipCopy, gzipFrom } from './compressed.js';
import { EMPTY_FINGERPRINT, FINGERPRINT_BYTES, fileKey, fingerprintOf, readFingerprint, startsWith, type Fingerprint } from './fingerprint.js';
import type { SplitStats } from './line-splitter.js';
import type { MultilineAggregator } from './multiline.js';
import { RecordCutter } from './record-cutter.js';
import type { RawRecord } from './types.js';

/** What a checkpoint row holds for one file (key: device:inode). */
export interface FileCheckpoint {
  path: string;
  offset: number;
  fingerprint: Fingerprint;
  /** ms time the checkpoint was taken: files rotated after it are looked for at the next start. */
  savedAt: number;
}

export type RotationKind = 'rename' | 'truncate' | 'delete';

export interface ReadResult {
  /** Bytes read from the file (or its rotated copy). */
  bytes: number;
  /** More is there to read right now. */
  more: boolean;
  /**
   * Set when the file was found truncated (copytruncate or in place): since when its previous
   * content was being read, and the copy the rest of that content was read from.
   */
  truncated?: { since: number; copyKey: string | undefined };
  /**
   * Set when content was found in a file read from 0 that had none at the last look: if it was
   * copied and truncated meanwhile (copytruncate twice between two looks, or while tracetail was
   * stopped), no fingerprint can tell, so copies made since this time are looked for.
   */
  startedSince?: number;
}

/** Bytes read from `from`, and the look at the file taken after reading them. */
interface Fetched {
  buf: Buffer;
  from: number;
  bytesRead: number;
  size: number;
  same: boolean;
}

/**
 * The copy of a truncated file's previous content (copytruncate: a plain file, or its gzip
 * generation when it was compressed meanwhile), read from the position reached in that content.
 */
interface CopySource {
  key: string | undefined;
  /** The copy's next bytes at `from` (read into `buf` when it helps), or null at its end. */
  next(buf: Buffer, from: number): Promise<Buffer | null>;
  close(): Promise<void>;
}

function plainCopy(handle: FileHandle, size: number, key: string): CopySource {
  return {
    key,
    async next(buf, from) {
      if (from >= size) return null;
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - from), from);
      return bytesRead > 0 ? buf.subarray(0, bytesRead) : null;
    },
    close: () => handle.close(),
  };
}

function gzipCopy(path: string, from: number): CopySource {
  const chunks = gzipFrom(path, from);
  return {
    key: undefined,
    async next() {
      const r = await chunks.next();
      return r.done ? null : r.value;
    },
    close: async () => {
      await chunks.return(undefined);
    },
  };
}

/**
 * The read buffers of a receiver: one is taken for each read and given back after it; a read
 * ahead gets one only if one is spare, so that at most `spares` are ever lent out ahead.
 */
export class ReadBuffers {
  private readonly free: Buffer[] = [];
  private made = 0;

  constructor(
    private readonly bytes: number,
    private readonly spares = 1,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? this.make();
  }

  /** A buffer for a read ahead, if one is free (or not all `spares` + 1 were made yet). */
  spare(): Buffer | undefined {
    return this.free.pop() ?? (this.made <= this.spares ? this.make() : undefined);
  }

  give(buf: Buffer): void {
    if (this.free.length <= this.spares) this.free.push(buf);
  }

  private make(): Buffer {
    this.made++;
    return Buffer.allocUnsafe(this.bytes);
  }
}

/** Bytes that look like a binary file: NUL in the first block. */
function looksBinary(buf: Buffer, length: number): boolean {
  return buf.subarray(0, Math.min(length, 8192)).includes(0);
}

export class TailedFile {
  readonly key: string;
  readonly name: string;
  /** The path stopped naming this file (renamed away or deleted): read to the end, then close. */
  draining = false;
  /** ms time of opening, or of the last truncation: since when the current content is read. */
  contentSince = Date.now();
  /** ms time the receiver last looked whether the file's path still names it. */
  pathCheckedAt = 0;
  /** ms time of the last read that found new bytes (or of opening). */
  lastGrowthAt = this.contentSince;
  /** Size seen at the last stat. */
  size: number;
  committed: number;
  private fingerprint: Fingerprint;
  private readonly cutter: RecordCutter;
  private closed = false;
  /** The read started ahead (see `read`); undefined when it failed. */
  private ahead: Promise<Fetched | undefined> | undefined;
  /** The copy of the content before a truncation, while its rest is being read (see `read`). */
  private copy: CopySource | undefined;
  /** The copy was just read to its end: the new content read next is no news (see `read`). */
  private afterCopy = false;

  private constructor(
    public path: string,
    private readonly handle: FileHandle,
    stats: { dev: number; ino: number; size: number },
    offset: number,
    fingerprint: Fingerprint,
    maxLineBytes: number,
    multiline: MultilineAggregator | null,
  ) {
    this.key = fileKey(stats);
    this.name = basename(path);
    this.size = stats.size;
    this.committed = offset;
    this.fingerprint = fingerprint;
    this.cutter = new RecordCutter(maxLineBytes, offset, multiline);
    this.readOffset = offset;
  }

  readOffset: number;

  /**
   * Open `path` and place the read position: at the checkpoint of its device:inode, else at
   * `fallback` ('end' for a file never seen before under `start_at: end`). A checkpoint past the
   * file's end or of other first bytes means the file was truncated while tracetail was stopped
   * (or the inode reused): the first read finds that out, reads what was lost from the copy and
   * starts again at 0. Returns null when the path vanished in between.
   */
  static async open(
    path: string,
    checkpointOf: (key: string) => FileCheckpoint | undefined,
    fallback: 'beginning' | 'end',
    maxLineBytes: number,
    multiline: MultilineAggregator | null,
  ): Promise<{ file: TailedFile; resumed: boolean } | null> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
      const saved = checkpointOf(fileKey(st));
      if (saved) {
        const file = new TailedFile(path, handle, st, saved.offset, saved.fingerprint, maxLineBytes, multiline);
        file.contentSince = saved.savedAt ?? Date.now();
        return { file, resumed: true };
      }
      const offset = fallback === 'end' ? st.size : 0;
      const fp = await readFingerprint(handle, Math.min(st.size, FINGERPRINT_BYTES));
      return { file: new TailedFile(path, handle, st, offset, fp, maxLineBytes, multiline), resumed: false };
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  /** Whether the first block of the file looks binary (checked once, for a file read from 0). */
  async isBinary(scratch: Buffer): Promise<boolean> {
    const { bytesRead } = await this.handle.read(scratch, 0, Math.min(scratch.length, 8192), 0);
    return looksBinary(scratch, bytesRead);
  }

  /** Has the file grown past what was read, or does it hold lines back? */
  get idle(): boolean {
    return !this.copy && this.size <= this.readOffset && this.cutter.pendingBytes === 0 && !this.cutter.holding;
  }

  /** The fingerprint of what the current content starts with (empty until some of it was read). */
  get start(): Fingerprint {
    return this.fingerprint;
  }

  get pendingBytes(): number {
    return this.cutter.pendingBytes;
  }

  /** Lines cut and lines with invalid UTF-8 since the last call. */
  takeSplitStats(): SplitStats {
    return this.cutter.takeStats();
  }

  /** The checkpoint for what was handed on so far. */
  checkpoint(): FileCheckpoint {
    return { path: this.path, offset: this.emitted, fingerprint: this.fingerprint, savedAt: Date.now() };
  }

  /** The file's current device:inode and size behind the handle, and its link count. */
  async stat(): Promise<{ size: number; nlink: number }> {
    const st = await this.handle.stat();
    this.size = st.size;
    return st;
  }

  /** The size of the file and whether it still starts with the fingerprint, looked at together. */
  private async look(): Promise<{ size: number; same: boolean }> {
    const [st, same] = await Promise.all([this.handle.stat(), startsWith(this.handle, this.fingerprint)]);
    return { size: st.size, same };
  }

  /**
   * Read from `from` into `buf`, then look at the file: a file that still starts with the same
   * bytes and is not shorter held, when it was read, the content the bytes were read from.
   */
  private async fetch(buf: Buffer, from: number): Promise<Fetched> {
    const { bytesRead } = await this.handle.read(buf, 0, buf.length, from);
    const look = await this.look();
    return { buf, from, bytesRead, size: look.size, same: look.same };
  }

  /**
   * Read the next bytes and push the records they complete into `out`. A file found shorter than
   * what was read, or starting with other bytes, was truncated: what it held past the read position
   * is looked for in its copy (copytruncate) and read from there, a chunk per call like the file
   * itself (the copy may hold a large backlog), then reading starts again at 0. While a backlog is
   * read, the next read (and its look) runs while this one's bytes are split and parsed, when
   * `buffers` has one to spare.
   */
  async read(buffers: ReadBuffers, out: RawRecord[]): Promise<ReadResult> {
    if (this.copy) return { bytes: await this.readCopy(buffers, out), more: true };
    let bytes = 0;
    let truncated: ReadResult['truncated'];
    let startedSince: number | undefined;
    const afterCopy = this.afterCopy;
    this.afterCopy = false;
    for (;;) {
      const from = this.readOffset;
      const fresh = from === 0 && this.fingerprint.length === 0;
      let f = this.ahead ? await this.ahead : undefined;
      this.ahead = undefined;
      if (f && f.from !== from) {
        buffers.give(f.buf);
        f = undefined;
      }
      f ??= await this.fetch(buffers.take(), from);
      const { buf, bytesRead } = f;
      this.size = f.size;
      if (f.size < from + bytesRead || !f.same) {
        // Truncated since the last look, perhaps before this read: what was read may be the new
        // content. The rest of the old one is read from its copy, then the new one from 0.
        buffers.give(buf);
        if (truncated) return { bytes, more: true, truncated, startedSince };
        const copy = this.fingerprint.length > 0 ? await this.openCopy() : undefined;
        truncated = { since: this.contentSince, copyKey: copy?.key };
        if (copy) {
          this.copy = copy;
          bytes += await this.readCopy(buffers, out);
          return { bytes, more: true, truncated, startedSince };
        }
        this.flushHeld(out, true);
        this.restart();
        continue;
      }
      if (bytesRead > 0) {
        // New content found after a copy was read is the content that followed the truncation.
        if (fresh && !afterCopy) startedSince = this.contentSince;
        const end = from + bytesRead;
        if (this.fingerprint.length < FINGERPRINT_BYTES && end > this.fingerprint.length) {
          this.fingerprint = from === 0 ? fingerprintOf(buf.subarray(0, bytesRead)) : await readFingerprint(this.handle, end);
        }
        const spare = this.size > end && !this.closed ? buffers.spare() : undefined;
        if (spare) {
          const ahead = this.fetch(spare, end);
          // A failed read ahead is dropped (its buffer with it); the read is done again when due.
          this.ahead = ahead.catch(() => undefined);
        }
        this.push(buf.subarray(0, bytesRead), out);
        bytes += bytesRead;
        this.lastGrowthAt = Date.now();
      }
      buffers.give(buf);
      return { bytes, more: this.size > this.readOffset, truncated, startedSince };
    }
  }

  /** Offset just past the last record handed out (what a checkpoint may claim once it is durable). */
  get emitted(): number {
    return this.cutter.emitted;
  }

  /** Hand out what is held: the unterminated last line and the open multiline record. */
  flushHeld(out: RawRecord[], partialLines: boolean): void {
    this.cutter.flush(out, partialLines);
  }

  /** Records of a multiline group whose timeout passed. */
  flushDue(now: number, out: RawRecord[]): void {
    this.cutter.flushDue(now, out);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ahead;
    this.ahead = undefined;
    await this.copy?.close().catch(() => {});
    this.copy = undefined;
    await this.handle.close().catch(() => {});
  }

  private push(chunk: Buffer, out: RawRecord[]): void {
    this.cutter.push(chunk, out);
    this.readOffset += chunk.length;
  }

  /** Start over at 0 on the file's new content. */
  private restart(): void {
    this.contentSince = Date.now();
    this.readOffset = 0;
    this.cutter.reset(0);
    this.fingerprint = EMPTY_FINGERPRINT;
  }

  /**
   * After a copytruncate the bytes between the read position and the truncation live on only in
   * the copy: a sibling file that starts with this file's fingerprint and is at least as long as
   * what was read, or, compressed meanwhile, a gzip generation whose content starts with it (the
   * file rotated and compressed while tracetail was down, its inode since given to the new file).
   */
  private async openCopy(): Promise<CopySource | undefined> {
    const plain = await this.findCopy();
    if (plain) {
      try {
        const st = await plain.stat();
        return plainCopy(plain, st.size, fileKey(st));
      } catch {
        await plain.close().catch(() => {});
        return undefined;
      }
    }
    const dir = dirname(this.path);
    try {
      const gz = await findGzipCopy(dir, await readdir(dir), basename(this.path), this.fingerprint);
      return gz ? gzipCopy(gz, this.readOffset) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The copy's next chunk into `out`; at its end (or when it cannot be read further) hand out what
   * is held, since the old content ended, and start again at 0 on the new one. Returns bytes read.
   */
  private async readCopy(buffers: ReadBuffers, out: RawRecord[]): Promise<number> {
    const copy = this.copy!;
    const buf = buffers.take();
    try {
      const chunk = await copy.next(buf, this.readOffset).catch(() => null);
      if (chunk && chunk.length > 0) {
        this.push(chunk, out);
        return chunk.length;
      }
    } finally {
      buffers.give(buf);
    }
    this.copy = undefined;
    await copy.close().catch(() => {});
    this.flushHeld(out, true);
    this.restart();
    this.afterCopy = true;
    return 0;
  }

  private async findCopy(): Promise<FileHandle | null> {
    const dir = dirname(this.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return null;
    }
    const candidates: { path: string; mtimeMs: number }[] = [];
    for (const n of names) {
      const p = join(dir, n);
      try {
        const st = await stat(p);
        if (st.isFile() && fileKey(st) !== this.key && st.size >= this.readOffset) candidates.push({ path: p, mtimeMs: st.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const c of candidates) {
      let h: FileHandle | undefined;
      try {
        h = await open(c.path, 'r');
        if (await startsWith(h, this.fingerprint)) return h;
      } catch {
        // unreadable or gone: not the copy
      }
      await h?.close().catch(() => {});
    }
    return null;
  }
}
