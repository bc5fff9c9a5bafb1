/**
 * Remembers the span ids seen within a time window so an SDK that retries a request the sidecar
 * already accepted (the 200 was lost on the way back) does not get its spans counted twice. Memory
 * is bounded by `maxSpans` and allocated once: past the bound the oldest ids are forgotten early,
 * and every early eviction is counted, because a retry of such a span would then be counted again.
 *
 * Each id is folded into 64 bits (span id XOR the low half of the trace id; both are random, so a
 * false match is a 2^-64 event) and kept in an open-addressing hash table of typed arrays, with a
 * ring buffer of the same keys, oldest first, for forgetting. A Set of string keys costs an
 * allocation per span and several times the memory; this costs neither.
 */
export class SpanDedupe {
  private readonly mask: number;
  private readonly shift: number;
  private readonly tableHi: Uint32Array;
  private readonly tableLo: Uint32Array;
  private readonly ringHi: Uint32Array;
  private readonly ringLo: Uint32Array;
  /** Monotonic ms when each ring slot was filled. */
  private readonly ringAt: Float64Array;
  /** Next ring slot to write, and how many are live (the oldest is `head - count`). */
  private head = 0;
  private count = 0;
  /** Ids forgotten because the window passed, and because the bound was reached. */
  expired = 0;
  evicted = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxSpans: number,
  ) {
    const bits = Math.max(4, Math.ceil(Math.log2(maxSpans * 2))); // load factor at most 1/2
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.tableHi = new Uint32Array(1 << bits);
    this.tableLo = new Uint32Array(1 << bits);
    this.ringHi = new Uint32Array(maxSpans);
    this.ringLo = new Uint32Array(maxSpans);
    this.ringAt = new Float64Array(maxSpans);
  }

  get size(): number {
    return this.count;
  }

  /** True the first time this (trace id, span id) is seen within the window. */
  firstSighting(traceId: Uint8Array, spanId: Uint8Array, now: number): boolean {
    const hi = (word(spanId, 0) ^ word(traceId, traceId.byteLength - 8)) >>> 0;
    // 0:0 marks an empty slot; the one id that folds to it is counted as 0:1.
    const lo = (word(spanId, 4) ^ word(traceId, traceId.byteLength - 4)) >>> 0 || (hi === 0 ? 1 : 0);
    if (!this.insert(hi, lo)) return false;
    if (this.count === this.maxSpans) {
      this.forgetOldest();
      this.evicted++;
    }
    const h = this.head;
    this.ringHi[h] = hi;
    this.ringLo[h] = lo;
    this.ringAt[h] = now;
    this.head = h + 1 === this.maxSpans ? 0 : h + 1;
    this.count++;
    return true;
  }

  /** Forget ids older than the window (once per batch). */
  expire(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.count > 0 && this.ringAt[this.oldest()] < cutoff) {
      this.forgetOldest();
      this.expired++;
    }
  }

  private oldest(): number {
    const i = this.head - this.count;
    return i < 0 ? i + this.maxSpans : i;
  }

  private forgetOldest(): void {
    const i = this.oldest();
    this.remove(this.ringHi[i], this.ringLo[i]);
    this.count--;
  }

  private slot(hi: number, lo: number): number {
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> this.shift;
  }

  /** Add the key; false when it was already there. */
  private insert(hi: number, lo: number): boolean {
    const { tableHi, tableLo, mask } = this;
    let i = this.slot(hi, lo);
    while (tableHi[i] !== 0 || tableLo[i] !== 0) {
      if (tableHi[i] === hi && tableLo[i] === lo) return false;
      i = (i + 1) & mask;
    }
    tableHi[i] = hi;
    tableLo[i] = lo;
    return true;
  }

  /** Remove the key, shifting later entries of its probe run back (linear probing, no tombstones). */
  private remove(hi: number, lo: number): void {
    const { tableHi, tableLo, mask } = this;
    let i = this.slot(hi, lo);
    while (tableHi[i] !== hi || tableLo[i] !== lo) {
      if (tableHi[i] === 0 && tableLo[i] === 0) return;
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (tableHi[j] === 0 && tableLo[j] === 0) break;
      const home = this.slot(tableHi[j], tableLo[j]);
      // Move j into the hole at i unless j's home slot lies cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        tableHi[i] = tableHi[j];
        tableLo[i] = tableLo[j];
        i = j;
      }
    }
    tableHi[i] = 0;
    tableLo[i] = 0;
  }
}

function word(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}
