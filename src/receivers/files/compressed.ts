/**
 * Rotated generations compressed with gzip (`app.log.1.gz`). The include globs leave them out
 * (their lines were read from the file before it was compressed), but a file tracetail was
 * reading may have been rotated and compressed while it was down (logrotate's `compress` without
 * `delaycompress`): then the rest of it exists only in the compressed copy, the one whose content
 * starts with the file's fingerprint, and is read from there.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { fingerprintOf, type Fingerprint } from './fingerprint.js';

const GZIP = /\.gz$/;

/** The decompressed content of the gzip file at `path`, as a stream (errors end the iteration). */
function gunzip(path: string): Gunzip {
  const out = createGunzip();
  // Errors reach the consumer through `out`; ending early (a `break`) is not one.
  pipeline(createReadStream(path), out, () => undefined);
  return out;
}

/** Whether the gzip file at `path` decompresses to content that starts with the bytes `fp` was taken from. */
export async function gzipStartsWith(path: string, fp: Fingerprint): Promise<boolean> {
  if (fp.length === 0) return false;
  const head: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of gunzip(path)) {
      head.push(chunk as Buffer);
      n += (chunk as Buffer).length;
      if (n >= fp.length) break;
    }
  } catch {
    return false; // not gzip, or unreadable
  }
  if (n < fp.length) return false;
  const got = fingerprintOf(Buffer.concat(head).subarray(0, fp.length));
  return got.length === fp.length && got.hash === fp.hash;
}

/** The decompressed content of the gzip file at `path` from byte `offset` on, in chunks. */
export async function* gzipFrom(path: string, offset: number): AsyncGenerator<Buffer> {
  let at = 0;
  for await (const chunk of gunzip(path)) {
    const buf = chunk as Buffer;
    const end = at + buf.length;
    if (end > offset) yield at >= offset ? buf : buf.subarray(offset - at);
    at = end;
  }
}

/**
 * Among `names` in `dir`, a gzip file named after `stem` (`app.log.1.gz`, `app.log-20240101.gz`)
 * whose content starts with the bytes `fp` was taken from, and not one of `claimed`.
 */
export async function findGzipCopy(dir: string, names: readonly string[], stem: string, fp: Fingerprint, claimed?: ReadonlySet<string>): Promise<string | undefined> {
  for (const n of names) {
    const p = join(dir, n);
    if (!n.startsWith(stem) || !GZIP.test(n) || claimed?.has(p)) continue;
    if (await gzipStartsWith(p, fp)) return p;
  }
  return undefined;
}
