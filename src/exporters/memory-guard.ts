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
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryLimitError, RETRY_AFTER_MS } from '../errors.js';
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
const COLLECT_INTERVAL_MS = 1000;

let collectGarbage: (() => void) | undefined;

function fullCollection(): void {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
}

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
    let reason = this.decide();
    // Garbage counts as live until collected: collect before refusing (or while refusing).
    if (reason && Date.now() - this.lastCollection >= COLLECT_INTERVAL_MS) {
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
