/**
 * The log-file receiver. Discovery (chokidar) says which files match and when they change; one
 * read loop owns every open file, reads what is new, cuts lines, groups multiline records and
 * hands them on as raw records (the parse stage makes log records of them) with the checkpoints of
 * the files they came from, so that the records and the offsets reach the store in one transaction.
 *
 * The loop is the only place that touches files and offsets: discovery events are queued and
 * applied by it, so an event never races a read. When the pipeline pushes back (queue full, memory
 * limit) the loop waits and retries the same batch, reading nothing meanwhile: the file is the
 * buffer. A renamed or deleted file is read through its open handle until it has been quiet for
 * ROTATE_WAIT_MS; a truncated file is read again from 0, after the bytes it lost are read from its
 * copy when there is one. At start, a checkpoint whose file no longer matches (renamed away while
 * tracetail was down) is followed to that file in the same directory and read to its end.
 *
 * Checkpoints stay bounded while running: a deleted file's row goes when the file is closed, and
 * the row of a rotated file kept (it still exists: after a restart it says the file was read)
 * goes once the file is found gone, every PRUNE_MS.
 */
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BaseComponent } from '../../component.js';
import { RateLimitedLog, type Logger } from '../../logger.js';
import type { GraphContext, Receiver } from '../receiver.js';
import { findGzipCopy, gzipFrom } from './compressed.js';
import { FileDiscovery } from './discovery.js';
import { FileMetrics, type SkipReason } from './file-metrics.js';
import { FINGERPRINT_BYTES, fileKey, startsWith } from './fingerprint.js';
import { BATCH_RECORDS, HandOff } from './hand-off.js';
import type { SplitStats } from './line-splitter.js';
import { MultilineAggregator } from './multiline.js';
import { RecordCutter } from './record-cutter.js';
import { ReadBuffers, TailedFile, type FileCheckpoint, type RotationKind } from './tailed-file.js';
import type { RawRecord } from './types.js';
import { isBackpressure } from '../../errors.js';
import { METRICS } from '../../metrics/catalogue.js';

/** How long a rotated-away file is still read after its last growth (Fluent Bit's rotate_wait). */
export const ROTATE_WAIT_MS = 5000;
/**
 * One read's most bytes (the read buffer, reused). Each read also costs a stat and a look at the
 * file's first bytes, each a round trip to the I/O threads: 256 KiB makes these a quarter of what
 * they were at 64 KiB when catching up, and is still small next to a batch's bounds (what one read
 * completes beyond a batch leaves as the next one).
 */
const READ_BYTES = 256 << 10;
/**
 * Reads ahead at once (a read buffer each): the files read in turn each have theirs ready when
 * their turn comes. With one, a receiver catching up on 4 files sat idle waiting for reads 3% of
 * the time (event loop utilisation 0.97 against 0.997 with 4).
 */
const READS_AHEAD = 4;
/** Housekeeping: rotated files and held lines every tick; every open file re-checked every SWEEP_MS (missed events). */
const TICK_MS = 200;
const SWEEP_MS = 1000;
const RECENTLY_CLOSED_MS = 10 * 60_000;
/** How often the checkpoints of files no longer open are looked at, and those of files gone deleted. */
const PRUNE_MS = 5000;
/** How long a path found vacated by the loop's own look is looked at again every tick. */
const VACATED_LOOK_MS = 60_000;
/** How often a change event looks whether the path of a file being read through a backlog still names it. */
const PATH_LOOK_MS = 100;
/** Rotated files compressed by logrotate and friends: not text, never adopted. */
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip|Z)$/;

/** Whether the file at `p` starts with what one of `files` starts with (it is a copy of that content). */
async function copiesOneOf(p: string, files: readonly TailedFile[]): Promise<boolean> {
  if (files.length === 0) return false;
  const h = await open(p, 'r');
  try {
    for (const f of files) if (await startsWith(h, f.start)) return true;
    return false;
  } finally {
    await h.close().catch(() => {});
  }
}

