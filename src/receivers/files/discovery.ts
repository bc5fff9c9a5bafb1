/**
 * Finds the files `logs.include` / `logs.exclude` select and reports them appearing, changing and
 * going away, with inotify (or polling when `logs.poll_interval` is set or inotify watches run out).
 *
 * Guarantees to the handlers, per path: `add` and `unlink` alternate (never two adds without an
 * unlink between them), `change` only comes for a path that was added, and an append is followed
 * by a `change` even when the watcher's own 50 ms de-duplication swallowed its event (a stat
 * 60 ms after the last event of a path catches what was missed).
 *
 * A file inotify may not watch (no read permission) is still reported by the watcher, which then
 * never reports it again: such files are looked at every DENIED_RECHECK_MS, and once readable they
 * are reported as changed (or added) and handed to the watcher again.
 *
 * The surroundings may change under the watcher: a directory it stands on (a root) removed with
 * everything in it (`rm -rf`, a volume unmounted) leaves it watching nothing, so the roots are
 * looked at every SURROUNDINGS_CHECK_MS and, when one is gone, the watcher starts over from the
 * nearest directory that exists, as it does at start for a base not created yet (and as the
 * Collector's filelog, Fluent Bit and Vector keep looking for their globs). An include base
 * directory that goes away or comes back is logged once each way. A watched file replaced by a
 * directory of the same name is reported gone, and the directory is handed to the watcher: the
 * watcher itself only reports a change of the file.
 */
import { constants, existsSync, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FSWatcher } from 'chokidar';
import type { Logger } from '../../logger.js';
import { GlobPaths, watchRoots } from './glob-paths.js';

export interface DiscoveryHandlers {
  /** A matching file exists (found at start when initial=true, or appeared later). stats from fs.stat (symlinks followed). */
  add(path: string, stats: Stats, initial: boolean): void;
  /** A matching file changed (written, truncated, replaced: compare `stats.ino`/`stats.dev`). */
  change(path: string, stats: Stats | undefined): void;
  /** A matching path went away (deleted or renamed away). */
  unlink(path: string): void;
}

export interface DiscoveryOptions {
  include: string[];
  exclude: string[];
  /** Poll every this many ms instead of using inotify; null for inotify. */
  pollIntervalMs: number | null;
  log: Logger;
  /** Relative globs are resolved against this; defaults to the process's cwd. */
  cwd?: string;
}

/** After the last event of a path, stat it once more this much later (just past chokidar's 50 ms change throttle). */
export const SETTLE_CHECK_MS = 60;
/** Poll interval used when inotify watches run out and `logs.poll_interval` was not set. */
export const FALLBACK_POLL_INTERVAL_MS = 1000;
/** How often files denied to the watcher are checked for having become readable. */
export const DENIED_RECHECK_MS = 1000;
/** How often the watcher's roots and the include bases are looked at (removed, created again). */
export const SURROUNDINGS_CHECK_MS = 1000;
/** Keys of one-time warnings kept at most (a directory that keeps failing is warned about once). */
const MAX_WARNED = 10_000;

interface Known {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  settle?: NodeJS.Timeout;
}

export class FileDiscovery {
  private readonly paths: GlobPaths;
  private readonly log: Logger;
  private readonly known = new Map<string, Known>();
  /** Identity (dev:ino) of each directory the watcher entered, to recognise a directory that is its own ancestor. */
  private readonly dirIds = new Map<string, string>();
  private readonly warned = new Set<string>();
  /** Matching files the watcher could not watch for lack of permission, checked on a timer. */
  private readonly denied = new Set<string>();
  private deniedTimer: NodeJS.Timeout | undefined;
  private surroundingsTimer: NodeJS.Timeout | undefined;
  /** The directories the current watcher was given. */
  private watchedRoots: string[] = [];
  /** Include base directories found missing (at start, or removed since). */
  private readonly missingBases = new Set<string>();
  private watcher: FSWatcher | undefined;
  private polling: boolean;
  private pollIntervalMs: number;
  private ready = false;
  private stopped = false;
  private switching: Promise<void> | undefined;
  /** Settles the promise of the current watcher's `ready` (also when it is closed before). */
  private settleReady: (() => void) | undefined;

