/**
 * Faults of the storage directory, with the built CLI: a directory that cannot be used at start
 * (under a file, not writable, full) stops the start with one line naming its key (exit 1); at run
 * time a full or unwritable storage answers OTLP clients 503 with Retry-After, counts the refusals
 * by reason, says so in /readyz and keeps the tailer at its last durable position; once there is
 * room again, everything answered 200 and every line written is delivered, exactly once.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/otlp/codec.js';
import { runCli, startCli, tempDir, testConfig, unprivilegedUser, writeConfig, type CliProcess, type StartOptions } from '../helpers/cli.js';
import { TestCollector } from '../helpers/collector.js';
import { seqOf, tally, traceBatch } from '../helpers/export-harness.js';
import { fillFilesystem, mountTmpfs, remount, removeFile, tmpfsSkipReason, unmount } from '../helpers/fs-faults.js';
import { lineSeq, NumberedLogFile, postOtlp, scrape, sdkExport, sdkExporter, sdkSpans, sumOf } from '../helpers/outage.js';
import { waitFor } from '../helpers/wait.js';

const SPAN_REQUEST = 100;
const SDK_FIRST = 1_000_000;

let collector: TestCollector | undefined;
let cli: CliProcess | undefined;
const mounts: string[] = [];

afterEach(async () => {
  await cli?.stop();
  cli = undefined;
  await collector?.close();
  collector = undefined;
  for (const m of mounts.splice(0)) unmount(m);
});

const tmpfsSkip = tmpfsSkipReason(tempDir('tracetail-tmpfs-probe-'));
if (tmpfsSkip) console.warn(`storage-faults: the full-disk tests are skipped: ${tmpfsSkip}`);

function tmpfs(path: string, bytes: number, options: string[] = []): string {
  mountTmpfs(path, bytes, options);
  mounts.push(path);
  return path;
}

/** A CLI config for `dir` exporting to the collector, with its storage in `storage`. */
function faultConfig(dir: string, storage: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return testConfig(dir, {
    logs: { format: 'json' },
    receivers: { otlp: { http: { endpoint: '127.0.0.1:0' } } },
    storage: { directory: storage },
    export: {
      otlp: { endpoint: collector!.url, timeout: '5s' },
      retry: { initial_interval: '100ms', max_interval: '1s' },
      breaker: { probe_interval: '300ms' },
    },
    shutdown_timeout: '3s',
    ...extra,
  });
}

/** `tracetail run` that must not start: its exit code, its one fatal line and whether a stack trace was printed. */
async function failedStart(dir: string, config: Record<string, unknown>, options: Pick<StartOptions, 'user'> = {}) {
  const r = await runCli(['run', '--config', writeConfig(dir, config)], { timeoutMs: 20_000, ...options });
  const fatal = r.logs.filter((l) => l.level === 'fatal');
  return { code: r.code, fatal: fatal.map((l) => l.msg), stack: /\n\s+at /.test(r.stderr) || r.stderr.includes('"stack"') };
}

async function readyz(proc: CliProcess): Promise<{ status: number; body: string }> {
  const res = await fetch(proc.metricsUrl.replace(/\/metrics$/, '/readyz'));
  return { status: res.status, body: await res.text() };
}

