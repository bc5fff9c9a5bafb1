/**
 * Faults of the files around the sidecar, through the built CLI: the log directory removed and
 * created again, a file's permissions taken away and given back, a log path that becomes a
 * directory. After each, lines written before and after the fault arrive exactly once, the
 * sidecar keeps running, and it does not spin while it waits for the files to come back. And
 * what the sidecar keeps of files is bounded: the checkpoints of deleted files go while it runs.
 */
import { appendFileSync, chmodSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTo, tempDir, unprivilegedUser, type CliProcess, type User } from '../../helpers/cli.js';
import { CollectorFeed, lines, scrape, Started, tailConfig } from '../../helpers/files.js';
import { waitFor } from '../../helpers/wait.js';
import { Store } from '../../../src/storage/store.js';

const started = new Started();
afterEach(() => started.stop());

async function harness(options: { include?: (logs: string) => string; user?: User; extra?: Record<string, unknown> } = {}) {
  const dir = tempDir('tracetail-surroundings-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  if (options.user) openTo(dir, logs, join(dir, 'state'), join(dir, 'export'));
  const feed = new CollectorFeed(await started.collector());
  const config = tailConfig(dir, feed.collector.url, { ...options.extra, logs: { include: [options.include?.(logs) ?? join(logs, '**/*.log')] } });
  const start = () => started.cli({ dir, config, user: options.user });
  return {
    dir,
    logs,
    feed,
    proc: await start(),
    /** Stop the sidecar (SIGTERM) and start it again on the same state. */
    async restart(): Promise<CliProcess> {
      expect(await this.proc.stop()).toBe(0);
      this.proc = await start();
      return this.proc;
    },
    /** Check every line 0..total-1 of each writer arrived exactly once, and the sidecar still runs. */
    async exactlyOnce(totals: Record<string, number>): Promise<void> {
      for (const [name, total] of Object.entries(totals)) await feed.waitForAll(name, total, 15_000);
      expect(this.proc.exitCode).toBe(null);
      expect(this.proc.signal).toBe(null);
      for (const [name, total] of Object.entries(totals)) expect({ name, ...feed.poll().tally(name, total) }).toEqual({ name, missing: 0, firstMissing: [], duplicates: 0, beyond: 0 });
    },
  };
}

/** CPU seconds the sidecar used over `ms` (its own process metric, scraped before and after). */
async function cpuOver(proc: CliProcess, ms: number): Promise<number> {
  const before = await scrape(proc, 'process_cpu_seconds_total');
  const until = Date.now() + ms;
  await waitFor(() => Date.now() >= until, { timeoutMs: ms + 1000, intervalMs: 50, what: 'the measuring window' });
  return (await scrape(proc, 'process_cpu_seconds_total')) - before;
}

/** Log lines of the sidecar at warn or above that name `path`. */
const warningsAbout = (proc: CliProcess, path: string) => proc.logs.filter((l) => (l.level === 'warn' || l.level === 'error') && JSON.stringify(l).includes(path));

describe('faults of the log files around the sidecar (built CLI)', () => {
  it('the log directory removed while tailing and created again: its new files are read, nothing spins', async () => {
    const h = await harness({ include: (logs) => join(logs, 'app/*.log') });
    const app = join(h.logs, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'a.log'), lines('before', 0, 100));
    await h.feed.waitForAll('before', 100, 15_000);

    // The directory named by the glob goes, then the one the watcher stands on.
    for (const [round, gone] of [app, h.logs].entries()) {
      rmSync(gone, { recursive: true });
      await waitFor(async () => (await scrape(h.proc, 'tracetail_log_files_watched')) === 0, { timeoutMs: 15_000, what: 'the deleted file to be read to its end and closed' });
      await waitFor(async () => (await scrape(h.proc, 'tracetail_log_directories_missing')) === 1, { timeoutMs: 5000, what: 'the directory counted missing' });
      expect(h.proc.logs.filter((l) => l.msg.startsWith('log directory removed') && l.directory === app)).toHaveLength(round + 1);
      // Waiting for the files to come back costs next to nothing (an idle sidecar: ~1% of a core).
      const cpu = await cpuOver(h.proc, 2000);
      expect(cpu).toBeLessThan(0.3);
      mkdirSync(app, { recursive: true });
      writeFileSync(join(app, 'a.log'), lines(`again${round}`, 0, 50));
      writeFileSync(join(app, 'b.log'), lines(`new${round}`, 0, 50));
      await h.feed.waitForAll(`again${round}`, 50, 15_000);
      appendFileSync(join(app, 'b.log'), lines(`new${round}`, 50, 100));
      await h.feed.waitForAll(`new${round}`, 100, 15_000);
      expect(await scrape(h.proc, 'tracetail_log_directories_missing')).toBe(0);
      const back = (l: { msg: string; directory?: unknown }) => l.msg.startsWith('log directory created') && l.directory === app;
      await waitFor(() => h.proc.logs.filter(back).length === round + 1, { timeoutMs: 5000, what: 'the directory logged as back' });
    }
    await h.exactlyOnce({ before: 100, again0: 50, new0: 100, again1: 50, new1: 100 });
  });

  it('a tailed file made unreadable (chmod 000) and readable again: nothing lost, nothing twice, one warning', async (ctx) => {
    const user = unprivilegedUser();
    if (!user) ctx.skip('needs root, to start the sidecar as an unprivileged user (root reads every file) and still write to the file it cannot read');
    const h = await harness({ user });
    const path = join(h.logs, 'locked.log');
    writeFileSync(path, lines('locked', 0, 100), { mode: 0o644 });
    await h.feed.waitForAll('locked', 100, 15_000);
    // Open already: it is read through its handle, as tail -f does; the mode is checked at open.
    chmodSync(path, 0o000);
    appendFileSync(path, lines('locked', 100, 200));
    await h.feed.waitForAll('locked', 200, 15_000);
    // Started again while the file is unreadable: it cannot be opened.
    await h.restart();
    appendFileSync(path, lines('locked', 200, 300));
    await h.proc.waitForLog((l) => String(l.path ?? '').endsWith('locked.log') && l.level === 'warn', 15_000, 'a warning naming the unreadable file');
    const warnedAt = Date.now();
    // Looked at again every second meanwhile, and past a round of checkpoint pruning (every 5 s):
    // still one warning and one count, and the row of the file, which exists, is kept.
    await waitFor(() => Date.now() - warnedAt > 6000, { timeoutMs: 8000, what: 'a few looks at the file' });
    expect(warningsAbout(h.proc, path).length).toBe(1);
    expect(await scrape(h.proc, 'tracetail_log_files_skipped_total', { reason: 'unreadable' })).toBe(1);
    expect(h.feed.poll().anyIn('locked', 200)).toBe(false);
    chmodSync(path, 0o644);
    await h.feed.waitForAll('locked', 300, 15_000);
    appendFileSync(path, lines('locked', 300, 350));
    await h.exactlyOnce({ locked: 350 });
    expect(warningsAbout(h.proc, path).length).toBe(1);
  });

  it('a log path that becomes a directory and a file again', async () => {
    const h = await harness();
    const path = join(h.logs, 'app.log');
    writeFileSync(path, lines('file', 0, 100));
    await h.feed.waitForAll('file', 100, 15_000);
    rmSync(path);
    mkdirSync(path);
    // A directory named like a log file is a directory: what it holds is matched like any other.
    writeFileSync(join(path, 'inner.log'), lines('inner', 0, 50));
    await h.feed.waitForAll('inner', 50, 15_000);
    await waitFor(async () => (await scrape(h.proc, 'tracetail_log_files_watched')) === 1, { timeoutMs: 15_000, what: 'the deleted file to be closed' });
    const cpu = await cpuOver(h.proc, 2000);
    expect(cpu).toBeLessThan(0.3);
    expect(warningsAbout(h.proc, path)).toEqual([]);
    rmSync(path, { recursive: true });
    writeFileSync(path, lines('again', 0, 50));
    await h.feed.waitForAll('again', 50, 15_000);
    appendFileSync(path, lines('again', 50, 100));
    await h.exactlyOnce({ file: 100, inner: 50, again: 100 });
    expect(await scrape(h.proc, 'tracetail_component_errors_total', { component: 'receiver/files', stage: 'read' })).toBe(0);
  });

  it('checkpoints of deleted files are removed while running; a rotated file keeps its row while it exists', async () => {
    const h = await harness();
    const checkpoints = () => scrape(h.proc, 'tracetail_log_file_checkpoints');
    const watched = () => scrape(h.proc, 'tracetail_log_files_watched');
    const N = 20;
    for (let i = 0; i < N; i++) writeFileSync(join(h.logs, `n${i}.log`), lines(`n${i}`, 0, 20));
    const app = join(h.logs, 'app.log');
    writeFileSync(app, lines('app', 0, 100));
    for (let i = 0; i < N; i++) await h.feed.waitForAll(`n${i}`, 20, 15_000);
    await h.feed.waitForAll('app', 100, 15_000);
    await waitFor(async () => (await checkpoints()) === N + 1, { timeoutMs: 10_000, what: 'a checkpoint per file' });

    for (let i = 0; i < N; i++) rmSync(join(h.logs, `n${i}.log`));
    // Rotated to a name the glob does not match: read to its end, closed, its row kept.
    renameSync(app, `${app}.1`);
    writeFileSync(app, lines('app', 100, 200));
    await h.feed.waitForAll('app', 200, 15_000);
    await waitFor(async () => (await watched()) === 1, { timeoutMs: 15_000, what: 'the deleted and rotated files to be closed' });
    await waitFor(async () => (await checkpoints()) === 2, { timeoutMs: 10_000, what: 'the rows of the deleted files to go' });
    // Gone later (logrotate removes the oldest generation): its row goes too, while running.
    rmSync(`${app}.1`);
    await waitFor(async () => (await checkpoints()) === 1, { timeoutMs: 15_000, what: 'the row of the rotated file deleted later to go' });
    await h.exactlyOnce({ app: 200 });
    expect(await h.proc.stop()).toBe(0);

    const st = statSync(app);
    const store = Store.open(join(h.dir, 'state'), { maxQueueBytes: 1 << 30 });
    try {
      expect(store.allCheckpoints().map((c) => c.key)).toEqual([`${st.dev}:${st.ino}`]);
    } finally {
      store.close();
    }
    // Started again, it reads only what is new.
    await h.restart();
    const more = lines('app', 200, 210);
    appendFileSync(app, more);
    await h.feed.waitForAll('app', 210, 15_000);
    expect(await scrape(h.proc, 'tracetail_log_bytes_read_total')).toBe(Buffer.byteLength(more));
    await h.exactlyOnce({ app: 210 });
    for (let i = 0; i < N; i++) expect(h.feed.ledger.tally(`n${i}`, 20)).toMatchObject({ missing: 0, duplicates: 0 });
  });
});