  constructor(
    options: DiscoveryOptions,
    private readonly handlers: DiscoveryHandlers,
  ) {
    this.paths = new GlobPaths(options.include, options.exclude, options.cwd ?? process.cwd());
    this.log = options.log;
    this.polling = options.pollIntervalMs !== null;
    this.pollIntervalMs = options.pollIntervalMs ?? FALLBACK_POLL_INTERVAL_MS;
  }

  /** Resolves after the initial scan, once add(..., true) was called for every file present. */
  async start(): Promise<void> {
    if (this.paths.include.length === 0) {
      this.ready = true;
      return;
    }
    await this.watch(undefined);
    // inotify ran out during the scan: the polling watcher's scan is the initial one.
    while (this.switching) await this.switching;
    this.ready = true;
    this.warnUnmatched();
    for (const base of this.paths.bases()) if (!existsSync(base)) this.missingBases.add(base);
    this.surroundingsTimer = setInterval(() => this.checkSurroundings(), SURROUNDINGS_CHECK_MS);
    this.surroundingsTimer.unref();
  }

  /** Include base directories that do not exist now (not created or mounted yet, or removed). */
  missingDirectories(): number {
    let n = 0;
    for (const base of new Set(this.paths.bases())) if (!existsSync(base)) n++;
    return n;
  }

  /** A root gone: watch again from what exists. An include base gone or back: say so, once. */
  private checkSurroundings(): void {
    if (this.stopped) return;
    for (const base of new Set(this.paths.bases())) {
      const exists = existsSync(base);
      if (!exists && !this.missingBases.has(base)) {
        this.missingBases.add(base);
        this.log.warn({ directory: base }, 'log directory removed; its files are read again once it is created');
      } else if (exists && this.missingBases.delete(base)) {
        this.log.info({ directory: base }, 'log directory created; reading its files');
      }
    }
    const gone = this.watchedRoots.filter((r) => !existsSync(r));
    if (gone.length === 0 || this.switching) return;
    this.log.warn({ removed: gone, roots: this.roots() }, 'watched directory removed; watching from the nearest directory that exists');
    this.rewatch();
  }

  /** Says which include globs found nothing at start: a typo, or a volume not mounted. */
  private warnUnmatched(): void {
    for (const { glob, base } of this.paths.unmatched([...this.known.keys()])) {
      const missing = !existsSync(base);
      this.log.warn(
        { include: glob, directory: base, directory_exists: !missing },
        `logs.include matches no file${missing ? `: ${base} does not exist` : ''}; files that appear later are read`,
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.deniedTimer);
    clearInterval(this.surroundingsTimer);
    this.denied.clear();
    for (const k of this.known.values()) clearTimeout(k.settle);
    this.known.clear();
    await this.switching;
    const w = this.watcher;
    this.watcher = undefined;
    this.settleReady?.();
    await w?.close();
  }

  /** The directories being handed to the watcher (for tests and the startup log). */
  roots(): string[] {
    return watchRoots(this.paths.bases(), existsSync);
  }

  /**
   * Starts a watcher over the roots and resolves on its `ready`. With `seen` (a restart after
   * switching to polling), paths known before and not found by the new scan are unlinked.
   */
  private watch(seen: Set<string> | undefined): Promise<void> {
    const roots = this.roots();
    this.watchedRoots = roots;
    const w = new FSWatcher({
      persistent: true,
      ignoreInitial: false,
      followSymlinks: true,
      alwaysStat: true,
      // atomic mode turns unlink+add within 100 ms into a change: that hides rename-and-create rotations.
      atomic: false,
      awaitWriteFinish: false,
      usePolling: this.polling,
      interval: this.pollIntervalMs,
      binaryInterval: this.pollIntervalMs,
      ignorePermissionErrors: false,
      ignored: (path: string, stats?: Stats) => this.ignored(path, stats),
    });
    this.watcher = w;
    w.on('add', (path: string, stats?: Stats) => {
      seen?.add(path);
      void this.onAdd(w, path, stats);
    });
    w.on('change', (path: string, stats?: Stats) => void this.onChange(w, path, stats));
    w.on('unlink', (path: string) => this.onUnlink(w, path));
    w.on('unlinkDir', (path: string) => this.dirIds.delete(path));
    w.on('error', (err: unknown) => this.onError(w, err));
    this.log.info({ roots, include: this.paths.include, exclude: this.paths.exclude, polling: this.polling ? this.pollIntervalMs : false }, 'file discovery watching');
    return new Promise<void>((resolveReady) => {
      this.settleReady = resolveReady;
      w.once('ready', () => {
        if (seen && w === this.watcher && !this.stopped) {
          for (const path of [...this.known.keys()]) if (!seen.has(path)) this.emitUnlink(path);
        }
        resolveReady();
      });
      w.add(roots);
    });
  }

  /** chokidar's filter: true drops the path (and, for a directory, everything under it). */
  private ignored(path: string, stats?: Stats): boolean {
    if (!stats) return !this.paths.wantsFile(path) && !this.paths.wantsDir(path);
    if (stats.isFile()) return !this.paths.wantsFile(path);
    if (stats.isDirectory()) {
      if (!this.paths.wantsDir(path)) return true;
      return this.isLoop(path, stats);
    }
    // A symlink seen by readdir (lstat): followed later, decide then. Fifos, sockets, devices: never.
    if (stats.isSymbolicLink()) return !this.paths.wantsFile(path) && !this.paths.wantsDir(path);
    return true;
  }

  /** A directory reached through a symlink that leads back to one of its own ancestors. */
  private isLoop(path: string, stats: Stats): boolean {
    const id = `${stats.dev}:${stats.ino}`;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if (this.dirIds.get(dir) === id) {
        this.warnOnce(`loop:${path}`, { path, sameAs: dir }, 'symlink loop: directory is its own ancestor, not followed');
        return true;
      }
      if (dirname(dir) === dir) break;
    }
    this.dirIds.set(path, id);
    return false;
  }

