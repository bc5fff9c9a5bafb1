/**
 * Faults of the filesystem under the sidecar: a tmpfs of a fixed size to fill (mount needs root;
 * `tmpfsSkipReason` says why a test cannot have one) and a file that takes the room left.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Why no tmpfs can be mounted here (a test is then skipped with it), or undefined. */
export function tmpfsSkipReason(scratch: string): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (run the tests as root, as CI does)';
  const probe = join(scratch, 'tmpfs-probe');
  try {
    mountTmpfs(probe, 1 << 20);
    unmount(probe);
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** A tmpfs of `bytes` at `path` (created), with more mount options (`ro`). */
export function mountTmpfs(path: string, bytes: number, options: string[] = []): void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', [`size=${bytes}`, 'mode=0777', ...options].join(','), 'tmpfs', path], { stdio: 'pipe' });
}

/** Mounts `path` again read-only (`ro`) or writable (`rw`). */
export function remount(path: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, path], { stdio: 'pipe' });
}

export function unmount(path: string): void {
  execFileSync('umount', ['-l', path], { stdio: 'pipe' });
}

/** Writes a file in `dir` until its filesystem is full; returns its path (delete it to free the room). */
export function fillFilesystem(dir: string, name = 'filler'): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 << 10, 1);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        break;
      }
    }
    // The last pages: what a 64 KiB write no longer fits in.
    for (const small of [Buffer.alloc(4096, 1), Buffer.alloc(1, 1)]) {
      try {
        for (;;) writeSync(fd, small);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

export function removeFile(path: string): void {
  unlinkSync(path);
}
