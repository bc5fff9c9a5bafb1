/**
 * The soft memory limit (`limits.memory_mib`): while the process's memory is above it, the queue
 * writers refuse new batches with MemoryLimitError, so receivers answer 429/503 and the tailer
 * pauses (the file is the buffer) until memory comes down. Admission runs on every batch, so it
 * reads a cached decision: an unref'd timer samples memory a few times a second.
 *
 * The resident set alone is a poor judge: much of it is garbage V8 has not collected yet, and
 * after a collection neither V8 nor malloc gives every freed page back, so RSS can stay above the
 * limit with little in use, and refusing input would then stop it for good. So:
 * - RSS at or under the limit: admit (nothing else is looked at);
 * - RSS above it: run a full collection (at most once a second) and look at what is really in
 *   use, the live memory (V8 heap used + external memory, which includes Buffers) plus the
 *   process's fixed footprint (RSS minus live memory when the guard started: binary, code,
 *   runtime). Refuse while that is above the limit;
 * - RSS above the limit + 20% (the delivery promise's bound): refuse whatever the live memory, until a
 *   collection brings it back.
 *
 * Sampling alone cannot stop a flood of large requests: between two samples every client may
 * start one, and each costs several times its size while it is read and decoded (the body, then
 * its spans as objects, about 5x the wire size). So an OTLP request also reserves its cost before
 * its body is read (`reserve`): it is taken only while the resident memory, the costs reserved
 * by the requests in flight and its own stay under the limit, or, with no other request in flight,
 * under the limit + 10% (ALONE_FACTOR: the rest of the 20% is for what the estimate misses). A released cost stays counted until the next sample, which sees what it
 * left behind; a request refused for want of room has the next sample run a full collection (at
 * most once a second). A request that could not be decoded within the limit + 10% even alone is
 * refused as too large.
 */
import { MemoryLimitError, PayloadTooLargeError, RETRY_AFTER_MS } from '../errors.js';
import type { MemoryReservation } from '../component.js';
import { fullCollection } from '../garbage-collection.js';
import type { Logger } from '../logger.js';

export interface MemoryGuardOptions {
  limitBytes: number;
  /** How often memory is sampled. */
  sampleIntervalMs?: number;
  /** Retry-After given with the refusal. */
  retryAfterMs?: number;
  /** Where the RSS comes from (tests). */
  rss?: () => number;
  /** Where the live memory comes from (tests): heap used + external. */
  live?: () => number;
  /** Full garbage collection (tests). */
  collect?: () => void;
  /** Told when the decision changes, either way (not per refusal: refusals are counted). */
  log?: Logger;
}

/** Above limit x HARD_FACTOR input is refused whatever the live memory (the README's Delivery promise). */
export const HARD_FACTOR = 1.2;
/** What an OTLP request costs while it is read and decoded, as a multiple of its body's size. */
export const REQUEST_COST_FACTOR = 6;
/**
 * A request with none other in flight may take resident memory to limit x ALONE_FACTOR: under the
 * hard bound by what the cost estimate may miss (a flood test peaked 1 MiB past the bound at 1.2).
 */
export const ALONE_FACTOR = 1.1;
const COLLECT_INTERVAL_MS = 1000;

function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

type Reason = 'hard' | 'live' | null;

export class MemoryGuard {
  private lastCollection = -Infinity;
  private rssSample: number;
  private liveSample: number;
  private reason: Reason = null;
  /** Costs reserved by the requests in flight. */
  private reserved = 0;
  /** Costs released since the last sample (their garbage is not in it yet). */
  private released = 0;
  private inFlight = 0;
  /** A request was refused for want of room: collect at the next sample. */
  private collectionWanted = false;
  /** RSS not made of live memory: binary, code, runtime (measured at start). */
  private readonly footprint: number;
  private readonly timer: NodeJS.Timeout;
  private readonly rss: () => number;
  private readonly live: () => number;
  private readonly collect: () => void;

  constructor(private readonly o: MemoryGuardOptions) {
    this.rss = o.rss ?? (() => process.memoryUsage.rss());
    this.live = o.live ?? liveBytes;
    this.collect = o.collect ?? fullCollection;
    this.rssSample = this.rss();
    this.liveSample = this.live();
    this.footprint = Math.max(0, this.rssSample - this.liveSample);
    this.reason = this.decide();
    this.timer = setInterval(() => this.refresh(), o.sampleIntervalMs ?? 250);
    this.timer.unref();
  }

  private get hardLimit(): number {
    return this.o.limitBytes * HARD_FACTOR;
  }

  /** What the RSS would be if every freed page went back. */
  get inUseBytes(): number {
    return this.footprint + this.liveSample;
  }

