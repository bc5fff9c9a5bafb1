/**
 * When the next export attempt may start: the one retry schedule of a signal's sender, shared by
 * all its in-flight requests. Transports only classify an attempt (`SendResult`); this decides
 * when to try again:
 *
 * - closed: requests flow at full concurrency; each retryable failure waits an exponential backoff
 *   with jitter, capped at `maxMs` (or the backend's Retry-After, when later);
 * - open: after `failureThreshold` consecutive failures the backend is left alone: one probe
 *   request every `probeIntervalMs` (jittered), nothing else;
 * - half-open: the probe is in flight; its success closes the breaker, its failure reopens it.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Gauge values of `tracetail_export_breaker_state`. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

export interface RetryPolicyOptions {
  /** First backoff. */
  initialMs: number;
  /** Cap of one backoff. */
  maxMs: number;
  /** Growth of the backoff per consecutive failure. */
  multiplier: number;
  /** Each wait is drawn from [base × (1 − jitter), base × (1 + jitter)], then capped. */
  jitter: number;
  /** Consecutive failures that open the breaker; 0 never opens it. */
  failureThreshold: number;
  /** While open, one probe per this interval. */
  probeIntervalMs: number;
  /** A Retry-After longer than this is cut to it (a backend asking for an hour still gets probed). */
  maxRetryAfterMs?: number;
}

export class RetryPolicy {
  private current: BreakerState = 'closed';
  private failures = 0;
  private notBefore = 0;

  constructor(
    private readonly o: RetryPolicyOptions,
    private readonly onStateChange: (state: BreakerState, previous: BreakerState) => void = () => {},
    private readonly random: () => number = Math.random,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Consecutive failed attempts since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** How many requests may be in flight: all lanes when closed, the single probe otherwise. */
  lanes(concurrency: number): number {
    return this.current === 'closed' ? concurrency : 1;
  }

  /** ms since epoch before which no attempt starts. */
  get nextAttemptAt(): number {
    return this.notBefore;
  }

  /** An attempt starts now (the caller checked `nextAttemptAt`). An attempt while open is the probe. */
  attempt(): void {
    if (this.current === 'open') this.transition('half-open');
  }

  onSuccess(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  /** Record a retryable failure; returns the wait before the next attempt. */
  onFailure(now: number, retryAfterMs?: number): number {
    this.failures++;
    if (this.current === 'half-open') this.transition('open');
    else if (this.current === 'closed' && this.o.failureThreshold > 0 && this.failures >= this.o.failureThreshold) this.transition('open');
    // Probes are spread ±20% so that many sidecars do not probe a recovering backend in step.
    const scheduled = this.current === 'closed' ? this.backoff() : this.o.probeIntervalMs * (0.8 + 0.4 * this.random());
    const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, this.o.maxRetryAfterMs ?? 600_000);
    const wait = Math.max(scheduled, asked);
    this.notBefore = Math.max(this.notBefore, now + wait);
    return wait;
  }

  private backoff(): number {
    const { initialMs, maxMs, multiplier } = this.o;
    const base = Math.min(maxMs, initialMs * multiplier ** Math.min(this.failures - 1, 64));
    const j = Math.min(Math.max(this.o.jitter, 0), 1);
    return Math.min(maxMs, base * (1 - j + 2 * j * this.random()));
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    this.current = next;
    this.onStateChange(next, previous);
  }
}