type DiscoveryEvent =
  | { kind: 'add'; path: string; initial: boolean }
  | { kind: 'change'; path: string }
  | { kind: 'unlink'; path: string };

export class FileReceiver extends BaseComponent implements Receiver {
  ready = false;
  private readonly log: Logger;
  private readonly metrics: FileMetrics;
  private readonly discovery: FileDiscovery;
  /** Open files by device:inode, and the paths that name them. */
  private readonly files = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly dirty = new Set<TailedFile>();
  private readonly events: DiscoveryEvent[] = [];
  /** Paths not read: binary or unreadable (retried when they change). */
  private readonly skipped = new Map<string, SkipReason>();
  /**
   * Paths found renamed away or gone by a look of the loop's own, with until when they are looked
   * at again: the new file may not exist yet (logrotate renames, then creates), and the watcher,
   * which may have seen both steps as one, need not report it.
   */
  private readonly vacated = new Map<string, number>();
  private checkpoints = new Map<string, FileCheckpoint>();
  /** Rotated files read to their end and closed, by device:inode, with when: never adopted again. */
  private readonly recentlyClosed = new Map<string, number>();
  private readonly buffers = new ReadBuffers(READ_BYTES, READS_AHEAD);
  private readonly handOff: HandOff;
  /** Files gone at start whose rest is read from a gzip-compressed copy (recoverOrphans), first thing. */
  private readonly compressedRests: { key: string; cp: FileCheckpoint; path: string }[] = [];
  private wakeUp: (() => void) | null = null;
  private tickDue = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  private lastSweep = 0;
  private lastPrune = Date.now();
  private readonly warn: RateLimitedLog;
  private removeCollector: (() => void) | undefined;

  constructor(private readonly ctx: GraphContext) {
    super('receiver/files');
    const { config } = ctx;
    this.log = ctx.log.child({ component: 'receiver/files' });
    this.warn = new RateLimitedLog(this.log, 60_000);
    this.metrics = new FileMetrics(ctx.telemetry);
    this.handOff = new HandOff({
      consumer: ctx.consumers.files,
      log: this.log,
      warn: this.warn,
      metrics: this.metrics,
      stopping: () => this.stopRequested,
      whilePaused: () => this.applyEvents(),
      stepMs: TICK_MS,
      committed: (key, data) => this.checkpoints.set(key, data),
    });
    this.discovery = new FileDiscovery(
      { include: config.logs.include, exclude: config.logs.exclude, pollIntervalMs: config.logs.poll_interval, log: this.log },
      {
        add: (path, _stats, initial) => this.enqueue({ kind: 'add', path, initial }),
        change: (path) => this.enqueue({ kind: 'change', path }),
        unlink: (path) => this.enqueue({ kind: 'unlink', path }),
      },
    );
  }

