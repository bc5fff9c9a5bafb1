/**
 * Odd files through the built CLI. Each case runs beside a steady, ordinary file (`steady.log`,
 * written at 200 lines/s): none may crash the sidecar or stop that file, so every case ends by
 * checking that every steady line arrived exactly once and the sidecar is still running.
 */
import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, openTo, startCli, tempDir, unprivilegedUser } from '../../helpers/cli.js';
import { Store } from '../../../src/storage/store.js';
import { TestCollector } from '../../helpers/collector.js';
import { bodyOf, boolAttribute, CollectorFeed, lines, LogWriter, runLogrotate, scrape, stringAttribute, tailConfig } from '../../helpers/files.js';
import { requireTool } from '../../helpers/tools.js';

let collector: TestCollector | undefined;
let procs: CliProcess[] = [];
let steady: LogWriter | undefined;

afterEach(async () => {
  steady?.kill();
  steady = undefined;
  for (const p of procs.splice(0)) await p.stop();
  await collector?.close();
  collector = undefined;
});

interface Harness {
  dir: string;
  logs: string;
  feed: CollectorFeed;
  proc: CliProcess;
  config: Record<string, unknown>;
  /** Stop the sidecar (SIGTERM), run `between`, start it again on the same state. */
  restart(between?: () => void): Promise<CliProcess>;
  /** Stop the steady writer, and check its every line arrived exactly once and the sidecar runs. */
  steadyFlowed(): Promise<void>;
}

