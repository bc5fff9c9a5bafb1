/**
 * The spans and log records the trace index keeps, as the protobuf bytes of their Span or
 * LogRecord message, in one fixed-size ring buffer outside the JavaScript heap. Keeping an item is
 * a copy of its bytes (already encoded on its way into the queue, or as received) behind a small
 * header: no object is made, so the index feeds no garbage collection however many items pass
 * through it, and its memory is what the ring holds, exactly. The newest items overwrite the
 * oldest; an item's position tells whether it is still there.
 *
 * The items of one trace form a chain, newest first: each header holds the position of the
 * trace's item before it. A position is absolute (it only grows; the ring offset is the position
 * modulo the capacity), so positions stay comparable across wraps.
 */

export const ITEM_SPAN = 1;
export const ITEM_LOG = 2;

/**
 * Header: previous item of the trace (float64), kind, resource id, scope id, message length
 * (int32s), span id, parent span id (8 bytes each). Items start at multiples of 8, so that the
 * header's numbers are read and written through aligned typed-array views.
 */
const HEADER_BYTES = 40;
const PREV = 0;
const KIND = 8;
const RESOURCE = 12;
const SCOPE = 16;
const LENGTH = 20;
const SPAN_ID = 24;
const PARENT_SPAN_ID = 32;

export const NO_ITEM = -1;

const ZERO_ID = new Uint8Array(8);

export interface ItemHeader {
  kind: number;
  resource: number;
  scope: number;
  prev: number;
}

export class ItemRing {
  readonly capacity: number;
  private readonly buf: Buffer;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  /** Absolute position of the next item (a multiple of 8). */
  private head = 0;

  constructor(capacity: number) {
    this.capacity = capacity - (capacity % 8);
    this.buf = Buffer.alloc(this.capacity);
    this.f64 = new Float64Array(this.buf.buffer, this.buf.byteOffset, this.capacity / 8);
    this.i32 = new Int32Array(this.buf.buffer, this.buf.byteOffset, this.capacity / 4);
  }

  /** Bytes holding items (the whole ring once it has wrapped). */
  get used(): number {
    return Math.min(this.head, this.capacity);
  }

  /** Bytes an item of `length` message bytes takes in the ring. */
  static cost(length: number): number {
    return HEADER_BYTES + length;
  }

  /**
   * Keeps an item: its message bytes (`source[start, end)`), and returns its position, or NO_ITEM
   * when it is larger than the ring itself.
   */
  append(kind: number, prev: number, resource: number, scope: number, spanId: Uint8Array | null | undefined, parentSpanId: Uint8Array | null | undefined, source: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const size = (HEADER_BYTES + length + 7) & ~7;
    if (size > this.capacity) return NO_ITEM;
    let at = this.head % this.capacity;
    if (at + size > this.capacity) {
      // Does not fit before the end: the rest of this lap stays unused.
      this.head += this.capacity - at;
      at = 0;
    }
    this.f64[(at + PREV) >> 3] = prev;
    const i = at >> 2;
    const i32 = this.i32;
    i32[i + (KIND >> 2)] = kind;
    i32[i + (RESOURCE >> 2)] = resource;
    i32[i + (SCOPE >> 2)] = scope;
    i32[i + (LENGTH >> 2)] = length;
    copyId(this.buf, at + SPAN_ID, spanId);
    copyId(this.buf, at + PARENT_SPAN_ID, parentSpanId);
    this.buf.set(source.subarray(start, end), at + HEADER_BYTES);
    const position = this.head;
    this.head += size;
    return position;
  }

  /** Whether the item at `position` is still in the ring (not overwritten by newer ones). */
  holds(position: number): boolean {
    return position >= 0 && position >= this.head - this.capacity && position < this.head;
  }

  /** The header of a held item. */
  header(position: number): ItemHeader {
    return { kind: this.kind(position), resource: this.resource(position), scope: this.int(position, SCOPE), prev: this.f64[(position % this.capacity) >> 3] };
  }

  /** The previous item of the same trace, or NO_ITEM (none, or no longer held). */
  prev(position: number): number {
    const p = this.f64[(position % this.capacity) >> 3];
    return this.holds(p) ? p : NO_ITEM;
  }

  kind(position: number): number {
    return this.int(position, KIND);
  }

  resource(position: number): number {
    return this.int(position, RESOURCE);
  }

  private int(position: number, field: number): number {
    return this.i32[((position % this.capacity) + field) >> 2];
  }

  /** Whether the item's span id is `id` (8 bytes). */
  spanIdIs(position: number, id: Uint8Array): boolean {
    const at = (position % this.capacity) + SPAN_ID;
    for (let i = 0; i < 8; i++) if (this.buf[at + i] !== id[i]) return false;
    return true;
  }

  spanId(position: number): Buffer {
    const at = (position % this.capacity) + SPAN_ID;
    return this.buf.subarray(at, at + 8);
  }

  parentSpanId(position: number): Buffer {
    const at = (position % this.capacity) + PARENT_SPAN_ID;
    return this.buf.subarray(at, at + 8);
  }

  /** The message bytes of a held item (a view: decode it before appending more). */
  message(position: number): Buffer {
    const at = (position % this.capacity) + HEADER_BYTES;
    return this.buf.subarray(at, at + this.int(position, LENGTH));
  }
}

/** An 8-byte id at `at` (absent or of another length: zeros). */
function copyId(to: Buffer, at: number, id: Uint8Array | null | undefined): void {
  const from = id && id.byteLength === 8 ? id : ZERO_ID;
  for (let k = 0; k < 8; k++) to[at + k] = from[k];
}
