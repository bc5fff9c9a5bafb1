/**
 * The file exporter: OTLP JSON, one export request per line, in `<directory>/<signal>.jsonl`,
 * rotated to `<signal>-<timestamp>-<sequence>.jsonl` past `maxFileBytes`. Used when no OTLP endpoint is set,
 * so that nothing is lost and a newcomer can see what would be exported.
 */
import { mkdirSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../config/otel-env.js';
import { decodeRequest, toJsonObject } from '../otlp/codec.js';
import type { SendResult, Transport } from './transport.js';

export class FileTransport implements Transport {
  readonly name = 'file';
  private readonly files = new Map<Signal, { handle: FileHandle; size: number }>();
  private rotations = 0;

  constructor(
    readonly directory: string,
    private readonly maxFileBytes: number,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  pathOf(signal: Signal): string {
    return join(this.directory, `${signal}.jsonl`);
  }

  async send(signal: Signal, payload: Uint8Array): Promise<SendResult> {
    try {
      const line = `${JSON.stringify(toJsonObject(signal, decodeRequest(signal, payload, 'protobuf')))}\n`;
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
      // Several rotations can fall in one millisecond: the sequence number keeps each name unique
      // (a rename onto an existing name would replace that file) and the names in order.
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const seq = String(++this.rotations).padStart(6, '0');
      await rename(this.pathOf(signal), join(this.directory, `${signal}-${stamp}-${seq}.jsonl`));
      file = undefined;
    }
    if (!file) {
      const path = this.pathOf(signal);
      const handle = await open(path, 'a');
      file = { handle, size: (await stat(path)).size };
      this.files.set(signal, file);
    }
    return file;
  }

  async close(): Promise<void> {
    for (const f of this.files.values()) await f.handle.close();
    this.files.clear();
  }
}
