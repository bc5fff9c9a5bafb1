import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fileKey } from '../../../../src/receivers/files/fingerprint.js';
import { ReadBuffers, TailedFile } from '../../../../src/receivers/files/tailed-file.js';
import type { RawRecord } from '../../../../src/receivers/files/types.js';

const CHUNK = 64 * 1024;
const dirs: string[] = [];
const files: TailedFile[] = [];

afterEach(async () => {
  for (const f of files.splice(0)) await f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const lines = (tag: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${tag} line ${from + i} ${'x'.repeat(40)}\n`).join('');

async function opened(path: string): Promise<TailedFile> {
  const r = await TailedFile.open(path, () => undefined, 'beginning', 1 << 20, null);
  files.push(r!.file);
  return r!.file;
}

describe('a tailed file truncated after a copy (copytruncate)', () => {
  it.each([
    { copy: 'a plain copy', compress: false },
    { copy: 'a copy compressed with gzip', compress: true },
  ])('reads the rest of the old content from $copy a chunk per read, then the new content', async ({ compress }) => {
    const dir = mkdtempSync(join(tmpdir(), 'tracetail-tailed-'));
    dirs.push(dir);
    const path = join(dir, 'app.log');
    writeFileSync(path, lines('old', 0, 40_000)); // about 2.4 MB behind after the first read
    const file = await opened(path);
    const buffers = new ReadBuffers(CHUNK, 0);
    const texts: string[] = [];
    const first: RawRecord[] = [];
    await file.read(buffers, first);
    texts.push(...first.map((r) => r.text));

    // copytruncate: copy, truncate, and the app goes on writing.
    copyFileSync(path, `${path}.1`);
    const copyKey = fileKey(statSync(`${path}.1`));
    if (compress) {
      writeFileSync(`${path}.1.gz`, gzipSync(readFileSync(`${path}.1`)));
      rmSync(`${path}.1`);
    }
    truncateSync(path, 0);
    appendFileSync(path, lines('new', 0, 100));

    let most = 0;
    let truncatedSeen = 0;
    for (let calls = 0; calls < 10_000; calls++) {
      const out: RawRecord[] = [];
      const r = await file.read(buffers, out);
      most = Math.max(most, out.length);
      texts.push(...out.map((x) => x.text));
      if (r.truncated) {
        truncatedSeen++;
        expect(r.truncated.copyKey).toBe(compress ? undefined : copyKey);
      }
      if (!r.more) break;
    }
    const expected = (lines('old', 0, 40_000) + lines('new', 0, 100)).split('\n').slice(0, -1);
    expect(texts.length).toBe(expected.length);
    expect(texts).toEqual(expected);
    expect(truncatedSeen).toBe(1);
    // One chunk of the copy per read (a gzip chunk is at most as large): never the whole backlog at once.
    const perChunk = Math.ceil(CHUNK / expected[0].length) + 1;
    expect(most).toBeLessThanOrEqual(perChunk);
  });
});
