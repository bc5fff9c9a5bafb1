/**
 * The file receiver's hand-off: the records read since the last batch, by file, and their
 * delivery as one batch with every file's checkpoint (the queue writer cuts it into export
 * requests and commits them with the checkpoints in one transaction). On backpressure the same
 * batch is offered again after a pause, reading nothing meanwhile: the file is the buffer.
 */
import type { Consumer } from '../../component.js';
import { isBackpressure } from '../../errors.js';
import type { Logger, RateLimitedLog } from '../../logger.js';
import type { FileRecords, LogFile, RawLogBatch } from '../../pipeline/batches.js';
import type { Checkpoint } from '../../pipeline/checkpoints.js';
import type { FileMetrics } from './file-metrics.js';
import type { FileCheckpoint, TailedFile } from './tailed-file.js';
import type { RawRecord } from './types.js';

/** A batch leaves when it holds this many records or bytes, or when there is nothing more to read now. */
export const BATCH_RECORDS = 1024;
const BATCH_BYTES = 4 << 20;
/** Longest wait before a refused batch is offered again. */
const MAX_PAUSE_MS = 1000;

export interface HandOffOptions {
  consumer: Consumer<RawLogBatch>;
  log: Logger;
  warn: RateLimitedLog;
  metrics: FileMetrics;
  /** Whether the receiver is stopping (a pause ends, a refused batch waits for the final send). */
  stopping: () => boolean;
  /** Run during a backpressure pause, every `stepMs` (discovery events are still applied). */
  whilePaused: () => Promise<void>;
  stepMs: number;
  /** A file's checkpoint was committed with its records. */
  committed: (key: string, data: FileCheckpoint) => void;
}

export class HandOff {
  private records: FileRecords[] = [];
  private count = 0;
  private bytes = 0;
  private touched = new Set<TailedFile>();
  private endPause: (() => void) | null = null;

  constructor(private readonly o: HandOffOptions) {}

  /** Something read is waiting to be handed on (records, or a file whose offset moved). */
  get pending(): boolean {
    return this.records.length > 0 || this.touched.size > 0;
  }

  /** As many records or bytes as a batch should hold. */
  get full(): boolean {
    return this.count >= BATCH_RECORDS || this.bytes >= BATCH_BYTES;
  }

  /** `f`'s offset moved without records (it was truncated): its checkpoint goes with the next batch. */
  touch(f: TailedFile): void {
    this.touched.add(f);
  }

  /** The records read from `f`. */
  add(f: TailedFile, raw: RawRecord[]): void {
    if (raw.length === 0) return;
    this.touched.add(f);
    this.records.push(this.fileRecords(raw, { path: f.path, name: f.name }));
    this.count += raw.length;
    for (const r of raw) this.bytes += r.text.length;
  }

  /** The records read from `file`, counted as taken in. */
  fileRecords(raw: RawRecord[], file: LogFile): FileRecords {
    this.o.metrics.component.received.inc(raw.length);
    return { file, records: raw };
  }

  /**
   * Hand what was read on as one batch with every touched file's checkpoint; on backpressure wait
   * and try the same batch again. At stop (`final`) one refusal ends it: nothing moved, the lines
   * are read again next time.
   */
  async send(final: boolean): Promise<void> {
    const files = [...this.touched];
    const checkpoints = files.map((f) => ({ key: f.key, data: f.checkpoint() }));
    if (!(await this.offer(this.records, checkpoints, final))) return;
    for (let i = 0; i < files.length; i++) {
      files[i].committed = checkpoints[i].data.offset;
      this.o.committed(files[i].key, checkpoints[i].data);
    }
    this.records = [];
    this.count = 0;
    this.bytes = 0;
    this.touched = new Set();
  }

  /**
   * One batch to the pipeline; on backpressure wait and try it again. False when it was given up:
   * at stop (`final`) one refusal ends it (nothing moved: the lines are read again next time).
   */
  async offer(files: FileRecords[], checkpoints: Checkpoint[], final: boolean): Promise<boolean> {
    const batch: RawLogBatch = { files, checkpoints };
    for (;;) {
      try {
        await this.o.consumer.consume(batch);
        return true;
      } catch (err) {
        const backpressure = isBackpressure(err);
        if (!backpressure) {
          this.o.metrics.component.errors('commit').inc();
          this.o.warn.warn('commit', { err }, 'cannot hand log records on; will retry');
        }
        if (final) {
          this.o.log.warn({ records: files.reduce((n, f) => n + f.records.length, 0) }, 'stopping with log records not queued; they are read again at the next start');
          return false;
        }
        // Stopping: the receiver sends what is held, once more, with everything else.
        if (this.o.stopping()) return false;
        // Not the whole Retry-After: the queue may drain sooner, and a refusal costs little.
        // Meanwhile discovery events are still applied (no reading): a file rotated now is opened
        // at once, so its content stays readable through the handle if logrotate compresses or
        // deletes it before reading resumes.
        const until = Date.now() + Math.min(Math.max(backpressure ? err.retryAfterMs : 1000, 100), MAX_PAUSE_MS);
        for (let left = until - Date.now(); left > 0 && !this.o.stopping(); left = until - Date.now()) {
          await this.o.whilePaused();
          await this.pause(Math.min(left, this.o.stepMs));
        }
      }
    }
  }

  /** End a backpressure pause now (the receiver is stopping). */
  wake(): void {
    this.endPause?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.endPause = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.endPause = done;
    });
  }
}
