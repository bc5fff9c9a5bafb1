import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscovery, type DiscoveryOptions } from '../../../../src/receivers/files/discovery.js';
import { GlobPaths, watchRoots } from '../../../../src/receivers/files/glob-paths.js';
import { waitFor } from '../../../helpers/wait.js';

type Ev =
  | { type: 'add'; path: string; size: number; ino: number; initial: boolean }
  | { type: 'change'; path: string; size: number; ino: number }
  | { type: 'unlink'; path: string };

interface Harness {
  dir: string;
  events: Ev[];
  logs: Array<{ level: string; msg: string; [k: string]: unknown }>;
  d: FileDiscovery;
  /** Events for a path relative to `dir`. */
  of(rel: string): Ev[];
  /** Relative paths currently added and not unlinked. */
  present(): string[];
}

const open: FileDiscovery[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const d of open.splice(0)) await d.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracetail-discovery-'));
  dirs.push(dir);
  return dir;
}

async function discover(dir: string, opts: Partial<DiscoveryOptions> & { include: string[] }, start = true): Promise<Harness> {
  const events: Ev[] = [];
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const log = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  const d = new FileDiscovery(
    { exclude: [], pollIntervalMs: null, log, ...opts },
    {
      add: (path, stats, initial) => events.push({ type: 'add', path, size: stats.size, ino: stats.ino, initial }),
      change: (path, stats) => events.push({ type: 'change', path, size: stats?.size ?? -1, ino: stats?.ino ?? -1 }),
      unlink: (path) => events.push({ type: 'unlink', path }),
    },
  );
  open.push(d);
  if (start) await d.start();
  return {
    dir,
    events,
    logs,
    d,
    of: (rel) => events.filter((e) => e.path === join(dir, rel)),
    present: () => {
      const live = new Set<string>();
      for (const e of events) {
        if (e.type === 'add') live.add(relative(dir, e.path));
        if (e.type === 'unlink') live.delete(relative(dir, e.path));
      }
      return [...live].sort();
    },
  };
}

