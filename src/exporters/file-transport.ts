/**
 * The file exporter: OTLP JSON, one export request per line, in `<directory>/<signal>.jsonl`,
 * rotated to `<signal>-<timestamp>.jsonl` past `maxFileBytes`; of the rotated files, the newest
 * `maxFiles - 1` are kept (the oldest removed, as a log rotation does), also those left by an
 * earlier run. Used when no OTLP endpoint is set, so that a newcomer can see what would be
 * exported without the directory growing for ever.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../otlp/signals.js';
import { decodeRequest, toJsonObject } from '../otlp/codec.js';
import { joined, type Payload, type SendResult, type Transport } from './transport.js';

/** What follows `<signal>-` in a rotated file's name: its ISO timestamp with `:` and `.` as `-`. */
const ROTATED = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.jsonl$/;

export class FileTransport implements Transport {
  readonly name = 'file';
  private readonly files = new Map<Signal, { handle: FileHandle; size: number }>();
  private lastRotationAt = 0;

  constructor(
    readonly directory: string,
    private readonly maxFileBytes: number,
    /** Files kept per signal, the one being written included. */
    private readonly maxFiles = Infinity,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  pathOf(signal: Signal): string {
    return join(this.directory, `${signal}.jsonl`);
  }

  async send(signal: Signal, payload: Payload): Promise<SendResult> {
    try {
      const line = `${JSON.stringify(toJsonObject(signal, decodeRequest(signal, await joined(payload), 'protobuf')))}\n`;
      const file = await this.fileFor(signal, Buffer.byteLength(line));
      await file.handle.appendFile(line);
      file.size += Buffer.byteLength(line);
      return { kind: 'success' };
    } catch (err) {
      return { kind: 'retryable', reason: `cannot write ${this.pathOf(signal)}: ${(err as Error).message}` };
    }
  }

  private async fileFor(signal: Signal, nextBytes: number): Promise<{ handle: FileHandle; size: number }> {
    let file = this.files.get(signal);
    if (file && file.size > 0 && file.size + nextBytes > this.maxFileBytes) {
      await file.handle.close();
      this.files.delete(signal);
      await rename(this.pathOf(signal), this.rotatedPath(signal));
      file = undefined;
    }
    if (!file) {
      await this.removeOldest(signal);
      const path = this.pathOf(signal);
      const handle = await open(path, 'a+');
      file = { handle, size: (await stat(path)).size };
      // A previous run killed in the middle of a write left a torn last line: end it, so that
      // every line of the file but that one parses.
      if (file.size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, file.size - 1);
        if (last[0] !== 0x0a) {
          await handle.appendFile('\n');
          file.size += 1;
        }
      }
      this.files.set(signal, file);
    }
    return file;
  }

  /**
   * `<signal>-<timestamp>.jsonl`, unique: rename() replaces an existing file, so two rotations in
   * the same millisecond (or a name left by an earlier run) must not share a name. Later
   * rotations get later timestamps, so the names sort in the order the data was written.
   */
  private rotatedPath(signal: Signal): string {
    let at = Math.max(Date.now(), this.lastRotationAt + 1);
    const pathAt = (t: number) => join(this.directory, `${signal}-${new Date(t).toISOString().replace(/[:.]/g, '-')}.jsonl`);
    while (existsSync(pathAt(at))) at++;
    this.lastRotationAt = at;
    return pathAt(at);
  }

  /** Removes the oldest rotated files of `signal` past `maxFiles - 1` (the names sort by age). */
  private async removeOldest(signal: Signal): Promise<void> {
    if (!Number.isFinite(this.maxFiles)) return;
    const rotated = (await readdir(this.directory)).filter((name) => name.startsWith(`${signal}-`) && ROTATED.test(name.slice(signal.length + 1))).sort();
    for (const name of rotated.slice(0, Math.max(0, rotated.length - (this.maxFiles - 1)))) await rm(join(this.directory, name), { force: true });
  }

  async close(): Promise<void> {
    for (const f of this.files.values()) await f.handle.close();
    this.files.clear();
  }
}