  private decide(): Reason {
    if (this.rssSample <= this.o.limitBytes) return null;
    if (this.rssSample > this.hardLimit) return 'hard';
    return this.inUseBytes > this.o.limitBytes ? 'live' : null;
  }

  private refresh(): void {
    const was = this.reason;
    this.rssSample = this.rss();
    this.liveSample = this.live();
    this.released = 0;
    let reason = this.decide();
    // Garbage counts as live until collected: collect before refusing (or while refusing).
    if ((reason || this.collectionWanted) && Date.now() - this.lastCollection >= COLLECT_INTERVAL_MS) {
      this.collectionWanted = false;
      this.lastCollection = Date.now();
      this.collect();
      this.rssSample = this.rss();
      this.liveSample = this.live();
      reason = this.decide();
    }
    this.reason = reason;
    if (Boolean(reason) !== Boolean(was)) this.report();
  }

  /** The last sampled resident set size, in bytes. */
  get rssBytes(): number {
    return this.rssSample;
  }

  get overLimit(): boolean {
    return this.reason !== null;
  }

  /** Throws MemoryLimitError while the last decision is to refuse. */
  admit(): void {
    if (!this.reason) return;
    const mibs = (b: number) => Math.round(b / 1048576);
    const what =
      this.reason === 'hard'
        ? `resident ${mibs(this.rssSample)} MiB > limits.memory_mib ${mibs(this.o.limitBytes)} MiB + 20%`
        : `in use ${mibs(this.inUseBytes)} MiB (resident ${mibs(this.rssSample)} MiB) > limits.memory_mib ${mibs(this.o.limitBytes)} MiB`;
    throw new MemoryLimitError(`memory limit reached (${what})`, this.o.retryAfterMs ?? RETRY_AFTER_MS.memoryLimit);
  }

  /**
   * Reserves the cost of a request of `bytes` (read and decoded) until its `release()`; `grow()`
   * adds to it when the body turns out larger (no Content-Length, or compressed). Both throw
   * MemoryLimitError while the cost does not fit now, PayloadTooLargeError when it never could (see
   * the file comment).
   */
  reserve(bytes: number): MemoryReservation {
    this.check(bytes * REQUEST_COST_FACTOR, 0, bytes, false);
    let held = bytes * REQUEST_COST_FACTOR;
    this.reserved += held;
    this.inFlight++;
    let done = false;
    return {
      grow: (more) => {
        if (done) return;
        const cost = more * REQUEST_COST_FACTOR;
        this.check(cost, held, bytes + more, true);
        this.reserved += cost;
        held += cost;
        bytes += more;
      },
      release: () => {
        if (done) return;
        done = true;
        this.reserved -= held;
        this.inFlight--;
        this.released += held;
      },
    };
  }

  /** Throws unless `cost` more fits beside what is in use and reserved; `own` of that is the caller's, which is in flight when `inFlight`. */
  private check(cost: number, own: number, bytes: number, inFlight: boolean): void {
    this.admit();
    const mibs = (b: number) => Math.round(b / 1048576);
    const alone = this.o.limitBytes * ALONE_FACTOR;
    if (this.footprint + own + cost > alone) {
      throw new PayloadTooLargeError(
        `a request of ${bytes} bytes needs about ${mibs(own + cost)} MiB to be decoded, more than limits.memory_mib ${mibs(this.o.limitBytes)} MiB + 10% leaves (${mibs(alone - this.footprint)} MiB)`,
      );
    }
    // Resident memory, even above the limit: what a request adds there stays resident, whether or
    // not the rest is garbage.
    const used = this.rssSample + this.reserved + this.released;
    const others = this.inFlight - (inFlight ? 1 : 0);
    if (used + cost > this.o.limitBytes && (others > 0 || used + cost > alone)) {
      // Garbage may be what is in the way: the next sample collects it first.
      this.collectionWanted = true;
      throw new MemoryLimitError(
        `memory limit reached (resident ${mibs(this.rssSample)} MiB, ${mibs(this.reserved + this.released)} MiB reserved by ${others} other requests in flight or just done; a request of ${bytes} bytes needs ${mibs(cost)} MiB more; limits.memory_mib ${mibs(this.o.limitBytes)} MiB)`,
        this.o.retryAfterMs ?? RETRY_AFTER_MS.memoryLimit,
      );
    }
  }

  private report(): void {
    const mibs = (b: number) => Math.round(b / 1048576);
    const fields = { rss_mib: mibs(this.rssSample), in_use_mib: mibs(this.inUseBytes), limit_mib: mibs(this.o.limitBytes) };
    if (this.reason) this.o.log?.warn(fields, 'memory above limits.memory_mib: input is refused (receivers push back, tailing pauses) until it comes down');
    else this.o.log?.info(fields, 'memory back under limits.memory_mib: input resumes');
  }

  close(): void {
    clearInterval(this.timer);
  }
}