  private async onAdd(w: FSWatcher, path: string, stats: Stats | undefined): Promise<void> {
    const initial = !this.ready;
    if (!stats) stats = await this.statOrUndefined(path);
    if (!stats || this.stopped || w !== this.watcher) return;
    if (!stats.isFile()) return;
    const k = this.known.get(path);
    if (k) {
      if (differs(k, stats)) this.emitChange(path, stats);
      else this.settle(path);
      return;
    }
    this.known.set(path, snapshot(stats));
    this.handlers.add(path, stats, initial);
    this.settle(path);
  }

  private async onChange(w: FSWatcher, path: string, stats: Stats | undefined): Promise<void> {
    if (!stats) stats = await this.statOrUndefined(path);
    if (!stats || this.stopped || w !== this.watcher) return;
    if (stats.isDirectory()) return this.becameDirectory(w, path);
    if (!this.known.has(path)) {
      // Unlinked by a settle check while the watcher still tracked it: it is back.
      this.known.set(path, snapshot(stats));
      this.handlers.add(path, stats, false);
      this.settle(path);
      return;
    }
    this.emitChange(path, stats);
  }

  private onUnlink(w: FSWatcher, path: string): void {
    if (this.stopped || w !== this.watcher) return;
    this.emitUnlink(path);
  }

  private emitChange(path: string, stats: Stats): void {
    const k = this.known.get(path);
    if (!k) return;
    k.dev = stats.dev;
    k.ino = stats.ino;
    k.size = stats.size;
    k.mtimeMs = stats.mtimeMs;
    this.handlers.change(path, stats);
    this.settle(path);
  }

  private emitUnlink(path: string): void {
    const k = this.known.get(path);
    if (!k) return;
    clearTimeout(k.settle);
    this.known.delete(path);
    this.handlers.unlink(path);
  }

  /** (Re)arms the settle check of a path: one stat SETTLE_CHECK_MS after its last event. */
  private settle(path: string): void {
    const k = this.known.get(path);
    if (!k) return;
    if (k.settle) {
      k.settle.refresh();
      return;
    }
    k.settle = setTimeout(() => {
      k.settle = undefined;
      void this.settleCheck(path, k);
    }, SETTLE_CHECK_MS);
    k.settle.unref();
  }

  private async settleCheck(path: string, k: Known): Promise<void> {
    const stats = await this.statOrUndefined(path);
    if (this.stopped || this.known.get(path) !== k) return;
    if (stats?.isDirectory()) this.becameDirectory(this.watcher, path);
    else if (!stats || !stats.isFile()) this.emitUnlink(path);
    else if (differs(k, stats)) this.emitChange(path, stats);
  }

  /**
   * A file's path names a directory now (the file removed, a directory made in its place): the
   * file is gone, and the watcher, which took the directory for the file changing, is given the
   * directory to scan (what it holds is matched like anything else).
   */
  private becameDirectory(w: FSWatcher | undefined, path: string): void {
    this.emitUnlink(path);
    if (!w || w !== this.watcher || this.stopped) return;
    w.unwatch(path);
    w.add(path);
  }

