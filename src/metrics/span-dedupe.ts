/**
 * Remembers the span ids seen within a time window so an SDK that retries a request the sidecar
 * already accepted (the 200 was lost on the way back) does not get its spans counted twice. Memory
 * is bounded by `maxSpans`: past it the oldest ids are forgotten early, and every early eviction is
 * counted, because a retry of such a span would then be counted again.
 */
export class SpanDedupe {
  /** Id key → monotonic ms when first seen; insertion order is time order. */
  private readonly seen = new Map<string, number>();
  /** Ids forgotten because the window passed, and because the bound was reached. */
  expired = 0;
  evicted = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxSpans: number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** True the first time this (trace id, span id) is seen within the window. */
  firstSighting(traceId: Uint8Array, spanId: Uint8Array, now: number): boolean {
    const key = idKey(traceId, spanId);
    if (this.seen.has(key)) return false;
    this.seen.set(key, now);
    if (this.seen.size > this.maxSpans) {
      for (const k of this.seen.keys()) {
        this.seen.delete(k);
        this.evicted++;
        break;
      }
    }
    return true;
  }

  /** Forget ids older than the window (once per batch). */
  expire(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [k, at] of this.seen) {
      if (at >= cutoff) break;
      this.seen.delete(k);
      this.expired++;
    }
  }
}

/** The ids as a compact one-byte string (24 characters for a 16-byte trace id and 8-byte span id). */
function idKey(traceId: Uint8Array, spanId: Uint8Array): string {
  return asBuffer(traceId).toString('latin1') + asBuffer(spanId).toString('latin1');
}

function asBuffer(id: Uint8Array): Buffer {
  return Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength);
}
