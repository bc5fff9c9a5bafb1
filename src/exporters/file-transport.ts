/**
 * The file exporter: OTLP JSON, one export request per line, in `<directory>/<signal>.jsonl`,
 * rotated to `<signal>-<timestamp>.jsonl` past `maxFileBytes`. Used when no OTLP endpoint is set,
 * so that nothing is lost and a newcomer can see what would be exported.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../config/otel-env.js';
import { decodeRequest, toJsonObject } from '../otlp/codec.js';
import { joined, type Payload, type SendResult, type Transport } from './transport.js';

export class FileTransport implements Transport {
  readonly name = 'file';
  private readonly files = new Map<Signal, { handle: FileHandle; size: number }>();
  private lastRotationAt = 0;

  constructor(
    readonly directory: string,
    private readonly maxFileBytes: number,
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

  async close(): Promise<void> {
    for (const f of this.files.values()) await f.handle.close();
    this.files.clear();
  }
}
