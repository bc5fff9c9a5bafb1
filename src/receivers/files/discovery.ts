/** Interim discovery (the full one lands with the discovery branch). */
import type { Stats } from 'node:fs';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import type { Logger } from '../../logger.js';

export interface DiscoveryHandlers {
  add(path: string, stats: Stats, initial: boolean): void;
  change(path: string, stats: Stats | undefined): void;
  unlink(path: string): void;
}
export interface DiscoveryOptions {
  include: string[];
  exclude: string[];
  pollIntervalMs: number | null;
  log: Logger;
}

export class FileDiscovery {
  private watcher: FSWatcher | undefined;
  constructor(
    private readonly options: DiscoveryOptions,
    private readonly handlers: DiscoveryHandlers,
  ) {}

  async start(): Promise<void> {
    const include = this.options.include.map((g) => resolve(g));
    const isMatch = picomatch(include, { dot: true });
    const isExcluded = this.options.exclude.length ? picomatch(this.options.exclude.map((g) => resolve(g)), { dot: true }) : () => false;
    const bases = include.map((g) => picomatch.scan(g).base || '/');
    let initial = true;
    const w = watch(bases, {
      atomic: false,
      alwaysStat: true,
      usePolling: this.options.pollIntervalMs !== null,
      interval: this.options.pollIntervalMs ?? 100,
    });
    this.watcher = w;
    const ok = (p: string) => isMatch(p) && !isExcluded(p);
    w.on('add', (p, st) => ok(p) && st && this.handlers.add(p, st, initial));
    w.on('change', (p, st) => ok(p) && this.handlers.change(p, st));
    w.on('unlink', (p) => ok(p) && this.handlers.unlink(p));
    w.on('error', (err) => this.options.log.warn({ err }, 'file discovery error'));
    await new Promise<void>((r) => w.once('ready', () => r()));
    initial = false;
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
  }
}