/** The CLI started on `config` delivers a line written and an SDK export. */
async function deliversGoodData(dir: string, config: Record<string, unknown>, options: Pick<StartOptions, 'user'> = {}): Promise<void> {
  cli = await startCli({ dir, config, ...options });
  const endpoint = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
  const log = new NumberedLogFile(join(dir, 'logs', 'after.log'));
  log.append(10);
  const sdk = sdkExporter(endpoint);
  expect(await sdkExport(sdk, sdkSpans(SDK_FIRST, 10))).toEqual({ ok: true, error: undefined });
  await sdk.shutdown();
  await waitFor(() => collector!.logRecords().length >= 10 && collector!.spans().length >= 10, { timeoutMs: 20_000, what: 'the line and spans after the fault at the collector' });
  expect(tally(collector!.logRecords().map(lineSeq), 10)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
}

describe('storage faults at start (built CLI)', () => {
  it('a storage directory under a regular file: exit 1 naming the key, no stack trace; then it starts once the path is a directory', async () => {
    collector = await TestCollector.start();
    const dir = tempDir('tracetail-storage-file-');
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const config = faultConfig(dir, join(dir, 'not-a-dir', 'state'));
    const r = await failedStart(dir, config);
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([`storage.directory: cannot create ${join(dir, 'not-a-dir', 'state')}: ${join(dir, 'not-a-dir')} is a file, not a directory (ENOTDIR)`]);
    expect(r.stack).toBe(false);
    removeFile(join(dir, 'not-a-dir'));
    await deliversGoodData(dir, config);
  });

  it('an export file directory under a regular file names export.file.directory', async () => {
    const dir = tempDir('tracetail-export-file-');
    writeFileSync(join(dir, 'file'), 'x');
    const r = await failedStart(dir, testConfig(dir, { export: { file: { directory: join(dir, 'file', 'export') } } }));
    expect(r.code).toBe(1);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toMatch(/^export\.file\.directory: cannot create .*: .*file is a file, not a directory \(ENOTDIR\)$/);
    expect(r.stack).toBe(false);
  });

  it('a storage directory the user cannot write: exit 1 naming the key and the user; then it starts once writable', async () => {
    collector = await TestCollector.start();
    const user = unprivilegedUser();
    const dir = tempDir('tracetail-storage-perm-');
    chmodSync(dir, 0o755);
    const storage = join(dir, 'state');
    mkdirSync(join(dir, 'logs'));
    mkdirSync(storage, { mode: 0o555 });
    chmodSync(storage, 0o555);
    const config = faultConfig(dir, storage);
    const r = await failedStart(dir, config, { user });
    expect(r.code).toBe(1);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toMatch(new RegExp(`^storage\\.directory: cannot write in ${storage}: permission denied for user id ${user?.uid ?? process.getuid!()} \\(EACCES\\)`));
    expect(r.stack).toBe(false);
    chmodSync(storage, 0o777);
    await deliversGoodData(dir, config, { user });
  });

  it.skipIf(tmpfsSkip)('a storage directory on a read-only filesystem: exit 1 naming the key and saying so; then it starts once the mount is writable', async () => {
    collector = await TestCollector.start();
    const dir = tempDir('tracetail-storage-ro-');
    const mount = tmpfs(join(dir, 'ro'), 4 << 20, ['ro']);
    const config = faultConfig(dir, join(mount, 'state'));
    const r = await failedStart(dir, config);
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([`storage.directory: cannot create ${join(mount, 'state')}: the filesystem is read-only (EROFS); mount a writable volume there`]);
    expect(r.stack).toBe(false);
    remount(mount, 'rw');
    await deliversGoodData(dir, config);
  });

  it.skipIf(tmpfsSkip)('a full storage filesystem with no queue to drain: exit 1 saying it is full; then it starts once there is room', async () => {
    collector = await TestCollector.start();
    const dir = tempDir('tracetail-storage-full-start-');
    const mount = tmpfs(join(dir, 'st'), 2 << 20);
    const filler = fillFilesystem(mount);
    const config = faultConfig(dir, join(mount, 'state'));
    const r = await failedStart(dir, config);
    expect(r.code).toBe(1);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toMatch(new RegExp(`^storage\\.directory: ${join(mount, 'state')} is full.*needs at least 1 MiB free to start$`));
    expect(r.stack).toBe(false);
    removeFile(filler);
    await deliversGoodData(dir, config);
  });
});

/**
 * Raw OTLP requests of numbered spans, as an SDK honouring Retry-After sends them: which were
 * answered 200, and the refusals (each request refused is sent again later).
 */
class SpanClient {
  next = 0;
  readonly accepted: number[] = [];
  readonly refused: number[] = [];
  readonly refusals: { status: number; retryAfter: string | null }[] = [];
  constructor(public endpoint: string) {}

  async send(first = this.next): Promise<number> {
    if (first === this.next) this.next += SPAN_REQUEST;
    const r = await postOtlp(this.endpoint, 'traces', encodeRequest('traces', traceBatch(first, SPAN_REQUEST)));
    if (r.status === 200) for (let i = first; i < first + SPAN_REQUEST; i++) this.accepted.push(i);
    else this.refusals.push(r);
    return r.status;
  }

  /** Sends new requests until one is refused; that one is kept to be sent again. */
  async untilRefused(what: string): Promise<{ status: number; retryAfter: string | null }> {
    await waitFor(
      async () => {
        const first = this.next;
        if ((await this.send()) === 200) return false;
        this.refused.push(first);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 0, what },
    );
    return this.refusals[this.refusals.length - 1];
  }

  /** Sends the refused requests again until each is taken (Retry-After honoured, at most 0.5 s for the test's time). */
  async resend(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (this.refused.length > 0) {
      if (Date.now() > deadline) throw new Error(`refused span requests still refused after 60 s: ${this.refused.length}`);
      if ((await this.send(this.refused[0])) === 200) this.refused.shift();
      else await new Promise((res) => setTimeout(res, Math.min(Number(this.refusals[this.refusals.length - 1].retryAfter ?? 1) * 1000, 500)));
    }
  }

  /** Every span answered 200 at the collector, once; no other span of this client. */
  async delivered(c: TestCollector): Promise<void> {
    const expected = new Set(this.accepted);
    await waitFor(() => c.spans().filter((s) => expected.has(seqOf(s))).length >= expected.size, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `all ${expected.size} spans answered 200 at the collector`,
    });
    const seqs = c.spans().map(seqOf).filter((s) => s < SDK_FIRST);
    const t = tally(seqs, this.next);
    expect({ duplicates: t.duplicates, unexpected: t.unexpected }).toEqual({ duplicates: 0, unexpected: [] });
    expect(seqs.filter((s) => !expected.has(s))).toEqual([]);
  }
}

