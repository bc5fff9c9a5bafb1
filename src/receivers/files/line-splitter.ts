/**
 * Cuts the bytes of one file into lines. A line ends at LF (a CR before it is dropped); the bytes
 * after the last LF are held until the rest arrives, or handed out by `flushPartial()` (partial
 * line timeout, rotation, shutdown). A line longer than `maxLineBytes` is cut there, on a UTF-8
 * character boundary, and flagged; the rest continues as the next line, so nothing is lost and
 * memory stays bounded. Invalid UTF-8 is replaced with U+FFFD and counted.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { RawLine } from './types.js';

const LF = 10;
const CR = 13;
const REPLACEMENT = '\uFFFD';

export interface SplitStats {
  /** Lines cut at max_line_bytes. */
  truncated: number;
  /** Lines that held invalid UTF-8 (replaced). */
  invalidUtf8: number;
}

export class LineSplitter {
  /** Bytes after the last LF, not yet a line. */
  private pending: Buffer | null = null;
  /** File offset of the first pending byte (or of the next byte when nothing is pending). */
  private pendingStart: number;
  /** Counted since the last `takeStats()`. */
  readonly stats: SplitStats = { truncated: 0, invalidUtf8: 0 };

  constructor(
    private readonly maxLineBytes: number,
    offset: number,
  ) {
    this.pendingStart = offset;
  }

  /** Bytes held without their newline. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** What was counted since the last call, and start counting again from 0. */
  takeStats(): SplitStats {
    const taken = { ...this.stats };
    this.stats.truncated = 0;
    this.stats.invalidUtf8 = 0;
    return taken;
  }

  /** Start again at `offset`, dropping what is held (truncation, a new file). */
  reset(offset: number): void {
    this.pending = null;
    this.pendingStart = offset;
  }

  /** Append `chunk` (the file's next bytes) and push the complete lines to `out`. */
  push(chunk: Buffer, out: RawLine[]): void {
    let base = this.pendingStart;
    let start = 0;
    const pending = this.pending;
    if (pending) {
      this.pending = null;
      const nl = chunk.indexOf(LF);
      if (nl === -1) {
        // Still no newline (or a line cut at max_line_bytes): all of it together.
        const buf = Buffer.concat([pending, chunk]);
        this.rest(buf, this.cut(buf, 0, base, out), base);
        return;
      }
      // Only the held line is joined with its end: the rest of the chunk is cut where it is.
      const head = Buffer.concat([pending, chunk.subarray(0, nl + 1)]);
      this.cut(head, 0, base, out);
      base += pending.length;
      start = nl + 1;
    }
    this.rest(chunk, this.cut(chunk, start, base, out), base);
  }

  /**
   * Push the lines of `buf` from `start` on (`base`: the file offset of `buf[0]`); returns where
   * the bytes not yet a line begin.
   */
  private cut(buf: Buffer, start: number, base: number, out: RawLine[]): number {
    const max = this.maxLineBytes;
    // ASCII (most logs): decoded as latin1, the same text without the UTF-8 decoder's checks
    // (1.7% of a JSON line's instructions), and without looking for replaced bytes.
    const ascii = isAscii(buf);
    while (start < buf.length) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1 || nl - start > max) {
        if (buf.length - start <= max) break;
        // Too long without a newline: cut at max_line_bytes, backing up to a character boundary.
        let cut = start + max;
        while (cut > start + 1 && (buf[cut] & 0xc0) === 0x80) cut--;
        out.push({ text: this.decode(buf, start, cut, ascii), end: base + cut, truncated: true });
        this.stats.truncated++;
        start = cut;
        continue;
      }
      const stop = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      out.push({ text: this.decode(buf, start, stop, ascii), end: base + nl + 1, truncated: false });
      start = nl + 1;
    }
    return start;
  }

  /** Hold the bytes of `buf` from `start` on (no newline yet). */
  private rest(buf: Buffer, start: number, base: number): void {
    if (start < buf.length) {
      // Copy, so that the (large, reused) read buffer is not kept alive by a small remainder.
      this.pending = Buffer.from(buf.subarray(start));
    }
    this.pendingStart = base + start;
  }

  /** Hand out the held bytes as a line of their own (its newline never came). */
  flushPartial(out: RawLine[]): void {
    if (!this.pending) return;
    const buf = this.pending;
    const stop = buf[buf.length - 1] === CR ? buf.length - 1 : buf.length;
    out.push({ text: this.decode(buf, 0, stop, false), end: this.pendingStart + buf.length, truncated: false });
    this.pendingStart += buf.length;
    this.pending = null;
  }

  private decode(buf: Buffer, start: number, end: number, ascii: boolean): string {
    if (ascii) return buf.toString('latin1', start, end);
    const text = buf.toString('utf8', start, end);
    // A replacement character is either in the file or the mark of invalid bytes: check which.
    if (text.includes(REPLACEMENT) && !isUtf8(buf.subarray(start, end))) this.stats.invalidUtf8++;
    return text;
  }
}
