/**
 * What the sidecar writes to is checked before anything starts: each directory is created if
 * missing and a file written in it and removed, so that a directory that cannot be used stops the
 * start with one line naming its config key and the reason (exit 1), not with a raw errno from the
 * first module that touches it. A full filesystem is not decided here (a probe of a few KiB may still
 * fit): the store does that with its reserve (reserve.ts), knowing whether a queue waits to drain.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EnvironmentError } from '../errors.js';

const PROBE = '.tracetail-probe';
const PROBE_BYTES = 4096;

/** Each directory (with the config key that names it) exists or can be created, and is writable. */
export function checkWritableDirectories(directories: readonly { key: string; path: string }[]): void {
  for (const { key, path } of directories) checkWritable(key, path);
}

function checkWritable(key: string, directory: string): void {
  try {
    makeDirectories(resolve(directory));
  } catch (err) {
    throw new EnvironmentError(`${key}: cannot create ${directory}: ${explain(err, directory)}`, { cause: err });
  }
  const probe = join(directory, PROBE);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(PROBE_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (err) {
    if (isFull(err)) return;
    throw new EnvironmentError(`${key}: cannot write in ${directory}: ${explain(err, directory)}`, { cause: err });
  }
}

/**
 * `mkdir -p`, one directory at a time: a recursive mkdirSync says ENOENT where it met EROFS or
 * EACCES, this tells the errno of the directory that could not be made.
 */
function makeDirectories(path: string): void {
  try {
    if (statSync(path).isDirectory()) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (dirname(path) !== path) makeDirectories(dirname(path));
  }
  mkdirSync(path);
}

/** ENOSPC, a quota or SQLite's "database or disk is full". */
export function isFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' || code === 'SQLITE_FULL';
}

/** An errno as a sentence a user can act on. */
function explain(err: unknown, directory: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return `${firstNonDirectory(directory) ?? 'a part of the path'} is a file, not a directory (${code})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied for user id ${process.getuid?.() ?? '?'} (${code}); make it writable by that user (in Kubernetes: securityContext.fsGroup)`;
    case 'EROFS':
      return 'the filesystem is read-only (EROFS); mount a writable volume there';
    default:
      return (err as Error).message;
  }
}

/** The first component of `path` that exists and is not a directory. */
function firstNonDirectory(path: string): string | undefined {
  const parts: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    parts.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of parts) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
