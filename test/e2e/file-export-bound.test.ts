/**
 * The file exporter's output through the built CLI (no OTLP endpoint set): rotated past
 * `export.file.max_file_bytes`, never more than `export.file.max_files` files per signal, the
 * oldest removed, what is kept the newest records in order.
 */
import { appendFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, tempDir, testConfig, type CliProcess } from '../helpers/cli.js';
import { lines, LineLedger, readExportedFiles } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';

const MAX_FILE_BYTES = 64 << 10;
const MAX_FILES = 3;
const LINES = 4000;

let proc: CliProcess | undefined;

afterEach(async () => {
  await proc?.stop();
  proc = undefined;
});

describe('file exporter output is rotated and bounded (built CLI)', () => {
  it(`keeps at most max_files files of at most max_file_bytes, the newest records`, async () => {
    const dir = tempDir('tracetail-file-export-');
    const logs = join(dir, 'logs');
    const out = join(dir, 'export');
    mkdirSync(logs);
    const config = testConfig(dir, {
      export: { file: { max_file_bytes: MAX_FILE_BYTES, max_files: MAX_FILES }, batch: { timeout: '20ms', max_items: 20 } },
    });
    proc = await startCli({ dir, config });
    const path = join(logs, 'app.log');
    const logFiles = () => readdirSync(out).filter((f) => f.startsWith('logs'));
    let most = 0;
    const exported = () => {
      const ledger = new LineLedger();
      ledger.add(readExportedFiles(out));
      return ledger;
    };
    // In bursts, so that requests are many and the output rotates many times.
    for (let from = 0; from < LINES; from += 500) {
      appendFileSync(path, lines('app', from, from + 500));
      await waitFor(
        () => {
          most = Math.max(most, logFiles().length);
          return exported().anyIn('app', from + 499, from + 500);
        },
        { timeoutMs: 20_000, intervalMs: 20, what: `line ${from + 499} in the exported files` },
      );
    }
    const files = logFiles();
    expect(most).toBeLessThanOrEqual(MAX_FILES);
    expect(files.length).toBe(MAX_FILES);
    expect(files).toContain('logs.jsonl');
    for (const f of files) expect(statSync(join(out, f)).size).toBeLessThanOrEqual(MAX_FILE_BYTES);
    // What is kept: a run of the newest lines, each once, up to the last one written.
    const ledger = exported();
    let first = LINES - 1;
    while (first > 0 && ledger.anyIn('app', first - 1, first)) first--;
    expect(first).toBeGreaterThan(0); // the oldest were removed
    expect(ledger.records).toBe(LINES - first);
    expect(ledger.tally('app', LINES)).toMatchObject({ missing: first, duplicates: 0 });
  });
});
