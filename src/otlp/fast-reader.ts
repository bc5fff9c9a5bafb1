/**
 * The protobuf reader OTLP requests without a hand-written decoder (metrics) are decoded with:
 * protobufjs's BufferReader with strings read through the string cache (and checked to be UTF-8)
 * and bytes copied out of the request body (see wire-strings.ts).
 */
import protobuf from 'protobufjs';
import { copyBytes, readString, viewOf, type SliceableBuffer } from './wire-strings.js';

export class FastReader extends protobuf.BufferReader {
  declare buf: SliceableBuffer;
  private readonly view: DataView;

  constructor(buffer: Buffer) {
    super(buffer);
    this.view = viewOf(buffer);
  }

  /** Skip over a length-delimited field; returns where its content starts (it ends at `pos`). */
  private take(): number {
    const len = this.uint32();
    const start = this.pos;
    if (start + len > this.len) throw new RangeError(`index out of range: ${start} + ${len} > ${this.len}`);
    this.pos = start + len;
    return start;
  }

  override string(): string {
    const start = this.take();
    return readString(this.buf, this.view, start, this.pos);
  }

  override bytes(): Buffer {
    const start = this.take();
    return copyBytes(this.buf, start, this.pos);
  }
}
