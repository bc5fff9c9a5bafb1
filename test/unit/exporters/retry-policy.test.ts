import { describe, expect, it } from 'vitest';
import { RetryPolicy, type BreakerState, type RetryPolicyOptions } from '../../../src/exporters/retry-policy.js';

const OPTIONS: RetryPolicyOptions = { initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 0.5, failureThreshold: 5, probeIntervalMs: 15_000 };

function policy(options: Partial<RetryPolicyOptions> = {}, random = () => 0.5) {
  const changes: [BreakerState, BreakerState][] = [];
  const p = new RetryPolicy({ ...OPTIONS, ...options }, (state, previous) => changes.push([state, previous]), random);
  return { p, changes };
}

describe('RetryPolicy backoff', () => {
  it('grows exponentially from the initial interval and stops at the cap', () => {
    const { p } = policy({ failureThreshold: 0 });
    const waits = Array.from({ length: 8 }, () => p.onFailure(0));
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('spreads each wait within ±jitter of the interval, never past the cap', () => {
    const low = policy({ failureThreshold: 0 }, () => 0).p;
    const high = policy({ failureThreshold: 0 }, () => 0.999999).p;
    expect(low.onFailure(0)).toBe(500);
    expect(high.onFailure(0)).toBeCloseTo(1500, 0);
    for (let i = 0; i < 10; i++) high.onFailure(0);
    expect(high.onFailure(0)).toBe(30_000);
  });

  it('honours a longer Retry-After, and keeps the backoff when Retry-After is shorter', () => {
    const { p } = policy();
    expect(p.onFailure(0, 7000)).toBe(7000);
    expect(p.onFailure(0, 10)).toBe(2000);
    expect(p.nextAttemptAt).toBe(7000);
  });

  it('cuts an absurd Retry-After so the backend is still probed', () => {
    const { p } = policy({ maxRetryAfterMs: 60_000 });
    expect(p.onFailure(0, 86_400_000)).toBe(60_000);
  });

  it('a success resets the backoff but not a Retry-After still running', () => {
    const { p } = policy();
    p.onFailure(100, 5000);
    p.onFailure(100);
    p.onSuccess();
    expect(p.consecutiveFailures).toBe(0);
    expect(p.nextAttemptAt).toBe(5100);
    expect(p.onFailure(6000)).toBe(1000);
  });
});

describe('RetryPolicy circuit breaker', () => {
  it('opens after the threshold of consecutive failures: one lane, probes on the probe interval', () => {
    const { p, changes } = policy();
    for (let i = 0; i < 4; i++) p.onFailure(0);
    expect(p.state).toBe('closed');
    expect(p.lanes(4)).toBe(4);
    const wait = p.onFailure(0);
    expect(p.state).toBe('open');
    expect(p.lanes(4)).toBe(1);
    expect(wait).toBe(15_000); // 0.8 + 0.4 × 0.5 = 1 × probe interval
    expect(changes).toEqual([['open', 'closed']]);
  });

  it('spreads probes ±20%', () => {
    const early = policy({ failureThreshold: 1 }, () => 0).p;
    const late = policy({ failureThreshold: 1 }, () => 0.999999).p;
    expect(early.onFailure(0)).toBe(12_000);
    expect(late.onFailure(0)).toBeCloseTo(18_000, 0);
  });

  it('the attempt while open is the probe: success closes the breaker, failure reopens it', () => {
    const { p, changes } = policy({ failureThreshold: 2 });
    p.onFailure(0);
    p.onFailure(0);
    p.attempt();
    expect(p.state).toBe('half-open');
    p.onFailure(20_000);
    expect(p.state).toBe('open');
    expect(p.nextAttemptAt).toBe(35_000);
    p.attempt();
    p.onSuccess();
    expect(p.state).toBe('closed');
    expect(p.lanes(3)).toBe(3);
    expect(changes.map(([s]) => s)).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('never opens with failure_threshold 0', () => {
    const { p } = policy({ failureThreshold: 0 });
    for (let i = 0; i < 100; i++) p.onFailure(0);
    expect(p.state).toBe('closed');
  });
});
