/** 1,000 log files watched at once through the built CLI: each is read at start, and again when it grows. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startCli, tempDir, type CliProcess } from '../../helpers/cli.js';
import { TestCollector } from '../../helpers/collector.js';
import { CollectorFeed, scrape, tailConfig } from '../../helpers/files.js';
import { waitFor } from '../../helpers/wait.js';

const FILES = 1000;

let collector: TestCollector | undefined;
let proc: CliProcess | undefined;

afterEach(async () => {
  await proc?.stop();
  await collector?.close();
});

it('1,000 files are all read, and keep being read as they grow', async () => {
  const dir = tempDir('tracetail-many-');
  const paths: string[] = [];
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(dir, 'logs', `svc-${d}`), { recursive: true });
    for (let f = 0; f < FILES / 10; f++) paths.push(join(dir, 'logs', `svc-${d}`, `f${f}.log`));
  }
  // One writer name per file: its lines must all arrive, exactly once.
  paths.forEach((p, i) => writeFileSync(p, `w=f${i} seq=0 first\nw=f${i} seq=1 second\n`));
  collector = await TestCollector.start();
  const feed = new CollectorFeed(collector);
  proc = await startCli({ dir, config: tailConfig(dir, collector.url) });
  const allAt = (n: number) => () => {
    const ledger = feed.poll();
    for (let i = 0; i < FILES; i++) if (ledger.distinct(`f${i}`, n) < n) return false;
    return true;
  };
  await waitFor(allAt(2), { timeoutMs: 60_000, intervalMs: 200, what: 'the first lines of every file' });
  expect(await scrape(proc, 'tracetail_log_files_watched')).toBe(FILES);
  paths.forEach((p, i) => appendFileSync(p, `w=f${i} seq=2 third\n`));
  await waitFor(allAt(3), { timeoutMs: 60_000, intervalMs: 200, what: 'the appended line of every file' });
  expect(await proc.stop()).toBe(0);
  const ledger = feed.poll();
  let duplicates = 0;
  for (let i = 0; i < FILES; i++) duplicates += ledger.tally(`f${i}`, 3).duplicates;
  expect(duplicates).toBe(0);
  expect(ledger.others).toEqual([]);
}, 150_000);
