/**
 * The bytes of one file's content as raw records: cut into lines (line-splitter.ts) and, with
 * `logs.multiline`, grouped into multiline records. `emitted` is the end of the last record handed
 * out: where reading resumes once the records up to it are durable.
 */
import { LineSplitter, type SplitStats } from './line-splitter.js';
import type { MultilineAggregator } from './multiline.js';
import type { RawLine, RawRecord } from './types.js';

export class RecordCutter {
  private readonly splitter: LineSplitter;
  /** Offset just past the last record handed out. */
  emitted: number;

  constructor(
    maxLineBytes: number,
    offset: number,
    private readonly multiline: MultilineAggregator | null,
  ) {
    this.splitter = new LineSplitter(maxLineBytes, offset);
    this.emitted = offset;
  }

  /** Bytes held without their newline. */
  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  /** A multiline record is open. */
  get holding(): boolean {
    return this.multiline?.holding ?? false;
  }

  /** Lines cut and lines with invalid UTF-8 since the last call. */
  takeStats(): SplitStats {
    return this.splitter.takeStats();
  }

  /** Start again at `offset` on new content (what was held is dropped: flush it first). */
  reset(offset: number): void {
    this.splitter.reset(offset);
    this.emitted = offset;
  }

  /** The content's next bytes: the records they complete go to `out`. */
  push(chunk: Buffer, out: RawRecord[]): void {
    const lines: RawLine[] = [];
    this.splitter.push(chunk, lines);
    this.lines(lines, out);
  }

  /** Hand out what is held: the open multiline record and, with `partialLines`, the unterminated last line. */
  flush(out: RawRecord[], partialLines: boolean): void {
    const lines: RawLine[] = [];
    if (partialLines) this.splitter.flushPartial(lines);
    this.lines(lines, out);
    if (this.multiline) this.records(this.multiline.flush(), out);
  }

  /** Records of a multiline group whose timeout passed. */
  flushDue(now: number, out: RawRecord[]): void {
    if (this.multiline?.holding) this.records(this.multiline.flushDue(now), out);
  }

  private lines(lines: RawLine[], out: RawRecord[]): void {
    if (lines.length === 0) return;
    if (!this.multiline) {
      for (const l of lines) out.push(l);
      this.emitted = lines[lines.length - 1].end;
      return;
    }
    const now = Date.now();
    for (const l of lines) this.records(this.multiline.push(l, now), out);
  }

  private records(records: readonly RawRecord[], out: RawRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) out.push(r);
    this.emitted = records[records.length - 1].end;
  }
}