  protected async doStart(): Promise<void> {
    for (const { key, data } of this.ctx.checkpoints.all<FileCheckpoint>()) this.checkpoints.set(key, data);
    await this.discovery.start();
    await this.applyEvents();
    await this.recoverOrphans();
    this.removeCollector = this.ctx.telemetry.addCollector(() => this.collect());
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'file reading stopped'));
    this.timer = setInterval(() => {
      this.tickDue = true;
      this.wake();
    }, TICK_MS);
    this.timer.unref();
    this.ready = true;
    this.log.info({ files: this.files.size, include: this.ctx.config.logs.include }, 'tailing');
  }

  protected override async doFlush(): Promise<void> {
    this.wake();
  }

  protected async doStop(): Promise<void> {
    this.ready = false;
    clearInterval(this.timer);
    await this.discovery.stop();
    this.stopRequested = true;
    this.wake();
    this.handOff.wake();
    await this.loop;
    // What is held (an unterminated last line, an open multiline record) leaves now.
    for (const f of this.files.values()) this.take(f, (out) => f.flushHeld(out, true));
    if (this.handOff.pending) await this.handOff.send(true);
    for (const f of this.files.values()) await f.close();
    this.files.clear();
    this.byPath.clear();
    this.removeCollector?.();
  }

  private enqueue(e: DiscoveryEvent): void {
    this.events.push(e);
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async run(): Promise<void> {
    for (const rest of this.compressedRests.splice(0)) {
      if (this.stopRequested) break;
      if (await this.readCompressedRest(rest.key, rest.cp, rest.path)) this.forget(rest.key);
    }
    while (!this.stopRequested) {
      await this.applyEvents();
      if (this.tickDue) {
        this.tickDue = false;
        this.housekeeping();
        await this.closeDrained();
        if (Date.now() - this.lastPrune >= PRUNE_MS) {
          this.lastPrune = Date.now();
          await this.pruneCheckpoints();
        }
      }
      const file = this.takeDirty();
      if (file) {
        await this.readFile(file);
        if (this.handOff.full || (this.dirty.size === 0 && this.events.length === 0)) {
          await this.handOff.send(false);
        }
        continue;
      }
      if (this.handOff.pending) {
        await this.handOff.send(false);
        continue;
      }
      if (this.events.length === 0 && this.dirty.size === 0 && !this.tickDue && !this.stopRequested) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
      }
    }
  }

  private takeDirty(): TailedFile | undefined {
    for (const f of this.dirty) {
      this.dirty.delete(f);
      return f;
    }
    return undefined;
  }

  /** Re-check every open file now and then (events can be missed), rotated ones every tick; flush held lines past their timeouts. */
  private housekeeping(): void {
    const now = Date.now();
    const sweep = now - this.lastSweep >= SWEEP_MS;
    if (sweep) this.lastSweep = now;
    const partialTimeout = this.ctx.config.logs.partial_line_timeout;
    if (sweep) for (const path of this.byPath.keys()) this.events.push({ kind: 'change', path });
    for (const [path, until] of this.vacated) {
      if (this.byPath.has(path) || now > until) this.vacated.delete(path);
      else this.events.push({ kind: 'change', path });
    }
    for (const f of this.files.values()) {
      // A file with a read due (it changed, or holds bytes not read yet because reading paused on
      // backpressure) may hold the rest of a line or record: its quiet time is not known, so the
      // held line or multiline record waits for the read.
      const readDue = this.dirty.has(f) || f.size > f.readOffset;
      if (f.draining) this.dirty.add(f);
      if (readDue) continue;
      if (f.pendingBytes > 0 && now - f.lastGrowthAt >= partialTimeout) this.take(f, (out) => f.flushHeld(out, true));
      else this.take(f, (out) => f.flushDue(now, out));
    }
  }

  private async readFile(f: TailedFile): Promise<void> {
    try {
      const out: RawRecord[] = [];
      const r = await f.read(this.buffers, out);
      if (r.truncated) {
        this.rotated(f, 'truncate');
        this.handOff.touch(f);
        await this.adoptRotated(f.path, r.truncated.since, 'truncate', r.truncated.copyKey);
      } else if (r.startedSince !== undefined && !f.draining) {
        await this.adoptRotated(f.path, r.startedSince, 'truncate');
      }
      if (r.bytes > 0) this.metrics.bytesRead.inc(r.bytes);
      this.countSplitStats(f.takeSplitStats());
      this.handOff.add(f, out);
      if (r.more) this.dirty.add(f);
      // At the end of a file, see whether its path still names it (a rotation the events missed).
      else if (!f.draining) await this.checkPath(f.path);
    } catch (err) {
      this.metrics.component.errors('read').inc();
      this.warn.warn(`read:${f.path}`, { err, path: f.path }, 'cannot read log file; will retry');
    }
  }

  private countSplitStats({ truncated, invalidUtf8 }: SplitStats): void {
    if (truncated > 0) this.metrics.linesTruncated.inc(truncated);
    if (invalidUtf8 > 0) this.metrics.invalidUtf8.inc(invalidUtf8);
  }

  /** Run `produce` for `f` and turn what it yields into log records. */
  private take(f: TailedFile, produce: (out: RawRecord[]) => void): void {
    const out: RawRecord[] = [];
    produce(out);
    this.handOff.add(f, out);
  }

  private async applyEvents(): Promise<void> {
    while (this.events.length > 0) {
      const e = this.events.shift()!;
      try {
        if (e.kind === 'add') await this.added(e.path, e.initial);
        else if (e.kind === 'unlink') await this.unlinked(e.path);
        else await this.changed(e.path);
      } catch (err) {
        this.warn.warn(`event:${e.path}`, { err, path: e.path, event: e.kind }, 'cannot follow log file');
      }
    }
  }

  private async added(path: string, initial: boolean): Promise<void> {
    if (this.byPath.has(path)) return this.changed(path);
    let st: Stats;
    try {
      st = await stat(path);
    } catch {
      return;
    }
    // A directory (or fifo, socket) where a file was: discovery watches what a directory holds.
    if (!st.isFile()) return;
    const existing = this.files.get(fileKey(st));
    if (existing) {
      // Renamed into a matching name, or a second path (a symlink) to a file already read.
      this.byPath.set(path, existing);
      if (existing.draining) {
        existing.draining = false;
        existing.path = path;
      }
      this.dirty.add(existing);
      return;
    }
    await this.openFile(path, initial ? this.ctx.config.logs.start_at : 'beginning', false);
    // The file the path named before is still read (renamed away): files that came between the two
    // (named there and renamed away before this look, as queued events are applied late) are its
    // siblings now, written since its content began.
    let since = -Infinity;
    for (const f of this.files.values()) if (f.draining && f.path === path) since = Math.max(since, f.contentSince);
    if (since !== -Infinity) await this.adoptRotated(path, since, 'rename');
  }

  private async isBinary(file: TailedFile): Promise<boolean> {
    const buf = this.buffers.take();
    try {
      return await file.isBinary(buf);
    } finally {
      this.buffers.give(buf);
    }
  }

  private async openFile(path: string, fallback: 'beginning' | 'end', draining: boolean): Promise<TailedFile | undefined> {
    const logs = this.ctx.config.logs;
    let opened: Awaited<ReturnType<typeof TailedFile.open>>;
    try {
      opened = await TailedFile.open(path, (key) => this.checkpoints.get(key), fallback, logs.max_line_bytes, this.multiline());
    } catch (err) {
      this.skip(path, 'unreadable', err);
      return undefined;
    }
    if (!opened) return undefined;
    const { file, resumed } = opened;
    const known = this.files.get(file.key);
    if (known) {
      // Reached again under another name (adopted, or renamed meanwhile): one reader per file.
      await file.close();
      return known;
    }
    if (!resumed && file.readOffset === 0 && file.size > 0 && (await this.isBinary(file))) {
      await file.close();
      this.skip(path, 'binary');
      return undefined;
    }
    this.skipped.delete(path);
    file.draining = draining;
    this.files.set(file.key, file);
    if (!draining) this.byPath.set(path, file);
    this.dirty.add(file);
    this.log.debug({ path, offset: file.readOffset, resumed }, 'following log file');
    return file;
  }

  private skip(path: string, reason: SkipReason, err?: unknown): void {
    if (this.skipped.get(path) === reason) return;
    this.skipped.set(path, reason);
    this.metrics.skipped[reason].inc();
    if (reason === 'binary') this.log.warn({ path }, 'skipping binary file (NUL bytes in its first block)');
    else this.log.warn({ path, err }, 'cannot open log file; will retry when it changes');
  }

  private async changed(path: string): Promise<void> {
    const f = this.byPath.get(path);
    if (!f) {
      // Skipped before (unreadable, binary), never opened, or vacated by a rotation: try again.
      if (this.skipped.get(path) !== 'binary') await this.added(path, false);
      return;
    }
    // A file being read anyway has its path checked when its end is reached, and meanwhile at
    // most every PATH_LOOK_MS: with a backlog, a rotation must still be seen soon, or the
    // generations that follow could be rotated on and compressed before they are ever opened.
    if (this.dirty.has(f) && Date.now() - f.pathCheckedAt < PATH_LOOK_MS) return;
    if (await this.checkPath(path)) this.dirty.add(f);
  }

  /**
   * Whether `path` still names the file open for it (the stats chokidar passes may be the
   * symlink's own, so look again). When it names another file now, the old one was renamed away
   * or deleted: it is read to its end and the new one is opened.
   */
  private async checkPath(path: string): Promise<boolean> {
    const f = this.byPath.get(path);
    if (!f) return false;
    f.pathCheckedAt = Date.now();
    let st: Stats;
    try {
      st = await stat(path);
    } catch {
      await this.unlinked(path);
      this.vacated.set(path, Date.now() + VACATED_LOOK_MS);
      return false;
    }
    if (fileKey(st) === f.key) return true;
    // Marks `f` draining; `added` then opens the new file and adopts those rotated in between.
    await this.unlinked(path);
    this.vacated.set(path, Date.now() + VACATED_LOOK_MS);
    await this.added(path, false);
    return false;
  }

  private async unlinked(path: string): Promise<void> {
    this.skipped.delete(path);
    const f = this.byPath.get(path);
    if (!f) return;
    this.byPath.delete(path);
    for (const other of this.byPath.values()) if (other === f) return;
    f.draining = true;
    f.lastGrowthAt = Date.now();
    let kind: RotationKind = 'rename';
    try {
      if ((await f.stat()).nlink === 0) kind = 'delete';
    } catch {
      kind = 'delete';
    }
    this.rotated(f, kind);
    this.dirty.add(f);
  }

  /**
   * Files rotated away before they were ever opened (several rotations between two looks, or while
   * reading was paused): siblings named like `app.log.1` or `app.log-20240101`, written after
   * `since` (when the content they followed began), not read yet and not `skipKey` (the copy
   * already read). Renamed files and copies alike are read from their start.
   */
  private async adoptRotated(path: string, since: number, kind: RotationKind, skipKey?: string): Promise<void> {
    const dir = dirname(path);
    const stem = basename(path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    // Files being read that were named `path`: a copy of one of them (copytruncate not seen yet
    // when the file was renamed too) is read by that file's reader, which finds the copy itself.
    // Only full fingerprints: generations that merely start alike (a short banner) are not copies.
    const sources = [...this.files.values()].filter((f) => f.path === path && f.start.length === FINGERPRINT_BYTES);
    for (const n of names) {
      if (!n.startsWith(stem) || n === stem || COMPRESSED.test(n)) continue;
      const p = join(dir, n);
      try {
        const st = await stat(p);
        const key = fileKey(st);
        if (!st.isFile() || key === skipKey || this.files.has(key) || this.recentlyClosed.has(key) || st.mtimeMs <= since) continue;
        if (await copiesOneOf(p, sources)) continue;
        const f = await this.openFile(p, 'beginning', true);
        if (!f) continue;
        this.rotated(f, kind);
        // Known durably before the file it followed moves on: after a crash it is found again.
        if (!this.checkpoints.has(f.key)) this.saveCheckpoint(f);
      } catch {
        // gone meanwhile
      }
    }
  }

  private rotated(f: TailedFile, kind: RotationKind): void {
    this.metrics.rotations[kind].inc();
    this.log.debug({ path: f.path, kind }, 'log file rotated');
  }

  /**
   * Close rotated files that were read to their end, stayed quiet for ROTATE_WAIT_MS and whose
   * records are durable. The checkpoint of a file that still exists is kept: it says, after a
   * restart, that the file was read (its row goes once the file is found gone: pruneCheckpoints).
   */
  private async closeDrained(): Promise<void> {
    const now = Date.now();
    for (const [key, at] of this.recentlyClosed) if (now - at > RECENTLY_CLOSED_MS) this.recentlyClosed.delete(key);
    for (const f of this.files.values()) {
      if (!f.draining || !f.idle || now - f.lastGrowthAt < ROTATE_WAIT_MS) continue;
      if (f.pendingBytes > 0) continue;
      if (f.committed !== f.emitted) continue;
      // The size seen at the last read may be a tick old: a last write since keeps the file open.
      const st = await f.stat().catch(() => undefined);
      if (st && !f.idle) continue;
      this.files.delete(f.key);
      this.dirty.delete(f);
      this.recentlyClosed.set(f.key, now);
      if (!st || st.nlink === 0) this.forget(f.key);
      await f.close();
      this.log.debug({ path: f.path }, 'done with rotated log file');
    }
  }

  /**
   * Delete the checkpoints of files that are gone: not open, and no longer in the directory they
   * were read in (as at start, a file is looked for there by its device:inode, whatever its name
   * now). A rotated file that still exists keeps its row, and so does one in a directory that
   * cannot be read now (no permission): only a directory that no longer exists says its files do
   * not. Runs in the read loop, so no file is opened meanwhile.
   */
  private async pruneCheckpoints(): Promise<void> {
    const rests = new Set(this.compressedRests.map((r) => r.key));
    const byDir = new Map<string, Set<string>>();
    for (const [key, cp] of this.checkpoints) {
      if (this.files.has(key) || rests.has(key)) continue;
      const dir = dirname(cp.path);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(key);
    }
    for (const [dir, keys] of byDir) {
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      }
      for (const n of names) {
        if (keys.size === 0) break;
        try {
          keys.delete(fileKey(await stat(join(dir, n))));
        } catch {
          // gone meanwhile
        }
      }
      for (const key of keys) if (!this.files.has(key)) this.forget(key);
      if (keys.size > 0) this.log.debug({ directory: dir, checkpoints: keys.size }, 'checkpoints of deleted files removed');
    }
  }

  /**
   * Checkpoints of files no path matches any more: the file may have been renamed (rotated) while
   * tracetail was down, so look for its inode next to where it was, and read it to its end. Files
   * rotated after its last checkpoint (found or not: logrotate may have deleted it) are read too.
   * Rows of files that are gone are deleted.
   */
  private async recoverOrphans(): Promise<void> {
    const byDir = new Map<string, Map<string, FileCheckpoint>>();
    /** Per rotated path, the earliest checkpoint time, or last write of its file: files written since were never seen. */
    const rotatedSince = new Map<string, number>();
    for (const [key, cp] of this.checkpoints) {
      if (this.files.has(key)) continue;
      rotatedSince.set(cp.path, Math.min(rotatedSince.get(cp.path) ?? Infinity, cp.savedAt ?? Date.now()));
      const dir = dirname(cp.path);
      if (!byDir.has(dir)) byDir.set(dir, new Map());
      byDir.get(dir)!.set(key, cp);
    }
    for (const [dir, orphans] of byDir) {
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch {
        // the directory is gone: so are the files
      }
      for (const n of names) {
        if (orphans.size === 0) break;
        const p = join(dir, n);
        try {
          const st = await stat(p);
          const key = fileKey(st);
          if (!orphans.has(key)) continue;
          const cp = orphans.get(key)!;
          orphans.delete(key);
          // Its checkpoint may have been saved long after it was rotated away (it was being read
          // behind): files that followed it at its path were written after its own last write.
          rotatedSince.set(cp.path, Math.min(rotatedSince.get(cp.path) ?? Infinity, st.mtimeMs));
          const f = await this.openFile(p, 'end', true);
          if (f) this.log.info({ path: p, was: cp.path }, 'reading the rest of a file rotated while stopped');
        } catch {
          // gone meanwhile
        }
      }
      const claimed = new Set<string>();
      for (const [key, cp] of orphans) {
        const copy = await findGzipCopy(dir, names, basename(cp.path), cp.fingerprint, claimed);
        if (copy) {
          claimed.add(copy);
          this.compressedRests.push({ key, cp, path: copy });
          this.log.info({ path: copy, was: cp.path }, 'reading the rest of a file rotated and compressed while stopped');
        } else this.forget(key);
      }
    }
    for (const [path, since] of rotatedSince) await this.adoptRotated(path, since, 'rename');
  }

  /**
   * The rest of a file (its checkpoint `cp`, under `key`) from its gzip-compressed copy at `path`,
   * in batches, each with the checkpoint of what it holds: a crash on the way resumes from there.
   * True when it was read to its end; false when stopped first or it could not be read to its end
   * (its checkpoint stays, and the next start tries again from there).
   */
  private async readCompressedRest(key: string, cp: FileCheckpoint, path: string): Promise<boolean> {
    const logs = this.ctx.config.logs;
    const cutter = new RecordCutter(logs.max_line_bytes, cp.offset, this.multiline());
    const file = { path, name: basename(path) };
    let raw: RawRecord[] = [];
    const send = async (): Promise<boolean> => {
      if (raw.length === 0) return true;
      const records = [this.handOff.fileRecords(raw, file)];
      const data: FileCheckpoint = { ...cp, offset: cutter.emitted };
      raw = [];
      if (!(await this.handOff.offer(records, [{ key, data }], false))) return false;
      this.checkpoints.set(key, data);
      return true;
    };
    try {
      for await (const chunk of gzipFrom(path, cp.offset)) {
        this.metrics.bytesRead.inc(chunk.length);
        cutter.push(chunk, raw);
        this.countSplitStats(cutter.takeStats());
        if (raw.length >= BATCH_RECORDS && !(await send())) return false;
      }
    } catch (err) {
      this.metrics.component.errors('read').inc();
      this.log.warn({ err, path }, 'cannot read a compressed log file to its end; the next start tries again');
      await send();
      return false;
    }
    cutter.flush(raw, true);
    this.countSplitStats(cutter.takeStats());
    this.metrics.rotations.rename.inc();
    return send();
  }

  /** A multiline aggregator of its own for a file, with `logs.multiline`. */
  private multiline(): MultilineAggregator | null {
    const m = this.ctx.config.logs.multiline;
    return m ? new MultilineAggregator(m) : null;
  }

  private saveCheckpoint(f: TailedFile): void {
    const data = f.checkpoint();
    try {
      this.ctx.checkpoints.save([{ key: f.key, data }]);
      this.checkpoints.set(f.key, data);
    } catch (err) {
      if (isBackpressure(err)) return; // a full queue or disk: saved with a later position
      this.metrics.component.errors('commit').inc();
      this.log.warn({ err, path: f.path }, 'cannot save checkpoint');
    }
  }

  private forget(key: string): void {
    this.checkpoints.delete(key);
    try {
      this.ctx.checkpoints.delete(key);
    } catch (err) {
      this.log.warn({ err }, 'cannot delete checkpoint');
    }
  }

  private async collect(): Promise<void> {
    const lag = this.ctx.telemetry.gauge(METRICS.logFileLag);
    const watched = this.ctx.telemetry.gauge(METRICS.logFilesWatched);
    lag.reset();
    for (const f of this.files.values()) {
      try {
        await f.stat();
      } catch {
        // closed meanwhile: the last size stands
      }
      lag.labels({ path: f.path }).set(Math.max(0, f.size - f.committed));
    }
    watched.set(this.files.size);
    this.ctx.telemetry.gauge(METRICS.logFileCheckpoints).set(this.checkpoints.size);
    this.ctx.telemetry.gauge(METRICS.logDirectoriesMissing).set(this.discovery.missingDirectories());
  }
}