  private async statOrUndefined(path: string): Promise<Stats | undefined> {
    try {
      return await stat(path);
    } catch {
      return undefined;
    }
  }

  private onError(w: FSWatcher, err: unknown): void {
    if (this.stopped || w !== this.watcher) return;
    const e = err as NodeJS.ErrnoException;
    const code = e?.code;
    const path = e?.path ?? (e as { filename?: string } | undefined)?.filename;
    if (code === 'ENOSPC' && !this.polling) {
      this.log.error(
        { err: e, path, pollIntervalMs: this.pollIntervalMs },
        'out of inotify watches: raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288) or set logs.poll_interval; switching file discovery to polling',
      );
      this.switchToPolling();
      return;
    }
    if (code === 'ELOOP') {
      this.warnOnce(`loop:${path}`, { path }, 'symlink loop: path not followed');
      return;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      if (typeof path === 'string' && this.paths.wantsFile(path)) void this.onDeniedFile(w, path, code);
      else this.warnOnce(`${code}:${path}`, { path, code }, 'permission denied: files under this path are not discovered');
      return;
    }
    this.warnOnce(`${code}:${path}:${e?.message}`, { err: e, path, code }, 'file discovery error');
  }

  /** A matching path the watcher may not watch: if it is a file, look at it again until it is readable. */
  private async onDeniedFile(w: FSWatcher, path: string, code: string): Promise<void> {
    const stats = await this.statOrUndefined(path);
    if (this.stopped || w !== this.watcher) return;
    if (!stats?.isFile()) {
      this.warnOnce(`${code}:${path}`, { path, code }, 'permission denied: files under this path are not discovered');
      return;
    }
    this.warnOnce(`${code}:${path}`, { path, code, recheckMs: DENIED_RECHECK_MS }, 'permission denied: file not watched; looked at again until it is readable');
    this.denied.add(path);
    if (!this.deniedTimer) {
      this.deniedTimer = setInterval(() => void this.recheckDenied(), DENIED_RECHECK_MS);
      this.deniedTimer.unref();
    }
  }

  /** Files denied before that are readable now: reported, and handed to the watcher again. */
  private async recheckDenied(): Promise<void> {
    for (const path of [...this.denied]) {
      let stats: Stats;
      try {
        stats = await stat(path);
        await access(path, constants.R_OK);
      } catch (err) {
        // Gone (the watcher reports the unlink), or still unreadable.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.denied.delete(path);
        continue;
      }
      const w = this.watcher;
      if (this.stopped || !w || !this.denied.delete(path)) continue;
      this.warned.delete(`EACCES:${path}`);
      this.warned.delete(`EPERM:${path}`);
      this.log.info({ path }, 'file readable now');
      if (this.known.has(path)) this.emitChange(path, stats);
      else {
        this.known.set(path, snapshot(stats));
        this.handlers.add(path, stats, false);
        this.settle(path);
      }
      // The watcher holds the file as watched without a watch on it: let it start over.
      w.unwatch(path);
      w.add(path);
    }
    if (this.denied.size === 0 && this.deniedTimer) {
      clearInterval(this.deniedTimer);
      this.deniedTimer = undefined;
    }
  }

  /** Replaces the inotify watcher with a polling one; files already known keep their state. */
  private switchToPolling(): void {
    if (this.switching) return;
    this.polling = true;
    this.rewatch();
  }

  /** Replaces the watcher with a new one over the roots as they are now; files already known keep their state. */
  private rewatch(): void {
    const old = this.watcher;
    this.settleReady?.();
    this.switching = (async () => {
      await old?.close();
      if (this.stopped) return;
      await this.watch(new Set());
    })()
      .catch((err: unknown) => this.log.error({ err }, 'file discovery could not start watching again'))
      .finally(() => {
        this.switching = undefined;
      });
  }

  private warnOnce(key: string, obj: object, msg: string): void {
    if (this.warned.has(key)) return;
    if (this.warned.size >= MAX_WARNED) this.warned.clear();
    this.warned.add(key);
    this.log.warn(obj, msg);
  }
}

function snapshot(s: Stats): Known {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

function differs(k: Known, s: Stats): boolean {
  return k.ino !== s.ino || k.dev !== s.dev || k.size !== s.size || k.mtimeMs !== s.mtimeMs;
}
