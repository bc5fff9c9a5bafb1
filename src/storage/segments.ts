/**
 * The payloads of one signal's queue entries: append-only segment files in the queue directory
 * (`<signal>-<n>.seg`), the store's SQLite rows saying which segment and offset hold each. A
 * payload is appended before the row that names it commits, so a row never names bytes that are
 * not there (a crash between the two leaves bytes no row names, dropped with their segment). A
 * segment is deleted once no entry in it is left (all acknowledged) and it is no longer written
 * or holds more than DRAINED_BYTES; writing moves to a new segment then, past `segmentBytes`, and
 * at every start.
 *
 * Writing a payload is one write(2) of its bytes: several times cheaper per byte than SQLite's
 * way with a blob (written to the WAL, copied into the database at a checkpoint, its pages freed
 * again on delete).
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SegmentPlace {
  segment: number;
  offset: number;
}

interface Segment {
  fd: number;
  /** Entries in it not yet acknowledged. */
  live: number;
}

const NAME = /^(traces|logs|metrics)-(\d+)\.seg$/;
/** A segment being written is deleted once all its entries are acknowledged past this size. */
const DRAINED_BYTES = 1 << 20;

export class Segments {
  private readonly open = new Map<number, Segment>();
  private current = -1;
  private size = 0;
  private next: number;

  /**
   * `live`: entries per segment the store's rows still name; segments of this signal named by none
   * are deleted now (acknowledged before a crash, or written without their rows).
   */
  constructor(
    private readonly dir: string,
    private readonly signal: string,
    private readonly segmentBytes: number,
    live: ReadonlyMap<number, number>,
  ) {
    mkdirSync(dir, { recursive: true });
    let highest = 0;
    for (const file of readdirSync(dir)) {
      const m = NAME.exec(file);
      if (!m || m[1] !== signal) continue;
      const n = Number(m[2]);
      highest = Math.max(highest, n);
      if (!live.has(n)) unlinkSync(join(dir, file));
    }
    for (const [n, count] of live) {
      highest = Math.max(highest, n);
      if (!existsSync(this.path(n))) continue; // its rows read as damaged entries (see read)
      this.open.set(n, { fd: openSync(this.path(n), 'r'), live: count });
    }
    this.next = highest + 1;
  }

  /** Appends a payload; where it went. */
  append(payload: Uint8Array): SegmentPlace {
    if (this.current < 0 || this.size >= this.segmentBytes) this.rotate();
    const seg = this.open.get(this.current)!;
    const offset = this.size;
    try {
      for (let done = 0; done < payload.byteLength; ) done += writeSync(seg.fd, payload, done, payload.byteLength - done);
    } catch (err) {
      // A write cut short (a full disk) leaves part of the payload: cut it off, or the next one
      // would land after it (the file is appended to) and not at the offset its row names.
      ftruncateSync(seg.fd, offset);
      throw err;
    }
    this.size += payload.byteLength;
    seg.live++;
    return { segment: this.current, offset };
  }

  /** An appended payload whose row was not committed after all: its bytes stay unnamed. */
  abandon(segment: number): void {
    this.release(segment);
  }

  /** The payload at a place; undefined when the segment lost it (a damaged entry). */
  read(segment: number, offset: number, length: number): Buffer | undefined {
    const seg = this.open.get(segment);
    if (!seg) return undefined;
    const out = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const n = readSync(seg.fd, out, done, length - done, offset + done);
      if (n === 0) return undefined;
      done += n;
    }
    return out;
  }

  /**
   * An entry of `segment` was acknowledged: the segment goes once it holds none and is not written,
   * or is written but past DRAINED_BYTES (a queue that drains would else keep up to a segment's
   * bytes of sent payloads, on a disk that may be full); writing then starts a new one.
   */
  release(segment: number): void {
    const seg = this.open.get(segment);
    if (!seg) return;
    seg.live--;
    if (seg.live > 0) return;
    if (segment !== this.current) this.delete(segment, seg);
    else if (this.size >= DRAINED_BYTES) {
      this.delete(segment, seg);
      this.current = -1;
    }
  }

  close(): void {
    for (const seg of this.open.values()) closeSync(seg.fd);
    this.open.clear();
  }

  private rotate(): void {
    const previous = this.current;
    const fd = openSync(this.path(this.next), 'a+'); // first: a failure leaves the current segment current
    this.current = this.next++;
    this.size = 0;
    this.open.set(this.current, { fd, live: 0 });
    const prev = this.open.get(previous);
    if (prev && prev.live <= 0) this.delete(previous, prev);
  }

  private delete(n: number, seg: Segment): void {
    closeSync(seg.fd);
    this.open.delete(n);
    try {
      unlinkSync(this.path(n));
    } catch {
      // The directory cannot be written now: the next start deletes it (no row names it).
    }
  }

  private path(n: number): string {
    return join(this.dir, `${this.signal}-${String(n).padStart(8, '0')}.seg`);
  }
}
