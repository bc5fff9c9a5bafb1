/**
 * The soft memory limit (`limits.memory_mib`): while the process's resident set is above it, the
 * queue writers refuse new batches with MemoryLimitError, so receivers answer 429/503 and the
 * tailer pauses (the file is the buffer) until memory comes down. Admission runs on every batch,
 * so it reads a cached sample: an unref'd timer refreshes the RSS a few times a second.
 *
 * Much of a busy process's resident set is garbage V8 has not collected yet (nothing forces it to
 * while input is refused), so above the limit the guard runs a full collection, at most once a
 * second, before it decides: input resumes as soon as the memory really is free.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryLimitError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface MemoryGuardOptions {
  limitBytes: number;
  /** How often the RSS is sampled. */
  sampleIntervalMs?: number;
  /** Retry-After given with the refusal. */
  retryAfterMs?: number;
  /** Where the RSS comes from (tests). */
  rss?: () => number;
  /** Told when the limit is crossed, either way (not per refusal: refusals are counted). */
  log?: Logger;
}

let collectGarbage: (() => void) | undefined;

function fullCollection(): void {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
}

const COLLECT_INTERVAL_MS = 1000;

export class MemoryGuard {
  private lastCollection = 0;
  private sample: number;
  private readonly timer: NodeJS.Timeout;
  private readonly rss: () => number;

  constructor(private readonly o: MemoryGuardOptions) {
    this.rss = o.rss ?? (() => process.memoryUsage.rss());
    this.sample = this.rss();
    this.timer = setInterval(() => {
      const was = this.overLimit;
      this.sample = this.rss();
      if (this.overLimit && Date.now() - this.lastCollection >= COLLECT_INTERVAL_MS && !o.rss) {
        this.lastCollection = Date.now();
        fullCollection();
        this.sample = this.rss();
      }
      if (this.overLimit !== was) this.report();
    }, o.sampleIntervalMs ?? 250);
    this.timer.unref();
  }

  /** The last sampled resident set size, in bytes. */
  get rssBytes(): number {
    return this.sample;
  }

  get overLimit(): boolean {
    return this.sample > this.o.limitBytes;
  }

  /** Throws MemoryLimitError while the last sample is above the limit. */
  admit(): void {
    if (this.sample > this.o.limitBytes) {
      throw new MemoryLimitError(
        `memory limit reached (resident ${Math.round(this.sample / 1048576)} MiB > limits.memory_mib ${Math.round(this.o.limitBytes / 1048576)} MiB)`,
        this.o.retryAfterMs ?? 1000,
      );
    }
  }

  private report(): void {
    const fields = { rss_mib: Math.round(this.sample / 1048576), limit_mib: Math.round(this.o.limitBytes / 1048576) };
    if (this.overLimit) this.o.log?.warn(fields, 'memory above limits.memory_mib: input is refused (receivers push back, tailing pauses) until it comes down');
    else this.o.log?.info(fields, 'memory back under limits.memory_mib: input resumes');
  }

  close(): void {
    clearInterval(this.timer);
  }
}
