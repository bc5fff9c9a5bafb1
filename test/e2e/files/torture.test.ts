/**
 * Rotation torture through the built CLI: an application appends sequence-numbered lines for
 * several seconds while its file is rotated again and again — rename-and-create, copytruncate,
 * delete, and logrotate itself (`create`, `copytruncate`, `compress` + `delaycompress`, always
 * `rotate 5`). After a clean stop every line must have arrived at the collector exactly once.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import {
  appDirs,
  CollectorFeed,
  LogWriter,
  logrotateConfig,
  rotateCopyTruncate,
  rotateDelete,
  rotateRenameCreate,
  runLogrotate,
  scrape,
  tailConfig,
  type LogrotateMode,
} from '../../helpers/files.js';
import { hasTool, requireTool } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

const WRITE_MS = Number(process.env.TORTURE_WRITE_MS ?? 4000);
const RATE = Number(process.env.TORTURE_RATE ?? 10_000);
const MIN_ROTATIONS = 4;
/** Writing, then up to 60 s for every line to arrive, on a machine that may be busy. */
const TEST_TIMEOUT_MS = WRITE_MS + 120_000;

let collector: TestCollector | undefined;
let proc: CliProcess | undefined;
let writer: LogWriter | undefined;

afterEach(async () => {
  writer?.kill();
  writer = undefined;
  await proc?.stop();
  proc = undefined;
  await collector?.close();
  collector = undefined;
});

type Kind = 'rename' | 'copytruncate' | 'delete' | `logrotate-${LogrotateMode}`;

const haveLogrotate = hasTool('logrotate');

async function torture(kinds: Kind[]): Promise<void> {
  const { dir, control, path } = appDirs('tracetail-torture-');
  collector = await TestCollector.start();
  const feed = new CollectorFeed(collector);
  const p = (proc = await startCli({ dir, config: tailConfig(dir, collector.url) }));
  writer = await LogWriter.start({ file: path, rate: RATE, control, name: 'app' });
  const w = writer;
  const confs = new Map<LogrotateMode, string>();
  const conf = (mode: LogrotateMode) => {
    if (!confs.has(mode)) confs.set(mode, logrotateConfig(dir, path, w, mode));
    return confs.get(mode)!;
  };

  // The first line of the file the writer writes to now (for `delete`: see below).
  let generationStart = 0;
  const done: Record<string, number> = {};
  const until = Date.now() + WRITE_MS;
  let n = 100; // own rotations are app.log.100, .101, ...: logrotate's .1 to .6 never collide with them
  const count = () => Object.values(done).reduce((a, b) => a + b, 0);
  // At least MIN_ROTATIONS, however slow the machine (a delete waits for an export first).
  while (Date.now() < until || count() < MIN_ROTATIONS) {
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    const kind = kinds[Math.floor(Math.random() * kinds.length)];
    switch (kind) {
      case 'rename':
        await rotateRenameCreate(path, w, n++);
        generationStart = w.written;
        break;
      case 'copytruncate':
        await rotateCopyTruncate(path, w, n++);
        generationStart = w.written;
        break;
      case 'delete': {
        // The promise covers a file "while it exists": a file deleted before the sidecar ever
        // opened it cannot be read by anyone. So delete only once the sidecar has exported a line of
        // it; what it had not read yet at the deletion must still arrive (read through its handle).
        const from = generationStart;
        await waitFor(() => feed.poll().anyIn('app', from), {
          timeoutMs: 15_000,
          what: 'a line of the current file exported before deleting it',
        });
        await rotateDelete(path, w);
        generationStart = w.written;
        break;
      }
      default: {
        const mode = kind.slice('logrotate-'.length) as LogrotateMode;
        runLogrotate(conf(mode), join(dir, 'logrotate.state'));
        generationStart = w.written;
      }
    }
    done[kind] = (done[kind] ?? 0) + 1;
  }
  const total = await w.stop();
  writer = undefined;

  await feed.waitForAll('app', total, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nrotations done ${JSON.stringify(done)}; sidecar log (end):\n${p.stderr.slice(-20_000)}`);
  });
  const rotations = {
    rename: await scrape(proc, 'tracetail_log_rotations_total', { kind: 'rename' }),
    truncate: await scrape(proc, 'tracetail_log_rotations_total', { kind: 'truncate' }),
    delete: await scrape(proc, 'tracetail_log_rotations_total', { kind: 'delete' }),
  };
  // A clean stop flushes everything: whatever was going to arrive twice has arrived by now.
  expect(await proc.stop()).toBe(0);
  const result = feed.poll().tally('app', total);
  console.log(`torture ${kinds.join('+')}: ${total} lines, rotations done ${JSON.stringify(done)}, seen by tracetail ${JSON.stringify(rotations)}, ${JSON.stringify(result)}`);
  expect(result).toEqual({ missing: 0, firstMissing: [], duplicates: 0, beyond: 0 });
  expect(feed.ledger.others).toEqual([]);
}

describe('every line exactly once while the file is rotated (built CLI)', () => {
  it('rename-and-create, repeatedly', async () => {
    await torture(['rename']);
  }, TEST_TIMEOUT_MS);

  it('copytruncate (copy, then truncate to 0), repeatedly', async () => {
    await torture(['copytruncate']);
  }, TEST_TIMEOUT_MS);

  it('the file being read is deleted, repeatedly', async () => {
    await torture(['delete']);
  }, TEST_TIMEOUT_MS);

  describe.skipIf(!haveLogrotate && process.env.CI !== 'true')('logrotate itself', () => {
    it('logrotate create + postrotate SIGHUP, rotate 5', async () => {
      expect(requireTool('logrotate')).toBe(true);
      await torture(['logrotate-create']);
    }, TEST_TIMEOUT_MS);

    it('logrotate copytruncate, rotate 5', async () => {
      expect(requireTool('logrotate')).toBe(true);
      await torture(['logrotate-copytruncate']);
    }, TEST_TIMEOUT_MS);

    it('logrotate create with compress + delaycompress, rotate 5', async () => {
      expect(requireTool('logrotate')).toBe(true);
      await torture(['logrotate-compress']);
    }, TEST_TIMEOUT_MS);

    it('every kind mixed', async () => {
      expect(requireTool('logrotate')).toBe(true);
      await torture(['rename', 'copytruncate', 'delete', 'logrotate-create', 'logrotate-copytruncate', 'logrotate-compress']);
    }, TEST_TIMEOUT_MS);
  });
});

if (!haveLogrotate) requireTool('logrotate');