const CHILD = resolve(import.meta.dirname, '../../../fixtures/discovery/child.mjs');

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The built discovery in a child process behind `prefix` (another user, another inotify limit). */
function runChild(prefix: string[], options: object): { lines: Array<Record<string, unknown>>; stop(): Promise<void> } {
  const built = resolve(import.meta.dirname, '../../../../dist/receivers/files/discovery.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
  const child: ChildProcess = spawn(prefix[0], [...prefix.slice(1), process.execPath, CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const p of parts) lines.push(JSON.parse(p));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    lines,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const has = (h: Harness, rel: string, pred: (e: Ev) => boolean) => h.of(rel).some(pred);

describe('GlobPaths', () => {
  it('matches files, prunes directories that cannot hold a match, resolves relative globs', () => {
    const g = new GlobPaths(['/var/log/app/**/*.log', 'logs/{a,b/c}/*.txt', '/srv/[xy]z/one.log'], ['/var/log/app/archive/**', '/var/log/**/skip.log', '*.tmp'], '/home/me');
    expect(g.include[1]).toBe('/home/me/logs/{a,b/c}/*.txt');
    expect(g.wantsFile('/var/log/app/x.log')).toBe(true);
    expect(g.wantsFile('/var/log/app/deep/er/x.log')).toBe(true);
    expect(g.wantsFile('/var/log/app/x.log.1.gz')).toBe(false);
    expect(g.wantsFile('/var/log/app/deep/skip.log')).toBe(false);
    expect(g.wantsFile('/var/log/app/archive/old.log')).toBe(false);
    expect(g.wantsFile('/home/me/logs/b/c/x.txt')).toBe(true);
    expect(g.exclude[2]).toBe('/home/me/*.tmp');
    expect(g.wantsFile('/srv/yz/one.log')).toBe(true);
    for (const d of ['/', '/var', '/var/log', '/var/log/app', '/var/log/app/deep/er', '/home/me/logs', '/home/me/logs/b', '/home/me/logs/b/c', '/srv/xz']) {
      expect(g.wantsDir(d), d).toBe(true);
    }
    for (const d of ['/usr', '/var/lib', '/var/log/app/archive', '/var/log/app/.hidden', '/home/me/logs/a/deeper', '/home/me/logs/b/d', '/srv/zz', '/srv/xz/sub']) {
      expect(g.wantsDir(d), d).toBe(false);
    }
    expect(g.bases()).toEqual(['/var/log/app', '/home/me/logs', '/srv']);
  });

  it('watches the parent of each base, or the nearest ancestor that exists, without nesting', () => {
    const exists = (p: string) => ['/', '/var', '/var/log', '/srv'].includes(p);
    expect(watchRoots(['/var/log/app', '/var/log/app/x', '/srv/a/b/c'], exists).sort()).toEqual(['/srv', '/var/log']);
  });
});

describe('FileDiscovery', () => {
  it('reports files present at start as initial, honours include and exclude, then finds later files and nested dirs', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub/deep'), { recursive: true });
    writeFileSync(join(dir, 'a.log'), 'one\n');
    writeFileSync(join(dir, 'sub/deep/b.log'), 'two\n');
    writeFileSync(join(dir, 'a.log.1.gz'), 'zz');
    writeFileSync(join(dir, 'sub/skip.log'), 'no\n');
    writeFileSync(join(dir, 'c.txt'), 'no\n');
    const h = await discover(dir, { include: [join(dir, '**/*.log')], exclude: [join(dir, '**/skip.log')] });
    expect(h.present()).toEqual(['a.log', 'sub/deep/b.log']);
    expect(h.events.every((e) => e.type === 'add' && e.initial)).toBe(true);
    expect(h.of('a.log')[0]).toMatchObject({ size: 4 });

    writeFileSync(join(dir, 'later.log'), 'x\n');
    mkdirSync(join(dir, 'new/nested/dir'), { recursive: true });
    writeFileSync(join(dir, 'new/nested/dir/n.log'), 'y\n');
    writeFileSync(join(dir, 'new/skip.log'), 'no\n');
    await waitFor(() => h.present().length === 4, { what: 'later files' });
    expect(h.present()).toEqual(['a.log', 'later.log', 'new/nested/dir/n.log', 'sub/deep/b.log']);
    expect(h.of('later.log')[0]).toMatchObject({ type: 'add', initial: false });
  });

  it('resolves relative globs against cwd and supports braces and character classes', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'x1'));
    mkdirSync(join(dir, 'x2'));
    mkdirSync(join(dir, 'x3'));
    for (const sub of ['x1', 'x2', 'x3']) writeFileSync(join(dir, sub, 'app.log'), '');
    writeFileSync(join(dir, 'x1/app.out'), '');
    const h = await discover(dir, { include: ['x[12]/*.{log,out}'], cwd: dir });
    expect(h.present()).toEqual(['x1/app.log', 'x1/app.out', 'x2/app.log']);
  });

  it('picks up a base directory created after start, several levels deep', async () => {
    const dir = tempDir();
    const h = await discover(dir, { include: [join(dir, 'not/yet/there/*.log')] });
    expect(h.events).toEqual([]);
    mkdirSync(join(dir, 'not/yet/there'), { recursive: true });
    writeFileSync(join(dir, 'not/yet/there/app.log'), 'hello\n');
    await waitFor(() => h.present().includes('not/yet/there/app.log'), { what: 'file in a late base' });
    appendFileSync(join(dir, 'not/yet/there/app.log'), 'more\n');
    await waitFor(() => has(h, 'not/yet/there/app.log', (e) => e.type === 'change' && e.size === 11), { what: 'change in a late base' });
  });

  it('picks up the base again after it was deleted and created again', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base/a.log'), '');
    const h = await discover(dir, { include: [join(dir, 'base/*.log')] });
    expect(h.present()).toEqual(['base/a.log']);
    rmSync(join(dir, 'base'), { recursive: true });
    await waitFor(() => h.present().length === 0, { what: 'unlink with the base' });
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base/b.log'), '');
    await waitFor(() => h.present().includes('base/b.log'), { what: 'file in the recreated base' });
  });

  it('reports appends and truncation as changes, deletion as unlink', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'start\n');
    const h = await discover(dir, { include: [join(dir, '*.log')] });
    appendFileSync(file, 'line\n');
    await waitFor(() => has(h, 'app.log', (e) => e.type === 'change' && e.size === 11), { what: 'change on append' });
    // Appends in quick succession: the last size is always reported, even when one event is swallowed.
    for (let i = 0; i < 20; i++) appendFileSync(file, 'burst\n');
    await waitFor(() => has(h, 'app.log', (e) => e.type === 'change' && e.size === 11 + 20 * 6), { what: 'change after a burst' });
    truncateSync(file, 0);
    await waitFor(() => has(h, 'app.log', (e) => e.type === 'change' && e.size === 0), { what: 'change on truncation' });
    unlinkSync(file);
    await waitFor(() => h.of('app.log').at(-1)?.type === 'unlink', { what: 'unlink' });
  });

  it('sees a rename away and a new file at the same path (rotation), in order', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'old\n');
    const h = await discover(dir, { include: [join(dir, '*.log')] });
    const oldIno = h.of('app.log')[0].type === 'add' ? (h.of('app.log')[0] as { ino: number }).ino : -1;
    renameSync(file, join(dir, 'app.log.1'));
    await waitFor(() => h.of('app.log').at(-1)?.type === 'unlink', { what: 'unlink on rename away' });
    writeFileSync(file, 'new file\n');
    await waitFor(() => h.of('app.log').at(-1)?.type === 'add', { what: 'add of the new file' });
    expect(h.of('app.log').map((e) => e.type)).toEqual(['add', 'unlink', 'add']);
    const added = h.of('app.log')[2] as { ino: number; initial: boolean };
    expect(added.ino).not.toBe(oldIno);
    expect(added.initial).toBe(false);
    expect(h.of('app.log.1')).toEqual([]);

    // Rename and create back to back: either unlink+add or a change with the new inode, never silence.
    renameSync(file, join(dir, 'app.log.2'));
    writeFileSync(file, 'third\n');
    await waitFor(() => h.of('app.log').find((e, i) => i > 2 && e.type !== 'unlink' && e.ino !== added.ino), { what: 'the third file' });
    expect(h.present()).toEqual(['app.log']);
  });

  it('follows symlinks to files and to directories, reporting the path the glob matched', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    mkdirSync(join(elsewhere, 'real'));
    writeFileSync(join(elsewhere, 'target.log'), 'abc\n');
    writeFileSync(join(elsewhere, 'real/inner.log'), 'inner\n');
    mkdirSync(join(dir, 'logs'));
    symlinkSync(join(elsewhere, 'target.log'), join(dir, 'logs/link.log'));
    symlinkSync(join(elsewhere, 'real'), join(dir, 'logs/linked-dir'));
    const h = await discover(dir, { include: [join(dir, 'logs/**/*.log')] });
    expect(h.present()).toEqual(['logs/link.log', 'logs/linked-dir/inner.log']);
    expect(h.of('logs/link.log')[0]).toMatchObject({ size: 4 });
    appendFileSync(join(elsewhere, 'target.log'), 'def\n');
    await waitFor(() => has(h, 'logs/link.log', (e) => e.type === 'change' && e.size === 8), { what: 'change through a file link' });
    writeFileSync(join(elsewhere, 'real/later.log'), '');
    await waitFor(() => h.present().includes('logs/linked-dir/later.log'), { what: 'later file through a dir link' });
  });

  it('survives symlink loops: warns once, does not hang, still finds other files', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/ok.log'), '');
    symlinkSync(join(dir, 'b.log'), join(dir, 'a.log'));
    symlinkSync(join(dir, 'a.log'), join(dir, 'b.log'));
    symlinkSync('..', join(dir, 'sub/up'));
    symlinkSync(dir, join(dir, 'sub/abs-up'));
    const h = await discover(dir, { include: [join(dir, '**/*.log')] });
    expect(h.present()).toEqual(['sub/ok.log']);
    writeFileSync(join(dir, 'later.log'), '');
    await waitFor(() => h.present().includes('later.log'), { what: 'later file next to loops' });
    expect(h.present()).toEqual(['later.log', 'sub/ok.log']);
    const loops = h.logs.filter((l) => l.level === 'warn' && /symlink loop/.test(l.msg));
    const paths = loops.map((l) => relative(dir, String(l.path))).sort();
    expect(paths).toEqual(expect.arrayContaining(['sub/abs-up', 'sub/up']));
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('logs an unreadable directory and keeps finding the rest (run as an unprivileged user)', async (ctx) => {
    // Root reads through any mode bits, so the discovery runs in a child process as nobody.
    if (process.getuid?.() !== 0 || !hasCommand('setpriv')) return ctx.skip();
    const dir = tempDir();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'locked'));
    writeFileSync(join(dir, 'locked/hidden.log'), '');
    chmodSync(join(dir, 'locked'), 0o000);
    mkdirSync(join(dir, 'open'));
    writeFileSync(join(dir, 'open/a.log'), '');
    chownSync(join(dir, 'open'), 65534, 65534);
    const child = runChild(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], { include: [join(dir, '**/*.log')] });
    try {
      await waitFor(() => child.lines.some((l) => l.type === 'ready'), { what: 'child ready' });
      writeFileSync(join(dir, 'open/b.log'), '');
      await waitFor(() => child.lines.some((l) => l.type === 'add' && l.path === join(dir, 'open/b.log')), { what: 'file next to an unreadable dir' });
      expect(child.lines.filter((l) => l.type === 'add').map((l) => relative(dir, String(l.path)))).toEqual(['open/a.log', 'open/b.log']);
      const denied = child.lines.filter((l) => l.type === 'log' && l.level === 'warn' && l.code === 'EACCES');
      expect(denied.map((l) => l.path)).toEqual([join(dir, 'locked')]);
    } finally {
      await child.stop();
      chmodSync(join(dir, 'locked'), 0o755);
    }
  });

  it('looks again at a file it may not watch, and follows it once it becomes readable (run as an unprivileged user)', async (ctx) => {
    // inotify refuses a watch on a file the user cannot read; the watcher never looks at it again by itself.
    if (process.getuid?.() !== 0 || !hasCommand('setpriv')) return ctx.skip();
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const secret = join(dir, 'secret.log');
    writeFileSync(secret, 'a\n', { mode: 0o600 });
    chmodSync(secret, 0o600);
    const child = runChild(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], { include: [join(dir, '*.log')] });
    try {
      await waitFor(() => child.lines.some((l) => l.type === 'ready'), { what: 'child ready' });
      await waitFor(() => child.lines.some((l) => l.type === 'log' && l.code === 'EACCES' && l.path === secret), { what: 'a warning naming the unreadable file' });
      appendFileSync(secret, 'b\n');
      chmodSync(secret, 0o644);
      await waitFor(() => child.lines.some((l) => l.type === 'change' && l.path === secret && l.size === 4), { what: 'a change once the file is readable' });
      // Watched now: a later append is reported too.
      appendFileSync(secret, 'c\n');
      await waitFor(() => child.lines.some((l) => l.type === 'change' && l.path === secret && l.size === 6), { what: 'a change for an append after that' });
      const ofSecret = child.lines.filter((l) => (l.type === 'add' || l.type === 'unlink') && l.path === secret).map((l) => l.type);
      expect(ofSecret).toEqual(['add']);
    } finally {
      await child.stop();
    }
  });

  it('switches to polling when inotify watches run out, says how to fix it, and keeps finding files', async (ctx) => {
    // A user namespace has its own inotify limit: 40 watches for 100 files.
    if (!hasCommand('unshare') || spawnSync('unshare', ['-U', '-r', 'true']).status !== 0) return ctx.skip();
    const dir = tempDir();
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `f${i}.log`), '');
    const child = runChild(['unshare', '-U', '-r', 'sh', '-c', 'echo 40 > /proc/sys/fs/inotify/max_user_watches && exec "$@"', 'sh'], {
      include: [join(dir, '*.log')],
    });
    try {
      await waitFor(() => child.lines.some((l) => l.type === 'ready'), { what: 'child ready' });
      const adds = child.lines.filter((l) => l.type === 'add');
      expect(adds).toHaveLength(100);
      expect(adds.every((l) => l.initial === true)).toBe(true);
      const err = child.lines.find((l) => l.type === 'log' && l.level === 'error');
      expect(err?.msg).toMatch(/fs\.inotify\.max_user_watches/);
      expect(child.lines.some((l) => l.type === 'log' && l.msg === 'file discovery watching' && l.polling === 1000)).toBe(true);
      writeFileSync(join(dir, 'later.log'), 'x\n');
      appendFileSync(join(dir, 'f5.log'), 'more\n');
      await waitFor(() => child.lines.some((l) => l.type === 'add' && l.path === join(dir, 'later.log')), { what: 'later file after the switch' });
      await waitFor(() => child.lines.some((l) => l.type === 'change' && l.path === join(dir, 'f5.log') && l.size === 5), { what: 'append after the switch' });
      expect(child.lines.filter((l) => l.type === 'add')).toHaveLength(101);
    } finally {
      await child.stop();
    }
  });

  it('polls when pollIntervalMs is set: later files and appends', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'first.log'), 'a\n');
    const h = await discover(dir, { include: [join(dir, '*.log')], pollIntervalMs: 100 });
    expect(h.present()).toEqual(['first.log']);
    writeFileSync(join(dir, 'later.log'), 'b\n');
    await waitFor(() => h.present().includes('later.log'), { what: 'polled later file' });
    appendFileSync(join(dir, 'later.log'), 'more\n');
    await waitFor(() => has(h, 'later.log', (e) => e.type === 'change' && e.size === 7), { what: 'polled append' });
    unlinkSync(join(dir, 'first.log'));
    await waitFor(() => h.of('first.log').at(-1)?.type === 'unlink', { what: 'polled unlink' });
  });

  it('reports 1,000 files in one directory, at start and created later', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'many'));
    mkdirSync(join(dir, 'later'));
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, 'many', `f${i}.log`), '');
    const h = await discover(dir, { include: [join(dir, '*/*.log')] });
    expect(h.present()).toHaveLength(1000);
    expect(h.events.every((e) => e.type === 'add' && e.initial)).toBe(true);
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, 'later', `g${i}.log`), '');
    await waitFor(() => h.present().length === 2000, { timeoutMs: 30_000, what: '1,000 later files' });
    expect(h.events.filter((e) => e.type === 'add').length).toBe(2000);
  });

  it('emits nothing after stop', async () => {
    const dir = tempDir();
    const h = await discover(dir, { include: [join(dir, '*.log')] });
    await h.d.stop();
    writeFileSync(join(dir, 'after.log'), '');
    // A second, running discovery over the same directory sees the file; the stopped one must not.
    const other = await discover(dir, { include: [join(dir, '*.log')] });
    writeFileSync(join(dir, 'after2.log'), '');
    await waitFor(() => other.present().includes('after2.log'), { what: 'the running discovery' });
    expect(h.events).toEqual([]);
  });
});
