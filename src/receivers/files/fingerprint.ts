/**
 * File identity that survives rotation: device + inode name the file, and a hash of its first bytes
 * tells a new file on a reused inode from the old one. A file shorter than FINGERPRINT_BYTES has a
 * fingerprint of what it holds, which grows with the file.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export const FINGERPRINT_BYTES = 1024;

export interface Fingerprint {
  /** How many leading bytes the hash covers. */
  length: number;
  hash: string;
}

export const EMPTY_FINGERPRINT: Fingerprint = { length: 0, hash: '' };

export function fileKey(stats: { dev: number | bigint; ino: number | bigint }): string {
  return `${stats.dev}:${stats.ino}`;
}

/** The fingerprint of the first `length` bytes (fewer when the file is shorter). */
export async function readFingerprint(handle: FileHandle, length: number): Promise<Fingerprint> {
  const want = Math.min(length, FINGERPRINT_BYTES);
  if (want === 0) return EMPTY_FINGERPRINT;
  const buf = Buffer.allocUnsafe(want);
  const { bytesRead } = await handle.read(buf, 0, want, 0);
  return fingerprintOf(buf.subarray(0, bytesRead));
}

/** The fingerprint of a file's first bytes, given them (at most FINGERPRINT_BYTES are used). */
export function fingerprintOf(head: Uint8Array): Fingerprint {
  const bytes = head.subarray(0, FINGERPRINT_BYTES);
  if (bytes.length === 0) return EMPTY_FINGERPRINT;
  return { length: bytes.length, hash: createHash('sha1').update(bytes).digest('base64') };
}

/** Whether the file behind `handle` still starts with the bytes `fp` was taken from. */
export async function startsWith(handle: FileHandle, fp: Fingerprint): Promise<boolean> {
  if (fp.length === 0) return true;
  const now = await readFingerprint(handle, fp.length);
  return now.length === fp.length && now.hash === fp.hash;
}