async function harness(extra: Record<string, unknown> = {}, before?: (dir: string, logs: string) => void): Promise<Harness> {
  const dir = tempDir('tracetail-edge-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  before?.(dir, logs);
  collector = await TestCollector.start();
  const feed = new CollectorFeed(collector);
  const config = tailConfig(dir, collector.url, extra);
  const h: Harness = {
    dir,
    logs,
    feed,
    config,
    proc: await startCli({ dir, config }),
    async restart(between) {
      expect(await h.proc.stop()).toBe(0);
      between?.();
      h.proc = await startCli({ dir, config });
      procs.push(h.proc);
      return h.proc;
    },
    async steadyFlowed() {
      const total = await steady!.stop();
      steady = undefined;
      await feed.waitForAll('steady', total, 30_000);
      expect(h.proc.exitCode).toBe(null);
      expect(h.proc.signal).toBe(null);
      expect(await h.proc.stop()).toBe(0);
      expect(feed.poll().tally('steady', total)).toMatchObject({ missing: 0, duplicates: 0 });
    },
  };
  procs.push(h.proc);
  steady = await LogWriter.start({ file: join(logs, 'steady.log'), rate: 200, name: 'steady', format: 'text' });
  return h;
}

const recordsOf = (h: Harness, file: string) => h.feed.poll().others.filter((r) => stringAttribute(r.attributes, 'log.file.name') === file);

describe('edge cases of log files (built CLI)', () => {
  it('a file deleted and created again on the same inode is read from its start', async (ctx) => {
    const h = await harness();
    const path = join(h.logs, 'reuse.log');
    writeFileSync(path, lines('old', 0, 50));
    await h.feed.waitForAll('old', 50);
    const before = statSync(path).ino;
    rmSync(path);
    // File systems do not always hand a freed inode out at once: create files (under a name the
    // include glob does not match) until one gets it, then move it into place.
    let after = -1;
    for (let i = 0; i < 300 && after !== before; i++) {
      const candidate = join(h.logs, `candidate-${i}`);
      writeFileSync(candidate, lines('new', 0, 20));
      after = statSync(candidate).ino;
      if (after === before) renameSync(candidate, path);
    }
    for (let i = 0; i < 300; i++) rmSync(join(h.logs, `candidate-${i}`), { force: true });
    if (after !== before) {
      await h.steadyFlowed();
      ctx.skip(`the file system gave the new file another inode (${before} -> ${after}): inode reuse not reproducible here`);
    }
    appendFileSync(path, lines('new', 20, 40));
    await h.feed.waitForAll('new', 40);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('new', 40)).toMatchObject({ missing: 0, duplicates: 0 });
    expect(h.feed.ledger.tally('old', 50)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('a checkpoint left on an inode that a new file now has does not place the new file', async () => {
    // Whether a file system hands a freed inode out again is its own business (the test above
    // skips where it does not): here the store is made to say what it would say after a reuse,
    // a checkpoint of the old file's content, past the new file's first line, under the new
    // file's device:inode.
    const h = await harness();
    const oldPath = join(h.logs, 'gone.log');
    writeFileSync(oldPath, lines('old', 0, 50));
    await h.feed.waitForAll('old', 50);
    const path = join(h.logs, 'reused.log');
    await h.restart(() => {
      const store = Store.open(join(h.dir, 'state'), { maxQueueBytes: 1 << 30 });
      const oldKey = `${statSync(oldPath).dev}:${statSync(oldPath).ino}`;
      const saved = store.getCheckpoint<{ offset: number }>(oldKey);
      expect(saved?.offset).toBe(statSync(oldPath).size);
      rmSync(oldPath);
      writeFileSync(path, lines('new', 0, 100)); // longer than the old file: only the fingerprint tells them apart
      const st = statSync(path);
      store.deleteCheckpoint(oldKey);
      store.saveCheckpoints([{ key: `${st.dev}:${st.ino}`, data: { ...saved, path } }]);
      store.close();
    });
    await h.feed.waitForAll('new', 100);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('new', 100)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('a file shorter than the fingerprint grows, across a restart', async () => {
    const h = await harness();
    const path = join(h.logs, 'tiny.log');
    writeFileSync(path, 'w=tiny seq=0\n');
    await h.feed.waitForAll('tiny', 1);
    appendFileSync(path, 'w=tiny seq=1\n');
    await h.feed.waitForAll('tiny', 2);
    await h.restart();
    appendFileSync(path, lines('tiny', 2, 100)); // now well past the fingerprint's 1 KiB
    await h.feed.waitForAll('tiny', 100);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('tiny', 100)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('truncation to zero, then new lines', async () => {
    const h = await harness();
    const path = join(h.logs, 'trunc.log');
    writeFileSync(path, lines('before', 0, 200));
    await h.feed.waitForAll('before', 200);
    truncateSync(path, 0); // `: > file`
    appendFileSync(path, lines('after', 0, 30));
    await h.feed.waitForAll('after', 30);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('before', 200)).toMatchObject({ missing: 0, duplicates: 0 });
    expect(h.feed.ledger.tally('after', 30)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('a 5 MiB line is cut at max_line_bytes, flagged, and nothing after it is lost', async () => {
    const h = await harness();
    const path = join(h.logs, 'big.log');
    const big = `BIG:${'0123456789abcdef'.repeat((5 * 1024 * 1024) / 16)}`;
    writeFileSync(path, lines('pre', 0, 5) + `${big}\n` + lines('post', 0, 50));
    await h.feed.waitForAll('post', 50);
    const truncatedCount = await scrape(h.proc, 'tracetail_log_lines_truncated_total');
    const pieces = recordsOf(h, 'big.log');
    await h.steadyFlowed();
    expect(pieces.map(bodyOf).join('')).toBe(big);
    const cut = pieces.filter((r) => boolAttribute(r.attributes, 'tracetail.truncated') === true);
    expect(cut.length).toBe(Math.floor(big.length / (1024 * 1024)));
    for (const r of pieces) expect(Buffer.byteLength(bodyOf(r))).toBeLessThanOrEqual(1024 * 1024);
    expect(truncatedCount).toBe(cut.length);
    expect(h.feed.ledger.tally('pre', 5)).toMatchObject({ missing: 0, duplicates: 0 });
    expect(h.feed.ledger.tally('post', 50)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('CRLF line ends: the CR is dropped', async () => {
    const h = await harness();
    writeFileSync(join(h.logs, 'crlf.log'), lines('crlf', 0, 40, '\r\n'));
    await h.feed.waitForAll('crlf', 40);
    await h.steadyFlowed();
    const crlf = h.feed.ledger;
    expect(crlf.tally('crlf', 40)).toMatchObject({ missing: 0, duplicates: 0 });
    const collected = collector!.logRecords().filter((r) => stringAttribute(r.attributes, 'log.file.name') === 'crlf.log');
    for (const r of collected) expect(bodyOf(r)).toMatch(/^w=crlf seq=\d+ the quick brown fox$/);
  });

  it('invalid UTF-8 is replaced and counted', async () => {
    const h = await harness();
    const bad = Buffer.concat([Buffer.from('w=utf seq=0 bad:'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end\n'), Buffer.from(lines('utf', 1, 10))]);
    writeFileSync(join(h.logs, 'utf.log'), bad);
    await h.feed.waitForAll('utf', 10);
    const counted = await scrape(h.proc, 'tracetail_log_invalid_utf8_lines_total');
    await h.steadyFlowed();
    const first = collector!.logRecords().find((r) => bodyOf(r).startsWith('w=utf seq=0 '))!;
    expect(bodyOf(first)).toBe('w=utf seq=0 bad:\uFFFD\uFFFD\uFFFD end');
    expect(counted).toBe(1);
  });

  it('a binary file is skipped with a warning; other files are read', async () => {
    const h = await harness();
    const bin = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) % 251; // NUL bytes among others
    writeFileSync(join(h.logs, 'image.log'), bin);
    writeFileSync(join(h.logs, 'text.log'), lines('text', 0, 20));
    await h.feed.waitForAll('text', 20);
    await h.proc.waitForLog((l) => /binary/.test(l.msg) && String(l.path).endsWith('image.log'), 10_000, 'a warning naming the binary file');
    expect(await scrape(h.proc, 'tracetail_log_files_skipped_total', { reason: 'binary' })).toBe(1);
    await h.steadyFlowed();
    expect(recordsOf(h, 'image.log')).toEqual([]);
  });

  it('a symlink loop in the log directory', async () => {
    const h = await harness({}, (_dir, logs) => {
      symlinkSync('.', join(logs, 'loop')); // logs/loop -> logs: logs/loop/loop/... forever
    });
    symlinkSync(join(h.logs, 'b'), join(h.logs, 'a.log'));
    symlinkSync(join(h.logs, 'a.log'), join(h.logs, 'b')); // a.log -> b -> a.log
    mkdirSync(join(h.logs, 'sub'));
    symlinkSync('..', join(h.logs, 'sub', 'up')); // sub/up -> logs
    writeFileSync(join(h.logs, 'sub', 'inner.log'), lines('inner', 0, 20));
    await h.feed.waitForAll('inner', 20);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('inner', 20)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('a file without read permission is skipped, and read once it becomes readable', async (ctx) => {
    const user = unprivilegedUser();
    if (!user) ctx.skip('needs root to start the sidecar as an unprivileged user (root reads every file)');
    const dir = tempDir('tracetail-perm-');
    const logs = join(dir, 'logs');
    openTo(dir, logs, join(dir, 'state'), join(dir, 'export'));
    const secret = join(logs, 'secret.log');
    writeFileSync(secret, lines('secret', 0, 10), { mode: 0o600 });
    chmodSync(secret, 0o600);
    collector = await TestCollector.start();
    const feed = new CollectorFeed(collector);
    // As an ordinary user (nobody), as in a restricted pod.
    const proc = await startCli({ dir, config: tailConfig(dir, collector.url), user });
    procs.push(proc);
    steady = await LogWriter.start({ file: join(logs, 'steady.log'), rate: 200, name: 'steady', format: 'text' });
    await proc.waitForLog((l) => String(l.path ?? '').endsWith('secret.log') && /cannot open/.test(l.msg), 10_000, 'a warning naming the unreadable file');
    expect(await scrape(proc, 'tracetail_log_files_skipped_total', { reason: 'unreadable' })).toBe(1);
    chmodSync(secret, 0o644);
    appendFileSync(secret, lines('secret', 10, 20));
    await feed.waitForAll('secret', 20, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\nsidecar log:\n${proc.stderr.slice(-3000)}`);
    });
    const total = await steady.stop();
    steady = undefined;
    await feed.waitForAll('steady', total);
    expect(proc.exitCode).toBe(null);
    expect(await proc.stop()).toBe(0);
    expect(feed.poll().tally('secret', 20)).toMatchObject({ missing: 0, duplicates: 0 });
    expect(feed.ledger.tally('steady', total)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('start_at: end skips what a file held at start; a file created later is read from its start', async () => {
    const h = await harness({ logs: { start_at: 'end' } }, (_dir, logs) => writeFileSync(join(logs, 'old.log'), lines('pre', 0, 100)));
    // What the file holds when tailing starts is skipped: append only after that.
    await h.proc.waitForLog((l) => l.component === 'receiver/files' && l.msg === 'tailing', 15_000, 'tailing started');
    appendFileSync(join(h.logs, 'old.log'), lines('post', 0, 30));
    writeFileSync(join(h.logs, 'later.log'), lines('later', 0, 30));
    await h.feed.waitForAll('post', 30);
    await h.feed.waitForAll('later', 30);
    await h.steadyFlowed();
    expect(h.feed.ledger.distinct('pre', 100)).toBe(0);
    expect(h.feed.ledger.tally('post', 30)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it('start_at: beginning reads what a file held at start', async () => {
    const h = await harness({ logs: { start_at: 'beginning' } }, (_dir, logs) => writeFileSync(join(logs, 'old.log'), lines('pre', 0, 100)));
    appendFileSync(join(h.logs, 'old.log'), lines('post', 0, 30));
    await h.feed.waitForAll('post', 30);
    await h.feed.waitForAll('pre', 100);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('pre', 100)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  // logrotate's `compress` without `delaycompress`: renamed, a new file created, the old one
  // compressed and removed (by logrotate itself, and by hand). Compressed before the new file is
  // created, the old file's inode is free for the new one (this file system hands it out again at
  // once): the rest is then found as a copy of the old content, as after a copytruncate, which
  // with `compress` leaves its copy only as a .gz.
  const compressions = [
    { order: 'by logrotate', rotate: 'logrotate' },
    { order: 'by logrotate, copytruncate', rotate: 'logrotate copytruncate' },
    { order: 'renamed, new file, then compressed', rotate: 'create first' },
    { order: 'compressed before the new file is created', rotate: 'compress first' },
  ] as const;
  // Without logrotate its case is skipped with a message naming the install command (CI: fails).
  const runnable = compressions.filter((c) => !c.rotate.startsWith('logrotate') || requireTool('logrotate'));
  it.each(runnable)('the rest of a file rotated and gzip-compressed while stopped is read from the .gz ($order)', async ({ rotate }) => {
    const h = await harness();
    const path = join(h.logs, 'zipped.log');
    writeFileSync(path, lines('zipped', 0, 1000));
    await h.feed.waitForAll('zipped', 1000);
    await h.restart(() => {
      appendFileSync(path, lines('zipped', 1000, 2000)); // written while stopped
      if (rotate.startsWith('logrotate')) {
        const conf = join(h.dir, 'logrotate-compress-now.conf');
        const how = rotate === 'logrotate' ? 'create 0644' : 'copytruncate';
        writeFileSync(conf, `${path} {\n  rotate 5\n  ${how}\n  compress\n  missingok\n}\n`);
        runLogrotate(conf, join(h.dir, 'logrotate.state'));
      } else {
        renameSync(path, `${path}.1`);
        if (rotate === 'create first') writeFileSync(path, '');
        writeFileSync(`${path}.1.gz`, gzipSync(readFileSync(`${path}.1`)));
        rmSync(`${path}.1`);
      }
      appendFileSync(path, lines('zipped', 2000, 2500));
    });
    await h.feed.waitForAll('zipped', 2500);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('zipped', 2500)).toMatchObject({ missing: 0, duplicates: 0 });
    if (rotate === 'logrotate' || rotate === 'create first') {
      // Where each line was read from: the lines written while stopped, from the compressed copy.
      const from = (seq: number) => stringAttribute(collector!.logRecords().find((r) => bodyOf(r) === `w=zipped seq=${seq} the quick brown fox`)?.attributes, 'log.file.name');
      expect([from(999), from(1000), from(1999), from(2000)]).toEqual(['zipped.log', 'zipped.log.1.gz', 'zipped.log.1.gz', 'zipped.log']);
    }
  });

  it('after a clean stop (SIGTERM) a restart resumes from the checkpoint without duplicates', async () => {
    const h = await harness();
    const path = join(h.logs, 'resume.log');
    writeFileSync(path, lines('resume', 0, 1000));
    await h.feed.waitForAll('resume', 1000);
    expect(await h.proc.stop()).toBe(0);
    appendFileSync(path, lines('resume', 1000, 2000)); // written while stopped
    h.proc = await startCli({ dir: h.dir, config: h.config });
    procs.push(h.proc);
    appendFileSync(path, lines('resume', 2000, 2500));
    await h.feed.waitForAll('resume', 2500);
    await h.steadyFlowed();
    expect(h.feed.ledger.tally('resume', 2500)).toMatchObject({ missing: 0, duplicates: 0 });
  });
});