describe('storage faults at run time (built CLI)', () => {
  it.skipIf(tmpfsSkip).for([
    { restart: false, what: 'the backend comes back' },
    { restart: true, what: 'a kill -9 and a restart on the full disk, then the backend comes back' },
  ])(
    'a disk the queue fills while the backend is down: 503 + Retry-After, counted, not ready, the tailer held; $what; everything delivered',
    { timeout: 240_000 },
    async ({ restart }) => {
      collector = await TestCollector.start({ down: true });
      const dir = tempDir('tracetail-storage-full-');
      const mount = tmpfs(join(dir, 'st'), 8 << 20);
      const log = new NumberedLogFile(join(dir, 'logs', 'app.log'));
      // The queue's own bound is far above the disk's size, and entries are not compressed: the disk fills first.
      const config = faultConfig(dir, join(mount, 'state'), { storage: { directory: join(mount, 'state'), max_queue_bytes: '256MiB', compress_above: '256MiB' } });
      cli = await startCli({ dir, config });
      const spans = new SpanClient(await cli.waitForEndpoint('receivers.otlp.http.endpoint'));

      let writing = true;
      const writer = (async () => {
        while (writing) {
          log.append(200);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const refusal = await spans.untilRefused('the OTLP receiver to refuse spans once the disk is full');
      console.log(`disk full after ${spans.accepted.length} spans and ${log.written} lines: HTTP ${refusal.status}, Retry-After ${refusal.retryAfter}`);
      expect(refusal.status).toBe(503);
      expect(refusal.retryAfter).toMatch(/^[1-9]\d*$/);
      const full = await waitFor(
        async () => {
          const m = await scrape(cli!);
          return sumOf(m, 'tracetail_export_queue_refusals_total', { signal: 'logs', reason: 'storage_full' }) > 0 ? m : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the tailer to be refused by the full disk' },
      );
      expect(sumOf(full, 'tracetail_export_queue_refusals_total', { signal: 'traces', reason: 'storage_full' })).toBeGreaterThan(0);
      expect(sumOf(full, 'tracetail_export_items_total', { outcome: 'dropped' })).toBe(0);
      const ready = await readyz(cli);
      expect(ready.status).toBe(503);
      expect(ready.body).toContain('storage.directory: the storage directory is full');
      expect(cli.logs.filter((l) => l.component === 'storage' && l.level === 'error').map((l) => l.msg)).toHaveLength(1);
      // The tailer waits at its last durable position: the file's lag grows while the app writes.
      const lagBefore = sumOf(full, 'tracetail_log_file_lag_bytes');
      const bytesBefore = log.bytes;
      await waitFor(() => log.bytes - bytesBefore >= 512 << 10, { timeoutMs: 30_000, what: 'the app to write 512 KiB more' });
      await waitFor(async () => sumOf(await scrape(cli!), 'tracetail_log_file_lag_bytes') >= lagBefore + (log.bytes - bytesBefore) / 2, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'the log file lag to grow while the disk is full',
      });
      writing = false;
      await writer;

      if (restart) {
        // A crash on the full disk: the restart does not refuse to start, its queue waits to be sent.
        cli.kill('SIGKILL');
        await cli.exited;
        cli = await startCli({ dir, config });
        spans.endpoint = await cli.waitForEndpoint('receivers.otlp.http.endpoint');
        expect((await readyz(cli)).body).toContain('storage.directory: the storage directory is full');
        expect(cli.logs.some((l) => l.level === 'fatal')).toBe(false);
      }

      // The backend comes back: the queue drains, the disk has room, the refused spans are taken.
      await collector.up();
      await spans.resend();
      await waitFor(
        async () => {
          const m = await scrape(cli!);
          return sumOf(m, 'tracetail_log_file_lag_bytes') === 0 && sumOf(m, 'tracetail_export_queue_bytes') === 0 && collector!.logRecords().length >= log.written;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: `all ${log.written} lines read and exported and the queue empty` },
      );
      await spans.delivered(collector);
      const lines = tally(collector.logRecords().map(lineSeq), log.written);
      console.log(`drained: ${log.written} lines (${lines.duplicates} duplicates), ${spans.accepted.length} spans (${spans.refusals.length} refusals)`);
      expect(lines).toEqual({ missing: [], duplicates: 0, unexpected: [] });
      await waitFor(async () => (await readyz(cli!)).status === 200, { timeoutMs: 10_000, what: '/readyz to be ready again' });
      expect(cli.logs.some((l) => l.component === 'storage' && l.msg === 'the storage directory takes writes again')).toBe(true);

      // Good data still flows.
      const sdk = sdkExporter(spans.endpoint);
      expect(await sdkExport(sdk, sdkSpans(SDK_FIRST, 50))).toEqual({ ok: true, error: undefined });
      await sdk.shutdown();
      await waitFor(() => collector!.spans().filter((s) => seqOf(s) >= SDK_FIRST).length >= 50, { timeoutMs: 20_000, what: 'the SDK spans after the fault' });
    },
  );

  it.skipIf(tmpfsSkip)('a disk filled by another writer while the backend is up: refused while full, taken again once the room is freed', async () => {
    collector = await TestCollector.start();
    const dir = tempDir('tracetail-storage-filled-');
    const mount = tmpfs(join(dir, 'st'), 8 << 20);
    cli = await startCli({ dir, config: faultConfig(dir, join(mount, 'state')) });
    const spans = new SpanClient(await cli.waitForEndpoint('receivers.otlp.http.endpoint'));
    for (let i = 0; i < 10; i++) expect(await spans.send()).toBe(200);
    const filler = fillFilesystem(mount);
    const refusal = await spans.untilRefused('a refusal once the disk is full');
    expect(refusal.status).toBe(503);
    expect(sumOf(await scrape(cli), 'tracetail_export_queue_refusals_total', { signal: 'traces', reason: 'storage_full' })).toBeGreaterThan(0);
    expect((await readyz(cli)).status).toBe(503);
    removeFile(filler);
    await spans.resend();
    for (let i = 0; i < 10; i++) expect(await spans.send()).toBe(200);
    await spans.delivered(collector);
    await waitFor(async () => (await readyz(cli!)).status === 200, { timeoutMs: 10_000, what: '/readyz to be ready again' });
  });

  it('a storage directory that stops being writable: 503 storage_error and not ready until it is writable again; nothing answered 200 is lost', async () => {
    // Down: the queue grows, so that writing soon needs a new segment file in the directory.
    collector = await TestCollector.start({ down: true });
    const user = unprivilegedUser();
    const dir = tempDir('tracetail-storage-unwritable-');
    chmodSync(dir, 0o755);
    const storage = join(dir, 'state');
    mkdirSync(join(dir, 'logs'));
    mkdirSync(storage);
    if (user) chownSync(storage, user.uid, user.gid);
    // Segment files of 1 MiB (an eighth of the queue's bound): a new one is opened every few hundred requests.
    cli = await startCli({ dir, config: faultConfig(dir, storage, { storage: { directory: storage, max_queue_bytes: '8MiB' } }), user });
    const spans = new SpanClient(await cli.waitForEndpoint('receivers.otlp.http.endpoint'));
    for (let i = 0; i < 10; i++) expect(await spans.send()).toBe(200);
    chmodSync(join(storage, 'queue'), 0o555);
    const refusal = await spans.untilRefused('a refusal once the queue directory is not writable');
    expect(refusal.status).toBe(503);
    expect(sumOf(await scrape(cli), 'tracetail_export_queue_refusals_total', { signal: 'traces', reason: 'storage_error' })).toBeGreaterThan(0);
    const ready = await readyz(cli);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/storage\.directory: the storage directory cannot be written \(EACCES/);
    // The backend comes back while the directory is still not writable: what is queued is sent
    // and acknowledged all the same (its segment files stay until they can be deleted).
    await collector.up();
    await waitFor(async () => sumOf(await scrape(cli!), 'tracetail_export_queue_bytes') === 0, { timeoutMs: 30_000, intervalMs: 200, what: 'the queue to drain while its directory is not writable' });
    expect((await readyz(cli)).status).toBe(503);
    chmodSync(join(storage, 'queue'), 0o755);
    await spans.resend();
    for (let i = 0; i < 10; i++) expect(await spans.send()).toBe(200);
    await spans.delivered(collector);
    await waitFor(async () => (await readyz(cli!)).status === 200, { timeoutMs: 10_000, what: '/readyz to be ready again' });
  });
});
